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

use crate::ir::ThreadId;
use crate::machine::{Choice, State};
use crate::search::explorer::Explorer;
use crate::search::wakeup::WakeupTree;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// PCT's draw for one execution: the threads' priorities (higher runs first) and the
/// steps at which the running thread drops below all others.
struct Priorities {
    prio: Vec<u64>,
    changes: Vec<u64>,
}

impl Priorities {
    /// Draws the priorities of `n` threads for PCT with `depth` (random walks draw them
    /// too, without using them), the change points among the first `longest` steps.
    fn draw(rng: &mut ChaCha8Rng, n: usize, depth: Option<u32>, longest: u64) -> Self {
        // PCT: thread priorities (higher runs first) from d upwards, and d - 1 change
        // points among the first `longest` steps.
        let d = depth.unwrap_or(1).max(1);
        let mut prio: Vec<u64> = (0..n as u64).map(|i| i + d as u64).collect();
        for i in (1..n).rev() {
            prio.swap(i, rng.random_range(0..=i));
        }
        let changes: Vec<u64> = (1..d).map(|_| rng.random_range(1..=longest)).collect();
        Priorities { prio, changes }
    }

    /// The enabled thread (with its number of alternatives) that runs at step `step`.
    fn pick(&mut self, enabled: &[(ThreadId, u32)], step: u64) -> (ThreadId, u32) {
        let best = |prio: &[u64]| {
            *enabled
                .iter()
                .max_by_key(|(t, _)| prio[*t as usize])
                .unwrap()
        };
        if let Some(k) = self.changes.iter().position(|c| *c == step) {
            let (t, _) = best(&self.prio);
            self.prio[t as usize] = k as u64; // below every initial priority
        }
        best(&self.prio)
    }
}

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
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let runs = self.cfg.max_executions.unwrap_or(1000);
        // PCT needs an estimate of the number of steps: the longest execution so far.
        let mut longest = 1u64;
        for _ in 0..runs {
            if self.sampling_timed_out() {
                return false;
            }
            let length = self.sample(&state, failed, &mut rng, depth, longest);
            longest = longest.max(length);
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

    /// Whether the time limit is up (and if so, says so in the statistics).
    fn sampling_timed_out(&mut self) -> bool {
        if let Some(t) = self.cfg.timeout
            && self.start.elapsed() >= t
        {
            self.stats.limit = Some(format!(
                "stopped at the --timeout of {} s after {} sampled executions",
                t.as_secs(),
                self.stats.executions
            ));
            return true;
        }
        false
    }

    /// One sampled execution from `state` (PCT's change points among the first `longest`
    /// steps); returns its length, the number of nodes on its path.
    fn sample(
        &mut self,
        state: &State,
        failed: bool,
        rng: &mut ChaCha8Rng,
        depth: Option<u32>,
        longest: u64,
    ) -> u64 {
        self.path.clear();
        let mut root = self.new_node(state.clone(), vec![], failed, WakeupTree::default());
        root.failures = self.initial_failures.clone();
        self.path.push(root);
        let mut priorities = Priorities::draw(rng, self.nthreads, depth, longest);
        loop {
            let top = self.path.last().unwrap();
            if top.enabled.is_empty() || top.state.steps as u64 >= self.cfg.max_steps {
                let length = self.path.len() as u64;
                self.end_execution();
                return length;
            }
            let enabled = top.enabled.clone();
            let step = self.path.len() as u64;
            let (thread, alts) = match depth {
                None => enabled[rng.random_range(0..enabled.len())],
                Some(_) => priorities.pick(&enabled, step),
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
}
