//! State caching (`Reduction::States`): every distinct state is explored once, with
//! every thread tried at it, and a path that reaches a state already explored stops
//! there. Exhaustive, and far smaller than the enumeration of executions where many orders
//! lead to the same states (counters under a lock, spin loops).
//!
//! A state is the machine's state without its step counters, together with whether a
//! failure came before it (no outcome or deadlock is reported after one). Races are not
//! looked for over whole executions, which are not all run, but at each state: the pairs
//! of conflicting accesses that are both next there ([`crate::detect::races::races_at`]).
//! The deviation: the search counts states, not executions (`executions` are the distinct
//! final states, and a finding's count is the number of distinct states or steps where it
//! was seen).
//!
//! A path that comes back to a state on itself has found a cycle: an execution that can
//! go round it forever, which is a livelock (it runs past `max_steps`, whatever the
//! limit). It is reported as the enumeration reports it, with the schedule of that
//! execution: the path to the cycle, then the cycle again and again up to `max_steps`.
//!
//! Pinned by tests/differential.rs (`state_caching_agrees_with_dpor`: the same findings
//! and outcomes as DPOR).

use crate::ir::{FindingKind, ThreadId};
use crate::machine::Choice;
use crate::search::explorer::Explorer;
use crate::search::symmetry::{inverse, rename_choices, representative};

impl Explorer<'_> {
    /// State caching: false when the state at node `top` was explored before, up to an
    /// exchange of interchangeable threads (`symmetry.rs`; its lock acquisitions still go
    /// into the lock-order graph). Else records the races at it.
    pub(super) fn visit_state(&mut self, top: usize) -> bool {
        let n = &self.path[top];
        let (key, _) = representative(self.prog, &n.state, self.cfg.symmetry);
        let failed = n.failed;
        let fingerprint = key.fingerprint();
        let bytes = super::memory::state_bytes(&key);
        if self.visited.insert((key, failed)) {
            self.visited_bytes += bytes;
            self.path[top].key = fingerprint;
            *self.path_keys.entry(fingerprint).or_default() += 1;
        } else {
            self.record_lock_order(top);
            if !failed && self.livelock_if_cycle(top, fingerprint) {
                // A cycle is an execution that goes on for ever, as DPOR's that runs to
                // max_steps is one: counted with the executions, not cut short.
                self.path[top].ended = true;
                self.stats.executions += 1;
            }
            return false;
        }
        let n = &self.path[top];
        let races = crate::detect::races::races_at(self.prog, &n.state, &n.enabled, top);
        for r in races {
            let n = &self.path[top];
            let ended = [r.first.thread, r.second.thread].iter().any(|&t| {
                crate::search::taint::after_failure(&n.taint, t, &n.state.footprint(self.prog, t))
            });
            if ended {
                continue; // the execution ended before it (taint.rs)
            }
            let mut schedule = self.schedule();
            for a in [&r.first, &r.second] {
                schedule.push(Choice {
                    thread: a.thread,
                    alt: 0,
                });
            }
            let key = super::explorer::race_key(self.prog, &r);
            self.record_race(r, key, &schedule);
        }
        true
    }

    /// Reports a livelock when the state at node `top` (fingerprint `key`) is the state of
    /// an earlier node of the path, up to its step counters and an exchange of
    /// interchangeable threads: the path from there is a cycle, which goes on for ever
    /// (renamed at each turn). True when it did.
    fn livelock_if_cycle(&mut self, top: usize, key: u64) -> bool {
        if !self.path_keys.contains_key(&key) {
            return false; // not on the path (the common case, found without a walk)
        }
        let prog = self.prog;
        let (here, here_to) = representative(prog, &self.path[top].state, self.cfg.symmetry);
        let Some((start, start_to)) = (0..top).rev().find_map(|i| {
            let n = &self.path[i];
            if n.key != key || n.failed {
                return None;
            }
            let (there, there_to) = representative(prog, &n.state, self.cfg.symmetry);
            (there == here).then_some((i, there_to))
        }) else {
            return false;
        };
        // The state at `top` is the one at `start` with thread t renamed turn[t].
        let back = inverse(&here_to);
        let turn: Vec<ThreadId> = start_to.iter().map(|&u| back[u as usize]).collect();
        let path = self.schedule();
        let max = self.cfg.max_steps as usize;
        let mut schedule = path[..start].to_vec();
        let mut cycle = path[start..top].to_vec();
        while schedule.len() < max {
            schedule.extend_from_slice(&cycle);
            cycle = rename_choices(&cycle, &turn);
        }
        schedule.truncate(max.max(start));
        let message = format!(
            "the execution ran past max_steps = {} without finishing",
            self.cfg.max_steps
        );
        self.record(
            FindingKind::Livelock,
            "max_steps".into(),
            message,
            schedule,
            None,
            true,
        );
        true
    }
}
