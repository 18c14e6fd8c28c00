//! The sampling searches: random walks, and probabilistic concurrency testing (PCT,
//! Burckhardt et al., ASPLOS 2010). Each runs `Config::max_executions` executions (1000
//! when unset) from the initial state, every choice drawn from a generator seeded with
//! the search's seed, so that the same seed gives the same result; neither is ever
//! complete.
//!
//! A random walk picks, at each step, an enabled thread and then one of its alternatives
//! uniformly. PCT gives the threads random priorities, runs the highest-priority enabled
//! thread, and at `depth - 1` random steps drops the running thread below all others. The
//! deviation: the paper's bound on the number of steps is not known in advance, so the
//! change points are drawn among the first `k` steps, `k` the longest execution so far.
//!
//! Pinned by tests/search.rs (seeded, replayable, PCT finds the lock-order deadlock).

use crate::machine::{Choice, State};
use crate::search::explorer::Explorer;
use crate::search::wakeup::WakeupTree;

impl Explorer<'_> {
    /// Random walks or PCT: `max_executions` (default 1000) executions from the initial
    /// state, each choice drawn from a generator seeded with `seed`. Never complete.
    pub(super) fn run_sampling(
        &mut self,
        state: State,
        failed: bool,
        seed: u64,
        depth: Option<u32>,
    ) -> bool {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let runs = self.cfg.max_executions.unwrap_or(1000);
        // PCT needs an estimate of the number of steps: the longest execution so far.
        let mut longest = 1u64;
        for _ in 0..runs {
            if let Some(t) = self.cfg.timeout
                && self.start.elapsed() >= t
            {
                self.stats.limit = Some(format!(
                    "stopped at the --timeout of {} s after {} sampled executions",
                    t.as_secs(),
                    self.stats.executions
                ));
                return false;
            }
            self.path.clear();
            let root = self.new_node(state.clone(), vec![], failed, WakeupTree::default());
            self.path.push(root);
            // PCT: thread priorities (higher runs first) from d upwards, and d - 1 change
            // points among the first `longest` steps.
            let n = self.nthreads;
            let d = depth.unwrap_or(1).max(1);
            let mut prio: Vec<u64> = (0..n as u64).map(|i| i + d as u64).collect();
            for i in (1..n).rev() {
                prio.swap(i, rng.random_range(0..=i));
            }
            let changes: Vec<u64> = (1..d).map(|_| rng.random_range(1..=longest)).collect();
            loop {
                let top = self.path.last().unwrap();
                if top.enabled.is_empty() || top.state.steps as u64 >= self.cfg.max_steps {
                    longest = longest.max(self.path.len() as u64);
                    self.end_execution();
                    break;
                }
                let enabled = top.enabled.clone();
                let step = self.path.len() as u64;
                let (thread, alts) = match depth {
                    None => enabled[rng.random_range(0..enabled.len())],
                    Some(_) => {
                        let best = |prio: &[u64]| {
                            *enabled
                                .iter()
                                .max_by_key(|(t, _)| prio[*t as usize])
                                .unwrap()
                        };
                        if let Some(k) = changes.iter().position(|c| *c == step) {
                            let (t, _) = best(&prio);
                            prio[t as usize] = k as u64; // below every initial priority
                        }
                        best(&prio)
                    }
                };
                let alt = if alts > 1 {
                    rng.random_range(0..alts)
                } else {
                    0
                };
                self.take(Choice { thread, alt });
                self.note_state();
            }
        }
        let what = match depth {
            None => "random walks".to_string(),
            Some(d) => format!("PCT with depth {d}"),
        };
        self.stats.limit = Some(format!(
            "{what}, seed {seed}: a sample, not every execution"
        ));
        false
    }
}
