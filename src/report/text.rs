//! The text report: what `simrace run` prints for a scenario (header, findings with
//! their traces, warnings, the outcome table, the statistics, each other engine's
//! section), and the trace table that `replay` and the JUnit report reuse.

use super::{EngineReport, FindingReport, RunReport, TraceEntry};
use crate::detect::waitfor;
use std::fmt::Write as _;

/// The text section of one engine's result.
pub fn render_engine(e: &EngineReport, file: &str) -> String {
    let mut out = String::new();
    let runs = e.engine == "native" || e.engine == "cpython";
    let unit = if runs { "run" } else { "execution" };
    let mut head = e.engine.to_string();
    if let Some(s) = &e.scheduler {
        let _ = write!(head, " ({s} scheduler)");
    }
    let _ = write!(head, ": {}", plural(e.executions, unit));
    // Native runs are never complete: saying so on every run would be noise.
    if !e.complete && !runs {
        head.push_str(", INCOMPLETE");
    }
    if e.elapsed_ms > 0.0 {
        let _ = write!(head, ", {:.1} ms", e.elapsed_ms);
    }
    let _ = writeln!(out, "{head}");
    if e.findings.is_empty() {
        let _ = writeln!(out, "  saw nothing wrong");
    }
    for f in &e.findings {
        let share = 100.0 * f.count as f64 / e.executions.max(1) as f64;
        let _ = writeln!(
            out,
            "  {} in {} of {} {unit}s ({share:.1}%): {}",
            f.kind, f.count, e.executions, f.message
        );
        for (m, n) in f.others.iter().take(3) {
            let _ = writeln!(out, "    also ({n}x): {m}");
        }
        if let Some(s) = &f.schedule {
            let _ = writeln!(
                out,
                "    replay: simrace run {file} --engine {} --shuttle-schedule {s}",
                e.engine
            );
        }
    }
    if !e.outcomes.is_empty() && !e.outcomes[0].values.is_empty() {
        let parts: Vec<String> = e
            .outcomes
            .iter()
            .map(|o| {
                let vals: Vec<String> = o
                    .values
                    .iter()
                    .map(|(n, v)| format!("{n} = {}", python_value(v)))
                    .collect();
                format!("{} ({}x)", vals.join(", "), o.count)
            })
            .collect();
        let _ = writeln!(out, "  outcomes: {}", parts.join("; "));
    }
    for n in &e.notes {
        let _ = writeln!(out, "  note: {n}");
    }
    out
}

/// The text report of a run whose top level is one engine's result.
pub fn render_engine_text(r: &RunReport) -> String {
    let mut out = header_text(r);
    for e in &r.engines {
        let _ = writeln!(out);
        out.push_str(&render_engine(e, &r.file));
    }
    out
}

/// The most trace lines the text report shows for one finding.
pub const TEXT_TRACE_LINES: usize = 80;

fn kinds_text(k: &[&str]) -> String {
    if k.is_empty() {
        "nothing".to_string()
    } else {
        k.join(", ")
    }
}

pub(crate) fn plural(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// Writes a trace as an aligned table.
pub fn write_trace(out: &mut String, trace: &[TraceEntry], output: &[String], indent: &str) {
    write_trace_marked(out, trace, output, indent, &[]);
}

/// Writes a trace as an aligned table, with a note after the steps in `marks`
/// (1-based step numbers), such as the two accesses of a data race.
pub fn write_trace_marked(
    out: &mut String,
    trace: &[TraceEntry],
    output: &[String],
    indent: &str,
    marks: &[(usize, &str)],
) {
    let width = trace
        .iter()
        .map(|t| t.thread.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let skip = trace.len().saturating_sub(TEXT_TRACE_LINES);
    let _ = writeln!(
        out,
        "{indent}{:>4}  {:<width$}  {:>4}  operation",
        "step", "thread", "line"
    );
    if skip > 0 {
        let _ = writeln!(
            out,
            "{indent}{:>4}  ({skip} earlier steps not shown; the JSON report has them all)",
            "..."
        );
    }
    if trace.is_empty() {
        // A failure before the first step: in the file's own state, or after the local
        // lines each thread runs as it starts (docs/semantics.md, "The initial state").
        let _ = writeln!(
            out,
            "{indent}{:>4}  (before the first step: each started thread has run the local \
             lines before its first step, `[ghost]` updates included)",
            "-"
        );
    }
    for t in &trace[skip..] {
        let mut line = format!(
            "{indent}{:>4}  {:<width$}  {:>4}  {}",
            t.step, t.thread, t.line, t.op
        );
        for (_, note) in marks.iter().filter(|(s, _)| *s == t.step) {
            let _ = write!(line, "   <- {note}");
        }
        let _ = writeln!(out, "{line}");
    }
    if !output.is_empty() {
        let _ = writeln!(out, "{indent}printed:");
        for line in output {
            let _ = writeln!(out, "{indent}  {line}");
        }
    }
}

/// A value as Python prints it.
fn python_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "None".to_string(),
        serde_json::Value::Bool(true) => "True".to_string(),
        serde_json::Value::Bool(false) => "False".to_string(),
        other => other.to_string(),
    }
}

/// The outcome table, as jcstress prints one: a row per distinct set of final values of
/// the observed names and printed output, with how many executions ended so, their
/// share, and an example; under each row, what its executions printed.
pub fn outcome_table(r: &RunReport) -> String {
    let mut out = String::new();
    let total: u64 = r.outcomes.iter().map(|o| o.count).sum();
    let _ = writeln!(
        out,
        "outcomes: {} of {}",
        plural(r.outcomes.len() as u64, "distinct result"),
        plural(total, "completed execution")
    );
    let cells: Vec<Vec<String>> = r
        .outcomes
        .iter()
        .map(|o| {
            r.observe
                .iter()
                .map(|n| o.values.get(n).map(python_value).unwrap_or_default())
                .collect()
        })
        .collect();
    let widths: Vec<usize> = r
        .observe
        .iter()
        .enumerate()
        .map(|(i, n)| {
            cells
                .iter()
                .map(|c| c[i].len())
                .max()
                .unwrap_or(0)
                .max(n.len())
        })
        .collect();
    let mut head = String::from("  ");
    for (n, w) in r.observe.iter().zip(&widths) {
        let _ = write!(head, "{n:>w$}  ");
    }
    let _ = writeln!(out, "{head}executions   share  example schedule");
    for (o, c) in r.outcomes.iter().zip(&cells).take(OUTCOME_ROWS) {
        let mut row = String::from("  ");
        for (v, w) in c.iter().zip(&widths) {
            let _ = write!(row, "{v:>w$}  ");
        }
        let share = if total > 0 {
            100.0 * o.count as f64 / total as f64
        } else {
            0.0
        };
        let _ = writeln!(out, "{row}{:>10}  {share:>5.1}%  {}", o.count, o.schedule);
        for (i, line) in o.output.iter().enumerate() {
            let head = if i == 0 { "printed:" } else { "" };
            let _ = writeln!(out, "    {head:<8} {line}");
        }
    }
    if r.outcomes.len() > OUTCOME_ROWS {
        let _ = writeln!(
            out,
            "  ... and {} (--format json lists every outcome)",
            crate::ir::counted(
                r.outcomes.len() - OUTCOME_ROWS,
                "more outcome",
                "more outcomes"
            )
        );
    }
    out
}

/// The outcome table's rows in a text report (JSON has them all): five threads that
/// print in any order have 120 outcomes.
pub const OUTCOME_ROWS: usize = 24;

/// The first lines of a text report: the scenario, its verdict (PASS when it found
/// exactly what its `expect` says, the same word as `simrace check`'s), found against
/// expected.
fn header_text(r: &RunReport) -> String {
    let mut out = String::new();
    let verdict = if r.matches_expectation {
        "PASS"
    } else {
        "FAIL"
    };
    let _ = writeln!(out, "{} ({}): {verdict}", r.scenario, r.file);
    if !r.description.is_empty() {
        let _ = writeln!(out, "  {}", r.description.trim());
    }
    let check = if r.matches_expectation {
        "as expected"
    } else {
        "NOT as expected"
    };
    let _ = writeln!(
        out,
        "  found: {}; expected: {} ({check})",
        kinds_text(&r.kinds),
        kinds_text(&r.expected)
    );
    out
}

/// The text report of one scenario.
pub fn render_text(r: &RunReport) -> String {
    let mut out = header_text(r);
    for f in &r.findings {
        let _ = writeln!(out);
        finding_text(&mut out, r, f);
    }
    if r.findings_not_shown > 0 {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "note: {} more findings are not shown (a report writes out {} of each kind, the \
             first by place; the verdict counts them all)",
            r.findings_not_shown,
            super::SHOWN_PER_KIND
        );
    }
    for w in &r.warnings {
        let _ = writeln!(out);
        let _ = writeln!(out, "warning: {}: {}", w.kind, w.message);
    }
    let printed = r.outcomes.iter().any(|o| !o.output.is_empty());
    if !r.outcomes.is_empty() && (!r.observe.is_empty() || printed) {
        let _ = writeln!(out);
        out.push_str(&outcome_table(r));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", stats_line(r));
    for e in &r.engines {
        let _ = writeln!(out);
        out.push_str(&render_engine(e, &r.file));
    }
    out
}

/// One finding: kind and message, how often, the deadlock's wait-for graph, the replay
/// command and the trace (with a data race's two accesses marked).
fn finding_text(out: &mut String, r: &RunReport, f: &FindingReport) {
    // The explorer's deadlock messages start with the kind: say it once.
    let message = f
        .message
        .strip_prefix(&format!("{}: ", f.kind))
        .unwrap_or(&f.message);
    let _ = writeln!(out, "{}: {message}", f.kind);
    let _ = writeln!(
        out,
        "  reached in {} of {}",
        plural(f.count, "execution"),
        r.stats.executions
    );
    if let Some(d) = &f.deadlock {
        out.push_str(&waitfor::render_text(d, "  "));
    }
    let _ = writeln!(
        out,
        "  replay: {}",
        super::replay_command(&r.file, &f.schedule, r.max_steps)
    );
    let marks: Vec<(usize, &str)> = match &f.race {
        Some(r) => vec![
            (r.first.step, "first access"),
            (r.second.step, "second access"),
        ],
        None => vec![],
    };
    write_trace_marked(out, &f.trace, &f.output, "  ", &marks);
}

/// The explorer's statistics in one line: executions, steps, states, complete or not.
fn stats_line(r: &RunReport) -> String {
    let s = &r.stats;
    let mut line = format!("{}: {}", s.engine, plural(s.executions, "execution"));
    if s.redundant > 0 {
        let _ = write!(line, " (and {} cut short as redundant)", s.redundant);
    }
    let _ = write!(
        line,
        ", {}, {}",
        plural(s.steps, "step"),
        plural(s.states, "distinct state")
    );
    if s.complete {
        line.push_str(", complete");
    } else if s.interrupted {
        line.push_str(", INCOMPLETE (interrupted)");
    } else {
        line.push_str(", INCOMPLETE");
    }
    if let Some(l) = &s.limit {
        let _ = write!(line, " ({l})");
    }
    if s.elapsed_ms > 0.0 {
        let _ = write!(line, ", {:.1} ms", s.elapsed_ms);
    }
    if let Some(why) = &s.switched {
        let _ = write!(line, "\nnote: {why}");
    }
    line
}
