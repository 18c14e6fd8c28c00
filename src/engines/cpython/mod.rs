//! The CPython engine: the scenario translated to a Python program ([`translate`]) and
//! run many times on a real `python3`, to show what the real interpreter does.
//!
//! - One Python process per batch runs many iterations in a loop (fresh memory, objects
//!   and threads each time) and prints one JSON line per run on stdout.
//! - Stress: `sys.setswitchinterval(1e-6)` and a seeded `_switch()` (a yield one time in
//!   five, a 1-50 µs sleep one in twenty) before every statement and after every shared
//!   read: switches happen where the model says they may.
//! - The watchdog: when no unfinished thread has moved for 100 ms (1 s with processes)
//!   and for 20 looks in a row, each after leaving the GIL to the run (so that a process
//!   the machine did not schedule for a while is not taken for a stuck one), the run is
//!   a deadlock and every thread's place comes from `sys._current_frames()`
//!   (a process's from `faulthandler`, on SIGUSR1); a run past its budget (three times
//!   longer with processes), or past four times `max_steps` switch points, is a livelock.
//! - Failures are Python's own exceptions: their class, message and the traceback's line
//!   in the program, mapped back to the scenario's line.
//!
//! Like the native engine it observes, it rules nothing out, and it never claims data
//! races.

pub mod translate;

use crate::engines::tally::{ExecResult, Found, Tally};
use crate::frontend::ast::Scenario;
use crate::ir::{FindingKind, Program, Value, counted};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use translate::{Options, PyProgram};

/// How long the default run (`simrace run` without `--engine`) spends in Python.
pub const DEFAULT_RUN_DURATION: Duration = Duration::from_millis(300);
/// How long `--engine cpython` runs by default.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(1);

/// A Python interpreter.
#[derive(Clone, Debug)]
pub struct Python {
    /// `sys.executable`.
    pub path: PathBuf,
    /// `3.11.7`.
    pub version: String,
}

#[derive(Clone, Debug)]
pub struct CpythonConfig {
    /// A fixed number of runs; `None`: as many as fit in `duration` (at least one).
    pub runs: Option<u64>,
    pub duration: Duration,
    pub seed: u64,
    /// Seeded switch points and a tiny switch interval (the default).
    pub stress: bool,
    pub max_steps: u64,
    /// Seconds a run may take before the watchdog calls it a livelock.
    pub run_budget: Duration,
}

impl Default for CpythonConfig {
    fn default() -> Self {
        CpythonConfig {
            runs: None,
            duration: DEFAULT_DURATION,
            seed: 0,
            stress: true,
            max_steps: 10_000,
            run_budget: Duration::from_millis(1500),
        }
    }
}

/// The interpreter to use: `explicit` (`--python PATH`), else `python3` on `PATH`.
/// `Err` says that there is none, in a sentence for the user.
pub fn find_python(explicit: Option<&str>) -> Result<Python, String> {
    let candidate = match explicit {
        Some(p) => PathBuf::from(p),
        None => search_path("python3").ok_or_else(|| {
            "no python3 found on PATH: install Python 3, or give its path with --python PATH"
                .to_string()
        })?,
    };
    let out = Command::new(&candidate)
        .args([
            "-c",
            "import sys; print(sys.executable); print(sys.version.split()[0]); \
             sys.exit(0 if sys.version_info >= (3, 8) else 3)",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", candidate.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let (exe, version) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
    if !out.status.success() || exe.is_empty() {
        return Err(format!(
            "{} is not a usable Python 3.8 or newer{}",
            candidate.display(),
            if version.is_empty() {
                String::new()
            } else {
                format!(" (it is Python {version})")
            }
        ));
    }
    Ok(Python {
        path: PathBuf::from(exe),
        version: version.to_string(),
    })
}

/// The first executable `name` in the directories of `PATH`.
fn search_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// A scratch folder for one batch's program, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "simrace-cpython-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the batch's Python gave next.
enum Next {
    Line(String),
    /// It ended (or closed its output).
    End,
    /// It is still running at the hard deadline.
    Late,
}

/// The Python process of one batch, in a process group of its own with everything it
/// starts (a manager's server, the scenario's processes), so that what it leaves behind
/// when it ends early or is stopped goes with it: an orphan would hold the output pipes
/// open, and reading them would never end.
struct PyRun {
    child: Child,
    lines: mpsc::Receiver<std::io::Result<String>>,
    stderr: mpsc::Receiver<String>,
    /// When the Python process itself was seen to have ended.
    exited: Option<Instant>,
}

impl PyRun {
    /// How long lines are still read after Python ended, for those already in the pipe.
    const GRACE: Duration = Duration::from_millis(500);
    /// How often, while no line comes, whether Python has ended is asked.
    const POLL: Duration = Duration::from_millis(100);

    fn spawn(mut cmd: Command) -> std::io::Result<PyRun> {
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn()?;
        let mut stderr = child.stderr.take().expect("piped");
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            let _ = err_tx.send(s);
        });
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(PyRun {
            child,
            lines: rx,
            stderr: err_rx,
            exited: None,
        })
    }

    fn next_line(&mut self, hard: Instant) -> Next {
        loop {
            let until = self.exited.map_or(hard, |t| (t + Self::GRACE).min(hard));
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return if self.exited.is_some() {
                    Next::End
                } else {
                    Next::Late
                };
            }
            match self.lines.recv_timeout(left.min(Self::POLL)) {
                Ok(Ok(line)) => return Next::Line(line),
                Ok(Err(_)) | Err(mpsc::RecvTimeoutError::Disconnected) => return Next::End,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if self.exited.is_none() && matches!(self.child.try_wait(), Ok(Some(_))) {
                        self.exited = Some(Instant::now());
                    }
                }
            }
        }
    }

    /// Stops Python and its whole group; its exit status and what it wrote on stderr.
    fn finish(mut self) -> (std::io::Result<ExitStatus>, String) {
        #[cfg(unix)]
        {
            use nix::sys::signal::{Signal, killpg};
            use nix::unistd::Pid;
            let _ = killpg(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL);
        }
        let _ = self.child.kill();
        let status = self.child.wait();
        let err = self
            .stderr
            .recv_timeout(Duration::from_secs(2))
            .unwrap_or_default();
        (status, err)
    }
}

/// Runs the scenario `s` (lowered to `prog`) on `py`. An `Err` says why it cannot.
pub fn run(
    s: &Scenario,
    prog: &Program,
    py: &Python,
    cfg: &CpythonConfig,
) -> Result<Tally, String> {
    let program = translate::translate(s, prog, Options { stress: cfg.stress });
    let scratch = Scratch::new().map_err(|e| format!("cannot make a scratch folder: {e}"))?;
    let file = scratch.0.join(&program.file_name);
    std::fs::write(&file, &program.text).map_err(|e| format!("cannot write the program: {e}"))?;
    let start = Instant::now();
    let mut cmd = Command::new(&py.path);
    cmd.arg(&file)
        .arg("--json")
        .args(["--seed", &cfg.seed.to_string()])
        .args(["--budget", &format!("{:.3}", cfg.run_budget.as_secs_f64())])
        .args(["--max-steps", &(cfg.max_steps * 4).to_string()])
        .current_dir(&scratch.0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match cfg.runs {
        Some(n) => cmd.args(["--runs", &n.to_string()]),
        None => cmd.args(["--duration", &format!("{:.3}", cfg.duration.as_secs_f64())]),
    };
    let mut py_run =
        PyRun::spawn(cmd).map_err(|e| format!("cannot run {}: {e}", py.path.display()))?;
    let mut tally = Tally::default();
    // Python keeps to its own budgets; this is only the guard against a program that
    // does not.
    let hard = match cfg.runs {
        Some(n) => cfg.run_budget * 3 * (n.min(10_000) as u32) + Duration::from_secs(10),
        None => cfg.duration + cfg.run_budget * 6 + Duration::from_secs(10),
    };
    // And a run that goes on without end outside the watchdog's reach (CPython 3.11's
    // Pool.terminate() can hang): Python writes a line per run.
    let quiet = cfg.run_budget * 4 + Duration::from_secs(10);
    let mut last = start;
    let mut bad = None;
    let mut timed_out = false;
    loop {
        match py_run.next_line((start + hard).min(last + quiet)) {
            Next::Line(line) => match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(v) => {
                    if let Some(note) = beyond_64_bits(prog, &v)
                        && !tally.notes.contains(&note)
                    {
                        tally.notes.push(note);
                    }
                    tally.add(&interpret(prog, &program, &v));
                    last = Instant::now();
                }
                Err(e) => {
                    bad = Some(format!("an unreadable result line ({e}): {line}"));
                    break;
                }
            },
            Next::End => break,
            Next::Late if Instant::now() < start + hard => {
                tally.notes.push(format!(
                    "a run of Python went on for {} s without an end and Python was stopped \
                     (after {})",
                    quiet.as_secs(),
                    counted(tally.executions as usize, "run", "runs")
                ));
                timed_out = true;
                break;
            }
            Next::Late => {
                tally.notes.push(format!(
                    "Python did not finish in {} s and was stopped",
                    hard.as_secs()
                ));
                timed_out = true;
                break;
            }
        }
    }
    let (status, err) = py_run.finish();
    if timed_out && tally.executions == 0 {
        bad = tally.notes.pop();
    }
    if tally.executions == 0 {
        let why = bad.unwrap_or_else(|| match status {
            Ok(s) => format!("Python exited with {s}"),
            Err(e) => e.to_string(),
        });
        let tail: Vec<&str> = err.lines().rev().take(12).collect::<Vec<_>>();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "the translated program did not run ({why}){}{}",
            if tail.is_empty() { "" } else { ":\n" },
            tail.join("\n")
        ));
    }
    let short = cfg.runs.is_some_and(|n| tally.executions < n);
    if !timed_out && (short || !status.as_ref().is_ok_and(|s| s.success())) {
        let status = match status {
            Ok(s) => s.to_string(),
            Err(e) => e.to_string(),
        };
        let tail = err.lines().last().unwrap_or("nothing on stderr");
        tally.notes.push(format!(
            "Python ended early ({status}) after {} runs: {tail}",
            tally.executions
        ));
    }
    tally.elapsed = start.elapsed();
    tally.notes.push(format!(
        "Python {} ({}); {}",
        py.version,
        py.path.display(),
        if cfg.stress {
            format!(
                "sys.setswitchinterval(1e-6) and seeded yields before statements and after shared reads (seed {})",
                cfg.seed
            )
        } else {
            "unperturbed".to_string()
        }
    ));
    tally.notes.push(
        "CPython runs observe what happens, they cannot rule anything out; data races are not claimed (only the explorer decides them); `simrace export --python` writes the program".into(),
    );
    Ok(tally)
}

/// The scenario line of the innermost frame of the program that comes from the scenario.
fn scenario_frame<'a>(
    program: &'a PyProgram,
    frames: &'a [serde_json::Value],
) -> Option<(&'a translate::LineInfo, &'a serde_json::Value)> {
    frames.iter().rev().find_map(|f| {
        let n = f.get(0)?.as_u64()? as u32;
        Some((program.info(n)?, f))
    })
}

/// `File "counter.py", line 30, in worker_code: counter = tmp + 1`.
fn python_line(program: &PyProgram, f: &serde_json::Value) -> String {
    format!(
        "File \"{}\", line {}, in {}: {}",
        program.file_name,
        f[0].as_u64().unwrap_or(0),
        f[2].as_str().unwrap_or("?"),
        f[1].as_str().unwrap_or("").trim()
    )
}

/// One run's JSON line as the engines' [`ExecResult`].
pub fn interpret(prog: &Program, program: &PyProgram, v: &serde_json::Value) -> ExecResult {
    let mut r = ExecResult::default();
    let empty = vec![];
    for f in v["failures"].as_array().unwrap_or(&empty) {
        let party = f["party"].as_str().unwrap_or("?");
        let exc = f["exc"].as_str().unwrap_or("Exception");
        let msg = f["msg"].as_str().unwrap_or("");
        let frames = f["frames"].as_array().unwrap_or(&empty);
        let found = match scenario_frame(program, frames) {
            Some((info, frame)) => {
                let inner_is_ours = f["inner"][1].as_u64() == frame[0].as_u64()
                    && f["inner"][2].as_str() == frame[2].as_str();
                if let Some(text) = &info.final_check {
                    let kind = if exc == "AssertionError" {
                        FindingKind::Assertion
                    } else {
                        FindingKind::Error
                    };
                    let message = if kind == FindingKind::Assertion {
                        format!("line {}: final assertion `{text}` does not hold", info.line)
                    } else {
                        format!("line {}: final assertion `{text}`: {exc}: {msg}", info.line)
                    };
                    Found { kind, message }
                } else if let Some(text) = &info.invariant {
                    Found {
                        kind: FindingKind::Assertion,
                        message: format!(
                            "line {}: invariant `{text}` does not hold (seen by {party})",
                            info.line
                        ),
                    }
                } else {
                    let kind = if exc == "AssertionError" && info.assert && inner_is_ours {
                        FindingKind::Assertion
                    } else {
                        FindingKind::Error
                    };
                    let shown = if msg.is_empty() {
                        exc.to_string()
                    } else {
                        format!("{exc}: {msg}")
                    };
                    Found {
                        kind,
                        message: format!(
                            "{party} (line {}): {shown}; traceback: {}",
                            info.line,
                            python_line(program, frame)
                        ),
                    }
                }
            }
            None => Found {
                kind: FindingKind::Error,
                message: format!("{party}: {exc}: {msg} (raised outside the scenario's code)"),
            },
        };
        r.found.push(found);
    }
    if let Some(stuck) = v["stuck"].as_object() {
        let kind = match stuck["kind"].as_str() {
            Some("deadlock") => FindingKind::Deadlock,
            _ => FindingKind::Livelock,
        };
        let mut parts = vec![];
        for w in stuck["where"].as_array().unwrap_or(&empty) {
            let party = w["party"].as_str().unwrap_or("?");
            let frames = w["frames"].as_array().unwrap_or(&empty);
            let mut s = match scenario_frame(program, frames) {
                Some((info, f)) => format!(
                    "{party} (line {}) at `{}`",
                    info.line,
                    f[1].as_str().unwrap_or("").trim()
                ),
                None => format!("{party} (outside the scenario's code)"),
            };
            if let Some(inn) = w["in"].as_str() {
                s.push_str(&format!(" waiting in {inn}"));
            }
            parts.push(s);
        }
        let head = if kind == FindingKind::Deadlock {
            "no unfinished thread moved any more"
        } else {
            "the run went on past its budget"
        };
        r.found.push(Found {
            kind,
            message: format!("{head}: {}", parts.join("; ")),
        });
    }
    if let Some(vals) = v["outcome"].as_array() {
        let vals: Option<Vec<Value>> = vals.iter().map(json_to_value).collect();
        if let Some(vals) = vals
            && vals.len() == prog.observe.len()
        {
            r.outcome = Some(vals);
        }
    }
    r
}

/// A note when the run ended with an integer that the scenario format's 64-bit integers
/// cannot hold (CPython's integers grow where the model raises OverflowError); such an
/// outcome is not counted.
fn beyond_64_bits(prog: &Program, v: &serde_json::Value) -> Option<String> {
    let vals = v["outcome"].as_array()?;
    let (name, big) = prog
        .observe
        .iter()
        .zip(vals)
        .find(|(_, x)| x.is_number() && x.as_i64().is_none())?;
    Some(format!(
        "a run ended with {} = {big}, beyond 64 bits: CPython's integers grow where the scenario format's raise OverflowError; such runs have no outcome here",
        name.0
    ))
}

/// A final value; `None` for an integer beyond 64 bits.
fn json_to_value(v: &serde_json::Value) -> Option<Value> {
    Some(match v {
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Int(n.as_i64()?),
        _ => Value::None,
    })
}
