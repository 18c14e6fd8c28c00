//! The HTML report: one self-contained page (inline CSS, no scripts, no external URLs)
//! that shows, for every scenario run, its findings with the failing interleaving as
//! lanes (one column per thread, one row per step, each cell with the line number, the
//! source line and the operation), race accesses highlighted, the wait-for graph of a
//! deadlock as inline SVG, the outcome table and the exploration's numbers.
//!
//! The page is built from the report's JSON value (what `--format json` prints), so
//! that fields added to the report later show up without changes here; the one field
//! read beyond SCENARIO.md's is a finding's `deadlock` (see [`crate::detect::waitfor`]). When a
//! report comes with its [`Program`], [`ScenarioPage::from_report`] fills that field in
//! for deadlocks that lack it by replaying the finding's schedule.
//!
//! Every text from the scenario or the report is escaped; the output depends only on
//! the input (no dates, no hash-map order), so a report can be snapshot-tested.
//!
//! ```
//! use simrace::report::{self, html};
//! let text = r#"
//! [shared]
//! x = 0
//! [[thread]]
//! name = "w"
//! count = 2
//! code = "x = x + 1"
//! "#;
//! let prog = simrace::parse("demo.toml", text).unwrap();
//! let ex = simrace::explore(&prog, &simrace::Config::default());
//! let rep = report::build(&prog, &ex, "explore", false);
//! let page = html::render(&[html::Section::Scenario(html::ScenarioPage::from_report(&prog, &rep))]);
//! assert!(page.starts_with("<!DOCTYPE html>"));
//! assert!(page.contains("data_race"));
//! ```

use crate::ir::Program;
use crate::report::{RunReport, plural};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use serde_json::Value;
use std::fmt::Write as _;

/// One scenario's report with what the page needs beside it.
#[derive(Clone, Debug)]
pub struct ScenarioPage {
    /// The report as JSON (a serialized [`RunReport`], perhaps with more fields).
    pub report: Value,
    /// The scenario file's text: trace lines are line numbers in it.
    pub source: String,
    /// The thread names in declaration order: one lane each.
    pub threads: Vec<String>,
}

impl ScenarioPage {
    /// From a report and the program it was built from.
    pub fn from_report(prog: &Program, rep: &RunReport) -> ScenarioPage {
        let report = serde_json::to_value(rep).expect("reports serialize");
        ScenarioPage {
            report,
            source: prog.source.clone(),
            threads: prog.threads.iter().map(|t| t.name.clone()).collect(),
        }
    }

    /// From a report's JSON alone and the scenario text; the lanes are the threads that
    /// appear in some trace, in order of appearance.
    pub fn from_value(report: Value, source: String) -> ScenarioPage {
        let mut threads: Vec<String> = vec![];
        for f in arr(&report, "findings") {
            for s in arr(f, "trace") {
                let t = s_of(s, "thread");
                if !t.is_empty() && !threads.iter().any(|x| x == t) {
                    threads.push(t.to_string());
                }
            }
        }
        ScenarioPage {
            report,
            source,
            threads,
        }
    }
}

/// A part of the page: a scenario's report, or a file that could not be run.
#[derive(Clone, Debug)]
pub enum Section {
    Scenario(ScenarioPage),
    Error { file: String, message: String },
}

/// `v[key]` as an array (empty when missing); shared with `timeline.rs`.
pub(super) fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `v[key]` as a string (empty when missing).
pub(super) fn s_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn u_of(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// A value as Python prints it.
fn py(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The page style, shared with the timeline page ([`super::timeline`]).
pub(crate) const CSS: &str = r#"
:root { --fg: #1d2330; --muted: #5b6475; --line: #d5dae3; --bg: #ffffff; --soft: #f4f6f9;
  --race: #fff1c2; --race-edge: #d69e00; --fail: #fde2e1; --fail-edge: #c9302c; --ok: #1e7d3a; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header.page { padding: 16px 24px; background: #243047; color: #fff; }
header.page h1 { margin: 0; font-size: 20px; }
header.page nav a { color: #cfe0ff; margin-right: 14px; }
main { padding: 8px 24px 40px; max-width: 1400px; }
section.scenario { border-bottom: 2px solid var(--line); padding-bottom: 24px; margin-bottom: 8px; }
h2 { font-size: 22px; margin: 22px 0 4px; }
h3 { font-size: 18px; margin: 22px 0 6px; }
h4 { font-size: 15px; margin: 14px 0 6px; color: var(--muted); }
.file, .muted { color: var(--muted); }
.verdict { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 13px; font-weight: 600; color: #fff; vertical-align: middle; }
.verdict.pass { background: var(--ok); } .verdict.fail { background: var(--fail-edge); }
.kind { display: inline-block; padding: 0 7px; border-radius: 4px; background: #e8ecf3; font-family: ui-monospace, monospace; font-size: 14px; }
.finding { border: 1px solid var(--line); border-radius: 8px; padding: 4px 16px 14px; margin: 16px 0; }
.finding.deadlock, .finding.assertion, .finding.error, .finding.livelock { border-left: 5px solid var(--fail-edge); }
.finding.data_race { border-left: 5px solid var(--race-edge); }
.message { font-weight: 600; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
pre.replay { background: var(--soft); padding: 6px 10px; border-radius: 6px; overflow-x: auto; }
.lanes-wrap { overflow-x: auto; }
table { border-collapse: collapse; }
table.lanes { width: 100%; table-layout: fixed; }
table.lanes th, table.lanes td { border: 1px solid var(--line); padding: 3px 8px; vertical-align: top; text-align: left; }
table.lanes thead th { background: var(--soft); position: sticky; top: 0; }
table.lanes th.step, table.lanes td.step { width: 52px; text-align: right; color: var(--muted); }
table.lanes td.cell { background: #f7f9ff; }
table.lanes .ln { color: var(--muted); font-size: 12px; }
table.lanes code.src { white-space: pre-wrap; }
table.lanes .op { display: block; font-size: 13px; color: #2b4f9e; }
table.lanes tr.race td.race-access { background: var(--race); outline: 2px solid var(--race-edge); outline-offset: -2px; }
table.lanes tr.failed td.cell { background: var(--fail); }
table.lanes tr.stuck td.blocked { background: var(--fail); }
table.lanes tr.stuck .op { color: var(--fail-edge); }
table.lanes tr.end td { background: var(--fail); font-weight: 600; }
table.outcomes th, table.outcomes td { border: 1px solid var(--line); padding: 3px 10px; text-align: left; }
table.outcomes thead th { background: var(--soft); }
table.outcomes td.count { text-align: right; }
svg.waitfor { max-width: 100%; height: auto; background: var(--soft); border-radius: 8px; }
svg.waitfor .thread ellipse { fill: #dde8ff; stroke: #2b4f9e; stroke-width: 1.5; }
svg.waitfor .resource rect { fill: #fff; stroke: #5b6475; stroke-width: 1.5; }
svg.waitfor .node.in-cycle ellipse, svg.waitfor .node.in-cycle rect { stroke: var(--fail-edge); stroke-width: 2.5; }
svg.waitfor text { font: 13px ui-monospace, monospace; fill: var(--fg); }
svg.waitfor path.edge { fill: none; stroke: #5b6475; stroke-width: 1.5; }
svg.waitfor path.edge.in-cycle { stroke: var(--fail-edge); stroke-width: 2.5; }
svg.waitfor text.edge-label { font-size: 11px; fill: var(--muted); }
ul.why { margin: 6px 0; }
dl.stats { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; margin: 6px 0; }
dl.stats dt { color: var(--muted); } dl.stats dd { margin: 0; }
.error-box { background: var(--fail); padding: 8px 12px; border-radius: 6px; white-space: pre-wrap; }
"#;

/// Renders the whole page: one section per scenario (or per file that failed to load).
pub fn render(sections: &[Section]) -> String {
    let mut out = String::new();
    let title = match sections {
        [Section::Scenario(p)] => format!("simrace report: {}", s_of(&p.report, "scenario")),
        _ => "simrace report".to_string(),
    };
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", text(&title));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");
    out.push_str("<header class=\"page\">\n<h1>simrace report</h1>\n<nav>");
    for (i, s) in sections.iter().enumerate() {
        let (name, verdict) = match s {
            Section::Scenario(p) => (
                s_of(&p.report, "scenario").to_string(),
                as_expected(&p.report).to_string(),
            ),
            Section::Error { file, .. } => (file.clone(), "invalid".to_string()),
        };
        let _ = write!(
            out,
            "<a href=\"#scenario-{}\">{} ({})</a>",
            i + 1,
            text(&name),
            text(&verdict)
        );
    }
    out.push_str("</nav>\n</header>\n<main>\n");
    for (i, s) in sections.iter().enumerate() {
        match s {
            Section::Scenario(p) => scenario_section(&mut out, i + 1, p),
            Section::Error { file, message } => {
                let _ = writeln!(
                    out,
                    "<section class=\"scenario invalid\" id=\"scenario-{}\">\n<h2>{}</h2>\n<pre class=\"error-box\">{}</pre>\n</section>",
                    i + 1,
                    text(file),
                    text(message)
                );
            }
        }
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// The verdict people read, the same word as `simrace check`'s: `pass` when the
/// scenario found exactly what its `expect` says (the JSON's `matches_expectation`).
fn as_expected(r: &Value) -> &'static str {
    if r["matches_expectation"].as_bool() == Some(true) {
        "pass"
    } else {
        "fail"
    }
}

fn scenario_section(out: &mut String, idx: usize, p: &ScenarioPage) {
    let r = &p.report;
    let verdict = as_expected(r);
    let _ = writeln!(
        out,
        "<section class=\"scenario\" id=\"scenario-{idx}\" data-scenario=\"{}\">",
        attr(s_of(r, "scenario"))
    );
    let _ = writeln!(
        out,
        "<h2>{} <span class=\"verdict {}\">{}</span></h2>",
        text(s_of(r, "scenario")),
        attr(verdict),
        text(&verdict.to_uppercase())
    );
    let _ = writeln!(out, "<div class=\"file\">{}</div>", text(s_of(r, "file")));
    let desc = s_of(r, "description").trim();
    if !desc.is_empty() {
        let _ = writeln!(out, "<p class=\"description\">{}</p>", text(desc));
    }
    let kinds = |key: &str| -> String {
        let k: Vec<String> = arr(r, key)
            .iter()
            .filter_map(Value::as_str)
            .map(|k| format!("<span class=\"kind\">{}</span>", text(k)))
            .collect();
        if k.is_empty() {
            "nothing".into()
        } else {
            k.join(" ")
        }
    };
    let as_expected = r
        .get("matches_expectation")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let _ = writeln!(
        out,
        "<p class=\"summary\">Found: {}; expected: {} <strong>({})</strong></p>",
        kinds("kinds"),
        kinds("expected"),
        if as_expected {
            "as expected"
        } else {
            "NOT as expected"
        }
    );
    let executions = r.get("stats").map(|s| u_of(s, "executions")).unwrap_or(0);
    let lines: Vec<&str> = p.source.lines().collect();
    for (j, f) in arr(r, "findings").iter().enumerate() {
        finding(out, idx, j + 1, f, executions, p, &lines);
    }
    for w in arr(r, "warnings") {
        let _ = writeln!(
            out,
            "<p class=\"warning\"><span class=\"kind\">warning: {}</span> {}</p>",
            text(s_of(w, "kind")),
            text(s_of(w, "message"))
        );
    }
    outcomes(out, r);
    stats(out, r);
    out.push_str("</section>\n");
}

fn source_line<'a>(lines: &[&'a str], line: u64) -> &'a str {
    (line as usize)
        .checked_sub(1)
        .and_then(|i| lines.get(i))
        .map(|l| l.trim())
        .unwrap_or("")
}

fn finding(
    out: &mut String,
    sidx: usize,
    fidx: usize,
    f: &Value,
    executions: u64,
    p: &ScenarioPage,
    lines: &[&str],
) {
    let kind = s_of(f, "kind");
    let _ = writeln!(
        out,
        "<article class=\"finding {}\" id=\"scenario-{sidx}-finding-{fidx}\" data-kind=\"{}\">",
        attr(kind),
        attr(kind)
    );
    let _ = writeln!(
        out,
        "<h3><span class=\"kind\">{}</span></h3>\n<p class=\"message\">{}</p>",
        text(kind),
        text(s_of(f, "message"))
    );
    let _ = writeln!(
        out,
        "<p class=\"count\">Reached in {} of {executions}.</p>",
        plural(u_of(f, "count"), "execution")
    );
    let schedule = s_of(f, "schedule");
    let _ = writeln!(
        out,
        "<p>Schedule <code class=\"schedule\">{}</code>; replay it with:</p>\n<pre class=\"replay\">{}</pre>",
        text(schedule),
        text(&super::replay_command(
            s_of(&p.report, "file"),
            schedule,
            p.report.get("max_steps").and_then(|v| v.as_u64())
        ))
    );
    lanes(out, f, p, lines);
    let output = arr(f, "output");
    if !output.is_empty() {
        out.push_str("<h4>Printed</h4>\n<pre class=\"output\">");
        for o in output {
            let _ = writeln!(out, "{}", text(o.as_str().unwrap_or("")));
        }
        out.push_str("</pre>\n");
    }
    if kind == "deadlock" {
        match f.get("deadlock") {
            Some(dl) => {
                out.push_str("<h4>Wait-for graph</h4>\n");
                out.push_str(&wait_for_svg(dl, &format!("{sidx}-{fidx}")));
                out.push_str("<ul class=\"why\">\n");
                for s in arr(dl, "threads") {
                    let _ = writeln!(
                        out,
                        "<li>{} (line {}) {}</li>",
                        text(s_of(s, "thread")),
                        u_of(s, "line"),
                        text(s_of(s, "why"))
                    );
                }
                out.push_str("</ul>\n");
            }
            None => {
                let _ = writeln!(out, "<p class=\"why\">{}</p>", text(s_of(f, "message")));
            }
        }
    }
    out.push_str("</article>\n");
}

/// The most steps a finding's lanes show (the last ones: where it goes wrong).
pub const HTML_TRACE_ROWS: usize = 1000;

fn lanes(out: &mut String, f: &Value, p: &ScenarioPage, lines: &[&str]) {
    let trace = arr(f, "trace");
    let n = p.threads.len();
    lanes_head(out, p);
    let last = trace.len();
    let skip = last.saturating_sub(HTML_TRACE_ROWS);
    if skip > 0 {
        let _ = writeln!(
            out,
            "<tr class=\"skipped\"><td class=\"step\">...</td><td colspan=\"{}\">{skip} earlier steps not shown; the JSON report has them all</td></tr>",
            n.max(1)
        );
    }
    let race_steps = race_steps(f);
    for (i, s) in trace.iter().enumerate().skip(skip) {
        trace_row(out, f, p, lines, &race_steps, s, i + 1 == last);
    }
    lanes_end(out, f, p, lines);
    out.push_str("</tbody>\n</table>\n</div>\n");
}

/// The table's opening and its header: one colored column per thread.
fn lanes_head(out: &mut String, p: &ScenarioPage) {
    out.push_str("<div class=\"lanes-wrap\">\n<table class=\"lanes\">\n<thead><tr><th class=\"step\">step</th>");
    for (i, t) in p.threads.iter().enumerate() {
        let hue = (i * 137 + 215) % 360;
        let _ = write!(
            out,
            "<th class=\"lane\" data-thread=\"{}\" style=\"border-top: 4px solid hsl({hue} 55% 45%)\">{}</th>",
            attr(t),
            text(t)
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
}

/// The step and thread of each of a data race's two accesses.
fn race_steps(f: &Value) -> Vec<(u64, &str)> {
    f.get("race")
        .map(|r| {
            ["first", "second"]
                .iter()
                .filter_map(|k| r.get(*k))
                .map(|a| (u_of(a, "step"), s_of(a, "thread")))
                .collect()
        })
        .unwrap_or_default()
}

/// One step of the trace: a row with the step in its thread's lane. `last`: the
/// trace's last step (where an assertion or error fails).
fn trace_row(
    out: &mut String,
    f: &Value,
    p: &ScenarioPage,
    lines: &[&str],
    race_steps: &[(u64, &str)],
    s: &Value,
    last: bool,
) {
    let n = p.threads.len();
    let step = u_of(s, "step");
    let thread = s_of(s, "thread");
    let is_race = race_steps
        .iter()
        .any(|(st, th)| *st == step && *th == thread);
    let failed = last
        && matches!(s_of(f, "kind"), "assertion" | "error")
        && s_of(f, "message").starts_with(thread)
        && !thread.is_empty();
    let mut class = vec![];
    if is_race {
        class.push("race");
    }
    if failed {
        class.push("failed");
    }
    let _ = write!(
        out,
        "<tr class=\"{}\" data-step=\"{step}\"><td class=\"step\">{step}</td>",
        class.join(" ")
    );
    let lane = p.threads.iter().position(|x| x == thread);
    for l in 0..n {
        if Some(l) == lane {
            step_cell(out, s, lines, is_race);
        } else {
            out.push_str("<td></td>");
        }
    }
    if lane.is_none() {
        // A step of a thread without a lane (should not happen): say so in a row.
        let _ = write!(
            out,
            "<td colspan=\"{n}\">{}: {}</td>",
            text(thread),
            text(s_of(s, "op"))
        );
    }
    out.push_str("</tr>\n");
}

/// The cell of one step in its thread's lane: line number, source line, operation.
fn step_cell(out: &mut String, s: &Value, lines: &[&str], is_race: bool) {
    let line = u_of(s, "line");
    let op = match s_of(s, "op") {
        "" => "(raises)",
        op => op,
    };
    let src = if op == "end" {
        ""
    } else {
        source_line(lines, line)
    };
    // A thread's end has no line of its own (it points at the declaration).
    let ln = if op == "end" {
        String::new()
    } else {
        format!("<span class=\"ln\">line {line}</span> ")
    };
    let _ = write!(
        out,
        "<td class=\"cell{}\" data-thread=\"{}\">{ln}<code class=\"src\">{}</code><span class=\"op\">{}</span></td>",
        if is_race { " race-access" } else { "" },
        attr(s_of(s, "thread")),
        text(src),
        text(op)
    );
}

/// How it ends: a deadlock's row of stuck threads, or the message (not for a data
/// race, whose accesses are marked in the rows).
fn lanes_end(out: &mut String, f: &Value, p: &ScenarioPage, lines: &[&str]) {
    if let Some(dl) = f.get("deadlock") {
        out.push_str("<tr class=\"stuck\"><td class=\"step\">stuck</td>");
        let stuck = arr(dl, "threads");
        for t in &p.threads {
            match stuck.iter().find(|s| s_of(s, "thread") == t) {
                Some(s) => {
                    let line = u_of(s, "line");
                    let _ = write!(
                        out,
                        "<td class=\"blocked\" data-thread=\"{}\"><span class=\"ln\">line {line}</span> <code class=\"src\">{}</code><span class=\"op\">{}</span></td>",
                        attr(t),
                        text(source_line(lines, line)),
                        text(s_of(s, "why"))
                    );
                }
                None => out.push_str("<td></td>"),
            }
        }
        out.push_str("</tr>\n");
    } else if s_of(f, "kind") != "data_race" {
        let _ = writeln!(
            out,
            "<tr class=\"end\"><td class=\"step\">end</td><td colspan=\"{}\">{}</td></tr>",
            p.threads.len().max(1),
            text(s_of(f, "message"))
        );
    }
}

/// A node of the wait-for graph.
struct Node {
    label: String,
    thread: bool,
    in_cycle: bool,
}

/// An edge of the wait-for graph: from a thread to what it waits for ("waits for"), or
/// from a resource to a thread that holds it ("held by").
struct Edge {
    from: usize,
    to: usize,
    label: &'static str,
    in_cycle: bool,
}

/// A deadlock's wait-for graph, read from its JSON.
#[derive(Default)]
struct Graph {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

/// The stuck threads of a deadlock's JSON, with its cycle and the locks held.
struct Stuck<'a> {
    threads: &'a [Value],
    cycle: Vec<&'a str>,
    held: Vec<&'a str>,
}

impl<'a> Stuck<'a> {
    fn of(dl: &'a Value) -> Stuck<'a> {
        let threads = arr(dl, "threads");
        Stuck {
            threads,
            cycle: arr(dl, "cycle").iter().filter_map(Value::as_str).collect(),
            held: threads
                .iter()
                .flat_map(|s| arr(s, "holds").iter().filter_map(Value::as_str))
                .collect(),
        }
    }

    /// The resource node a thread waits for: the held lock's name if `waits_for` ends
    /// with one (`lock b` and a holder of `b`), else the words themselves.
    fn resource(&self, s: &Value) -> String {
        let w = s_of(s, "waits_for");
        match w.rsplit(' ').next() {
            Some(last) if self.held.contains(&last) => last.to_string(),
            _ => w.to_string(),
        }
    }

    /// The thread after `t` in the cycle, if `t` is in it.
    fn next_in_cycle(&self, t: &str) -> Option<&'a str> {
        let i = self.cycle.iter().position(|x| *x == t)?;
        Some(self.cycle[(i + 1) % self.cycle.len()])
    }

    /// Cycle threads first, in ring order, then the others.
    fn order(&self) -> Vec<&'a Value> {
        let mut order: Vec<&Value> = self
            .cycle
            .iter()
            .filter_map(|c| self.threads.iter().find(|s| s_of(s, "thread") == *c))
            .collect();
        for s in self.threads {
            if !self.cycle.contains(&s_of(s, "thread")) {
                order.push(s);
            }
        }
        order
    }
}

impl Graph {
    /// The graph of a deadlock: each thread followed by what it waits for, then the
    /// holders of what is waited for, then what else the threads hold.
    fn of(dl: &Value) -> Graph {
        let stuck = Stuck::of(dl);
        let order = stuck.order();
        let mut g = Graph::default();
        for s in &order {
            g.add_wait(&stuck, s);
        }
        for s in &order {
            g.add_holders(&stuck, s);
        }
        for s in &order {
            g.add_holds(s);
        }
        g
    }

    /// The node with this label and kind, added if new.
    fn node(&mut self, label: &str, thread: bool) -> usize {
        if let Some(i) = self
            .nodes
            .iter()
            .position(|n| n.label == label && n.thread == thread)
        {
            return i;
        }
        self.nodes.push(Node {
            label: label.to_string(),
            thread,
            in_cycle: false,
        });
        self.nodes.len() - 1
    }

    fn has_edge(&self, from: usize, to: usize) -> bool {
        self.edges.iter().any(|e| e.from == from && e.to == to)
    }

    /// The thread's node and its "waits for" edge (in the cycle when the resource's
    /// holder is the next thread of the cycle).
    fn add_wait(&mut self, stuck: &Stuck, s: &Value) {
        let t = s_of(s, "thread");
        let tn = self.node(t, true);
        if s_of(s, "waits_for").is_empty() {
            return;
        }
        let rn = self.node(&stuck.resource(s), false);
        let holders: Vec<&str> = arr(s, "held_by").iter().filter_map(Value::as_str).collect();
        let in_cycle = stuck.next_in_cycle(t).is_some_and(|n| holders.contains(&n));
        if in_cycle {
            self.nodes[tn].in_cycle = true;
            self.nodes[rn].in_cycle = true;
        }
        self.edges.push(Edge {
            from: tn,
            to: rn,
            label: "waits for",
            in_cycle,
        });
    }

    /// "held by" edges from what the thread waits for to its holders.
    fn add_holders(&mut self, stuck: &Stuck, s: &Value) {
        if s_of(s, "waits_for").is_empty() {
            return;
        }
        let t = s_of(s, "thread");
        let rn = self.node(&stuck.resource(s), false);
        for h in arr(s, "held_by").iter().filter_map(Value::as_str) {
            let hn = self.node(h, true);
            let in_cycle = stuck.next_in_cycle(t) == Some(h);
            if !self.has_edge(rn, hn) {
                self.edges.push(Edge {
                    from: rn,
                    to: hn,
                    label: "held by",
                    in_cycle,
                });
            }
        }
    }

    /// "held by" edges from what the thread holds to it.
    fn add_holds(&mut self, s: &Value) {
        let tn = self.node(s_of(s, "thread"), true);
        for h in arr(s, "holds").iter().filter_map(Value::as_str) {
            let rn = self.node(h, false);
            if !self.has_edge(rn, tn) {
                self.edges.push(Edge {
                    from: rn,
                    to: tn,
                    label: "held by",
                    in_cycle: false,
                });
            }
        }
    }
}

/// A node's half width and half height.
fn node_size(nd: &Node) -> (f64, f64) {
    let w = (nd.label.chars().count() as f64 * 8.0 + 24.0).max(56.0);
    (w / 2.0, 17.0)
}

/// Where the nodes sit: on a circle, in order, the first at the top.
struct Layout {
    width: f64,
    height: f64,
    pos: Vec<(f64, f64)>,
}

impl Layout {
    fn of(nodes: &[Node]) -> Layout {
        let n = nodes.len().max(1);
        let max_rx = nodes.iter().map(|nd| node_size(nd).0).fold(28.0, f64::max);
        let radius = if n <= 1 {
            0.0
        } else {
            (n as f64 * 34.0).max(90.0)
        };
        let width = 2.0 * radius + 2.0 * max_rx + 40.0;
        let height = 2.0 * radius + 90.0;
        let (cx, cy) = (width / 2.0, height / 2.0);
        let pos = (0..nodes.len())
            .map(|i| {
                let a =
                    -std::f64::consts::FRAC_PI_2 + 2.0 * std::f64::consts::PI * i as f64 / n as f64;
                (cx + radius * a.cos(), cy + radius * a.sin())
            })
            .collect();
        Layout { width, height, pos }
    }
}

/// The wait-for graph as SVG: threads as ellipses, what they wait for as boxes, an edge
/// from a thread to what it waits for and from a held resource to its holder; the cycle
/// in red. Nodes sit on a circle, the cycle first, so the ring reads as a ring.
fn wait_for_svg(dl: &Value, id: &str) -> String {
    let g = Graph::of(dl);
    let layout = Layout::of(&g.nodes);
    let (width, height) = (layout.width, layout.height);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg class=\"waitfor\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"wait-for graph\">"
    );
    s.push_str("<title>wait-for graph</title>\n<defs>");
    for (suffix, color) in [("", "#5b6475"), ("-cycle", "#c9302c")] {
        let _ = write!(
            s,
            "<marker id=\"arrow{suffix}-{id}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{color}\"/></marker>"
        );
    }
    s.push_str("</defs>\n");
    for e in &g.edges {
        edge_svg(&mut s, &g.nodes, &layout.pos, e, id);
    }
    for (nd, pos) in g.nodes.iter().zip(&layout.pos) {
        node_svg(&mut s, nd, *pos);
    }
    s.push_str("</svg>\n");
    s
}

/// An edge with its label: a gentle curve, so that two opposite edges between one pair
/// do not overlap, from the boundary of one node to the boundary of the other.
fn edge_svg(s: &mut String, nodes: &[Node], pos: &[(f64, f64)], e: &Edge, id: &str) {
    let boundary = |(rx, ry): (f64, f64), ux: f64, uy: f64| -> f64 {
        1.0 / ((ux / rx).powi(2) + (uy / ry).powi(2)).sqrt()
    };
    let (a, b) = (e.from, e.to);
    let (p1, p2) = (pos[a], pos[b]);
    let (dx, dy) = (p2.0 - p1.0, p2.1 - p1.1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-6);
    let (px, py) = (-dy / len, dx / len);
    let bend = if a == b { 0.0 } else { 22.0 };
    let c = (
        (p1.0 + p2.0) / 2.0 + px * bend,
        (p1.1 + p2.1) / 2.0 + py * bend,
    );
    let unit = |from: (f64, f64), to: (f64, f64)| {
        let (x, y) = (to.0 - from.0, to.1 - from.1);
        let l = (x * x + y * y).sqrt().max(1e-6);
        (x / l, y / l)
    };
    let (u1x, u1y) = unit(p1, c);
    let t1 = boundary(node_size(&nodes[a]), u1x, u1y);
    let start = (p1.0 + u1x * t1, p1.1 + u1y * t1);
    let (u2x, u2y) = unit(p2, c);
    let t2 = boundary(node_size(&nodes[b]), u2x, u2y) + 2.0;
    let end = (p2.0 + u2x * t2, p2.1 + u2y * t2);
    let class = if e.in_cycle { "edge in-cycle" } else { "edge" };
    let marker = if e.in_cycle { "arrow-cycle" } else { "arrow" };
    let _ = writeln!(
        s,
        "<path class=\"{class}\" d=\"M{:.1},{:.1} Q{:.1},{:.1} {:.1},{:.1}\" marker-end=\"url(#{marker}-{id})\" data-from=\"{}\" data-to=\"{}\"/>",
        start.0,
        start.1,
        c.0,
        c.1,
        end.0,
        end.1,
        attr(&nodes[a].label),
        attr(&nodes[b].label)
    );
    let mid = (
        0.25 * p1.0 + 0.5 * c.0 + 0.25 * p2.0,
        0.25 * p1.1 + 0.5 * c.1 + 0.25 * p2.1,
    );
    let _ = writeln!(
        s,
        "<text class=\"edge-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        mid.0 + px * 10.0,
        mid.1 + py * 10.0,
        text(e.label)
    );
}

/// A node: an ellipse for a thread, a box for a resource, with its label.
fn node_svg(s: &mut String, nd: &Node, (x, y): (f64, f64)) {
    let (rx, ry) = node_size(nd);
    let class = format!(
        "node {}{}",
        if nd.thread { "thread" } else { "resource" },
        if nd.in_cycle { " in-cycle" } else { "" }
    );
    let _ = write!(
        s,
        "<g class=\"{class}\" data-label=\"{}\">",
        attr(&nd.label)
    );
    if nd.thread {
        let _ = write!(
            s,
            "<ellipse cx=\"{x:.1}\" cy=\"{y:.1}\" rx=\"{rx:.1}\" ry=\"{ry:.1}\"/>"
        );
    } else {
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"4\"/>",
            x - rx,
            y - ry,
            2.0 * rx,
            2.0 * ry
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></g>",
        y + 4.5,
        text(&nd.label)
    );
}

fn outcomes(out: &mut String, r: &Value) {
    let rows = arr(r, "outcomes");
    let observe: Vec<&str> = arr(r, "observe").iter().filter_map(Value::as_str).collect();
    let printed = rows.iter().any(|o| !arr(o, "output").is_empty());
    if rows.is_empty() || (observe.is_empty() && !printed) {
        return;
    }
    out.push_str(
        "<h3>Outcomes of completed executions</h3>\n<table class=\"outcomes\">\n<thead><tr>",
    );
    for n in &observe {
        let _ = write!(out, "<th>{}</th>", text(n));
    }
    if printed {
        out.push_str("<th>printed</th>");
    }
    out.push_str("<th>executions</th><th>example schedule</th></tr></thead>\n<tbody>\n");
    for o in rows {
        out.push_str("<tr class=\"outcome\">");
        for n in &observe {
            let v = o
                .get("values")
                .and_then(|v| v.get(*n))
                .map(py)
                .unwrap_or_default();
            let _ = write!(out, "<td>{}</td>", text(&v));
        }
        if printed {
            let lines: Vec<String> = arr(o, "output")
                .iter()
                .filter_map(Value::as_str)
                .map(|l| text(l).into_owned())
                .collect();
            let _ = write!(
                out,
                "<td><pre class=\"output\">{}</pre></td>",
                lines.join("\n")
            );
        }
        let _ = writeln!(
            out,
            "<td class=\"count\">{}</td><td><code>{}</code></td></tr>",
            u_of(o, "count"),
            text(s_of(o, "schedule"))
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn stats(out: &mut String, r: &Value) {
    let Some(s) = r.get("stats") else { return };
    out.push_str("<h3>Exploration</h3>\n<dl class=\"stats\">\n");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", text(k), text(&v));
    };
    row("engine", s_of(s, "engine").to_string());
    row("executions", u_of(s, "executions").to_string());
    if u_of(s, "redundant") > 0 {
        row("cut short as redundant", u_of(s, "redundant").to_string());
    }
    row("steps", u_of(s, "steps").to_string());
    if s.get("max_depth").is_some() {
        row("longest execution", plural(u_of(s, "max_depth"), "step"));
    }
    let complete = s.get("complete").and_then(Value::as_bool).unwrap_or(false);
    row(
        "complete",
        if complete {
            "yes: every execution was covered".into()
        } else {
            "NO".into()
        },
    );
    if let Some(l) = s.get("limit").and_then(Value::as_str) {
        row("limit", l.to_string());
    }
    if let Some(ms) = s.get("elapsed_ms").and_then(Value::as_f64)
        && ms > 0.0
    {
        row("time", format!("{ms:.1} ms"));
    }
    out.push_str("</dl>\n");
}
