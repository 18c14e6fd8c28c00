//! The native engine: a scenario run many times on real OS threads, with `std::sync`
//! primitives underneath ([`crate::engines::runtime::Std`]), to show that a bug happens on real
//! hardware and how often.
//!
//! - The threads come from a pool that is built once per scenario and reused for every
//!   run (one worker per scenario thread; a thread that is not started waits in its
//!   worker until another thread starts it).
//! - `runs`: a fixed number, or by default as many as fit in about one second: runs go on
//!   until one second has passed, at least [`MIN_RUNS`] (unless they take more than five
//!   seconds together) and at most [`MAX_RUNS`].
//! - `stress` (the default; `--no-stress` turns it off): after every step a thread yields
//!   (one step in five) or sleeps 1-50 µs (one in twenty), from a generator seeded by
//!   `--seed`, the run and the thread. Without it the OS almost never switches between a
//!   read and the write after it, and a lost update is almost never seen.
//! - Deadlocks are caught when the last running thread blocks (the kernel sees every
//!   thread's state) and explained from who holds and who waits for what. A
//!   run that goes on past its time budget is stopped by a watchdog and counted as a
//!   livelock, explained from where every thread is.
//! - Data races are never claimed natively: the shared cells are behind the kernel, so a
//!   race cannot be observed as such, only its effects (a lost update is an assertion).
//!   The explorer is the engine that decides races.
//!
//! Counts differ from run to run: `--engine explore` is the deterministic engine.

use crate::engines::kernel::{ExecConfig, Kernel, run_thread};
use crate::engines::runtime::Std;
use crate::engines::tally::Tally;
use crate::ir::{Program, ThreadId};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The fewest runs of the default (time-sized) native run.
pub const MIN_RUNS: u64 = 10;
/// The most runs of the default native run.
pub const MAX_RUNS: u64 = 100_000;
/// How long the default native run aims to take.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(1);
/// How long one run may take before the watchdog calls it a livelock.
pub const RUN_BUDGET: Duration = Duration::from_secs(2);

#[derive(Clone, Debug)]
pub struct NativeConfig {
    /// `None`: as many runs as fit in [`DEFAULT_DURATION`].
    pub runs: Option<u64>,
    /// Seeded random yields and sleeps between steps (the default).
    pub stress: bool,
    pub seed: u64,
    pub max_steps: u64,
    /// The watchdog's time budget for one run.
    pub run_budget: Duration,
    /// An overall limit (`--timeout`), if any.
    pub timeout: Option<Duration>,
}

impl Default for NativeConfig {
    fn default() -> Self {
        NativeConfig {
            runs: None,
            stress: true,
            seed: 0,
            max_steps: 10_000,
            run_budget: RUN_BUDGET,
            timeout: None,
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Reused worker threads: worker `i` runs scenario thread `i` of every run.
struct Pool {
    workers: Vec<mpsc::Sender<Job>>,
    done: mpsc::Receiver<()>,
}

impl Pool {
    fn new(n: usize) -> std::io::Result<Pool> {
        let (done_tx, done) = mpsc::channel();
        let mut workers = vec![];
        for i in 0..n {
            let (tx, rx) = mpsc::channel::<Job>();
            let done_tx = done_tx.clone();
            std::thread::Builder::new()
                .name(format!("simrace-native-{i}"))
                .spawn(move || {
                    for job in rx {
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        if done_tx.send(()).is_err() {
                            break;
                        }
                    }
                })?;
            workers.push(tx);
        }
        Ok(Pool { workers, done })
    }
}

/// Runs `prog` natively. An `Err` says why the engine cannot run it.
pub fn run(prog: &Arc<Program>, cfg: &NativeConfig) -> Result<Tally, String> {
    let n = prog.threads.len();
    let pool = Pool::new(n).map_err(|e| format!("cannot start threads: {e}"))?;
    let exec = Arc::new(ExecConfig {
        max_steps: cfg.max_steps,
        stress: cfg.stress,
        patient_timeouts: true,
    });
    // Runs never cover every interleaving: a native tally is never complete.
    let mut tally = Tally::default();
    let start = Instant::now();
    let mut i = 0u64;
    loop {
        match cfg.runs {
            Some(r) if i >= r => break,
            Some(_) => {}
            None => {
                let spent = start.elapsed();
                if i >= MAX_RUNS
                    || (i >= MIN_RUNS && spent >= DEFAULT_DURATION)
                    || (i >= 1 && spent >= DEFAULT_DURATION * 5)
                {
                    break;
                }
            }
        }
        if let Some(t) = cfg.timeout
            && start.elapsed() >= t
            && i > 0
        {
            tally
                .notes
                .push(format!("stopped at the --timeout of {} s", t.as_secs()));
            break;
        }
        let k = Arc::new(Kernel::<Std>::new(prog, &exec));
        let seed = cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(i);
        for t in 0..n {
            let (k, prog, exec) = (k.clone(), prog.clone(), exec.clone());
            let job: Job = Box::new(move || run_thread(&prog, &k, t as ThreadId, &exec, seed));
            if pool.workers[t].send(job).is_err() {
                return Err("a worker thread died".into());
            }
        }
        let mut done = 0;
        let mut deadline = Instant::now() + cfg.run_budget;
        let mut stopped = false;
        while done < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match pool.done.recv_timeout(left) {
                Ok(()) => done += 1,
                Err(mpsc::RecvTimeoutError::Timeout) if !stopped => {
                    // The watchdog: a run past its budget is a livelock.
                    k.abandon(prog, |e| {
                        format!(
                            "livelock: a run went on past the time budget of {} ms: {}",
                            cfg.run_budget.as_millis(),
                            e.explain(prog)
                        )
                    });
                    stopped = true;
                    deadline = Instant::now() + Duration::from_secs(2);
                }
                Err(_) => {
                    tally.notes.push(
                        "a run did not stop when told to: the native runs ended there".into(),
                    );
                    tally.elapsed = start.elapsed();
                    return Ok(tally);
                }
            }
        }
        let result = k.lock().conclude(prog);
        tally.add(&result);
        i += 1;
    }
    tally.elapsed = start.elapsed();
    tally.notes.push(if cfg.stress {
        format!(
            "each thread yields or sleeps at random between steps (seed {}), so that switches happen at bad moments; --no-stress runs unperturbed",
            cfg.seed
        )
    } else {
        "the threads ran unperturbed (--no-stress): the OS rarely switches between a read and the write after it".into()
    });
    tally.notes.push(
        "native runs observe what happens, they cannot rule anything out; data races are not claimed natively (only the explorer decides them)".into(),
    );
    Ok(tally)
}
