//! `simrace replay`: one execution of a scenario, driven by a schedule from a report, as
//! a trace and how it ended. Threads are given by number or by name (`worker[1]`). The
//! exit status says whether the execution reaches a finding (1) or not (0): a failure,
//! a deadlock or livelock, a failed `[final]` assertion, or a data race between two of
//! its steps; 2 for a bad file or schedule. The JSON's `finding` is that finding's
//! `kind` and `message`, or null; where it is a data race, `races` holds every race
//! whose second access is the last step (one step can complete several, each a finding
//! of the explorer's with this schedule), that one first.

use super::args::{Format, ReplayArgs};
use super::{load_or_print, print_out};
use crate::detect::finding_reached;
use crate::ir::{FindingKind, Program};
use crate::report;
use crate::search;

pub(super) fn replay(a: &ReplayArgs) -> u8 {
    let (file, schedule) = (&a.file, &a.schedule);
    let prog = match load_or_print(file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let choices = match search::parse_schedule_named(&prog, schedule) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("simrace: bad --schedule: {e}");
            return 2;
        }
    };
    let r = match search::replay(&prog, &choices) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("simrace: the schedule does not fit {file}: {e}");
            return 2;
        }
    };
    let max_steps = a.max_steps.unwrap_or(search::max_steps_of(&prog));
    let ended = ending(&prog, &r, max_steps);
    let found = finding_reached(&prog, &r, max_steps);
    let races = match &found {
        Some((FindingKind::DataRace, _)) => crate::detect::races_reached(&prog, &r),
        _ => vec![],
    };
    let trace = report::trace_entries(&prog, &r);
    let output: Vec<String> = r.steps.iter().flat_map(|s| s.output.clone()).collect();
    match a.format {
        Format::Text => {
            let what = if schedule.is_empty() {
                "the execution before its first step"
            } else {
                schedule.as_str()
            };
            let mut out = format!("{} ({}): replay of {what}\n", prog.name, prog.path);
            report::write_trace(&mut out, &trace, &output, "  ");
            out.push_str(&format!("{ended}\n"));
            // The ending names every other finding; a race is between two steps, and the
            // last step can complete several.
            if let Some((FindingKind::DataRace, message)) = &found {
                out.push_str(&format!("data_race: {message}\n"));
                for other in races.iter().filter(|m| *m != message) {
                    out.push_str(&format!("data_race: {other}\n"));
                }
            }
            print_out(&out);
        }
        Format::Json => {
            let v = serde_json::json!({
                "scenario": prog.name, "file": prog.path, "schedule": schedule,
                "trace": trace, "output": output, "result": ended,
                "finding": found.as_ref().map(|(kind, message)| serde_json::json!({
                    "kind": kind.as_str(), "message": message,
                })),
                "races": races,
            });
            print_out(&format!(
                "{}\n",
                serde_json::to_string_pretty(&v).expect("json")
            ));
        }
    }
    u8::from(found.is_some())
}

/// How a replayed execution ended, in words, in the order of
/// [`crate::detect::finding_reached`]: a failure that ends the execution (its last: a
/// finding's schedule ends at its own failure), or one in the last step; how the
/// execution ended or that it could go on; a process's failure earlier on.
fn ending(prog: &Program, r: &search::Replay, max_steps: u64) -> String {
    let last = r.steps.len().checked_sub(1);
    let ended = r.failures.iter().any(|(_, f)| f.ends_execution(prog));
    let failure = |at: &Option<usize>, f: &crate::machine::Failure| {
        let who = f
            .thread
            .map(|t| prog.threads[t as usize].name.clone())
            .unwrap_or_else(|| "check".into());
        let at = at
            .map(|i| format!("at step {}", i + 1))
            .unwrap_or_else(|| "before the first step".into());
        format!("{}: {who} (line {}) {at}: {}", f.kind, f.line, f.message)
    };
    if let Some((at, f)) = r.failures.last()
        && (ended || *at == last)
    {
        return failure(at, f);
    }
    let s = &r.state;
    let went_on = if !s.enabled(prog).is_empty() {
        if s.steps as u64 >= max_steps {
            return format!(
                "livelock: the execution ran past max_steps = {max_steps} without finishing"
            );
        }
        "the schedule ends here; the execution could go on".to_string()
    } else if !s.all_finished() {
        return stuck(prog, s);
    } else if let Some(f) = s.check_final(prog) {
        return format!("{}: line {}: {}", f.kind, f.line, f.message);
    } else {
        let vals: Vec<String> = prog
            .observe
            .iter()
            .map(|(n, c)| format!("{n} = {}", s.cells[*c as usize]))
            .collect();
        format!("finished: {}", vals.join(", "))
    };
    match r.failures.last() {
        Some((at, f)) => format!("{went_on}\n{}", failure(at, f)),
        None => went_on,
    }
}

/// `stuck: ` and what each unfinished thread waits for.
fn stuck(prog: &Program, s: &crate::machine::State) -> String {
    let parts: Vec<String> = s
        .unfinished()
        .iter()
        .map(|t| {
            format!(
                "{} {}",
                prog.threads[*t as usize].name,
                s.waits_for(prog, *t).0
            )
        })
        .collect();
    format!("stuck: {}", parts.join("; "))
}
