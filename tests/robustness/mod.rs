//! Never a panic, never a silent hang: generated scenarios over the whole language
//! (every statement, object operation, misuse and limit; see
//! `differential/language.rs`) through the explorer, replay, the report and the native
//! engine, and the explorer's budgets on cyclic programs.
//!
//! The normal run checks a few dozen generated cases (seconds); a longer campaign sets
//! `SIMRACE_PROPTEST_CASES` (e.g. 5000) and `SIMRACE_PROPTEST_SEED` (other cases). The
//! fuzz targets in `fuzz/` cover the same language from arbitrary bytes.

mod corpus;
mod cyclic;

use crate::common::replays_to_itself;
use crate::differential::generate::{check_text, whole_language, whole_language_v2};
use proptest::prelude::*;
use simrace::{Config, FindingKind, NativeConfig, Program, Reduction, explore, report};
use std::collections::BTreeSet;
use std::time::Duration;

/// The executions each generated case may explore.
const BUDGET: u64 = 300;

/// The fields SCENARIO.md documents for `simrace run --format json`.
fn has_documented_fields(json: &serde_json::Value) -> Result<(), String> {
    let need = |v: &serde_json::Value, keys: &[&str], what: &str| {
        for k in keys {
            if v.get(k).is_none() {
                return Err(format!("{what} has no `{k}`: {v}"));
            }
        }
        Ok(())
    };
    need(
        json,
        &[
            "scenario",
            "verdict",
            "kinds",
            "expected",
            "matches_expectation",
            "findings",
            "warnings",
            "outcomes",
            "stats",
        ],
        "the report",
    )?;
    let kinds = json["kinds"].as_array().ok_or("kinds is not an array")?;
    let verdict = if kinds.is_empty() { "pass" } else { "fail" };
    if json["verdict"] != verdict {
        return Err(format!(
            "verdict {} with kinds {:?}",
            json["verdict"], kinds
        ));
    }
    for f in json["findings"].as_array().ok_or("findings")? {
        need(f, &["kind", "message", "schedule", "trace"], "a finding")?;
        for t in f["trace"].as_array().ok_or("trace")? {
            need(t, &["thread", "line", "op"], "a trace step")?;
        }
    }
    for w in json["warnings"].as_array().ok_or("warnings")? {
        need(w, &["kind", "message"], "a warning")?;
    }
    for o in json["outcomes"].as_array().ok_or("outcomes")? {
        need(o, &["values", "count", "schedule"], "an outcome")?;
    }
    need(
        &json["stats"],
        &["engine", "executions", "complete", "elapsed_ms"],
        "stats",
    )
}

/// The properties every scenario has, whatever it does: see the module doc.
fn robust(prog: &Program, text: &str, native: bool) -> Result<(), TestCaseError> {
    // The scenario's `[limits]`, as the command line takes them, or a small limit.
    let cfg = Config {
        max_executions: Some(BUDGET),
        max_steps: prog.max_steps.unwrap_or(200),
        ..Config::default()
    };
    let ex = explore(prog, &cfg);
    // Bounded: the budget holds, and a search it stops says so.
    prop_assert!(
        ex.stats.executions <= BUDGET,
        "{} executions",
        ex.stats.executions
    );
    prop_assert!(
        ex.stats.complete || ex.stats.limit.is_some(),
        "incomplete without a reason"
    );
    // A race past the 256 a report writes out keeps no trace to replay.
    for f in ex.findings.iter().filter(|f| !f.trace_dropped()) {
        replays_to_itself(prog, f, cfg.max_steps).map_err(TestCaseError::fail)?;
    }
    // The JSON report parses back with the documented fields, and is the same again.
    let json = serde_json::to_string(&report::build(prog, &ex, "explore", false)).unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    has_documented_fields(&value).map_err(TestCaseError::fail)?;
    let again = explore(prog, &cfg);
    let json2 = serde_json::to_string(&report::build(prog, &again, "explore", false)).unwrap();
    prop_assert_eq!(&json, &json2, "two runs differ");
    let kinds: BTreeSet<FindingKind> = ex.findings.iter().map(|f| f.kind).collect();
    // State caching finds the same kinds where both finish, races too: it looks for a
    // race at each state, between accesses that are both next there, and along the
    // paths it explores by happens-before, as DPOR does, for a pair that can only be
    // unordered through an order that is not happens-before (an earlier race, or
    // another party's release of a lock the first thread acquired after its access).
    let states = explore(
        prog,
        &Config {
            reduction: Reduction::States,
            ..cfg.clone()
        },
    );
    if ex.stats.complete && states.stats.complete {
        let skinds: BTreeSet<FindingKind> = states.findings.iter().map(|f| f.kind).collect();
        prop_assert_eq!(skinds, kinds.clone(), "state caching vs DPOR");
    }
    // The native engine never reports a kind that the complete exploration rules out.
    if native && ex.stats.complete {
        let t = simrace::run_native(
            &std::sync::Arc::new(simrace::parse("gen.toml", text).unwrap()),
            &NativeConfig {
                runs: Some(10),
                run_budget: Duration::from_millis(500),
                max_steps: cfg.max_steps,
                ..NativeConfig::default()
            },
        )
        .map_err(|e| TestCaseError::fail(format!("native: {e}")))?;
        for k in t.kinds() {
            prop_assert!(
                kinds.contains(&k),
                "native found {k}, the explorer only {kinds:?}"
            );
        }
    }
    Ok(())
}

/// Generated scenarios over the whole language: no panic, bounded, every finding
/// replays, the JSON has its fields, the output is deterministic, state caching and the
/// native engine agree with the explorer.
#[test]
fn generated_scenarios_never_panic_and_replay() {
    check_text(40, 12, whole_language(), |prog, text| {
        robust(prog, text, true)
    });
}

/// The same properties over version 2 of the format: functions, the Pool, processes,
/// shared memory, pipes, a manager, a joinable queue.
#[test]
fn generated_version_2_scenarios_never_panic_and_replay() {
    check_text(40, 13, whole_language_v2(), |prog, text| {
        robust(prog, text, true)
    });
}

/// A report that cannot be written (a full disk) is an error, exit status 2 with a
/// message, for every command that writes one: it exited 0 with nothing written, and a
/// CI job took the empty file for a result.
#[cfg(target_os = "linux")]
#[test]
fn a_report_that_cannot_be_written_is_an_error() {
    for args in [
        &["run", "scenarios/counter.toml", "--engine", "explore"][..],
        &["check", "scenarios/classic", "--partition", "count:1/2"],
        &["time", "scenarios/timing/cpu_threads.toml"],
    ] {
        let full = std::fs::File::create("/dev/full").unwrap();
        let out = crate::common::simrace_command()
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("cannot write the report to stdout"),
            "{args:?}: {err}"
        );
    }
}

/// Ctrl-C: `run` prints the report so far, marked interrupted, and exits 130; `check`
/// prints the results of the scenarios it started (the one running marked interrupted)
/// and says how many it did not run (it printed nothing: the signal ended it).
#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_prints_what_is_done_and_exits_130() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let dir = std::env::temp_dir().join(format!("simrace-ctrl-c-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let counter = std::fs::read_to_string(crate::common::root().join("scenarios/counter.toml"));
    std::fs::write(dir.join("a.toml"), counter.as_ref().unwrap()).unwrap();
    // Every interleaving of eight increments: far more than two seconds.
    let slow = "[shared]\nx = 0\n[[thread]]\nname = \"w\"\ncount = 4\ncode = \"\"\"\nx += 1\nx += 1\n\"\"\"\n";
    std::fs::write(dir.join("b.toml"), slow).unwrap();
    std::fs::write(dir.join("c.toml"), counter.unwrap()).unwrap();
    let interrupted = |args: &[&str]| {
        let child = crate::common::simrace_command()
            .args(args)
            .args(["--reduction", "none", "--max-executions", "100000000"])
            .args(["--format", "json", "--no-timing"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_secs(2));
        kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(130), "{args:?}: {err}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {err}"));
        (json, err)
    };
    let b = dir.join("b.toml");
    let (run, _) = interrupted(&["run", b.to_str().unwrap(), "--engine", "explore"]);
    assert_eq!(run["stats"]["interrupted"], true, "{run}");
    let d = dir.to_str().unwrap();
    let (check, err) = interrupted(&["check", d, "--jobs", "1"]);
    let _ = std::fs::remove_dir_all(&dir);
    let results = check["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{check}");
    assert_eq!(results[1]["stats"]["interrupted"], true, "{check}");
    assert!(
        err.contains("interrupted: 1 scenario after it not run"),
        "{err}"
    );
}
