//! Time: one execution of a scenario on a simulated clock (`simrace time`), to show how
//! long it takes and why: the GIL, the cores and the cost of starting a process.
//!
//! This is a deterministic discrete-event simulation that drives the machine's [`State`]
//! as the explorer and the engines do (`alternatives`, `only_times_out`, `step`,
//! `ending`); the clock only decides which thread takes the next step and when. What a
//! step costs comes from the machine too ([`State::cost`], [`State::timeout_us`]).
//!
//! The model (SCENARIO.md, "Time"; docs/time.md for the choices it leaves open):
//! - A thread that can move wants the CPU for its step: `work(t)` for `t`, any other step
//!   for `step_us`. It needs its process's GIL (one per memory: the main program's, each
//!   process's; none with `gil = false`) and then a core. A step takes effect in the
//!   machine when its CPU time is spent; if by then the thread can no longer move (a lock
//!   was taken meanwhile), it blocks, and the time is lost, as a real failed attempt's is.
//! - `sleep(t)` takes effect at once and then waits `t`, holding neither GIL nor core.
//! - A thread that cannot move is blocked, holding neither; it wants the CPU again as
//!   soon as the machine says it can move. A timed wait gives up (the machine's "times
//!   out" alternative) once its timeout has passed since it blocked.
//! - A spinning thread (the machine's spin-loop rule blocks it until a write) keeps
//!   wanting the CPU: it burns its core and holds its GIL.
//! - The GIL: the waiter that has waited longest, once it has waited `switch_interval`
//!   (counted from when it began waiting or when the holder took the GIL, the later),
//!   makes the holder drop it; the holder then waits like the others. Free GILs and
//!   cores go to the longest waiter; ties in declaration order.
//! - A started process begins `process_start` after its `start()`; a process started with
//!   the scenario (`start = true`, a Pool's worker) `process_start` after the beginning.
//! - The run stops after 600 s of simulated time.

use crate::ir::{Program, ThreadId, Timing};
use crate::machine::{Choice, Cost, Ending, State, Status};

/// The simulated time limit, in microseconds.
pub const LIMIT_US: u64 = 600_000_000;
/// The most steps one timed execution takes (with `step_us = 0`, a loop that never
/// waits would otherwise run forever at one instant).
pub const LIMIT_STEPS: u64 = 50_000_000;

/// What a party is doing over a stretch of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartyState {
    /// On a core (and holding its GIL).
    Running,
    /// Waiting for its process's GIL.
    GilWait,
    /// Holding the GIL (or free-threaded), waiting for a core.
    CoreWait,
    /// Waiting in a blocking operation.
    Blocked,
    /// In `sleep(t)`.
    Sleeping,
    /// A process between its `start()` and its first step.
    Starting,
}

impl PartyState {
    pub fn as_str(self) -> &'static str {
        match self {
            PartyState::Running => "running",
            PartyState::GilWait => "gil_wait",
            PartyState::CoreWait => "core_wait",
            PartyState::Blocked => "blocked",
            PartyState::Sleeping => "sleeping",
            PartyState::Starting => "starting",
        }
    }

    /// The timeline's character: `#` runs, `g` waits for the GIL, `c` for a core, `s`
    /// a process starting, `.` blocked or asleep.
    pub fn glyph(self) -> char {
        match self {
            PartyState::Running => '#',
            PartyState::GilWait => 'g',
            PartyState::CoreWait => 'c',
            PartyState::Starting => 's',
            PartyState::Blocked | PartyState::Sleeping => '.',
        }
    }
}

/// One party's times, in microseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartyTime {
    pub name: String,
    pub cpu_us: u64,
    pub gil_wait_us: u64,
    pub core_wait_us: u64,
    pub blocked_us: u64,
    pub sleep_us: u64,
    /// When it was started (`None`: never).
    pub start_us: Option<u64>,
    /// When it finished (`None`: it did not).
    pub end_us: Option<u64>,
}

/// A stretch of one party's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slice {
    pub party: ThreadId,
    pub from_us: u64,
    pub to_us: u64,
    pub state: PartyState,
}

/// Why a timed execution did not finish normally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// An assertion or an error: where, and what.
    Failed(String),
    /// Nothing can move: a deadlock (or every thread spins).
    Stuck(String),
    /// The simulated time limit passed.
    TimeLimit,
    /// [`LIMIT_STEPS`] steps were taken.
    TooManySteps,
}

/// One timed execution.
#[derive(Clone, Debug)]
pub struct TimedRun {
    pub cores: u32,
    pub gil: bool,
    /// When the last non-daemon party finished (or when the run stopped).
    pub wall_us: u64,
    /// Every `work` and `sleep` one after the other.
    pub serial_us: u64,
    pub parties: Vec<PartyTime>,
    pub timeline: Vec<Slice>,
    pub problem: Option<Problem>,
}

impl TimedRun {
    /// `serial / wall` (0 when the wall time is 0).
    pub fn speedup(&self) -> f64 {
        if self.wall_us == 0 {
            0.0
        } else {
            self.serial_us as f64 / self.wall_us as f64
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not started, or finished.
    Idle,
    /// Just started: its first step is to be classified.
    Fresh,
    Starting {
        until: u64,
    },
    Sleeping {
        until: u64,
    },
    Blocked {
        deadline: Option<u64>,
    },
    /// Wants the CPU for `remaining` more (`spin`: for as long as it spins).
    Want {
        remaining: u64,
        spin: bool,
        timed_out: bool,
    },
}

struct Sim<'p> {
    prog: &'p Program,
    timing: Timing,
    st: State,
    now: u64,
    phase: Vec<Phase>,
    gil: Vec<bool>,
    core: Vec<bool>,
    /// Since when it has waited for what it waits for (the GIL or a core).
    since: Vec<u64>,
    gil_holder: Vec<Option<ThreadId>>,
    gil_taken: Vec<u64>,
    serial_us: u64,
    steps: u64,
    parties: Vec<PartyTime>,
    timeline: Vec<Slice>,
    last_slice: Vec<Option<usize>>,
    /// Each party's latest steps, newest last: the instruction it took (its pc before)
    /// and what it slept (a polling loop's turn, see [`Sim::polling_turn`]).
    recent: Vec<std::collections::VecDeque<(crate::ir::Pc, u64)>>,
}

/// How many of a party's latest steps [`Sim::polling_turn`] looks back over.
const RECENT_STEPS: usize = 64;

/// Runs `prog` once on the simulated machine `timing`.
pub fn simulate(prog: &Program, timing: Timing) -> TimedRun {
    let (st, failures) = State::initial(prog);
    let n = prog.threads.len();
    let mut sim = Sim {
        prog,
        timing,
        st,
        now: 0,
        phase: vec![Phase::Idle; n],
        gil: vec![false; n],
        core: vec![false; n],
        since: vec![0; n],
        gil_holder: vec![None; prog.memories as usize],
        gil_taken: vec![0; prog.memories as usize],
        serial_us: 0,
        steps: 0,
        parties: prog
            .threads
            .iter()
            .map(|t| PartyTime {
                name: t.name.clone(),
                ..PartyTime::default()
            })
            .collect(),
        timeline: vec![],
        last_slice: vec![None; n],
        recent: vec![std::collections::VecDeque::new(); n],
    };
    let problem = match failures.first() {
        Some(f) => Some(Problem::Failed(f.describe(prog))),
        None => {
            // Parties started with the scenario: a process among them (a `start = true`
            // process, a Pool's worker) pays the start cost, as one started later does.
            for t in 0..n {
                if prog.threads[t].start {
                    sim.phase[t] = if prog.threads[t].process {
                        Phase::Starting {
                            until: timing.process_start_us,
                        }
                    } else {
                        Phase::Fresh
                    };
                    sim.parties[t].start_us = Some(0);
                }
            }
            sim.run()
        }
    };
    TimedRun {
        cores: timing.cores,
        gil: timing.gil,
        wall_us: sim.now,
        serial_us: sim.serial_us,
        parties: sim.parties,
        timeline: sim.timeline,
        problem,
    }
}

impl Sim<'_> {
    fn run(&mut self) -> Option<Problem> {
        loop {
            if let Some(p) = self.settle() {
                return Some(p);
            }
            match self.st.ending(self.prog, u64::MAX) {
                Some(Ending::Finished { check, .. }) => {
                    return check.map(|f| Problem::Failed(f.describe(self.prog)));
                }
                Some(Ending::Stuck { message, .. }) => return Some(Problem::Stuck(message)),
                Some(Ending::Failed) | Some(Ending::TooLong { .. }) | None => {}
            }
            let next = self.next_event().unwrap_or(LIMIT_US).min(LIMIT_US);
            if next <= self.now {
                // Nothing will ever happen: every thread spins without progress.
                let Ending::Stuck { message, .. } = self.st.stuck(self.prog) else {
                    return Some(Problem::TimeLimit);
                };
                return Some(Problem::Stuck(message));
            }
            self.advance(next);
            if self.now >= LIMIT_US {
                return Some(Problem::TimeLimit);
            }
        }
    }

    /// The part of `t`'s `work` or `sleep` that was counted in `serial_us` when it
    /// began and has not run: a daemon stopped in the middle of one.
    fn unfinished_us(&self, t: usize) -> u64 {
        match self.phase[t] {
            Phase::Sleeping { until } => until.saturating_sub(self.now),
            Phase::Want {
                remaining,
                spin: false,
                ..
            } if matches!(self.st.cost(self.prog, t as ThreadId), Cost::Work(_)) => remaining,
            _ => 0,
        }
    }

    fn memory(&self, t: usize) -> usize {
        self.prog.threads[t].memory as usize
    }

    /// Can `t` take its step now, as the machine says?
    fn can_move(&self, t: usize, timed_out: bool) -> bool {
        let tid = t as ThreadId;
        self.st.alternatives(self.prog, tid) > 0
            && (timed_out || !self.st.only_times_out(self.prog, tid))
    }

    /// `t` lets go of its GIL and its core.
    fn drop_all(&mut self, t: usize) {
        if self.gil[t] {
            self.gil[t] = false;
            let m = self.memory(t);
            self.gil_holder[m] = None;
        }
        self.core[t] = false;
    }

    /// Decides what `t` does next, from the machine's state: its next step wants the CPU,
    /// or it sleeps, blocks or has finished. Returns a problem if a sleep step failed.
    fn classify(&mut self, t: usize) -> Option<Problem> {
        let tid = t as ThreadId;
        let status = self.st.threads[t].status.clone();
        match status {
            Status::Finished | Status::NotStarted => {
                self.finish(t);
            }
            Status::SpinBlocked { .. } => match self.polling_turn(t) {
                // A loop that sleeps at every turn polls: asleep, not burning a core.
                Some((slept, steps)) => {
                    self.serial_us += slept;
                    self.drop_all(t);
                    let turn = slept.saturating_add(steps * self.timing.step_us);
                    self.phase[t] = Phase::Sleeping {
                        until: self.now.saturating_add(turn),
                    };
                }
                None => self.want(t, u64::MAX, true, false),
            },
            _ if self.can_move(t, false) => match self.st.cost(self.prog, tid) {
                Cost::Sleep(d) => {
                    self.serial_us += d;
                    self.drop_all(t);
                    self.phase[t] = Phase::Sleeping {
                        until: self.now.saturating_add(d),
                    };
                    return self.step(t, false);
                }
                Cost::Work(d) => {
                    self.serial_us += d;
                    self.want(t, d, false, false);
                }
                Cost::Step => self.want(t, self.timing.step_us, false, false),
            },
            _ => {
                self.drop_all(t);
                let deadline = if self.st.alternatives(self.prog, tid) > 0 {
                    self.st
                        .timeout_us(self.prog, tid)
                        .map(|d| self.now.saturating_add(d))
                } else {
                    None
                };
                self.phase[t] = Phase::Blocked { deadline };
            }
        }
        None
    }

    /// A party that the spin-loop rule blocked (its loop's last turn changed nothing)
    /// and whose last turn slept: what the turn slept and how many steps it took. The
    /// turn is the steps since the one before that took the same instruction as the
    /// last (the step that came back to the loop's head). The machine blocks such a loop
    /// until another party writes what it reads, but the loop goes on turning: each turn
    /// sleeps, then looks again, so it sees the write at the end of the turn it is in,
    /// holding no core meanwhile (`while not ready: sleep(0.1)`; it was taken for a loop
    /// that never sleeps, burning a core and holding the GIL).
    fn polling_turn(&self, t: usize) -> Option<(u64, u64)> {
        let recent = &self.recent[t];
        let &(last, _) = recent.back()?;
        let before = recent
            .iter()
            .rev()
            .skip(1)
            .position(|&(pc, _)| pc == last)?;
        let turn = recent.iter().rev().take(before + 1);
        let slept: u64 = turn.map(|&(_, us)| us).sum();
        (slept > 0).then_some((slept, before as u64 + 1))
    }

    fn want(&mut self, t: usize, remaining: u64, spin: bool, timed_out: bool) {
        if !matches!(self.phase[t], Phase::Want { .. }) {
            self.since[t] = self.now;
        }
        self.phase[t] = Phase::Want {
            remaining,
            spin,
            timed_out,
        };
    }

    fn finish(&mut self, t: usize) {
        self.drop_all(t);
        if self.phase[t] != Phase::Idle && self.parties[t].end_us.is_none() {
            self.parties[t].end_us = Some(self.now);
        }
        self.phase[t] = Phase::Idle;
    }

    /// The machine takes `t`'s step (its first alternative: `choose` takes its lowest
    /// value, a `notify` wakes the longest waiter, a timed wait past its time gives up);
    /// then whatever it started or ended is seen to.
    fn step(&mut self, t: usize, timed_out: bool) -> Option<Problem> {
        if !self.can_move(t, timed_out) {
            return self.classify(t);
        }
        self.steps += 1;
        if self.steps > LIMIT_STEPS {
            return Some(Problem::TooManySteps);
        }
        let before: Vec<bool> = self
            .st
            .threads
            .iter()
            .map(|th| th.status == Status::NotStarted)
            .collect();
        // What each party still had to do, for one that this step stops (`terminate`).
        let pending: Vec<u64> = (0..before.len()).map(|u| self.unfinished_us(u)).collect();
        let slept = match self.st.cost(self.prog, t as ThreadId) {
            Cost::Sleep(d) => d,
            _ => 0,
        };
        let recent = &mut self.recent[t];
        recent.push_back((self.st.threads[t].pc, slept));
        if recent.len() > RECENT_STEPS {
            recent.pop_front();
        }
        let out = self.st.step(
            self.prog,
            Choice {
                thread: t as ThreadId,
                alt: 0,
            },
            false,
        );
        if let Some(f) = out.failure {
            return Some(Problem::Failed(f.describe(self.prog)));
        }
        for (u, was_new) in before.into_iter().enumerate() {
            let status = &self.st.threads[u].status;
            if was_new && *status != Status::NotStarted {
                self.parties[u].start_us = Some(self.now);
                self.phase[u] = if self.prog.threads[u].process {
                    Phase::Starting {
                        until: self.now.saturating_add(self.timing.process_start_us),
                    }
                } else {
                    Phase::Fresh
                };
            } else if *status == Status::Finished && u != t {
                // Stopped by this step: what it had left to sleep or work was not done.
                self.serial_us -= pending[u];
                self.finish(u);
            }
        }
        if matches!(self.phase[t], Phase::Sleeping { .. }) {
            return None;
        }
        self.classify(t)
    }

    /// Everything that happens at `now`, until nothing more does.
    fn settle(&mut self) -> Option<Problem> {
        let n = self.phase.len();
        loop {
            let mut changed = false;
            for t in 0..n {
                let now = self.now;
                match self.phase[t] {
                    Phase::Idle => {}
                    Phase::Fresh => {
                        self.phase[t] = Phase::Blocked { deadline: None };
                        if let Some(p) = self.classify(t) {
                            return Some(p);
                        }
                        changed = true;
                    }
                    Phase::Starting { until } | Phase::Sleeping { until } if until <= now => {
                        self.phase[t] = Phase::Blocked { deadline: None };
                        if let Some(p) = self.classify(t) {
                            return Some(p);
                        }
                        changed = true;
                    }
                    Phase::Starting { .. } | Phase::Sleeping { .. } => {}
                    Phase::Blocked { deadline } => {
                        let late = deadline.is_some_and(|d| d <= now);
                        if self.st.threads[t].status == Status::Finished {
                            self.finish(t);
                            changed = true;
                        } else if self.can_move(t, late) {
                            if late || self.st.cost(self.prog, t as ThreadId) == Cost::Step {
                                self.want(t, self.timing.step_us, false, late);
                            } else if let Some(p) = self.classify(t) {
                                return Some(p);
                            }
                            changed = true;
                        }
                    }
                    Phase::Want {
                        remaining,
                        spin,
                        timed_out,
                    } => {
                        if self.st.threads[t].status == Status::Finished {
                            self.finish(t);
                            changed = true;
                        } else if spin {
                            if self.can_move(t, false) {
                                self.want(t, self.timing.step_us, false, false);
                                changed = true;
                            }
                        } else if remaining == 0 && self.core[t] {
                            if let Some(p) = self.step(t, timed_out) {
                                return Some(p);
                            }
                            changed = true;
                        }
                    }
                }
            }
            if self.st.all_finished() {
                // The program is over: daemons are stopped.
                for t in 0..n {
                    if self.phase[t] != Phase::Idle && self.prog.threads[t].daemon {
                        self.serial_us -= self.unfinished_us(t);
                        self.drop_all(t);
                        self.phase[t] = Phase::Idle;
                    }
                }
            }
            changed |= self.assign();
            if !changed {
                return None;
            }
        }
    }

    fn wants(&self, t: usize) -> bool {
        matches!(self.phase[t], Phase::Want { .. })
    }

    /// Hands over GILs (a switch-interval drop first) and cores; true if anything moved.
    fn assign(&mut self) -> bool {
        let n = self.phase.len();
        let mut changed = false;
        if self.timing.gil {
            for m in 0..self.gil_holder.len() {
                let waiter = (0..n)
                    .filter(|&t| self.wants(t) && !self.gil[t] && self.memory(t) == m)
                    .min_by_key(|&t| (self.since[t], t));
                let Some(w) = waiter else { continue };
                if let Some(h) = self.gil_holder[m] {
                    let due = self.since[w].max(self.gil_taken[m]) + self.timing.switch_interval_us;
                    if due > self.now {
                        continue;
                    }
                    // The holder drops the GIL and waits like the others.
                    self.drop_all(h as usize);
                    self.since[h as usize] = self.now;
                }
                self.gil[w] = true;
                self.gil_holder[m] = Some(w as ThreadId);
                self.gil_taken[m] = self.now;
                self.since[w] = self.now;
                changed = true;
            }
        }
        let busy = self.core.iter().filter(|c| **c).count() as u32;
        let mut free = self.timing.cores.saturating_sub(busy);
        let mut ready: Vec<usize> = (0..n)
            .filter(|&t| self.wants(t) && !self.core[t] && (self.gil[t] || !self.timing.gil))
            .collect();
        ready.sort_by_key(|&t| (self.since[t], t));
        for t in ready {
            if free == 0 {
                break;
            }
            self.core[t] = true;
            free -= 1;
            changed = true;
        }
        changed
    }

    /// The next moment something happens.
    fn next_event(&self) -> Option<u64> {
        let n = self.phase.len();
        let mut next: Option<u64> = None;
        let mut at = |x: u64| next = Some(next.map_or(x, |y| y.min(x)));
        for t in 0..n {
            match self.phase[t] {
                Phase::Starting { until } | Phase::Sleeping { until } => at(until),
                Phase::Blocked {
                    deadline: Some(d), ..
                } => at(d),
                Phase::Want {
                    remaining,
                    spin: false,
                    ..
                } if self.core[t] => at(self.now.saturating_add(remaining)),
                _ => {}
            }
        }
        if self.timing.gil {
            for m in 0..self.gil_holder.len() {
                if self.gil_holder[m].is_none() {
                    continue;
                }
                let waiter = (0..n)
                    .filter(|&t| self.wants(t) && !self.gil[t] && self.memory(t) == m)
                    .min_by_key(|&t| (self.since[t], t));
                if let Some(w) = waiter {
                    at(self.since[w].max(self.gil_taken[m]) + self.timing.switch_interval_us);
                }
            }
        }
        next
    }

    /// Moves the clock to `next`, counting what every party did meanwhile.
    fn advance(&mut self, next: u64) {
        let dt = next - self.now;
        for t in 0..self.phase.len() {
            let state = match self.phase[t] {
                Phase::Idle | Phase::Fresh => continue,
                Phase::Starting { .. } => PartyState::Starting,
                Phase::Sleeping { .. } => PartyState::Sleeping,
                Phase::Blocked { .. } => PartyState::Blocked,
                Phase::Want { .. } if self.core[t] => PartyState::Running,
                Phase::Want { .. } if self.timing.gil && !self.gil[t] => PartyState::GilWait,
                Phase::Want { .. } => PartyState::CoreWait,
            };
            let p = &mut self.parties[t];
            match state {
                PartyState::Running => p.cpu_us += dt,
                PartyState::GilWait => p.gil_wait_us += dt,
                PartyState::CoreWait => p.core_wait_us += dt,
                PartyState::Blocked => p.blocked_us += dt,
                PartyState::Sleeping => p.sleep_us += dt,
                PartyState::Starting => {}
            }
            if let Phase::Want {
                remaining,
                spin: false,
                ..
            } = &mut self.phase[t]
                && state == PartyState::Running
            {
                *remaining -= dt.min(*remaining);
            }
            match self.last_slice[t] {
                Some(i)
                    if self.timeline[i].state == state && self.timeline[i].to_us == self.now =>
                {
                    self.timeline[i].to_us = next;
                }
                _ => {
                    self.last_slice[t] = Some(self.timeline.len());
                    self.timeline.push(Slice {
                        party: t as ThreadId,
                        from_us: self.now,
                        to_us: next,
                        state,
                    });
                }
            }
        }
        self.now = next;
    }
}
