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
//!   the races of an ended execution, reversed into wakeup trees; dependency clocks
//!   (kept per place by `clocks.rs`); `accesses.rs` indexes an execution's steps by
//!   place for the race detection.
//! - [`wakeup`]: the wakeup trees that hold those reversals.
//! - `states.rs`: state caching (`Reduction::States`).
//! - `parallel.rs`: the DPOR search on several threads (`Config::jobs`), its report the
//!   single search's: a coordinator and speculative tasks.
//! - `split.rs`: the DPOR search split into fixed tasks, for `run --partition`.
//! - `sampling.rs`: random walks and PCT (`Search::Random`, `Search::Pct`).
//! - `replay.rs`: [`replay()`] of a schedule step by step, with trace lines.
//! - [`shorten`]: shorter traces for findings.
//! - `schedule.rs`: schedule strings ([`format_schedule`], [`parse_schedule`]).

mod accesses;
mod clocks;
mod dpor;
mod explorer;
mod memory;
mod parallel;
mod replay;
mod sampling;
mod schedule;
pub mod shorten;
mod split;
mod states;
mod symmetry;
mod taint;
pub mod wakeup;

pub use memory::DEFAULT_MAX_MEMORY;
pub use replay::{Replay, TraceStep, replay, replays_to_itself};
pub use schedule::{format_schedule, parse_schedule, parse_schedule_named};
pub use split::{ShareResult, merge_shares};

use crate::detect::lockorder::LockOrder;
use crate::detect::lost_writes::LostWrites;
use crate::detect::races::Race;
use crate::ir::{FindingKind, Program, Value};
use crate::machine::{Choice, Policy};
use explorer::Explorer;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
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

/// The search's budget in steps (`Config::step_budget`) that the command line and
/// `simrace check` set when neither `--max-executions` nor the scenario's `[limits]` sets
/// a budget: every run ends, and a search that hits it is reported INCOMPLETE with what
/// to try.
pub const DEFAULT_STEP_BUDGET: u64 = 1_000_000;

/// `max_steps` when neither the command line nor the scenario's `[limits]` sets it.
pub const DEFAULT_MAX_STEPS: u64 = 10_000;

/// The scenario's `max_steps`, or the default.
pub fn max_steps_of(prog: &Program) -> u64 {
    prog.max_steps.unwrap_or(DEFAULT_MAX_STEPS)
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
    /// Exhaustive DPOR only: run the search on this many threads (parallel.rs); the
    /// result is the single search's, but for `Stats::peak_memory` and
    /// `Stats::parallel`. With `run --partition`, the threads take the share's tasks.
    pub jobs: Option<usize>,
    /// With `jobs`: hand out tasks only once the search has run this many executions (a
    /// small search is not worth it); with `run --partition`, split only a search that
    /// needs more.
    pub split_after: u64,
    /// With `jobs`: the depth of the subtrees that are tasks (parallel.rs). The result
    /// does not depend on it; tests vary it.
    pub task_depth: usize,
    /// Count the equivalence classes of the executions explored (`Stats::classes`): a
    /// check on the reduction, for tests; costs memory for every execution.
    pub count_classes: bool,
    /// The semantics core's policies (tests run the explorer with the engines' too).
    pub policy: Policy,
    /// A budget for the whole search in steps: the steps taken, and each ended execution's
    /// length again, for its analysis (deterministic, unlike a timeout):
    /// the search stops there, incomplete, and says what to try. The command line sets a
    /// default when no `--max-executions` is given, so that no run goes on silently.
    pub step_budget: Option<u64>,
    /// Set from outside (on Ctrl-C) to stop the search where it is: the result is the
    /// partial one, marked interrupted.
    pub stop: Option<Arc<AtomicBool>>,
    /// Exhaustive DPOR only: when the executions greatly outnumber the distinct states
    /// they reach (cyclic programs: spin loops, polling, backoff), start again with state
    /// caching, which explores each state once, and say so in `Stats::switched`.
    pub auto_states: bool,
    /// State caching only: explore one state of each class of states equal up to an
    /// exchange of interchangeable threads (`symmetry.rs`). On by default; tests turn it
    /// off to compare.
    pub symmetry: bool,
    /// Exhaustive search: stop, incomplete, when the search stores more than this many
    /// bytes (estimated from what it stores, so deterministic: memory.rs); each task of a
    /// split search on its own.
    pub max_memory: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_steps: DEFAULT_MAX_STEPS,
            max_executions: None,
            timeout: None,
            reduction: Reduction::Dpor,
            search: Search::Exhaustive,
            preemption_bound: None,
            progress: None,
            jobs: None,
            count_classes: false,
            split_after: 500,
            task_depth: parallel::TASK_DEPTH,
            policy: Policy::default(),
            step_budget: None,
            stop: None,
            auto_states: true,
            symmetry: true,
            max_memory: Some(DEFAULT_MAX_MEMORY),
        }
    }
}

/// A finding as the explorer saw it: enough to group it and to replay it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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

impl RawFinding {
    /// A data race past the ones a report writes out in full: counted, without its trace
    /// (`Explorer::record_race`).
    pub fn trace_dropped(&self) -> bool {
        self.kind == FindingKind::DataRace && self.race.is_none()
    }

    fn drop_trace(&mut self) {
        (self.schedule, self.message, self.race) = (vec![], String::new(), None);
    }
}

/// The findings of one kind that a report writes out in full (with their traces); the
/// rest are counted in its `findings_not_shown`, and the search keeps no trace of the
/// data races among them.
pub const SHOWN_PER_KIND: usize = 256;

/// One observed final outcome.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RawOutcome {
    pub values: Vec<Value>,
    /// What the execution printed: two executions that printed differently are two
    /// outcomes, even with the same values.
    pub output: Vec<std::sync::Arc<str>>,
    pub count: u64,
    pub schedule: Vec<Choice>,
}

/// What tells two outcomes apart: the observed values, then the output.
pub type OutcomeKey = (Vec<Value>, Vec<std::sync::Arc<str>>);

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub executions: u64,
    /// Executions cut short because every enabled thread was asleep (redundant).
    pub redundant: u64,
    pub steps: u64,
    /// Distinct states reached (by hash).
    pub states: u64,
    pub max_depth: usize,
    pub complete: bool,
    /// Which limit stopped the search, if one did, and what to try for more.
    pub limit: Option<String>,
    /// The search was stopped from outside (Ctrl-C); `limit` says so too.
    pub interrupted: bool,
    /// Why the search switched to state caching on its own, if it did (`Config::auto_states`).
    pub switched: Option<String>,
    pub elapsed: Duration,
    /// The most the search stored at once, in bytes, estimated from what it stores (see
    /// memory.rs): the same on every run. A parallel or split search gives the most
    /// that its coordinator or any one task stored.
    #[serde(default)]
    pub peak_memory: u64,
    /// With `Config::count_classes`: how many Mazurkiewicz classes the explored
    /// executions fall into (an optimal reduction explores exactly one execution each).
    pub classes: u64,
    /// The parallel search's (`Config::jobs`) own work, which its speculation makes more
    /// than the single search's (parallel.rs); not part of any report.
    #[serde(skip)]
    pub parallel: Option<ParallelWork>,
}

/// What the parallel search ran in all: the coordinator's own steps, every task run
/// (those whose result was used and those proved wrong or cancelled) and the walks
/// ahead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParallelWork {
    /// Tasks whose result is part of the search.
    pub tasks: u64,
    /// Task runs in all, and how many of them ran ahead and were used.
    pub task_runs: u64,
    pub ahead_used: u64,
    /// Executions run (explored and cut short), and steps taken.
    pub runs: u64,
    pub steps: u64,
}

/// Everything an exploration found (serialized whole in a share of a partitioned run).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Exploration {
    pub findings: Vec<RawFinding>,
    pub outcomes: Vec<RawOutcome>,
    pub stats: Stats,
    /// The lock-order graph over every explored execution.
    pub lock_order: LockOrder,
    /// What processes wrote that others read, over every explored execution.
    pub lost_writes: LostWrites,
    /// The step limit the search ran under (a replay of its findings needs the same).
    #[serde(default)]
    pub max_steps: u64,
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
        && splits(cfg)
    {
        let start = Instant::now();
        let ex = parallel::explore_exact(prog, cfg, jobs.max(1), cfg.task_depth, start);
        return switch_if_cyclic(prog, cfg, ex, start);
    }
    let single = Explorer::new(prog, cfg).run();
    switch_if_cyclic(prog, cfg, single, Instant::now())
}

/// Whether `cfg` is a search that `jobs` splits (exhaustive DPOR).
fn splits(cfg: &Config) -> bool {
    cfg.search == Search::Exhaustive
        && cfg.reduction == Reduction::Dpor
        && cfg.preemption_bound.is_none()
}

/// A search that is not worth splitting, run alone: `Some(its result)` when it needs at
/// most `split_after` executions (or the user's limit or the time limit stopped it
/// there, or it went round in circles); `None` when it is to be split.
fn alone(prog: &Program, cfg: &Config, start: Instant) -> Option<Exploration> {
    // A small search is not worth splitting (the split's first steps cost about what
    // a second core saves): it runs alone, and its result is the single search's.
    let after = cfg.split_after;
    if after == 0 {
        return None;
    }
    let trial = match try_alone(prog, cfg, after, start) {
        Ok(ex) => return Some(ex),
        Err(trial) => trial,
    };
    // So few states that the single search may yet switch to state caching (the tasks
    // of a split never do): the trial goes on to where the single search decides, so
    // that a cyclic program's split search gives the single search's answer.
    let may_switch = cfg.auto_states
        && after < SWITCH_AFTER
        && trial.stats.states.max(1) * SWITCH_RATIO <= SWITCH_AFTER;
    if !may_switch {
        return None;
    }
    // (One past it: a search at its `max_executions` stops before it looks.)
    try_alone(prog, cfg, SWITCH_AFTER + 1, start).ok()
}

/// The search alone up to `after` executions: `Ok(its result)` when that settles it (as
/// [`alone`] says), else `Err(what it found by then)`.
fn try_alone(
    prog: &Program,
    cfg: &Config,
    after: u64,
    start: Instant,
) -> Result<Exploration, Exploration> {
    let first = Config {
        max_executions: Some(cfg.max_executions.map_or(after, |m| m.min(after))),
        ..cfg.clone()
    };
    let alone = Explorer::new(prog, &first).run();
    let limited_by_user = cfg.max_executions.is_some_and(|m| m <= after);
    let timed_out = cfg.timeout.is_some_and(|t| alone.stats.elapsed >= t);
    if alone.stats.switched.is_some() {
        return Ok(switch_if_cyclic(prog, cfg, alone, start));
    }
    if alone.stats.complete || limited_by_user || timed_out {
        Ok(alone)
    } else {
        Err(alone)
    }
}

/// One share of a split search (`simrace run --partition`): the tasks that `select`
/// picks (by position and name) of the split search's deterministic task list, or, for a
/// search that is not split, the whole search (every share gives it; the merge keeps
/// one).
pub fn explore_share(
    prog: &Program,
    cfg: &Config,
    select: &dyn Fn(usize, &str) -> bool,
) -> ShareResult {
    let start = Instant::now();
    if !splits(cfg) {
        return ShareResult::Alone(Box::new(explore(prog, cfg)));
    }
    if let Some(alone) = alone(prog, cfg, start) {
        return ShareResult::Alone(Box::new(alone));
    }
    split::explore_share(prog, cfg, cfg.jobs.unwrap_or(1).max(1), start, select)
}

/// Executions before the search looks at whether it is going round in circles.
const SWITCH_AFTER: u64 = 2_000;
/// Executions before it looks, once half the step budget is spent: long executions
/// (a loop that turns to `max_steps` of 10,000) spend the budget in a few dozen.
const SWITCH_NEAR_BUDGET: u64 = 20;
/// How many executions per distinct state is going round in circles.
const SWITCH_RATIO: u64 = 10;

/// Why a DPOR search that has run `executions` of `steps` steps in all, reaching `states`
/// distinct states, of which `too_long` ran to `max_steps`, should give up for state
/// caching; `None` when it should go on. Two signs of a program whose state graph has
/// cycles:
/// - far more executions than states: every turn of a loop is a new execution, the
///   states are the same;
/// - most executions run to `max_steps`: a loop that can turn forever (a livelock, a
///   polite backoff) makes every interleaving of its turns an execution of its own, up
///   to the step limit, while state caching closes the cycle the first time round. This
///   one is looked at early too, once half the step budget is spent, so that the switch
///   comes before the budget stops the search.
pub(crate) fn going_round(
    cfg: &Config,
    executions: u64,
    steps: u64,
    states: u64,
    too_long: u64,
) -> Option<String> {
    let applies = cfg.auto_states
        && cfg.reduction == Reduction::Dpor
        && cfg.search == Search::Exhaustive
        && cfg.preemption_bound.is_none();
    let near_budget = cfg.step_budget.is_some_and(|b| 2 * steps >= b);
    let early = near_budget && executions >= SWITCH_NEAR_BUDGET && 2 * too_long > executions;
    if !applies || (executions < SWITCH_AFTER && !early) {
        return None;
    }
    // The reason says what was seen: a program without a loop can also bring many
    // interleavings to few states (timed waits), and was told it went round in loops.
    let reason = if executions >= SWITCH_AFTER && executions >= SWITCH_RATIO * states.max(1) {
        format!(
            "{executions} executions reached only {states} distinct states (many \
             interleavings lead to the same states, as a loop's turns do)"
        )
    } else if 2 * too_long > executions {
        format!(
            "{too_long} of {executions} executions ran to max_steps (a loop can turn \
             until the step limit)"
        )
    } else {
        return None;
    };
    Some(format!(
        "{reason}, so the search switched to state caching (--reduction states): the \
         counts are of states"
    ))
}

/// The search again with state caching when `ex` gave up going round in circles (see
/// [`going_round`]); else `ex`.
fn switch_if_cyclic(prog: &Program, cfg: &Config, ex: Exploration, start: Instant) -> Exploration {
    let Some(why) = ex.stats.switched.clone() else {
        return ex;
    };
    let states = Config {
        reduction: Reduction::States,
        ..cfg.clone()
    };
    let mut again = Explorer::new(prog, &states).run();
    again.stats.switched = Some(why);
    again.stats.elapsed = start.elapsed();
    again
}
