//! The detectors: data races, the wait-for graph of a deadlock, the lock-order graph.
pub mod lockorder;
pub mod lost_writes;
pub mod races;
pub mod waitfor;

use crate::ir::{FindingKind, Program};
use crate::machine::Ending;
use crate::search::Replay;

/// The finding a replayed execution reaches, if any, as the explorer reported it (for
/// `simrace replay`, the step-by-step game and grading a schedule). In order:
/// - a failure that ends the execution (its last: a finding's schedule ends at its own
///   failure; another thread may have failed before), or one in the last step;
/// - a deadlock or livelock where nothing can move, or a failed `[final]` assertion;
/// - a livelock where the execution ran to `max_steps` and could go on;
/// - a data race: the one whose second access is the last step (a race's schedule
///   ends there), with the latest first access, else the first of the execution;
/// - a process's failure earlier on, which the execution went on after.
pub fn finding_reached(
    prog: &Program,
    r: &Replay,
    max_steps: u64,
) -> Option<(FindingKind, String)> {
    let last = r.steps.len().checked_sub(1);
    let ended = r.failures.iter().any(|(_, f)| f.ends_execution(prog));
    if let Some((at, f)) = r.failures.last()
        && (ended || *at == last)
    {
        return Some((f.kind, f.message.clone()));
    }
    match r.state.ending(prog, max_steps) {
        Some(Ending::Stuck { kind, message, .. }) => return Some((kind, message)),
        Some(Ending::TooLong { message }) => return Some((FindingKind::Livelock, message)),
        Some(Ending::Finished { check: Some(f), .. }) => return Some((f.kind, f.message)),
        _ => {}
    }
    let at_end = races_reached(prog, r);
    if let Some(message) = at_end.first() {
        return Some((FindingKind::DataRace, message.clone()));
    }
    if let Some(race) = races::races_in(prog, &r.steps).first() {
        return Some((FindingKind::DataRace, race.message(prog)));
    }
    r.failures.last().map(|(_, f)| (f.kind, f.message.clone()))
}

/// The data races whose second access is the replayed execution's last step, each once,
/// the latest first access first: a race's schedule ends at its second access, and one
/// step can complete several (a write after another thread's read and write of the
/// cell), each a finding of its own.
pub fn races_reached(prog: &Program, r: &Replay) -> Vec<String> {
    let last = r.steps.len().checked_sub(1);
    let mut at_end: Vec<races::Race> = races::races_in(prog, &r.steps)
        .into_iter()
        .filter(|x| Some(x.second.step) == last)
        .collect();
    // The latest first access first; of those, the one found last (the write before a
    // read, checked first, comes after it).
    at_end.reverse();
    at_end.sort_by_key(|x| std::cmp::Reverse(x.first.step));
    let mut messages: Vec<String> = vec![];
    for x in at_end {
        let m = x.message(prog);
        if !messages.contains(&m) {
            messages.push(m);
        }
    }
    messages
}
