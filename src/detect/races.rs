//! The happens-before data-race detector: vector clocks over every synchronization edge
//! of SCENARIO.md, fed the [`Event`]s of one execution step by step. As in FastTrack
//! (Flanagan and Freund, PLDI 2009) an access is remembered by its epoch (the thread's own
//! clock entry), not a whole clock; unlike FastTrack, each thread's last read and last
//! write of a cell are kept, so that one execution reports every racing pair that it
//! makes adjacent, not only the first race per variable.
//!
//! The edges, and the [`Event`]s the machine emits for them:
//! - start → the started thread: `Edge`; a thread's end → the join: `JoinThread`;
//! - lock release → next acquire (Lock, RLock, a Condition's lock, also around
//!   `Condition.wait`): `Release`/`Acquire` on the lock (an RLock re-entry is neither);
//! - notify → the woken wait, `Event.set` → a woken wait: `Edge`; `Event.set` → a wait or
//!   `is_set` that sees it set: `Release`/`Acquire` (`clear` resets the channel);
//! - semaphore release → the acquire that takes that permit: `SemRelease`/`SemAcquire`
//!   (permits first-in first-out; initial permits carry no clock);
//! - barrier arrivals → departures of the round, task_done → `Queue.join`: channels;
//! - put → the get of that item: `QueuePut`/`QueueGet` (one clock per item);
//! - an `[atomics]` write → the reads that see it: `Store`/`Acquire` (the channel holds
//!   exactly the last writer's clock); `with atomic:` → the next: one global channel.
//!
//! `[atomics]` and `[ghost]` accesses are never races (ghost accesses are not even events).

use crate::ir::{ObjKind, Program, ThreadId};
use crate::machine::{Chan, Event};
use std::collections::{HashMap, VecDeque};

/// A vector clock: one counter per thread.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Clock(pub Vec<u32>);

impl Clock {
    fn new(n: usize) -> Clock {
        Clock(vec![0; n])
    }
    fn join(&mut self, other: &Clock) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a = (*a).max(*b);
        }
    }
}

/// One side of a race: who accessed what, where.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Access {
    pub thread: ThreadId,
    pub line: u32,
    pub write: bool,
    /// Index of the step (0-based) in the execution.
    pub step: usize,
}

/// Two conflicting accesses to `cell` not ordered by happens-before.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Race {
    pub cell: u32,
    pub first: Access,
    pub second: Access,
}

impl Race {
    /// The race as reports say it: the variable, then each access (read or write, the
    /// thread, the line).
    pub fn message(&self, prog: &Program) -> String {
        let rw = |w: bool| if w { "write" } else { "read" };
        let (a, b) = (&self.first, &self.second);
        format!(
            "data race on {}: {} by {} (line {}) and {} by {} (line {}) are not ordered by happens-before",
            prog.cell_name(self.cell),
            rw(a.write),
            prog.threads[a.thread as usize].name,
            a.line,
            rw(b.write),
            prog.threads[b.thread as usize].name,
            b.line
        )
    }
}

/// Incremental happens-before tracking over one execution.
#[derive(Clone)]
pub struct RaceDetector {
    clocks: Vec<Clock>,
    chans: HashMap<Chan, Clock>,
    sems: HashMap<u32, (u64, VecDeque<Clock>)>,
    queues: HashMap<u32, VecDeque<Clock>>,
    /// Per cell: each thread's last write and last read.
    cells: HashMap<u32, CellHistory>,
    pub races: Vec<Race>,
}

impl RaceDetector {
    pub fn new(prog: &Program) -> RaceDetector {
        let n = prog.threads.len();
        let mut sems = HashMap::new();
        for (i, o) in prog.objects.iter().enumerate() {
            if let ObjKind::Semaphore { initial, .. } = o.kind {
                sems.insert(i as u32, (initial.max(0) as u64, VecDeque::new()));
            }
        }
        let mut clocks = vec![Clock::new(n); n];
        for (t, c) in clocks.iter_mut().enumerate() {
            c.0[t] = 1;
        }
        RaceDetector {
            clocks,
            chans: HashMap::new(),
            sems,
            queues: HashMap::new(),
            cells: HashMap::new(),
            races: vec![],
        }
    }

    /// Feeds the events of step number `step`, taken by thread `t`.
    pub fn step(&mut self, t: ThreadId, step: usize, events: &[Event]) {
        let ti = t as usize;
        for e in events {
            match e {
                Event::Access {
                    cell,
                    write,
                    atomic,
                    line,
                    ..
                } => {
                    if *atomic {
                        continue;
                    }
                    self.access(t, *cell, *write, *line, step);
                }
                Event::Acquire(ch) => {
                    if let Some(c) = self.chans.get(ch) {
                        let c = c.clone();
                        self.clocks[ti].join(&c);
                    }
                }
                Event::Release(ch) => {
                    let mine = self.clocks[ti].clone();
                    self.chans
                        .entry(*ch)
                        .or_insert_with(|| Clock::new(mine.0.len()))
                        .join(&mine);
                    self.tick(t);
                }
                Event::Store(ch) => {
                    self.chans.insert(*ch, self.clocks[ti].clone());
                    self.tick(t);
                }
                Event::Reset(ch) => {
                    self.chans.remove(ch);
                }
                Event::Edge { to } => {
                    let mine = self.clocks[ti].clone();
                    self.clocks[*to as usize].join(&mine);
                    self.tick(t);
                }
                Event::SemRelease { sem, n } => {
                    let mine = self.clocks[ti].clone();
                    let q = self.sems.entry(*sem).or_default();
                    for _ in 0..*n {
                        q.1.push_back(mine.clone());
                    }
                    self.tick(t);
                }
                Event::SemAcquire { sem } => {
                    let q = self.sems.entry(*sem).or_default();
                    if q.0 > 0 {
                        q.0 -= 1; // an initial permit: no release to synchronize with
                    } else if let Some(c) = q.1.pop_front() {
                        self.clocks[ti].join(&c);
                    }
                }
                Event::QueuePut { q } => {
                    let mine = self.clocks[ti].clone();
                    self.queues.entry(*q).or_default().push_back(mine);
                    self.tick(t);
                }
                Event::QueueGet { q } => {
                    if let Some(c) = self.queues.entry(*q).or_default().pop_front() {
                        self.clocks[ti].join(&c);
                    }
                }
                Event::JoinThread { of } => {
                    let c = self.clocks[*of as usize].clone();
                    self.clocks[ti].join(&c);
                }
            }
        }
    }

    fn tick(&mut self, t: ThreadId) {
        self.clocks[t as usize].0[t as usize] += 1;
    }

    fn access(&mut self, t: ThreadId, cell: u32, write: bool, line: u32, step: usize) {
        let n = self.clocks.len();
        let me = &self.clocks[t as usize];
        let epoch = me.0[t as usize];
        let second = Access {
            thread: t,
            line,
            write,
            step,
        };
        let hist = self.cells.entry(cell).or_insert_with(|| CellHistory {
            writes: vec![None; n],
            reads: vec![None; n],
        });
        // Every other thread's last write races with any access it is not ordered before;
        // its last read races with a write. Checking each thread's last access (not only
        // the last one overall, as FastTrack does) finds every pair of racing locations
        // that some explored execution makes adjacent, at a cost of one clock per cell.
        for u in 0..n {
            if u == t as usize {
                continue;
            }
            let mut check = |last: &Option<(u32, u32, usize)>, w: bool| {
                if let Some((e, l, s)) = *last
                    && e > me.0[u]
                {
                    self.races.push(Race {
                        cell,
                        first: Access {
                            thread: u as ThreadId,
                            line: l,
                            write: w,
                            step: s,
                        },
                        second: second.clone(),
                    });
                }
            };
            check(&hist.writes[u], true);
            if write {
                check(&hist.reads[u], false);
            }
        }
        let slot = if write {
            &mut hist.writes[t as usize]
        } else {
            &mut hist.reads[t as usize]
        };
        *slot = Some((epoch, line, step));
    }
}

/// The last write and the last read of one cell by each thread: (epoch, line, step).
#[derive(Clone)]
struct CellHistory {
    writes: Vec<Option<(u32, u32, usize)>>,
    reads: Vec<Option<(u32, u32, usize)>>,
}

/// The races at one state, for a search that visits each state once (`--reduction
/// states`): two threads whose next steps are both enabled and access the same `[shared]`
/// cell, one of them writing, unless both steps are `with atomic:` blocks (a block
/// against a plain access is a race, as happens-before says). Such a pair can run in
/// either order, so it is not ordered by happens-before in the execution that takes them
/// one after the other; unless both fail, for a step that fails ends the execution
/// before the other's access (the race is told in the order whose first step does not
/// fail, the lower thread's first when neither does). Conversely, a
/// program with a race has such a state: two unordered accesses that no other
/// conflicting access orders are both next once what must come before either has run. A
/// pair that happens-before leaves unordered only because an earlier race orders it
/// (one thread reads what the other wrote without synchronization) is not found here; the
/// earlier race is. `step` is the index that the first access would have in the
/// execution.
pub fn races_at(
    prog: &Program,
    state: &crate::machine::State,
    enabled: &[(ThreadId, u32)],
    step: usize,
) -> Vec<Race> {
    use crate::frontend::ast::VarClass;
    use crate::machine::Touch;
    // Each next step's accesses to shared cells, in order, with their lines, and whether
    // the step is a `with atomic:` block (ordered with the other blocks as by one global
    // lock, but not with plain accesses: SCENARIO.md). A block's accesses, and those of
    // a step that starts a party, are found by running it on a copy of the state.
    // (cell, write, line) of each access, in order.
    type Accesses = Vec<(u32, bool, u32)>;
    let access = |t: ThreadId| -> Option<(Accesses, bool)> {
        let fp = state.footprint(prog, t);
        let shared = |cell: u32| prog.cell_class(cell) == VarClass::Shared;
        let atomic = fp.iter().any(|x| matches!(x, Touch::AtomicBlock));
        // A block's footprint is its whole body's; a step that starts, stops or looks at
        // a party (`start`, `terminate`, `join`, an end) may list cells it never
        // accesses: a fork's copy of the starter's memory, which is no access.
        let party = fp.iter().any(|x| matches!(x, Touch::Thread(_)));
        let cell = |x: &Touch| matches!(*x, Touch::Cell { cell, .. } if shared(cell));
        let by_events = atomic || (party && fp.iter().any(cell));
        let cells: Accesses = if by_events {
            let mut copy = state.clone();
            let out = copy.step(prog, crate::machine::Choice { thread: t, alt: 0 }, false);
            out.events
                .iter()
                .filter_map(|e| match *e {
                    Event::Access {
                        cell, write, line, ..
                    } if shared(cell) => Some((cell, write, line)),
                    _ => None,
                })
                .collect()
        } else {
            let line = prog.threads[t as usize].code.lines[state.threads[t as usize].pc as usize];
            fp.iter()
                .filter_map(|x| match *x {
                    Touch::Cell { cell, write } if shared(cell) => Some((cell, write, line)),
                    _ => None,
                })
                .collect()
        };
        (!cells.is_empty()).then_some((cells, atomic))
    };
    let next: Vec<(ThreadId, (Accesses, bool))> = enabled
        .iter()
        .filter_map(|e| access(e.0).map(|a| (e.0, a)))
        .collect();
    // Whether every alternative of `t`'s next step fails and so ends the execution:
    // nothing after it is a finding (taint.rs), so a race needs the other step first.
    // Run once per thread, and only for a thread with a conflict.
    let mut ended: Vec<Option<bool>> = vec![None; state.threads.len()];
    let mut ends = |t: ThreadId| {
        *ended[t as usize].get_or_insert_with(|| {
            (0..state.alternatives(prog, t)).all(|alt| {
                let mut copy = state.clone();
                let out = copy.step(prog, crate::machine::Choice { thread: t, alt }, false);
                out.failure.is_some_and(|f| f.ends_execution(prog))
            })
        })
    };
    let mut races = vec![];
    for (k, (p0, (pcells0, patomic))) in next.iter().enumerate() {
        for (q0, (qcells0, qatomic)) in &next[k + 1..] {
            if *patomic && *qatomic {
                continue; // two blocks: ordered
            }
            // The second step's first access that conflicts with the first step, and
            // the first step's last access it conflicts with (what replaying the two
            // in this order reports).
            let conflict = |pcells: &Accesses, qcells: &Accesses| {
                qcells.iter().find_map(|&(cell, qw, ql)| {
                    pcells
                        .iter()
                        .rev()
                        .find(|&&(c, pw, _)| c == cell && (pw || qw))
                        .map(|&(_, pw, pl)| (cell, (pw, pl), (qw, ql)))
                })
            };
            if conflict(pcells0, qcells0).is_none() {
                continue;
            }
            // The first step in the order that the execution reaches the second in: the
            // lower thread's, unless it fails (a step that does both, a `with atomic:`
            // block that writes and raises, found by the generated scenarios).
            let ((p, pcells), (q, qcells)) = if !ends(*p0) {
                ((p0, pcells0), (q0, qcells0))
            } else if !ends(*q0) {
                ((q0, qcells0), (p0, pcells0))
            } else {
                continue;
            };
            if let Some((cell, (pw, pl), (qw, ql))) = conflict(pcells, qcells) {
                races.push(Race {
                    cell,
                    first: Access {
                        thread: *p,
                        line: pl,
                        write: pw,
                        step,
                    },
                    second: Access {
                        thread: *q,
                        line: ql,
                        write: qw,
                        step: step + 1,
                    },
                });
            }
        }
    }
    races
}

/// The data races of one replayed execution, in the order they are found.
pub fn races_in(prog: &Program, steps: &[crate::search::TraceStep]) -> Vec<Race> {
    let mut det = RaceDetector::new(prog);
    for (i, s) in steps.iter().enumerate() {
        det.step(s.thread, i, &s.events);
    }
    det.races
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock_join() -> Clock {
        let mut a = Clock(vec![1, 5, 0]);
        a.join(&Clock(vec![2, 3, 7]));
        a
    }

    #[test]
    fn join_takes_the_maximum() {
        assert_eq!(clock_join(), Clock(vec![2, 5, 7]));
    }
}
