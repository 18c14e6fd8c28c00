//! Who can move, and why a thread cannot: [`State::alternatives`] (how many ways a
//! thread can take its next step, 0 when it must wait), and for a thread that cannot
//! move, what it waits for ([`State::blocked`]), which the deadlock explanation and the
//! wait-for graph are built from.

use super::objects::{self, Blocked, WaitTarget};
use super::state::{State, Status};
use crate::ir::{Instr, ObjId, Program, ThreadId};

impl State {
    /// In how many ways thread `t` can move now (0: it cannot).
    pub fn alternatives(&self, prog: &Program, t: ThreadId) -> u32 {
        self.ways(prog, t, true)
    }

    /// Can `t` move only by giving up a timed wait? The engines let such a thread wait a
    /// while, as a real timeout would, instead of timing out at once.
    pub fn only_times_out(&self, prog: &Program, t: ThreadId) -> bool {
        self.ways(prog, t, true) > 0 && self.ways(prog, t, false) == 0
    }

    /// The alternatives of `t`; `timeouts`: whether a timed wait may give up.
    fn ways(&self, prog: &Program, t: ThreadId, timeouts: bool) -> u32 {
        let th = &self.threads[t as usize];
        // Once every non-daemon party has finished, the program is over: daemons stop.
        // After a failure they go on, as the other threads do, for the explorer's sake:
        // what a daemon did before the failure does not make executions differ.
        if th.daemon && !self.failed && self.all_finished() {
            return 0;
        }
        match &th.status {
            Status::NotStarted | Status::Finished | Status::SpinBlocked { .. } => 0,
            Status::Waiting(w) => objects::wait_ready(self, prog, t, w, timeouts),
            Status::Ready => {
                let c = self.ctx(prog, t);
                let Some(instr) = c.code.instrs.get(th.pc as usize) else {
                    return 0;
                };
                // An operand that cannot be evaluated makes the step raise: it can move.
                let ways = match instr {
                    Instr::Choose { lo, hi, .. } => self
                        .choose_range(&c, *lo, *hi)
                        .map(|(lo, hi)| (hi - lo + 1) as u32),
                    Instr::Join { thread, timeout } => self
                        .join_ready(&c, *thread, if timeouts { *timeout } else { None })
                        .map(u32::from),
                    Instr::Call { obj, op, .. } => self
                        .obj(&c, *obj)
                        .and_then(|o| objects::ready(self, &c, o, op, timeouts)),
                    Instr::Result { handle, op, .. } => self
                        .operand(&c, *handle)
                        .and_then(|h| objects::result_ready(self, &c, h, op, timeouts)),
                    _ => Ok(1),
                };
                ways.unwrap_or(1)
            }
        }
    }

    /// Every thread that can move, with its number of alternatives.
    pub fn enabled(&self, prog: &Program) -> Vec<(ThreadId, u32)> {
        (0..self.threads.len() as ThreadId)
            .filter_map(|t| {
                let n = self.alternatives(prog, t);
                (n > 0).then_some((t, n))
            })
            .collect()
    }

    /// What a thread that cannot move waits for, said for people, and which threads
    /// could end the wait: for the deadlock explanation and the wait-for graph.
    pub fn blocked(&self, prog: &Program, t: ThreadId) -> Blocked {
        let th = &self.threads[t as usize];
        match &th.status {
            Status::Waiting(w) => objects::wait_blocked(self, prog, t, w),
            Status::SpinBlocked { reads } => spinning(prog, reads),
            Status::Ready => self.blocked_at(prog, t),
            Status::NotStarted | Status::Finished => {
                Blocked::new(WaitTarget::Nothing, String::new())
            }
        }
    }

    fn blocked_at(&self, prog: &Program, t: ThreadId) -> Blocked {
        let c = self.ctx(prog, t);
        match c.code.instrs.get(self.threads[t as usize].pc as usize) {
            Some(Instr::Call { obj, op, .. }) => match self.obj(&c, *obj) {
                Ok(o) => objects::blocked(self, &c, o, op),
                Err(_) => Blocked::stuck(),
            },
            Some(Instr::Result { handle, .. }) => match self.operand(&c, *handle) {
                Ok(h) => objects::result_blocked(self, &c, h),
                Err(_) => Blocked::stuck(),
            },
            Some(Instr::Join { thread, .. }) => {
                let ts = self.thread_sel(&c, *thread).unwrap_or_default();
                let waiting: Vec<ThreadId> = ts.into_iter().filter(|x| self.is_alive(*x)).collect();
                let names: Vec<&str> = waiting
                    .iter()
                    .map(|x| prog.threads[*x as usize].name.as_str())
                    .collect();
                Blocked {
                    target: WaitTarget::Threads(waiting.clone()),
                    text: format!("waits to join {}", names.join(", ")),
                    holders: waiting,
                }
            }
            _ => Blocked::stuck(),
        }
    }

    /// The resource a thread that cannot move waits for (the wait-for graph's node).
    pub fn wait_target(&self, prog: &Program, t: ThreadId) -> WaitTarget {
        self.blocked(prog, t).target
    }

    /// What a thread that cannot move waits for, and which threads could end the wait.
    pub fn waits_for(&self, prog: &Program, t: ThreadId) -> (String, Vec<ThreadId>) {
        let b = self.blocked(prog, t);
        (b.text, b.holders)
    }

    /// Does `t`'s next step take a Lock or RLock (or a Condition's lock) and wait for it
    /// as long as it takes (blocking, no timeout)? Which lock, if so. For the lock-order
    /// graph: an acquisition that can give up cannot deadlock.
    pub fn blocking_lock_acquire(&self, prog: &Program, t: ThreadId) -> Option<ObjId> {
        let th = &self.threads[t as usize];
        match &th.status {
            Status::Waiting(w) => objects::wait_lock(prog, w),
            Status::Ready => {
                let c = self.ctx(prog, t);
                let Some(Instr::Call { obj, op, .. }) = c.code.instrs.get(th.pc as usize) else {
                    return None;
                };
                let o = self.obj(&c, *obj).ok()?;
                objects::blocking_lock(self, &c, o, op)
            }
            _ => None,
        }
    }
}

/// A spin loop that makes no progress.
fn spinning(prog: &Program, reads: &[super::spin::Loc]) -> Blocked {
    let names: Vec<String> = reads.iter().map(|l| l.name(prog)).collect();
    let text = if names.is_empty() {
        "loops forever without reading anything that could change".into()
    } else {
        format!(
            "spins waiting for a change to {} that no thread will make",
            names.join(", ")
        )
    };
    Blocked::new(WaitTarget::Change(reads.to_vec()), text)
}
