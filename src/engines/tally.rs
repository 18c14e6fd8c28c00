//! What the engines that run a scenario on threads report: one execution's findings and
//! outcome ([`ExecResult`]), and the tally of many ([`Tally`]): each finding kind with
//! how many executions saw it and its messages, the outcome table, and notes on the
//! bounds that applied.

use crate::ir::{FindingKind, Value};

/// A failure found in one execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub kind: FindingKind,
    pub message: String,
}

/// What one execution found.
#[derive(Clone, Debug, Default)]
pub struct ExecResult {
    pub found: Vec<Found>,
    /// The observed values, when every started thread finished without a failure.
    pub outcome: Option<Vec<Value>>,
}

/// What many executions found.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub executions: u64,
    /// Per kind: executions that saw it, and per message how many.
    pub kinds:
        std::collections::BTreeMap<FindingKind, (u64, std::collections::BTreeMap<String, u64>)>,
    pub outcomes: std::collections::BTreeMap<Vec<Value>, u64>,
    /// A replayable schedule per kind, where the engine gives one (shuttle).
    pub schedules: std::collections::BTreeMap<FindingKind, String>,
    pub complete: bool,
    pub elapsed: std::time::Duration,
    /// What the reader should know: bounds applied, what is not claimed.
    pub notes: Vec<String>,
}

impl Tally {
    pub fn add(&mut self, r: &ExecResult) {
        self.executions += 1;
        let mut seen = vec![];
        for f in &r.found {
            let e = self.kinds.entry(f.kind).or_default();
            if !seen.contains(&f.kind) {
                seen.push(f.kind);
                e.0 += 1;
            }
            *e.1.entry(f.message.clone()).or_default() += 1;
        }
        if let Some(o) = &r.outcome {
            *self.outcomes.entry(o.clone()).or_default() += 1;
        }
    }

    pub fn kinds(&self) -> Vec<FindingKind> {
        self.kinds.keys().copied().collect()
    }
}
