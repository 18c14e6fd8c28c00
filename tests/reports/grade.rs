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
