//! `simrace check`: run a whole folder of scenarios, compare each with its `expect`, and
//! say in one line per scenario whether it is as expected, for people and for CI.
//!
//! The steps, each a plain function so that the CLI only strings them together:
//! - [`collect`] turns the paths given (folders and files) into a list of inputs: every
//!   `*.toml` under a folder, recursively, in sorted order;
//! - [`Checker::run`] explores every input with the explorer (deterministic) on a bounded
//!   pool of threads, and hands back the results in input order, whatever order they
//!   finish in. An invalid scenario is an error result; it never stops the others;
//! - [`CheckResult::line`], [`Summary::line`], [`json`] and [`write_junit`] present them.
//!
//! ```no_run
//! use simrace::check::{Checker, Summary, collect};
//!
//! let inputs = collect(&["scenarios".to_string()]);
//! let results = Checker::new().jobs(2).run(&inputs, |_, r| println!("{}", r.line(false)));
//! let summary = Summary::of(&results);
//! println!("{}", summary.line());
//! std::process::exit(summary.exit_code().into());
//! ```

use crate::frontend::diag::Diagnostic;
use crate::report::{self, FindingReport, RunReport, plural};
use crate::search::{self, Config, Reduction};
use serde::Serialize;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

// The JUnit XML of a check lives with the other renderings, in the report module.
pub use crate::report::junit::write_junit;

/// One thing to check: a scenario file, or a path that cannot give one.
#[derive(Clone, Debug)]
pub enum Input {
    /// A file to load (it may still turn out to be unreadable or invalid).
    File(String),
    /// A path given on the command line that names no scenario (an empty folder, a
    /// folder that cannot be read): reported as an error result.
    Bad(Diagnostic),
}

impl Input {
    /// The path as shown in results.
    pub fn path(&self) -> &str {
        match self {
            Input::File(p) => p,
            Input::Bad(d) => &d.path,
        }
    }
}

/// The inputs named by `paths`, in order: a file as given (whatever its extension), a
/// folder as every `*.toml` under it, recursively, sorted by path. Hidden entries (a name
/// starting with `.`) and symbolic links to folders are not followed into. A file named
/// twice is checked once. A path that does not exist is kept as a file, so that loading
/// it reports that it cannot be read.
pub fn collect(paths: &[String]) -> Vec<Input> {
    let mut out = vec![];
    let mut seen = HashSet::new();
    for p in paths {
        let path = Path::new(p);
        if !path.is_dir() {
            if seen.insert(p.clone()) {
                out.push(Input::File(p.clone()));
            }
            continue;
        }
        let mut files = vec![];
        walk(path, &mut files);
        if files.is_empty() {
            out.push(Input::Bad(
                Diagnostic::io(p, "no scenario files (*.toml) in this folder")
                    .with_help("give a folder that holds scenario files, or the files"),
            ));
            continue;
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        for (f, unreadable) in files {
            let s = f.to_string_lossy().into_owned();
            if !seen.insert(s.clone()) {
                continue;
            }
            out.push(match unreadable {
                Some(e) => Input::Bad(
                    Diagnostic::io(&s, format!("cannot read the folder: {e}"))
                        .with_help("give a folder or file that can be read"),
                ),
                None if f.to_str().is_none() => Input::Bad(
                    Diagnostic::io(
                        &s,
                        "the file's name is not UTF-8, which simrace cannot open",
                    )
                    .with_help("rename the file"),
                ),
                None => Input::File(s),
            });
        }
    }
    out
}

/// The `*.toml` files under `dir` (a dangling link too: loading it says it cannot be
/// read), and each folder that cannot be read, with why: one such folder does not hide
/// the others.
fn walk(dir: &Path, out: &mut Vec<(PathBuf, Option<std::io::Error>)>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return out.push((dir.to_path_buf(), Some(e))),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => return out.push((dir.to_path_buf(), Some(e))),
        };
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") && !path.is_dir() {
            out.push((path, None));
        }
    }
}

/// How one scenario came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Its findings are the kinds its `expect` lists.
    Pass,
    /// They are not.
    Fail,
    /// It could not be checked: invalid input (or a bug in simrace).
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Error => "ERROR",
        }
    }
}

/// What checking one input gave.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// The exploration's report, as `simrace run` builds it.
    Ran(Box<RunReport>),
    /// Why the input could not be checked.
    Invalid(Diagnostic),
}

/// The result for one input.
#[derive(Clone, Debug)]
pub struct CheckResult {
    /// The file as it was found (a path under a folder given, or the path given).
    pub file: String,
    pub outcome: Outcome,
}

fn kinds_list(k: &[&str]) -> String {
    format!("[{}]", k.join(", "))
}

impl CheckResult {
    pub fn status(&self) -> Status {
        match &self.outcome {
            Outcome::Ran(r) if r.matches_expectation => Status::Pass,
            Outcome::Ran(_) => Status::Fail,
            Outcome::Invalid(_) => Status::Error,
        }
    }

    /// The report, if the scenario ran.
    pub fn report(&self) -> Option<&RunReport> {
        match &self.outcome {
            Outcome::Ran(r) => Some(r),
            Outcome::Invalid(_) => None,
        }
    }

    /// True when the exploration stopped at a limit before covering every execution.
    pub fn incomplete(&self) -> bool {
        self.report().is_some_and(|r| !r.stats.complete)
    }

    /// `expected [..], got [..]`.
    pub fn expected_got(&self) -> Option<String> {
        self.report().map(|r| {
            format!(
                "expected {}, got {}",
                kinds_list(&r.expected),
                kinds_list(&r.kinds)
            )
        })
    }

    /// The one line `simrace check` prints for this result:
    /// `PASS path  expected [..], got [..]  (4 executions)`, with `INCOMPLETE` and the
    /// limit when one stopped the exploration, or `ERROR path:line:col: message`.
    /// `timing`: add the elapsed time.
    pub fn line(&self, timing: bool) -> String {
        let status = self.status().as_str();
        match &self.outcome {
            Outcome::Invalid(d) => {
                format!("{status} {}:{}:{}: {}", d.path, d.line, d.column, d.message)
            }
            Outcome::Ran(r) => {
                let s = &r.stats;
                let mut tail = plural(s.executions, "execution");
                if !s.complete {
                    tail.push_str(", INCOMPLETE");
                    if let Some(l) = &s.limit {
                        let _ = write!(tail, ": {l}");
                    }
                }
                if timing {
                    let _ = write!(tail, ", {:.1} ms", s.elapsed_ms);
                }
                format!(
                    "{status} {}  {}  ({tail})",
                    self.file,
                    self.expected_got().unwrap_or_default()
                )
            }
        }
    }

    /// The finding that best explains a mismatch: the first one of a kind the scenario
    /// does not expect. None when the mismatch is only an expected kind not found.
    pub fn first_unexpected(&self) -> Option<&FindingReport> {
        let r = self.report()?;
        r.findings.iter().find(|f| !r.expected.contains(&f.kind))
    }

    /// The expected kinds that no execution showed.
    pub fn missing(&self) -> Vec<&'static str> {
        self.report()
            .map(|r| {
                r.expected
                    .iter()
                    .copied()
                    .filter(|k| !r.kinds.contains(k))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The JSON for this result: the object `simrace run --format json` gives for the
    /// file (for an invalid one, `{"file", "error": {message, line, column, help}}`).
    pub fn json(&self) -> serde_json::Value {
        match &self.outcome {
            Outcome::Ran(r) => serde_json::to_value(r).expect("reports serialize"),
            Outcome::Invalid(d) => d.json_for(&self.file),
        }
    }
}

/// The counts over all results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub scenarios: usize,
    pub as_expected: usize,
    pub mismatched: usize,
    pub invalid: usize,
    /// Results (of either status) whose exploration stopped at a limit.
    pub incomplete: usize,
}

impl Summary {
    pub fn of(results: &[CheckResult]) -> Summary {
        let mut s = Summary {
            scenarios: results.len(),
            ..Summary::default()
        };
        for r in results {
            match r.status() {
                Status::Pass => s.as_expected += 1,
                Status::Fail => s.mismatched += 1,
                Status::Error => s.invalid += 1,
            }
            if r.incomplete() {
                s.incomplete += 1;
            }
        }
        s
    }

    /// `N scenarios: X as expected, Y mismatched, Z invalid` (and `; W incomplete` when
    /// a limit stopped some exploration).
    pub fn line(&self) -> String {
        let mut line = format!(
            "{}: {} as expected, {} mismatched, {} invalid",
            plural(self.scenarios as u64, "scenario"),
            self.as_expected,
            self.mismatched,
            self.invalid
        );
        if self.incomplete > 0 {
            let _ = write!(line, "; {} incomplete", self.incomplete);
        }
        line
    }

    /// 2 if an input was invalid, else 1 if a result did not match its `expect`, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.invalid > 0 {
            2
        } else if self.mismatched > 0 {
            1
        } else {
            0
        }
    }
}

/// Runs checks: the limits that override each scenario's `[limits]`, and how many
/// scenarios run at once. Configure with the builder methods, run with [`Checker::run`].
#[derive(Clone, Debug)]
pub struct Checker {
    max_steps: Option<u64>,
    max_executions: Option<u64>,
    timeout: Option<u64>,
    reduction: Reduction,
    jobs: usize,
    timing: bool,
    max_memory: u64,
    /// Set (by Ctrl-C): the explorations stop, and no more scenarios start.
    stop: Option<Arc<AtomicBool>>,
}

impl Default for Checker {
    fn default() -> Self {
        Checker::new()
    }
}

impl Checker {
    /// Default limits; as many jobs as the machine has cores; no timing.
    pub fn new() -> Checker {
        Checker {
            max_steps: None,
            max_executions: None,
            timeout: None,
            reduction: Reduction::Dpor,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            timing: false,
            max_memory: search::DEFAULT_MAX_MEMORY,
            stop: None,
        }
    }
    /// A flag that, once set, stops the explorations running (their reports say
    /// interrupted) and the check: the scenarios after them are not run.
    pub fn stop(mut self, flag: Arc<AtomicBool>) -> Checker {
        self.stop = Some(flag);
        self
    }
    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|f| f.load(Ordering::SeqCst))
    }
    /// Steps in one execution before it counts as a livelock (over the scenario's own).
    pub fn max_steps(mut self, n: Option<u64>) -> Checker {
        self.max_steps = n;
        self
    }
    /// Executions explored per scenario before stopping (over the scenario's own).
    pub fn max_executions(mut self, n: Option<u64>) -> Checker {
        self.max_executions = n;
        self
    }
    /// Seconds of exploration per scenario before stopping (over the scenario's own).
    pub fn timeout(mut self, secs: Option<u64>) -> Checker {
        self.timeout = secs;
        self
    }
    /// Bytes the search of one scenario may store before it stops, incomplete.
    pub fn max_memory(mut self, bytes: u64) -> Checker {
        self.max_memory = bytes;
        self
    }
    pub fn reduction(mut self, r: Reduction) -> Checker {
        self.reduction = r;
        self
    }
    /// Scenarios explored at once (at least 1).
    pub fn jobs(mut self, n: usize) -> Checker {
        self.jobs = n.max(1);
        self
    }
    /// Keep elapsed times in the reports (off: `elapsed_ms` is 0, output is identical
    /// from run to run).
    pub fn timing(mut self, on: bool) -> Checker {
        self.timing = on;
        self
    }

    fn config(&self, prog: &crate::ir::Program) -> Config {
        Config {
            max_steps: self.max_steps.or(prog.max_steps).unwrap_or(10_000),
            max_executions: self.max_executions.or(prog.max_executions),
            step_budget: (self.max_executions.or(prog.max_executions))
                .is_none()
                .then_some(crate::search::DEFAULT_STEP_BUDGET),
            timeout: self.timeout.or(prog.timeout).map(Duration::from_secs),
            reduction: self.reduction,
            max_memory: Some(self.max_memory),
            stop: self.stop.clone(),
            ..Config::default()
        }
    }

    /// Explores an already lowered scenario with these limits (each filled in from the
    /// scenario's `[limits]` where no flag gives one) and builds its report.
    pub fn report(&self, prog: &crate::ir::Program) -> RunReport {
        let ex = search::explore(prog, &self.config(prog));
        report::build(prog, &ex, "explore", self.timing)
    }

    /// Checks one input.
    pub fn check_one(&self, input: &Input) -> CheckResult {
        let path = match input {
            Input::File(p) => p,
            Input::Bad(d) => {
                return CheckResult {
                    file: d.path.clone(),
                    outcome: Outcome::Invalid(d.clone()),
                };
            }
        };
        let loaded = crate::frontend::scenario::load(path)
            .and_then(|s| crate::frontend::lower::lower(&s).map(Box::new));
        let outcome = match loaded {
            Err(d) => Outcome::Invalid(d),
            Ok(prog) => {
                let ex = search::explore(&prog, &self.config(&prog));
                Outcome::Ran(Box::new(report::build(&prog, &ex, "explore", self.timing)))
            }
        };
        CheckResult {
            file: path.clone(),
            outcome,
        }
    }

    /// Checks every input on up to `jobs` threads and returns the results in input
    /// order. `on_result(i, result)` is called on the calling thread for each result in
    /// input order, as soon as it and every result before it are done (for printing as
    /// the run goes). A panic while checking one input (a bug in simrace) becomes an
    /// error result for it; the others go on. Once the `stop` flag is set, no input
    /// starts: the results are those of the inputs started, a first part of them.
    pub fn run(
        &self,
        inputs: &[Input],
        mut on_result: impl FnMut(usize, &CheckResult),
    ) -> Vec<CheckResult> {
        let n = inputs.len();
        let mut slots: Vec<Option<CheckResult>> = vec![None; n];
        let next = AtomicUsize::new(0);
        let (tx, rx) = mpsc::channel::<(usize, CheckResult)>();
        std::thread::scope(|scope| {
            for _ in 0..self.jobs.min(n) {
                let tx = tx.clone();
                let next = &next;
                std::thread::Builder::new()
                    .name("simrace-check".into())
                    // The parser and lowering recurse on nested code: give workers the
                    // main thread's usual stack.
                    .stack_size(16 << 20)
                    .spawn_scoped(scope, move || {
                        loop {
                            if self.stopped() {
                                break;
                            }
                            let i = next.fetch_add(1, Ordering::SeqCst);
                            if i >= n {
                                break;
                            }
                            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                self.check_one(&inputs[i])
                            }))
                            .unwrap_or_else(|p| crashed(&inputs[i], p.as_ref()));
                            if tx.send((i, r)).is_err() {
                                break;
                            }
                        }
                    })
                    .expect("spawning a check thread");
            }
            drop(tx);
            let mut done = 0;
            for (i, r) in rx {
                slots[i] = Some(r);
                while let Some(Some(r)) = slots.get(done) {
                    on_result(done, r);
                    done += 1;
                }
            }
        });
        // Inputs are taken in order and each one taken is finished: the results are a
        // first part of the inputs (all of them unless stopped).
        slots.into_iter().map_while(|r| r).collect()
    }
}

/// The error result for an input whose check panicked.
fn crashed(input: &Input, payload: &(dyn std::any::Any + Send)) -> CheckResult {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string());
    let d = Diagnostic::io(
        input.path(),
        format!("internal error: simrace crashed on this scenario ({what})"),
    )
    .with_help("this is a bug in simrace, not in the scenario: please report it");
    CheckResult {
        file: input.path().to_string(),
        outcome: Outcome::Invalid(d),
    }
}

/// The JSON of a whole check: `{"results": [...], "summary": {...}}`, each result the
/// object `simrace run --format json` gives for that file.
pub fn json(results: &[CheckResult]) -> serde_json::Value {
    serde_json::json!({
        "results": results.iter().map(CheckResult::json).collect::<Vec<_>>(),
        "summary": Summary::of(results),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dangling `*.toml` link is an input (which cannot be read), not skipped; a file
    /// whose name is not UTF-8 is an error that says so (it was "No such file").
    #[cfg(unix)]
    #[test]
    fn a_folder_keeps_what_it_cannot_read_as_errors() {
        use std::os::unix::ffi::OsStrExt;
        let dir = std::env::temp_dir().join(format!("simrace-collect-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.toml"), "").unwrap();
        std::fs::write(dir.join("sub/b.toml"), "").unwrap();
        std::os::unix::fs::symlink(dir.join("gone.toml"), dir.join("dangling.toml")).unwrap();
        let odd = std::ffi::OsStr::from_bytes(b"odd\xff.toml");
        std::fs::write(dir.join(odd), "").unwrap();
        let inputs = collect(&[dir.to_string_lossy().into_owned()]);
        let _ = std::fs::remove_dir_all(&dir);
        let kinds: Vec<(String, bool)> = inputs
            .iter()
            .map(|i| {
                let name = i.path().rsplit('/').next().unwrap().to_string();
                (name, matches!(i, Input::File(_)))
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("a.toml".to_string(), true),
                ("dangling.toml".to_string(), true),
                ("odd\u{fffd}.toml".to_string(), false),
                ("b.toml".to_string(), true),
            ]
        );
    }

    #[test]
    fn results_come_in_input_order_whatever_the_jobs() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
        let inputs = collect(&[dir.to_string()]);
        assert!(inputs.len() > 2);
        let paths: Vec<&str> = inputs.iter().map(Input::path).collect();
        let mut sorted = paths.clone();
        sorted.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
        assert_eq!(paths, sorted, "a folder's files are in sorted order");
        let mut lines = vec![];
        for jobs in [1, 4] {
            let mut seen = vec![];
            let results = Checker::new().jobs(jobs).run(&inputs, |i, r| {
                assert_eq!(r.file, inputs[i].path());
                seen.push(i);
            });
            assert_eq!(seen, (0..inputs.len()).collect::<Vec<_>>());
            let files: Vec<&str> = results.iter().map(|r| r.file.as_str()).collect();
            assert_eq!(files, paths);
            lines.push(results.iter().map(|r| r.line(false)).collect::<Vec<_>>());
        }
        assert_eq!(lines[0], lines[1]);
    }

    #[test]
    fn summary_counts_and_exit_code() {
        let bad = CheckResult {
            file: "x.toml".into(),
            outcome: Outcome::Invalid(Diagnostic::io("x.toml", "nope")),
        };
        let s = Summary::of(std::slice::from_ref(&bad));
        assert_eq!((s.scenarios, s.invalid, s.exit_code()), (1, 1, 2));
        assert_eq!(
            s.line(),
            "1 scenario: 0 as expected, 0 mismatched, 1 invalid"
        );
        assert_eq!(bad.line(false), "ERROR x.toml:1:1: nope");
        assert_eq!(Summary::of(&[]).exit_code(), 0);
    }
}
