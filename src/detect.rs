//! Detectors that read one execution: the happens-before data-race detector (vector
//! clocks over every synchronization edge of SCENARIO.md, with FastTrack's epochs for the
//! last write) and the deadlock explanation.

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub thread: ThreadId,
    pub line: u32,
    pub write: bool,
    /// Index of the step (0-based) in the execution.
    pub step: usize,
}

/// Two conflicting accesses to `cell` not ordered by happens-before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Race {
    pub cell: u32,
    pub first: Access,
    pub second: Access,
}

/// Incremental happens-before tracking over one execution.
pub struct RaceDetector {
    clocks: Vec<Clock>,
    chans: HashMap<Chan, Clock>,
    sems: HashMap<u32, (u64, VecDeque<Clock>)>,
    queues: HashMap<u32, VecDeque<Clock>>,
    /// Per cell: the last write (thread, epoch, line, step) and the reads since.
    writes: HashMap<u32, (ThreadId, u32, u32, usize)>,
    reads: HashMap<u32, Vec<(ThreadId, u32, u32, usize)>>,
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
            writes: HashMap::new(),
            reads: HashMap::new(),
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
        let me = &self.clocks[t as usize];
        let epoch = me.0[t as usize];
        let second = Access {
            thread: t,
            line,
            write,
            step,
        };
        if let Some(&(wt, we, wl, ws)) = self.writes.get(&cell)
            && wt != t
            && we > me.0[wt as usize]
        {
            self.races.push(Race {
                cell,
                first: Access {
                    thread: wt,
                    line: wl,
                    write: true,
                    step: ws,
                },
                second: second.clone(),
            });
        }
        if write {
            if let Some(rs) = self.reads.get(&cell) {
                for &(rt, re, rl, rs_) in rs {
                    if rt != t && re > me.0[rt as usize] {
                        self.races.push(Race {
                            cell,
                            first: Access {
                                thread: rt,
                                line: rl,
                                write: false,
                                step: rs_,
                            },
                            second: second.clone(),
                        });
                    }
                }
            }
            self.reads.remove(&cell);
            self.writes.insert(cell, (t, epoch, line, step));
        } else {
            let rs = self.reads.entry(cell).or_default();
            rs.retain(|r| r.0 != t);
            rs.push((t, epoch, line, step));
        }
    }
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
