//! The state of one execution ([`State`]): every variable cell, every object's state and
//! every thread's position, locals and wait status. Small, cheap to clone, hashable and
//! comparable, so that the explorer can keep one per step of its path and state caching
//! can recognise a state seen before.
//!
//! The cells hold one copy of the `[shared]`, `[atomics]` and `[ghost]` variables per
//! memory (the main program's, then each process's) and one copy of the `Value` and
//! `Array` objects' cells, which every party shares ([`Program::address`]). A process
//! reads and writes only its own copy, so accesses in different processes never
//! conflict: to the explorer they are independent, to the race detector never a race.

use super::exception::PyException;
use super::objects::{self, ObjState, Wait};
use super::spin::{Loc, Spin};
use crate::ir::{FindingKind, Pc, Program, ThreadId, Value};
use std::hash::{Hash, Hasher};

/// The whole state of an execution.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// Every memory's cells, then the global ones (see [`Program::address`]). Written
    /// only through `write_cell` and the fork copy.
    pub cells: Vec<Value>,
    pub objects: Vec<ObjState>,
    pub threads: Vec<ThreadState>,
    /// Steps taken so far.
    pub steps: u32,
    /// An assertion or error has happened: the execution has no outcome and no deadlock
    /// after it (the other threads still move, for the explorer's sake).
    pub failed: bool,
    /// The policies this execution runs under (fixed for a whole search).
    pub policy: Policy,
    /// The list values made so far (see `lists.rs`).
    pub lists: Vec<std::sync::Arc<[Value]>>,
    /// What the execution printed so far, line by line (`main: Hello`): a `print` is a
    /// step, and its output is part of the outcome.
    pub output: Vec<std::sync::Arc<str>>,
}

/// One thread's part of the state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ThreadState {
    pub status: Status,
    pub pc: Pc,
    pub locals: Vec<Option<Value>>,
    /// The spin-loop trackers, one per loop head passed: what the iteration did.
    pub spin: Vec<Spin>,
    /// An iteration made no progress: at the next step, block on these reads.
    pub spin_pending: Option<Vec<Loc>>,
    /// An iteration made no progress and timed out in a Condition wait: the thread goes
    /// on (the wait lets go of the lock, as it does in Python most of the time), but its
    /// timed waits do not time out until another thread writes one of these (spin.rs).
    pub spin_waits: Option<Vec<Loc>>,
    /// Steps this thread has taken.
    pub steps: u32,
    /// A process's exit code once it has ended: 0, 1 (it failed), -15 (terminated) or
    /// -9 (killed).
    pub exit: Option<i64>,
    /// A daemon: stopped, not waited for, once every other party has finished.
    pub daemon: bool,
    /// A failure caught inside a Pool task, on its way to the task's result.
    pub caught: Option<Caught>,
    /// A process that raised: it dies at its next step (step.rs, `die`).
    pub dying: bool,
}

impl ThreadState {
    /// This thread's state with the threads it names renamed (see
    /// [`State::rename_threads`]).
    fn renamed(&self, to: &[ThreadId]) -> ThreadState {
        let locs = |reads: &mut Vec<Loc>| {
            for l in reads {
                if let Loc::Thread(t) = l {
                    *t = to[*t as usize];
                }
            }
        };
        let mut th = self.clone();
        if let Status::SpinBlocked { reads } = &mut th.status {
            locs(reads);
        }
        for sp in &mut th.spin {
            locs(&mut sp.reads);
            for w in &mut sp.written {
                if let Loc::Thread(t) = &mut w.loc {
                    *t = to[*t as usize];
                }
                for held in [&mut w.before, &mut w.after] {
                    if let Some(super::spin::Before::Object(s)) = held {
                        objects::rename_threads(s, to);
                    }
                }
            }
        }
        th.spin_pending.as_mut().map(locs);
        th.spin_waits.as_mut().map(locs);
        th
    }
}

/// A failure that a party caught (see `ir::CatchBlock`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Caught {
    pub exception: PyException,
    pub line: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    NotStarted,
    /// At a visible instruction (`pc`).
    Ready,
    /// Inside a blocking operation of an object, between its steps (a Condition's wait,
    /// an Event's wait, a Barrier's wait): see [`objects::Wait`].
    Waiting(Wait),
    /// Spinning on reads that nothing has changed since: waits for a write to one of them.
    SpinBlocked {
        reads: Vec<Loc>,
    },
    Finished,
}

/// Where the engines need a different policy from the explorer's, both live in the
/// object's file and the state says which one applies. The explorer runs with the
/// default; tests/ run it with the engines' policies too and compare the results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Policy {
    pub wake: WakePolicy,
}

/// Which waiters a `Condition.notify(n)` wakes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WakePolicy {
    /// The notify picks them: one alternative per set of `n` waiters (the explorer's
    /// choice, so that every set is tried).
    #[default]
    Choose,
    /// The notify leaves `n` wake-ups that the first waiters to move take: which waiter
    /// wakes is decided by the scheduler (loom and shuttle explore it as an interleaving,
    /// while they cannot explore a choice of values).
    Race,
}

/// One scheduling decision: thread `thread` moves, taking alternative `alt`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Choice {
    pub thread: ThreadId,
    pub alt: u32,
}

/// What went wrong: an assertion, or an operation Python raises for, in a thread (or in a
/// `[final]` or `[invariant]` check, `thread` then being `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: FindingKind,
    pub thread: Option<ThreadId>,
    pub line: u32,
    pub message: String,
    /// How findings are grouped: the exception's class, or for a check its text.
    pub group: String,
}

impl Failure {
    /// Whether the failure ends its execution (SCENARIO.md, "Verdict kinds"): a thread's
    /// and a check's do; a process's ends that process only, and the others go on.
    pub fn ends_execution(&self, prog: &Program) -> bool {
        self.thread
            .is_none_or(|t| !prog.threads[t as usize].process)
    }

    /// The failure as reports show it: `worker[0] (line 4): ZeroDivisionError: ...`.
    pub fn describe(&self, prog: &Program) -> String {
        match self.thread {
            Some(t) => format!(
                "{} (line {}): {}",
                prog.threads[t as usize].name, self.line, self.message
            ),
            None => format!("line {}: {}", self.line, self.message),
        }
    }

    /// Findings with the same key are the same bug: grouped by place and kind of
    /// failure, not by the values in the message.
    pub fn key(&self) -> String {
        let detail = if self.kind == FindingKind::Assertion {
            self.message.as_str()
        } else {
            ""
        };
        format!("{}:{}:{detail}", self.line, self.group)
    }
}

impl State {
    /// Sets the cell at `address` to `v`.
    pub(super) fn put_cell(&mut self, address: u32, v: Value) {
        self.cells[address as usize] = v;
    }

    /// The state before the first step, before any thread has run (see
    /// [`State::initial`] for the one that the threads' first local code has run in).
    pub(super) fn empty(prog: &Program, policy: Policy) -> State {
        let mut memory = vec![];
        for v in &prog.vars {
            memory.extend(v.init.iter().copied());
        }
        let cells = memory.repeat((prog.addresses() / prog.cells.max(1)) as usize);
        let threads = prog
            .threads
            .iter()
            .map(|t| ThreadState {
                status: Status::NotStarted,
                pc: 0,
                locals: vec![None; t.code.locals as usize],
                spin: vec![],
                spin_pending: None,
                spin_waits: None,
                steps: 0,
                exit: None,
                daemon: t.daemon,
                caught: None,
                dying: false,
            })
            .collect();
        State {
            cells,
            objects: prog.objects.iter().map(objects::initial).collect(),
            threads,
            steps: 0,
            failed: false,
            policy,
            lists: super::lists::new_arena(),
            output: vec![],
        }
    }

    /// A hash of what the state is, leaving out the step counters (which only count how
    /// it was reached) and the failed flag: equal for the same values, objects and
    /// thread positions.
    pub fn fingerprint(&self) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        self.cells.hash(&mut h);
        self.objects.hash(&mut h);
        for t in &self.threads {
            let spin = (&t.spin, &t.spin_pending, &t.spin_waits);
            (&t.status, t.pc, &t.locals, spin).hash(&mut h);
        }
        h.finish()
    }

    /// The same state with its threads renamed: thread `t` becomes `to[t]` (a
    /// permutation), in the thread table and wherever the state names a thread. For
    /// state caching's symmetry reduction; every field is named here, so that a new one
    /// that names threads cannot be forgotten.
    pub fn rename_threads(&self, to: &[ThreadId]) -> State {
        let State {
            cells,
            objects,
            threads,
            steps,
            failed,
            policy,
            lists,
            output,
        } = self;
        let mut renamed: Vec<Option<ThreadState>> = vec![None; threads.len()];
        for (t, th) in threads.iter().enumerate() {
            renamed[to[t] as usize] = Some(th.renamed(to));
        }
        let mut objects = objects.clone();
        for o in &mut objects {
            objects::rename_threads(o, to);
        }
        State {
            cells: cells.clone(),
            objects,
            threads: renamed.into_iter().map(Option::unwrap).collect(),
            steps: *steps,
            failed: *failed,
            policy: *policy,
            lists: lists.clone(),
            // Interchangeable threads never print (their lines would name them).
            output: output.clone(),
        }
    }

    /// A hash of what the objects say of the threads, the threads renamed by `to` (any
    /// map): which lock each holds, where each waits in a condition's queue. For state
    /// caching's symmetry reduction.
    pub fn objects_hash(&self, to: &[ThreadId]) -> u64 {
        let mut objects = self.objects.clone();
        for o in &mut objects {
            objects::rename_threads(o, to);
        }
        let mut h = rustc_hash::FxHasher::default();
        objects.hash(&mut h);
        h.finish()
    }

    /// A hash of thread `t`'s own state without its step counter.
    pub fn thread_hash(&self, t: ThreadId) -> u64 {
        let th = &self.threads[t as usize];
        let mut h = rustc_hash::FxHasher::default();
        let spin = (&th.spin, &th.spin_pending, &th.spin_waits);
        (&th.status, th.pc, &th.locals, spin).hash(&mut h);
        (th.exit, th.daemon, &th.caught).hash(&mut h);
        if th.dying {
            th.dying.hash(&mut h); // hashed only when set: other states keep their hashes
        }
        h.finish()
    }

    /// The state as state caching compares states: without its step counters.
    pub fn without_counters(&self) -> State {
        let mut key = self.clone();
        key.steps = 0;
        for t in &mut key.threads {
            t.steps = 0;
        }
        key
    }

    /// Is the program over: has every started party finished, but for daemons (which
    /// are stopped then)?
    pub fn all_finished(&self) -> bool {
        self.threads
            .iter()
            .all(|t| t.daemon || matches!(t.status, Status::Finished | Status::NotStarted))
    }

    /// Is thread `t` started and unfinished?
    pub fn is_alive(&self, t: ThreadId) -> bool {
        !matches!(
            self.threads[t as usize].status,
            Status::NotStarted | Status::Finished
        )
    }

    /// The threads that are started and unfinished.
    pub fn unfinished(&self) -> Vec<ThreadId> {
        (0..self.threads.len() as ThreadId)
            .filter(|t| self.is_alive(*t))
            .collect()
    }

    /// The values of the observed cells, in display order.
    pub fn observed(&self, prog: &Program) -> Vec<Value> {
        prog.observe
            .iter()
            .map(|(_, c)| self.cells[*c as usize])
            .collect()
    }

    /// The names of the locks `t` holds (for explanations).
    pub fn held_by(&self, prog: &Program, t: ThreadId) -> Vec<String> {
        (0..self.objects.len())
            .filter(|o| objects::holder(self, *o as u32) == Some(t))
            .map(|o| prog.objects[o].name.clone())
            .collect()
    }

    /// The name of whoever holds the lock-like object `lock`, or `nobody`.
    pub fn holder_name(&self, prog: &Program, lock: u32) -> String {
        match objects::holder(self, lock) {
            Some(h) => prog.threads[h as usize].name.clone(),
            None => "nobody".into(),
        }
    }

    /// A line about object `o`'s state for people: `Lock, held by worker[0]`.
    pub fn describe_object(&self, prog: &Program, o: u32) -> String {
        objects::describe(self, prog, o)
    }
}
