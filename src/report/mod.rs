//! Reports: what an exploration found, as data (serialized to the JSON of SCENARIO.md)
//! and as text a person can follow. Traces are rebuilt here by replaying each finding's
//! schedule, so the explorer itself never formats anything.
//!
//! The map of this folder:
//! - `mod.rs`: the report types (their serde derives are the JSON report);
//! - `build.rs`: a [`RunReport`] from an exploration or another engine's tally;
//! - `text.rs`: the text report and the trace table;
//! - `html.rs`: one self-contained HTML page over several reports;
//! - `timeline.rs`: `simrace time`'s timeline as such a page;
//! - `explain.rs`: a finding told step by step in plain words;
//! - `junit.rs`: `simrace check`'s results as JUnit XML.

mod build;
pub mod explain;
pub mod html;
pub mod junit;
mod text;
pub mod timeline;

pub use build::{build, engine_report, from_engine, trace_entries};
pub(crate) use text::plural;
pub use text::{
    TEXT_TRACE_LINES, outcome_table, render_engine, render_engine_text, render_text, write_trace,
    write_trace_marked,
};

use crate::detect::lockorder::CycleEdge;
use crate::detect::waitfor::DeadlockReport;
use crate::ir::Value;
use serde::{Deserialize, Serialize};

/// A name from a fixed set (a kind, a verdict, an engine); an alias so that serde reads
/// it as an owned value (`static_str`), not one borrowed from the input.
pub type StaticName = &'static str;

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct RunReport {
    pub scenario: String,
    pub file: String,
    /// The step limit of the run, where a flag set it apart from the scenario's own
    /// (`max_steps` in `[limits]`, or the default): replaying a finding needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u64>,
    pub description: String,
    #[serde(deserialize_with = "static_str::one")]
    pub verdict: StaticName,
    #[serde(deserialize_with = "static_str::many")]
    pub kinds: Vec<StaticName>,
    #[serde(deserialize_with = "static_str::many")]
    pub expected: Vec<StaticName>,
    pub matches_expectation: bool,
    pub findings: Vec<FindingReport>,
    /// Findings found but not written out: past [`SHOWN_PER_KIND`] of one kind.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub findings_not_shown: u64,
    pub warnings: Vec<WarningReport>,
    /// The names in `outcomes[].values`, in display order.
    pub observe: Vec<String>,
    pub outcomes: Vec<OutcomeReport>,
    pub stats: StatsReport,
    /// Each other engine's own result, when several engines ran (the top-level kinds and
    /// findings are then the explorer's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub engines: Vec<EngineReport>,
}

/// One engine's result (native, loom, shuttle): what it saw and how often.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct EngineReport {
    #[serde(deserialize_with = "static_str::one")]
    pub engine: StaticName,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<String>,
    #[serde(deserialize_with = "static_str::many")]
    pub kinds: Vec<StaticName>,
    pub findings: Vec<EngineFinding>,
    pub outcomes: Vec<EngineOutcome>,
    /// Runs (native) or executions (loom, shuttle).
    pub executions: u64,
    pub complete: bool,
    pub elapsed_ms: f64,
    /// Bounds that were applied and what the engine cannot claim.
    pub notes: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct EngineFinding {
    #[serde(deserialize_with = "static_str::one")]
    pub kind: StaticName,
    /// The message seen most often for this kind.
    pub message: String,
    /// Executions in which this kind was seen.
    pub count: u64,
    /// Other messages of the same kind, with how often each was seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<(String, u64)>,
    /// A schedule that replays it with the engine (shuttle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct EngineOutcome {
    pub values: serde_json::Map<String, serde_json::Value>,
    pub count: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct FindingReport {
    #[serde(deserialize_with = "static_str::one")]
    pub kind: StaticName,
    pub message: String,
    /// Executions in which this finding was reached.
    pub count: u64,
    pub schedule: String,
    pub trace: Vec<TraceEntry>,
    /// What the execution printed, in order.
    pub output: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub race: Option<RaceReport>,
    /// For a deadlock: the wait-for graph, explained.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadlock: Option<DeadlockReport>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct RaceReport {
    /// The location, with its index for an array element: `x`, `a[2]`.
    pub variable: String,
    /// The array index, for an array element.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    pub first: AccessReport,
    pub second: AccessReport,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct AccessReport {
    pub thread: String,
    pub line: u32,
    #[serde(deserialize_with = "static_str::one")]
    pub access: StaticName,
    /// 1-based step number in the trace.
    pub step: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct TraceEntry {
    pub step: usize,
    pub thread: String,
    pub line: u32,
    pub op: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct WarningReport {
    #[serde(deserialize_with = "static_str::one")]
    pub kind: StaticName,
    pub message: String,
    /// For a `potential_deadlock`: the edges of the lock-order cycle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cycle: Option<Vec<CycleEdge>>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct OutcomeReport {
    pub values: serde_json::Map<String, serde_json::Value>,
    /// What the executions of this outcome printed, line by line (`main: Hello`); left
    /// out when nothing was printed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<String>,
    pub count: u64,
    pub schedule: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct StatsReport {
    #[serde(deserialize_with = "static_str::one")]
    pub engine: StaticName,
    pub executions: u64,
    pub complete: bool,
    pub elapsed_ms: f64,
    /// Executions cut short as equivalent to one already explored.
    pub redundant: u64,
    pub steps: u64,
    /// Distinct states reached.
    pub states: u64,
    pub max_depth: usize,
    /// The most the search stored at once, in bytes (an estimate from what it stores,
    /// deterministic; 0 for the engines).
    #[serde(default)]
    pub peak_memory: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// The search was stopped by Ctrl-C: the report is partial.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// Why the explorer switched to state caching on its own, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switched: Option<String>,
}

/// Reading a report back (a share of a partitioned check, for `simrace merge`): its
/// names (kinds, verdicts, engines, accesses) are `&'static str`s, made once per distinct
/// name for the life of the process.
mod static_str {
    use serde::{Deserialize, Deserializer};
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    fn intern(s: String) -> &'static str {
        static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
        let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = names.get(s.as_str()) {
            return n;
        }
        let n: &'static str = Box::leak(s.into_boxed_str());
        names.insert(n);
        n
    }

    pub fn one<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
        String::deserialize(d).map(intern)
    }

    pub fn many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<&'static str>, D::Error> {
        Vec::<String>::deserialize(d).map(|v| v.into_iter().map(intern).collect())
    }
}

pub fn json_value(v: Value) -> serde_json::Value {
    match v {
        Value::None => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(b),
        Value::Int(i) => serde_json::Value::from(i),
        // Cells never hold these; where one is shown, it is by its text.
        Value::List(_) | Value::Task { .. } => serde_json::Value::from(v.to_string()),
    }
}

pub use crate::search::SHOWN_PER_KIND;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The command that replays the execution `schedule` (as a report writes it) of `file`,
/// with the run's step limit where it is not the scenario's own (`max_steps`): the one
/// wording of it in every report.
pub fn replay_command(file: &str, schedule: &str, max_steps: Option<u64>) -> String {
    let mut cmd = format!("simrace replay {file}");
    if !schedule.is_empty() {
        cmd.push_str(&format!(" --schedule {schedule}"));
    }
    if let Some(n) = max_steps {
        cmd.push_str(&format!(" --max-steps {n}"));
    }
    cmd
}
