//! The split search (`--jobs N`): its result does not depend on N, and it finds the same
//! executions (one per class), findings and outcomes as the single search.

use crate::common::{exact, library_files, load, root};
use simrace::Program;
use simrace::{Config, Exploration, explore};

fn report(prog: &Program, e: &Exploration) -> String {
    let r = simrace::report::build(prog, e, "explore", false);
    serde_json::to_string_pretty(&r).unwrap()
}

#[test]
fn the_split_search_does_not_depend_on_the_workers_and_agrees_with_the_single_search() {
    let files = library_files();
    assert!(files.len() >= 30);
    for f in &files {
        let prog = load(f);
        let single = explore(&prog, &Config::default());
        // Split even the smallest searches (by default they run alone).
        let jobs = |n| Config {
            jobs: Some(n),
            split_after: 0,
            ..Config::default()
        };
        let one = explore(&prog, &jobs(1));
        let two = explore(&prog, &jobs(2));
        let name = f;
        assert!(two.stats.complete, "{name}");
        assert_eq!(
            report(&prog, &one),
            report(&prog, &two),
            "{name}: 1 vs 2 workers"
        );
        // One execution per class either way: the same counts, findings and outcomes.
        assert_eq!(exact(&single), exact(&two), "{name}: single vs split");
    }
}

/// By default a search that needs at most `split_after` executions is not split: its
/// report is the single search's, byte for byte; a bigger one is split, with the same
/// counts, findings and outcomes.
#[test]
fn a_small_search_runs_alone_and_a_big_one_is_split() {
    for (file, split) in [
        ("scenarios/counter.toml", false),
        ("benches/scenarios/lastzero10.toml", true),
    ] {
        let prog = load(root().join(file));
        let single = explore(&prog, &Config::default());
        let two = explore(
            &prog,
            &Config {
                jobs: Some(2),
                ..Config::default()
            },
        );
        assert_eq!(exact(&single), exact(&two), "{file}");
        // The split search starts executions that its sleep sets cut short.
        let same = report(&prog, &single) == report(&prog, &two);
        assert_eq!(same, !split, "{file}");
        assert_eq!(
            two.stats.redundant > single.stats.redundant,
            split,
            "{file}"
        );
    }
}

/// `--timeout` bounds the whole split search, not each task, and the report names it.
#[test]
fn the_time_limit_is_for_the_whole_split_search() {
    let prog = load(root().join("benches/scenarios/indexer15.toml"));
    let cfg = Config {
        jobs: Some(2),
        split_after: 0,
        timeout: Some(std::time::Duration::from_millis(300)),
        ..Config::default()
    };
    let t = std::time::Instant::now();
    let e = explore(&prog, &cfg);
    // 32 tasks over 2 workers, each given the whole limit, would take about 5 s.
    assert!(
        t.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        t.elapsed()
    );
    assert!(!e.stats.complete);
    let limit = e.stats.limit.unwrap();
    assert!(limit.contains("--timeout"), "{limit}");
}
