//! Partitioned runs (docs/scale.md): the shares of `simrace check --partition` and
//! `simrace run --partition`, each run as a process of its own, merged by `simrace merge`,
//! give byte for byte the text, JSON, JUnit and exit status of one run; and merge refuses
//! shares that do not make one run.

mod check;
mod run;

use crate::common::{simrace_command, stderr};
use crate::differential::generate::Generated;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngSeed, TestRunner};
use std::path::Path;
use std::process::Output;

/// Runs `simrace ARGS`, with stdout to the file `out` when given.
fn simrace_to(args: &[&str], out: Option<&Path>) -> Output {
    let o = simrace_command().args(args).output().expect("run simrace");
    if let Some(out) = out {
        std::fs::write(out, &o.stdout).unwrap();
    }
    o
}

/// `count` scenarios drawn from `strategy` with the fixed `seed`, written to `dir` as
/// `gen{k}.toml`.
fn generated<S: Strategy<Value = Generated>>(dir: &Path, count: usize, seed: u64, strategy: S) {
    let config = Config {
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    for k in 0..count {
        let g = strategy.new_tree(&mut runner).unwrap().current();
        std::fs::write(dir.join(format!("gen{k:02}.toml")), g.to_string()).unwrap();
    }
}

/// Asserts that merge refused, with status 2 and a message that says `why`.
fn refused(o: &Output, why: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    assert!(
        stderr(o).contains(why),
        "expected «{why}» in: {}",
        stderr(o)
    );
}
