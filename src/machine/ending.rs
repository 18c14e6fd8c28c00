//! How an execution ends, decided in one place for every engine: it failed (no outcome
//! and no deadlock after an assertion or an error), it ran past `max_steps` (a
//! livelock), every started thread finished (the `[final]` check and the outcome), or
//! nothing can move while some thread is unfinished (a deadlock, or a livelock when every
//! unfinished thread spins without progress).

use super::state::{Failure, State};
use crate::ir::{FindingKind, Program, Value};

/// The end of an execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// An assertion or error happened earlier: nothing more is said of it.
    Failed,
    /// The execution ran past `max_steps` without finishing.
    TooLong { message: String },
    /// Every started thread finished: the first `[final]` assertion that fails, if one
    /// does, and the observed values.
    Finished {
        check: Option<Failure>,
        values: Vec<Value>,
        /// What the execution printed, line by line: part of its outcome.
        output: Vec<std::sync::Arc<str>>,
    },
    /// Some thread is unfinished and none can move. `key` groups the same bug: the set
    /// of lines the threads are stuck at.
    Stuck {
        kind: FindingKind,
        key: String,
        message: String,
    },
}

impl State {
    /// How the execution that reached this state ends, if it ends here: `None` while a
    /// thread can still move within `max_steps`.
    pub fn ending(&self, prog: &Program, max_steps: u64) -> Option<Ending> {
        let can_move = (0..self.threads.len() as u32).any(|t| self.alternatives(prog, t) > 0);
        if can_move && (self.steps as u64) < max_steps {
            return None;
        }
        if self.failed {
            return Some(Ending::Failed);
        }
        if can_move {
            return Some(Ending::TooLong {
                message: format!(
                    "the execution ran past max_steps = {max_steps} without finishing"
                ),
            });
        }
        if self.all_finished() {
            return Some(Ending::Finished {
                check: self.check_final(prog),
                values: self.observed(prog),
                output: self.output.clone(),
            });
        }
        Some(self.stuck(prog))
    }

    /// Nothing can move: a deadlock, or a livelock when every stuck thread spins.
    pub fn stuck(&self, prog: &Program) -> Ending {
        let stuck = self.unfinished();
        let all_spin = stuck.iter().all(|t| self.spinning(*t));
        let mut parts = vec![];
        let mut lines = vec![];
        for t in &stuck {
            let why = self.blocked(prog, *t).text;
            let info = &prog.threads[*t as usize];
            let line = info.code.lines[self.threads[*t as usize].pc as usize];
            parts.push(format!("{} (line {line}) {why}", info.name));
            lines.push(line);
        }
        // One bug per set of code locations: instances of a thread declaration stuck at
        // the same lines in another arrangement are the same deadlock.
        lines.sort();
        let key: Vec<String> = lines.iter().map(|l| format!("@{l}")).collect();
        let (kind, what) = if all_spin {
            (FindingKind::Livelock, "livelock")
        } else {
            (FindingKind::Deadlock, "deadlock")
        };
        Ending::Stuck {
            kind,
            key: key.join(","),
            message: format!("{what}: {}", parts.join("; ")),
        }
    }
}
