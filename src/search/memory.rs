//! What the search stores, estimated in bytes: the path (each node's state, sleep set,
//! wakeup tree, clock and events, and DPOR's clocks summarized by place), the set of
//! distinct state fingerprints, and with `Reduction::States` the states explored. The
//! estimate counts what is stored (lengths times sizes), not what the allocator holds,
//! so it is the same on every run and every machine: `Stats::peak_memory` is part of
//! the deterministic output, and the memory limit (`Config::max_memory`) stops a search
//! at the same point every time, reported INCOMPLETE, instead of the operating system
//! killing it.
//!
//! Measured at every leaf of the search (where the path is at its deepest), so the peak
//! is the peak over the leaves; pinned by tests/explorer/memory.rs (a limit stops a
//! search with a message, and the peak grows with the search).
//!
//! With state caching every revisit of a state is a leaf, at any depth, so walking the
//! path at each leaf made deep searches quadratic. There the nodes below the top do not
//! change while they are below it (no wakeup tree or sleep set is added to after the
//! step from them is taken), so each node keeps the size of the path below it, summed
//! when it is pushed ([`Explorer::path_bytes_below`]), and a leaf's measure is that sum
//! plus its own size: the same number, in constant time. DPOR adds to the wakeup trees
//! of nodes below the top, so it walks the path (once per execution, which it runs
//! anyway).

use crate::machine::State;
use crate::search::Reduction;
use crate::search::explorer::{Explorer, Node};
use crate::search::wakeup::WakeNode;
use std::mem::size_of;

/// The default of `Config::max_memory`: 2 GiB of stored search data.
pub const DEFAULT_MAX_MEMORY: u64 = 2 << 30;

/// A fingerprint in the set of distinct states: the hash and the table's overhead.
const FINGERPRINT_BYTES: u64 = 16;

/// A state's size: the struct and the vectors it owns (lists are shared, by pointer).
pub(super) fn state_bytes(s: &State) -> u64 {
    let threads: usize = s
        .threads
        .iter()
        .map(|t| {
            size_of::<crate::machine::ThreadState>()
                + t.locals.len() * size_of::<Option<crate::ir::Value>>()
                + t.spin.len() * size_of::<crate::machine::Spin>()
        })
        .sum();
    (size_of::<State>()
        + s.cells.len() * size_of::<crate::ir::Value>()
        + s.objects.len() * size_of::<crate::machine::ObjState>()
        + s.lists.len() * size_of::<std::sync::Arc<[crate::ir::Value]>>()
        + threads) as u64
}

fn node_bytes(n: &Node) -> u64 {
    let sleepers = n.explored.len() + n.sleep.len();
    size_of::<Node>() as u64
        + state_bytes(&n.state)
        + n.wakeup.size() * size_of::<WakeNode>() as u64
        + (sleepers * size_of::<(crate::ir::ThreadId, crate::machine::Footprint)>()) as u64
        + (n.clock.len() * size_of::<u32>()) as u64
        + (n.events.len() * size_of::<crate::machine::Event>()) as u64
        + (n.enabled.len() * 8 + n.done.len()) as u64
}

impl Explorer<'_> {
    /// Measures what the search stores now; keeps the peak in the statistics.
    pub(super) fn measure_memory(&mut self) {
        let top = self.path.last().unwrap();
        let path = if self.cfg.reduction == Reduction::States {
            let sum = top.below + node_bytes(top);
            // The sums agree with the walk (checked in test builds, on short paths).
            debug_assert!(
                self.path.len() > 64 || sum == self.path.iter().map(node_bytes).sum::<u64>()
            );
            sum
        } else {
            // DPOR's summarized clocks (clocks.rs) are part of the path too.
            let clocks = match self.cfg.reduction {
                Reduction::Dpor => self.path_clocks.bytes(),
                _ => 0,
            };
            self.path.iter().map(node_bytes).sum::<u64>() + clocks
        };
        let now = path + self.states.len() as u64 * FINGERPRINT_BYTES + self.visited_bytes;
        self.memory = now;
        self.stats.peak_memory = self.stats.peak_memory.max(now);
    }

    /// The size of the path up to and including node `top`, for the node pushed above it
    /// (its `below`; see the module docs).
    pub(super) fn path_bytes_below(&self, top: usize) -> u64 {
        let n = &self.path[top];
        n.below + node_bytes(n)
    }

    /// True (with the limit said in the statistics) when the search stores more than
    /// `Config::max_memory`.
    pub(super) fn out_of_memory(&mut self, paths: u64) -> bool {
        let Some(max) = self.cfg.max_memory else {
            return false;
        };
        if self.memory < max {
            return false;
        }
        self.stats.limit = Some(format!(
            "stopped at the memory limit (--max-memory {} MiB) after {paths} executions: the \
             search stored {} MiB; to go further: a bigger --max-memory, or a smaller \
             --max-steps, or --max-executions",
            max >> 20,
            self.memory >> 20
        ));
        true
    }
}
