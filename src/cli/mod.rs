//! The command line: raw flags in, a validated configuration, a call into the library, and
//! the exit status (0: as expected, 1: not, 2: bad input or flags). The only module that
//! prints or exits.
//!
//! The map of this folder:
//! - `mod.rs`: [`main`]: parse, dispatch to the command, exit status;
//! - `args.rs`: the raw flags (clap's definitions, help texts, defaults);
//! - `config.rs`: raw flags to the library's configurations, with each scenario's
//!   `[limits]` filling in what no flag gives;
//! - one file per command: `run.rs`, `check.rs`, `run_share.rs` (`run --partition` and the merge of its
//!   shares), `merge.rs` (shares of a partitioned run combined), `grade.rs`, `replay.rs`, `explain.rs`,
//!   `export.rs`, `step.rs` (the interactive game), `schema.rs`, `time.rs` (the simulated
//!   clock), and `engine_child.rs` (the hidden child side of
//!   `--engine loom` and `--engine shuttle`).

mod args;
mod check;
mod config;
mod engine_child;
mod explain;
mod export;
mod grade;
mod merge;
mod replay;
mod run;
mod run_share;
mod schema;
mod serve;
pub mod step;
mod time;

use crate::frontend::diag::Diagnostic;
use crate::frontend::{lower, scenario};
use crate::ir::Program;
use args::{Cli, Command};
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // `--help` and `--version` come here too, and are no error.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match &cli.command {
        Command::Run(a) => run::run(a),
        Command::EngineChild(a) => engine_child::engine_child(a),
        Command::Check(a) => check::check(a),
        Command::Grade(a) => grade::grade(a),
        Command::Schema => schema::schema(),
        Command::Replay(a) => replay::replay(a),
        Command::Explain(a) => explain::explain(a),
        Command::Export(a) => export::export(a),
        Command::Step(a) => step::step(a),
        Command::Time(a) => time::time(a),
        Command::Merge(a) => merge::merge(a),
        Command::Serve(a) => serve::serve(a),
    };
    // Interrupted: the partial report is out; 130 as a shell gives a process that
    // SIGINT ended.
    if interrupted() {
        return ExitCode::from(130);
    }
    ExitCode::from(code)
}

/// The flag that Ctrl-C sets: a search that sees it stops and its partial report is
/// printed, marked interrupted (exit status 130). The handler is installed on first use;
/// where it cannot be, Ctrl-C ends the process as usual.
pub(crate) fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let set = flag.clone();
        let _ = ctrlc::set_handler(move || {
            if set.swap(true, Ordering::SeqCst) {
                // A second Ctrl-C: the user does not want to wait for the report.
                std::process::exit(130);
            }
        });
        flag
    })
    .clone()
}

/// True once Ctrl-C has been pressed.
pub(crate) fn interrupted() -> bool {
    interrupt_flag().load(Ordering::SeqCst)
}

/// Loads a scenario and lowers it to the IR.
fn load(path: &str) -> Result<Program, Diagnostic> {
    let s = scenario::load(path)?;
    lower::lower(&s)
}

/// [`load`], printing the diagnostic on failure; `Err`: the exit status (2).
fn load_or_print(path: &str) -> Result<Program, u8> {
    or_print(load(path))
}

/// The value, or the diagnostic printed on stderr and exit status 2.
fn or_print<T>(r: Result<T, crate::frontend::diag::Diagnostic>) -> Result<T, u8> {
    r.map_err(|d| {
        eprint!("{}", d.render());
        2
    })
}

/// Writes to stdout whole, ignoring a closed pipe (`simrace run ... | head`). Any other
/// failure (a full disk, a closed stdout) ends the command with a message and exit
/// status 2: a report that was not written must not pass for one that was.
fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("simrace: cannot write the report to stdout: {e}");
            std::process::exit(2);
        }
        _ => {}
    }
}
