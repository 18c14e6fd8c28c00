//! What the fuzz targets check, in one place: `fuzz/fuzz_targets/*.rs` include this file
//! (with `language.rs` beside it as `super::language`), and the test suite runs the same
//! checks over the committed corpora (`fuzz/corpus/`) on the stable toolchain, so that
//! every input a campaign kept, crashes included, stays a regression test.
//!
//! - [`check_bytes`] (`parse`): loading arbitrary bytes never panics; a diagnostic renders;
//!   a file that loads is explored a little and its report serializes.
//! - [`check_input`] (`explore`): a scenario of the whole language built from arbitrary
//!   bytes loads; exploring it never panics; every finding replays to itself; the report
//!   serializes.

use super::language::{self, Lang, Node, Options};
use arbitrary::Arbitrary;

/// The `parse` target's check on one input.
pub fn check_bytes(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match simrace::parse("fuzz.toml", text) {
        Ok(prog) => {
            let cfg = simrace::Config {
                max_steps: prog.max_steps.unwrap_or(200).min(200),
                max_executions: Some(20),
                step_budget: Some(simrace::DEFAULT_STEP_BUDGET / 10),
                ..simrace::Config::default()
            };
            let ex = simrace::explore(&prog, &cfg);
            let report = simrace::report::build(&prog, &ex, "explore", false);
            let _ = serde_json::to_string(&report).expect("the report serializes");
        }
        Err(d) => {
            let _ = d.render();
        }
    }
}

/// A statement as arbitrary bytes give it.
#[derive(Arbitrary, Debug)]
pub enum Stmt {
    Simple(u8),
    Block(u8, Vec<Stmt>),
}

/// The `explore` target's input: the shape of a generated scenario.
#[derive(Arbitrary, Debug)]
pub struct Input {
    threads: Vec<Vec<Stmt>>,
    late: Vec<Stmt>,
    counts: Vec<u8>,
    max_steps: u8,
    checks: bool,
    states: bool,
    /// Version 2 of the format, with this code for the process `p`.
    process: Option<Vec<Stmt>>,
}

impl Input {
    /// The input that libFuzzer's bytes make (as `fuzz_target!` reads them).
    pub fn from_bytes(data: &[u8]) -> Option<Input> {
        Input::arbitrary_take_rest(arbitrary::Unstructured::new(data)).ok()
    }
}

fn nodes(stmts: &[Stmt], depth: usize) -> Vec<Node> {
    stmts
        .iter()
        .take(6)
        .map(|s| match s {
            Stmt::Simple(k) => Node::Simple(*k as usize),
            Stmt::Block(k, body) if depth < 3 => Node::Block(*k as usize, nodes(body, depth + 1)),
            Stmt::Block(k, _) => Node::Simple(*k as usize),
        })
        .collect()
}

/// The scenario file an input makes; `None` when it has no thread (nothing to check).
pub fn scenario_of(input: &Input) -> Option<String> {
    if input.threads.is_empty() {
        return None;
    }
    let lang = match input.process {
        Some(_) => Lang::Thread2,
        None => Lang::V1,
    };
    let threads: Vec<Option<String>> = input
        .threads
        .iter()
        .take(3)
        .map(|t| Some(language::code_in(lang, &nodes(t, 0))))
        .collect();
    let late = language::code_in(lang, &nodes(&input.late, 0));
    let options = Options {
        counts: input.counts.iter().map(|c| c % 2 + 1).collect(),
        max_steps: 20 + u16::from(input.max_steps % 100),
        checks: input.checks,
        process: input
            .process
            .as_ref()
            .map(|p| language::code_in(Lang::Process2, &nodes(p, 0))),
    };
    Some(language::render(&threads, &late, &options))
}

/// The `explore` target's check on one input.
pub fn check_input(input: &Input) {
    let Some(text) = scenario_of(input) else {
        return;
    };
    if std::env::var_os("SIMRACE_FUZZ_PRINT").is_some() {
        // The scenario an input makes, to run on its own (docs/fuzzing.md).
        eprintln!("{text}");
    }
    let prog = match simrace::parse("gen.toml", &text) {
        Ok(p) => p,
        Err(d) => panic!(
            "a generated scenario does not load:\n{text}\n{}",
            d.render()
        ),
    };
    // The scenario's max_steps (the library's default is for the command line to
    // override), and the command line's default budget besides the executions'.
    let cfg = simrace::Config {
        max_steps: prog.max_steps.unwrap_or(200),
        max_executions: Some(200),
        step_budget: Some(simrace::DEFAULT_STEP_BUDGET / 10),
        reduction: if input.states {
            simrace::Reduction::States
        } else {
            simrace::Reduction::Dpor
        },
        ..simrace::Config::default()
    };
    let ex = simrace::explore(&prog, &cfg);
    // A race past the 256 a report writes out keeps no trace to replay.
    for f in ex.findings.iter().filter(|f| !f.trace_dropped()) {
        if let Err(e) = simrace::replays_to_itself(&prog, f, cfg.max_steps) {
            panic!("{e}\n{text}");
        }
    }
    let report = simrace::report::build(&prog, &ex, "explore", false);
    let _ = serde_json::to_string(&report).expect("the report serializes");
}
