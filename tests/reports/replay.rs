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

/// Every finding of the library replays, through the command, to itself: the same kind
/// and message (for a race, the same second access). (Before, a race's replay could name another pair of the execution, a
/// deadlock after a process's failure replayed to that failure, and a livelock at
/// `max_steps` to nothing.)
#[test]
fn every_library_finding_replays_to_itself() {
    for file in library_files() {
        let file = relative(std::path::Path::new(&file));
        let out = simrace(&["run", &file, "--engine", "explore", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for f in v["findings"].as_array().unwrap() {
            let schedule = f["schedule"].as_str().unwrap();
            let (code, r) = replay_json(&file, schedule);
            assert_eq!(code, Some(1), "{file} {schedule}");
            let said = (
                &r["finding"]["kind"],
                r["finding"]["message"].as_str().unwrap(),
            );
            let message = f["message"].as_str().unwrap();
            assert_eq!(said.0, &f["kind"], "{file} {schedule}");
            // Several races can end at the same step, each with its own finding and the
            // same schedule: the replay names one of them, at that second access.
            let same = match f["kind"].as_str() {
                Some("data_race") => {
                    let second = |m: &str| m.rsplit(" and ").next().map(str::to_string);
                    let variable = |m: &str| m.split(':').next().map(str::to_string);
                    second(message) == second(said.1) && variable(message) == variable(said.1)
                }
                _ => message.ends_with(said.1),
            };
            assert!(same, "{file} {schedule}: {said:?} for {message}");
        }
    }
}

/// A livelock at `max_steps` (the scenario's or `--max-steps`) replays to the livelock,
/// and a deadlock after a process's failure to the deadlock: the replay had said that
/// the execution could go on, and named the process's error.
#[test]
fn a_livelock_at_max_steps_and_a_deadlock_after_an_error_replay_to_themselves() {
    let file = "tests/fixtures/regressions/loop_past_max_steps.toml";
    let (code, v) = replay_json(file, "0*50");
    assert_eq!(code, Some(1));
    assert_eq!(v["finding"]["kind"], "livelock");
    assert_eq!(
        v["finding"]["message"],
        "the execution ran past max_steps = 50 without finishing"
    );
    let (code, _) = replay_json(file, "0*49");
    assert_eq!(code, Some(0));
    let flag = ["--max-steps", "20", "--format", "json"];
    let out = simrace(&[&["replay", file, "--schedule", "0*20"], &flag[..]].concat());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["finding"]["kind"], "livelock");
    let file = "tests/fixtures/regressions/deadlock_after_process_error.toml";
    let (code, v) = replay_json(file, "1,0,1");
    assert_eq!(code, Some(1));
    assert_eq!(v["finding"]["kind"], "deadlock");
    // Up to the join, the process's error is what the execution has found.
    let (code, v) = replay_json(file, "1,0");
    assert_eq!((code, &v["finding"]["kind"]), (Some(1), &"error".into()));
}

/// A run whose `--max-steps` is not the scenario's own says so in its replay commands
/// (JSON `max_steps`, the text's `replay:` line), and the command as printed reaches the
/// livelock; without the flag the same schedule runs on to another finding (the replay
/// line had left the flag out).
#[test]
fn a_replay_line_carries_the_runs_max_steps() {
    let file = "scenarios/counter.toml";
    let run = ["run", file, "--engine", "explore", "--max-steps", "5"];
    let out = simrace(&[&run[..], &["--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["max_steps"], 5);
    let livelock = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "livelock")
        .expect("the loop runs past 5 steps");
    let schedule = livelock["schedule"].as_str().unwrap();
    let text = stdout(&simrace(&run));
    let printed = format!("replay: simrace replay {file} --schedule {schedule} --max-steps 5");
    assert!(text.contains(&printed), "{text}");
    let args: Vec<&str> = printed["replay: simrace ".len()..].split(' ').collect();
    let out = simrace(&[&args[..], &["--format", "json"]].concat());
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["finding"]["message"], livelock["message"]);
    let (_, r) = replay_json(file, schedule);
    assert_ne!(r["finding"]["kind"], "livelock");
    // The scenario's own limit is not repeated.
    let out = simrace(&["run", file, "--engine", "explore", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.get("max_steps").is_none());
}

/// An invariant that stays false fails again at every step; the replay names the step
/// where it became false (it said the last one).
#[test]
fn a_replay_names_the_step_where_the_invariant_became_false() {
    let file = "tests/fixtures/regressions/race_after_failed_invariant.toml";
    let out = simrace(&["replay", file, "--schedule", "0,1,0"]);
    let text = stdout(&out);
    assert!(
        text.contains("assertion: check (line 26) at step 1: invariant `bad == 0`"),
        "{text}"
    );
}
