//! Which steps of an execution come after a failure that ends it. SCENARIO.md: "A failed
//! assertion or an `error` ends its execution there."
//!
//! The explorer lets the other threads go on after a thread fails, so that the reduction
//! still sees every conflict it needs (explorer.rs). What they do after it counts only
//! where the failure is not in its causal past (program order, `start`, and footprints
//! that conflict: the dependency relation of dpor.rs and shorten.rs). Then the steps
//! that the finding depends on make an execution of their own, in which it comes before
//! any failure (Mazurkiewicz traces), and which every reduction explores or stands for.
//! Otherwise no order of those steps shows it: the execution ended before it. Found by
//! independently written scenarios: a data race that only an execution whose invariant
//! had failed reached, and an error after a failed invariant, were reported.
//!
//! The summary is kept along the path, one per node, shared until a step adds to it, so
//! that the question costs one footprint comparison per step.

use crate::ir::ThreadId;
use crate::machine::{Footprint, Touch, dependent};
use std::sync::Arc;

/// The steps before a node that come after a failure which ends the execution (or are
/// one): their threads and what they touched.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Taint {
    /// Threads with such a step: every later step of theirs comes after it too.
    threads: Vec<ThreadId>,
    /// Everything those steps touched (sorted), and the end of a failed thread, which a
    /// `join` waits for.
    fp: Footprint,
}

/// The summary before a node: `None` until the first failure that ends the execution.
pub(super) type Summary = Option<Arc<Taint>>;

/// Whether a step of thread `t` with footprint `fp`, taken after the steps `before`
/// sums up, has a failure that ends the execution in its causal past.
pub(super) fn after_failure(before: &Summary, t: ThreadId, fp: &Footprint) -> bool {
    before
        .as_ref()
        .is_some_and(|s| s.threads.contains(&t) || dependent(&s.fp, fp))
}

/// The summary after a step of `t` with footprint `fp` that started the threads
/// `started`; `counts`: the step comes after a failure that ends the execution, or is
/// one.
pub(super) fn add(
    before: &Summary,
    t: ThreadId,
    fp: &Footprint,
    started: &[ThreadId],
    counts: bool,
) -> Summary {
    if !counts {
        return before.clone();
    }
    let mut s = before.as_deref().map_or_else(Taint::default, |s| Taint {
        threads: s.threads.clone(),
        fp: s.fp.clone(),
    });
    for x in std::iter::once(t).chain(started.iter().copied()) {
        if !s.threads.contains(&x) {
            s.threads.push(x);
        }
    }
    s.fp.extend(fp.iter().copied());
    s.fp.push(Touch::Thread(t));
    s.fp.sort();
    s.fp.dedup();
    if before.as_deref() == Some(&s) {
        return before.clone();
    }
    Some(Arc::new(s))
}
