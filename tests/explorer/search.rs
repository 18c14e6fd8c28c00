//! Bounded and randomized search: the preemption bound, seeded random walks and PCT.
//! Pinned counts and outcome sets; every finding replays by its schedule; the same seed
//! gives the same result.

use crate::common::{kinds, outcome_counts, root};
use simrace::FindingKind;
use simrace::Program;
use simrace::{Config, Exploration, Search, explore, replay};

fn load(name: &str) -> Program {
    crate::common::load(root().join("scenarios").join(name))
}

/// Every finding's schedule replays to a failure of the same kind (or, for a race, to a
/// trace that contains both accesses).
fn assert_replays(prog: &Program, e: &Exploration) {
    for f in &e.findings {
        let r = replay(prog, &f.schedule).expect("schedule fits");
        match f.kind {
            FindingKind::Assertion | FindingKind::Error => {
                // A step fails, or the final assertions do.
                let kind = match &r.failure {
                    Some((_, fail)) => fail.kind,
                    None => r.state.check_final(prog).expect("replay fails").kind,
                };
                assert_eq!(kind, f.kind, "{}", f.message);
            }
            FindingKind::DataRace => {
                let race = f.race.as_ref().unwrap();
                assert_eq!(r.steps.len(), race.second.step + 1);
            }
            FindingKind::Deadlock | FindingKind::Livelock => {
                assert!(!r.state.all_finished(), "{}", f.message);
            }
        }
    }
}

#[test]
fn preemption_bound_zero_runs_each_thread_to_completion() {
    let prog = load("counter.toml");
    let cfg = |b| Config {
        preemption_bound: Some(b),
        ..Config::default()
    };
    // No preemption: one thread, then the other. No lost update.
    let e0 = explore(&prog, &cfg(0));
    assert_eq!(e0.stats.executions, 2);
    assert!(!e0.stats.complete);
    assert_eq!(outcome_counts(&e0), vec![("[Int(2)]".to_string(), 2)]);
    assert!(e0.findings.iter().all(|f| f.kind != FindingKind::Assertion));
    // One preemption is enough for the lost update.
    let e1 = explore(&prog, &cfg(1));
    assert_eq!(e1.stats.executions, 6);
    assert!(kinds(&e1).contains(&FindingKind::Assertion));
    assert_replays(&prog, &e1);
    // Each worker takes three steps (read, write, finish); strict alternation needs four
    // preemptions. With four, every interleaving: C(6, 3) = 20.
    let e3 = explore(&prog, &cfg(3));
    assert_eq!(e3.stats.executions, 18);
    assert!(!e3.stats.complete);
    let e4 = explore(&prog, &cfg(4));
    assert_eq!(e4.stats.executions, 20);
    assert!(e4.stats.complete);
}

#[test]
fn random_walks_are_seeded_and_replayable() {
    let prog = load("counter.toml");
    let cfg = |seed| Config {
        search: Search::Random { seed },
        max_executions: Some(200),
        ..Config::default()
    };
    let a = explore(&prog, &cfg(7));
    let b = explore(&prog, &cfg(7));
    assert_eq!(a.stats.executions, 200);
    assert!(!a.stats.complete);
    assert_eq!(outcome_counts(&a), outcome_counts(&b));
    assert_eq!(
        a.findings.iter().map(|f| &f.schedule).collect::<Vec<_>>(),
        b.findings.iter().map(|f| &f.schedule).collect::<Vec<_>>()
    );
    // Both outcomes of the lost update show up in 200 walks, and they add up.
    let o = outcome_counts(&a);
    assert_eq!(o.len(), 2);
    assert_eq!(o.iter().map(|x| x.1).sum::<u64>(), 200);
    assert!(kinds(&a).contains(&FindingKind::Assertion));
    assert_replays(&prog, &a);
    // Another seed samples differently.
    let c = explore(&prog, &cfg(8));
    assert_ne!(outcome_counts(&a), outcome_counts(&c));
}

#[test]
fn pct_finds_the_lock_order_deadlock_and_replays_it() {
    let prog = load("locks/abba_deadlock.toml");
    let cfg = |depth| Config {
        search: Search::Pct { seed: 1, depth },
        max_executions: Some(300),
        ..Config::default()
    };
    // Depth 1 never preempts: a thread runs until it blocks, so no ABBA deadlock.
    let d1 = explore(&prog, &cfg(1));
    assert!(!kinds(&d1).contains(&FindingKind::Deadlock));
    // The deadlock needs one priority change (depth 2).
    let d2 = explore(&prog, &cfg(2));
    assert!(kinds(&d2).contains(&FindingKind::Deadlock));
    assert_replays(&prog, &d2);
    assert_eq!(
        explore(&prog, &cfg(2)).stats.steps,
        d2.stats.steps,
        "same seed, same run"
    );
}

#[test]
fn a_failure_keeps_its_shortest_schedule_even_one_step_shorter() {
    // The naive enumeration runs the writer first: it first sees the failure after the
    // writer's two writes and its end (5 steps), later before its end (4 steps). The
    // finding keeps the shorter, though it is only one step shorter than the first.
    let text = r#"
[shared]
a = 0
b = 0
[[thread]]
name = "writer"
code = """
a = 1
b = 1
"""
[[thread]]
name = "checker"
code = "assert not (a == 1 and b == 1)"
"#;
    let cfg = Config {
        reduction: simrace::Reduction::None,
        ..Config::default()
    };
    let e = crate::common::explore_text(text, &cfg);
    let f = e
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::Assertion)
        .expect("the assertion fails");
    assert_eq!(simrace::format_schedule(&f.schedule), "0*2,1*2");
    assert_eq!(f.count, 5, "one per failing execution of the 12");
}
