//! The engines' side of the semantics core: one execution of the scenario on a runtime's
//! threads, each scenario thread a runtime thread that takes steps of the one
//! [`State`] of the execution under the runtime's mutex, as loom's `rt/` and shuttle's
//! execution state do. Nothing here knows what a step does; that is
//! [`crate::machine`]'s alone.
//!
//! A thread's loop ([`run_thread`]): take the mutex; if the thread can move, choose one of
//! its alternatives with the runtime's random source (the oracle: seeded natively and
//! under loom, shuttle's recorded randomness under shuttle, so that shuttle replays it),
//! take the step, see whether the execution has ended ([`State::ending`]), wake the
//! parked threads that can now move, release the mutex and (natively, with stress) yield
//! or sleep a little; if it cannot move, park on its own condition variable until a step
//! lets it. The runtime's scheduler decides who gets the mutex next, so the interleaving
//! is the runtime's: real threads natively, explored by loom and shuttle.
//!
//! The engines run the core with the `Race` wake policy (which waiters a `notify` wakes
//! is decided by which of them moves first, so that loom and shuttle explore it) and,
//! natively and under shuttle, with patient timeouts: a thread whose only move is to give
//! up a timed wait takes it at once one time in four, and otherwise waits for a change,
//! timing out for sure when nothing else can move (a real timeout fires after a while,
//! not at once).

use super::runtime::{Runtime, below};
use super::tally::{ExecResult, Found};
use crate::ir::{FindingKind, Program, ThreadId};
use crate::machine::{Choice, Ending, Policy, State, Status, WakePolicy};

/// How one execution runs.
#[derive(Clone, Debug)]
pub struct ExecConfig {
    pub max_steps: u64,
    /// Native only: random yields and short sleeps between steps.
    pub stress: bool,
    /// Let a thread whose only move is a timeout wait a while (see the module docs).
    pub patient_timeouts: bool,
}

/// Why an execution stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// It came to its end.
    Ended(Ending),
    /// The engine gave up on it (native's time budget), with an explanation.
    Abandoned(String),
}

/// What the threads share behind the mutex: the execution's state, its failures, how it
/// stopped, and which threads are parked.
pub struct Execution {
    pub state: State,
    pub found: Vec<Found>,
    pub stop: Option<Stop>,
    parked: Vec<bool>,
}

/// One execution's monitor: its state behind the runtime's mutex, and one condition
/// variable per thread, notified only when that thread can move (fewer wake-ups keep
/// loom's and shuttle's search small).
pub struct Kernel<R: Runtime> {
    exec: R::Mutex<Execution>,
    wake: Vec<R::Condvar>,
}

/// The core's policies on the engines.
pub fn engine_policy() -> Policy {
    Policy {
        wake: WakePolicy::Race,
    }
}

impl<R: Runtime> Kernel<R> {
    pub fn new(prog: &Program, cfg: &ExecConfig) -> Kernel<R> {
        let (state, failures) = State::initial_with(prog, engine_policy());
        let mut e = Execution {
            found: failures
                .iter()
                .map(|f| Found {
                    kind: f.kind,
                    message: f.describe(prog),
                })
                .collect(),
            stop: None,
            parked: vec![false; prog.threads.len()],
            state,
        };
        e.stop = e.state.ending(prog, cfg.max_steps).map(Stop::Ended);
        Kernel {
            exec: R::mutex(e),
            wake: prog.threads.iter().map(|_| R::condvar()).collect(),
        }
    }

    pub fn lock(&self) -> R::Guard<'_, Execution> {
        R::lock(&self.exec)
    }

    /// Stops the execution (the watchdog) and wakes every thread.
    pub fn abandon(&self, prog: &Program, why: impl FnOnce(&Execution) -> String) {
        let mut g = self.lock();
        if g.stop.is_none() {
            let message = why(&g);
            g.stop = Some(Stop::Abandoned(message));
        }
        self.wake_parked(prog, &mut g);
    }

    /// Wakes every parked thread that can move now, or all of them once stopped.
    fn wake_parked(&self, prog: &Program, e: &mut Execution) {
        for u in 0..e.parked.len() {
            if e.parked[u] && (e.stop.is_some() || e.state.alternatives(prog, u as ThreadId) > 0) {
                R::notify_all(&self.wake[u]);
            }
        }
    }
}

/// Runs scenario thread `t` of one execution until it finishes or the execution stops.
pub fn run_thread<R: Runtime>(
    prog: &Program,
    k: &Kernel<R>,
    t: ThreadId,
    cfg: &ExecConfig,
    seed: u64,
) {
    let mut rng = seed ^ (t as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D);
    let mut g = k.lock();
    loop {
        if g.stop.is_some() || g.state.threads[t as usize].status == Status::Finished {
            return;
        }
        let alts = g.state.alternatives(prog, t);
        if alts == 0 || (cfg.patient_timeouts && waits_a_while::<R>(prog, &g, t, &mut rng)) {
            g.parked[t as usize] = true;
            g = R::wait(&k.wake[t as usize], g);
            g.parked[t as usize] = false;
            continue;
        }
        let choice = Choice {
            thread: t,
            alt: below::<R>(&mut rng, alts as u64) as u32,
        };
        // A failure after one that ended the execution is not one of its findings
        // (SCENARIO.md: the first ends it there; the threads here run on regardless).
        let ended = g.state.failed;
        let out = g.state.step(prog, choice, false);
        if let Some(f) = out.failure
            && !ended
        {
            g.found.push(Found {
                kind: f.kind,
                message: f.describe(prog),
            });
        }
        if let Some(end) = g.state.ending(prog, cfg.max_steps) {
            g.stop = Some(Stop::Ended(end));
        }
        k.wake_parked(prog, &mut g);
        drop(g);
        if cfg.stress {
            stress::<R>(&mut rng);
        }
        g = k.lock();
    }
}

/// Does `t`, whose only move may be to give up a timed wait, wait a while instead? Not
/// when nothing else can move; else three times in four.
fn waits_a_while<R: Runtime>(prog: &Program, e: &Execution, t: ThreadId, rng: &mut u64) -> bool {
    if !e.state.only_times_out(prog, t) {
        return false;
    }
    let others = (0..e.parked.len() as ThreadId)
        .any(|u| u != t && e.state.alternatives(prog, u) > 0 && !e.state.only_times_out(prog, u));
    others && below::<R>(rng, 4) != 0
}

/// Random yields and short sleeps (native stress).
fn stress<R: Runtime>(rng: &mut u64) {
    match below::<R>(rng, 100) {
        0..20 => R::yield_now(),
        20..25 if R::NAME == "native" => {
            let us = 1 + below::<R>(rng, 50);
            std::thread::sleep(std::time::Duration::from_micros(us));
        }
        _ => {}
    }
}

impl Execution {
    /// What the execution found: its failures, then how it ended.
    pub fn conclude(&self, prog: &Program) -> ExecResult {
        let mut r = ExecResult {
            found: self.found.clone(),
            outcome: None,
        };
        let livelock = |message: String| Found {
            kind: FindingKind::Livelock,
            message,
        };
        match &self.stop {
            None | Some(Stop::Ended(Ending::Failed)) => {}
            Some(Stop::Ended(Ending::TooLong { message })) => {
                r.found.push(livelock(message.clone()))
            }
            Some(Stop::Ended(Ending::Finished { check, values, .. })) => {
                if let Some(f) = check {
                    r.found.push(Found {
                        kind: f.kind,
                        message: f.describe(prog),
                    });
                }
                r.outcome = Some(values.clone());
            }
            Some(Stop::Ended(Ending::Stuck { kind, message, .. })) => r.found.push(Found {
                kind: *kind,
                message: message.clone(),
            }),
            Some(Stop::Abandoned(m)) => {
                if !self.state.failed {
                    r.found.push(livelock(m.clone()));
                }
            }
        }
        r
    }

    /// Where every unfinished thread is, and what it holds and waits for (for the
    /// watchdog's explanation).
    pub fn explain(&self, prog: &Program) -> String {
        let s = &self.state;
        let mut parts = vec![];
        for u in s.unfinished() {
            let info = &prog.threads[u as usize];
            let line = info.code.lines[s.threads[u as usize].pc as usize];
            let held = s.held_by(prog, u);
            let held = if held.is_empty() {
                String::new()
            } else {
                format!(" (holds {})", held.join(", "))
            };
            let what = if s.alternatives(prog, u) > 0 {
                "runs".to_string()
            } else {
                s.blocked(prog, u).text
            };
            parts.push(format!("{} (line {line}){held} {what}", info.name));
        }
        parts.join("; ")
    }
}
