//! `simrace replay`: one execution of a scenario, driven by a schedule from a report, as
//! a trace and how it ended. Threads are given by number or by name (`worker[1]`). The
//! exit status says whether the execution reaches a finding (1) or not (0): a failure,
//! a deadlock or livelock, a failed `[final]` assertion, or a data race between two of
//! its steps; 2 for a bad file or schedule. The JSON's `finding` is that finding's
//! `kind` and `message`, or null.

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
    let ended = ending(&prog, &r);
    let found = finding_reached(&prog, &r);
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
            // The ending names every other finding; a race is between two steps.
            if let Some((FindingKind::DataRace, message)) = &found {
                out.push_str(&format!("data_race: {message}\n"));
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
            });
            print_out(&format!(
                "{}\n",
                serde_json::to_string_pretty(&v).expect("json")
            ));
        }
    }
    u8::from(found.is_some())
}

/// How a replayed execution ended, in words: a finding's schedule ends at its own
/// failure, the last one (another thread may have failed before).
fn ending(prog: &Program, r: &search::Replay) -> String {
    if let Some((at, f)) = r.failures.last() {
        let who = f
            .thread
            .map(|t| prog.threads[t as usize].name.clone())
            .unwrap_or_else(|| "check".into());
        let at = at
            .map(|i| format!("at step {}", i + 1))
            .unwrap_or_else(|| "before the first step".into());
        return format!("{}: {who} (line {}) {at}: {}", f.kind, f.line, f.message);
    }
    let s = &r.state;
    if !s.enabled(prog).is_empty() {
        return "the schedule ends here; the execution could go on".to_string();
    }
    if !s.all_finished() {
        return stuck(prog, s);
    }
    if let Some(f) = s.check_final(prog) {
        return format!("{}: line {}: {}", f.kind, f.line, f.message);
    }
    let vals: Vec<String> = prog
        .observe
        .iter()
        .map(|(n, c)| format!("{n} = {}", s.cells[*c as usize]))
        .collect();
    format!("finished: {}", vals.join(", "))
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
