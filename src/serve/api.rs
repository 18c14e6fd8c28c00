//! The JSON calls of the page: check, run, step, grade, and reading a library file or
//! the list of exercises. Each takes the scenario's text as the page holds it.

use super::{Response, limits};
use crate::check::Checker;
use crate::frontend::diag::Diagnostic;
use crate::ir::Program;
use crate::report::html::{self, ScenarioPage, Section};
use crate::{detect, grade, report, search};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};

/// The name the page's scenario goes by in messages and reports.
const EDITED: &str = "scenario.toml";

/// Parses the body as JSON and hands it to `f`.
pub(super) fn with_body(body: &str, f: fn(&Value) -> Response) -> Response {
    match serde_json::from_str::<Value>(body) {
        Ok(v) => f(&v),
        Err(e) => Response::error(400, &format!("the body is not JSON: {e}")),
    }
}

fn source(v: &Value) -> &str {
    v["source"].as_str().unwrap_or("")
}

/// A diagnostic as the page shows it at its line: the same text the command line prints.
fn diagnostic(d: &Diagnostic) -> Value {
    json!({
        "line": d.line, "column": d.column, "message": d.message,
        "help": d.help, "rendered": d.render(),
    })
}

/// The scenario, or the answer that shows its diagnostic.
fn program(v: &Value) -> Result<Program, Response> {
    crate::parse(EDITED, source(v))
        .map_err(|d| Response::json(json!({ "ok": false, "diagnostic": diagnostic(&d) })))
}

pub(super) fn check(v: &Value) -> Response {
    match program(v) {
        Ok(p) => Response::json(json!({ "ok": true, "scenario": p.name })),
        Err(r) => r,
    }
}

/// Explores the scenario within [`limits`]; the verdict and the HTML report's section.
pub(super) fn run(v: &Value) -> Response {
    let prog = match program(v) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let ex = search::explore(&prog, &limits());
    let rep = report::build(&prog, &ex, "explore", false);
    let page = html::render(&[Section::Scenario(ScenarioPage::from_report(&prog, &rep))]);
    Response::json(json!({
        "ok": true,
        "verdict": if rep.matches_expectation { "PASS" } else { "FAIL" },
        "kinds": rep.kinds,
        "complete": rep.stats.complete,
        "report_html": page,
    }))
}

/// Replays the schedule so far and says what each thread would do next, as `simrace
/// step` shows it, and the finding reached, if any.
pub(super) fn step(v: &Value) -> Response {
    let prog = match program(v) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let text = v["schedule"].as_str().unwrap_or("");
    let played = search::parse_schedule_named(&prog, text).and_then(|choices| {
        let r = search::replay(&prog, &choices)?;
        Ok((choices, r))
    });
    let (choices, r) = match played {
        Ok(x) => x,
        Err(e) => return Response::json(json!({ "ok": false, "error": e })),
    };
    let threads: Vec<Value> = (0..prog.threads.len() as u32)
        .map(|t| thread_view(&prog, &r.state, t))
        .collect();
    let found = detect::finding_reached(&prog, &r, search::max_steps_of(&prog))
        .map(|(kind, message)| json!({ "kind": kind.as_str(), "message": message }));
    Response::json(json!({
        "ok": true,
        "schedule": search::format_schedule(&choices),
        "trace": report::trace_entries(&prog, &r),
        "threads": threads,
        "finding": found,
    }))
}

/// One thread as the game shows it: whether and how it can move, and where it is.
fn thread_view(prog: &Program, state: &crate::machine::State, t: u32) -> Value {
    let th = &state.threads[t as usize];
    let info = &prog.threads[t as usize];
    let line = info.code.lines.get(th.pc as usize).copied().unwrap_or(0);
    let ways = state.alternatives(prog, t);
    let status = match &th.status {
        crate::machine::Status::NotStarted => "not started".to_string(),
        crate::machine::Status::Finished => "finished".to_string(),
        _ if ways > 0 => "ready".to_string(),
        _ => state.blocked(prog, t).text,
    };
    let src = (line as usize)
        .checked_sub(1)
        .and_then(|i| prog.source.lines().nth(i))
        .map(str::trim)
        .unwrap_or("");
    json!({
        "index": t, "name": info.name, "alternatives": ways,
        "status": status, "line": line, "source": src,
    })
}

/// Grades the page's text as a submission to `exercises/NAME/exercise.toml` (a schedule
/// when the exercise asks for one).
pub(super) fn grade(v: &Value) -> Response {
    let name = v["exercise"].as_str().unwrap_or("");
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Response::error(400, "no such exercise");
    }
    let path = format!("exercises/{name}/exercise.toml");
    let exercise = match crate::frontend::scenario::load(&path) {
        Ok(e) => e,
        Err(d) => return Response::json(json!({ "ok": false, "diagnostic": diagnostic(&d) })),
    };
    let checker = Checker::new()
        .max_executions(limits().max_executions)
        .timeout(Some(10));
    let ext = if grade::wants_schedule(&exercise, &checker) {
        "schedule"
    } else {
        "toml"
    };
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let file = std::env::temp_dir().join(format!(
        "simrace-serve-{}-{}.{ext}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    if let Err(e) = std::fs::write(&file, source(v)) {
        return Response::error(500, &format!("cannot write the submission: {e}"));
    }
    let g = grade::grade_one(&exercise, &file.to_string_lossy(), &checker);
    let _ = std::fs::remove_file(&file);
    Response::json(json!({
        "ok": true, "exercise": path, "passed": g.passed, "score": g.score,
        "max_score": g.max_score, "reasons": g.reasons,
    }))
}

/// A scenario, exercise or submission of the working directory, to start from:
/// `path=scenarios/counter.toml` (relative, no `..`, a `.toml` or `.schedule` file).
pub(super) fn file(query: &str) -> Response {
    let path = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("path="))
        .unwrap_or("")
        .replace("%2F", "/")
        .replace("%5B", "[")
        .replace("%5D", "]");
    let allowed = !path.starts_with('/')
        && !path.split('/').any(|p| p == ".." || p.is_empty())
        && (path.ends_with(".toml") || path.ends_with(".schedule"));
    if !allowed {
        return Response::error(400, "only a .toml or .schedule file under this directory");
    }
    match std::fs::read_to_string(&path) {
        Ok(text) => Response::json(json!({ "path": path, "source": text })),
        Err(_) => Response::error(404, "no such file"),
    }
}

/// The exercises under `exercises/`, by folder name, sorted.
pub(super) fn exercises() -> Response {
    let mut names: Vec<String> = std::fs::read_dir("exercises")
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().join("exercise.toml").exists())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    Response::json(json!({ "exercises": names }))
}
