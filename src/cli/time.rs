//! `simrace time FILE... [--cores N,...] [--gil on|off,...] [--format text|json] [--html OUT]`:
//! one execution of each scenario on a simulated clock (`crate::time`), one run per value
//! of `--cores` and `--gil`; `--html` draws the timelines ([`crate::report::timeline`],
//! from the same JSON). Exit status: 0, or 1 when a timed execution failed, deadlocked
//! or ran out of simulated time, 2 for an invalid input (the other files are still
//! timed and reported) or a page that cannot be written.

use super::args::{Format, Gil, TimeArgs};
use super::print_out;
use crate::frontend::ast::Scenario;
use crate::ir::Program;
use crate::report::timeline;
use crate::time::{LIMIT_STEPS, LIMIT_US, Problem, TimedRun, simulate};
use serde::Serialize;

/// The columns of the text timeline.
const COLUMNS: u64 = 60;

pub(super) fn time(a: &TimeArgs) -> u8 {
    let mut reports = vec![];
    // Each file's JSON in order: its report, or the error of a file that does not load
    // (as `run` writes it); the files after a bad one are still timed.
    let mut json_out: Vec<serde_json::Value> = vec![];
    let (mut failed, mut invalid) = (false, false);
    for file in &a.files {
        let loaded = crate::frontend::scenario::load(file)
            .and_then(|sc| crate::frontend::lower::lower(&sc).map(|p| (sc, p)));
        let (sc, prog) = match loaded {
            Ok(p) => p,
            Err(d) => {
                eprint!("{}", d.render());
                json_out.push(d.json_for(file));
                invalid = true;
                continue;
            }
        };
        let runs = runs(&sc, &prog, a);
        failed |= runs.iter().any(|r| r.problem.is_some());
        let r = report(&prog, &runs);
        json_out.push(serde_json::to_value(&r).expect("reports serialize"));
        reports.push((prog, runs, r));
    }
    match a.format {
        Format::Text => {
            let text: Vec<String> = reports.iter().map(|(p, r, _)| text(p, r)).collect();
            print_out(&text.join("\n"));
        }
        Format::Json => {
            let out = if json_out.len() == 1 {
                serde_json::to_string_pretty(&json_out[0])
            } else {
                serde_json::to_string_pretty(&json_out)
            };
            print_out(&(out.unwrap_or_default() + "\n"));
        }
    }
    if let Some(out) = &a.html {
        let values: Vec<serde_json::Value> = reports
            .iter()
            .map(|(_, _, r)| serde_json::to_value(r).expect("reports serialize"))
            .collect();
        if let Err(e) = std::fs::write(out, timeline::render(&values)) {
            eprintln!("simrace: cannot write {out}: {e}");
            return 2;
        }
    }
    if invalid { 2 } else { u8::from(failed) }
}

/// One run per `--cores` value and `--gil` setting, the settings of each value of
/// `--cores` in turn (the file's `[timing]` where a flag is not given). A Pool without
/// `processes` has one worker per core of the run's machine.
fn runs(sc: &Scenario, prog: &Program, a: &TimeArgs) -> Vec<TimedRun> {
    let cores = if a.cores.is_empty() {
        vec![prog.timing.cores]
    } else {
        a.cores.clone()
    };
    let gils: Vec<bool> = if a.gil.is_empty() {
        vec![prog.timing.gil]
    } else {
        a.gil.iter().map(|g| *g == Gil::On).collect()
    };
    let settings = cores
        .iter()
        .flat_map(|&c| gils.iter().map(move |&g| (c, g)));
    settings
        .map(|(c, gil)| {
            let mut timing = prog.timing;
            timing.cores = c;
            timing.gil = gil;
            if c == prog.timing.cores || !sc.pool_follows_cores() {
                return simulate(prog, timing);
            }
            let mut other = sc.clone();
            other.timing.cores = c;
            match crate::frontend::lower::lower(&other) {
                Ok(p) => simulate(&p, timing),
                // The same file with another Pool size: lowered once already.
                Err(_) => simulate(prog, timing),
            }
        })
        .collect()
}

/// Milliseconds from microseconds, as reports give them.
fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn problem_text(p: &Problem) -> String {
    match p {
        Problem::Failed(m) => format!("the timed execution failed: {m}"),
        Problem::Stuck(m) => format!("the timed execution is stuck: {m}"),
        Problem::TimeLimit => format!(
            "the timed execution stopped after {} s of simulated time",
            LIMIT_US / 1_000_000
        ),
        Problem::TooManySteps => {
            format!("the timed execution stopped after {LIMIT_STEPS} steps")
        }
    }
}

#[derive(Serialize)]
struct Report {
    scenario: String,
    runs: Vec<Run>,
}

#[derive(Serialize)]
struct Run {
    cores: u32,
    gil: bool,
    wall_ms: f64,
    serial_ms: f64,
    speedup: f64,
    parties: Vec<Party>,
    timeline: Vec<Slice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

#[derive(Serialize)]
struct Party {
    name: String,
    cpu_ms: f64,
    gil_wait_ms: f64,
    core_wait_ms: f64,
    blocked_ms: f64,
    sleep_ms: f64,
    start_ms: Option<f64>,
    end_ms: Option<f64>,
}

#[derive(Serialize)]
struct Slice {
    party: String,
    from_ms: f64,
    to_ms: f64,
    state: &'static str,
}

fn report(prog: &Program, runs: &[TimedRun]) -> Report {
    Report {
        scenario: prog.name.clone(),
        runs: runs
            .iter()
            .map(|r| Run {
                cores: r.cores,
                gil: r.gil,
                wall_ms: ms(r.wall_us),
                serial_ms: ms(r.serial_us),
                speedup: (r.speedup() * 100.0).round() / 100.0,
                parties: r
                    .parties
                    .iter()
                    .filter(|p| p.start_us.is_some())
                    .map(|p| Party {
                        name: p.name.clone(),
                        cpu_ms: ms(p.cpu_us),
                        gil_wait_ms: ms(p.gil_wait_us),
                        core_wait_ms: ms(p.core_wait_us),
                        blocked_ms: ms(p.blocked_us),
                        sleep_ms: ms(p.sleep_us),
                        start_ms: p.start_us.map(ms),
                        end_ms: p.end_us.map(ms),
                    })
                    .collect(),
                timeline: r
                    .timeline
                    .iter()
                    .map(|s| Slice {
                        party: r.parties[s.party as usize].name.clone(),
                        from_ms: ms(s.from_us),
                        to_ms: ms(s.to_us),
                        state: s.state.as_str(),
                    })
                    .collect(),
                problem: r.problem.as_ref().map(problem_text),
            })
            .collect(),
    }
}

fn text(prog: &Program, runs: &[TimedRun]) -> String {
    let mut s = format!("time {} ({})\n", prog.path, prog.name);
    for r in runs {
        let gil = if r.gil { "on" } else { "off" };
        s += &format!(
            "\ncores {}, GIL {gil}: wall {:.1} ms, serial {:.1} ms, speedup {:.2}x\n",
            r.cores,
            ms(r.wall_us),
            ms(r.serial_us),
            r.speedup()
        );
        if let Some(p) = &r.problem {
            s += &format!("  {}\n", problem_text(p));
        }
        let started: Vec<usize> = (0..r.parties.len())
            .filter(|i| r.parties[*i].start_us.is_some())
            .collect();
        let width = started
            .iter()
            .map(|i| r.parties[*i].name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        s += &format!(
            "  {:width$}  {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
            "party", "cpu", "gil wait", "core wait", "blocked", "asleep", "start", "end"
        );
        for &i in &started {
            let p = &r.parties[i];
            let opt = |x: Option<u64>| x.map_or("-".to_string(), |u| format!("{:.1}", ms(u)));
            s += &format!(
                "  {:width$}  {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9} {:>9}\n",
                p.name,
                ms(p.cpu_us),
                ms(p.gil_wait_us),
                ms(p.core_wait_us),
                ms(p.blocked_us),
                ms(p.sleep_us),
                opt(p.start_us),
                opt(p.end_us)
            );
        }
        if r.wall_us > 0 {
            s += &format!(
                "  timeline, one column = {:.1} ms (# runs, g waits for the GIL, c for a core, s starts, . blocked or asleep)\n",
                ms(r.wall_us) / COLUMNS as f64
            );
            for &i in &started {
                let mut row = String::new();
                for col in 0..COLUMNS {
                    // The state at the middle of the column.
                    let at = (2 * col + 1) * r.wall_us / (2 * COLUMNS);
                    let c = r
                        .timeline
                        .iter()
                        .find(|x| x.party as usize == i && x.from_us <= at && at < x.to_us)
                        .map_or(' ', |x| x.state.glyph());
                    row.push(c);
                }
                s += &format!("  {:width$} |{row}|\n", r.parties[i].name);
            }
        }
    }
    s
}
