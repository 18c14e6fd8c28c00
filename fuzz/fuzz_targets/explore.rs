//! The explorer and replay on valid generated scenarios: scenarios over the whole
//! language (tests/differential/language.rs, shared with the property tests), built from
//! arbitrary bytes. Within small limits, exploring never panics, every finding replays
//! to itself (`simrace::replays_to_itself`, the property the tests check too), and the
//! report serializes.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/differential/language.rs"]
mod language;

use language::{Lang, Node, Options};

/// A statement as arbitrary bytes give it.
#[derive(Arbitrary, Debug)]
enum Stmt {
    Simple(u8),
    Block(u8, Vec<Stmt>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    threads: Vec<Vec<Stmt>>,
    late: Vec<Stmt>,
    counts: Vec<u8>,
    max_steps: u8,
    checks: bool,
    states: bool,
    /// Version 2 of the format, with this code for the process `p`.
    process: Option<Vec<Stmt>>,
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

fuzz_target!(|input: Input| {
    if input.threads.is_empty() {
        return;
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
    let text = language::render(&threads, &late, &options);
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
    for f in &ex.findings {
        if let Err(e) = simrace::replays_to_itself(&prog, f, cfg.max_steps) {
            panic!("{e}\n{text}");
        }
    }
    let report = simrace::report::build(&prog, &ex, "explore", false);
    let _ = serde_json::to_string(&report).expect("the report serializes");
});
