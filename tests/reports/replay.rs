//! `simrace replay`: exit status 1 exactly when the schedule reaches a finding, the JSON
//! `finding` (kind and message, or null), threads given by name, and every finding of the
//! library replaying, through the command, to a finding of its own kind.

use crate::common::{library_files, relative, simrace, stdout};

fn replay_json(file: &str, schedule: &str) -> (Option<i32>, serde_json::Value) {
    let out = simrace(&["replay", file, "--schedule", schedule, "--format", "json"]);
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), v)
}

#[test]
fn the_exit_status_says_whether_a_finding_is_reached() {
    let (code, v) = replay_json("scenarios/counter.toml", "0,1,0*2,1*2");
    assert_eq!(code, Some(1));
    assert_eq!(v["finding"]["kind"], "assertion");
    assert_eq!(
        v["finding"]["message"],
        "final assertion `counter == 2` does not hold"
    );
    // Unfinished: nothing reached yet, but a race needs two steps of different threads.
    let (code, v) = replay_json("scenarios/counter.toml", "0");
    assert_eq!(code, Some(0));
    assert!(v["finding"].is_null());
    // Nothing has run yet: no finding.
    let (code, v) = replay_json("scenarios/locks/abba_deadlock.toml", "");
    assert_eq!(code, Some(0));
    assert!(v["finding"].is_null());
}

#[test]
fn threads_may_be_named() {
    let out = simrace(&[
        "replay",
        "scenarios/counter.toml",
        "--schedule",
        "worker[0],worker[1],worker[0]*2,worker[1]*2",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("final assertion `counter == 2` does not hold"));
    let out = simrace(&["replay", "scenarios/counter.toml", "--schedule", "bob"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no thread `bob`"));
}

#[test]
fn every_library_finding_replays_to_its_kind() {
    for file in library_files() {
        let file = relative(std::path::Path::new(&file));
        let out = simrace(&["run", &file, "--engine", "explore", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for f in v["findings"].as_array().unwrap() {
            let schedule = f["schedule"].as_str().unwrap();
            let (code, r) = replay_json(&file, schedule);
            assert_eq!(code, Some(1), "{file} {schedule}");
            let kind = r["finding"]["kind"].as_str().unwrap();
            // A data race's schedule ends at its second access; an assertion may be
            // reached through the race on the way.
            assert!(
                kind == f["kind"] || f["kind"] == "data_race",
                "{file} {schedule}: {kind} for {}",
                f["kind"]
            );
        }
    }
}
