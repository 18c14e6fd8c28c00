//! The `simrace` command line: parses flags, calls the library, prints, and exits with
//! 0 (every result as expected), 1 (one is not) or 2 (bad input or flags).

use clap::{Parser, Subcommand, ValueEnum};
use simrace::diag::Diagnostic;
use simrace::explore::{self, Config, Reduction};
use simrace::{lower, report, scenario};
use std::io::Write;
use std::process::ExitCode;
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
        /// Write the wait-for graph of every deadlock found to FILE (Graphviz DOT).
        #[arg(long, value_name = "FILE")]
        dot: Option<String>,
        #[command(flatten)]
        limits: Limits,
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

fn run(
    files: &[String],
    engine: Option<Engine>,
    format: Format,
    dot: Option<&str>,
    limits: &Limits,
) -> u8 {
    match engine {
        None | Some(Engine::Explore) => {}
        Some(_) => {
            eprintln!("simrace: this engine is not available yet; use --engine explore");
            return 2;
        }
    }
    let mut status = 0u8;
    let mut json = vec![];
    let mut graphs: Vec<(String, simrace::waitfor::DeadlockReport)> = vec![];
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
        let cfg = config(&prog, limits);
        let ex = explore::explore(&prog, &cfg);
        let rep = report::build(&prog, &ex, "explore", !limits.no_timing);
        if !rep.matches_expectation && status == 0 {
            status = 1;
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
                print_out(&report::render_text(&rep));
            }
            Format::Json => json.push(serde_json::to_value(&rep).expect("reports serialize")),
        }
    }
    if let Some(file) = dot {
        let refs: Vec<(String, &simrace::waitfor::DeadlockReport)> =
            graphs.iter().map(|(t, d)| (t.clone(), d)).collect();
        if let Err(e) = std::fs::write(file, simrace::waitfor::dot(&refs)) {
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
            dot,
            limits,
        } => run(&files, engine, format, dot.as_deref(), &limits),
        Command::Replay {
            file,
            schedule,
            format,
        } => replay_cmd(&file, &schedule, format),
    };
    ExitCode::from(code)
}
