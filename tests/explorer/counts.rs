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
