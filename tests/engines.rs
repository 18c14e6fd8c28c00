//! Cross-check of the engines: on every scenario under scenarios/ (walked recursively)
//! and under tests/fixtures/engines/ (small cases for what the engines must choose:
//! timeouts, `notify(n)`, spin loops, `max_steps`, errors, atomic blocks) that an engine
//! can run, loom and shuttle must agree with the explorer on the `assertion`, `deadlock`
//! and `error` verdicts, and native must never report a kind that the explorer rules out.
//! Scenarios an engine cannot run (loom's thread limit) are skipped with the
//! reason printed.
//!
//! Every engine runs bounded (30 native runs with `--stress`, a thousand shuttle
//! executions with each of the random and PCT schedulers, loom with a preemption bound
//! of 2 and an execution cap) so that the whole test stays
//! within about two minutes on two cores. loom and shuttle run through the `simrace`
//! binary (loom needs its own process).

use crate::common::{load, relative, root, simrace, stdout, toml_files};
use simrace::FindingKind;
use simrace::{Config, explore};
use simrace::{NativeConfig, run_native};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Every scenario under scenarios/ and tests/fixtures/engines/ (or under
/// `$SIMRACE_CROSSCHECK_DIR`, to try others).
fn scenarios() -> Vec<String> {
    let files = match std::env::var("SIMRACE_CROSSCHECK_DIR") {
        Ok(dir) => toml_files(Path::new(&dir)),
        Err(_) => {
            let mut v = toml_files(&root().join("scenarios"));
            v.extend(toml_files(&root().join("tests/fixtures/engines")));
            v
        }
    };
    let mut v: Vec<String> = files.iter().map(|p| relative(p)).collect();
    v.sort();
    v
}

/// The verdicts that must agree.
fn decided(kinds: &BTreeSet<FindingKind>) -> BTreeSet<FindingKind> {
    kinds
        .iter()
        .copied()
        .filter(|k| {
            matches!(
                k,
                FindingKind::Assertion | FindingKind::Deadlock | FindingKind::Error
            )
        })
        .collect()
}

/// Runs `simrace run FILE --engine E ARGS --format json`: its kinds, or why it cannot.
fn engine_kinds(file: &str, engine: &str, args: &[&str]) -> Result<BTreeSet<FindingKind>, String> {
    let mut all = vec![
        "run",
        file,
        "--engine",
        engine,
        "--format",
        "json",
        "--no-timing",
    ];
    all.extend(args);
    let out = simrace(&all);
    if out.status.code() == Some(2) {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{file} --engine {engine}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Ok(v["engines"][0]["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| FindingKind::parse(k.as_str().unwrap()).unwrap())
        .collect())
}

#[test]
fn engines_agree_with_the_explorer() {
    let files = scenarios();
    assert!(!files.is_empty(), "no scenarios found");
    let mut problems = vec![];
    for file in &files {
        let prog = match simrace::load(file) {
            Ok(p) => Arc::new(p),
            Err(d) => {
                println!("skip {file}: it does not load: {}", d.headline());
                continue;
            }
        };
        let ex = explore(&prog, &Config::default());
        let explorer: BTreeSet<FindingKind> = ex.findings.iter().map(|f| f.kind).collect();

        // native: never a kind the explorer rules out.
        let cfg = NativeConfig {
            runs: Some(30),
            stress: true,
            seed: 1,
            // A loaded machine must not turn a slow run into a livelock.
            run_budget: std::time::Duration::from_secs(20),
            ..NativeConfig::default()
        };
        match run_native(&prog, &cfg) {
            Ok(t) => {
                for k in t.kinds() {
                    if !explorer.contains(&k) {
                        problems.push(format!(
                            "{file}: native reports {k}, which the explorer rules out ({:?})",
                            t.kinds.get(&k).map(|x| x.1.keys().next().cloned())
                        ));
                    }
                }
            }
            Err(e) => println!("skip {file} on native: {e}"),
        }

        // loom and shuttle: the same assertion, deadlock and error verdicts. shuttle counts
        // as one engine over its random and PCT schedulers (each finds what the other
        // misses within a thousand executions).
        let shuttle = ["random", "pct"].map(|sch| {
            engine_kinds(
                file,
                "shuttle",
                &[
                    "--scheduler",
                    sch,
                    "--max-executions",
                    "1000",
                    "--timeout",
                    "30",
                ],
            )
        });
        let shuttle = match shuttle {
            [Ok(a), Ok(b)] => Ok(a.union(&b).copied().collect()),
            [Err(e), _] | [_, Err(e)] => Err(e),
        };
        let loom = engine_kinds(
            file,
            "loom",
            &[
                "--max-preemptions",
                "2",
                "--max-executions",
                "15000",
                "--timeout",
                "30",
            ],
        );
        for (engine, result) in [("shuttle", shuttle), ("loom", loom)] {
            match result {
                Err(why) => println!("skip {file} on {engine}: {why}"),
                Ok(kinds) => {
                    if decided(&kinds) != decided(&explorer) {
                        problems.push(format!(
                            "{file}: {engine} finds {:?}, the explorer {:?}",
                            decided(&kinds),
                            decided(&explorer)
                        ));
                    }
                    for k in &kinds {
                        if !explorer.contains(k) {
                            problems.push(format!(
                                "{file}: {engine} reports {k}, which the explorer rules out"
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn loom_refuses_a_scenario_beyond_its_thread_limit() {
    let dir = std::env::temp_dir().join(format!("simrace-crosscheck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("six.toml");
    std::fs::write(
        &file,
        "[shared]\nx = 0\n[[thread]]\nname = \"w\"\ncount = 6\ncode = \"x = tid\"\n",
    )
    .unwrap();
    let out = simrace(&["run", file.to_str().unwrap(), "--engine", "loom"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("loom runs at most 5 threads"), "{err}");
    assert!(err.contains("this scenario has 6"), "{err}");
}

#[test]
fn default_run_shows_the_explorer_and_a_native_run() {
    let out = simrace(&[
        "run",
        "scenarios/counter.toml",
        "--format",
        "json",
        "--runs",
        "20",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stats"]["engine"], "explore");
    assert_eq!(v["kinds"], serde_json::json!(["assertion", "data_race"]));
    assert_eq!(v["engines"][0]["engine"], "native");
    assert_eq!(v["engines"][0]["executions"], 20);
    let text = stdout(&simrace(&["run", "scenarios/counter.toml", "--runs", "20"]));
    assert!(text.contains("\nexplore: 4 executions"), "{text}");
    assert!(text.contains("\nnative: 20 runs"), "{text}");
}

#[test]
fn a_shuttle_schedule_replays_its_finding() {
    let run = |args: &[&str]| -> serde_json::Value {
        let mut all = vec![
            "run",
            "scenarios/counter.toml",
            "--engine",
            "shuttle",
            "--format",
            "json",
            "--no-timing",
        ];
        all.extend(args);
        let out = simrace(&all);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let v = run(&["--max-executions", "300"]);
    let f = &v["engines"][0]["findings"][0];
    assert_eq!(f["kind"], "assertion");
    let schedule = f["schedule"]
        .as_str()
        .expect("a failing schedule")
        .to_string();
    let r = run(&["--shuttle-schedule", &schedule]);
    assert_eq!(r["engines"][0]["executions"], 1);
    assert_eq!(r["kinds"], serde_json::json!(["assertion"]));
    assert_eq!(r["outcomes"][0]["values"]["counter"], 1);
}

#[test]
fn a_native_deadlock_says_who_holds_and_who_waits() {
    let prog = Arc::new(load("scenarios/locks/abba_deadlock.toml"));
    let cfg = NativeConfig {
        runs: Some(500),
        stress: true,
        seed: 3,
        ..NativeConfig::default()
    };
    let t = run_native(&prog, &cfg).unwrap();
    assert_eq!(t.executions, 500);
    assert!(t.kinds().iter().all(|k| *k == FindingKind::Deadlock));
    // Counts vary from run to run; the explanation's form does not.
    if let Some((_, msgs)) = t.kinds.get(&FindingKind::Deadlock) {
        for m in msgs.keys() {
            assert!(
                m.contains("t1 (line") && m.contains("waits to acquire b, held by t2"),
                "{m}"
            );
            assert!(
                m.contains("t2 (line") && m.contains("waits to acquire a, held by t1"),
                "{m}"
            );
        }
    }
}
