//! simrace: a concurrency scenario simulator and race detector.
//!
//! A scenario is a TOML file with a small Python-like code language (SCENARIO.md in the
//! repository's shared folder): threads and processes that share variables, locks,
//! conditions, events, semaphores, barriers, queues, pipes and managers. simrace explores
//! the interleavings that matter and reports data races, failed assertions, deadlocks,
//! errors Python would raise and livelocks, each with a schedule that replays it; and it
//! runs the scenario on real threads (native, loom, shuttle) to show how often it fails.
//!
//! The library is this small facade; the `simrace` command line is built on it.
//!
//! ```
//! let prog = simrace::parse(
//!     "counter.toml",
//!     r#"
//! [shared]
//! counter = 0
//! [[thread]]
//! name = "worker"
//! count = 2
//! code = "counter += 1"
//! [final]
//! assert = ["counter == 2"]
//! "#,
//! )
//! .unwrap();
//! let ex = simrace::explore(&prog, &simrace::Config::default());
//! // Two workers, a read and a write each: four classes of interleavings.
//! assert_eq!(ex.stats.executions, 4);
//! let kinds: Vec<&str> = ex.findings.iter().map(|f| f.kind.as_str()).collect();
//! assert_eq!(kinds, ["assertion", "data_race", "data_race"]);
//! // Every finding replays from its schedule.
//! let race = &ex.findings[1];
//! let r = simrace::replay(&prog, &race.schedule).unwrap();
//! assert!(simrace::races_in(&prog, &r.steps).contains(race.race.as_ref().unwrap()));
//! ```

pub mod check;
pub mod cli;
mod detect;
mod engines;
mod frontend;
mod grade;
mod ir;
mod machine;
pub mod report;
mod search;
mod serve;
pub mod share;
mod time;

pub use detect::races::{Access, Race, races_in};
pub use engines::child::ModelSettings;
pub use engines::native::{NativeConfig, run as run_native};
pub use engines::tally::Tally;
pub use frontend::diag::Diagnostic;
pub use frontend::schema::SCENARIO_SCHEMA;
pub use ir::{FindingKind, Program, Timing, Value};
pub use machine::{Event, Failure, Policy, State, WakePolicy};
pub use search::{
    Config, DEFAULT_STEP_BUDGET, Exploration, ParallelWork, Progress, RawFinding, RawOutcome,
    Reduction, Replay, SHOWN_PER_KIND, Search, ShareResult, Stats, TraceStep, explore,
    explore_share, format_schedule, merge_shares, parse_schedule, replay, replays_to_itself,
};
pub use time::{PartyState, PartyTime, Problem, Slice, TimedRun, simulate};

/// Reads and checks the scenario file at `path`.
pub fn load(path: &str) -> Result<Program, Diagnostic> {
    frontend::lower::lower(&frontend::scenario::load(path)?)
}

/// Reads and checks a scenario given as text; `path` names it in messages.
pub fn parse(path: &str, text: &str) -> Result<Program, Diagnostic> {
    frontend::lower::lower(&frontend::scenario::parse_scenario(path, text)?)
}
