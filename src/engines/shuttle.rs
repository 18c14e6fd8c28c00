//! The shuttle engine: the scenario's IR run as a shuttle test, against the primitives
//! of [`crate::engines::primitives`] over shuttle's Mutex and Condvar
//! ([`crate::engines::runtime::Shuttle`]), with shuttle's random, PCT or DFS scheduler
//! (`--scheduler random|pct|dfs`).
//!
//! It runs in a child process ([`crate::engines::child`]) in two phases:
//! 1. every execution's findings are recorded (nothing panics), so that every verdict kind
//!    the scheduler reaches is counted;
//! 2. for each kind found, the same scheduler with the same seed runs again and panics at
//!    the first execution that shows that kind; shuttle then prints its failing schedule,
//!    which the report shows: `simrace run FILE --engine shuttle --shuttle-schedule S`
//!    replays it with `shuttle::replay`.
//!
//! `choose` and timeouts use shuttle's recorded randomness (`shuttle::rand`), so they are
//! part of the schedule and replay with it. The DFS scheduler enumerates schedules but not
//! random values (they come from a fixed generator).
//! Limits: `--max-executions` (default [`DEFAULT_EXECUTIONS`]; DFS stops earlier when it
//! has enumerated every schedule), `--timeout`, `--seed`; PCT uses depth [`PCT_DEPTH`].

use crate::engines::child::{self, ModelSettings};
use crate::engines::kernel::{ExecConfig, Kernel, run_thread};
use crate::engines::runtime::{Runtime, Shuttle};
use crate::engines::tally::Tally;
use crate::ir::FindingKind;
use crate::ir::{Program, ThreadId};
use shuttle::scheduler::{DfsScheduler, PctScheduler, RandomScheduler, ReplayScheduler};
use shuttle::{Config, Runner};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const DEFAULT_EXECUTIONS: u64 = 1_000;
pub const PCT_DEPTH: usize = 3;
pub const DEFAULT_SECONDS: u64 = 20;
/// What a phase-2 panic says, so that it can be told from a crash.
const MARK: &str = "simrace-shuttle-finding";

/// Runs shuttle in a child process; the failing schedules come from its standard error.
pub fn run_in_child(path: &str, s: &ModelSettings) -> Result<Tally, String> {
    if !matches!(s.scheduler.as_str(), "random" | "pct" | "dfs") {
        return Err(format!("unknown shuttle scheduler {}", s.scheduler));
    }
    let secs = s.timeout.unwrap_or(DEFAULT_SECONDS);
    let (mut t, stderr) = child::run("shuttle", path, s, Duration::from_secs(3 * secs + 10))?;
    // Phase 2's rounds: "<MARK> round KIND" then shuttle's "failing schedule:\n\"\nS\n\"".
    let mut kind = None;
    let mut lines = stderr.lines();
    while let Some(l) = lines.next() {
        if let Some(k) = l.strip_prefix(&format!("{MARK} round ")) {
            kind = FindingKind::parse(k.trim());
        } else if l.trim() == "failing schedule:" {
            let _ = lines.next(); // the opening quote
            if let (Some(sched), Some(k)) = (lines.next(), kind) {
                t.schedules
                    .entry(k)
                    .or_insert_with(|| sched.trim().to_string());
            }
        }
    }
    Ok(t)
}

/// Timeouts are patient under shuttle: its random choices decide when one fires.
fn exec_config(s: &ModelSettings) -> ExecConfig {
    ExecConfig {
        max_steps: s.max_steps,
        stress: false,
        patient_timeouts: true,
    }
}

fn config(secs: u64) -> Config {
    let mut c = Config::new();
    c.stack_size = 0x10_0000;
    c.max_time = Some(Duration::from_secs(secs));
    c.silence_warnings = true;
    c
}

/// When an execution of [`body`] panics.
#[derive(Clone, Copy)]
enum FailOn {
    Never,
    FindingKind(FindingKind),
    /// Any finding, after recording it (a replay ends where the failing run ended).
    Any,
}

/// One execution of the scenario under shuttle.
fn body(
    p: Arc<Program>,
    exec: ExecConfig,
    out: Arc<Mutex<Tally>>,
    fail_on: FailOn,
) -> impl Fn() + Send + Sync + 'static {
    move || {
        let k = Arc::new(Kernel::<Shuttle>::new(&p, &exec));
        let mut handles = vec![];
        for t in 1..p.threads.len() {
            let (k, p, exec) = (k.clone(), p.clone(), exec.clone());
            handles.push(Shuttle::spawn(move || {
                run_thread(&p, &k, t as ThreadId, &exec, 0)
            }));
        }
        if !p.threads.is_empty() {
            run_thread(&p, &k, 0, &exec, 0);
        }
        for h in handles {
            Shuttle::join(h);
        }
        let res = k.lock().conclude(&p);
        if let FailOn::FindingKind(kind) = fail_on
            && let Some(f) = res.found.iter().find(|f| f.kind == kind)
        {
            panic!("{MARK}: {}: {}", f.kind, f.message);
        }
        out.lock().unwrap_or_else(|e| e.into_inner()).add(&res);
        if let (FailOn::Any, Some(f)) = (fail_on, res.found.first()) {
            panic!("{MARK}: {}: {}", f.kind, f.message);
        }
    }
}

fn run_once(
    prog: &Arc<Program>,
    s: &ModelSettings,
    exec: &ExecConfig,
    out: Arc<Mutex<Tally>>,
    fail_on: FailOn,
) -> usize {
    let n = s.max_executions.unwrap_or(DEFAULT_EXECUTIONS) as usize;
    let secs = s.timeout.unwrap_or(DEFAULT_SECONDS);
    let f = body(prog.clone(), exec.clone(), out, fail_on);
    match s.scheduler.as_str() {
        "pct" => Runner::new(
            PctScheduler::new_from_seed(s.seed, PCT_DEPTH, n),
            config(secs),
        )
        .run(f),
        "dfs" => Runner::new(DfsScheduler::new(Some(n), true), config(secs)).run(f),
        _ => Runner::new(RandomScheduler::new_from_seed(s.seed, n), config(secs)).run(f),
    }
}

/// The child side: both phases; returns the JSON line to print.
pub fn child(prog: &Arc<Program>, s: &ModelSettings) -> String {
    let exec = exec_config(s);
    let out = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now();
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_once(prog, s, &exec, out.clone(), FailOn::Never)
    }));
    let mut t = std::mem::take(&mut *out.lock().unwrap_or_else(|e| e.into_inner()));
    t.elapsed = start.elapsed();
    let limit = s.max_executions.unwrap_or(DEFAULT_EXECUTIONS);
    match ran {
        Ok(n) => {
            t.complete = s.scheduler == "dfs" && (n as u64) < limit;
        }
        Err(_) => {
            t.notes
                .push("shuttle stopped with a failure of its own (see its messages)".into());
        }
    }
    // Phase 2: a replayable schedule for every kind found.
    for kind in t.kinds() {
        eprintln!("{MARK} round {kind}");
        let sink = Arc::new(Mutex::new(Tally::default()));
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_once(prog, s, &exec, sink, FailOn::FindingKind(kind))
        }));
    }
    t.notes.push(format!(
        "shuttle {} scheduler, seed {}, at most {limit} executions{}",
        s.scheduler,
        s.seed,
        if s.scheduler == "pct" {
            format!(", depth {PCT_DEPTH}")
        } else {
            String::new()
        }
    ));
    t.notes
        .push("data races are not claimed by shuttle here (only the explorer decides them)".into());
    child::encode(&t)
}

/// Replays a failing schedule that shuttle printed (in this process).
pub fn replay(prog: &Arc<Program>, s: &ModelSettings, schedule: &str) -> Tally {
    let exec = exec_config(s);
    let out = Arc::new(Mutex::new(Tally::default()));
    let f = body(prog.clone(), exec, out.clone(), FailOn::Any);
    let mut cfg = config(s.timeout.unwrap_or(DEFAULT_SECONDS));
    cfg.failure_persistence = shuttle::FailurePersistence::None;
    // The replay ends in the panic that ended the failing run: keep it quiet.
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Runner::new(ReplayScheduler::new_from_encoded(schedule), cfg).run(f);
    }));
    let mut t = std::mem::take(&mut *out.lock().unwrap_or_else(|e| e.into_inner()));
    t.complete = false;
    let ended_here = match &r {
        Err(p) => p
            .downcast_ref::<String>()
            .is_some_and(|m| m.starts_with(MARK)),
        Ok(_) => true,
    };
    if !ended_here || t.executions == 0 {
        t.notes
            .push("the schedule does not fit this scenario (shuttle failed to replay it)".into());
    } else {
        t.notes
            .push(format!("replayed the shuttle schedule {schedule}"));
    }
    t
}
