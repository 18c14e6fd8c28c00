//! `simrace grade`: a teacher's exercise against students' submissions.
//!
//! The exercise is a scenario as the teacher wrote it. Its `expect` (the goal, usually a
//! pass), `[final]`, `[invariant]`, `[limits]`, `start_method`, the `[shared]` and
//! `[atomics]` variables with their initial values, the objects and the parties (names,
//! thread or process, counts, `start`, `daemon`) apply to every submission, whatever the
//! submission's own tables say. A submission may change the code, and add `[ghost]`
//! variables and objects (a lock that fixes the bug); anything else that differs from the
//! exercise is a reason to fail, said plainly. Then the submission is explored (the
//! explorer: deterministic and exhaustive), and it passes when what it finds is exactly
//! the exercise's `expect` and the exploration was complete.
//!
//! A submission is compared with the exercise table by table, so the reasons name what
//! was changed ("the [final] assertion `balance == 200` was removed") rather than only
//! that the behaviour is wrong; a grade never depends on which of the two checks fails
//! first. The score is one point for keeping the exercise's rules and one for the
//! behaviour it asks for.

use crate::check::Checker;
use crate::frontend::ast::{Expr, Scenario, VarClass};
use crate::frontend::diag::Diagnostic;
use crate::frontend::{lower, scenario};
use crate::ir::FindingKind;
use crate::report::RunReport;
use serde::Serialize;

/// The points a submission can score: the exercise's rules kept, the behaviour asked for.
pub const MAX_SCORE: u32 = 2;

/// The grade of one submission.
#[derive(Clone, Debug, Serialize)]
pub struct Grade {
    pub file: String,
    pub passed: bool,
    pub score: u32,
    pub max_score: u32,
    /// Why it did not pass (empty when it passed).
    pub reasons: Vec<String>,
}

/// Grades `submissions` against `exercise` (already loaded and checked to lower), each
/// with `checker`'s limits where neither file gives one.
pub fn grade_all(exercise: &Scenario, submissions: &[String], checker: &Checker) -> Vec<Grade> {
    submissions
        .iter()
        .map(|file| grade_one(exercise, file, checker))
        .collect()
}

/// Whether the exercise asks for a schedule: its goal is a bug, and the file as the
/// teacher wrote it already reaches it, so only the order of steps that shows it is left
/// to find (a copy of the file would pass otherwise).
pub fn wants_schedule(exercise: &Scenario, checker: &Checker) -> bool {
    !exercise.expect.is_empty()
        && lower::lower(exercise).is_ok_and(|p| checker.report(&p).matches_expectation)
}

/// Grades one submission file.
pub fn grade_one(exercise: &Scenario, file: &str, checker: &Checker) -> Grade {
    let invalid = |d: Diagnostic| Grade {
        file: file.to_string(),
        passed: false,
        score: 0,
        max_score: MAX_SCORE,
        reasons: vec![format!(
            "the submission is not a valid scenario: {}:{}:{}: {}",
            d.path, d.line, d.column, d.message
        )],
    };
    if file.ends_with(".schedule") {
        return grade_schedule(exercise, file);
    }
    if wants_schedule(exercise, checker) {
        return Grade {
            file: file.to_string(),
            passed: false,
            score: 0,
            max_score: MAX_SCORE,
            reasons: vec![
                "this exercise asks for a schedule (a .schedule file): the scenario as given already has the bug, so a scenario shows nothing".into(),
            ],
        };
    }
    let sub = match scenario::load(file) {
        Ok(s) => s,
        Err(d) => return invalid(d),
    };
    if let Err(d) = lower::lower(&sub) {
        return invalid(d);
    }
    let broken = rules_broken(exercise, &sub);
    // The exercise's checks apply: its `[final]` and `[invariant]` take the place of the
    // submission's own (a submission that dropped them is explored with them).
    let checked = with_exercise_checks(&sub.source, &exercise.source);
    let mut prog = match scenario::parse_scenario(file, &checked).and_then(|s| lower::lower(&s)) {
        Ok(p) => p,
        Err(d) => return invalid(d),
    };
    // The exercise's goal and limits apply, whatever the submission's tables say.
    prog.expect = exercise.expect.clone();
    prog.max_steps = exercise.limits.max_steps;
    prog.max_executions = exercise.limits.max_executions;
    prog.timeout = exercise.limits.timeout;
    let report = checker.report(&prog);
    let mut reasons = broken.clone();
    let behaves = report.matches_expectation && report.stats.complete;
    if !report.matches_expectation {
        reasons.push(format!(
            "the exercise expects {}, and the submission has {}",
            kinds_text(&exercise.expect),
            found_text(&report),
        ));
    }
    if !report.stats.complete {
        reasons.push(format!(
            "the exploration stopped at a limit ({}), so a bug may be missing: make the program smaller or faster to finish",
            report.stats.limit.clone().unwrap_or_else(|| "a limit".into())
        ));
    }
    let score = u32::from(broken.is_empty()) + u32::from(behaves);
    Grade {
        file: file.to_string(),
        passed: score == MAX_SCORE,
        score,
        max_score: MAX_SCORE,
        reasons,
    }
}

/// Grades a schedule (`philosopher[0],philosopher[1]*2,...`, in a `.schedule` file): the
/// answer to an exercise that asks for the order of steps that reaches its `expect` (a
/// deadlock, say). One point for a schedule that fits the exercise (each choice is
/// possible), one for reaching a finding of an expected kind.
fn grade_schedule(exercise: &Scenario, file: &str) -> Grade {
    let graded = |score: u32, reasons: Vec<String>| Grade {
        file: file.to_string(),
        passed: score == MAX_SCORE,
        score,
        max_score: MAX_SCORE,
        reasons,
    };
    if exercise.expect.is_empty() {
        return graded(
            0,
            vec!["this exercise asks for a fixed scenario, not a schedule".into()],
        );
    }
    let fitted = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the schedule: {e}"))
        .and_then(|text| {
            let prog = lower::lower(exercise).map_err(|d| d.message)?;
            let text = text.lines().filter(|l| !l.trim_start().starts_with('#'));
            let text: Vec<&str> = text.collect();
            let choices = crate::search::parse_schedule_named(&prog, &text.join(","))
                .map_err(|e| format!("the schedule is not valid: {e}"))?;
            let r = crate::search::replay(&prog, &choices)
                .map_err(|e| format!("the schedule does not fit the exercise: {e}"))?;
            Ok(crate::detect::finding_reached(
                &prog,
                &r,
                crate::search::max_steps_of(&prog),
            ))
        });
    match fitted {
        Err(e) => graded(0, vec![e]),
        Ok(Some((kind, _))) if exercise.expect.contains(&kind) => graded(MAX_SCORE, vec![]),
        Ok(found) => graded(
            1,
            vec![format!(
                "the exercise asks for a schedule that reaches {}, and this one reaches {}",
                kinds_text(&exercise.expect),
                match found {
                    Some((kind, message)) => format!("{}: {message}", kind.as_str()),
                    None => "no finding (the execution finishes, or could go on)".into(),
                }
            )],
        ),
    }
}

/// The tables that hold checks, which the exercise sets.
const CHECK_TABLES: [&str; 2] = ["[final]", "[invariant]"];

/// For each line of a TOML text, the table header it is under (`[final]`), or `""`
/// before the first; lines inside a multi-line string are never headers.
fn tables_of(text: &str) -> Vec<String> {
    let mut current = String::new();
    let mut in_string = false;
    text.lines()
        .map(|line| {
            let t = line.trim();
            if !in_string && t.starts_with('[') {
                current = t.split('#').next().unwrap_or(t).trim().to_string();
            }
            if (line.matches("\"\"\"").count() + line.matches("'''").count()) % 2 == 1 {
                in_string = !in_string;
            }
            current.clone()
        })
        .collect()
}

/// `sub` with its check tables blanked (so that its line numbers stay as the student
/// wrote them) and the exercise's check tables appended.
fn with_exercise_checks(sub: &str, exercise: &str) -> String {
    let mut out: Vec<&str> = sub
        .lines()
        .zip(tables_of(sub))
        .map(|(l, t)| {
            if CHECK_TABLES.contains(&t.as_str()) {
                ""
            } else {
                l
            }
        })
        .collect();
    out.push("");
    out.extend(
        exercise
            .lines()
            .zip(tables_of(exercise))
            .filter(|(_, t)| CHECK_TABLES.contains(&t.as_str()))
            .map(|(l, _)| l),
    );
    out.join("\n") + "\n"
}

fn kinds_text(kinds: &[FindingKind]) -> String {
    if kinds.is_empty() {
        "no bug (pass)".into()
    } else {
        let k: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        k.join(", ")
    }
}

fn found_text(r: &RunReport) -> String {
    if r.kinds.is_empty() {
        return "none".into();
    }
    let first: Vec<String> = r
        .findings
        .iter()
        .filter(|f| !r.expected.contains(&f.kind))
        .take(1)
        .map(|f| match f.message.strip_prefix(&format!("{}: ", f.kind)) {
            Some(m) => format!(" (first: {}: {m})", f.kind),
            None => format!(" (first: {}: {})", f.kind, f.message),
        })
        .collect();
    format!("{}{}", r.kinds.join(", "), first.concat())
}

/// What the submission changed of what the exercise fixes, one sentence each.
pub fn rules_broken(ex: &Scenario, sub: &Scenario) -> Vec<String> {
    let mut out = vec![];
    if ex.expect != sub.expect {
        out.push(format!(
            "`expect` was changed to {}: the exercise's {} applies",
            kinds_text(&sub.expect),
            kinds_text(&ex.expect)
        ));
    }
    if ex.start_method != sub.start_method {
        out.push("`start_method` was changed".into());
    }
    checks_kept(
        ex,
        sub,
        "[final] assertion",
        &ex.final_asserts,
        &sub.final_asserts,
        &mut out,
    );
    checks_kept(
        ex,
        sub,
        "[invariant]",
        &ex.invariants,
        &sub.invariants,
        &mut out,
    );
    if ex.limits != sub.limits {
        out.push("[limits] was changed".into());
    }
    let observe = |s: &Scenario| {
        s.observe
            .as_ref()
            .map(|o| o.iter().map(|i| i.name.clone()).collect::<Vec<_>>())
    };
    if observe(ex) != observe(sub) {
        out.push("[final] observe was changed".into());
    }
    vars_kept(ex, sub, &mut out);
    objects_kept(ex, sub, &mut out);
    parties_kept(ex, sub, &mut out);
    out
}

/// An expression as written, with its white space folded.
fn expr_text(s: &Scenario, e: &Expr) -> String {
    let text = s.source.get(e.span.start..e.span.end).unwrap_or("");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn checks_kept(
    ex: &Scenario,
    sub: &Scenario,
    what: &str,
    theirs: &[Expr],
    mine: &[Expr],
    out: &mut Vec<String>,
) {
    let kept: Vec<String> = mine.iter().map(|e| expr_text(sub, e)).collect();
    for e in theirs {
        let t = expr_text(ex, e);
        if !kept.contains(&t) {
            out.push(format!("the {what} `{t}` was removed or changed"));
        }
    }
    let asked: Vec<String> = theirs.iter().map(|e| expr_text(ex, e)).collect();
    for t in kept.iter().filter(|t| !asked.contains(t)) {
        out.push(format!(
            "the {what} `{t}` is not the exercise's (checks are the exercise's to set)"
        ));
    }
}

fn class_name(c: VarClass) -> &'static str {
    match c {
        VarClass::Shared => "[shared]",
        VarClass::Atomic => "[atomics]",
        VarClass::Ghost => "[ghost]",
    }
}

fn vars_kept(ex: &Scenario, sub: &Scenario, out: &mut Vec<String>) {
    for v in ex.vars.iter().filter(|v| v.class != VarClass::Ghost) {
        match sub.vars.iter().find(|w| w.name.name == v.name.name) {
            None => out.push(format!(
                "the {} variable `{}` was removed",
                class_name(v.class),
                v.name.name
            )),
            Some(w) if w.class != v.class => out.push(format!(
                "`{}` was moved from {} to {}",
                v.name.name,
                class_name(v.class),
                class_name(w.class)
            )),
            Some(w) if w.init != v.init => out.push(format!(
                "the initial value of `{}` was changed",
                v.name.name
            )),
            Some(_) => {}
        }
    }
    for w in sub.vars.iter().filter(|w| w.class != VarClass::Ghost) {
        if !ex.vars.iter().any(|v| v.name.name == w.name.name) {
            out.push(format!(
                "the {} variable `{}` is new: only [ghost] variables and objects may be added",
                class_name(w.class),
                w.name.name
            ));
        }
    }
}

/// A value's debug form without its source positions, to compare declarations made in
/// two files.
fn without_spans(text: String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("span: Span {") {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        rest = rest.find('}').map_or("", |j| &rest[j + 1..]);
    }
    out.push_str(rest);
    out
}

fn objects_kept(ex: &Scenario, sub: &Scenario, out: &mut Vec<String>) {
    for o in &ex.objects {
        match sub.objects.iter().find(|p| p.name.name == o.name.name) {
            None => out.push(format!("the object `{}` was removed", o.name.name)),
            Some(p) => {
                let same = without_spans(format!("{:?}", o.kind))
                    == without_spans(format!("{:?}", p.kind))
                    && o.count == p.count;
                if !same {
                    out.push(format!(
                        "the object `{}` was changed (its kind, size or count)",
                        o.name.name
                    ));
                }
            }
        }
    }
}

fn parties_kept(ex: &Scenario, sub: &Scenario, out: &mut Vec<String>) {
    for t in &ex.parties {
        let what = if t.process { "process" } else { "thread" };
        let Some(u) = sub.parties.iter().find(|u| u.name.name == t.name.name) else {
            out.push(format!("the {what} `{}` was removed", t.name.name));
            continue;
        };
        let count = |c: Option<u32>| c.unwrap_or(1);
        if count(t.count) != count(u.count) {
            out.push(format!(
                "the {what} `{}` runs {} instance(s) in the exercise, {} here",
                t.name.name,
                count(t.count),
                count(u.count)
            ));
        }
        if t.process != u.process {
            out.push(format!(
                "`{}` was changed between [[thread]] and [[process]]",
                t.name.name
            ));
        }
        if t.start != u.start || t.daemon != u.daemon {
            out.push(format!(
                "`start` or `daemon` of `{}` was changed",
                t.name.name
            ));
        }
    }
    for u in &sub.parties {
        if !ex.parties.iter().any(|t| t.name.name == u.name.name) {
            out.push(format!(
                "`{}` is a party the exercise does not have",
                u.name.name
            ));
        }
    }
}

/// The JSON of a grading run: `{"exercise", "submissions": [...]}`.
pub fn json(exercise: &str, grades: &[Grade]) -> serde_json::Value {
    serde_json::json!({ "exercise": exercise, "submissions": grades })
}
