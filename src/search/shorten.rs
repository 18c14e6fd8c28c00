//! Shorter traces for findings. The explorer keeps, for each finding, the shortest
//! schedule among the executions that reached it; but those executions also run steps
//! that have nothing to do with the bug (another thread's work, done first because the
//! explorer happens to try thread 0 first). The *causal past* of the step that shows the
//! bug, the steps it depends on under the explorer's dependency relation (program order,
//! start, and footprints that conflict), is a valid execution of its own that reaches the
//! same step in the same way: Mazurkiewicz traces. It is checked by running it anyway,
//! and used only when it shows the same finding.

use crate::detect::races::{Access, Race, RaceDetector};
use crate::ir::{Program, ThreadId};
use crate::machine::{Choice, Event, Failure, Footprint, State, Status, dependent};

/// One step of a schedule run as the explorer runs it.
struct Step {
    fp: Footprint,
    started: Vec<ThreadId>,
    events: Vec<Event>,
    failure: Option<Failure>,
}

/// The longest schedule worth shortening (the closure is quadratic).
const MAX_LEN: usize = 2000;

/// Runs `schedule` from the initial state as the explorer does (a failing thread stops);
/// `None` if a choice is not possible.
fn run(prog: &Program, schedule: &[Choice]) -> Option<Vec<Step>> {
    let (mut state, _) = State::initial(prog);
    let mut steps = vec![];
    for c in schedule {
        if c.thread as usize >= prog.threads.len() || c.alt >= state.alternatives(prog, c.thread) {
            return None;
        }
        let fp = state.footprint(prog, c.thread);
        let before: Vec<bool> = state
            .threads
            .iter()
            .map(|t| t.status == Status::NotStarted)
            .collect();
        let out = state.step(prog, *c, false);
        let started = (0..prog.threads.len() as ThreadId)
            .filter(|x| {
                before[*x as usize] && state.threads[*x as usize].status != Status::NotStarted
            })
            .collect();
        steps.push(Step {
            fp,
            started,
            events: out.events,
            failure: out.failure,
        });
    }
    Some(steps)
}

/// The causal past of the last step: the steps it depends on, in their order; `None` when
/// that is every step.
fn causal_past(schedule: &[Choice], steps: &[Step]) -> Option<Vec<Choice>> {
    let n = steps.len();
    if n == 0 {
        return None;
    }
    let mut keep = vec![false; n];
    keep[n - 1] = true;
    for j in (0..n - 1).rev() {
        let tj = schedule[j].thread;
        keep[j] = (j + 1..n).any(|k| {
            keep[k]
                && (schedule[k].thread == tj
                    || steps[j].started.contains(&schedule[k].thread)
                    || dependent(&steps[j].fp, &steps[k].fp))
        });
    }
    let short: Vec<Choice> = (0..n).filter(|j| keep[*j]).map(|j| schedule[j]).collect();
    (short.len() < n).then_some(short)
}

/// The same locations: one race stands for the other in a report.
fn same_locations(prog: &Program, a: &Race, b: &Race) -> bool {
    let side = |x: &Access| (x.thread, x.line, x.write);
    prog.var_of_cell(a.cell) == prog.var_of_cell(b.cell)
        && side(&a.first) == side(&b.first)
        && side(&a.second) == side(&b.second)
}

/// A shorter schedule for a race whose second access is the last step of `schedule`:
/// `Some` with it and the race as found in it, when it is shorter and still ends in a race
/// between the same two accesses.
pub fn race(prog: &Program, schedule: &[Choice], race: &Race) -> Option<(Vec<Choice>, Race)> {
    if schedule.len() > MAX_LEN {
        return None;
    }
    let short = causal_past(schedule, &run(prog, schedule)?)?;
    let steps = run(prog, &short)?;
    let mut det = RaceDetector::new(prog);
    for (i, s) in steps.iter().enumerate() {
        det.step(short[i].thread, i, &s.events);
    }
    let found = det
        .races
        .into_iter()
        .find(|r| r.second.step + 1 == short.len() && same_locations(prog, r, race))?;
    Some((short, found))
}

/// A shorter schedule for a failure (an assertion or an error in a thread) in the last
/// step of `schedule`: `Some` when it is shorter and fails in its last step in the same
/// way (kind, thread, line and message).
pub fn failure(prog: &Program, schedule: &[Choice]) -> Option<Vec<Choice>> {
    if schedule.len() > MAX_LEN {
        return None;
    }
    let steps = run(prog, schedule)?;
    let f = steps.last()?.failure.clone()?;
    f.thread?;
    let short = causal_past(schedule, &steps)?;
    let steps = run(prog, &short)?;
    // The failure is the short run's first, in its last step.
    let first = steps.iter().position(|s| s.failure.is_some())?;
    (first + 1 == short.len() && steps[first].failure.as_ref() == Some(&f)).then_some(short)
}
