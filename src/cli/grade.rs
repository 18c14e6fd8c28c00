//! `simrace grade EXERCISE SUBMISSION...`: each submission graded against the exercise
//! ([`crate::grade`]), on several threads, printed in the order given: one line and its
//! reasons per submission (or one JSON document), a summary, and JUnit XML on request.
//! Exit status: 0 when every submission passed, 1 when one did not (an invalid
//! submission fails with its diagnostic as the reason), 2 when the exercise is invalid.

use super::args::{Format, GradeArgs};
use super::config::grader;
use super::{load_or_print, print_out};
use crate::check::Checker;
use crate::frontend::ast::Scenario;
use crate::frontend::scenario;
use crate::grade::{self, Grade};
use std::fmt::Write as _;

pub(super) fn grade(a: &GradeArgs) -> u8 {
    // The exercise must load and lower: a broken exercise grades nobody.
    if let Err(code) = load_or_print(&a.exercise) {
        return code;
    }
    let exercise = match scenario::load(&a.exercise) {
        Ok(s) => s,
        Err(d) => {
            eprint!("{}", d.render());
            return 2;
        }
    };
    let jobs = a
        .jobs
        .map(|j| j as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let grades = grade_parallel(&exercise, &a.submissions, &grader(a), jobs);
    match a.format {
        Format::Text => print_out(&text(&a.exercise, &exercise, &grades)),
        Format::Json => print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&grade::json(&a.exercise, &grades)).expect("json")
        )),
    }
    if let Some(path) = &a.junit
        && let Err(e) = std::fs::write(path, junit(&a.exercise, &grades))
    {
        eprintln!("simrace: cannot write the JUnit report {path}: {e}");
        return 2;
    }
    u8::from(grades.iter().any(|g| !g.passed))
}

/// The grades in the order of `files`, computed on up to `jobs` threads.
fn grade_parallel(ex: &Scenario, files: &[String], checker: &Checker, jobs: usize) -> Vec<Grade> {
    let chunk = files.len().div_ceil(jobs.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                std::thread::Builder::new()
                    .stack_size(16 << 20) // the parser recurses on nested code
                    .spawn_scoped(scope, move || grade::grade_all(ex, part, checker))
                    .expect("spawning a grading thread")
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a grading thread panicked"))
            .collect()
    })
}

fn text(path: &str, ex: &Scenario, grades: &[Grade]) -> String {
    let mut out = String::new();
    let goal: Vec<&str> = ex.expect.iter().map(|k| k.as_str()).collect();
    let goal = if goal.is_empty() {
        "pass".to_string()
    } else {
        goal.join(", ")
    };
    let _ = writeln!(out, "exercise {path} (goal: {goal})");
    for g in grades {
        let verdict = if g.passed { "PASS" } else { "FAIL" };
        let _ = writeln!(out, "{verdict} {}  {}/{}", g.file, g.score, g.max_score);
        for r in &g.reasons {
            let _ = writeln!(out, "  - {r}");
        }
    }
    let passed = grades.iter().filter(|g| g.passed).count();
    let _ = writeln!(
        out,
        "{} submission(s): {passed} passed, {} failed",
        grades.len(),
        grades.len() - passed
    );
    out
}

fn junit(path: &str, grades: &[Grade]) -> String {
    use quick_xml::escape::escape;
    let failures = grades.iter().filter(|g| !g.passed).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
        escape(path),
        grades.len()
    );
    for g in grades {
        let _ = write!(
            out,
            "  <testcase classname=\"grade\" name=\"{}\"",
            escape(&g.file)
        );
        if g.passed {
            out.push_str("/>\n");
            continue;
        }
        let _ = writeln!(
            out,
            ">\n    <failure message=\"score {}/{}\">{}</failure>\n  </testcase>",
            g.score,
            g.max_score,
            escape(g.reasons.join("\n"))
        );
    }
    out.push_str("</testsuite>\n");
    out
}
