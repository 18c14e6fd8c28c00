//! The published optimal execution counts (../shared/DESIGN.md, "Published numbers to
//! compare against": the test suites of GenMC, Nidhugg and Concuerror) on the benchmark
//! scenarios in benches/scenarios/, the same files `cargo bench --bench peers` runs.
//!
//! An optimal explorer runs exactly one execution per class of equivalent interleavings;
//! these tests pin that count for every benchmark. The slowest (filesystem19, 5 to 15 s
//! in the test profile, most of it in sleep-set-blocked explorations) still runs by
//! default: the whole file takes 7 to 30 s, depending on the load of the machine.

use crate::common::{load, root};
use simrace::{Config, explore};

/// Explores benches/scenarios/`name`.toml and returns its execution count, after checking
/// that the exploration is complete and finds nothing.
fn executions(name: &str) -> u64 {
    let p = load(root().join(format!("benches/scenarios/{name}.toml")));
    let e = explore(&p, &Config::default());
    assert!(e.stats.complete, "{name}: incomplete");
    assert!(e.findings.is_empty(), "{name}: {:?}", e.findings);
    e.stats.executions
}

#[test]
fn lastzero() {
    assert_eq!(executions("lastzero5"), 64);
    assert_eq!(executions("lastzero10"), 3328);
}

#[test]
fn readers() {
    assert_eq!(executions("readers8"), 256);
}

#[test]
fn lockinc() {
    assert_eq!(executions("lockinc3"), 6);
    assert_eq!(executions("lockinc4"), 24);
    assert_eq!(executions("lockinc5"), 120);
}

#[test]
fn indexer12() {
    assert_eq!(executions("indexer12"), 8);
}

#[test]
fn indexer15() {
    assert_eq!(executions("indexer15"), 4096);
}

#[test]
fn filesystem16() {
    assert_eq!(executions("filesystem16"), 8);
}

/// The other scenarios of `cargo bench --bench peers`: readers(3) is 2^3, and the
/// capacity-1 producer and consumer can only alternate (one class).
#[test]
fn peer_bench_scenarios() {
    assert_eq!(executions("readers3"), 8);
    assert_eq!(executions("prodcons3"), 1);
}

#[test]
fn filesystem19() {
    assert_eq!(executions("filesystem19"), 64);
}
