//! simrace's explorer against loom and shuttle on the same work, in one run.
//!
//! Three programs, each written once as a scenario (benches/scenarios/) and once by hand
//! as a Rust program for loom and for shuttle:
//!
//! - lockinc3: three threads each lock a mutex and increment a counter;
//! - prodcons3: a producer passes 3 items to a consumer through a buffer of capacity 1
//!   (simrace: `Queue(maxsize=1)`; loom and shuttle: a Mutex and two Condvars);
//! - readers3: one thread stores 42 to an atomic, three threads load it once.
//!
//! Each is explored exhaustively: simrace's `explore` (DPOR), `loom::model` (its default
//! builder: no preemption bound) and shuttle's `check_dfs` (every interleaving). For each
//! it prints the executions (loom and shuttle: model iterations, counted with an atomic
//! outside the model), the median wall time of a few runs, and the time as a multiple of
//! simrace's.
//!
//! Then it explores the benchmarks with published optimal counts (../shared/DESIGN.md)
//! with simrace alone and prints their execution counts and times; and last, the
//! parallel search (`--jobs`) against the single one on three of them and on
//! readers_writers4, a program that waits on a semaphore.
//!
//!     cargo bench --bench peers                        # about 3 minutes on 2 cores
//!     SIMRACE_BENCH_QUICK=1 cargo bench --bench peers  # one run of each peer
//!     cargo bench --bench peers -- lockinc             # only the names that match

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Model iterations, counted outside the model (loom and shuttle run the closure once per
/// execution).
static ITERATIONS: AtomicUsize = AtomicUsize::new(0);

/// The hand-written programs, once per peer (module `$module`): `$krate` is `loom` or
/// `shuttle`, whose
/// `sync` and `thread` modules mirror std's.
macro_rules! programs {
    ($module:ident, $krate:ident) => {
        pub mod $module {
            use super::ITERATIONS;
            use ::$krate::sync::atomic::{AtomicUsize, Ordering};
            use ::$krate::sync::{Condvar, Mutex};
            // std's Arc for both: shuttle's `Arc` is std's, and loom's models every
            // reference-count change as an atomic access, which multiplies its executions
            // (readers3 did not finish in 13 minutes with it, and takes 10 s without).
            use ::$krate::thread;
            use std::sync::Arc;

            /// lockinc(3): `with m: x += 1` in each of 3 threads.
            pub fn lockinc3() {
                ITERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let x = Arc::new(Mutex::new(0u32));
                let hs: Vec<_> = (0..3)
                    .map(|_| {
                        let x = x.clone();
                        thread::spawn(move || {
                            *x.lock().unwrap() += 1;
                        })
                    })
                    .collect();
                for h in hs {
                    h.join().unwrap();
                }
                assert_eq!(*x.lock().unwrap(), 3);
            }

            /// A bounded buffer of capacity 1: Python's `Queue(maxsize=1)` put and get.
            struct Slot {
                item: Mutex<Option<u32>>,
                not_empty: Condvar,
                not_full: Condvar,
            }

            impl Slot {
                fn put(&self, v: u32) {
                    let mut g = self.item.lock().unwrap();
                    while g.is_some() {
                        g = self.not_full.wait(g).unwrap();
                    }
                    *g = Some(v);
                    self.not_empty.notify_one();
                }
                fn get(&self) -> u32 {
                    let mut g = self.item.lock().unwrap();
                    loop {
                        if let Some(v) = g.take() {
                            self.not_full.notify_one();
                            return v;
                        }
                        g = self.not_empty.wait(g).unwrap();
                    }
                }
            }

            /// prodcons(3): the producer puts 0, 1, 2; the consumer gets them in order.
            pub fn prodcons3() {
                ITERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let q = Arc::new(Slot {
                    item: Mutex::new(None),
                    not_empty: Condvar::new(),
                    not_full: Condvar::new(),
                });
                let p = {
                    let q = q.clone();
                    thread::spawn(move || {
                        for i in 0..3 {
                            q.put(i);
                        }
                    })
                };
                let c = {
                    let q = q.clone();
                    thread::spawn(move || {
                        for i in 0..3 {
                            assert_eq!(q.get(), i);
                        }
                    })
                };
                p.join().unwrap();
                c.join().unwrap();
            }

            /// readers(3): one store of 42, three loads.
            pub fn readers3() {
                ITERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let x = Arc::new(AtomicUsize::new(0));
                let mut hs = vec![];
                {
                    let x = x.clone();
                    hs.push(thread::spawn(move || x.store(42, Ordering::SeqCst)));
                }
                for _ in 0..3 {
                    let x = x.clone();
                    hs.push(thread::spawn(move || {
                        let r = x.load(Ordering::SeqCst);
                        assert!(r == 0 || r == 42);
                    }));
                }
                for h in hs {
                    h.join().unwrap();
                }
            }
        }
    };
}

programs!(on_loom, loom);
programs!(on_shuttle, shuttle);

/// One engine's result on one program.
struct Measure {
    executions: u64,
    median: Duration,
}

/// Runs `f` `reps` times (it returns the executions of one run) and takes the median time.
fn measure(reps: usize, mut f: impl FnMut() -> u64) -> Measure {
    let mut times = vec![];
    let mut executions = 0;
    for _ in 0..reps {
        let t = Instant::now();
        executions = f();
        times.push(t.elapsed());
    }
    times.sort();
    Measure {
        executions,
        median: times[times.len() / 2],
    }
}

/// simrace on benches/scenarios/`name`.toml: parse, lower and explore.
fn simrace(name: &str) -> u64 {
    explore_file(name, None).stats.executions
}

/// Explores benches/scenarios/`name`.toml, split over `jobs` workers if given.
fn explore_file(name: &str, jobs: Option<usize>) -> simrace::Exploration {
    explore_split(name, jobs, simrace::Config::default().split_after)
}

/// [`explore_file`], splitting searches of more than `split_after` executions.
fn explore_split(name: &str, jobs: Option<usize>, split_after: u64) -> simrace::Exploration {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/scenarios")
        .join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap();
    let p =
        simrace::parse(&format!("{name}.toml"), &text).unwrap_or_else(|d| panic!("{}", d.render()));
    let cfg = simrace::Config {
        jobs,
        split_after,
        ..simrace::Config::default()
    };
    let e = simrace::explore(&p, &cfg);
    assert!(e.stats.complete && e.findings.is_empty(), "{name}");
    e
}

fn loom_model(f: fn()) -> u64 {
    ITERATIONS.store(0, Ordering::Relaxed);
    loom::model::Builder::new().check(f);
    ITERATIONS.load(Ordering::Relaxed) as u64
}

fn shuttle_dfs(f: fn()) -> u64 {
    ITERATIONS.store(0, Ordering::Relaxed);
    shuttle::check_dfs(f, None);
    ITERATIONS.load(Ordering::Relaxed) as u64
}

/// The hand-written program `name` for `engine`.
fn peer_program(engine: &str, name: &str) -> fn() {
    match (engine, name) {
        ("loom", "lockinc3") => on_loom::lockinc3,
        ("loom", "prodcons3") => on_loom::prodcons3,
        ("loom", "readers3") => on_loom::readers3,
        ("shuttle", "lockinc3") => on_shuttle::lockinc3,
        ("shuttle", "prodcons3") => on_shuttle::prodcons3,
        ("shuttle", "readers3") => on_shuttle::readers3,
        _ => panic!("no {engine} program {name}"),
    }
}

/// The environment variable that makes this binary measure one peer run and exit.
const CHILD: &str = "SIMRACE_PEERS_CHILD";

/// In a child process: measure `engine` on `name` `reps` times, print the result.
fn child(spec: &str) {
    let parts: Vec<&str> = spec.split_whitespace().collect();
    let [engine, name, reps] = parts[..] else {
        panic!("bad {CHILD}: {spec}");
    };
    let f = peer_program(engine, name);
    let m = measure(reps.parse().unwrap(), || match engine {
        "loom" => loom_model(f),
        _ => shuttle_dfs(f),
    });
    println!("RESULT {} {}", m.executions, m.median.as_nanos());
}

/// Each loom and shuttle measurement runs in a child process of its own: shuttle installs a
/// process-wide panic hook that loom's internal unwinding would trip (and slow down), and
/// loom aborts the whole process on a deadlock.
fn peer(engine: &str, name: &str, reps: usize) -> Option<Measure> {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD, format!("{engine} {name} {reps}"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .and_then(|r| {
            let (e, t) = r.split_once(' ')?;
            Some(Measure {
                executions: e.parse().ok()?,
                median: Duration::from_nanos(t.parse().ok()?),
            })
        });
    if result.is_none() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(10).collect();
        eprintln!("{engine} on {name} failed ({}):", out.status);
        for l in tail.iter().rev() {
            eprintln!("  {l}");
        }
    }
    result
}

fn fmt_time(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// The published optimal counts (../shared/DESIGN.md), explored by simrace alone: loom
/// allows at most 4 spawned threads, and shuttle's DFS has no reduction.
const PUBLISHED: [(&str, u64); 10] = [
    ("lastzero5", 64),
    ("lastzero10", 3328),
    ("readers8", 256),
    ("lockinc3", 6),
    ("lockinc4", 24),
    ("lockinc5", 120),
    ("indexer12", 8),
    ("indexer15", 4096),
    ("filesystem16", 8),
    ("filesystem19", 64),
];

/// The allocator the `simrace` command uses (src/main.rs), for simrace and its peers alike.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        child(&spec);
        return;
    }
    // `cargo bench` passes `--bench`; a filter argument picks benchmarks by name.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let quick = std::env::var_os("SIMRACE_BENCH_QUICK").is_some_and(|v| v != "0");
    let (own_reps, peer_reps) = if quick { (3, 1) } else { (21, 3) };
    let benches: [(&str, &str, u64); 3] = [
        ("lockinc3", "3 threads: `with m: x += 1`", 6),
        ("prodcons3", "capacity-1 queue, 3 items", 1),
        ("readers3", "1 atomic store, 3 loads", 8),
    ];
    println!(
        "simrace vs loom and shuttle, exhaustive exploration{} (median of {own_reps} runs for simrace, {peer_reps} for loom and shuttle)\n",
        if quick { ", quick mode" } else { "" }
    );
    println!("| benchmark | engine | executions | optimal | median time | time / simrace's |");
    println!("|---|---|---:|---:|---:|---:|");
    for (name, what, optimal) in benches {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let own = measure(own_reps, || simrace(name));
        let base = own.median.as_secs_f64().max(1e-9);
        let rows = [
            ("simrace explore", Some(own)),
            ("loom model", peer("loom", name, peer_reps)),
            ("shuttle check_dfs", peer("shuttle", name, peer_reps)),
        ];
        for (i, (engine, m)) in rows.iter().enumerate() {
            let (executions, time, ratio) = match m {
                Some(m) => (
                    m.executions.to_string(),
                    fmt_time(m.median),
                    if i == 0 {
                        "1".to_string()
                    } else {
                        format!("{:.0}×", m.median.as_secs_f64() / base)
                    },
                ),
                None => ("failed".into(), "-".into(), "-".into()),
            };
            println!(
                "| {name} ({what}) | {engine} | {executions} | {optimal} | {time} | {ratio} |"
            );
        }
    }
    println!(
        "\nPublished optimal counts, simrace explore (one run each; then split over 2 workers)\n"
    );
    println!(
        "| benchmark | executions | optimal | sleep-set blocked | time | time, --jobs 2 | speedup |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, optimal) in PUBLISHED {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let t = Instant::now();
        let e = explore_file(name, None);
        let time = t.elapsed();
        let t = Instant::now();
        let split = explore_file(name, Some(2));
        let split_time = t.elapsed();
        assert_eq!(split.stats.executions, e.stats.executions, "{name}: split");
        println!(
            "| {name} | {} | {optimal} | {} | {} | {} | {:.2}× |",
            e.stats.executions,
            e.stats.redundant,
            fmt_time(time),
            fmt_time(split_time),
            time.as_secs_f64() / split_time.as_secs_f64().max(1e-9)
        );
    }
    split_work(&filter, own_reps);
}

/// The parallel search's work against the single search's (executions run, with those
/// cut short, and steps): what its coordinator, every task run (used, proved wrong or
/// cancelled) and its walks ahead cost; and its time on 1, 2 and 3 threads. The work on
/// 2 and 3 threads depends on the timing (which runs ahead finish first); the report
/// does not. The times are medians of `reps` rounds, each round running the four
/// configurations one after the other, so that a slow spell of the machine falls on
/// all four rather than on one.
fn split_work(filter: &[String], reps: usize) {
    println!(
        "\nThe parallel search's work against the single search's (the work of one run; times the median of {reps} rounds)\n"
    );
    println!(
        "| benchmark | single: runs, steps | --jobs 2: tasks, runs, steps | runs ratio | steps ratio | ahead used | single | --jobs 1 | --jobs 2 | --jobs 3 | single / --jobs 2 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let rows = [
        ("lastzero10", 500),
        ("indexer15", 500),
        ("filesystem19", 0),
        ("readers_writers4", 500),
    ];
    for (name, after) in rows {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let configs = [None, Some(1), Some(2), Some(3)];
        let mut times = vec![vec![]; configs.len()];
        let mut runs_of = vec![];
        for _ in 0..reps {
            runs_of.clear();
            for (k, &jobs) in configs.iter().enumerate() {
                let t = Instant::now();
                runs_of.push(explore_split(name, jobs, after));
                times[k].push(t.elapsed());
            }
        }
        let [t0, t1, t2, t3] = [0, 1, 2, 3].map(|k| {
            times[k].sort();
            times[k][times[k].len() / 2]
        });
        let (single, two) = (&runs_of[0], &runs_of[2]);
        assert_eq!(two.stats.executions, single.stats.executions, "{name}");
        assert_eq!(two.stats.steps, single.stats.steps, "{name}");
        let runs = single.stats.executions + single.stats.redundant;
        let w = two
            .stats
            .parallel
            .expect("the parallel search counts its work");
        let label = if after == 0 {
            format!("{name} (tasks from the first execution)")
        } else {
            name.to_string()
        };
        println!(
            "| {label} | {runs}, {} | {}, {}, {} | {:.2} | {:.2} | {} of {} | {} | {} | {} | {} | {:.2}× |",
            single.stats.steps,
            w.tasks,
            w.runs,
            w.steps,
            w.runs as f64 / runs as f64,
            w.steps as f64 / single.stats.steps as f64,
            w.ahead_used,
            w.task_runs,
            fmt_time(t0),
            fmt_time(t1),
            fmt_time(t2),
            fmt_time(t3),
            t0.as_secs_f64() / t2.as_secs_f64().max(1e-9)
        );
    }
}
