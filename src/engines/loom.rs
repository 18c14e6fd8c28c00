//! The loom engine: the scenario's IR interpreted as a `loom::model`, against the
//! primitives of [`crate::engines::primitives`] over loom's Mutex and Condvar
//! ([`crate::engines::runtime::Loom`]).
//!
//! loom explores the interleavings of the scenario's steps (each one takes the kernel's
//! mutex, a loom scheduling point). It runs in a child process ([`crate::engines::child`]):
//! loom aborts the process on a deadlock it finds itself. The kernel normally notices
//! a stuck execution first and ends it as a `deadlock` (or `livelock`) finding, so loom
//! goes on exploring; failures and assertions are recorded, never panicked.
//!
//! Bounds: a preemption bound (`--max-preemptions`, else `LOOM_MAX_PREEMPTIONS`, else
//! [`DEFAULT_PREEMPTIONS`]), explored by iterative deepening (bound 0, then 1, ... each
//! exhaustively while the budget lasts, so that shallow bugs are found first), at most `--max-executions` executions (default
//! [`DEFAULT_EXECUTIONS`]) and `--timeout` seconds (default [`DEFAULT_SECONDS`]); the
//! report says which bound applied. loom runs at most [`MAX_THREADS`] threads (the
//! model's main thread runs the scenario's first thread): a larger scenario is refused.
//!
//! `choose` and timeouts take seeded choices (the same in every loom execution: loom
//! re-runs an execution to explore it and needs the same choices), so loom explores the
//! interleavings, not the values of `choose`.

use crate::engines::child::{self, ModelSettings};
use crate::engines::kernel::{ExecConfig, Kernel, run_thread};
use crate::engines::runtime::{Loom, Runtime};
use crate::engines::tally::Tally;
use crate::ir::{Program, ThreadId};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// loom's limit on threads, the model's main thread included (loom's `MAX_THREADS`).
pub const MAX_THREADS: usize = 5;
pub const DEFAULT_PREEMPTIONS: usize = 2;
pub const DEFAULT_EXECUTIONS: u64 = 20_000;
pub const DEFAULT_SECONDS: u64 = 20;

/// Can loom run this scenario? `Err` says why not.
pub fn check(prog: &Program) -> Result<(), String> {
    if prog.threads.len() > MAX_THREADS {
        return Err(format!(
            "loom runs at most {MAX_THREADS} threads (its main thread and 4 spawned ones); this scenario has {} ({}); use --engine shuttle or --engine explore",
            prog.threads.len(),
            prog.threads
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(())
}

/// Runs the loom model in a child process.
pub fn run_in_child(path: &str, prog: &Program, s: &ModelSettings) -> Result<Tally, String> {
    check(prog)?;
    let secs = s.timeout.unwrap_or(DEFAULT_SECONDS);
    let (t, _stderr) = child::run("loom", path, s, Duration::from_secs(secs + 10))?;
    Ok(t)
}

/// The child side: runs the model and returns the JSON line to print.
pub fn child(prog: &Arc<Program>, s: &ModelSettings) -> String {
    let mut tally = Tally::default();
    if let Err(e) = check(prog) {
        tally.notes.push(e);
        return child::encode(&tally);
    }
    let results = Arc::new(std::sync::Mutex::new(Tally::default()));
    let preemptions = s
        .max_preemptions
        .or_else(|| {
            std::env::var("LOOM_MAX_PREEMPTIONS")
                .ok()
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(DEFAULT_PREEMPTIONS);
    let max_exec = s.max_executions.unwrap_or(DEFAULT_EXECUTIONS);
    let secs = s.timeout.unwrap_or(DEFAULT_SECONDS);
    // Timeouts are taken whenever loom schedules them: loom explores every point.
    let exec = ExecConfig {
        max_steps: s.max_steps,
        stress: false,
        patient_timeouts: false,
    };
    let seed = s.seed;
    let start = Instant::now();
    let budget = Duration::from_secs(secs);
    // Iterative deepening: every preemption bound from 0 up, each exhaustive unless the
    // budget runs out, so that shallow bugs are found before the deep search starts.
    let mut levels = vec![];
    let mut cut = false;
    for bound in 0..=preemptions {
        let done_before = results.lock().unwrap_or_else(|e| e.into_inner()).executions;
        let left_exec = max_exec.saturating_sub(done_before);
        let left_time = budget.saturating_sub(start.elapsed());
        if left_exec == 0 || left_time.is_zero() {
            cut = true;
            break;
        }
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(bound);
        b.max_permutations = Some(left_exec as usize);
        b.max_duration = Some(left_time);
        b.checkpoint_interval = 1;
        b.max_branches = 1_000_000;
        let (p, r, exec) = (prog.clone(), results.clone(), exec.clone());
        b.check(move || {
            let k = Arc::new(Kernel::<Loom>::new(&p, &exec));
            let mut handles = vec![];
            for t in 1..p.threads.len() {
                let (k, p, exec) = (k.clone(), p.clone(), exec.clone());
                handles.push(Loom::spawn(move || {
                    run_thread(&p, &k, t as ThreadId, &exec, seed)
                }));
            }
            if !p.threads.is_empty() {
                run_thread(&p, &k, 0, &exec, seed);
            }
            for h in handles {
                Loom::join(h);
            }
            let res = k.lock().conclude(&p);
            r.lock().unwrap_or_else(|e| e.into_inner()).add(&res);
        });
        let n = results.lock().unwrap_or_else(|e| e.into_inner()).executions - done_before;
        let level_cut = n + 1 >= left_exec || start.elapsed() >= budget;
        levels.push(format!(
            "{bound}: {n} executions{}",
            if level_cut { " (cut short)" } else { "" }
        ));
        if level_cut {
            cut = true;
            break;
        }
    }
    let mut t = std::mem::take(&mut *results.lock().unwrap_or_else(|e| e.into_inner()));
    t.elapsed = start.elapsed();
    t.complete = false;
    t.notes.push(format!(
        "loom explored every preemption bound up to {preemptions} in turn ({}){}",
        levels.join("; "),
        if cut {
            format!(", within --max-executions {max_exec} and {secs} s")
        } else {
            String::new()
        }
    ));
    t.notes.push(
        "choose() and timeouts take one seeded choice under loom; data races are not claimed by loom here (only the explorer decides them)".into(),
    );
    child::encode(&t)
}
