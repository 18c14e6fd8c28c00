//! The CPython engine and `simrace export --python`: the translated program runs on a
//! real python3, and what it shows on the library conforms to the explorer.
//!
//! Every test that needs python3 says so on stderr and returns when there is none.

use crate::common::{library_files, load, root, run_report, simrace, stderr, stdout};
use std::collections::BTreeSet;
use std::process::Command;

/// Runs per library scenario in the conformance test: few, so that the whole library
/// takes some tens of seconds on two cores.
const CONFORMANCE_RUNS: &str = "6";

/// Whether python3 is on PATH; if not, says that `test` is skipped.
fn python(test: &str) -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("{test}: SKIPPED: no python3 on PATH");
    }
    ok
}

/// What a failure message says about where and as what it was raised: `("EOFError",
/// 22)`, `("final", 18)`, `("invariant", 72)`; `None` for a deadlock or a livelock.
fn signature(message: &str) -> Option<(String, u64)> {
    if let Some(rest) = message.strip_prefix("line ") {
        let (n, what) = rest.split_once(": ")?;
        let kind = if what.starts_with("final assertion") {
            "final"
        } else if what.starts_with("invariant") {
            "invariant"
        } else {
            return None;
        };
        return Some((kind.into(), n.parse().ok()?));
    }
    let (_, rest) = message.split_once(" (line ")?;
    let (n, rest) = rest.split_once("): ")?;
    let exc: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    Some((exc, n.parse().ok()?))
}

/// The places where the scenario format deliberately differs from CPython, named.
/// `note`: one of CPython's notes, or `None` for an outcome the explorer never gives. It
/// gives the difference's name when one explains what CPython showed.
fn known_difference(explorer_messages: &[String], note: Option<&str>) -> Option<&'static str> {
    let said = |s: &str| explorer_messages.iter().any(|m| m.contains(s));
    match note {
        // Integers are 64-bit in the scenario format: where the model raises
        // OverflowError, CPython's integers grow (and the run has no outcome).
        Some(n) if n.contains("beyond 64 bits") && said("OverflowError") => {
            Some("64-bit integers (OverflowError in the model, a big int in CPython)")
        }
        Some(_) => None,
        // The scenario format checks Condition ownership strictly: a notify or a wait
        // without holding the lock is a RuntimeError, where CPython's check for a plain
        // Lock only asks whether anyone holds it, so its run goes on to an outcome.
        None if said("RuntimeError") && said("un-acquired lock") => {
            Some("the stricter Condition ownership check")
        }
        None => None,
    }
}

/// One library scenario on CPython against its exploration; the discrepancies found.
/// The JSON report of `runs` runs of `file` on CPython (`--no-timing`), or why there is
/// none.
fn cpython_report(file: &str, runs: impl std::fmt::Display) -> Result<serde_json::Value, String> {
    let runs = runs.to_string();
    let out = simrace(&[
        "run",
        file,
        "--engine",
        "cpython",
        "--runs",
        &runs,
        "--format",
        "json",
        "--no-timing",
    ]);
    serde_json::from_slice(&out.stdout).map_err(|e| format!("no report ({e}): {}", stderr(&out)))
}

/// [`cpython_report`], which must be there.
fn cpython_json(file: &str, runs: impl std::fmt::Display) -> serde_json::Value {
    cpython_report(file, runs).unwrap_or_else(|why| panic!("{file}: {why}"))
}

fn conform(file: &str) -> Vec<String> {
    let prog = load(file);
    let rep = run_report(&prog);
    let v = match cpython_report(file, CONFORMANCE_RUNS) {
        Ok(v) => v,
        Err(why) => return vec![format!("{file}: {why}")],
    };
    if let Some(why) = v["error"]["message"].as_str() {
        return vec![format!("{file}: CPython did not run it: {why}")];
    }
    let e = &v["engines"][0];
    let mut bad = vec![];
    let kinds: BTreeSet<&str> = rep.kinds.iter().copied().collect();
    let messages: Vec<String> = rep
        .findings
        .iter()
        .filter(|f| f.kind != "data_race")
        .map(|f| f.message.clone())
        .collect();
    let signatures: BTreeSet<(String, u64)> =
        messages.iter().filter_map(|m| signature(m)).collect();
    for f in e["findings"].as_array().unwrap() {
        let kind = f["kind"].as_str().unwrap();
        let message = f["message"].as_str().unwrap();
        // A run that never ends because a party polls with a timeout while another
        // waits for it: the model's spin-loop rule ends that execution as a deadlock
        // (the poller makes no progress, the other waits on an object), CPython's
        // watchdog only sees a run that went on past its budget.
        let polling = kind == "livelock"
            && kinds.contains("deadlock")
            && message.contains("went on past its budget")
            && message.contains("timeout=");
        if polling {
            eprintln!(
                "{file}: CPython's livelock is the model's deadlock: a party polls with a timeout"
            );
        } else if !kinds.contains(kind) {
            bad.push(format!(
                "{file}: CPython shows {kind}, the explorer does not: {}",
                f["message"]
            ));
        }
        let mut all = vec![f["message"].as_str().unwrap().to_string()];
        for o in f["others"].as_array().into_iter().flatten() {
            all.push(o[0].as_str().unwrap().to_string());
        }
        for m in all {
            if let Some(sig) = signature(&m)
                && !signatures.contains(&sig)
            {
                bad.push(format!(
                    "{file}: CPython raised {} at line {}, which the explorer does not list: {m}",
                    sig.0, sig.1
                ));
            }
        }
    }
    let outcomes: Vec<serde_json::Value> = rep
        .outcomes
        .iter()
        .map(|o| serde_json::Value::Object(o.values.clone()))
        .collect();
    for o in e["outcomes"].as_array().unwrap() {
        let values = &o["values"];
        if !outcomes.contains(values) {
            match known_difference(&messages, None) {
                Some(d) => {
                    eprintln!("{file}: outcome {values} explained by a known difference: {d}")
                }
                None => bad.push(format!(
                    "{file}: CPython ended with {values}, the explorer never does"
                )),
            }
        }
    }
    for n in e["notes"].as_array().unwrap() {
        let n = n.as_str().unwrap();
        if n.contains("beyond 64 bits") {
            match known_difference(&messages, Some(n)) {
                Some(d) => eprintln!("{file}: {n}: explained by a known difference: {d}"),
                None => bad.push(format!(
                    "{file}: {n}, and the explorer raises no OverflowError"
                )),
            }
        }
    }
    if e["executions"].as_u64().unwrap_or(0) == 0 {
        bad.push(format!("{file}: no run"));
    }
    bad
}

#[test]
fn the_library_on_cpython_conforms_to_the_explorer() {
    if !python("the_library_on_cpython_conforms_to_the_explorer") {
        return;
    }
    let files = library_files();
    let start = std::time::Instant::now();
    // Two at a time: the CI machine has two cores.
    let half = files.len().div_ceil(2);
    let bad: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(half)
            .map(|chunk| s.spawn(move || chunk.iter().flat_map(|f| conform(f)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    eprintln!(
        "conformance: {} scenarios, {CONFORMANCE_RUNS} CPython runs each, {:.1} s",
        files.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_named_differences_explain_what_cpython_shows_on_their_fixtures() {
    if !python("the_named_differences_explain_what_cpython_shows_on_their_fixtures") {
        return;
    }
    for f in ["overflow", "condition_owner"] {
        let file = format!("tests/fixtures/cpython/{f}.toml");
        let bad = conform(&file);
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

/// Scenarios where the translation once showed what the explorer rules out: a thread
/// joining a sibling the scenario starts with it (RuntimeError: it ran before the other
/// was started), end of file on a Pipe whose writer starts late (a deadlock: the main
/// program kept its copy of the end), a Pipe end that nobody uses (an EOFError: the main
/// program closed it), and timeouts given in their place (a deadlock: they were not
/// shortened), negative timeouts (they were shortened, and a Lock's `-1` raised), and a
/// Pipe end that closes when the processes that use it end (the model waited for ever),
/// timeout arguments CPython refuses, and a negative `sleep` or `work`.
#[test]
fn translated_start_pipe_ends_and_positional_timeouts_conform() {
    if !python("translated_start_pipe_ends_and_positional_timeouts_conform") {
        return;
    }
    for f in [
        "cpython/join_sibling",
        "cpython/pipe_eof_late_start",
        "cpython/positional_timeout",
        "cpython/unused_pipe_end",
        "regressions/negative_timeouts",
        "regressions/pipe_closes_on_exit",
        "regressions/timeout_arguments",
        "regressions/negative_sleep",
    ] {
        let file = format!("tests/fixtures/{f}.toml");
        let bad = conform(&file);
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

/// A thread that polls with a timeout moves, though the watchdog sees it in the same
/// frame of threading.py at nearly every look: a livelock, as the explorer says, not a
/// deadlock (which the watchdog said in every run before it counted steps).
#[test]
fn a_lone_poller_is_a_livelock_on_cpython() {
    if !python("a_lone_poller_is_a_livelock_on_cpython") {
        return;
    }
    let file = "tests/fixtures/cpython/lone_poller.toml";
    let v = cpython_json(file, 2);
    assert_eq!(v["engines"][0]["kinds"], serde_json::json!(["livelock"]));
    let explorer: Vec<&str> = run_report(&load(file)).kinds.to_vec();
    assert_eq!(explorer, ["livelock"]);
}

/// `Lock.locked()` where the Lock is multiprocessing's, which has none in Python 3.11:
/// before, every run raised AttributeError.
#[test]
fn a_processes_lock_says_whether_it_is_held() {
    if !python("a_processes_lock_says_whether_it_is_held") {
        return;
    }
    sees_nothing_in("tests/fixtures/cpython/locked_across_processes.toml", 50);
}

/// Runs `file` `runs` times on CPython and requires every run, and nothing wrong in any.
fn sees_nothing_in(file: &str, runs: u32) {
    let v = cpython_json(file, runs);
    let e = &v["engines"][0];
    assert_eq!(e["executions"], runs, "{}", e["notes"]);
    assert_eq!(e["kinds"], serde_json::json!([]), "{}", e["findings"]);
}

/// A joined process's exitcode is 0 in every one of 600 runs: the watchdog never reaps a
/// process behind the scenario's back (it did in about one run in 120).
#[test]
fn the_watchdog_never_reaps_a_process_the_scenario_joins() {
    if !python("the_watchdog_never_reaps_a_process_the_scenario_joins") {
        return;
    }
    let file = "tests/fixtures/cpython/exitcode_after_join.toml";
    sees_nothing_in(file, 600);
}

/// An atomic block is one step on CPython too: in 2,000 runs neither the invariant nor a
/// plain reader sees it half done (the translation switched inside it).
#[test]
fn an_atomic_block_is_one_step_on_cpython() {
    if !python("an_atomic_block_is_one_step_on_cpython") {
        return;
    }
    let file = "tests/fixtures/cpython/atomic_block.toml";
    sees_nothing_in(file, 2000);
    assert!(conform(file).is_empty());
}

#[test]
fn signatures_name_the_exception_and_the_line() {
    let s = signature;
    assert_eq!(
        s("consumer (line 22): EOFError: the other end is closed and nothing is left"),
        Some(("EOFError".into(), 22))
    );
    assert_eq!(
        s("worker[1] (line 29): AssertionError; traceback: File \"x.py\", line 5, in w: assert x"),
        Some(("AssertionError".into(), 29))
    );
    assert_eq!(
        s("line 18: final assertion `counter == 2` does not hold"),
        Some(("final".into(), 18))
    );
    assert_eq!(
        s("no thread moved for 100 ms: t1 (line 3) at `with a:`"),
        None
    );
}

#[test]
fn export_writes_the_scenario_as_a_python_program() {
    let out = simrace(&["export", "--python", "scenarios/counter.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "def worker_code(tid):\n    global counter\n    tmp = counter\n    counter = tmp + 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("worker = Party(\"worker\", worker_code, count=2)"),
        "{text}"
    );
    assert!(text.contains("def final():\n    \"\"\"[final]: checked once every thread has finished.\"\"\"\n    assert counter == 2\n"), "{text}");
    assert!(
        !text.contains("_switch(); tmp"),
        "no stress without --stress"
    );
    let stressed = stdout(&simrace(&[
        "export",
        "--python",
        "--stress",
        "scenarios/counter.toml",
    ]));
    assert!(
        stressed.contains("_switch(); counter = _r(tmp) + 1")
            || stressed.contains("_switch(); counter = tmp + 1"),
        "{stressed}"
    );
    assert!(
        stressed.contains("_switch(); tmp = _r(counter)"),
        "{stressed}"
    );
    if !python("export_writes_the_scenario_as_a_python_program") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("counter.py");
    std::fs::write(&file, &text).unwrap();
    let run = Command::new("python3")
        .arg(&file)
        .args(["--runs", "3"])
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let said = String::from_utf8_lossy(&run.stdout);
    assert_eq!(said.lines().count(), 3, "{said}");
    for l in said.lines() {
        assert!(
            l == "finished: counter = 2"
                || l == "finished: counter = 1"
                || l.starts_with("final failed"),
            "{said}"
        );
    }
}

#[test]
fn export_writes_functions_as_defs_and_a_pool_as_multiprocessing_pool() {
    let out = simrace(&[
        "export",
        "--python",
        "scenarios/functions/deposit_race.toml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "# [functions]\ndef deposit(amount):\n    global balance\n    tmp = balance\n    balance = tmp + amount\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("def client_code(tid):\n    deposit(5)\n"),
        "{text}"
    );
    let out = simrace(&[
        "export",
        "--python",
        "scenarios/pool/global_counter_returned.toml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("START_METHOD = \"fork\""), "{text}");
    assert!(text.contains("    pool = Pool(2)\n"), "{text}");
    assert!(
        text.contains("class Pool(multiprocessing.pool.Pool):"),
        "{text}"
    );
    // `count` is assigned in a `for ... in` body: it is the global, not a local.
    assert!(
        text.contains("def main_code(tid):\n    global count\n    res = pool.map(one, range(3))\n    for v in res:\n        count += v\n"),
        "{text}"
    );
    // The pool is made after the objects its workers are given.
    let out = simrace(&["export", "--python", "scenarios/pool/event_after_join.toml"]);
    let text = stdout(&out);
    let (go, pool) = (
        text.find("    go = ").unwrap(),
        text.find("    pool = Pool(1)").unwrap(),
    );
    assert!(go < pool, "{text}");
}

/// The watchdog calls a run deadlocked when it saw the run stand still, not when the
/// machine did not run the Python process: here the process is stopped (SIGSTOP) for
/// 250 ms, again and again, while it runs a scenario that cannot deadlock. Before the
/// watchdog counted its looks, a deadlock was reported about half the time.
#[cfg(target_os = "linux")]
#[test]
fn a_python_process_the_machine_does_not_run_is_not_deadlocked() {
    use std::time::Duration;
    if !python("a_python_process_the_machine_does_not_run_is_not_deadlocked") {
        return;
    }
    let file = "scenarios/basics/locked_counter.toml";
    let mut child = crate::common::simrace_command()
        .args(["run", file, "--engine", "cpython", "--runs", "3000"])
        .args(["--format", "json", "--no-timing"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run simrace");
    // The Python processes: the children of any of simrace's threads.
    let pythons = |pid: u32| -> Vec<String> {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten();
        tasks
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
            .flat_map(|c| c.split_whitespace().map(String::from).collect::<Vec<_>>())
            .collect()
    };
    let signal = |sig: &str, pids: &[String]| {
        if !pids.is_empty() {
            let _ = Command::new("kill").arg(sig).args(pids).status();
        }
    };
    let mut stops = 0;
    while stops < 20 && child.try_wait().expect("wait for simrace").is_none() {
        std::thread::sleep(Duration::from_millis(50));
        let pids = pythons(child.id());
        signal("-STOP", &pids);
        std::thread::sleep(Duration::from_millis(250));
        signal("-CONT", &pids);
        stops += usize::from(!pids.is_empty());
    }
    let out = child.wait_with_output().expect("wait for simrace");
    assert!(
        stops >= 3,
        "the runs ended before they could be stopped: {stops} stops"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no report ({e}): {}", stderr(&out)));
    let e = &v["engines"][0];
    assert_eq!(
        e["kinds"],
        serde_json::json!([]),
        "{stops} stops: {}",
        e["findings"]
    );
    // Every run asked for, and Python did not end early: CPython 3.11 crashed in about
    // one in three of these before the watchdog let go of the frames it looks at.
    assert_eq!(e["executions"], 3000, "{}", e["notes"]);
}

/// When the batch's Python dies, what it started (here a manager's server process) dies
/// with it, and simrace reports at once: the orphan used to hold the output pipes open,
/// and simrace waited for them until its hard deadline (minutes).
#[cfg(target_os = "linux")]
#[test]
fn a_python_that_dies_takes_what_it_started_along() {
    use std::time::{Duration, Instant};
    if !python("a_python_that_dies_takes_what_it_started_along") {
        return;
    }
    let file = "scenarios/processes/manager_dict_lost_update.toml";
    let mut child = crate::common::simrace_command()
        .args(["run", file, "--engine", "cpython", "--runs", "100000"])
        .args(["--format", "json", "--no-timing"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run simrace");
    let children = |pid: &str| -> Vec<String> {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten();
        tasks
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
            .flat_map(|c| c.split_whitespace().map(String::from).collect::<Vec<_>>())
            .collect()
    };
    // Python, once it has started the manager.
    let (python, manager) = (0..200)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(50));
            children(&child.id().to_string())
                .into_iter()
                .find_map(|py| {
                    // The batch, not the probe of the interpreter's version.
                    let cmd = std::fs::read_to_string(format!("/proc/{py}/cmdline"));
                    if !cmd.is_ok_and(|c| c.contains("--json")) {
                        return None;
                    }
                    let kids = children(&py);
                    kids.first().map(|m| (py.clone(), m.clone()))
                })
        })
        .expect("Python and its manager");
    let killed = Instant::now();
    let _ = Command::new("kill").args(["-KILL", &python]).status();
    while child.try_wait().expect("wait for simrace").is_none() {
        if killed.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = Command::new("kill").args(["-KILL", &manager]).status();
            panic!("simrace still waits 20 s after its Python died");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("wait for simrace");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no report ({e}): {}", stderr(&out)));
    // Killed before its first run or after some: either way, said.
    let said = v.to_string();
    assert!(
        said.contains("Python ended early")
            || said.contains("did not run (Python exited with signal: 9"),
        "{said}"
    );
    let state = std::fs::read_to_string(format!("/proc/{manager}/stat")).unwrap_or_default();
    assert!(
        state.is_empty() || state.contains(") Z "),
        "the manager {manager} outlived its Python: {state}"
    );
}

#[test]
fn cpython_reports_python_exceptions_and_where_deadlocked_threads_are() {
    if !python("cpython_reports_python_exceptions_and_where_deadlocked_threads_are") {
        return;
    }
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec![
            "run",
            "--engine",
            "cpython",
            "--format",
            "json",
            "--no-timing",
        ];
        all.extend(args);
        serde_json::from_slice(&simrace(&all).stdout).unwrap()
    };
    let v = json(&["scenarios/processes/pipe_eof.toml", "--runs", "3"]);
    let e = &v["engines"][0];
    assert_eq!(e["engine"], "cpython");
    assert_eq!(e["kinds"], serde_json::json!(["error"]));
    let m = e["findings"][0]["message"].as_str().unwrap();
    assert!(m.starts_with("consumer (line 22): EOFError"), "{m}");
    assert!(m.contains("traceback: File \"pipe_eof.py\", line "), "{m}");
    assert!(m.contains("p[0].recv()"), "{m}");

    // A task's failure, raised again by `get()` in the main program, at its line.
    let v = json(&["scenarios/pool/exception_collected.toml", "--runs", "2"]);
    let e = &v["engines"][0];
    assert_eq!(e["kinds"], serde_json::json!(["error"]));
    let m = e["findings"][0]["message"].as_str().unwrap();
    assert!(m.starts_with("main (line 19): ZeroDivisionError"), "{m}");
    assert!(m.contains("print(r.get())"), "{m}");

    let v = json(&["scenarios/locks/lock_reentry_deadlock.toml", "--runs", "2"]);
    let e = &v["engines"][0];
    assert_eq!(e["kinds"], serde_json::json!(["deadlock"]));
    let m = e["findings"][0]["message"].as_str().unwrap();
    // Which worker re-takes the lock first is CPython's choice: one of them is stuck there.
    assert!(m.contains("] (line 18) at `"), "{m}");
    assert!(m.contains("with m:"), "{m}");
}

#[test]
fn the_default_run_adds_a_short_cpython_run_unless_told_not_to() {
    let v = |args: &[&str]| -> serde_json::Value {
        let mut all = vec![
            "run",
            "scenarios/counter.toml",
            "--format",
            "json",
            "--runs",
            "10",
        ];
        all.extend(args);
        serde_json::from_slice(&simrace(&all).stdout).unwrap()
    };
    let without = v(&["--no-python"]);
    assert_eq!(without["engines"].as_array().unwrap().len(), 1);
    if !python("the_default_run_adds_a_short_cpython_run_unless_told_not_to") {
        return;
    }
    let with = v(&[]);
    assert_eq!(with["engines"][0]["engine"], "native");
    assert_eq!(with["engines"][1]["engine"], "cpython");
    assert_eq!(with["engines"][1]["executions"], 10);
    // The explorer's verdict stays the top level.
    assert_eq!(with["kinds"], serde_json::json!(["assertion", "data_race"]));
}

#[test]
fn without_python_the_engine_says_so_and_exits_2() {
    let out = simrace(&[
        "run",
        "scenarios/counter.toml",
        "--engine",
        "cpython",
        "--python",
        "/nonexistent/python3",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot run /nonexistent/python3"),
        "{}",
        stderr(&out)
    );
    let out = crate::common::simrace_command()
        .env("PATH", root().join("no-such-dir"))
        .args(["run", "scenarios/counter.toml", "--engine", "cpython"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no python3 found on PATH"),
        "{}",
        stderr(&out)
    );
}

/// A run that never ends outside the watchdog's reach (CPython 3.11's Pool.terminate()
/// can hang) stops the batch 16 s after the last run's line, whatever `--runs` says,
/// and says why: the only guard was the whole batch's deadline, 75 minutes for 1,000
/// runs. The stand-in interpreter answers the version probe and then hangs.
#[cfg(unix)]
#[test]
fn a_run_that_hangs_stops_the_batch_and_says_why() {
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Duration, Instant};
    let dir = std::env::temp_dir().join(format!("simrace-hang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("python3");
    std::fs::write(
        &fake,
        "#!/bin/sh\nif [ \"$1\" = \"-c\" ]; then echo \"$0\"; echo 3.11.0; exit 0; fi\nsleep 600\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let started = Instant::now();
    let out = simrace(&[
        "run",
        "scenarios/counter.toml",
        "--engine",
        "cpython",
        "--python",
        fake.to_str().unwrap(),
        "--runs",
        "1000",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a run of Python went on for 16 s without an end"),
        "{}",
        stderr(&out)
    );
}

/// A message with an object's address (`<...ApplyResult object at 0x7f...> not ready`)
/// is one failure, not one per address: the address is dropped.
#[test]
fn an_address_in_a_message_does_not_split_a_failure() {
    if !python("an_address_in_a_message_does_not_split_a_failure") {
        return;
    }
    let file = "tests/fixtures/cpython/not_ready.toml";
    let v = cpython_json(file, 100);
    let findings = v["engines"][0]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(findings[0].get("others").is_none(), "{findings:?}");
    let message = findings[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "main (line 19): ValueError: <multiprocessing.pool.ApplyResult object> not ready"
        ),
        "{message}"
    );
    assert!(conform(file).is_empty());
}

/// A thread may switch before a `with` block's release, as the model's release is a step
/// of its own: a lock held across `with m: pass` is seen held (before, in none of 3,000
/// runs; now in about one in ten).
#[test]
fn a_lock_held_across_an_empty_body_is_seen_held() {
    if !python("a_lock_held_across_an_empty_body_is_seen_held") {
        return;
    }
    let file = "tests/fixtures/cpython/held_briefly.toml";
    let v = cpython_json(file, 2000);
    assert_eq!(v["engines"][0]["kinds"], serde_json::json!(["assertion"]));
}

/// The real thing behind `regressions::a_notify_spent_on_a_waiter_that_timed_out_is_lost`:
/// CPython keeps a waiter that timed out on the Condition's list until it has the lock
/// back, so a notify made meanwhile is spent on it and the other waiter sleeps. The
/// program forces that order (the notifier holds the lock past a's timeout, once both
/// wait), and the explorer finds the deadlock in the same scenario.
#[test]
fn a_notify_is_lost_to_a_waiter_that_timed_out_on_cpython() {
    if !python("a_notify_is_lost_to_a_waiter_that_timed_out_on_cpython") {
        return;
    }
    let program = r#"
import threading, time
cv = threading.Condition()
ready = False
def a():
    with cv:
        if cv.wait(timeout=1.0):
            cv.notify()
def b():
    with cv:
        while not ready:
            cv.wait()
def until_waiting(n):
    while True:
        with cv:
            if len(cv._waiters) >= n:
                return
        time.sleep(0.001)
ta = threading.Thread(target=a, daemon=True); ta.start(); until_waiting(1)
tb = threading.Thread(target=b, daemon=True); tb.start(); until_waiting(2)
with cv:
    time.sleep(1.5)  # a times out meanwhile and waits for the lock, still listed
    ready = True
    cv.notify()
ta.join(5)
tb.join(0.5)
print("a returned:", not ta.is_alive(), "b waits:", tb.is_alive())
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(program)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "a returned: True b waits: True",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = "tests/fixtures/regressions/notify_lost_to_timed_out_waiter.toml";
    assert_eq!(run_report(&load(file)).kinds.to_vec(), ["deadlock"]);
}
