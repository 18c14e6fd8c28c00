//! Raw flags to validated library configurations: the explorer's [`Config`], the native
//! engine's [`NativeConfig`], loom's and shuttle's [`ModelSettings`] and `simrace check`'s
//! [`Checker`]. A limit given as a flag wins over the scenario's `[limits]`, which wins
//! over the default.

use super::args::{CheckArgs, Engine, EngineOpts, GradeArgs, Limits, ReductionFlag, SchedulerFlag};
use crate::check::Checker;
use crate::engines::child::ModelSettings;
use crate::engines::cpython::{self, CpythonConfig};
use crate::engines::native::NativeConfig;
use crate::ir::Program;
use crate::search::{self, Config, Progress, Reduction, Search};
use std::time::Duration;

/// The limits of one scenario's run: the flags over the scenario's `[limits]`.
struct ScenarioLimits {
    max_steps: u64,
    max_executions: Option<u64>,
    /// Seconds.
    timeout: Option<u64>,
    seed: u64,
}

fn scenario_limits(prog: &Program, l: &Limits) -> ScenarioLimits {
    ScenarioLimits {
        max_steps: l
            .max_steps
            .or(prog.max_steps)
            .unwrap_or(search::DEFAULT_MAX_STEPS),
        max_executions: l.max_executions.or(prog.max_executions),
        timeout: l.timeout.or(prog.timeout),
        seed: l.seed.unwrap_or(0),
    }
}

/// True when the engine is the explorer (exhaustive, random or PCT); `None` is the
/// default run, the explorer and then the native engine.
pub(super) fn is_explorer(engine: Option<Engine>) -> bool {
    matches!(
        engine,
        None | Some(Engine::Explore | Engine::Random | Engine::Pct)
    )
}

/// The explorer's name in reports.
pub(super) fn explorer_name(engine: Option<Engine>) -> &'static str {
    match engine {
        Some(Engine::Random) => "random",
        Some(Engine::Pct) => "pct",
        _ => "explore",
    }
}

/// The limit flags that change a search's results, as a share's header records them
/// (`simrace merge` refuses shares whose flags differ).
pub(super) fn limit_flags(l: &Limits) -> std::collections::BTreeMap<String, String> {
    let opt = |v: Option<u64>| v.map_or("none".to_string(), |v| v.to_string());
    std::collections::BTreeMap::from([
        ("max-steps".to_string(), opt(l.max_steps)),
        ("max-executions".to_string(), opt(l.max_executions)),
        ("timeout".to_string(), opt(l.timeout)),
        ("max-memory".to_string(), opt(l.max_memory)),
        (
            "reduction".to_string(),
            format!("{:?}", reduction(l.reduction)),
        ),
    ])
}

pub(super) fn reduction(flag: ReductionFlag) -> Reduction {
    match flag {
        ReductionFlag::Dpor => Reduction::Dpor,
        ReductionFlag::None => Reduction::None,
        ReductionFlag::Sleep => Reduction::Sleep,
        ReductionFlag::States => Reduction::States,
    }
}

/// The explorer's configuration for `prog` (one worker; see [`explorer_config`]).
pub(super) fn config(prog: &Program, l: &Limits, engine: Option<Engine>) -> Config {
    let s = scenario_limits(prog, l);
    Config {
        search: match engine {
            Some(Engine::Random) => Search::Random { seed: s.seed },
            Some(Engine::Pct) => Search::Pct {
                seed: s.seed,
                depth: l.depth,
            },
            _ => Search::Exhaustive,
        },
        preemption_bound: l.preemption_bound,
        progress: progress_bar(),
        max_steps: s.max_steps,
        max_executions: s.max_executions,
        step_budget: s
            .max_executions
            .is_none()
            .then_some(search::DEFAULT_STEP_BUDGET),
        stop: Some(super::interrupt_flag()),
        timeout: s.timeout.map(Duration::from_secs),
        reduction: reduction(l.reduction),
        max_memory: Some(max_memory(l)),
        ..Config::default()
    }
}

/// `--max-memory` in bytes, or the default.
pub(super) fn max_memory(l: &Limits) -> u64 {
    l.max_memory
        .map_or(search::DEFAULT_MAX_MEMORY, |mib| mib << 20)
}

/// The explorer's configuration for `simrace run`, with its `--jobs`.
pub(super) fn explorer_config(
    prog: &Program,
    l: &Limits,
    engine: Option<Engine>,
    o: &EngineOpts,
) -> Config {
    Config {
        jobs: o.jobs.map(|j| j as usize),
        split_after: o.split_after.unwrap_or(Config::default().split_after),
        ..config(prog, l, engine)
    }
}

/// A spinner on stderr with the search's statistics, for runs longer than a moment;
/// nothing when stderr is not a terminal.
fn progress_bar() -> Option<Progress> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let done = bar.clone();
    let progress = Progress(std::sync::Arc::new(move |s: &search::Stats| {
        bar.set_message(format!(
            "{} executions, {} states, {} steps",
            s.executions, s.states, s.steps
        ));
        bar.tick();
    }));
    // The spinner is cleared when the last handle (the config's) goes.
    drop(done);
    Some(progress)
}

pub(super) fn native_config(prog: &Program, l: &Limits, o: &EngineOpts) -> NativeConfig {
    let s = scenario_limits(prog, l);
    NativeConfig {
        runs: o.runs,
        stress: !o.no_stress,
        seed: s.seed,
        max_steps: s.max_steps,
        timeout: s.timeout.map(Duration::from_secs),
        ..NativeConfig::default()
    }
}

/// The CPython engine's configuration; `default_run`: part of the default `run`, so
/// short.
pub(super) fn cpython_config(
    prog: &Program,
    l: &Limits,
    o: &EngineOpts,
    default_run: bool,
) -> CpythonConfig {
    let s = scenario_limits(prog, l);
    let mut duration = if default_run {
        cpython::DEFAULT_RUN_DURATION
    } else {
        cpython::DEFAULT_DURATION
    };
    if let Some(t) = s.timeout {
        duration = duration.min(Duration::from_secs(t));
    }
    CpythonConfig {
        runs: o.runs,
        duration,
        seed: s.seed,
        stress: !o.no_stress,
        max_steps: s.max_steps,
        ..CpythonConfig::default()
    }
}

pub(super) fn model_settings(prog: &Program, l: &Limits, o: &EngineOpts) -> ModelSettings {
    let s = scenario_limits(prog, l);
    ModelSettings {
        max_steps: s.max_steps,
        max_executions: s.max_executions,
        timeout: s.timeout,
        seed: s.seed,
        scheduler: match o.scheduler {
            SchedulerFlag::Random => "random",
            SchedulerFlag::Pct => "pct",
            SchedulerFlag::Dfs => "dfs",
        }
        .to_string(),
        max_preemptions: o.max_preemptions,
    }
}

/// `simrace check`'s checker: the flags' limits (each scenario's `[limits]` fill in the
/// rest when it runs), jobs and timing.
/// The explorer's limits for grading: the flags, then each exercise's `[limits]`.
pub(super) fn grader(a: &GradeArgs) -> Checker {
    let l = &a.limits;
    Checker::new()
        .max_steps(l.max_steps)
        .max_executions(l.max_executions)
        .timeout(l.timeout)
        .reduction(reduction(l.reduction))
        .max_memory(max_memory(l))
}

pub(super) fn checker(a: &CheckArgs) -> Checker {
    let l = &a.limits;
    let checker = Checker::new()
        .max_steps(l.max_steps)
        .max_executions(l.max_executions)
        .timeout(l.timeout)
        .reduction(reduction(l.reduction))
        .max_memory(max_memory(l))
        .timing(a.timing)
        .stop(super::interrupt_flag());
    match a.jobs {
        Some(j) => checker.jobs(j as usize),
        None => checker,
    }
}
