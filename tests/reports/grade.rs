//! `simrace grade`: the example exercise against its mock submissions. The fix passes;
//! the cheats that passed `check` before grading existed (deleting the `[final]` check,
//! editing `expect`, cutting the thread count) each fail with the reason said plainly;
//! an invalid submission fails with its diagnostic and does not stop the others; the
//! output is the same for any number of jobs.

use crate::common::{simrace, stdout};

const EXERCISE: &str = "exercises/lost_update/exercise.toml";

fn submissions() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("exercises/lost_update/submissions")
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().replace('\\', "/"))
        .collect();
    v.sort();
    v
}

fn grade(extra: &[&str]) -> (Option<i32>, String) {
    let subs = submissions();
    let mut args = vec!["grade", EXERCISE];
    args.extend(subs.iter().map(String::as_str));
    args.extend(extra);
    let out = simrace(&args);
    (out.status.code(), stdout(&out))
}

#[test]
fn the_fix_passes_and_every_cheat_fails_with_its_reason() {
    let (code, text) = grade(&["--format", "json", "--jobs", "2"]);
    assert_eq!(code, Some(1), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["exercise"], EXERCISE);
    let subs = v["submissions"].as_array().unwrap();
    let by_name = |name: &str| {
        subs.iter()
            .find(|s| s["file"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let reasons = |name: &str| -> String {
        let s = by_name(name);
        assert_eq!(s["passed"], false, "{name}");
        s["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let fixed = by_name("fixed_with_lock.toml");
    assert_eq!(fixed["passed"], true);
    assert_eq!(
        (fixed["score"].as_u64(), fixed["max_score"].as_u64()),
        (Some(2), Some(2))
    );
    assert!(
        reasons("deleted_the_check.toml")
            .contains("the [final] assertion `balance == 200` was removed")
    );
    assert!(reasons("edited_expect.toml").contains("`expect` was changed"));
    assert!(reasons("one_worker.toml").contains("runs 2 instance(s) in the exercise, 1 here"));
    assert!(reasons("unchanged.toml").contains(
        "the exercise expects no bug (pass), and the submission has assertion, data_race"
    ));
    assert!(reasons("syntax_error.toml").contains("syntax_error.toml:16:11: expected `:`"));
    // Keeping the rules scores a point even when the behaviour is wrong.
    assert_eq!(by_name("unchanged.toml")["score"], 1);
    assert_eq!(by_name("deleted_the_check.toml")["score"], 0);
}

#[test]
fn the_text_is_the_same_for_any_number_of_jobs() {
    let (code, one) = grade(&["--jobs", "1"]);
    assert_eq!(code, Some(1));
    let (_, three) = grade(&["--jobs", "3"]);
    assert_eq!(one, three);
    assert!(
        one.ends_with("6 submission(s): 1 passed, 5 failed\n"),
        "{one}"
    );
}

#[test]
fn a_passing_class_exits_0_and_a_broken_exercise_exits_2() {
    let fixed = "exercises/lost_update/submissions/fixed_with_lock.toml";
    let out = simrace(&["grade", EXERCISE, fixed, fixed]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = simrace(&[
        "grade",
        fixed.replace("fixed_with_lock", "syntax_error").as_str(),
        fixed,
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn junit_has_one_case_per_submission() {
    let path = std::env::temp_dir().join(format!("simrace-grade-{}.xml", std::process::id()));
    let p = path.to_string_lossy().to_string();
    let (code, _) = grade(&["--junit", &p]);
    assert_eq!(code, Some(1));
    let xml = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(xml.matches("<testcase ").count(), 6);
    assert_eq!(xml.matches("<failure ").count(), 5);
}

/// Grades every submission of `exercises/NAME/` and returns (file name, passed, score,
/// reasons joined).
fn graded(name: &str) -> Vec<(String, bool, u64, String)> {
    let dir = format!("exercises/{name}/submissions");
    let mut subs: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().replace('\\', "/"))
        .collect();
    subs.sort();
    let exercise = format!("exercises/{name}/exercise.toml");
    let mut args = vec!["grade", exercise.as_str(), "--format", "json"];
    args.extend(subs.iter().map(String::as_str));
    let out = simrace(&args);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let file = s["file"].as_str().unwrap();
            let reasons: Vec<&str> = s["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            (
                file.rsplit('/').next().unwrap().to_string(),
                s["passed"].as_bool().unwrap(),
                s["score"].as_u64().unwrap(),
                reasons.join("\n"),
            )
        })
        .collect()
}

/// Which submissions pass, and a piece of each failure's reason.
fn expect_grades(name: &str, want: &[(&str, bool, u64, &str)]) {
    let got = graded(name);
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((file, passed, score, reasons), (wfile, wpassed, wscore, wreason)) in got.iter().zip(want)
    {
        assert_eq!(file, wfile);
        assert_eq!((*passed, *score), (*wpassed, *wscore), "{file}: {reasons}");
        assert!(reasons.contains(wreason), "{file}: {reasons}");
    }
}

#[test]
fn the_bounded_buffer_is_fixed_by_a_while_loop_and_its_cheats_fail() {
    expect_grades(
        "bounded_buffer",
        &[
            (
                "changed_the_buffer.toml",
                false,
                0,
                "the initial value of `count` was changed",
            ),
            (
                "deleted_the_checks.toml",
                false,
                0,
                "the [invariant] `count >= 0 and count <= 1` was removed",
            ),
            ("fixed_with_while.toml", true, 2, ""),
            ("notify_one.toml", false, 1, "the submission has deadlock"),
            (
                "one_consumer.toml",
                false,
                0,
                "the thread `consumer` runs 2 instance(s) in the exercise, 1 here",
            ),
            (
                "unchanged.toml",
                false,
                1,
                "invariant `count >= 0 and count <= 1` does not hold",
            ),
        ],
    );
}

/// The answer is a schedule: one that reaches the deadlock passes (by names or
/// numbers); one that stops early, finishes, names no thread, or a copy of the
/// exercise (which has the bug already) fails.
#[test]
fn the_philosophers_want_a_schedule_that_deadlocks() {
    expect_grades(
        "philosophers_deadlock",
        &[
            ("by_numbers.schedule", true, 2, ""),
            (
                "copy_of_the_exercise.toml",
                false,
                0,
                "this exercise asks for a schedule",
            ),
            (
                "eats_in_turn.schedule",
                false,
                1,
                "this one reaches no finding",
            ),
            ("everyone_takes_the_left_fork.schedule", true, 2, ""),
            (
                "stops_too_early.schedule",
                false,
                1,
                "this one reaches no finding",
            ),
            (
                "unknown_names.schedule",
                false,
                0,
                "the schedule is not valid: no thread `plato`",
            ),
        ],
    );
}

#[test]
fn the_joinable_queue_needs_task_done_and_the_set_after_join() {
    expect_grades(
        "joinable_queue",
        &[
            (
                "deleted_the_check.toml",
                false,
                0,
                "the [final] assertion `results[0] == 2` was removed",
            ),
            (
                "edited_expect.toml",
                false,
                0,
                "`expect` was changed to deadlock",
            ),
            ("fixed.toml", true, 2, ""),
            (
                "only_task_done.toml",
                false,
                1,
                "the submission has deadlock",
            ),
            (
                "unchanged.toml",
                false,
                1,
                "waits in q.join() for 2 task_done() calls that never come",
            ),
        ],
    );
}
