//! The spin-loop rule of SCENARIO.md: a loop iteration that writes nothing and reads what
//! the previous one read makes no progress, so the thread waits until another thread
//! writes what it read. Without it, `while not ready: pass` would make every search
//! infinite.
//!
//! Each thread keeps one [`Spin`] record per loop head it has passed: what the iteration
//! read, whether it wrote, and whether it was forced to progress (a `choose`, or another
//! thread writing what it read). At the next pass of the head, an iteration that left the
//! thread's locals as they were and changed nothing shared (it wrote nothing, or only put
//! back what was there: see `shared_hash`) blocks the thread on its reads
//! ([`Status::SpinBlocked`]). An iteration that read nothing can never change: it blocks
//! for good, and if every unfinished thread is in that state the execution is a livelock.

use super::footprint::Touch;
use super::state::{State, Status};
use crate::ir::{ObjId, Pc, Program, ThreadId, Value};
use std::hash::{Hash, Hasher};

/// A location that a step reads or writes, for the spin-loop rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Loc {
    Cell(u32),
    Obj(ObjId),
    Thread(ThreadId),
}

impl Loc {
    /// The explorer's view of reading this location.
    pub fn touch(self) -> Touch {
        match self {
            Loc::Cell(cell) => Touch::Cell { cell, write: false },
            Loc::Obj(o) => Touch::Obj(o),
            Loc::Thread(x) => Touch::Thread(x),
        }
    }
}

/// The spin-loop rule's record of one loop iteration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Spin {
    pub head: Pc,
    pub locals: Vec<Option<Value>>,
    pub reads: Vec<Loc>,
    /// The iteration wrote something (it may have put it back: see `shared_hash`).
    pub wrote: bool,
    /// Progress for sure: a `choose`, or another thread wrote what this iteration read.
    pub forced: bool,
    /// A hash of every cell and object at the loop head.
    pub shared_hash: u64,
}

impl State {
    /// Thread `t` passes a loop head: blocks it if the last iteration made no progress,
    /// else starts a new record.
    pub(super) fn loop_head(&mut self, prog: &Program, t: ThreadId) {
        if self.threads[t as usize].spin_pending.is_some() {
            return;
        }
        let hash = self.shared_hash(prog, t);
        let th = &mut self.threads[t as usize];
        let pc = th.pc;
        if let Some(i) = th.spin.iter().position(|sp| sp.head == pc) {
            let sp = &th.spin[i];
            let unchanged = !sp.wrote || sp.shared_hash == hash;
            if !sp.forced && unchanged && sp.locals == th.locals {
                let reads = sp.reads.clone();
                th.spin.clear();
                if reads.is_empty() {
                    // Nothing can ever change what this loop sees.
                    th.status = Status::SpinBlocked { reads };
                } else {
                    th.spin_pending = Some(reads);
                }
                return;
            }
            th.spin.remove(i);
        }
        let locals = th.locals.clone();
        th.spin.push(Spin {
            head: pc,
            locals,
            reads: vec![],
            wrote: false,
            forced: false,
            shared_hash: hash,
        });
    }

    /// A deterministic hash of what thread `t` can see: the cells of its memory, the
    /// global cells (of `Value` and `Array` objects; their memory's hash, kept up to date
    /// at every write) and every object.
    fn shared_hash(&self, prog: &Program, t: ThreadId) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        let mem = prog.threads[t as usize].memory as usize;
        self.memory_hashes.get(mem).hash(&mut h);
        self.memory_hashes.get(prog.memories as usize).hash(&mut h); // the global cells
        self.objects.hash(&mut h);
        h.finish()
    }

    /// Records that `t` read `loc`.
    pub(super) fn note_read(&mut self, t: ThreadId, loc: Loc) {
        for sp in &mut self.threads[t as usize].spin {
            if !sp.reads.contains(&loc) {
                sp.reads.push(loc);
            }
        }
    }

    /// Records that `t` wrote `loc`: its loop iteration wrote, another thread's iteration
    /// that read `loc` made progress, and spinners on `loc` wake up.
    pub(super) fn note_write(&mut self, t: ThreadId, loc: Loc) {
        for sp in &mut self.threads[t as usize].spin {
            sp.wrote = true;
        }
        for (u, th) in self.threads.iter_mut().enumerate() {
            if u as ThreadId == t {
                continue;
            }
            for sp in &mut th.spin {
                if sp.reads.contains(&loc) {
                    sp.forced = true;
                }
            }
            if th.spin_pending.as_ref().is_some_and(|r| r.contains(&loc)) {
                th.spin_pending = None;
            }
            if let Status::SpinBlocked { reads } = &th.status
                && reads.contains(&loc)
            {
                th.status = Status::Ready;
            }
        }
    }

    /// Marks certain progress (a `choose`: the next iteration may differ).
    pub(super) fn note_progress(&mut self, t: ThreadId) {
        for sp in &mut self.threads[t as usize].spin {
            sp.forced = true;
        }
    }

    /// Writes a cell; a write that changes nothing is not a write for the spin rule.
    pub(super) fn write_cell(&mut self, t: ThreadId, cell: u32, v: Value) {
        if self.cells[cell as usize] != v {
            self.put_cell(cell, v);
            self.note_write(t, Loc::Cell(cell));
        }
    }
}
