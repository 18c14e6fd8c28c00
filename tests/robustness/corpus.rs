//! The fuzzing campaigns' corpora (`fuzz/corpus/`), on the stable toolchain: every input
//! a campaign kept goes through its target's own check (`differential/fuzz_checks.rs`),
//! so what a campaign once found, and the coverage it reached, stay regression tests
//! without nightly or cargo fuzz.
//! All of both corpora take about 10 s, in the test profile too.

use crate::differential::fuzz_checks::{Input, check_bytes, check_input};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The corpus of `target`, in name order.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() > 1000,
        "{}: the corpus is missing",
        dir.display()
    );
    files
}

/// Runs `check` on each input, naming the input that fails; prints the slowest.
fn run_all(target: &str, check: impl Fn(&[u8])) {
    let mut slowest = (0.0f64, PathBuf::new());
    let files = corpus(target);
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let t = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)));
        if outcome.is_err() {
            panic!(
                "{}: the {target} check fails (run it alone: docs/fuzzing.md)",
                path.display()
            );
        }
        let s = t.elapsed().as_secs_f64();
        if s > slowest.0 {
            slowest = (s, path.clone());
        }
    }
    eprintln!(
        "{target}: {} inputs; slowest {:.2} s ({})",
        files.len(),
        slowest.0,
        slowest.1.display()
    );
}

#[test]
fn the_parse_corpus_passes_its_check() {
    run_all("parse", check_bytes);
}

#[test]
fn the_explore_corpus_passes_its_check() {
    let decoded = std::cell::Cell::new(0usize);
    run_all("explore", |data| {
        if let Some(input) = Input::from_bytes(data) {
            decoded.set(decoded.get() + 1);
            check_input(&input);
        }
    });
    // The corpus is bytes as libFuzzer kept them: most decode to a scenario.
    assert!(decoded.get() > 100, "only {} inputs decode", decoded.get());
}
