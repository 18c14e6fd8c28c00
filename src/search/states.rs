//! State caching (`Reduction::States`): every distinct state is explored once, with
//! every thread tried at it, and a path that reaches a state already explored stops
//! there. Exhaustive, and far smaller than the enumeration of executions where many orders
//! lead to the same states (counters under a lock, spin loops).
//!
//! A state is the machine's state without its step counters, together with whether a
//! failure came before it (no outcome or deadlock is reported after one). Races are not
//! looked for over whole executions, which are not all run, but at each state: the pairs
//! of conflicting accesses that are both next there ([`crate::detect::races::races_at`]);
//! and by happens-before along each path explored ([`PathRaces`]), for the pairs that are
//! never next together: one unordered only because an earlier race orders it, and one
//! whose second access happens only after an observation that is no edge (`is_alive()`
//! False, then a read of what the finished thread wrote).
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

use crate::detect::races::{Race, RaceDetector};
use crate::ir::{FindingKind, ThreadId};
use crate::machine::Choice;
use crate::search::explorer::{Explorer, race_key};
use crate::search::symmetry::{inverse, rename_choices, representative};
use std::collections::BTreeMap;

/// Happens-before along the path, for the races that no state shows as two next
/// accesses: one detector per node (the path's steps up to it), and the races those
/// steps showed, by key: an example (the shortest schedule) and the steps that showed it.
#[derive(Default)]
pub(super) struct PathRaces {
    detectors: Vec<RaceDetector>,
    found: BTreeMap<String, (Race, Vec<Choice>, u64)>,
}

impl Explorer<'_> {
    /// State caching: false when the state at node `top` was explored before, up to an
    /// exchange of interchangeable threads (`symmetry.rs`; its lock acquisitions still go
    /// into the lock-order graph). Else records the races at it.
    pub(super) fn visit_state(&mut self, top: usize) -> bool {
        self.follow_happens_before(top);
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

    /// Feeds the step into node `top` (and any before it not fed yet) to the path's
    /// happens-before detector, keeping the races it shows. Every node pushed comes here,
    /// one explored before too: the step into it is on a path all the same.
    fn follow_happens_before(&mut self, top: usize) {
        let races = &mut self.path_races;
        races.detectors.truncate(top);
        while races.detectors.len() <= top {
            let i = races.detectors.len();
            let Some(before) = i.checked_sub(1) else {
                races.detectors.push(RaceDetector::new(self.prog));
                continue;
            };
            let mut det = races.detectors[before].clone();
            let n = &self.path[before];
            det.step(n.choice.unwrap().thread, before, &n.events);
            for r in std::mem::take(&mut det.races) {
                if n.tainted {
                    continue; // the execution ended before it (taint.rs)
                }
                let key = race_key(self.prog, &r);
                let schedule = || self.path[..i].iter().map(|n| n.choice.unwrap()).collect();
                match races.found.get_mut(&key) {
                    Some(e) => {
                        if i < e.1.len() {
                            (e.0, e.1) = (r, schedule());
                        }
                        e.2 += 1;
                    }
                    None => {
                        races.found.insert(key, (r, schedule(), 1));
                    }
                }
            }
            races.detectors.push(det);
        }
    }

    /// At the end of a search with state caching: the races that happens-before showed
    /// along the paths and that no state showed as two next accesses (where whether a
    /// step happens at all depends on an order that is not happens-before: a thread
    /// reads after seeing another finished with `is_alive()`), counted in the steps
    /// that showed them.
    pub(super) fn add_path_races(&mut self) {
        for (key, (r, schedule, count)) in std::mem::take(&mut self.path_races.found) {
            if self
                .findings
                .contains_key(&(FindingKind::DataRace, key.clone()))
            {
                continue;
            }
            self.record_race(r, key.clone(), &schedule);
            self.findings
                .get_mut(&(FindingKind::DataRace, key))
                .unwrap()
                .count = count;
        }
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
