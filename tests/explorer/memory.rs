//! The search's memory (src/search/memory.rs): the peak it stores is reported, the same
//! on every run, and grows with the search; a memory limit stops the search, INCOMPLETE
//! with what to try, at the same point every time, with the findings so far.

use crate::common::{load, root, simrace, stdout};
use simrace::{Config, Reduction, explore};

fn bench(name: &str) -> simrace::Program {
    load(root().join("benches/scenarios").join(name))
}

#[test]
fn the_peak_is_reported_deterministic_and_grows_with_the_search() {
    let small = explore(&bench("lastzero5.toml"), &Config::default());
    let big = explore(&bench("lastzero10.toml"), &Config::default());
    let again = explore(&bench("lastzero10.toml"), &Config::default());
    assert!(small.stats.peak_memory > 0);
    assert!(big.stats.peak_memory > small.stats.peak_memory);
    assert_eq!(big.stats.peak_memory, again.stats.peak_memory);
    // State caching stores every state it explored.
    let states = Config {
        reduction: Reduction::States,
        ..Config::default()
    };
    let cached = explore(&bench("lockinc4.toml"), &states);
    let dpor = explore(&bench("lockinc4.toml"), &Config::default());
    assert!(cached.stats.peak_memory > dpor.stats.peak_memory);
}

#[test]
fn a_memory_limit_stops_the_search_incomplete_and_says_so() {
    let prog = bench("lastzero10.toml");
    let whole = explore(&prog, &Config::default());
    let limit = whole.stats.peak_memory / 2;
    let cfg = Config {
        max_memory: Some(limit),
        ..Config::default()
    };
    let cut = explore(&prog, &cfg);
    assert!(!cut.stats.complete);
    assert!(cut.stats.executions > 0 && cut.stats.executions < whole.stats.executions);
    let why = cut.stats.limit.as_deref().unwrap();
    assert!(why.contains("stopped at the memory limit"), "{why}");
    let again = explore(&prog, &cfg);
    assert_eq!(again.stats.executions, cut.stats.executions);
    // A split search too: each task on its own.
    let split = Config {
        jobs: Some(2),
        ..cfg.clone()
    };
    assert!(!explore(&prog, &split).stats.complete);
}

#[test]
fn the_command_line_reports_the_peak_and_takes_a_limit() {
    let file = "benches/scenarios/indexer15.toml";
    let o = simrace(&[
        "run",
        file,
        "--engine",
        "explore",
        "--max-memory",
        "1",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["stats"]["complete"], false);
    assert!(
        v["stats"]["limit"]
            .as_str()
            .unwrap()
            .contains("--max-memory 1 MiB")
    );
    assert!(v["stats"]["peak_memory"].as_u64().unwrap() >= 1 << 20);
    let o = simrace(&["run", file, "--engine", "explore", "--max-memory", "1"]);
    assert!(stdout(&o).contains("INCOMPLETE (stopped at the memory limit"));
}
