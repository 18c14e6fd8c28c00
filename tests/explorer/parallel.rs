//! The parallel search (`--jobs N`): its result is the single search's, byte for byte
//! but for the memory measure, for any number of workers and any task depth; its limits
//! stop it where they stop the single search; and what it ran in all is counted.

use crate::common::{library_files, load, root, whole};
use simrace::Program;
use simrace::{Config, Exploration, explore};

/// The report as JSON, without the memory measure (each task measures its own path).
fn report(prog: &Program, e: &Exploration) -> String {
    let mut e = e.clone();
    e.stats.peak_memory = 0;
    let r = simrace::report::build(prog, &e, "explore", false);
    serde_json::to_string_pretty(&r).unwrap()
}

/// `n` threads, tasks at `depth`, handed out from the first execution on.
fn jobs(n: usize, depth: usize) -> Config {
    Config {
        jobs: Some(n),
        split_after: 0,
        task_depth: depth,
        ..Config::default()
    }
}

#[test]
fn the_parallel_search_gives_the_single_search_report_on_the_library() {
    let files = library_files();
    assert!(files.len() >= 30);
    for f in &files {
        let prog = load(f);
        let single = explore(&prog, &Config::default());
        for (n, depth) in [(1, 2), (2, 1), (2, 3), (3, 6)] {
            let par = explore(&prog, &jobs(n, depth));
            assert_eq!(
                whole(&single),
                whole(&par),
                "{f}: {n} workers, depth {depth}"
            );
            assert_eq!(
                report(&prog, &single),
                report(&prog, &par),
                "{f}: {n} workers, depth {depth}"
            );
        }
    }
}

/// A published benchmark, and a program that waits on a semaphore (where tasks often
/// fall out of the walk's window and are met again), at the default depth and after the
/// default number of executions: many tasks, most of them run ahead; one thread runs
/// nothing twice.
#[test]
fn a_published_benchmark_in_parallel_is_the_single_search() {
    for (name, executions) in [("lastzero10", 3328), ("readers_writers4", 1984)] {
        benchmark_in_parallel(name, executions);
    }
}

fn benchmark_in_parallel(name: &str, executions: u64) {
    let prog = load(root().join(format!("benches/scenarios/{name}.toml")));
    let single = explore(&prog, &Config::default());
    assert_eq!(single.stats.executions, executions);
    assert!(single.stats.parallel.is_none());
    for n in [1, 2, 3] {
        let cfg = Config {
            jobs: Some(n),
            ..Config::default()
        };
        let par = explore(&prog, &cfg);
        assert_eq!(whole(&single), whole(&par), "{name}: {n} workers");
        let work = par.stats.parallel.unwrap();
        assert!(work.tasks >= 100, "{name}: {work:?}");
        let runs = single.stats.executions + single.stats.redundant;
        if n == 1 {
            // Nothing ahead: every task once, the coordinator's own steps besides.
            assert_eq!((work.task_runs, work.ahead_used), (work.tasks, 0));
            assert_eq!((work.runs, work.steps), (runs, single.stats.steps));
        } else {
            assert!(
                work.ahead_used > 0 && work.task_runs >= work.tasks,
                "{work:?}"
            );
            assert!(work.steps >= single.stats.steps && work.runs >= runs);
        }
    }
}

/// `--max-executions` and the step budget count over the whole search: they stop the
/// parallel search at the execution where they stop the single one, with its message.
#[test]
fn the_limits_stop_the_parallel_search_where_they_stop_the_single_one() {
    let prog = load(root().join("benches/scenarios/lastzero10.toml"));
    let limits = [
        Config {
            max_executions: Some(1234),
            ..Config::default()
        },
        Config {
            step_budget: Some(30_001),
            ..Config::default()
        },
    ];
    for limit in limits {
        let single = explore(&prog, &limit);
        assert!(!single.stats.complete);
        for (n, depth) in [(1, 9), (2, 9), (2, 14)] {
            let cfg = Config {
                jobs: Some(n),
                split_after: 0,
                task_depth: depth,
                ..limit.clone()
            };
            let par = explore(&prog, &cfg);
            assert_eq!(whole(&single), whole(&par), "{n} workers, depth {depth}");
        }
    }
}

/// `--timeout` bounds the whole parallel search, and the report names it.
#[test]
fn the_time_limit_is_for_the_whole_parallel_search() {
    let prog = load(root().join("benches/scenarios/indexer15.toml"));
    let cfg = Config {
        jobs: Some(2),
        split_after: 0,
        timeout: Some(std::time::Duration::from_millis(300)),
        ..Config::default()
    };
    let t = std::time::Instant::now();
    let e = explore(&prog, &cfg);
    // The whole search takes seconds.
    assert!(
        t.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        t.elapsed()
    );
    assert!(!e.stats.complete);
    let limit = e.stats.limit.unwrap();
    assert!(limit.contains("--timeout"), "{limit}");
}

/// A race for every pair of 30 threads: 435 data races in every execution. The search
/// keeps the trace of the first 256 by key alone (the ones a report writes out), and
/// counts the rest; each part of the parallel search drops its own, and the merge is
/// still the single search's. Before, every race kept its schedule: 1,000 threads took
/// 6.6 GB before the first execution ended.
#[test]
fn races_past_the_shown_ones_keep_no_trace_in_any_search() {
    let prog = load(root().join("tests/fixtures/scale/thirty_writers.toml"));
    let limited = |cfg: Config| Config {
        max_executions: Some(300),
        ..cfg
    };
    let single = explore(&prog, &limited(Config::default()));
    assert_eq!(single.findings.len(), 435);
    let mut keys: Vec<&str> = single.findings.iter().map(|f| f.key.as_str()).collect();
    keys.sort_unstable();
    for f in &single.findings {
        let rank = keys.binary_search(&f.key.as_str()).unwrap();
        assert_eq!(
            f.trace_dropped(),
            rank >= simrace::SHOWN_PER_KIND,
            "{}",
            f.key
        );
        assert!(f.count >= 1);
        if !f.trace_dropped() {
            simrace::replays_to_itself(&prog, f, Config::default().max_steps).unwrap();
        }
    }
    for (n, depth) in [(2, 3), (3, 6)] {
        let par = explore(&prog, &limited(jobs(n, depth)));
        assert_eq!(whole(&single), whole(&par), "{n} workers, depth {depth}");
        assert_eq!(report(&prog, &single), report(&prog, &par));
    }
}
