//! The `simrace` command line: parses flags, calls the library, prints, and exits with
//! 0 (every result as expected), 1 (one is not) or 2 (bad input or flags).

use clap::{Parser, Subcommand, ValueEnum};
use simrace::child::ModelSettings;
use simrace::diag::Diagnostic;
use simrace::engine_loom;
use simrace::engine_shuttle;
use simrace::explore::{self, Config, Reduction};
use simrace::native::{self, NativeConfig};
use simrace::{lower, report, scenario};
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
    /// Native runs (default: as many as fit in about a second, at least 10).
    #[arg(long, value_name = "N")]
    runs: Option<u64>,
    /// Native: inject seeded random yields and short sleeps between steps.
    #[arg(long)]
    stress: bool,
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
}

fn load(path: &str) -> Result<simrace::ir::Program, Diagnostic> {
    let s = scenario::load(path)?;
    lower::lower(&s)
}

fn config(prog: &simrace::ir::Program, l: &Limits) -> Config {
    Config {
        max_steps: l.max_steps.or(prog.max_steps).unwrap_or(10_000),
        max_executions: l.max_executions.or(prog.max_executions),
        timeout: l.timeout.or(prog.timeout).map(Duration::from_secs),
        reduction: match l.reduction {
            ReductionFlag::Dpor => Reduction::Dpor,
            ReductionFlag::None => Reduction::None,
        },
    }
}

fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn native_config(prog: &simrace::ir::Program, l: &Limits, o: &EngineOpts) -> NativeConfig {
    NativeConfig {
        runs: o.runs,
        stress: o.stress,
        seed: l.seed.unwrap_or(0),
        max_steps: l.max_steps.or(prog.max_steps).unwrap_or(10_000),
        timeout: l.timeout.or(prog.timeout).map(Duration::from_secs),
        ..NativeConfig::default()
    }
}

fn model_settings(prog: &simrace::ir::Program, l: &Limits, o: &EngineOpts) -> ModelSettings {
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
    prog: &Arc<simrace::ir::Program>,
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
            let t = engine_loom::run_in_child(path, prog, &s)?;
            Ok(report::engine_report(prog, &t, "loom", None, timing))
        }
        Engine::Shuttle => {
            let s = model_settings(prog, limits, opts);
            let t = match &opts.shuttle_schedule {
                Some(sched) => {
                    engine_shuttle::check(prog)?;
                    engine_shuttle::replay(prog, &s, sched)
                }
                None => engine_shuttle::run_in_child(path, prog, &s)?,
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

fn run(
    files: &[String],
    engine: Option<Engine>,
    format: Format,
    limits: &Limits,
    opts: &EngineOpts,
) -> u8 {
    if matches!(engine, Some(Engine::Random | Engine::Pct)) {
        eprintln!("simrace: this engine is not available yet; use --engine explore");
        return 2;
    }
    if opts.shuttle_schedule.is_some() && engine != Some(Engine::Shuttle) {
        eprintln!("simrace: --shuttle-schedule replays with shuttle: add --engine shuttle");
        return 2;
    }
    let mut status = 0u8;
    let mut json = vec![];
    for (i, path) in files.iter().enumerate() {
        let prog = match load(path) {
            Ok(p) => p,
            Err(d) => {
                eprint!("{}", d.render());
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
        let rep = match engine {
            None | Some(Engine::Explore) => {
                let cfg = config(&prog, limits);
                let ex = explore::explore(&prog, &cfg);
                let mut rep = report::build(&prog, &ex, "explore", !limits.no_timing);
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
            }
            Some(e) => match run_engine(e, path, &prog, limits, opts) {
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
            },
        };
        if !rep.matches_expectation && status == 0 {
            status = 1;
        }
        match format {
            Format::Text => {
                if i > 0 {
                    print_out("\n");
                }
                if matches!(engine, None | Some(Engine::Explore)) {
                    print_out(&report::render_text(&rep));
                } else {
                    print_out(&report::render_engine_text(&rep));
                }
            }
            Format::Json => json.push(serde_json::to_value(&rep).expect("reports serialize")),
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
    status
}

fn replay_cmd(file: &str, schedule: &str, format: Format) -> u8 {
    let prog = match load(file) {
        Ok(p) => p,
        Err(d) => {
            eprint!("{}", d.render());
            return 2;
        }
    };
    let choices = match explore::parse_schedule(schedule) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("simrace: bad --schedule: {e}");
            return 2;
        }
    };
    let r = match explore::replay(&prog, &choices) {
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

/// How a replayed execution ended, in words.
fn replay_ending(prog: &simrace::ir::Program, r: &explore::Replay) -> String {
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
        "loom" => engine_loom::child(&prog, &s),
        "shuttle" => engine_shuttle::child(&prog, &s),
        _ => {
            eprintln!("simrace: unknown engine {engine}");
            return 2;
        }
    };
    print_out(&format!("{line}\n"));
    0
}

fn main() -> ExitCode {
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
            limits,
            engine_opts,
        } => run(&files, engine, format, &limits, &engine_opts),
        Command::EngineChild {
            engine,
            file,
            settings,
        } => engine_child(&engine, &file, &settings),
        Command::Replay {
            file,
            schedule,
            format,
        } => replay_cmd(&file, &schedule, format),
    };
    ExitCode::from(code)
}
