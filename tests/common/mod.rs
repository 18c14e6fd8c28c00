//! Helpers shared by the integration tests: finding files, loading and exploring
//! scenarios, and running the `simrace` binary.

use simrace::report::{self, RunReport};
use simrace::{Config, DEFAULT_STEP_BUDGET, Exploration, RawFinding, explore};
use simrace::{FindingKind, Program};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The package's root, where `cargo test` runs the tests and relative paths start.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `path` relative to the package's root, with forward slashes (as the reports and the
/// snapshots name files).
pub fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Every `.toml` file under `dir`, walked recursively, sorted.
pub fn toml_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "toml") {
                out.push(path);
            }
        }
    }
    let mut files = vec![];
    walk(dir, &mut files);
    files.sort();
    files
}

/// Every scenario file of the library, in order (as `simrace check scenarios` finds them).
pub fn library_files() -> Vec<String> {
    let dir = root().join("scenarios").to_string_lossy().into_owned();
    simrace::check::collect(&[dir])
        .into_iter()
        .map(|i| match i {
            simrace::check::Input::File(f) => f,
            simrace::check::Input::Bad(d) => panic!("{}", d.render()),
        })
        .collect()
}

/// The fixture `name` of the detectors: tests/fixtures/detect/`name`.toml.
pub fn detect_fixture(name: &str) -> PathBuf {
    root().join(format!("tests/fixtures/detect/{name}.toml"))
}

/// Loads and lowers the scenario file at `path` (relative to the package's root, or
/// absolute; the reports name it as given), panicking with the diagnostic.
pub fn load(path: impl AsRef<Path>) -> Program {
    let path = path.as_ref().to_string_lossy().replace('\\', "/");
    simrace::load(&path).unwrap_or_else(|d| panic!("{}", d.render()))
}

/// Parses and lowers scenario `text` as if read from the file `name`, panicking with the
/// diagnostic.
pub fn program(name: &str, text: &str) -> Program {
    simrace::parse(name, text).unwrap_or_else(|d| panic!("{}", d.render()))
}

/// Explores scenario `text` with `cfg` and checks that the exploration is complete.
pub fn explore_text(text: &str, cfg: &Config) -> Exploration {
    let e = explore(&program("test.toml", text), cfg);
    assert!(e.stats.complete);
    e
}

/// Explores `prog` by default and builds its report, as `simrace run` does.
pub fn explore_and_report(prog: &Program) -> (Exploration, RunReport) {
    let ex = explore(prog, &Config::default());
    let rep = report::build(prog, &ex, "explore", false);
    (ex, rep)
}

/// The report of the default exploration of `prog`.
pub fn run_report(prog: &Program) -> RunReport {
    explore_and_report(prog).1
}

/// The kinds of the findings, sorted, each once.
pub fn kinds(e: &Exploration) -> Vec<FindingKind> {
    let mut k: Vec<FindingKind> = e.findings.iter().map(|f| f.kind).collect();
    k.sort();
    k.dedup();
    k
}

/// Every outcome (its values, printed) with its count.
pub fn outcome_counts(e: &Exploration) -> Vec<(String, u64)> {
    e.outcomes
        .iter()
        .map(|o| (format!("{:?}", o.values), o.count))
        .collect()
}

/// Executions, and every finding and outcome with its count: equal for two searches
/// that each explore one execution per class.
pub fn exact(e: &Exploration) -> (u64, Vec<String>, Vec<String>) {
    let findings = e
        .findings
        .iter()
        .map(|f| format!("{}|{}|{}", f.kind, f.key, f.count))
        .collect();
    let outcomes = e
        .outcomes
        .iter()
        .map(|o| format!("{:?}{:?}={}", o.values, o.output, o.count))
        .collect();
    (e.stats.executions, findings, outcomes)
}

/// Everything an exploration found, as JSON, but for what differs between runs (the
/// time) and between the single and the parallel search (the memory measure, the
/// parallel search's own work): equal for the parallel search and the single one.
pub fn whole(e: &Exploration) -> String {
    let mut e = e.clone();
    e.stats.elapsed = std::time::Duration::ZERO;
    e.stats.peak_memory = 0;
    serde_json::to_string(&e).unwrap()
}

/// The `simrace` binary, to be run in the package's root.
pub fn simrace_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_simrace"));
    c.current_dir(root());
    c
}

/// Runs `simrace ARGS` in the package's root.
pub fn simrace(args: &[&str]) -> Output {
    simrace_command().args(args).output().expect("run simrace")
}

/// Runs `simrace ARGS` in `dir`.
pub fn simrace_in(dir: &Path, args: &[&str]) -> Output {
    simrace_command()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run simrace")
}

/// What a run printed on stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// What a run printed on stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// How many times `needle` occurs in `hay`.
pub fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// Checks that finding `f` of an exploration of `prog` replays to the same finding
/// (see [`simrace::replays_to_itself`]).
pub fn replays_to_itself(prog: &Program, f: &RawFinding, max_steps: u64) -> Result<(), String> {
    simrace::replays_to_itself(prog, f, max_steps)
}

/// A generated test's seed: `seed`, moved by `SIMRACE_PROPTEST_SEED` when it is set, so
/// that a longer campaign runs the same tests on other cases (docs/fuzzing.md).
pub fn proptest_seed(seed: u64) -> u64 {
    let offset = std::env::var("SIMRACE_PROPTEST_SEED").ok();
    seed + offset.and_then(|o| o.parse().ok()).unwrap_or(0)
}

/// A generated test's number of cases: `default`, or `SIMRACE_PROPTEST_CASES` when it is
/// set.
pub fn proptest_cases(default: u32) -> u32 {
    let cases = std::env::var("SIMRACE_PROPTEST_CASES").ok();
    cases.and_then(|c| c.parse().ok()).unwrap_or(default)
}

/// Whether this run is a campaign (`SIMRACE_PROPTEST_CASES` set): then the generated
/// tests also compare the cases too costly for every test run (docs/fuzzing.md).
pub fn campaign() -> bool {
    std::env::var_os("SIMRACE_PROPTEST_CASES").is_some()
}

/// A generated test's bound on executions: `every_run` in every test run, the larger
/// `in_campaign` in a campaign ([`campaign`]).
pub fn bound(every_run: u64, in_campaign: u64) -> u64 {
    if campaign() { in_campaign } else { every_run }
}

/// The configuration `simrace run` uses: the scenario's `max_steps`, the default budget.
pub fn default_run(prog: &Program) -> Config {
    Config {
        max_steps: prog.max_steps.unwrap_or(10_000),
        step_budget: Some(DEFAULT_STEP_BUDGET),
        ..Config::default()
    }
}
