//! The explorer's dependency relation: what a step may touch ([`Touch`]), and when two
//! steps of different threads are dependent ([`dependent`]): they touch the same cell and
//! one writes, or the same object, thread or global (which always count as written).
//!
//! [`State::footprint`] over-approximates the next step of a thread from its state,
//! whether or not the thread can move: the explorer needs the footprint of a blocked
//! step to see that it races with the step that blocked it.

use super::objects;
use super::state::{State, Status};
use super::value::cas_matches;
use crate::ir::{Instr, ObjId, Program, StartMethod, StaticTouch, ThreadId};
use smallvec::SmallVec;

/// What a step may touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Touch {
    Cell {
        cell: u32,
        write: bool,
    },
    Obj(ObjId),
    Thread(ThreadId),
    AtomicBlock,
    /// Writes of cells that an invariant reads are all ordered with each other.
    Invariant,
    /// One round of a barrier: its arrivals (writes) and departures (reads).
    Round {
        bar: ObjId,
        generation: u32,
        write: bool,
    },
    /// One task of a Pool: its end and the operations on its AsyncResult.
    Task {
        pool: ObjId,
        id: u32,
    },
    /// A process's or daemon's life: each of its steps (`stop`: false), and what can stop
    /// it before that step (`stop`: true): the `terminate()` or `kill()` of a process, a
    /// Pool's `terminate()` for its workers, and for a daemon the end of any non-daemon
    /// party (which may be the last one).
    Life {
        thread: ThreadId,
        stop: bool,
    },
    /// The program's output: every `print` writes it, so prints are ordered.
    Output,
}

pub type Footprint = SmallVec<[Touch; 4]>;

/// Are two footprints dependent?
pub fn dependent(a: &[Touch], b: &[Touch]) -> bool {
    a.iter().any(|x| b.iter().any(|y| conflict(x, y)))
}

fn conflict(x: &Touch, y: &Touch) -> bool {
    if std::mem::discriminant(x) != std::mem::discriminant(y) {
        return false;
    }
    let (px, wx) = place(x);
    let (py, wy) = place(y);
    px == py && (wx || wy)
}

/// Where a touch is, and whether it writes there: two touches conflict when they are at
/// the same place and one of them writes. Cells, barrier rounds and lives have reads
/// (with their flag cleared, the touch is the place); everything else always writes.
pub fn place(x: &Touch) -> (Touch, bool) {
    match *x {
        Touch::Cell { cell, write } => (Touch::Cell { cell, write: false }, write),
        Touch::Round {
            bar,
            generation,
            write,
        } => (
            Touch::Round {
                bar,
                generation,
                write: false,
            },
            write,
        ),
        Touch::Life { thread, stop } => (
            Touch::Life {
                thread,
                stop: false,
            },
            stop,
        ),
        other => (other, true),
    }
}

/// Adds the touches of one access to `address` (and the invariant's, for a write to a
/// cell of the main program's memory that an invariant reads).
pub(super) fn cell_touch(prog: &Program, fp: &mut Footprint, address: u32, write: bool) {
    fp.push(Touch::Cell {
        cell: address,
        write,
    });
    let (mem, cell) = prog.locate(address);
    let checked = mem == 0 || mem == prog.memories;
    if write && checked && prog.invariant_cells[cell as usize] {
        fp.push(Touch::Invariant);
    }
}

/// Adds a statically known access in memory `mem`: every element of a variable, object
/// or thread group.
pub(super) fn static_touch(prog: &Program, mem: u32, st: StaticTouch, fp: &mut Footprint) {
    match st {
        StaticTouch::Var { var, write } => {
            let v = &prog.vars[var as usize];
            for cell in v.first_cell..v.first_cell + v.len.unwrap_or(1) {
                cell_touch(prog, fp, prog.address(mem, cell), write);
            }
        }
        StaticTouch::Objects { group } => {
            let g = &prog.object_groups[group as usize];
            for o in g.first..g.first + g.count() {
                objects::touch_object(prog, fp, o);
            }
        }
        StaticTouch::Threads { group } => {
            let g = &prog.thread_groups[group as usize];
            for x in g.first..g.first + g.count() {
                fp.push(Touch::Thread(x));
            }
        }
    }
}

impl State {
    /// What thread `t`'s next step may touch (an over-approximation), for the explorer.
    /// Meaningful for every started, unfinished thread, whether it can move or not.
    pub fn footprint(&self, prog: &Program, t: ThreadId) -> Footprint {
        let mut fp = Footprint::new();
        let me = &self.threads[t as usize];
        if matches!(me.status, Status::NotStarted | Status::Finished) {
            return fp;
        }
        if me.daemon || prog.threads[t as usize].process {
            fp.push(Touch::Life {
                thread: t,
                stop: false,
            });
        }
        if me.dying {
            self.death_footprint(prog, t, &mut fp);
            fp.sort();
            fp.dedup();
            return fp;
        }
        match &me.status {
            Status::NotStarted | Status::Finished => return fp,
            Status::Waiting(w) => {
                objects::wait_footprint(self, prog, w, &mut fp);
                // A timed wait that spins times out again once one of these changes.
                if let Some(reads) = &me.spin_waits {
                    fp.extend(reads.iter().map(|r| r.touch()));
                    fp.sort();
                    fp.dedup();
                }
                return fp;
            }
            Status::SpinBlocked { reads } => {
                for r in reads {
                    fp.push(r.touch());
                }
            }
            Status::Ready => {}
        }
        let pc = self.threads[t as usize].pc as usize;
        let code = &prog.threads[t as usize].code;
        let Some(instr) = code.instrs.get(pc) else {
            return fp;
        };
        if !instr.is_visible() {
            return fp; // a thread blocked at a loop head with nothing to wait for
        }
        self.instr_footprint(prog, t, instr, &mut fp);
        let mem = prog.threads[t as usize].memory;
        for st in &code.extra_touches[pc] {
            static_touch(prog, mem, *st, &mut fp);
        }
        fp.sort();
        fp.dedup();
        fp
    }

    /// Does the footprint of `t`'s next step depend on the values of cells, not only on
    /// `t`'s own state? A compare-and-swap writes only when it will succeed, so the same
    /// step is a read in one order and a write in another: a race reversal that moves it
    /// before a write must take its footprint again there (dpor.rs `reverse`).
    pub fn footprint_depends_on_values(&self, prog: &Program, t: ThreadId) -> bool {
        let th = &self.threads[t as usize];
        if !matches!(th.status, Status::Ready) || th.dying {
            return false;
        }
        let code = &prog.threads[t as usize].code;
        matches!(code.instrs.get(th.pc as usize), Some(Instr::Cas { .. }))
    }

    /// What the step where a process dies after raising touches (step.rs, `die`): its
    /// end, as `End` does, and its open `with` blocks' exits, which the failure unwinds
    /// as Python does (found by the generated scenarios: a failing process's unwinding
    /// release of a semaphore commuted with another thread's release, and DPOR missed
    /// the order between them).
    fn death_footprint(&self, prog: &Program, t: ThreadId, fp: &mut Footprint) {
        let pc = self.threads[t as usize].pc;
        let code = &prog.threads[t as usize].code;
        self.instr_footprint(prog, t, &Instr::End, fp);
        for w in code.withs.iter().filter(|w| w.body.contains(&pc)) {
            self.instr_footprint(prog, t, &code.instrs[w.exit as usize], fp);
        }
    }

    /// Does the end of party `t` stop the daemons (when it is the last non-daemon party)?
    fn stops_daemons(&self, t: ThreadId) -> bool {
        !self.threads[t as usize].daemon && self.threads.iter().any(|d| d.daemon)
    }

    /// What the end of party `t` may stop: every daemon, when `t` is not one (its end,
    /// failure, `terminate()` or `kill()` may leave no non-daemon party). Found by the
    /// generated process scenarios: a failing process's last step commuted with a
    /// daemon thread's step, which that failure could stop.
    pub(super) fn daemon_stops(&self, t: ThreadId, fp: &mut Footprint) {
        if !self.stops_daemons(t) {
            return;
        }
        let daemons = self.threads.iter().enumerate().filter(|(_, d)| d.daemon);
        fp.extend(daemons.map(|(d, _)| Touch::Life {
            thread: d as ThreadId,
            stop: true,
        }));
    }

    fn instr_footprint(&self, prog: &Program, t: ThreadId, instr: &Instr, fp: &mut Footprint) {
        let c = self.ctx(prog, t);
        match instr {
            Instr::Read { var, index, .. } | Instr::Write { var, index, .. } => {
                let write = matches!(instr, Instr::Write { .. });
                if let Ok(cell) = self.cell(&c, *var, *index) {
                    cell_touch(prog, fp, cell, write);
                }
            }
            // A compare-and-swap reads its cell, and writes it only when it will succeed
            // (a failed CAS is a read, as in Nidhugg and GenMC), so that two CAS on
            // different slots, or two failing ones on the same slot, are independent.
            Instr::Cas {
                var,
                index,
                expected,
                ..
            } => {
                if let Ok(cell) = self.cell(&c, *var, *index) {
                    fp.push(Touch::Cell { cell, write: false });
                    let succeeds = self
                        .operand(&c, *expected)
                        .is_ok_and(|e| cas_matches(self.cells[cell as usize], e));
                    if succeeds {
                        cell_touch(prog, fp, cell, true);
                    }
                }
            }
            Instr::Call { obj, op, .. } => {
                if let Ok(o) = self.obj(&c, *obj) {
                    objects::call_footprint(self, &c, o, op, fp);
                }
            }
            Instr::Result { handle, .. } => {
                if let Ok(h) = self.operand(&c, *handle) {
                    objects::result_footprint(self, &c, h, fp);
                }
            }
            Instr::Start { thread } => {
                if let Ok(ts) = self.thread_sel(&c, *thread) {
                    for x in ts {
                        start_footprint(prog, c.mem, x, fp);
                    }
                }
            }
            Instr::Terminate { thread, .. } => {
                if let Ok(ts) = self.thread_sel(&c, *thread) {
                    for x in ts {
                        fp.push(Touch::Thread(x));
                        fp.push(Touch::Life {
                            thread: x,
                            stop: true,
                        });
                        ends_closed_by(prog, x, fp);
                        self.daemon_stops(x, fp);
                    }
                }
            }
            Instr::Join { thread, .. }
            | Instr::IsAlive { thread, .. }
            | Instr::ExitCode { thread, .. } => {
                if let Ok(ts) = self.thread_sel(&c, *thread) {
                    fp.extend(ts.into_iter().map(Touch::Thread));
                }
            }
            Instr::End => {
                fp.push(Touch::Thread(t));
                ends_closed_by(prog, t, fp);
                self.daemon_stops(t, fp);
            }
            Instr::AtomicBegin { end } => {
                fp.push(Touch::AtomicBlock);
                let pc = self.threads[t as usize].pc as usize;
                let body = c.code.instrs.get(pc..*end as usize).unwrap_or(&[]);
                if body.iter().any(|i| matches!(i, Instr::Print { .. })) {
                    fp.push(Touch::Output);
                }
            }
            Instr::Print { .. } => fp.push(Touch::Output),
            _ => {}
        }
    }
}

/// What starting thread `x` from memory `mem` touches: the thread, what its first local
/// code touches, and for a process started by fork, every private cell of the starter's
/// memory (it takes a copy: not an access, but it sees every earlier write).
fn start_footprint(prog: &Program, mem: u32, x: ThreadId, fp: &mut Footprint) {
    fp.push(Touch::Thread(x));
    let info = &prog.threads[x as usize];
    for st in &info.code.prelude_touches {
        static_touch(prog, info.memory, *st, fp);
    }
    if info.process && prog.start_method == StartMethod::Fork {
        for cell in 0..prog.cells {
            if !prog.cell_is_global(cell) {
                fp.push(Touch::Cell {
                    cell: prog.address(mem, cell),
                    write: false,
                });
            }
        }
    }
}

/// The Pipe ends that process `t`'s end may close (when it is their last holder): its
/// end, failure, `terminate()` or `kill()` writes them.
pub(super) fn ends_closed_by(prog: &Program, t: ThreadId, fp: &mut Footprint) {
    let ends = prog
        .closes_on_exit
        .iter()
        .filter(|c| c.holders.contains(&t));
    fp.extend(ends.map(|c| Touch::Obj(c.end)));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failed compare-and-swap is a read, as in Nidhugg and GenMC: two CAS on different
    /// slots, or two failing ones on the same slot, are independent.
    #[test]
    fn footprint_reads_and_writes_only_on_success() {
        let text = r#"
    [atomics]
    a = [0, 4]
    [[thread]]
    name = "win"
    code = "cas(a[0], 0, 1)"
    [[thread]]
    name = "lose"
    code = "cas(a[1], 0, 1)"
    "#;
        let p = crate::frontend::lower::lower(
            &crate::frontend::scenario::parse_scenario("cas.toml", text).unwrap(),
        )
        .unwrap();
        let (s, f) = State::initial(&p);
        assert!(f.is_empty());
        let cell0 = p.vars[0].first_cell;
        let win: Vec<Touch> = s.footprint(&p, 0).to_vec();
        let lose: Vec<Touch> = s.footprint(&p, 1).to_vec();
        assert_eq!(
            win,
            vec![
                Touch::Cell {
                    cell: cell0,
                    write: false
                },
                Touch::Cell {
                    cell: cell0,
                    write: true
                }
            ]
        );
        assert_eq!(
            lose,
            vec![Touch::Cell {
                cell: cell0 + 1,
                write: false
            }]
        );
    }
}
