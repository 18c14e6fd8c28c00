//! The command line: raw flags in, a validated configuration, a call into the library, and
//! the exit status (0: as expected, 1: not, 2: bad input or flags). The only module that
//! prints or exits.
pub mod step;

use crate::check;
use crate::engines::child::ModelSettings;
use crate::engines::loom;
use crate::engines::native::{self, NativeConfig};
use crate::engines::shuttle;
use crate::frontend::diag::Diagnostic;
use crate::frontend::{lower, scenario};
use crate::report;
use crate::search::{self, Config, Progress, Reduction, Search};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "simrace",
    version,
    about = "A concurrency scenario simulator and race detector"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Engine {
    /// Exhaustive exploration with partial-order reduction.
    Explore,
    Random,
    Pct,
    Native,
    Loom,
    Shuttle,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReductionFlag {
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

#[derive(clap::Args, Clone)]
struct Limits {
    /// Steps in one execution before it counts as a livelock.
    #[arg(long, value_name = "N")]
    max_steps: Option<u64>,
    /// Stop exploring after N executions (the report says it is incomplete).
    #[arg(long, value_name = "N")]
    max_executions: Option<u64>,
    /// Stop exploring after this many seconds (the report says it is incomplete).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u64>,
    /// Seed for the randomized engines.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// The explorer's reduction.
    #[arg(long, value_enum, default_value = "dpor")]
    reduction: ReductionFlag,
    /// Leave the elapsed time out (elapsed_ms is 0), for byte-identical reports.
    #[arg(long)]
    no_timing: bool,
    /// PCT's bug depth d (`--engine pct`): d - 1 priority change points per execution.
    #[arg(long, value_name = "D", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    depth: u32,
    /// Explore only executions with at most N preemptions (`--engine explore`; plain
    /// enumeration, reported as incomplete when the bound cut anything off).
    #[arg(long, value_name = "N")]
    preemption_bound: Option<u32>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchedulerFlag {
    /// Random scheduling (shuttle's `check_random`).
    Random,
    /// Probabilistic concurrency testing (shuttle's `check_pct`).
    Pct,
    /// Depth-first enumeration (shuttle's `check_dfs`).
    Dfs,
}

#[derive(clap::Args, Clone)]
struct EngineOpts {
    /// Explorer: split the exhaustive search into tasks run by N worker threads (the
    /// counts, findings and outcomes do not depend on N and equal the single search's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    jobs: Option<u32>,
    /// Native runs (default: as many as fit in about a second, at least 10).
    #[arg(long, value_name = "N")]
    runs: Option<u64>,
    /// Native: seeded random yields and short sleeps between steps, so that the OS
    /// switches threads at bad moments (the default; kept for old scripts).
    #[arg(long, hide = true, conflicts_with = "no_stress")]
    stress: bool,
    /// Native: run the threads unperturbed (no injected yields or sleeps).
    #[arg(long)]
    no_stress: bool,
    /// The shuttle scheduler.
    #[arg(long, value_enum, default_value = "random")]
    scheduler: SchedulerFlag,
    /// shuttle: replay this failing schedule (from a shuttle report) instead of searching.
    #[arg(long, value_name = "SCHEDULE")]
    shuttle_schedule: Option<String>,
    /// loom: the preemption bound (default 2; also LOOM_MAX_PREEMPTIONS).
    #[arg(long, value_name = "N")]
    max_preemptions: Option<usize>,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios and report what can go wrong.
    Run {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        #[arg(long, value_enum)]
        engine: Option<Engine>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Also write an HTML report (one self-contained page) to this file.
        #[arg(long, value_name = "OUT")]
        html: Option<String>,
        /// Write the wait-for graph of every deadlock found to FILE (Graphviz DOT).
        #[arg(long, value_name = "FILE")]
        dot: Option<String>,
        #[command(flatten)]
        limits: Limits,
        #[command(flatten)]
        engine_opts: EngineOpts,
    },
    /// Internal: run a scenario under loom or shuttle in this child process and print the
    /// result as one JSON line (loom aborts the process on some failures).
    #[command(name = "__engine-child", hide = true)]
    EngineChild {
        engine: String,
        file: String,
        /// The engine's settings, as JSON.
        settings: String,
    },
    /// Run every scenario under the paths and compare each with its `expect`.
    Check {
        /// Scenario files, or folders searched recursively for `*.toml`.
        #[arg(required = true, value_name = "DIR|FILE")]
        paths: Vec<String>,
        /// Also write the results as JUnit XML to this file.
        #[arg(long, value_name = "FILE")]
        junit: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Scenarios explored at once (default: the number of cores).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        jobs: Option<u32>,
        /// Show each scenario's elapsed time (off: output is identical from run to run).
        #[arg(long, conflicts_with = "no_timing")]
        timing: bool,
        #[command(flatten)]
        limits: Limits,
    },
    /// Print the JSON Schema of the scenario format (for editors: taplo, Even Better TOML).
    Schema,
    /// Replay one execution step by step.
    Replay {
        #[arg(value_name = "FILE")]
        file: String,
        /// The schedule from a report (for example `0,0,1/2,1*3`).
        #[arg(long)]
        schedule: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Tell a finding step by step in plain words.
    Explain {
        #[arg(value_name = "FILE")]
        file: String,
        /// Which finding, counting from 1 in the report's order.
        #[arg(long, value_name = "N", default_value_t = 1)]
        finding: usize,
        #[command(flatten)]
        limits: Limits,
    },
    /// Play a scenario: pick which thread moves next until you reach the bug.
    Step {
        #[arg(value_name = "FILE")]
        file: String,
    },
}

fn load(path: &str) -> Result<crate::ir::Program, Diagnostic> {
    let s = scenario::load(path)?;
    lower::lower(&s)
}

fn config(prog: &crate::ir::Program, l: &Limits, engine: Option<Engine>) -> Config {
    let seed = l.seed.unwrap_or(0);
    Config {
        search: match engine {
            Some(Engine::Random) => Search::Random { seed },
            Some(Engine::Pct) => Search::Pct {
                seed,
                depth: l.depth,
            },
            _ => Search::Exhaustive,
        },
        preemption_bound: l.preemption_bound,
        progress: progress_bar(),
        max_steps: l.max_steps.or(prog.max_steps).unwrap_or(10_000),
        max_executions: l.max_executions.or(prog.max_executions),
        timeout: l.timeout.or(prog.timeout).map(Duration::from_secs),
        reduction: match l.reduction {
            ReductionFlag::Dpor => Reduction::Dpor,
            ReductionFlag::None => Reduction::None,
            ReductionFlag::Sleep => Reduction::Sleep,
            ReductionFlag::States => Reduction::States,
        },
        ..Config::default()
    }
}

/// A spinner on stderr with the search's statistics, for runs longer than a moment;
/// nothing when stderr is not a terminal.
fn progress_bar() -> Option<Progress> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let done = bar.clone();
    let progress = Progress(std::sync::Arc::new(move |s: &search::Stats| {
        bar.set_message(format!(
            "{} executions, {} states, {} steps",
            s.executions, s.states, s.steps
        ));
        bar.tick();
    }));
    // The spinner is cleared when the last handle (the config's) goes.
    drop(done);
    Some(progress)
}

fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn native_config(prog: &crate::ir::Program, l: &Limits, o: &EngineOpts) -> NativeConfig {
    NativeConfig {
        runs: o.runs,
        stress: !o.no_stress,
        seed: l.seed.unwrap_or(0),
        max_steps: l.max_steps.or(prog.max_steps).unwrap_or(10_000),
        timeout: l.timeout.or(prog.timeout).map(Duration::from_secs),
        ..NativeConfig::default()
    }
}

fn model_settings(prog: &crate::ir::Program, l: &Limits, o: &EngineOpts) -> ModelSettings {
    ModelSettings {
        max_steps: l.max_steps.or(prog.max_steps).unwrap_or(10_000),
        max_executions: l.max_executions.or(prog.max_executions),
        timeout: l.timeout.or(prog.timeout),
        seed: l.seed.unwrap_or(0),
        scheduler: match o.scheduler {
            SchedulerFlag::Random => "random",
            SchedulerFlag::Pct => "pct",
            SchedulerFlag::Dfs => "dfs",
        }
        .to_string(),
        max_preemptions: o.max_preemptions,
    }
}

/// Runs one non-explorer engine; `Err`: it cannot run this scenario.
fn run_engine(
    engine: Engine,
    path: &str,
    prog: &Arc<crate::ir::Program>,
    limits: &Limits,
    opts: &EngineOpts,
) -> Result<report::EngineReport, String> {
    let timing = !limits.no_timing;
    match engine {
        Engine::Native => {
            let t = native::run(prog, &native_config(prog, limits, opts))?;
            Ok(report::engine_report(prog, &t, "native", None, timing))
        }
        Engine::Loom => {
            let s = model_settings(prog, limits, opts);
            let t = loom::run_in_child(path, prog, &s)?;
            Ok(report::engine_report(prog, &t, "loom", None, timing))
        }
        Engine::Shuttle => {
            let s = model_settings(prog, limits, opts);
            let t = match &opts.shuttle_schedule {
                Some(sched) => shuttle::replay(prog, &s, sched),
                None => shuttle::run_in_child(path, &s)?,
            };
            Ok(report::engine_report(
                prog,
                &t,
                "shuttle",
                Some(s.scheduler.clone()),
                timing,
            ))
        }
        Engine::Explore | Engine::Random | Engine::Pct => {
            Err("this engine is not available yet; use --engine explore".into())
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    files: &[String],
    engine: Option<Engine>,
    format: Format,
    html: Option<&str>,
    dot: Option<&str>,
    limits: &Limits,
    opts: &EngineOpts,
) -> u8 {
    if opts.shuttle_schedule.is_some() && engine != Some(Engine::Shuttle) {
        eprintln!("simrace: --shuttle-schedule replays with shuttle: add --engine shuttle");
        return 2;
    }
    let mut status = 0u8;
    let mut json = vec![];
    let mut pages = vec![];
    let mut graphs: Vec<(String, crate::detect::waitfor::DeadlockReport)> = vec![];
    for (i, path) in files.iter().enumerate() {
        let prog = match load(path) {
            Ok(p) => p,
            Err(d) => {
                eprint!("{}", d.render());
                pages.push(crate::report::html::Section::Error {
                    file: path.clone(),
                    message: d.render(),
                });
                if format == Format::Json {
                    json.push(serde_json::json!({
                        "file": path,
                        "error": {"message": d.message, "line": d.line, "column": d.column, "help": d.help},
                    }));
                }
                status = 2;
                continue;
            }
        };
        let prog = Arc::new(prog);
        let explorer = matches!(
            engine,
            None | Some(Engine::Explore | Engine::Random | Engine::Pct)
        );
        let rep = if explorer {
            let cfg = Config {
                jobs: opts.jobs.map(|j| j as usize),
                ..config(&prog, limits, engine)
            };
            let ex = search::explore(&prog, &cfg);
            let name = match engine {
                Some(Engine::Random) => "random",
                Some(Engine::Pct) => "pct",
                _ => "explore",
            };
            let mut rep = report::build(&prog, &ex, name, !limits.no_timing);
            if engine.is_none() {
                match run_engine(Engine::Native, path, &prog, limits, opts) {
                    Ok(e) => rep.engines.push(e),
                    Err(e) => {
                        eprintln!("simrace: {path}: the native engine cannot run it: {e}");
                        status = 2;
                    }
                }
            }
            rep
        } else {
            match run_engine(engine.unwrap(), path, &prog, limits, opts) {
                Ok(r) => report::from_engine(&prog, r),
                Err(e) => {
                    eprintln!("simrace: {path}: {e}");
                    if format == Format::Json {
                        json.push(serde_json::json!({
                            "file": path,
                            "error": {"message": e},
                        }));
                    }
                    status = 2;
                    continue;
                }
            }
        };
        if !rep.matches_expectation && status == 0 {
            status = 1;
        }
        if html.is_some() {
            pages.push(crate::report::html::Section::Scenario(
                crate::report::html::ScenarioPage::from_report(&prog, &rep),
            ));
        }
        let deadlocks: Vec<_> = rep
            .findings
            .iter()
            .filter_map(|f| f.deadlock.as_ref())
            .collect();
        for (k, d) in deadlocks.iter().enumerate() {
            let mut title = format!("{} ({}): deadlock", rep.scenario, rep.file);
            if deadlocks.len() > 1 {
                title.push_str(&format!(" {}", k + 1));
            }
            graphs.push((title, (*d).clone()));
        }
        match format {
            Format::Text => {
                if i > 0 {
                    print_out("\n");
                }
                if explorer {
                    print_out(&report::render_text(&rep));
                } else {
                    print_out(&report::render_engine_text(&rep));
                }
            }
            Format::Json => json.push(serde_json::to_value(&rep).expect("reports serialize")),
        }
    }
    if let Some(file) = dot {
        let refs: Vec<(String, &crate::detect::waitfor::DeadlockReport)> =
            graphs.iter().map(|(t, d)| (t.clone(), d)).collect();
        if let Err(e) = std::fs::write(file, crate::detect::waitfor::dot(&refs)) {
            eprintln!("simrace: cannot write {file}: {e}");
            status = 2;
        }
    }
    if format == Format::Json {
        let v = if files.len() == 1 && json.len() == 1 {
            json.pop().unwrap()
        } else {
            serde_json::Value::Array(json)
        };
        print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&v).expect("json")
        ));
    }
    if let Some(out) = html
        && let Err(e) = std::fs::write(out, crate::report::html::render(&pages))
    {
        eprintln!("simrace: cannot write {out}: {e}");
        return 2;
    }
    status
}

struct CheckArgs {
    paths: Vec<String>,
    junit: Option<String>,
    format: Format,
    jobs: Option<u32>,
    timing: bool,
    limits: Limits,
}

fn check_cmd(a: CheckArgs) -> u8 {
    let l = &a.limits;
    let mut checker = check::Checker::new()
        .max_steps(l.max_steps)
        .max_executions(l.max_executions)
        .timeout(l.timeout)
        .reduction(match l.reduction {
            ReductionFlag::Dpor => Reduction::Dpor,
            ReductionFlag::None => Reduction::None,
            ReductionFlag::Sleep => Reduction::Sleep,
            ReductionFlag::States => Reduction::States,
        })
        .timing(a.timing);
    if let Some(j) = a.jobs {
        checker = checker.jobs(j as usize);
    }
    let inputs = check::collect(&a.paths);
    let results = checker.run(&inputs, |_, r| {
        if let check::Outcome::Invalid(d) = &r.outcome {
            eprint!("{}", d.render());
        }
        if a.format == Format::Text {
            print_out(&format!("{}\n", r.line(a.timing)));
        }
    });
    let summary = check::Summary::of(&results);
    match a.format {
        Format::Text => print_out(&format!("{}\n", summary.line())),
        Format::Json => print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&check::json(&results)).expect("json")
        )),
    }
    if let Some(path) = &a.junit {
        let written = std::fs::File::create(path)
            .and_then(|f| check::write_junit(&results, a.timing, std::io::BufWriter::new(f)));
        if let Err(e) = written {
            eprintln!("simrace: cannot write the JUnit report {path}: {e}");
            return 2;
        }
    }
    summary.exit_code()
}

fn replay_cmd(file: &str, schedule: &str, format: Format) -> u8 {
    let prog = match load(file) {
        Ok(p) => p,
        Err(d) => {
            eprint!("{}", d.render());
            return 2;
        }
    };
    let choices = match search::parse_schedule(schedule) {
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
    let ended = replay_ending(&prog, &r);
    let trace: Vec<report::TraceEntry> = r
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| report::TraceEntry {
            step: i + 1,
            thread: prog.threads[s.thread as usize].name.clone(),
            line: s.line,
            op: s.op.clone(),
        })
        .collect();
    let output: Vec<String> = r.steps.iter().flat_map(|s| s.output.clone()).collect();
    match format {
        Format::Text => {
            let mut out = format!("{} ({}): replay of {}\n", prog.name, prog.path, schedule);
            report::write_trace(&mut out, &trace, &output, "  ");
            out.push_str(&format!("{ended}\n"));
            print_out(&out);
        }
        Format::Json => {
            let v = serde_json::json!({
                "scenario": prog.name, "file": prog.path, "schedule": schedule,
                "trace": trace, "output": output, "result": ended,
            });
            print_out(&format!(
                "{}\n",
                serde_json::to_string_pretty(&v).expect("json")
            ));
        }
    }
    0
}

fn explain_cmd(file: &str, finding: usize, limits: &Limits) -> u8 {
    if finding == 0 {
        eprintln!("simrace: --finding counts from 1");
        return 2;
    }
    let prog = match load(file) {
        Ok(p) => p,
        Err(d) => {
            eprint!("{}", d.render());
            return 2;
        }
    };
    let ex = search::explore(&prog, &config(&prog, limits, None));
    let rep = report::build(&prog, &ex, "explore", false);
    if rep.findings.is_empty() {
        print_out(&format!(
            "{} ({}): no explored execution goes wrong; nothing to explain.\n",
            prog.name, prog.path
        ));
        return 0;
    }
    match crate::report::explain::explain(&prog, &rep, finding.saturating_sub(1)) {
        Ok(text) => {
            print_out(&text);
            0
        }
        Err(e) => {
            eprintln!("simrace: {e}");
            2
        }
    }
}

fn step_cmd(file: &str) -> u8 {
    let prog = match load(file) {
        Ok(p) => p,
        Err(d) => {
            eprint!("{}", d.render());
            return 2;
        }
    };
    use std::io::IsTerminal;
    let stdin = std::io::stdin();
    let echo = !stdin.is_terminal();
    match crate::cli::step::play(&prog, stdin.lock(), std::io::stdout().lock(), echo) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("simrace: {e}");
            2
        }
    }
}

/// How a replayed execution ended, in words.
fn replay_ending(prog: &crate::ir::Program, r: &search::Replay) -> String {
    if let Some((at, f)) = &r.failure {
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
    if s.enabled(prog).is_empty() {
        if s.all_finished() {
            if let Some(f) = s.check_final(prog) {
                return format!("{}: line {}: {}", f.kind, f.line, f.message);
            }
            let vals: Vec<String> = prog
                .observe
                .iter()
                .map(|(n, c)| format!("{n} = {}", s.cells[*c as usize]))
                .collect();
            return format!("finished: {}", vals.join(", "));
        }
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
        return format!("stuck: {}", parts.join("; "));
    }
    "the schedule ends here; the execution could go on".to_string()
}

/// The child side of `--engine loom` and `--engine shuttle`: prints one JSON line.
fn engine_child(engine: &str, file: &str, settings: &str) -> u8 {
    let prog = match load(file) {
        Ok(p) => Arc::new(p),
        Err(d) => {
            eprint!("{}", d.render());
            return 2;
        }
    };
    let Ok(s) = serde_json::from_str::<ModelSettings>(settings) else {
        eprintln!("simrace: bad engine settings");
        return 2;
    };
    let line = match engine {
        "loom" => loom::child(&prog, &s),
        "shuttle" => shuttle::child(&prog, &s),
        _ => {
            eprintln!("simrace: unknown engine {engine}");
            return 2;
        }
    };
    print_out(&format!("{line}\n"));
    0
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Run {
            files,
            engine,
            format,
            html,
            dot,
            limits,
            engine_opts,
        } => run(
            &files,
            engine,
            format,
            html.as_deref(),
            dot.as_deref(),
            &limits,
            &engine_opts,
        ),
        Command::EngineChild {
            engine,
            file,
            settings,
        } => engine_child(&engine, &file, &settings),
        Command::Check {
            paths,
            junit,
            format,
            jobs,
            timing,
            limits,
        } => check_cmd(CheckArgs {
            paths,
            junit,
            format,
            jobs,
            timing,
            limits,
        }),
        Command::Schema => {
            print_out(crate::frontend::schema::SCENARIO_SCHEMA);
            0
        }
        Command::Replay {
            file,
            schedule,
            format,
        } => replay_cmd(&file, &schedule, format),
        Command::Explain {
            file,
            finding,
            limits,
        } => explain_cmd(&file, finding, &limits),
        Command::Step { file } => step_cmd(&file),
    };
    ExitCode::from(code)
}
