//! The explorer: runs the machine over every interleaving that matters and collects
//! findings and outcomes. It sees the machine only through `State::alternatives`, `step`,
//! `footprint` and `ending`; a search strategy is a file over those.
//!
//! The map of the folder:
//! - `mod.rs`: the options ([`Config`], [`Reduction`], [`Search`]), what a search
//!   returns ([`Exploration`], [`Stats`], [`RawFinding`], [`RawOutcome`]), and
//!   [`explore`], which picks the search.
//! - `explorer.rs`: the path of nodes and the depth-first loop that the exhaustive
//!   searches share (`None`, `Sleep`, `States`, `Dpor`): taking a step with its sleep
//!   set, ending an execution, recording findings and outcomes.
//! - `dpor.rs`: optimal dynamic partial-order reduction (Abdulla et al., JACM 2017):
//!   the races of an ended execution, reversed into wakeup trees; dependency clocks.
//! - [`wakeup`]: the wakeup trees that hold those reversals.
//! - `states.rs`: state caching (`Reduction::States`).
//! - `split.rs`: the DPOR search split into tasks over worker threads (`Config::jobs`).
//! - `sampling.rs`: random walks and PCT (`Search::Random`, `Search::Pct`).
//! - `replay.rs`: [`replay()`] of a schedule step by step, with trace lines.
//! - [`shorten`]: shorter traces for findings.
//! - `schedule.rs`: schedule strings ([`format_schedule`], [`parse_schedule`]).

mod dpor;
mod explorer;
mod replay;
mod sampling;
mod schedule;
pub mod shorten;
mod split;
mod states;
pub mod wakeup;

pub use replay::{Replay, TraceStep, replay};
pub use schedule::{format_schedule, parse_schedule, parse_schedule_with};

use crate::detect::lockorder::LockOrder;
use crate::detect::lost_writes::LostWrites;
use crate::detect::races::Race;
use crate::ir::{FindingKind, Program, Value};
use crate::machine::{Choice, Policy};
use explorer::Explorer;
use std::time::{Duration, Instant};

/// How much of the interleaving space to explore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// Every choice at every state.
    None,
    /// Dynamic partial-order reduction with sleep sets.
    Dpor,
    /// Sleep sets alone (Godefroid): every thread that is awake is tried at every state.
    /// One execution per class too, by a much simpler argument than DPOR's, but with
    /// many executions cut short: the reference that the tests check DPOR against where
    /// the plain enumeration is too slow.
    Sleep,
    /// State caching: every distinct state is explored once (with every thread tried at
    /// it), and a path that reaches a state already explored stops there. Races are the
    /// pairs of conflicting accesses that are both next at some state
    /// ([`crate::detect::races::races_at`]). Exhaustive, and far smaller where many orders lead to
    /// the same states (counters under a lock, spin loops); but it counts states, not
    /// executions: `executions` are the distinct final states, and a finding's count is
    /// the number of distinct states or steps where it was seen.
    States,
}

/// Which executions to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// Every class of executions (depth-first, with `Config::reduction`).
    Exhaustive,
    /// Random walks: at each step, a thread (and alternative) picked uniformly, from a
    /// seeded generator.
    Random { seed: u64 },
    /// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): random thread
    /// priorities, the highest-priority enabled thread runs, and at `depth - 1` random
    /// steps the running thread drops below all others. Finds every bug of depth `depth`
    /// with probability at least 1/(n k^(depth-1)) per execution.
    Pct { seed: u64, depth: u32 },
}

/// Called now and then during a long search with the statistics so far (for a progress
/// display; the library itself never prints).
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(&Stats) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// Limits and search options (the CLI builds it from flags and `[limits]`).
#[derive(Clone, Debug)]
pub struct Config {
    pub max_steps: u64,
    /// The exhaustive search stops after this many executions; the sampling searches run
    /// this many (1000 when unset).
    pub max_executions: Option<u64>,
    pub timeout: Option<Duration>,
    pub reduction: Reduction,
    pub search: Search,
    /// Exhaustive search only: explore only executions with at most this many
    /// preemptions (switches away from a thread that could have gone on), as CHESS does.
    /// The search is then incomplete when the bound cut anything off.
    pub preemption_bound: Option<u32>,
    pub progress: Option<Progress>,
    /// Exhaustive DPOR only: split the search into tasks over this many worker threads
    /// (see `explore_split`); the result does not depend on the number (with
    /// `max_executions`, the limit applies to each task).
    pub jobs: Option<usize>,
    /// With `jobs`: split only a search that needs more than this many executions (a
    /// smaller one runs alone, as the single search).
    pub split_after: u64,
    /// Count the equivalence classes of the executions explored (`Stats::classes`): a
    /// check on the reduction, for tests; costs memory for every execution.
    pub count_classes: bool,
    /// The semantics core's policies (tests run the explorer with the engines' too).
    pub policy: Policy,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_steps: 10_000,
            max_executions: None,
            timeout: None,
            reduction: Reduction::Dpor,
            search: Search::Exhaustive,
            preemption_bound: None,
            progress: None,
            jobs: None,
            count_classes: false,
            split_after: 500,
            policy: Policy::default(),
        }
    }
}

/// A finding as the explorer saw it: enough to group it and to replay it.
#[derive(Clone, Debug)]
pub struct RawFinding {
    pub kind: FindingKind,
    /// Findings with the same key are the same bug.
    pub key: String,
    pub message: String,
    pub schedule: Vec<Choice>,
    /// For a data race: both accesses.
    pub race: Option<Race>,
    /// Executions in which it was found.
    pub count: u64,
}

/// One observed final outcome.
#[derive(Clone, Debug)]
pub struct RawOutcome {
    pub values: Vec<Value>,
    pub count: u64,
    pub schedule: Vec<Choice>,
}

#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub executions: u64,
    /// Executions cut short because every enabled thread was asleep (redundant).
    pub redundant: u64,
    pub steps: u64,
    /// Distinct states reached (by hash).
    pub states: u64,
    pub max_depth: usize,
    pub complete: bool,
    /// Which limit stopped the search, if one did.
    pub limit: Option<String>,
    pub elapsed: Duration,
    /// With `Config::count_classes`: how many Mazurkiewicz classes the explored
    /// executions fall into (an optimal reduction explores exactly one execution each).
    pub classes: u64,
}

/// Everything an exploration found.
#[derive(Clone, Debug, Default)]
pub struct Exploration {
    pub findings: Vec<RawFinding>,
    pub outcomes: Vec<RawOutcome>,
    pub stats: Stats,
    /// The lock-order graph over every explored execution.
    pub lock_order: LockOrder,
    /// What processes wrote that others read, over every explored execution.
    pub lost_writes: LostWrites,
}

/// Explores `prog` under `cfg`.
pub fn explore(prog: &Program, cfg: &Config) -> Exploration {
    if cfg.preemption_bound.is_some() && cfg.reduction != Reduction::None {
        // Bounding prunes the tree that the reduction's correctness argument relies on:
        // the bounded search enumerates plainly.
        let plain = Config {
            reduction: Reduction::None,
            ..cfg.clone()
        };
        return Explorer::new(prog, &plain).run();
    }
    if let Some(jobs) = cfg.jobs
        && cfg.search == Search::Exhaustive
        && cfg.reduction == Reduction::Dpor
    {
        // A small search is not worth splitting (the split's first steps cost about what
        // a second core saves): it runs alone, and its result is the single search's.
        let after = cfg.split_after;
        let start = Instant::now();
        if after > 0 {
            let first = Config {
                max_executions: Some(cfg.max_executions.map_or(after, |m| m.min(after))),
                ..cfg.clone()
            };
            let alone = Explorer::new(prog, &first).run();
            let limited_by_user = cfg.max_executions.is_some_and(|m| m <= after);
            let timed_out = cfg.timeout.is_some_and(|t| alone.stats.elapsed >= t);
            if alone.stats.complete || limited_by_user || timed_out {
                return alone;
            }
        }
        return split::explore_split(prog, cfg, jobs.max(1), start);
    }
    Explorer::new(prog, cfg).run()
}
