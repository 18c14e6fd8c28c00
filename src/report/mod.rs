//! Reports: what an exploration found, as data (serialized to the JSON of SCENARIO.md)
//! and as text a person can follow. Traces are rebuilt here by replaying each finding's
//! schedule, so the explorer itself never formats anything.

pub mod explain;
pub mod html;

use crate::detect::lockorder::CycleEdge;
use crate::detect::waitfor::{self, DeadlockReport};
use crate::ir::Program;
use crate::ir::{FindingKind, Value};
use crate::search::{Exploration, TraceStep, format_schedule, replay};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Serialize, Debug, Clone)]
pub struct RunReport {
    pub scenario: String,
    pub file: String,
    pub description: String,
    pub verdict: &'static str,
    pub kinds: Vec<&'static str>,
    pub expected: Vec<&'static str>,
    pub matches_expectation: bool,
    pub findings: Vec<FindingReport>,
    pub warnings: Vec<WarningReport>,
    /// The names in `outcomes[].values`, in display order.
    pub observe: Vec<String>,
    pub outcomes: Vec<OutcomeReport>,
    pub stats: StatsReport,
    /// Each other engine's own result, when several engines ran (the top-level kinds and
    /// findings are then the explorer's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub engines: Vec<EngineReport>,
}

/// One engine's result (native, loom, shuttle): what it saw and how often.
#[derive(Serialize, Debug, Clone)]
pub struct EngineReport {
    pub engine: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<String>,
    pub kinds: Vec<&'static str>,
    pub findings: Vec<EngineFinding>,
    pub outcomes: Vec<EngineOutcome>,
    /// Runs (native) or executions (loom, shuttle).
    pub executions: u64,
    pub complete: bool,
    pub elapsed_ms: f64,
    /// Bounds that were applied and what the engine cannot claim.
    pub notes: Vec<String>,
}

#[derive(Serialize, Debug, Clone)]
pub struct EngineFinding {
    pub kind: &'static str,
    /// The message seen most often for this kind.
    pub message: String,
    /// Executions in which this kind was seen.
    pub count: u64,
    /// Other messages of the same kind, with how often each was seen.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<(String, u64)>,
    /// A schedule that replays it with the engine (shuttle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}

#[derive(Serialize, Debug, Clone)]
pub struct EngineOutcome {
    pub values: serde_json::Map<String, serde_json::Value>,
    pub count: u64,
}

#[derive(Serialize, Debug, Clone)]
pub struct FindingReport {
    pub kind: &'static str,
    pub message: String,
    /// Executions in which this finding was reached.
    pub count: u64,
    pub schedule: String,
    pub trace: Vec<TraceEntry>,
    /// What the execution printed, in order.
    pub output: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub race: Option<RaceReport>,
    /// For a deadlock: the wait-for graph, explained.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadlock: Option<DeadlockReport>,
}

#[derive(Serialize, Debug, Clone)]
pub struct RaceReport {
    /// The location, with its index for an array element: `x`, `a[2]`.
    pub variable: String,
    /// The array index, for an array element.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    pub first: AccessReport,
    pub second: AccessReport,
}

#[derive(Serialize, Debug, Clone)]
pub struct AccessReport {
    pub thread: String,
    pub line: u32,
    pub access: &'static str,
    /// 1-based step number in the trace.
    pub step: usize,
}

#[derive(Serialize, Debug, Clone)]
pub struct TraceEntry {
    pub step: usize,
    pub thread: String,
    pub line: u32,
    pub op: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct WarningReport {
    pub kind: &'static str,
    pub message: String,
    /// For a `potential_deadlock`: the edges of the lock-order cycle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cycle: Option<Vec<CycleEdge>>,
}

#[derive(Serialize, Debug, Clone)]
pub struct OutcomeReport {
    pub values: serde_json::Map<String, serde_json::Value>,
    pub count: u64,
    pub schedule: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct StatsReport {
    pub engine: &'static str,
    pub executions: u64,
    pub complete: bool,
    pub elapsed_ms: f64,
    /// Executions cut short as equivalent to one already explored.
    pub redundant: u64,
    pub steps: u64,
    /// Distinct states reached.
    pub states: u64,
    pub max_depth: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

pub fn json_value(v: Value) -> serde_json::Value {
    match v {
        Value::None => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(b),
        Value::Int(i) => serde_json::Value::from(i),
    }
}

fn trace_entries(prog: &Program, steps: &[TraceStep]) -> Vec<TraceEntry> {
    steps
        .iter()
        .enumerate()
        .map(|(i, s)| TraceEntry {
            step: i + 1,
            thread: prog.threads[s.thread as usize].name.clone(),
            line: s.line,
            op: s.op.clone(),
        })
        .collect()
}

/// Builds the report of an exploration of `prog`. `timing`: include the elapsed time
/// (off for byte-identical output).
pub fn build(prog: &Program, ex: &Exploration, engine: &'static str, timing: bool) -> RunReport {
    let mut findings = vec![];
    let mut kinds: Vec<FindingKind> = vec![];
    for f in &ex.findings {
        if !kinds.contains(&f.kind) {
            kinds.push(f.kind);
        }
        let mut deadlock = None;
        // Show only what the bug depends on, when that is shorter (see shorten.rs).
        let mut schedule = f.schedule.clone();
        let mut race = f.race.clone();
        if let Some(r) = &f.race {
            if let Some((s, r)) = crate::search::shorten::race(prog, &f.schedule, r) {
                schedule = s;
                race = Some(r);
            }
        } else if matches!(f.kind, FindingKind::Assertion | FindingKind::Error)
            && let Some(s) = crate::search::shorten::failure(prog, &f.schedule)
        {
            schedule = s;
        }
        let (trace, output) = match replay(prog, &schedule) {
            Ok(r) => {
                if f.kind == FindingKind::Deadlock
                    && r.state.enabled(prog).is_empty()
                    && !r.state.all_finished()
                {
                    deadlock = Some(waitfor::explain(prog, &r.state));
                }
                let output = r.steps.iter().flat_map(|s| s.output.clone()).collect();
                (trace_entries(prog, &r.steps), output)
            }
            Err(e) => (
                vec![TraceEntry {
                    step: 0,
                    thread: String::new(),
                    line: 0,
                    op: format!("(replay failed: {e})"),
                }],
                vec![],
            ),
        };
        let race = race.as_ref().map(|r| {
            let acc = |a: &crate::detect::races::Access| AccessReport {
                thread: prog.threads[a.thread as usize].name.clone(),
                line: a.line,
                access: if a.write { "write" } else { "read" },
                step: a.step + 1,
            };
            let var = &prog.vars[prog.var_of_cell(r.cell) as usize];
            RaceReport {
                variable: prog.cell_name(r.cell),
                index: var.len.map(|_| r.cell - var.first_cell),
                first: acc(&r.first),
                second: acc(&r.second),
            }
        });
        findings.push(FindingReport {
            kind: f.kind.as_str(),
            message: f.message.clone(),
            count: f.count,
            schedule: format_schedule(&schedule),
            trace,
            output,
            race,
            deadlock,
        });
    }
    kinds.sort();
    findings.sort_by_key(|f| FindingKind::parse(f.kind));
    let mut expected = prog.expect.clone();
    expected.sort();
    let outcomes = ex
        .outcomes
        .iter()
        .map(|o| OutcomeReport {
            values: prog
                .observe
                .iter()
                .zip(&o.values)
                .map(|((n, _), v)| (n.clone(), json_value(*v)))
                .collect(),
            count: o.count,
            schedule: format_schedule(&o.schedule),
        })
        .collect();
    let s = &ex.stats;
    RunReport {
        scenario: prog.name.clone(),
        file: prog.path.clone(),
        description: prog.description.clone(),
        verdict: if kinds.is_empty() { "pass" } else { "fail" },
        matches_expectation: kinds == expected,
        kinds: kinds.iter().map(|k| k.as_str()).collect(),
        expected: expected.iter().map(|k| k.as_str()).collect(),
        findings,
        warnings: ex
            .lock_order
            .warnings(prog)
            .into_iter()
            .map(|w| WarningReport {
                kind: "potential_deadlock",
                message: w.message,
                cycle: Some(w.cycle),
            })
            .collect(),
        observe: prog.observe.iter().map(|(n, _)| n.clone()).collect(),
        outcomes,
        stats: StatsReport {
            engine,
            executions: s.executions,
            complete: s.complete,
            elapsed_ms: if timing {
                (s.elapsed.as_secs_f64() * 1e6).round() / 1e3
            } else {
                0.0
            },
            redundant: s.redundant,
            steps: s.steps,
            states: s.states,
            max_depth: s.max_depth,
            limit: s.limit.clone(),
        },
        engines: vec![],
    }
}

/// The report of one engine's tally of `prog`.
pub fn engine_report(
    prog: &Program,
    t: &crate::engines::tally::Tally,
    engine: &'static str,
    scheduler: Option<String>,
    timing: bool,
) -> EngineReport {
    let findings = t
        .kinds
        .iter()
        .map(|(k, (count, msgs))| {
            let mut m: Vec<(String, u64)> = msgs.iter().map(|(a, b)| (a.clone(), *b)).collect();
            m.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let first = m.remove(0);
            EngineFinding {
                kind: k.as_str(),
                message: first.0,
                count: *count,
                others: m,
                schedule: t.schedules.get(k).cloned(),
            }
        })
        .collect();
    let mut outcomes: Vec<EngineOutcome> = t
        .outcomes
        .iter()
        .map(|(vals, count)| EngineOutcome {
            values: prog
                .observe
                .iter()
                .zip(vals)
                .map(|((n, _), v)| (n.clone(), json_value(*v)))
                .collect(),
            count: *count,
        })
        .collect();
    outcomes.sort_by_key(|o| std::cmp::Reverse(o.count));
    EngineReport {
        engine,
        scheduler,
        kinds: t.kinds.keys().map(|k| k.as_str()).collect(),
        findings,
        outcomes,
        executions: t.executions,
        complete: t.complete,
        elapsed_ms: if timing {
            (t.elapsed.as_secs_f64() * 1e6).round() / 1e3
        } else {
            0.0
        },
        notes: t.notes.clone(),
    }
}

/// A run report whose top level is one engine's result (when only that engine ran).
pub fn from_engine(prog: &Program, e: EngineReport) -> RunReport {
    let mut expected = prog.expect.clone();
    expected.sort();
    let expected: Vec<&'static str> = expected.iter().map(|k| k.as_str()).collect();
    RunReport {
        scenario: prog.name.clone(),
        file: prog.path.clone(),
        description: prog.description.clone(),
        verdict: if e.kinds.is_empty() { "pass" } else { "fail" },
        matches_expectation: e.kinds == expected,
        kinds: e.kinds.clone(),
        expected,
        findings: e
            .findings
            .iter()
            .map(|f| FindingReport {
                kind: f.kind,
                message: f.message.clone(),
                count: f.count,
                schedule: f.schedule.clone().unwrap_or_default(),
                trace: vec![],
                output: vec![],
                race: None,
                deadlock: None,
            })
            .collect(),
        warnings: vec![],
        observe: prog.observe.iter().map(|(n, _)| n.clone()).collect(),
        outcomes: e
            .outcomes
            .iter()
            .map(|o| OutcomeReport {
                values: o.values.clone(),
                count: o.count,
                schedule: String::new(),
            })
            .collect(),
        stats: StatsReport {
            engine: e.engine,
            executions: e.executions,
            complete: e.complete,
            elapsed_ms: e.elapsed_ms,
            redundant: 0,
            steps: 0,
            states: 0,
            max_depth: 0,
            limit: None,
        },
        engines: vec![e],
    }
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "None".to_string(),
        serde_json::Value::Bool(true) => "True".to_string(),
        serde_json::Value::Bool(false) => "False".to_string(),
        other => other.to_string(),
    }
}

/// The text section of one engine's result.
pub fn render_engine(e: &EngineReport, file: &str) -> String {
    let mut out = String::new();
    let unit = if e.engine == "native" {
        "run"
    } else {
        "execution"
    };
    let mut head = e.engine.to_string();
    if let Some(s) = &e.scheduler {
        let _ = write!(head, " ({s} scheduler)");
    }
    let _ = write!(head, ": {}", plural(e.executions, unit));
    // Native runs are never complete: saying so on every run would be noise.
    if !e.complete && e.engine != "native" {
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
                    .map(|(n, v)| format!("{n} = {}", value_text(v)))
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

fn plural(n: u64, one: &str) -> String {
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
/// the observed names, with how many executions ended so, their share, and an example.
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
    for (o, c) in r.outcomes.iter().zip(&cells) {
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
    }
    out
}

/// The first lines of a text report: the scenario, its verdict, found against expected.
fn header_text(r: &RunReport) -> String {
    let mut out = String::new();
    let verdict = if r.verdict == "pass" { "PASS" } else { "FAIL" };
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
            "  replay: simrace replay {} --schedule {}",
            r.file, f.schedule
        );
        let marks: Vec<(usize, &str)> = match &f.race {
            Some(r) => vec![
                (r.first.step, "first access"),
                (r.second.step, "second access"),
            ],
            None => vec![],
        };
        write_trace_marked(&mut out, &f.trace, &f.output, "  ", &marks);
    }
    for w in &r.warnings {
        let _ = writeln!(out);
        let _ = writeln!(out, "warning: {}: {}", w.kind, w.message);
    }
    if !r.outcomes.is_empty() && !r.observe.is_empty() {
        let _ = writeln!(out);
        out.push_str(&outcome_table(r));
    }
    let s = &r.stats;
    let _ = writeln!(out);
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
    } else {
        line.push_str(", INCOMPLETE");
    }
    if let Some(l) = &s.limit {
        let _ = write!(line, " ({l})");
    }
    if s.elapsed_ms > 0.0 {
        let _ = write!(line, ", {:.1} ms", s.elapsed_ms);
    }
    let _ = writeln!(out, "{line}");
    for e in &r.engines {
        let _ = writeln!(out);
        out.push_str(&render_engine(e, &r.file));
    }
    out
}
