//! Cyclic programs (tests/fixtures/cyclic/): polling loops, spin loops with a counter,
//! polite backoff. The explorer must end them within its default budget, which is counted
//! in steps and executions (never in time, so the numbers here are exact), and find what
//! they do wrong. Before the automatic switch to state caching, DPOR ran on and on: the
//! worker loop took more than 30 s without ending, the polite livelock 20,000 executions
//! for 135 distinct states.

use crate::common::{default_run, kinds, load, replays_to_itself};
use simrace::{Config, FindingKind, Program, explore};

fn fixture(name: &str) -> Program {
    load(format!("tests/fixtures/cyclic/{name}.toml"))
}

/// Polite backoff forever: DPOR notices that its executions go round 113 states, switches
/// to state caching, which finds the cycle, a livelock, whose schedule replays it. Each
/// path that closes a cycle is an execution (one that goes on for ever), so the
/// livelock's count is of executions (it said "reached in 7 executions of 1").
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
        (9, 103, 178)
    );
    for f in &ex.findings {
        assert!(
            f.count <= ex.stats.executions,
            "{} of {}",
            f.count,
            ex.stats.executions
        );
        replays_to_itself(&prog, f, cfg.max_steps).unwrap();
    }
}

/// A livelock whose turns are long (300 steps) and whose states are many: DPOR's
/// executions do not outnumber the states ten to one, but nearly all of them run to
/// max_steps, which is the other sign of a loop. Before, the default run stopped at the
/// budget, INCOMPLETE; now it switches, completes, finds the livelock, and says why.
#[test]
fn executions_that_run_to_max_steps_make_the_search_switch() {
    let prog = fixture("polite_pair");
    let cfg = default_run(&prog);
    let ex = explore(&prog, &cfg);
    assert!(ex.stats.complete, "{:?}", ex.stats.limit);
    let why = ex.stats.switched.clone().expect("switched");
    assert!(why.contains("ran to max_steps"), "{why}");
    assert_eq!(kinds(&ex), [FindingKind::Livelock]);
    for f in &ex.findings {
        replays_to_itself(&prog, f, cfg.max_steps).unwrap();
    }
    // Without the switch, the same budget leaves DPOR incomplete.
    let stay = Config {
        auto_states: false,
        ..cfg.clone()
    };
    assert!(!explore(&prog, &stay).stats.complete);
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
    // Symmetry reduction picks each class's representative by the threads' hashes, so
    // these counts move (a little) whenever what a thread's state holds does.
    assert_eq!(
        (ex.stats.executions, ex.stats.redundant, ex.stats.states),
        (15, 2165, 2019)
    );
    for f in &ex.findings {
        replays_to_itself(&prog, f, cfg.max_steps).unwrap();
    }
}

/// Seed 003's loop with three workers: before, state caching ran to its budget (330,000
/// states in 39 s) because a polling worker carried a picture of the whole memory at its
/// last loop head, and the workers' six orders were six states. Now the spin rule keeps
/// only what the worker itself wrote, and state caching explores the workers' states up
/// to an exchange: complete, well within the default budget.
#[test]
fn three_polling_workers_end_within_the_default_budget() {
    let prog = fixture("worker_loop3");
    assert_eq!(prog.symmetric, [vec![0, 1, 2]]);
    let cfg = default_run(&prog);
    let ex = explore(&prog, &cfg);
    assert!(ex.stats.complete, "{:?}", ex.stats.limit);
    assert!(ex.stats.switched.is_some());
    assert_eq!(kinds(&ex), [FindingKind::Deadlock]);
    assert_eq!((ex.stats.executions, ex.stats.redundant), (54, 114_053));
    for f in &ex.findings {
        replays_to_itself(&prog, f, cfg.max_steps).unwrap();
    }
}

/// Symmetry reduction changes how many states are explored, never what is found: with
/// and without it, state caching finds the same kinds and the same outcomes, and fewer
/// states with it.
#[test]
fn symmetry_reduction_finds_what_the_full_state_space_has() {
    for name in ["worker_loop", "polite_pair"] {
        let prog = fixture(name);
        assert!(!prog.symmetric.is_empty(), "{name}");
        let on = Config {
            reduction: simrace::Reduction::States,
            ..default_run(&prog)
        };
        let off = Config {
            symmetry: false,
            ..on.clone()
        };
        let (a, b) = (explore(&prog, &on), explore(&prog, &off));
        assert!(a.stats.complete && b.stats.complete, "{name}");
        assert_eq!(kinds(&a), kinds(&b), "{name}");
        let outcomes = |e: &simrace::Exploration| -> Vec<_> {
            e.outcomes.iter().map(|o| o.values.clone()).collect()
        };
        assert_eq!(outcomes(&a), outcomes(&b), "{name}");
        assert!(a.stats.redundant < b.stats.redundant, "{name}");
    }
}

/// Two instances of one polite thread that step back from each other: a livelock, found
/// up to an exchange of the two; its schedule (the cycle renamed at each turn) replays.
#[test]
fn a_livelock_of_interchangeable_threads_replays() {
    let prog = fixture("polite_pair");
    let cfg = Config {
        reduction: simrace::Reduction::States,
        ..default_run(&prog)
    };
    let ex = explore(&prog, &cfg);
    assert!(ex.stats.complete);
    assert_eq!(kinds(&ex), [FindingKind::Livelock]);
    for f in &ex.findings {
        replays_to_itself(&prog, f, cfg.max_steps).unwrap();
    }
}

/// Two threads spinning with a counter: every turn is a new state, so neither search
/// ends under the default max_steps; DPOR, whose executions mostly run to max_steps,
/// switches to state caching once half the budget is spent, the budget stops that, the
/// report says what to try, and the race and the livelock are found first. With a small
/// max_steps it completes.
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
    let switched = ex.stats.switched.clone().unwrap();
    assert!(switched.contains("ran to max_steps"), "{switched}");
    let limit = ex.stats.limit.clone().unwrap();
    assert!(limit.contains("--max-steps"), "{limit}");
    assert!(limit.contains("a bigger --max-executions"), "{limit}");
    assert_eq!(kinds(&ex), [FindingKind::DataRace, FindingKind::Livelock]);
}
