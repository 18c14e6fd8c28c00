//! The raw flags: clap's definitions of every command, flag, help text and default, and
//! nothing else. Turning them into the library's configurations is `config.rs`'s work;
//! checking what clap cannot (a flag that needs another) is each command's.

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "simrace",
    version,
    about = "A concurrency scenario simulator and race detector"
)]
pub(super) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Engine {
    /// Exhaustive exploration with partial-order reduction.
    Explore,
    Random,
    Pct,
    Native,
    Loom,
    Shuttle,
    /// The scenario translated to Python and run many times on a real python3.
    Cpython,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum ReductionFlag {
    /// Dynamic partial-order reduction with sleep sets (default).
    Dpor,
    /// Every interleaving (slow: for checking the reduction).
    None,
    /// Sleep sets alone: one execution per class, like DPOR, by a simpler argument and
    /// with more executions cut short (for checking DPOR on bigger scenarios).
    Sleep,
    /// State caching: each distinct state once; counts are of states, not executions.
    States,
}

/// A limit's value: a positive integer, as `[limits]` requires.
fn positive(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("must be a positive integer (as in [limits])".to_string()),
    }
}

#[derive(clap::Args, Clone)]
pub(super) struct Limits {
    /// Steps in one execution before it counts as a livelock.
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_steps: Option<u64>,
    /// Stop exploring after N executions (the report says it is incomplete).
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_executions: Option<u64>,
    /// Stop exploring after this many seconds (the report says it is incomplete).
    #[arg(long, value_name = "SECONDS", value_parser = positive)]
    pub timeout: Option<u64>,
    /// Stop exploring when the search stores more than this many MiB (estimated from
    /// what it stores, so the same on every run; default 2048): the report says it is
    /// incomplete, instead of the system killing the run.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=1 << 40))]
    pub max_memory: Option<u64>,
    /// Seed for the randomized engines.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// The explorer's reduction.
    #[arg(long, value_enum, default_value = "dpor")]
    pub reduction: ReductionFlag,
    /// Leave the elapsed time out (elapsed_ms is 0), for byte-identical reports of the
    /// deterministic engines (explore, pct, random, shuttle, loom; native and cpython
    /// observe real threads and vary from run to run).
    #[arg(long)]
    pub no_timing: bool,
    /// PCT's bug depth d (`--engine pct`): d - 1 priority change points per execution.
    #[arg(long, value_name = "D", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub depth: u32,
    /// Explore only executions with at most N preemptions (`--engine explore`; plain
    /// enumeration, reported as incomplete when the bound cut anything off).
    #[arg(long, value_name = "N")]
    pub preemption_bound: Option<u32>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum SchedulerFlag {
    /// Random scheduling (shuttle's `check_random`).
    Random,
    /// Probabilistic concurrency testing (shuttle's `check_pct`).
    Pct,
    /// Depth-first enumeration (shuttle's `check_dfs`).
    Dfs,
}

#[derive(clap::Args, Clone)]
pub(super) struct EngineOpts {
    /// Explorer: run the exhaustive search on N threads (the report is the one thread's,
    /// byte for byte, but for the memory measure); with --partition, the share's tasks.
    /// At most 1024.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub jobs: Option<u32>,
    /// With --jobs: hand out tasks after N executions; with --partition: split only a
    /// search that needs more than N (default 500; 0: from the start, for tests).
    #[arg(long, value_name = "N", hide = true)]
    pub split_after: Option<u64>,
    /// Native runs (default: as many as fit in about a second, at least 10).
    #[arg(long, value_name = "N")]
    pub runs: Option<u64>,
    /// Native: seeded random yields and short sleeps between steps, so that the OS
    /// switches threads at bad moments (the default; kept for old scripts).
    #[arg(long, hide = true, conflicts_with = "no_stress")]
    pub stress: bool,
    /// Native: run the threads unperturbed (no injected yields or sleeps).
    #[arg(long)]
    pub no_stress: bool,
    /// The shuttle scheduler.
    #[arg(long, value_enum, default_value = "random")]
    pub scheduler: SchedulerFlag,
    /// shuttle: replay this failing schedule (from a shuttle report) instead of searching.
    #[arg(long, value_name = "SCHEDULE")]
    pub shuttle_schedule: Option<String>,
    /// loom: the preemption bound (default 2; also LOOM_MAX_PREEMPTIONS).
    #[arg(long, value_name = "N")]
    pub max_preemptions: Option<usize>,
    /// cpython: the Python interpreter to run (default: python3 on PATH).
    #[arg(long, value_name = "PATH")]
    pub python: Option<String>,
    /// Leave CPython out of the default run (the explorer and the native engine only).
    #[arg(long, conflicts_with = "python")]
    pub no_python: bool,
}

// The doc comment of each variant is its command's help; the structs below carry no doc
// comment of their own, so that none of them replaces it.
#[derive(Subcommand)]
pub(super) enum Command {
    /// Run scenarios and report what can go wrong.
    Run(RunArgs),
    /// Internal: run a scenario under loom or shuttle in this child process and print the
    /// result as one JSON line (loom aborts the process on some failures).
    #[command(name = "__engine-child", hide = true)]
    EngineChild(EngineChildArgs),
    /// Run every scenario under the paths and compare each with its `expect`.
    Check(CheckArgs),
    /// Grade submissions against an exercise: its goal, checks, limits, objects and
    /// parties apply to every submission; only the code is the student's.
    Grade(GradeArgs),
    /// Print the JSON Schema of the scenario format (for editors: taplo, Even Better TOML).
    Schema,
    /// Replay one execution step by step.
    Replay(ReplayArgs),
    /// Tell a finding step by step in plain words.
    Explain(ExplainArgs),
    /// Write a scenario as a program of another language (`--python`: a runnable Python
    /// program with the same threads, processes and objects).
    Export(ExportArgs),
    /// Play a scenario: pick which thread moves next until you reach the bug.
    Step(StepArgs),
    /// Run one execution on a simulated clock: the GIL, the cores, process start.
    Time(TimeArgs),
    /// Combine the shares of a partitioned `check` or `run` into the report, JUnit and
    /// exit status that one run gives.
    Merge(MergeArgs),
    /// Start a local web page for students: edit, check, run, play the scheduler, grade.
    Serve(ServeArgs),
}

// `simrace merge`.
#[derive(clap::Args)]
pub(super) struct MergeArgs {
    /// The shares' JSON results (every share of one run, once each, in any order).
    #[arg(required = true, value_name = "RESULT")]
    pub shares: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write the JUnit XML (as `check --junit` does).
    #[arg(long, value_name = "OUT")]
    pub junit: Option<String>,
}

// `simrace serve`.
#[derive(clap::Args)]
pub(super) struct ServeArgs {
    /// The port on 127.0.0.1 (0: any free port; the address is printed).
    #[arg(long, value_name = "N", default_value_t = 8000)]
    pub port: u16,
}

/// `--gil on|off`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Gil {
    On,
    Off,
}

// `simrace time`.
#[derive(clap::Args)]
pub(super) struct TimeArgs {
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// CPUs of the simulated machine, overriding `[timing] cores`; several give one run each.
    #[arg(long, value_name = "N,...", value_delimiter = ',', value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub cores: Vec<u32>,
    /// The GIL on or off (free-threaded), overriding `[timing] gil`; `on,off` gives a run
    /// of each (for every `--cores` value).
    #[arg(long, value_enum, value_name = "on|off,...", value_delimiter = ',')]
    pub gil: Vec<Gil>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also draw the timeline as an HTML page (one self-contained file) to this file.
    #[arg(long, value_name = "OUT")]
    pub html: Option<String>,
}

// `simrace run`.
#[derive(clap::Args)]
pub(super) struct RunArgs {
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    #[arg(long, value_enum)]
    pub engine: Option<Engine>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write an HTML report (one self-contained page) to this file.
    #[arg(long, value_name = "OUT")]
    pub html: Option<String>,
    /// Write the wait-for graph of every deadlock found to FILE (Graphviz DOT).
    #[arg(long, value_name = "FILE")]
    pub dot: Option<String>,
    /// `--engine explore`, one file: explore only share I of N of the split search's
    /// tasks (`count:I/N` or `hash:I/N`) and print that share's JSON result for
    /// `simrace merge`.
    #[arg(long, value_name = "count:I/N|hash:I/N", conflicts_with_all = ["html", "dot"])]
    pub partition: Option<crate::share::Partition>,
    #[command(flatten)]
    pub limits: Limits,
    #[command(flatten)]
    pub engine_opts: EngineOpts,
}

// `simrace __engine-child`.
#[derive(clap::Args)]
pub(super) struct EngineChildArgs {
    pub engine: String,
    pub file: String,
    /// The engine's settings, as JSON.
    pub settings: String,
}

// `simrace grade`.
#[derive(clap::Args)]
pub(super) struct GradeArgs {
    /// The exercise: the scenario as the teacher wrote it.
    #[arg(value_name = "EXERCISE")]
    pub exercise: String,
    /// The students' scenario files.
    #[arg(required = true, value_name = "SUBMISSION")]
    pub submissions: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write the grades as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<String>,
    /// Submissions explored at once (default: the number of cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    #[command(flatten)]
    pub limits: Limits,
}

// `simrace check`.
#[derive(clap::Args)]
pub(super) struct CheckArgs {
    /// Scenario files, or folders searched recursively for `*.toml`.
    #[arg(required = true, value_name = "DIR|FILE")]
    pub paths: Vec<String>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Scenarios explored at once (default: the number of cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Show each scenario's elapsed time (off: output is identical from run to run).
    #[arg(long, conflicts_with = "no_timing")]
    pub timing: bool,
    /// Check only share I of N of the scenarios (`count:I/N`: round-robin by position;
    /// `hash:I/N`: by a hash of the path) and print that share's JSON result for
    /// `simrace merge`.
    #[arg(long, value_name = "count:I/N|hash:I/N", conflicts_with = "junit")]
    pub partition: Option<crate::share::Partition>,
    #[command(flatten)]
    pub limits: Limits,
}

// `simrace replay`.
#[derive(clap::Args)]
pub(super) struct ReplayArgs {
    #[arg(value_name = "FILE")]
    pub file: String,
    /// The schedule from a report (for example `0,0,1/2,1*3`); none: the execution that
    /// takes no step (a failure before the first step).
    #[arg(long, default_value = "")]
    pub schedule: String,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The run's --max-steps, if it had one: a schedule that reaches it ends in a
    /// livelock (default: the scenario's `[limits]`, else 10000).
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u64>,
}

// `simrace export`.
#[derive(clap::Args)]
pub(super) struct ExportArgs {
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Write it as a Python program (the one language so far).
    #[arg(long, required = true)]
    pub python: bool,
    /// Add the switch points and short timeouts that `--engine cpython` runs with.
    #[arg(long)]
    pub stress: bool,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<String>,
}

// `simrace explain`.
#[derive(clap::Args)]
pub(super) struct ExplainArgs {
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Which finding, counting from 1 in the report's order.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub finding: usize,
    /// Tell it in hints, up to hint N: 1 where to look, 2 what goes wrong, 3 the schedule.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=3))]
    pub hint: Option<u8>,
    #[command(flatten)]
    pub limits: Limits,
}

// `simrace step`.
#[derive(clap::Args)]
pub(super) struct StepArgs {
    #[arg(value_name = "FILE")]
    pub file: String,
}
