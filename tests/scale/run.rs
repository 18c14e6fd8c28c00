//! `simrace run FILE --partition` and its merge: the same report whatever the partition
//! (the one that one share holding every task gives), and the exit status of one run, on
//! library and generated scenarios (split from the first step with the hidden
//! `--split-after 0`, so that the tasks are many) and on a published benchmark.

use super::{generated, refused, simrace_to};
use crate::common::{library_files, stderr};
use crate::differential::generate::mixed;

/// `run FILE` with `flags` in `kind` shares of `n` merged: the same stdout (text and
/// JSON) and exit status as one share holding every task (`count:1/1`), and the exit
/// status of `run FILE --jobs 2`. Returns the merged JSON report and that run's (the one
/// run's report, but for `peak_memory`: explorer.md).
fn merge_is_one_run(
    file: &str,
    flags: &[&str],
    kind: &str,
    n: usize,
) -> (serde_json::Value, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = [&["run", file, "--engine", "explore", "--no-timing"], flags].concat();
    let shares = |kind: &str, n: usize| -> Vec<String> {
        (1..=n)
            .map(|i| {
                let out = d.join(format!("{kind}{i}of{n}.json"));
                let p = format!("{kind}:{i}/{n}");
                let o = simrace_to(&[&base[..], &["--partition", &p]].concat(), Some(&out));
                assert_eq!(o.status.code(), Some(0), "{file} share {p}: {}", stderr(&o));
                out.to_string_lossy().into_owned()
            })
            .collect()
    };
    let (all, many) = (shares("count", 1), shares(kind, n));
    let merge = |shares: &[String], format: &str| {
        let shares: Vec<&str> = shares.iter().map(String::as_str).collect();
        simrace_to(
            &[&["merge"], &shares[..], &["--format", format]].concat(),
            None,
        )
    };
    let (mut json, mut run_json) = (serde_json::Value::Null, serde_json::Value::Null);
    for format in ["text", "json"] {
        let one = merge(&all, format);
        let merged = merge(&many, format);
        let run = simrace_to(
            &[&base[..], &["--jobs", "2", "--format", format]].concat(),
            None,
        );
        assert_eq!(merged.status.code(), run.status.code(), "{file}");
        assert_eq!(
            merged.status.code(),
            one.status.code(),
            "{file}: {}",
            stderr(&merged)
        );
        assert_eq!(
            String::from_utf8_lossy(&merged.stdout),
            String::from_utf8_lossy(&one.stdout),
            "{file}"
        );
        if format == "json" {
            json = serde_json::from_slice(&merged.stdout).expect("the merge's JSON");
            run_json = serde_json::from_slice(&run.stdout).expect("the run's JSON");
        }
    }
    (json, run_json)
}

/// The JSON report of one unpartitioned `run FILE --engine explore` with `flags`.
fn one_run_json(file: &str, flags: &[&str]) -> serde_json::Value {
    let base = [
        "run",
        file,
        "--engine",
        "explore",
        "--no-timing",
        "--format",
        "json",
    ];
    let o = simrace_to(&[&base[..], flags].concat(), None);
    serde_json::from_slice(&o.stdout).expect("the run's JSON")
}

#[test]
fn library_explorations_in_shares_merge_to_one_run() {
    for file in library_files() {
        merge_is_one_run(&file, &["--split-after", "0"], "count", 2);
    }
}

#[test]
fn generated_explorations_in_shares_merge_to_one_run() {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 20, 12, mixed(3, 3));
    for k in 0..20 {
        let file = dir.path().join(format!("gen{k:02}.toml"));
        merge_is_one_run(&file.to_string_lossy(), &["--split-after", "0"], "hash", 3);
    }
}

#[test]
fn a_published_benchmark_in_shares_merges_to_one_run() {
    // lastzero(10): 3328 executions, split (over 500) at its default.
    merge_is_one_run("benches/scenarios/lastzero10.toml", &[], "count", 3);
}

/// A program that goes round in loops: at the default split, every share finds what
/// the one run finds, that the search should switch to state caching, and the merge is
/// that run's report, byte for byte (before, the shares split it, no task could switch,
/// and the merge stopped at the step budget, INCOMPLETE, after 4,937 executions).
#[test]
fn a_cyclic_program_in_shares_switches_as_one_run() {
    let file = "tests/fixtures/cyclic/polite_livelock.toml";
    let merged = merge_is_one_run(file, &[], "count", 2).0;
    let one = one_run_json(file, &[]);
    assert_eq!(merged["stats"], one["stats"]);
    assert_eq!(merged["findings"], one["findings"]);
    assert_eq!(merged["stats"]["complete"], true);
    assert!(
        merged["stats"]["switched"].is_string(),
        "{}",
        merged["stats"]
    );
}

/// A run that a limit stops: the merge is the split search run task after task under the
/// limits of the whole search, whatever the partition (the task that crosses a limit is
/// run again in the merge, from the work before it). `--max-executions` stops it after
/// as many executions as the one run; the default step budget stops it too, where the
/// split search has spent it. Before, each task had the whole budget, and the merge
/// explored all 40,320 executions of eight threads and called itself complete. (Every
/// share explores its tasks whole, so the limit of executions is tried on seven threads,
/// 5,040 executions; the step budget, which seven threads do not reach, on eight.)
#[test]
fn a_limited_run_in_shares_stops_at_the_limit_of_one_run() {
    let stats = |v: &serde_json::Value| {
        let s = &v["stats"];
        let limit = s["limit"].as_str().unwrap_or("none").to_string();
        (
            s["executions"].as_u64().unwrap(),
            s["complete"].clone(),
            limit,
        )
    };
    // The tasks hold 120 executions each or none (the split leaves out most that hold
    // none): the limit falls in one, which the merge runs again from the 960 before it.
    let limit = ["--max-executions", "1000"];
    let (merged, one) =
        merge_is_one_run("tests/fixtures/scale/lock_orders7.toml", &limit, "hash", 3);
    assert_eq!(stats(&merged), stats(&one));
    assert_eq!(stats(&merged).0, 1000);
    assert_eq!(stats(&merged).1, false);
    // The default step budget: nine tasks fit in it (17,280 executions), and the tenth
    // stops after 1,379. (15,371 before the split left out the tasks that hold no
    // execution, each 720 blocked ones: machine/future.rs.)
    let file = "tests/fixtures/scale/lock_orders8.toml";
    let (merged, one) = merge_is_one_run(file, &[], "count", 2);
    let (executions, complete, why) = stats(&merged);
    assert_eq!((executions, complete), (18_659, false.into()));
    let budget = "stopped at the default budget of 1000000 steps";
    assert!(why.starts_with(budget), "{why}");
    assert!(stats(&one).2.starts_with(budget));
}

#[test]
fn merge_refuses_run_shares_of_another_file_or_flags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let share = |file: &str, i: usize, flags: &[&str]| {
        let out = d.join(format!("{i}{}.json", flags.len()));
        let p = format!("count:{i}/2");
        let base = ["run", file, "--engine", "explore", "--partition", &p];
        simrace_to(&[&base[..], flags].concat(), Some(&out));
        out.to_string_lossy().into_owned()
    };
    let a = share("benches/scenarios/lockinc3.toml", 1, &[]);
    let b = share("benches/scenarios/readers3.toml", 2, &["--max-steps", "99"]);
    let merge = |files: &[&str]| simrace_to(&[&["merge"], files].concat(), None);
    refused(&merge(&[&a, &b]), "different flags");
    let c = share("benches/scenarios/readers3.toml", 2, &[]);
    refused(&merge(&[&a, &c]), "shares of different inputs");
    // --partition shares one exploration.
    let o = simrace_to(
        &[
            "run",
            "benches/scenarios/lockinc3.toml",
            "--partition",
            "count:1/2",
        ],
        None,
    );
    refused(&o, "give one FILE and --engine explore");
}

/// 435 data races in every execution, more than a report writes out: each share keeps
/// the traces of its own first 256 by key, and the merge is still the one run's.
#[test]
fn shares_with_more_races_than_a_report_shows_merge_to_one_run() {
    let file = "tests/fixtures/scale/thirty_writers.toml";
    let flags = ["--max-executions", "300"];
    let merged = merge_is_one_run(file, &flags, "hash", 3).0;
    assert_eq!(merged["findings"].as_array().unwrap().len(), 256);
    assert_eq!(merged["findings_not_shown"], 435 - 256);
    assert_eq!(merged["stats"], one_run_json(file, &flags)["stats"]);
}
