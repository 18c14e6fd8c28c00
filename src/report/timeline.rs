//! `simrace time --html OUT`: the simulated clock's timeline drawn as one self-contained
//! page (inline CSS and SVG, no scripts, no external URLs), in the style of the `run`
//! report. Per scenario and per run (a `--cores` value): the wall time and speedup, one
//! lane per party, each stretch of the lane coloured by the party's state (running,
//! waiting for the GIL, waiting for a core, blocked, asleep, starting), a time axis, a
//! legend, and the per-party times of the text report.
//!
//! The page is built from the JSON that `simrace time --format json` prints (one value
//! per file), so that the picture and the numbers come from one place. Every text from
//! the scenario is escaped, and the output depends only on the input (numbers printed
//! with fixed decimals), so a page can be snapshot-tested.

use super::html::{arr, s_of};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use serde_json::Value;
use std::fmt::Write as _;

/// The states of a lane, in legend order, with the words the legend gives them. The
/// first word is the JSON timeline's `state`.
pub const STATES: &[(&str, &str)] = &[
    ("running", "running"),
    ("gil_wait", "waiting for the GIL"),
    ("core_wait", "waiting for a core"),
    ("blocked", "blocked"),
    ("sleeping", "asleep"),
    ("starting", "starting (a process)"),
];

const CSS: &str = r#"
.run { border: 1px solid var(--line); border-radius: 8px; padding: 4px 16px 14px; margin: 16px 0; }
.run.problem { border-left: 5px solid var(--fail-edge); }
svg.timeline { width: 100%; height: auto; background: var(--soft); border-radius: 8px; }
svg.timeline text { font: 12px ui-monospace, monospace; fill: var(--fg); }
svg.timeline text.tick { fill: var(--muted); font-size: 11px; }
svg.timeline line.tick { stroke: var(--line); stroke-width: 1; }
.state.running { fill: #2e9d4f; background: #2e9d4f; }
.state.gil_wait { fill: #e8912d; background: #e8912d; }
.state.core_wait { fill: #8e6fd8; background: #8e6fd8; }
.state.blocked { fill: #6c7a91; background: #6c7a91; }
.state.sleeping { fill: #8fbce8; background: #8fbce8; }
.state.starting { fill: #c3c8d1; background: #c3c8d1; }
ul.legend { list-style: none; padding: 0; margin: 8px 0; display: flex; flex-wrap: wrap; gap: 4px 18px; }
ul.legend .swatch { display: inline-block; width: 14px; height: 14px; border-radius: 3px; vertical-align: -2px; margin-right: 6px; }
table.parties th, table.parties td { border: 1px solid var(--line); padding: 3px 10px; text-align: right; }
table.parties th:first-child, table.parties td:first-child { text-align: left; }
table.parties thead th { background: var(--soft); }
"#;

/// The SVG's geometry, in its own units (it scales to the page's width).
const LABEL_W: f64 = 150.0;
const PLOT_W: f64 = 900.0;
const LANE_H: f64 = 24.0;
const LANE_GAP: f64 = 8.0;
const AXIS_H: f64 = 24.0;
const TICKS: u32 = 10;

fn f_of(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// The page for the reports of `simrace time --format json`, one per file.
pub fn render(reports: &[Value]) -> String {
    let mut out = String::new();
    let title = match reports {
        [r] => format!("simrace time: {}", s_of(r, "scenario")),
        _ => "simrace time".to_string(),
    };
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", text(&title));
    let _ = writeln!(
        out,
        "<style>{}{CSS}</style>\n</head>\n<body>",
        super::html::CSS
    );
    out.push_str("<header class=\"page\">\n<h1>simrace time</h1>\n<nav>");
    for (i, r) in reports.iter().enumerate() {
        let _ = write!(
            out,
            "<a href=\"#scenario-{}\">{}</a>",
            i + 1,
            text(s_of(r, "scenario"))
        );
    }
    out.push_str("</nav>\n</header>\n<main>\n");
    for (i, r) in reports.iter().enumerate() {
        scenario(&mut out, i + 1, r);
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn scenario(out: &mut String, idx: usize, r: &Value) {
    let name = s_of(r, "scenario");
    let _ = writeln!(
        out,
        "<section class=\"scenario timing\" id=\"scenario-{idx}\" data-scenario=\"{}\">\n<h2>{}</h2>",
        attr(name),
        text(name)
    );
    for run in arr(r, "runs") {
        one_run(out, run);
    }
    out.push_str("</section>\n");
}

fn one_run(out: &mut String, run: &Value) {
    let gil = if run["gil"].as_bool() == Some(false) {
        "off"
    } else {
        "on"
    };
    let cores = run["cores"].as_u64().unwrap_or(0);
    let problem = s_of(run, "problem");
    let class = if problem.is_empty() {
        "run"
    } else {
        "run problem"
    };
    let _ = writeln!(
        out,
        "<div class=\"{class}\" data-cores=\"{cores}\" data-gil=\"{gil}\">\n<h3>{cores} {}, GIL {gil}: wall {:.1} ms, serial {:.1} ms, speedup {:.2}x</h3>",
        if cores == 1 { "core" } else { "cores" },
        f_of(run, "wall_ms"),
        f_of(run, "serial_ms"),
        f_of(run, "speedup")
    );
    if !problem.is_empty() {
        let _ = writeln!(out, "<p class=\"error-box\">{}</p>", text(problem));
    }
    svg(out, run);
    legend(out);
    parties(out, run);
    out.push_str("</div>\n");
}

/// The lanes: one `<g class="lane">` per party (in the report's order), one `<rect>`
/// per stretch of its timeline, under a time axis.
fn svg(out: &mut String, run: &Value) {
    let wall = f_of(run, "wall_ms");
    let lanes = arr(run, "parties");
    let height = AXIS_H + lanes.len() as f64 * (LANE_H + LANE_GAP);
    let _ = writeln!(
        out,
        "<svg class=\"timeline\" viewBox=\"0 0 {:.0} {height:.0}\" role=\"img\" aria-label=\"timeline\">",
        LABEL_W + PLOT_W + 20.0
    );
    for t in 0..=TICKS {
        let x = LABEL_W + PLOT_W * f64::from(t) / f64::from(TICKS);
        let at = wall * f64::from(t) / f64::from(TICKS);
        // The last label ends at its tick, so that it stays on the picture.
        let anchor = if t == TICKS { "end" } else { "middle" };
        let _ = writeln!(
            out,
            "<line class=\"tick\" x1=\"{x:.2}\" y1=\"{:.2}\" x2=\"{x:.2}\" y2=\"{height:.2}\"/><text class=\"tick\" x=\"{x:.2}\" y=\"14\" text-anchor=\"{anchor}\">{at:.1} ms</text>",
            AXIS_H - 6.0
        );
    }
    for (i, p) in lanes.iter().enumerate() {
        let name = s_of(p, "name");
        let y = AXIS_H + i as f64 * (LANE_H + LANE_GAP);
        let _ = writeln!(
            out,
            "<g class=\"lane\" data-party=\"{}\"><text class=\"party\" x=\"4\" y=\"{:.2}\">{}</text>",
            attr(name),
            y + LANE_H * 0.7,
            text(name)
        );
        for s in arr(run, "timeline")
            .iter()
            .filter(|s| s_of(s, "party") == name)
        {
            slice(out, s, wall, y, name);
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
}

fn slice(out: &mut String, s: &Value, wall: f64, y: f64, party: &str) {
    let (from, to) = (f_of(s, "from_ms"), f_of(s, "to_ms"));
    let state = s_of(s, "state");
    let scale = if wall > 0.0 { PLOT_W / wall } else { 0.0 };
    let words = STATES
        .iter()
        .find(|(k, _)| *k == state)
        .map_or(state, |(_, w)| w);
    let _ = writeln!(
        out,
        "<rect class=\"state {}\" data-state=\"{}\" x=\"{:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{LANE_H:.2}\"><title>{}: {} from {from:.3} to {to:.3} ms</title></rect>",
        attr(state),
        attr(state),
        LABEL_W + from * scale,
        (to - from) * scale,
        text(party),
        text(words)
    );
}

fn legend(out: &mut String) {
    out.push_str("<ul class=\"legend\">");
    for (state, words) in STATES {
        let _ = write!(
            out,
            "<li data-state=\"{state}\"><span class=\"swatch state {state}\"></span>{words}</li>"
        );
    }
    out.push_str("</ul>\n");
}

/// The per-party times, as the text report has them.
fn parties(out: &mut String, run: &Value) {
    out.push_str("<table class=\"parties\">\n<thead><tr><th>party</th><th>cpu ms</th><th>GIL wait ms</th><th>core wait ms</th><th>blocked ms</th><th>asleep ms</th><th>start ms</th><th>end ms</th></tr></thead>\n<tbody>\n");
    for p in arr(run, "parties") {
        let opt = |k: &str| p[k].as_f64().map_or("-".to_string(), |x| format!("{x:.1}"));
        let _ = writeln!(
            out,
            "<tr class=\"party\"><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{}</td></tr>",
            text(s_of(p, "name")),
            f_of(p, "cpu_ms"),
            f_of(p, "gil_wait_ms"),
            f_of(p, "core_wait_ms"),
            f_of(p, "blocked_ms"),
            f_of(p, "sleep_ms"),
            opt("start_ms"),
            opt("end_ms")
        );
    }
    out.push_str("</tbody>\n</table>\n");
}
