//! Replay: runs a schedule from the initial state step by step, with the trace lines that
//! the reports and their explanations, `simrace replay` and `simrace step` show, and says
//! which choice is not possible when one is not.
//!
//! Pinned by tests/scenarios.rs (`every_finding_replays_to_itself`) and tests/search.rs.

use crate::ir::{FindingKind, Program, ThreadId};
use crate::machine::{Choice, Event, Failure, State};
use crate::search::RawFinding;

/// One step of a replayed execution, for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    pub thread: ThreadId,
    pub line: u32,
    pub op: String,
    /// What the step printed.
    pub output: Vec<String>,
    /// What the step did, for the detectors.
    pub events: Vec<Event>,
}

/// A replayed execution: its steps and how it ended.
#[derive(Clone, Debug)]
pub struct Replay {
    pub steps: Vec<TraceStep>,
    /// The first failure (assertion, error) with the step it happened in (`None`: before
    /// the first step).
    pub failure: Option<(Option<usize>, Failure)>,
    /// Every failure, in order (a failure ends only its thread: the others go on, and
    /// may fail too). A finding's schedule ends at its own failure, the last one.
    pub failures: Vec<(Option<usize>, Failure)>,
    pub state: State,
}

/// Replays `schedule` step by step with trace lines. Fails if a choice is not possible.
pub fn replay(prog: &Program, schedule: &[Choice]) -> Result<Replay, String> {
    let (mut state, f0) = State::initial(prog);
    let mut failures: Vec<(Option<usize>, Failure)> = f0.into_iter().map(|f| (None, f)).collect();
    let mut steps = vec![];
    for (i, c) in schedule.iter().enumerate() {
        if c.thread as usize >= prog.threads.len() {
            return Err(format!(
                "step {}: there is no thread {} (threads are 0..{})",
                i + 1,
                c.thread,
                prog.threads.len() - 1
            ));
        }
        let alts = state.alternatives(prog, c.thread);
        if alts == 0 {
            return Err(format!(
                "step {}: {} cannot move in this state",
                i + 1,
                prog.threads[c.thread as usize].name
            ));
        }
        if c.alt >= alts {
            return Err(format!(
                "step {}: {} has {} alternative(s), not {}",
                i + 1,
                prog.threads[c.thread as usize].name,
                alts,
                c.alt + 1
            ));
        }
        let out = state.step(prog, *c, true);
        steps.push(TraceStep {
            thread: c.thread,
            line: out.line,
            op: out.text.unwrap_or_default(),
            output: out.prints,
            events: out.events,
        });
        // An invariant that stays false fails again at every step: the first counts.
        if let Some(f) = out.failure
            && !failures.iter().any(|(_, g)| *g == f)
        {
            failures.push((Some(i), f));
        }
    }
    Ok(Replay {
        steps,
        failure: failures.first().cloned(),
        failures,
        state,
    })
}

/// Checks that finding `f` of an exploration of `prog` (with `max_steps`, the flag's or
/// the default) replays to the same finding: its schedule round-trips through its
/// string, replays, and ends in the same failure, deadlock, livelock or race. The one
/// statement of the property that the tests and the fuzz targets check.
/// A race whose trace was dropped (`RawFinding::trace_dropped`) has none to replay: an
/// error, so that a check cannot pass over it unseen.
pub fn replays_to_itself(prog: &Program, f: &RawFinding, max_steps: u64) -> Result<(), String> {
    if f.trace_dropped() {
        return Err(format!("{}: no trace kept (past the ones shown)", f.key));
    }
    let text = crate::search::format_schedule(&f.schedule);
    let schedule = crate::search::parse_schedule(&text)?;
    if schedule != f.schedule {
        return Err(format!("{}: the schedule does not round-trip", f.message));
    }
    let r = replay(prog, &schedule)?;
    let ok = match f.kind {
        FindingKind::Assertion | FindingKind::Error => {
            // The last step (or the final check) fails with this message.
            let last = r.steps.len().checked_sub(1);
            // Another thread may have failed before: a failure ends only its thread.
            let failed_here = r.failures.iter().any(|(at, fl)| {
                fl.kind == f.kind && (*at == last || f.message.contains(&fl.message))
            });
            let final_fails = r.state.all_finished()
                && r.state
                    .check_final(prog)
                    .is_some_and(|fl| f.message.contains(&fl.message));
            failed_here || final_fails
        }
        FindingKind::Deadlock | FindingKind::Livelock if f.key == "max_steps" => {
            r.steps.len() as u64 == max_steps.min(prog.max_steps.unwrap_or(u64::MAX))
        }
        FindingKind::Deadlock | FindingKind::Livelock => {
            r.state.enabled(prog).is_empty() && !r.state.all_finished()
        }
        FindingKind::DataRace => {
            let race = f.race.as_ref().ok_or("a data race without its accesses")?;
            let races = crate::detect::races::races_in(prog, &r.steps);
            // The trace ends at the second access.
            races.iter().any(|x| x == race) && race.second.step + 1 == r.steps.len()
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} {} does not replay (failures: {:?})",
            f.kind, f.message, r.failures
        ))
    }
}
