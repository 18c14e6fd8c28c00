//! Cyclic programs (tests/fixtures/cyclic/): polling loops, spin loops with a counter,
//! polite backoff. The explorer must end them within its default budget, which is counted
//! in steps and executions (never in time, so the numbers here are exact), and find what
//! they do wrong. Before the automatic switch to state caching, DPOR ran on and on: the
//! worker loop took more than 30 s without ending, the polite livelock 20,000 executions
//! for 135 distinct states.

use crate::common::{kinds, load, replays_to_itself};
use simrace::{Config, DEFAULT_STEP_BUDGET, FindingKind, Program, explore};

/// The configuration `simrace run` uses: the scenario's `max_steps`, the default budget.
fn default_run(prog: &Program) -> Config {
    Config {
        max_steps: prog.max_steps.unwrap_or(10_000),
        step_budget: Some(DEFAULT_STEP_BUDGET),
        ..Config::default()
    }
}

fn fixture(name: &str) -> Program {
    load(format!("tests/fixtures/cyclic/{name}.toml"))
}

/// Polite backoff forever: DPOR notices that its executions go round 135 states, switches
/// to state caching, which finds the cycle, a livelock, whose schedule replays it.
#[test]
fn a_polite_livelock_is_found_by_its_cycle() {
    let prog = fixture("polite_livelock");
    let cfg = default_run(&prog);
    let ex = explore(&prog, &cfg);
    assert!(ex.stats.complete, "{:?}", ex.stats.limit);
    assert!(ex.stats.switched.is_some());
    assert_eq!(kinds(&ex), [FindingKind::Livelock]);
    assert_eq!(
        (ex.stats.executions, ex.stats.redundant, ex.stats.states),
        (1, 198, 291)
    );
    for f in &ex.findings {
        replays_to_itself(&prog, f, cfg.max_steps).unwrap();
    }
}

/// Workers polling a queue with a timeout until an event is set: DPOR went on without
/// end; the switch to state caching finds the deadlock of the missing task_done calls.
#[test]
fn a_polling_worker_loop_ends() {
    let prog = fixture("worker_loop");
    let cfg = default_run(&prog);
    let ex = explore(&prog, &cfg);
    assert!(ex.stats.complete, "{:?}", ex.stats.limit);
    assert!(ex.stats.switched.is_some());
    assert_eq!(kinds(&ex), [FindingKind::Deadlock]);
    assert_eq!(
        (ex.stats.executions, ex.stats.redundant, ex.stats.states),
        (28, 10527, 8944)
    );
    for f in &ex.findings {
        replays_to_itself(&prog, f, cfg.max_steps).unwrap();
    }
}

/// Two threads spinning with a counter: every turn is a new state, so neither search
/// ends under the default max_steps; the budget stops it, the report says what to try,
/// and the race and the livelock are found first. With a small max_steps it completes.
#[test]
fn a_counting_spin_loop_stops_at_the_budget_and_says_what_to_try() {
    let prog = fixture("spin_flag");
    let small = Config {
        max_steps: 60,
        ..default_run(&prog)
    };
    let ex = explore(&prog, &small);
    assert!(ex.stats.complete);
    assert_eq!(kinds(&ex), [FindingKind::DataRace, FindingKind::Livelock]);
    let budget = Config {
        step_budget: Some(200_000),
        ..default_run(&prog)
    };
    let ex = explore(&prog, &budget);
    assert!(!ex.stats.complete);
    let limit = ex.stats.limit.clone().unwrap();
    assert!(limit.contains("--max-steps"), "{limit}");
    assert!(limit.contains("--reduction states"), "{limit}");
    assert_eq!(kinds(&ex), [FindingKind::DataRace, FindingKind::Livelock]);
}
