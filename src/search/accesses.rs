//! The steps of an execution indexed by place and thread, for DPOR's race detection.
//!
//! A step races with the steps before it that it depends on, that another thread took,
//! and that do not happen before it (dpor.rs, `races_with`). Going over all the earlier
//! steps for each step made the detection quadratic in the execution's length: 50
//! million footprint comparisons for one execution of 10,000 steps. Indexed by place
//! ([`crate::machine::place`]) and thread, the candidates are found from the step's own
//! touches: where it writes, every earlier touch of the place by another thread; where
//! it reads, the writes. A thread's steps at a place are in path order and so are their
//! own entries in the clocks, so the walk back over one thread's list stops at its
//! first step that happens before: all the earlier ones do too. What is left is the
//! steps that race, and one more per place and thread.
//!
//! The candidates are the same steps, in the same order (latest first), as the walk over
//! the whole path gives: `races_with` checks that in test builds, on short executions.

use crate::ir::ThreadId;
use crate::machine::{Touch, place};
use crate::search::explorer::Node;
use rustc_hash::FxHashMap;

/// One thread's steps at one place, by their index on the path.
#[derive(Clone, Debug, Default)]
struct Steps {
    all: Vec<usize>,
    writes: Vec<usize>,
}

/// The steps of the execution on a path, by place and thread.
pub(super) struct Accesses {
    places: FxHashMap<Touch, Vec<Steps>>,
}

impl Accesses {
    /// Indexes the steps taken from nodes `0..end` of `path`.
    pub(super) fn new(path: &[Node], end: usize, nthreads: usize) -> Self {
        let mut places: FxHashMap<Touch, Vec<Steps>> = FxHashMap::default();
        for (i, n) in path[..end].iter().enumerate() {
            let t = n.choice.unwrap().thread as usize;
            for x in &n.fp {
                let (p, writes) = place(x);
                let by_thread = places
                    .entry(p)
                    .or_insert_with(|| vec![Steps::default(); nthreads]);
                let s = &mut by_thread[t];
                if s.all.last() != Some(&i) {
                    s.all.push(i);
                }
                if writes && s.writes.last() != Some(&i) {
                    s.writes.push(i);
                }
            }
        }
        Accesses { places }
    }

    /// The steps before node `k` that a step of `p` with footprint `fp` depends on,
    /// taken by other threads and not ordered before it by `pclock` (p's clock before
    /// the step), latest first.
    pub(super) fn candidates(
        &self,
        path: &[Node],
        k: usize,
        p: ThreadId,
        fp: &[Touch],
        pclock: &[u32],
    ) -> Vec<usize> {
        let mut out = vec![];
        for x in fp {
            let (at, writes) = place(x);
            let Some(by_thread) = self.places.get(&at) else {
                continue;
            };
            for (q, s) in by_thread.iter().enumerate() {
                if q == p as usize {
                    continue;
                }
                let list = if writes { &s.all } else { &s.writes };
                let before_k = list.partition_point(|&i| i < k);
                for &i in list[..before_k].iter().rev() {
                    if pclock[q] >= path[i].clock[q] {
                        break; // happens before p, and so do q's earlier steps
                    }
                    out.push(i);
                }
            }
        }
        out.sort_unstable_by(|a, b| b.cmp(a));
        out.dedup();
        out
    }
}
