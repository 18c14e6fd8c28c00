//! Pinned execution counts and outcome sets: the reduction must explore exactly one
//! execution per class of equivalent interleavings on these classic benchmarks
//! (the optimal counts published for GenMC, Nidhugg and Concuerror, ../shared/DESIGN.md).

use crate::common::{explore_text, outcome_counts, root};
use simrace::{Config, Exploration};

fn run(text: &str) -> Exploration {
    explore_text(text, &Config::default())
}

fn lockinc(n: u32) -> String {
    format!(
        "[shared]\nx = 0\n[objects]\nm = \"Lock\"\n[[thread]]\nname = \"w\"\ncount = {n}\ncode = \"\"\"\nwith m:\n    x += 1\n\"\"\"\n[final]\nassert = [\"x == {n}\"]\n"
    )
}

fn readers(n: u32) -> String {
    format!(
        "[shared]\nx = 0\n[[thread]]\nname = \"writer\"\ncode = \"x = 42\"\n[[thread]]\nname = \"reader\"\ncount = {n}\ncode = \"r = x\"\n"
    )
}

fn lastzero(n: u32) -> String {
    let zeros = vec!["0"; n as usize + 1].join(", ");
    format!(
        "[shared]\na = [{zeros}]\n[[thread]]\nname = \"scan\"\ncode = \"\"\"\ni = {n}\nwhile a[i] != 0:\n    i -= 1\n\"\"\"\n[[thread]]\nname = \"w\"\ncount = {n}\ncode = \"a[tid + 1] = a[tid] + 1\"\n"
    )
}

#[test]
fn counter_has_four_classes_and_two_outcomes() {
    let text = std::fs::read_to_string(root().join("scenarios/counter.toml")).unwrap();
    let e = run(&text);
    assert_eq!(e.stats.executions, 4);
    assert_eq!(
        outcome_counts(&e),
        vec![("[Int(1)]".to_string(), 2), ("[Int(2)]".to_string(), 2)]
    );
}

#[test]
fn lockinc_explores_n_factorial() {
    assert_eq!(run(&lockinc(2)).stats.executions, 2);
    assert_eq!(run(&lockinc(3)).stats.executions, 6);
    assert_eq!(run(&lockinc(4)).stats.executions, 24);
    assert!(run(&lockinc(3)).findings.is_empty());
}

#[test]
fn readers_explore_two_to_the_n() {
    assert_eq!(run(&readers(2)).stats.executions, 4);
    assert_eq!(run(&readers(3)).stats.executions, 8);
    assert_eq!(run(&readers(5)).stats.executions, 32);
}

#[test]
fn lastzero_matches_the_published_count() {
    assert_eq!(run(&lastzero(5)).stats.executions, 64);
}

#[test]
fn barrier_rounds_explore_only_arrival_orders() {
    let text = "[objects]\nbar = { kind = \"Barrier\", parties = 3 }\n[[thread]]\nname = \"w\"\ncount = 3\ncode = \"\"\"\nfor r in range(3):\n    bar.wait()\n\"\"\"\n";
    assert_eq!(run(text).stats.executions, 216);
}

/// N processes that each count to three in their own copy of `[shared]`: different
/// processes' copies are different cells, so nothing they do depends on the others', and
/// the explorer runs one execution whatever N (a naive search runs (3N)!/(3!)^N). The
/// same program as threads sharing the counter has races, and N! orders of each
/// increment.
#[test]
fn processes_that_share_nothing_explore_one_execution() {
    let procs = |n: u32, kind: &str| {
        format!(
            "[shared]\ncounter = 0\n[[{kind}]]\nname = \"p\"\ncount = {n}\ncode = \"\"\"\nfor i in range(3):\n    counter += 1\n\"\"\"\n"
        )
    };
    for n in 1..=4 {
        let e = run(&procs(n, "process"));
        assert_eq!(e.stats.executions, 1, "{n} processes");
        assert!(e.findings.is_empty());
    }
    let threads = run(&procs(2, "thread"));
    assert!(threads.stats.executions > 1);
    assert!(!threads.findings.is_empty());
    // Started by a main thread (fork) and joined: still one execution.
    let forked = "[shared]\ncounter = 0\n[[process]]\nname = \"p\"\ncount = 3\nstart = false\ncode = \"counter += 1\"\n[[thread]]\nname = \"main\"\ncode = \"\"\"\nfor i in range(3):\n    p[i].start()\nfor i in range(3):\n    p[i].join()\n\"\"\"\n[final]\nassert = [\"counter == 0\"]\n";
    let e = run(forked);
    assert_eq!(e.stats.executions, 1);
    assert!(e.findings.is_empty());
}
