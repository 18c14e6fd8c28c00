//! The spin-loop rule of SCENARIO.md: a loop iteration that writes nothing and reads what
//! the previous one read makes no progress, so the thread waits until another thread
//! writes what it read. Without it, `while not ready: pass` would make every search
//! infinite.
//!
//! Each thread keeps one [`Spin`] record per loop head it has passed: what the iteration
//! read, what it wrote, and whether it was forced to progress (a `choose`, or another
//! thread writing what it read). At the next pass of the head, an iteration that left the
//! thread's locals as they were and changed nothing shared blocks the thread on its reads
//! ([`Status::SpinBlocked`]). "Changed nothing" counts the iteration's own writes only:
//! it wrote nothing, or each place it wrote it left as it found it (its last write there
//! put back what the place held before its first, see [`Written`]), as `with lock:` does.
//! An iteration that read nothing can never change: it blocks for good, and if every
//! unfinished thread is in that state the execution is a livelock.
//!
//! One exception: an iteration that timed out in a Condition wait does not block at its
//! loop head, which is inside `with cv:` in the usual idiom (`with cv: while not ready:
//! cv.wait(timeout)`), where it would hold the lock that the wait lets go of, and keep
//! out the thread that would set `ready`. It goes on into its next wait instead, which
//! does not time out until another thread writes what the iteration read
//! (`ThreadState::spin_waits`); a notify wakes it as any waiter.
//!
//! The rule looks at what the thread itself did, never at what the others did since: its
//! decision is a function of the thread's own steps, which the explorer's dependency
//! relation already orders against every other access to the same places. (A rule that
//! compared each place with what it held at the loop head read those places at the step
//! that ends the iteration, which no footprint said: DPOR took a write by another thread
//! there as commuting with that step, and missed the executions where it decided
//! whether the poller spins on; found by the generated scenarios against state caching.)
//! And two states that differ only in when a polling thread last passed its loop head are
//! the same state, and state caching sees them so (a record with a hash of the whole
//! memory at the head made seed 003's three-worker loop a hundred times bigger).

use super::footprint::Touch;
use super::objects::ObjState;
use super::state::{State, Status};
use crate::ir::{ObjId, Pc, Program, ThreadId, Value};

/// A location that a step reads or writes, for the spin-loop rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Loc {
    Cell(u32),
    Obj(ObjId),
    Thread(ThreadId),
    /// A Condition's notifications, apart from its wait list: a waiter in a loop reads
    /// them (being woken is progress), a notify that wakes someone writes them. Another
    /// waiter coming and going (a timed wait in a loop) is not progress for a waiter.
    Notify(ObjId),
}

impl Loc {
    /// The explorer's view of reading this location.
    pub fn touch(self) -> Touch {
        match self {
            Loc::Cell(cell) => Touch::Cell { cell, write: false },
            Loc::Obj(o) | Loc::Notify(o) => Touch::Obj(o),
            Loc::Thread(x) => Touch::Thread(x),
        }
    }

    /// What a person calls it, in "waits for a change to ...".
    pub fn name(self, prog: &Program) -> String {
        match self {
            Loc::Cell(c) => prog.cell_name(c),
            Loc::Obj(o) => prog.objects[o as usize].name.clone(),
            Loc::Thread(x) => prog.threads[x as usize].name.clone(),
            Loc::Notify(o) => format!("a notify of {}", prog.objects[o as usize].name),
        }
    }
}

/// The spin-loop rule's record of one loop iteration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Spin {
    pub head: Pc,
    pub locals: Vec<Option<Value>>,
    pub reads: Vec<Loc>,
    /// What the iteration wrote, each place once, in order of place.
    pub written: Vec<Written>,
    /// Progress for sure: a `choose`, or another thread wrote what this iteration read.
    pub forced: bool,
    /// The iteration timed out in a Condition wait.
    pub waited: bool,
}

/// A place an iteration wrote: what it held just before the iteration's first write
/// there, and just after its last. For an object both are filled in when the step that
/// wrote it ends (`State::step` keeps the objects as they were before a spinning
/// thread's step); `None` until then.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Written {
    pub loc: Loc,
    pub before: Option<Before>,
    pub after: Option<Before>,
}

impl Written {
    /// Did the iteration leave the place as it found it?
    fn put_back(&self) -> bool {
        match (&self.before, &self.after) {
            (Some(Before::Thread), _) => false,
            (Some(b), Some(a)) => a == b,
            _ => false,
        }
    }
}

/// What a place held, as the spin rule compares it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Before {
    Cell(Value),
    Object(ObjState),
    /// A party started or ended: never undone.
    Thread,
}

impl State {
    /// Thread `t` passes a loop head: blocks it if the last iteration made no progress,
    /// else starts a new record.
    pub(super) fn loop_head(&mut self, t: ThreadId) {
        if self.threads[t as usize].spin_pending.is_some() {
            return;
        }
        let pc = self.threads[t as usize].pc;
        let th = &self.threads[t as usize];
        if let Some(i) = th.spin.iter().position(|sp| sp.head == pc) {
            let sp = &th.spin[i];
            let unchanged = sp.written.iter().all(Written::put_back);
            let th = &mut self.threads[t as usize];
            let sp = &th.spin[i];
            if !sp.forced && unchanged && sp.locals == th.locals {
                let reads = sp.reads.clone();
                let waited = sp.waited;
                th.spin.clear();
                if waited {
                    // `with cv: while not ready: cv.wait(timeout)`: blocked here, it
                    // would hold the lock that its wait lets go of; it waits in its
                    // next wait instead, without timing out.
                    th.spin_waits = Some(reads);
                } else if reads.is_empty() {
                    // Nothing can ever change what this loop sees.
                    th.status = Status::SpinBlocked { reads };
                } else {
                    th.spin_pending = Some(reads);
                }
                return;
            }
            th.spin.remove(i);
        }
        let th = &mut self.threads[t as usize];
        let locals = th.locals.clone();
        th.spin.push(Spin {
            head: pc,
            locals,
            reads: vec![],
            written: vec![],
            forced: false,
            waited: false,
        });
    }

    /// After a step of `t` that began with the objects `objects`: the objects it wrote
    /// for the first time in an iteration held what they held there, and every object
    /// the step wrote holds now what the iteration left in it.
    pub(super) fn fill_befores(&mut self, t: ThreadId, objects: &[ObjState]) {
        let now = &self.objects;
        for sp in &mut self.threads[t as usize].spin {
            for w in &mut sp.written {
                if let (Loc::Obj(o), None) = (w.loc, &w.after) {
                    if w.before.is_none() {
                        w.before = Some(Before::Object(objects[o as usize].own_part(t)));
                    }
                    w.after = Some(Before::Object(now[o as usize].own_part(t)));
                }
            }
        }
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
        let before = matches!(loc, Loc::Thread(_)).then_some(Before::Thread);
        self.note_write_from(t, loc, before.clone(), before);
    }

    /// [`State::note_write`], with what `loc` held before and holds after the write when
    /// they are known already (`None`: an object, filled in when the step ends).
    fn note_write_from(
        &mut self,
        t: ThreadId,
        loc: Loc,
        before: Option<Before>,
        after: Option<Before>,
    ) {
        for sp in &mut self.threads[t as usize].spin {
            // Kept in order of place, so that the same writes make the same record.
            match sp.written.binary_search_by_key(&loc, |w| w.loc) {
                Ok(i) => sp.written[i].after = after.clone(),
                Err(i) => sp.written.insert(
                    i,
                    Written {
                        loc,
                        before: before.clone(),
                        after: after.clone(),
                    },
                ),
            }
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
            if th.spin_waits.as_ref().is_some_and(|r| r.contains(&loc)) {
                th.spin_waits = None;
            }
            if let Status::SpinBlocked { reads } = &th.status
                && reads.contains(&loc)
            {
                th.status = Status::Ready;
            }
        }
    }

    /// Whether `t` can move only when another thread writes what its loop read: blocked at
    /// the loop head, or in a timed wait that no longer times out.
    pub fn spinning(&self, t: ThreadId) -> bool {
        let th = &self.threads[t as usize];
        matches!(th.status, Status::SpinBlocked { .. })
            || (matches!(th.status, Status::Waiting(_)) && th.spin_waits.is_some())
    }

    /// Records that `t` timed out in a Condition wait (see `ThreadState::spin_waits`).
    pub(super) fn note_timed_out(&mut self, t: ThreadId) {
        for sp in &mut self.threads[t as usize].spin {
            sp.waited = true;
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
        let old = self.cells[cell as usize];
        if old != v {
            self.put_cell(cell, v);
            let (before, after) = (Before::Cell(old), Before::Cell(v));
            self.note_write_from(t, Loc::Cell(cell), Some(before), Some(after));
        }
    }
}
