//! The dependency clocks of the path, kept as it grows and shrinks.
//!
//! DPOR gives each step a vector clock: the join of its thread's previous clock (or of
//! the step that started the thread) and the clocks of every earlier step it depends
//! on, plus one for its own thread (dpor.rs reads them to find the races of an
//! execution). Walking the path back for each new step costs its depth, so a 10,000-step
//! execution cost 50 million comparisons of footprints. Here the clocks are summarized
//! per place ([`crate::machine::place`]: a cell, an object, a barrier round, ...): the
//! join of the clocks of the steps that wrote there, and of all that touched it. A step
//! that writes a place depends on every earlier touch of it, one that reads depends on
//! the writes, so the join over its touches is the join over the steps it depends on:
//! the same clock as the walk, in time proportional to its footprint.
//!
//! The steps are fed lazily, each once while it stays on the path, and an undo log
//! restores the summaries when the path goes back up (as `PathLocks` does for the lock
//! order). The summaries also take the thread's own earlier steps, which the walk left
//! out; their clocks are below the thread's last one, so the join is unchanged.

use crate::ir::ThreadId;
use crate::machine::{Touch, place};
use rustc_hash::FxHashMap;
use std::mem::size_of;

/// The joined clocks of the steps that touched a place.
#[derive(Clone, Debug, Default)]
struct Seen {
    /// The steps that wrote it.
    writes: Vec<u32>,
    /// All the steps that touched it.
    all: Vec<u32>,
}

/// What a fed step changed, to put back.
#[derive(Clone, Debug)]
enum Undo {
    Thread(ThreadId, Option<Vec<u32>>),
    Place(Touch, Option<Seen>),
}

impl Undo {
    /// The clock entries it holds.
    fn entries(&self) -> usize {
        match self {
            Undo::Thread(_, c) => c.as_ref().map_or(0, Vec::len),
            Undo::Place(_, s) => s.as_ref().map_or(0, |s| s.writes.len() + s.all.len()),
        }
    }
}

/// The clocks of the steps fed so far, summarized.
#[derive(Clone, Debug, Default)]
pub(super) struct PathClocks {
    /// The steps fed, from the path's start: they are still the path's.
    fed: usize,
    /// Per thread: the clock of its last step, or of the step that started it (with its
    /// own entry zero).
    last: Vec<Option<Vec<u32>>>,
    places: FxHashMap<Touch, Seen>,
    /// Per fed step, from its index on: what it changed.
    undo: Vec<(usize, Undo)>,
    /// The clock entries the undo log holds (for [`PathClocks::bytes`]).
    undo_entries: usize,
}

fn join(into: &mut [u32], c: &[u32]) {
    for (a, b) in into.iter_mut().zip(c) {
        *a = (*a).max(*b);
    }
}

impl PathClocks {
    /// The path changes from step `depth` on: the steps fed from there are forgotten.
    pub(super) fn truncate(&mut self, depth: usize) {
        if depth >= self.fed {
            return;
        }
        while self.undo.last().is_some_and(|u| u.0 >= depth) {
            let (_, undo) = self.undo.pop().unwrap();
            self.undo_entries -= undo.entries();
            match undo {
                Undo::Thread(t, before) => self.last[t as usize] = before,
                Undo::Place(p, Some(before)) => {
                    self.places.insert(p, before);
                }
                Undo::Place(p, None) => {
                    self.places.remove(&p);
                }
            }
        }
        self.fed = depth;
    }

    /// The number of steps of the path fed so far.
    pub(super) fn fed(&self) -> usize {
        self.fed
    }

    /// Feeds the path's next step: its thread, footprint and clock, and the threads it
    /// started.
    pub(super) fn feed(&mut self, t: ThreadId, fp: &[Touch], clock: &[u32], started: &[ThreadId]) {
        let i = self.fed;
        self.fed += 1;
        if self.last.len() < clock.len() {
            self.last.resize(clock.len(), None);
        }
        self.set_last(i, t, clock.to_vec());
        for &s in started {
            let mut c = clock.to_vec();
            c[s as usize] = 0;
            self.set_last(i, s, c);
        }
        for x in fp {
            let (p, writes) = place(x);
            let before = self.places.get(&p).cloned();
            let seen = self.places.entry(p).or_insert_with(|| Seen {
                writes: vec![0; clock.len()],
                all: vec![0; clock.len()],
            });
            if writes {
                join(&mut seen.writes, clock);
            }
            join(&mut seen.all, clock);
            self.push_undo(i, Undo::Place(p, before));
        }
    }

    fn set_last(&mut self, i: usize, t: ThreadId, c: Vec<u32>) {
        let before = self.last[t as usize].replace(c);
        self.push_undo(i, Undo::Thread(t, before));
    }

    fn push_undo(&mut self, i: usize, undo: Undo) {
        self.undo_entries += undo.entries();
        self.undo.push((i, undo));
    }

    /// What the summaries and their undo log store, in bytes (memory.rs), in constant
    /// time: every clock has one entry per thread.
    pub(super) fn bytes(&self) -> u64 {
        let n = self.last.len();
        let last = n * (size_of::<Option<Vec<u32>>>() + n * size_of::<u32>());
        let places = self.places.len() * (size_of::<(Touch, Seen)>() + 2 * n * size_of::<u32>());
        let undo =
            self.undo.len() * size_of::<(usize, Undo)>() + self.undo_entries * size_of::<u32>();
        (size_of::<Self>() + last + places + undo) as u64
    }

    /// The clock of a step by `t` with footprint `fp` after the steps fed, among
    /// `nthreads` threads.
    pub(super) fn clock(&self, nthreads: usize, t: ThreadId, fp: &[Touch]) -> Vec<u32> {
        let mut c = self
            .last
            .get(t as usize)
            .cloned()
            .flatten()
            .unwrap_or_else(|| vec![0; nthreads]);
        for x in fp {
            let (p, writes) = place(x);
            if let Some(seen) = self.places.get(&p) {
                join(&mut c, if writes { &seen.all } else { &seen.writes });
            }
        }
        c[t as usize] += 1;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(cell: u32, write: bool) -> Touch {
        Touch::Cell { cell, write }
    }

    #[test]
    fn the_byte_count_follows_the_undo_log_up_and_down() {
        let mut c = PathClocks::default();
        c.feed(0, &[cell(0, true)], &[1, 0], &[1]);
        let one = c.bytes();
        c.feed(1, &[cell(0, false), cell(1, true)], &[1, 1], &[]);
        let two = c.bytes();
        c.feed(0, &[cell(1, true)], &[2, 1], &[]);
        // Each step stores more: its undo entries and the clocks they put back.
        assert!(one < two && two < c.bytes(), "{one} {two} {}", c.bytes());
        c.truncate(1);
        assert_eq!(
            c.bytes(),
            one,
            "going back up gives back what the steps stored"
        );
        assert_eq!(c.clock(2, 1, &[cell(0, false)]), vec![1, 1]);
    }
}
