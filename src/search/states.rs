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
//! Pinned by tests/differential.rs (`state_caching_agrees_with_dpor`: the same findings
//! and outcomes as DPOR).

use crate::machine::Choice;
use crate::search::explorer::Explorer;

impl Explorer<'_> {
    /// State caching: false when the state at node `top` was explored before (its lock
    /// acquisitions still go into the lock-order graph). Else records the races at it.
    pub(super) fn visit_state(&mut self, top: usize) -> bool {
        let n = &self.path[top];
        let mut key = n.state.clone();
        key.steps = 0;
        for t in &mut key.threads {
            t.steps = 0;
        }
        if !self.visited.insert((key, n.failed)) {
            self.record_lock_order(top);
            return false;
        }
        let races = crate::detect::races::races_at(self.prog, &n.state, &n.enabled, top);
        for r in races {
            let mut schedule = self.schedule();
            for a in [&r.first, &r.second] {
                schedule.push(Choice {
                    thread: a.thread,
                    alt: 0,
                });
            }
            self.record_race(r, schedule);
        }
        true
    }
}
