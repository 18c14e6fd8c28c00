//! Building a [`RunReport`]: from an exploration ([`build`]), from another engine's tally
//! ([`engine_report`], [`from_engine`]). Each finding's trace is rebuilt here by
//! replaying its schedule (shortened to what the bug depends on, when that is shorter),
//! so the explorer itself never formats anything.

use super::{
    AccessReport, EngineFinding, EngineOutcome, EngineReport, FindingReport, OutcomeReport,
    RaceReport, RunReport, StatsReport, TraceEntry, WarningReport, json_value,
};
use crate::detect::races::{Access, Race};
use crate::detect::waitfor;
use crate::engines::tally::Tally;
use crate::ir::{FindingKind, Program, Value};
use crate::machine::Choice;
use crate::search::{self, Exploration, RawFinding, Replay, format_schedule, replay};
use std::time::Duration;

/// The trace of a replayed execution, numbered from 1, with thread names. A step that
/// raises before its operation says anything of itself (a `recv()` at end of file, a
/// `get()` that raises the task's exception) says what it raised.
pub fn trace_entries(prog: &Program, r: &Replay) -> Vec<TraceEntry> {
    r.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let raised = r.failures.iter().find(|(at, _)| *at == Some(i));
            let op = match raised {
                Some((_, f)) if s.op.is_empty() => format!("raises {}", f.group),
                _ => s.op.clone(),
            };
            TraceEntry {
                step: i + 1,
                thread: prog.threads[s.thread as usize].name.clone(),
                line: s.line,
                op,
            }
        })
        .collect()
}

/// Builds the report of an exploration of `prog`. `timing`: include the elapsed time
/// (off for byte-identical output).
pub fn build(prog: &Program, ex: &Exploration, engine: &'static str, timing: bool) -> RunReport {
    let mut kinds: Vec<FindingKind> = ex.findings.iter().map(|f| f.kind).collect();
    kinds.sort();
    kinds.dedup();
    let (shown, not_shown) = shown_findings(&ex.findings);
    let mut findings: Vec<FindingReport> = shown.iter().map(|f| finding_report(prog, f)).collect();
    findings.sort_by_key(|f| FindingKind::parse(f.kind));
    let expected = sorted_expect(prog);
    RunReport {
        scenario: prog.name.clone(),
        file: prog.path.clone(),
        max_steps: (ex.max_steps != crate::search::max_steps_of(prog)).then_some(ex.max_steps),
        description: prog.description.clone(),
        verdict: if kinds.is_empty() { "pass" } else { "fail" },
        matches_expectation: kinds == expected,
        kinds: kinds.iter().map(|k| k.as_str()).collect(),
        expected: expected.iter().map(|k| k.as_str()).collect(),
        findings,
        findings_not_shown: not_shown,
        warnings: warnings(prog, ex),
        observe: observed_names(prog),
        outcomes: ex
            .outcomes
            .iter()
            .map(|o| OutcomeReport {
                values: named_values(prog, &o.values),
                output: o.output.iter().map(|l| l.to_string()).collect(),
                count: o.count,
                schedule: format_schedule(&o.schedule),
            })
            .collect(),
        stats: stats_report(&ex.stats, engine, timing),
        engines: vec![],
    }
}

/// The findings a report shows in full: [`SHOWN_PER_KIND`] of each kind at most, the
/// first by place (kind and key order, the same whatever the search found them by), and
/// how many more there are. Each shown finding's trace is replayed and written out: a
/// scenario of hundreds of `[[thread]]` tables writing one variable has a race for
/// every pair of them (200 tables: 19,900 races, a report of 348 MB that took 22 s).
fn shown_findings(all: &[RawFinding]) -> (Vec<&RawFinding>, u64) {
    let mut sorted: Vec<&RawFinding> = all.iter().collect();
    sorted.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
    let (mut shown, mut not_shown) = (vec![], 0);
    let mut of_kind: Option<(FindingKind, usize)> = None;
    for f in sorted {
        let n = match of_kind {
            Some((k, n)) if k == f.kind => n + 1,
            _ => 1,
        };
        of_kind = Some((f.kind, n));
        if n <= super::SHOWN_PER_KIND {
            shown.push(f);
        } else {
            not_shown += 1;
        }
    }
    (shown, not_shown)
}

/// The scenario's `expect`, sorted as the found kinds are.
fn sorted_expect(prog: &Program) -> Vec<FindingKind> {
    let mut expected = prog.expect.clone();
    expected.sort();
    expected
}

fn observed_names(prog: &Program) -> Vec<String> {
    prog.observe.iter().map(|(n, _)| n.clone()).collect()
}

/// Final values by observed name.
fn named_values(prog: &Program, values: &[Value]) -> serde_json::Map<String, serde_json::Value> {
    prog.observe
        .iter()
        .zip(values)
        .map(|((n, _), v)| (n.clone(), json_value(*v)))
        .collect()
}

/// Milliseconds, rounded to the microsecond; 0 without `timing`.
fn elapsed_ms(elapsed: Duration, timing: bool) -> f64 {
    if timing {
        (elapsed.as_secs_f64() * 1e6).round() / 1e3
    } else {
        0.0
    }
}

fn stats_report(s: &search::Stats, engine: &'static str, timing: bool) -> StatsReport {
    StatsReport {
        engine,
        executions: s.executions,
        complete: s.complete,
        elapsed_ms: elapsed_ms(s.elapsed, timing),
        redundant: s.redundant,
        steps: s.steps,
        states: s.states,
        max_depth: s.max_depth,
        peak_memory: s.peak_memory,
        limit: s.limit.clone(),
        interrupted: s.interrupted,
        switched: s.switched.clone(),
    }
}

/// The lock-order graph's potential deadlocks, then the writes processes lose.
fn warnings(prog: &Program, ex: &Exploration) -> Vec<WarningReport> {
    let deadlocks = ex
        .lock_order
        .warnings(prog)
        .into_iter()
        .map(|w| WarningReport {
            kind: "potential_deadlock",
            message: w.message,
            cycle: Some(w.cycle),
        });
    let lost = ex
        .lost_writes
        .warnings(prog)
        .into_iter()
        .map(|w| WarningReport {
            kind: "process_write_lost",
            message: w.message,
            cycle: None,
        });
    let exceptions = ex
        .lost_writes
        .exception_warnings()
        .into_iter()
        .map(|message| WarningReport {
            kind: "exception_lost",
            message,
            cycle: None,
        });
    deadlocks.chain(lost).chain(exceptions).collect()
}

/// One finding of the explorer, with its trace rebuilt by replaying its schedule.
fn finding_report(prog: &Program, f: &RawFinding) -> FindingReport {
    let (schedule, race) = shortened(prog, f);
    let (trace, output, deadlock) = match replay(prog, &schedule) {
        Ok(r) => {
            let deadlock = (f.kind == FindingKind::Deadlock
                && r.state.enabled(prog).is_empty()
                && !r.state.all_finished())
            .then(|| waitfor::explain(prog, &r.state));
            let output = r.steps.iter().flat_map(|s| s.output.clone()).collect();
            (trace_entries(prog, &r), output, deadlock)
        }
        Err(e) => (replay_failed(&e), vec![], None),
    };
    FindingReport {
        kind: f.kind.as_str(),
        message: f.message.clone(),
        count: f.count,
        schedule: format_schedule(&schedule),
        trace,
        output,
        race: race.as_ref().map(|r| race_report(prog, r)),
        deadlock,
    }
}

/// The finding's schedule and race, cut down to what the bug depends on when that is
/// shorter (see `search/shorten.rs`).
fn shortened(prog: &Program, f: &RawFinding) -> (Vec<Choice>, Option<Race>) {
    if let Some(r) = &f.race {
        if let Some((s, r)) = search::shorten::race(prog, &f.schedule, r) {
            return (s, Some(r));
        }
    } else if matches!(f.kind, FindingKind::Assertion | FindingKind::Error)
        && let Some(s) = search::shorten::failure(prog, &f.schedule)
    {
        return (s, None);
    }
    (f.schedule.clone(), f.race.clone())
}

/// The one-line trace of a finding whose schedule did not replay.
fn replay_failed(e: &str) -> Vec<TraceEntry> {
    vec![TraceEntry {
        step: 0,
        thread: String::new(),
        line: 0,
        op: format!("(replay failed: {e})"),
    }]
}

fn race_report(prog: &Program, r: &Race) -> RaceReport {
    let acc = |a: &Access| AccessReport {
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
}

/// The report of one engine's tally of `prog`.
pub fn engine_report(
    prog: &Program,
    t: &Tally,
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
            values: named_values(prog, vals),
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
        elapsed_ms: elapsed_ms(t.elapsed, timing),
        notes: t.notes.clone(),
    }
}

/// A run report whose top level is one engine's result (when only that engine ran).
pub fn from_engine(prog: &Program, e: EngineReport) -> RunReport {
    let expected: Vec<&'static str> = sorted_expect(prog).iter().map(|k| k.as_str()).collect();
    RunReport {
        scenario: prog.name.clone(),
        file: prog.path.clone(),
        max_steps: None,
        description: prog.description.clone(),
        verdict: if e.kinds.is_empty() { "pass" } else { "fail" },
        matches_expectation: e.kinds == expected,
        kinds: e.kinds.clone(),
        expected,
        findings: e.findings.iter().map(engine_finding_report).collect(),
        findings_not_shown: 0,
        warnings: vec![],
        observe: observed_names(prog),
        outcomes: e
            .outcomes
            .iter()
            .map(|o| OutcomeReport {
                values: o.values.clone(),
                output: vec![],
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
            peak_memory: 0,
            limit: None,
            interrupted: false,
            switched: None,
        },
        engines: vec![e],
    }
}

/// An engine's finding at the top level of a run report: no trace (the engine keeps
/// none), the schedule when the engine gives one.
fn engine_finding_report(f: &EngineFinding) -> FindingReport {
    FindingReport {
        kind: f.kind,
        message: f.message.clone(),
        count: f.count,
        schedule: f.schedule.clone().unwrap_or_default(),
        trace: vec![],
        output: vec![],
        race: None,
        deadlock: None,
    }
}
