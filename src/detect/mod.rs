//! The detectors: data races, the wait-for graph of a deadlock, the lock-order graph.
pub mod lockorder;
pub mod lost_writes;
pub mod races;
pub mod waitfor;

use crate::ir::{FindingKind, Program};
use crate::machine::Ending;
use crate::search::Replay;

/// The finding a replayed execution reaches, if any: its last failure, a deadlock or
/// livelock at its end, a failed `[final]` assertion, or else a data race between two of
/// its steps (for `simrace replay` and for grading a schedule).
pub fn finding_reached(prog: &Program, r: &Replay) -> Option<(FindingKind, String)> {
    if let Some((_, f)) = r.failures.last() {
        return Some((f.kind, f.message.clone()));
    }
    let s = &r.state;
    if s.enabled(prog).is_empty() {
        if !s.all_finished() {
            if let Ending::Stuck { kind, message, .. } = s.stuck(prog) {
                return Some((kind, message));
            }
        } else if let Some(f) = s.check_final(prog) {
            return Some((f.kind, f.message));
        }
    }
    let race = races::races_in(prog, &r.steps).into_iter().next()?;
    Some((FindingKind::DataRace, race.message(prog)))
}
