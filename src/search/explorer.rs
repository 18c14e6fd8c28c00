//! The explorer's path and the depth-first loop that every exhaustive search shares.
//!
//! An [`Explorer`] keeps the path from the initial state to the current one, one [`Node`]
//! per state: the choice being explored from it, that step's footprint, dependency clock
//! and events, the node's sleep set and its wakeup tree. The exhaustive searches
//! ([`Reduction`]) run the same loop: `None`, a naive depth-first enumeration of every
//! choice at every state, and `Sleep`, sleep sets alone (Godefroid; the references the
//! tests compare against); `States`, state caching (states.rs); and `Dpor`, optimal
//! dynamic partial-order reduction (dpor.rs). They differ in the branches a new node is
//! seeded with (`visit_new`), in the sleep sets (`Dpor` and `Sleep` only), and in what
//! happens when an execution ends. The sampling searches (sampling.rs) take steps and
//! end executions the same way.
//!
//! A wakeup branch whose next step is disabled or asleep when the search reaches it is
//! dropped; the blocked executions that are left are counted as cut short.
//!
//! A failed assertion or error is reported with the trace that ends in it, but the
//! failing thread is only stopped and the others go on (as in Python, where an exception
//! ends only its thread), so that the reduction still sees every conflict it needs; every
//! failure and race in an execution that does not have a failure in its causal past is
//! reported (which of two independent failures happens first is not a property of the
//! trace; taint.rs), but no deadlock or outcome after one.
//!
//! Pinned by the exact counts of tests/counts.rs and tests/published.rs, by
//! tests/differential.rs (every reduction against the naive enumeration or sleep sets),
//! and by the report snapshots of tests/scenarios.rs.

use crate::detect::lockorder::{LockOrder, PathLocks};
use crate::detect::lost_writes::{Copies, LostWrites};
use crate::detect::races::{Race, RaceDetector};
use crate::ir::{FindingKind, Instr, ObjKind, Pc, Program, ThreadId};
use crate::machine::{Choice, Ending, Event, Failure, Footprint, State, Status, dependent};
use crate::search::clocks::PathClocks;
use crate::search::parallel::{Delegated, Pool, Request};
use crate::search::taint::{self, Summary};
use crate::search::wakeup::{WakeNode, WakeStep, WakeupTree};
use crate::search::{
    Config, Exploration, OutcomeKey, RawFinding, RawOutcome, Reduction, SHOWN_PER_KIND, Search,
    Stats,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub(super) struct Node {
    /// Shared: the parallel search copies paths (parallel.rs), and a node's state is
    /// never changed once it is made.
    pub(super) state: Arc<State>,
    pub(super) enabled: Vec<(ThreadId, u32)>,
    /// Pending branches to explore from here (optimal DPOR's wakeup tree).
    pub(super) wakeup: WakeupTree,
    pub(super) done: Vec<bool>,
    /// Threads explored here, in order, with their footprints (for sleep sets).
    pub(super) explored: Vec<(ThreadId, Footprint)>,
    pub(super) sleep: Vec<(ThreadId, Footprint)>,
    /// In a split search, the threads of `sleep` that sleep because an earlier subtree
    /// starts with them (split.rs).
    pub(super) inherited: Vec<ThreadId>,
    /// The choice being explored from this node.
    pub(super) choice: Option<Choice>,
    /// The step taken from this node: its footprint, dependency clock, thread step index.
    pub(super) fp: Footprint,
    pub(super) clock: Vec<u32>,
    pub(super) events: Vec<Event>,
    /// Threads that the step taken from this node started.
    pub(super) started: Vec<ThreadId>,
    /// The first failure on the path up to and including this node's state.
    pub(super) failed: bool,
    /// The steps before this node that come after a failure which ends the execution
    /// (taint.rs), and whether the step taken from here does.
    pub(super) taint: Summary,
    pub(super) tainted: bool,
    /// Preemptions on the path to this node (for `Config::preemption_bound`).
    pub(super) preemptions: u32,
    /// An execution ended here.
    pub(super) ended: bool,
    /// `Reduction::States`: the fingerprint of the state without its step counters, when
    /// it was new here (to find the cycles of the path, see states.rs); else 0.
    pub(super) key: u64,
    /// The failures on the path to this node, each once (counted when the execution
    /// ends: an invariant that stays false fails again at every step).
    pub(super) failures: Vec<(FindingKind, String)>,
    /// Threads brought forward here because an execution cut at `max_steps` left them
    /// behind (dpor.rs): after such a step nothing sleeps, since the executions that the
    /// sleepers stand for were cut too.
    pub(super) brought: Vec<ThreadId>,
    /// The estimated size of the nodes below this one (memory.rs), with state caching.
    pub(super) below: u64,
}

impl Node {
    /// Adds a one-step wakeup branch: thread `t` moves next (first alternative).
    pub(super) fn add_branch(&mut self, prog: &Program, t: ThreadId) {
        let fp = self.state.footprint(prog, t);
        self.wakeup.push(WakeNode::leaf(WakeStep {
            choice: Choice { thread: t, alt: 0 },
            fp,
        }));
    }
}

pub(super) struct Explorer<'p> {
    pub(super) prog: &'p Program,
    pub(super) cfg: &'p Config,
    pub(super) path: Vec<Node>,
    pub(super) findings: BTreeMap<(FindingKind, String), RawFinding>,
    pub(super) outcomes: BTreeMap<OutcomeKey, RawOutcome>,
    pub(super) stats: Stats,
    pub(super) lock_order: LockOrder,
    pub(super) lost_writes: LostWrites,
    /// `Reduction::States`: how much of the path the lock order and lost writes have seen.
    pub(super) path_locks: PathLocks,
    /// `Reduction::States`: which process writes each copy of memory holds along the path.
    pub(super) path_copies: Copies,
    /// `Reduction::States`: happens-before along the path, and the races it showed.
    pub(super) path_races: super::states::PathRaces,
    /// `Reduction::Dpor`: the dependency clocks of the path, summarized (clocks.rs).
    pub(super) path_clocks: PathClocks,
    pub(super) start: Instant,
    pub(super) nthreads: usize,
    /// Some step may wait or give up (`Instr::may_wait_or_give_up`): see
    /// `Explorer::explored_elsewhere` (dpor.rs).
    pub(super) gives_up: bool,
    /// A wakeup leaf stands for the sequences it weakly prefixes, as in the paper
    /// ([`leaf_covers`]).
    pub(super) leaf_covers: bool,
    pub(super) classes: std::collections::BTreeSet<Vec<Choice>>,
    pub(super) states: std::collections::HashSet<u64>,
    /// `Reduction::States`: the states explored, without their step counters, and whether
    /// a failure came before (no outcome or deadlock is reported after one).
    pub(super) visited: std::collections::HashSet<(State, bool)>,
    /// `Reduction::States`: the nodes of the path with each `Node::key`, counted. A
    /// filter: a key absent here is on no node of the path, and a stale count only
    /// costs a walk.
    pub(super) path_keys: rustc_hash::FxHashMap<u64, u32>,
    /// Set when the preemption bound left some executions out.
    pub(super) bounded: bool,
    /// Exploring one task of a split search: the nodes above this index are its prefix
    /// (split points), and `split_before` holds, for each, the threads of the sibling
    /// tasks that come before (an execution whose class one of them can start belongs to
    /// that task, and is skipped here).
    pub(super) split_depth: usize,
    pub(super) split_before: Vec<Vec<ThreadId>>,
    /// A task of the exact parallel search (parallel.rs): the nodes above this index are
    /// the coordinator's, copied; what the task would add to their wakeup trees goes to
    /// `requests`, for the coordinator to apply in the single search's order.
    pub(super) task_depth: usize,
    pub(super) requests: Vec<Request>,
    /// In such a task: executions counted for failures that only the coordinator has.
    pub(super) counted_above: BTreeMap<(FindingKind, String), u64>,
    /// In such a task: the executions and the work of the search before it, so that its
    /// limits stop it where the single search would stop.
    pub(super) exec_base: u64,
    pub(super) work_base: u64,
    /// Set when a task run ahead of time is no longer wanted.
    pub(super) cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// The exact parallel search's coordinator: the subtrees at its task depth go there.
    pub(super) pool: Option<&'p Pool<'p>>,
    pub(super) last_progress: Instant,
    /// What the search has cost so far, for `Config::step_budget`: the steps taken, and
    /// the length of every ended execution (its races and endings are found over all of
    /// it). Deterministic, unlike the time.
    pub(super) work: u64,
    /// What the search stores now, estimated (memory.rs), and the part of it that is
    /// `visited`.
    pub(super) memory: u64,
    pub(super) visited_bytes: u64,
    /// Executions that ran to `max_steps` (see `going_round`).
    pub(super) too_long: u64,
    /// The failures before the first step (`State::initial`), part of every execution.
    pub(super) initial_failures: Vec<(FindingKind, String)>,
    /// The keys of the data races that keep their trace (`record_race`).
    pub(super) race_traces: std::collections::BTreeSet<String>,
}

impl<'p> Explorer<'p> {
    pub(super) fn new(prog: &'p Program, cfg: &'p Config) -> Self {
        Explorer {
            prog,
            cfg,
            path: vec![],
            findings: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            stats: Stats::default(),
            lock_order: LockOrder::default(),
            lost_writes: LostWrites::default(),
            path_locks: PathLocks::default(),
            path_copies: Copies::default(),
            path_races: Default::default(),
            path_clocks: PathClocks::default(),
            start: Instant::now(),
            nthreads: prog.threads.len(),
            gives_up: may_give_up(prog),
            leaf_covers: leaf_covers(prog),
            classes: std::collections::BTreeSet::new(),
            states: std::collections::HashSet::new(),
            visited: std::collections::HashSet::new(),
            path_keys: rustc_hash::FxHashMap::default(),
            bounded: false,
            split_depth: 0,
            split_before: vec![],
            task_depth: 0,
            requests: vec![],
            counted_above: BTreeMap::new(),
            exec_base: 0,
            work_base: 0,
            cancel: None,
            pool: None,
            last_progress: Instant::now(),
            work: 0,
            memory: 0,
            visited_bytes: 0,
            too_long: 0,
            initial_failures: vec![],
            race_traces: std::collections::BTreeSet::new(),
        }
    }

    pub(super) fn schedule(&self) -> Vec<Choice> {
        self.path.iter().filter_map(|n| n.choice).collect()
    }

    pub(super) fn record(
        &mut self,
        kind: FindingKind,
        key: String,
        message: String,
        schedule: Vec<Choice>,
        race: Option<Race>,
        count: bool,
    ) {
        let e = self
            .findings
            .entry((kind, key.clone()))
            .or_insert_with(|| RawFinding {
                kind,
                key,
                message: message.clone(),
                schedule: schedule.clone(),
                race: race.clone(),
                count: 0,
            });
        if count {
            e.count += 1;
        }
        if schedule.len() < e.schedule.len() {
            e.schedule = schedule;
            e.message = message;
            e.race = race;
        }
    }

    /// A failure's finding key. Failures are grouped by place and kind of error, not by
    /// the values in the message.
    fn failure_key(&self, f: &Failure) -> (FindingKind, String) {
        let head = f.message.split(':').next().unwrap_or("");
        let detail = if f.kind == FindingKind::Assertion {
            f.message.as_str()
        } else {
            ""
        };
        (f.kind, format!("{}:{head}:{detail}", f.line))
    }

    /// Records a data race with its key (`race_key`) found in the execution `schedule`
    /// (which ends with its second access), and counts it. Only the first
    /// [`SHOWN_PER_KIND`] races by key keep their trace (schedule, message and accesses),
    /// since a report writes out no others (report/build.rs): hundreds of `[[thread]]`
    /// tables writing one variable make a race of every pair in every execution, and
    /// keeping each one's schedule took gigabytes before the first execution ended.
    pub(super) fn record_race(&mut self, r: Race, key: String, schedule: &[Choice]) {
        let prog = self.prog;
        if let Some(e) = self.findings.get_mut(&(FindingKind::DataRace, key.clone())) {
            e.count += 1;
            if !e.trace_dropped() && schedule.len() < e.schedule.len() {
                e.schedule = schedule.to_vec();
                e.message = r.message(prog);
                e.race = Some(r);
            }
            return;
        }
        let f = RawFinding {
            kind: FindingKind::DataRace,
            key: key.clone(),
            message: r.message(prog),
            schedule: schedule.to_vec(),
            race: Some(r),
            count: 1,
        };
        self.findings
            .insert((FindingKind::DataRace, key.clone()), f);
        self.race_traces.insert(key);
        if self.race_traces.len() > SHOWN_PER_KIND {
            let last = self.race_traces.pop_last().unwrap();
            let dropped = (FindingKind::DataRace, last);
            self.findings.get_mut(&dropped).unwrap().drop_trace();
        }
    }

    /// Records a failure; `count`: count this execution for it now (a failure in a step
    /// is counted when its execution ends, once however often it recurs, see
    /// `note_failure`).
    fn record_failure(&mut self, f: &Failure, schedule: Vec<Choice>, count: bool) {
        let who = f.thread.map(|t| self.prog.threads[t as usize].name.clone());
        let message = match &who {
            Some(w) => format!("{w} (line {}): {}", f.line, f.message),
            None => format!("line {}: {}", f.line, f.message),
        };
        let (kind, key) = self.failure_key(f);
        self.record(kind, key, message, schedule, None, count);
    }

    fn out_of_budget(&mut self) -> bool {
        // With state caching, the paths that stop at a state explored before count too.
        let paths = self.exec_base
            + match self.cfg.reduction {
                Reduction::States => self.stats.executions + self.stats.redundant,
                _ => self.stats.executions,
            };
        if let Some(c) = &self.cancel
            && c.load(std::sync::atomic::Ordering::Relaxed)
        {
            self.stats.limit = Some("cancelled".into());
            return true;
        }
        if let Some(stop) = &self.cfg.stop
            && stop.load(std::sync::atomic::Ordering::Relaxed)
        {
            self.stats.interrupted = true;
            self.stats.limit = Some(format!(
                "interrupted after {paths} executions; the findings so far are shown"
            ));
            return true;
        }
        let more = match self.cfg.reduction {
            Reduction::States => "a bigger --max-executions",
            _ => "--reduction states (each distinct state once), or a bigger --max-executions",
        };
        if let Some(max) = self.cfg.max_executions
            && paths >= max
        {
            self.stats.limit = Some(format!(
                "stopped after --max-executions {max}; to go further: {more}"
            ));
            return true;
        }
        if self.split_depth == 0 && self.task_depth == 0 {
            let states = self.states.len() as u64;
            let (execs, steps) = (self.stats.executions, self.stats.steps + self.work);
            if let Some(why) = super::going_round(self.cfg, execs, steps, states, self.too_long) {
                self.stats.switched = Some(why);
                return true;
            }
        }
        if let Some(budget) = self.cfg.step_budget
            && self.work_base + self.stats.steps + self.work >= budget
        {
            self.stats.limit = Some(format!(
                "stopped at the default budget of {budget} steps of work (the steps \
                 taken, plus the length of each execution, which its analysis reads \
                 again), after {paths} executions; to go further: {more} (a budget of \
                 executions instead), or a smaller --max-steps"
            ));
            return true;
        }
        if self.out_of_memory(paths) {
            return true;
        }
        if let Some(t) = self.cfg.timeout
            && self.start.elapsed() >= t
        {
            self.stats.limit = Some(format!("stopped at the --timeout of {} s", t.as_secs()));
            return true;
        }
        false
    }

    pub(super) fn new_node(
        &self,
        state: State,
        sleep: Vec<(ThreadId, Footprint)>,
        failed: bool,
        wakeup: WakeupTree,
    ) -> Node {
        let enabled = state.enabled(self.prog);
        Node {
            state: Arc::new(state),
            enabled,
            wakeup,
            done: vec![false; self.nthreads],
            explored: vec![],
            sleep,
            inherited: vec![],
            choice: None,
            fp: Footprint::new(),
            clock: vec![],
            events: vec![],
            started: vec![],
            failed,
            taint: None,
            tainted: false,
            preemptions: 0,
            ended: false,
            key: 0,
            failures: vec![],
            brought: vec![],
            below: 0,
        }
    }

    pub(super) fn run(mut self) -> Exploration {
        let (state, failures) = State::initial_with(self.prog, self.cfg.policy);
        // Failures before the first step are in every execution: counted as each ends,
        // as a step's are (with state caching, once).
        let by_state = self.cfg.reduction == Reduction::States;
        for f in &failures {
            self.record_failure(f, vec![], by_state);
            let key = self.failure_key(f);
            if !self.initial_failures.contains(&key) {
                self.initial_failures.push(key);
            }
        }
        // The machine says which of them end the execution (a process's does not).
        let failed = state.failed;
        let complete = match self.cfg.search {
            Search::Exhaustive => self.run_exhaustive(state, failed),
            Search::Random { seed } => self.run_sampling(state, failed, seed, None),
            Search::Pct { seed, depth } => self.run_sampling(state, failed, seed, Some(depth)),
        };
        self.stats.complete = complete;
        if by_state {
            self.add_path_races();
        }
        // A failure seen only on a path cut short as redundant: its class is explored
        // elsewhere, where it is counted.
        self.findings.retain(|_, f| f.count > 0);
        self.stats.classes = self.classes.len() as u64;
        self.stats.states = self.states.len() as u64;
        self.stats.elapsed = self.start.elapsed();
        if self.cfg.reduction == Reduction::States && self.cfg.symmetry {
            super::symmetry::spread_lock_order(self.prog, &mut self.lock_order);
        }
        Exploration {
            findings: self.findings.into_values().collect(),
            outcomes: self.outcomes.into_values().collect(),
            stats: self.stats,
            lock_order: self.lock_order,
            lost_writes: self.lost_writes,
            max_steps: self.cfg.max_steps,
        }
    }

    /// The depth-first search; true when it covered everything.
    fn run_exhaustive(&mut self, state: State, failed: bool) -> bool {
        let mut root = self.new_node(state, vec![], failed, WakeupTree::default());
        root.failures = self.initial_failures.clone();
        self.path.push(root);
        self.visit_new();
        self.run_exhaustive_loop()
    }

    /// The depth-first loop over the path, from its current root.
    pub(super) fn run_exhaustive_loop(&mut self) -> bool {
        while !self.path.is_empty() {
            if self.out_of_budget() {
                return false;
            }
            let Some(choice) = self.next_choice() else {
                self.backtrack();
                continue;
            };
            self.take(choice);
            if let Some(pool) = self.pool {
                match pool.delegate(self) {
                    Delegated::No => {}
                    Delegated::Done => continue,
                    Delegated::Stop => return false,
                }
            }
            self.visit_new();
        }
        if self.bounded {
            let b = self.cfg.preemption_bound.unwrap_or(0);
            self.stats.limit = Some(format!(
                "executions with more than {b} preemption(s) were left out by --preemption-bound"
            ));
            return false;
        }
        true
    }

    /// Pops the top node, whose choices are exhausted.
    pub(super) fn backtrack(&mut self) {
        let top = self.path.len() - 1;
        if self.path[top].choice.is_none() {
            // A leaf: the path is at its deepest here.
            self.measure_memory();
        }
        let n = &self.path[top];
        if n.choice.is_none() && !n.ended && self.cfg.reduction == Reduction::Dpor {
            // Cut short: its races still count (see dpor.rs).
            self.reverse_races(top);
        }
        let n = self.path.pop().unwrap();
        if n.key != 0
            && let Some(c) = self.path_keys.get_mut(&n.key)
        {
            *c -= 1;
            if *c == 0 {
                self.path_keys.remove(&n.key);
            }
        }
        if n.choice.is_none() && !n.ended {
            // Every thread that could go on here sleeps (or its wakeup branch
            // cannot run): an execution equivalent to one already explored.
            self.stats.redundant += 1;
        }
    }

    /// Counts the top state among the distinct states, and reports progress now and then.
    pub(super) fn note_state(&mut self) {
        self.states
            .insert(self.path.last().unwrap().state.fingerprint());
        self.progress();
    }

    /// Reports progress, at most every 100 ms.
    pub(super) fn progress(&mut self) {
        if let Some(p) = &self.cfg.progress
            && self.last_progress.elapsed() >= Duration::from_millis(100)
        {
            self.last_progress = Instant::now();
            self.stats.states = self.states.len() as u64;
            self.stats.elapsed = self.start.elapsed();
            (p.0)(&self.stats);
        }
    }

    /// The next choice to explore from the top node, or `None` when it is exhausted.
    pub(super) fn next_choice(&mut self) -> Option<Choice> {
        let split_point = self.path.len() <= self.split_depth.max(self.task_depth);
        let n = self.path.last_mut().unwrap();
        if split_point {
            return None; // the other steps from here are other tasks
        }
        if n.ended {
            // At `max_steps`: a wakeup branch that the node got from its parent goes on past
            // the limit (an insertion that descends past steps it commutes with hangs deeper
            // than the execution it came from), where no execution of the bounded search
            // goes (found by the generated scenarios of memory steps: a race of step 14
            // under `max_steps = 12`, which the naive enumeration never reached).
            return None;
        }
        if let Some(c) = n.choice {
            let alts = n
                .enabled
                .iter()
                .find(|(t, _)| *t == c.thread)
                .map(|e| e.1)
                .unwrap_or(0);
            if c.alt + 1 < alts {
                return Some(Choice {
                    thread: c.thread,
                    alt: c.alt + 1,
                });
            }
            n.done[c.thread as usize] = true;
        }
        // The leftmost pending branch that can still run here; a branch whose first step
        // is disabled or asleep is dropped (see the module docs). The branch stays in the
        // tree until `take` starts it, with the other branches of the same alternative.
        while let Some(b) = n.wakeup.branches().first() {
            let t = b.step.choice.thread;
            let runnable = n.enabled.iter().any(|e| e.0 == t)
                && !n.done[t as usize]
                && !n.sleep.iter().any(|s| s.0 == t);
            if runnable {
                return Some(Choice { thread: t, alt: 0 });
            }
            n.wakeup.drop_first();
        }
        None
    }

    /// Takes `choice` from the top node and pushes the resulting node.
    pub(super) fn take(&mut self, choice: Choice) {
        let prog = self.prog;
        let top = self.path.len() - 1;
        let fp = self.path[top].state.footprint(prog, choice.thread);
        if choice.alt == 0 {
            let n = &mut self.path[top];
            n.explored.push((choice.thread, fp.clone()));
        }
        self.path_locks.truncate(top);
        let mut state = State::clone(&self.path[top].state);
        let out = state.step(prog, choice, false);
        self.stats.steps += 1;
        // Dependency clock of this step (DPOR's alone: dpor.rs reads them).
        let clock = if self.cfg.reduction == Reduction::Dpor {
            self.dep_clock(choice.thread, &fp)
        } else {
            vec![]
        };
        let n = &mut self.path[top];
        n.choice = Some(choice);
        n.fp = fp.clone();
        n.clock = clock;
        n.events = out.events;
        n.started = started_threads(self.nthreads, &n.state, &state);
        let sleep = if self.path[top].brought.contains(&choice.thread) {
            vec![]
        } else {
            self.child_sleep(top, choice.thread, &fp)
        };
        let mut failed = self.path[top].failed;
        let mut failures = self.path[top].failures.clone();
        // A failure after one that ended the execution is not one of its findings.
        let before = &self.path[top].taint;
        let tainted = taint::after_failure(before, choice.thread, &fp);
        // An invariant still false is the failure of the step that made it false: not
        // this step's (its steps after would all seem to come after a failure).
        let stale = out
            .failure
            .as_ref()
            .is_some_and(|f| self.still_false(top, f));
        let ends = !stale && out.failure.as_ref().is_some_and(|f| f.ends_execution(prog));
        let taint = taint::add(
            before,
            choice.thread,
            &fp,
            &self.path[top].started,
            tainted || ends,
        );
        self.path[top].tainted = tainted;
        if let Some(f) = &out.failure
            && !tainted
            && !stale
        {
            self.note_failure(f, &mut failures);
        }
        // A thread's failure ends the execution for the report; a process's does not:
        // the others go on, and may still deadlock or end with an outcome (the machine
        // says which, SCENARIO.md "Verdict kinds").
        failed |= state.failed;
        // The wakeup tree of the child: what the branches starting with this very choice
        // (thread and alternative) hold after it.
        let wakeup = self.path[top].wakeup.take_branches(choice);
        let inherited = self.inherited_sleepers(top, &sleep);
        let mut node = self.new_node(state, sleep, failed, wakeup);
        node.inherited = inherited;
        node.failures = failures;
        node.taint = taint;
        node.preemptions = self.preemptions_after(top, choice.thread);
        if self.cfg.reduction == Reduction::States {
            node.below = self.path_bytes_below(top);
        }
        self.path.push(node);
        self.stats.max_depth = self.stats.max_depth.max(self.path.len() - 1);
    }

    /// The sleep set of the node that a step of `t` with `fp` from node `top` leads to
    /// (sleep sets are kept by `Dpor` and `Sleep` only).
    fn child_sleep(&self, top: usize, t: ThreadId, fp: &Footprint) -> Vec<(ThreadId, Footprint)> {
        let n = &self.path[top];
        // Sleep set of the child: what slept here or was explored here before, if independent.
        let mut sleep: Vec<(ThreadId, Footprint)> = vec![];
        if matches!(self.cfg.reduction, Reduction::Dpor | Reduction::Sleep) {
            for (q, f) in n.sleep.iter().chain(n.explored.iter()) {
                if *q != t && !dependent(f, fp) && !sleep.iter().any(|s| s.0 == *q) {
                    sleep.push((*q, f.clone()));
                }
            }
        }
        sleep
    }

    /// A failure in the step just taken from the top node: recorded, and added to the
    /// path's `failures` (each once) to be counted when the execution ends.
    fn note_failure(&mut self, f: &Failure, failures: &mut Vec<(FindingKind, String)>) {
        // Every failure is recorded, not only the first of an execution: which of two
        // independent failures comes first is not a property of the trace.
        let key = self.failure_key(f);
        // With state caching, each failing step is taken once: count it now.
        let by_state = self.cfg.reduction == Reduction::States;
        if by_state || !failures.contains(&key) {
            // The schedule matters only to a new finding or a shorter one; building it
            // at every step of an invariant that stays false made long executions
            // quadratic. Its length: each node on the path holds the step taken from it
            // (the top's was just set).
            let len = self.path.len();
            debug_assert!(len > 64 || len == self.schedule().len());
            match self.findings.get_mut(&key) {
                Some(e) if e.schedule.len() <= len => e.count += u64::from(by_state),
                _ => self.record_failure(f, self.schedule(), by_state),
            }
        }
        if !failures.contains(&key) {
            failures.push(key);
        }
    }

    /// Whether `f`, a failure after the step from node `top`, is an invariant that was
    /// already false there: not a new failure of this step, whose footprint says nothing
    /// of what made it false (a `[ghost]` write is in none). Made false by a step after a
    /// failure that ended the execution, or by one that failed itself, it is none of the
    /// execution's findings, however independent the steps after it are (found by the
    /// generated scenarios, seed 9312: state caching reported an invariant made false by
    /// two failing `with atomic:` blocks, after a third thread's independent step).
    fn still_false(&self, top: usize, f: &Failure) -> bool {
        f.thread.is_none()
            && self.path[top]
                .state
                .check_invariants(self.prog)
                .is_some_and(|before| before == *f)
    }

    /// The threads of `sleep`, the sleep set of node `top`'s child, that sleep there
    /// because an earlier task of a split search owns their classes (`Node::inherited`).
    fn inherited_sleepers(&self, top: usize, sleep: &[(ThreadId, Footprint)]) -> Vec<ThreadId> {
        let n = &self.path[top];
        sleep
            .iter()
            .map(|s| s.0)
            .filter(|t| {
                // At a split point every sleeper's class is a sibling task's (or above).
                top < self.split_depth || n.inherited.contains(t)
            })
            .collect()
    }

    /// The thread whose step led to node `top` (none at the root).
    fn last_thread(&self, top: usize) -> Option<ThreadId> {
        top.checked_sub(1)
            .map(|i| self.path[i].choice.unwrap().thread)
    }

    /// The preemptions on the path to the node that a step of `t` from node `top` leads to.
    fn preemptions_after(&self, top: usize, t: ThreadId) -> u32 {
        // A preemption: the thread that moved into the top node could have gone on.
        let n = &self.path[top];
        let last = self.last_thread(top);
        n.preemptions
            + u32::from(matches!(last, Some(l) if l != t
                && n.enabled.iter().any(|e| e.0 == l)))
    }

    /// Work on a node just pushed: the DPOR race check, then either end the execution
    /// or seed the node's backtrack set.
    pub(super) fn visit_new(&mut self) {
        self.note_state();
        let top = self.path.len() - 1;
        if self.cfg.reduction == Reduction::States && !self.visit_state(top) {
            return; // explored before: the path stops here
        }
        if self.ends_at(top) {
            self.path[top].ended = true;
            self.end_execution();
            return;
        }
        if !self.path[top].wakeup.is_empty() {
            return; // following a wakeup sequence
        }
        match self.cfg.preemption_bound {
            Some(bound) => self.seed_bounded(top, bound),
            None => self.seed(top),
        }
    }

    /// Whether an execution ends at node `top`: no thread can move, or `max_steps`.
    pub(super) fn ends_at(&self, top: usize) -> bool {
        let n = &self.path[top];
        n.enabled.is_empty() || n.state.steps as u64 >= self.cfg.max_steps
    }

    /// Seeds node `top` with the threads to try there under `Config::preemption_bound`.
    fn seed_bounded(&mut self, top: usize, bound: u32) {
        let prog = self.prog;
        // CHESS's preemption bounding, over the plain enumeration: once the bound is
        // used up, the thread that just moved goes on while it can.
        let last = self.last_thread(top);
        let n = &mut self.path[top];
        let ts: Vec<ThreadId> = n.enabled.iter().map(|e| e.0).collect();
        match last {
            Some(l) if n.preemptions >= bound && ts.contains(&l) => {
                if ts.len() > 1 {
                    self.bounded = true;
                }
                n.add_branch(prog, l);
            }
            _ => {
                for t in ts {
                    n.add_branch(prog, t);
                }
            }
        }
    }

    /// Seeds node `top` with the threads to try there, as the reduction says.
    fn seed(&mut self, top: usize) {
        let prog = self.prog;
        let last = self.last_thread(top);
        let n = &mut self.path[top];
        let awake = |t: &ThreadId| !n.sleep.iter().any(|s| s.0 == *t);
        let order = extension_order(last, &n.enabled);
        let ts: Vec<ThreadId> = match self.cfg.reduction {
            Reduction::None | Reduction::States => order.collect(),
            Reduction::Sleep => order.filter(awake).collect(),
            // One thread: the races of the execution add the others (dpor.rs). None when
            // every enabled thread sleeps (counted as redundant when popped).
            Reduction::Dpor => order.filter(awake).take(1).collect(),
        };
        for t in ts {
            n.add_branch(prog, t);
        }
    }

    /// The top node ends an execution: classify it, detect races, record.
    pub(super) fn end_execution(&mut self) {
        let top = self.path.len() - 1;
        // The analysis of an ended execution goes over all of it.
        self.work += top as u64;
        if self.cfg.reduction == Reduction::Dpor && self.cfg.search == Search::Exhaustive {
            self.reverse_races(top);
        }
        if self.belongs_to_earlier_task(top) {
            self.stats.redundant += 1;
            return;
        }
        self.stats.executions += 1;
        if self.cfg.count_classes {
            let form = canonical_form(&self.path[..top]);
            self.classes.insert(form);
        }
        let schedule = self.schedule();
        let failed = self.path[top].failed;
        if self.path[top].state.steps as u64 >= self.cfg.max_steps {
            self.too_long += 1; // with a failure or not (see `going_round`)
        }
        let by_state = self.cfg.reduction == Reduction::States;
        for key in std::mem::take(&mut self.path[top].failures) {
            if by_state {
                continue;
            }
            match self.findings.get_mut(&key) {
                Some(f) => f.count += 1,
                // A task's execution with a failure in a step above it, which the
                // coordinator recorded.
                None => *self.counted_above.entry(key).or_default() += 1,
            }
        }
        // Races, over the whole execution (with state caching, at each state instead).
        if !by_state {
            self.record_races(top, &schedule);
        }
        self.record_lock_order(top);
        let state = &self.path[top].state;
        self.lost_writes.exceptions(self.prog, state);
        if failed {
            return;
        }
        self.record_ending(top, schedule);
    }

    /// Records the data races of the execution that ends at node `top`, each once.
    fn record_races(&mut self, top: usize, schedule: &[Choice]) {
        let prog = self.prog;
        let mut det = RaceDetector::new(prog);
        for (i, n) in self.path[..top].iter().enumerate() {
            det.step(n.choice.unwrap().thread, i, &n.events);
        }
        let mut seen_here = std::collections::BTreeSet::new();
        for r in std::mem::take(&mut det.races) {
            if self.path[r.second.step].tainted {
                continue; // the execution ended before it (taint.rs)
            }
            let key = race_key(prog, &r);
            if !seen_here.insert(key.clone()) {
                continue; // counted once per execution
            }
            let step = r.second.step;
            self.record_race(r, key, &schedule[..=step]);
        }
    }

    /// Adds the lock acquisitions of the path up to node `top` to the lock-order graph
    /// (see lockorder.rs), and its accesses to the lost writes. State caching does it at
    /// every state seen before, so it feeds each step once while it stays on the path
    /// (`PathLocks`); the others go over the execution.
    pub(super) fn record_lock_order(&mut self, top: usize) {
        let prog = self.prog;
        if self.cfg.reduction == Reduction::States {
            let from = self.path_locks.fed();
            for (i, n) in self.path[from..top].iter().enumerate() {
                let t = n.choice.unwrap().thread;
                let order = &mut self.lock_order;
                self.path_locks.feed(order, prog, &n.state, t, &n.events);
                let copies = &mut self.path_copies;
                self.lost_writes.feed(prog, copies, from + i, t, &n.events);
            }
            return;
        }
        let steps = self.path[..top].iter();
        let steps = steps.map(|n| (&*n.state, n.choice.unwrap().thread, &n.events[..]));
        self.lock_order.execution(prog, steps);
        let steps = self.path[..top].iter();
        let steps = steps.map(|n| (n.choice.unwrap().thread, &n.events[..]));
        self.lost_writes.execution(prog, steps);
    }

    /// Records how the execution `schedule`, which ends at node `top` without a failure
    /// before, ended: its outcome, or the livelock or deadlock it ends in.
    fn record_ending(&mut self, top: usize, schedule: Vec<Choice>) {
        let state = &self.path[top].state;
        let ending = state.ending(self.prog, self.cfg.max_steps);
        match ending {
            None | Some(Ending::Failed) => {}
            Some(Ending::TooLong { message }) => {
                let kind = FindingKind::Livelock;
                self.record(kind, "max_steps".into(), message, schedule, None, true);
            }
            Some(Ending::Finished {
                check,
                values,
                output,
            }) => {
                // A completed execution has an outcome even when a final assertion fails.
                if let Some(f) = check {
                    self.record_failure(&f, schedule.clone(), true);
                }
                self.record_outcome((values, output), schedule);
            }
            Some(Ending::Stuck { kind, key, message }) => {
                self.record(kind, key, message, schedule, None, true);
            }
        }
    }

    /// Counts an execution that ended with `key`, keeping the shortest schedule.
    fn record_outcome(&mut self, key: OutcomeKey, schedule: Vec<Choice>) {
        let e = self
            .outcomes
            .entry(key.clone())
            .or_insert_with(|| RawOutcome {
                values: key.0,
                output: key.1,
                count: 0,
                schedule: schedule.clone(),
            });
        e.count += 1;
        if schedule.len() < e.schedule.len() {
            e.schedule = schedule;
        }
    }
}

/// The enabled threads (`enabled`) in the order a new execution tries them: `last`, the
/// thread that took the last step, first, then the others in declaration order. Any
/// order is sound; this one goes on as a program runs, one thread for as long as it can,
/// so schedules have few switches, and a thread that spins while counting in a local
/// reaches `max_steps` in the first executions that let it spin, instead of after one
/// execution per iteration (docs/explorer.md).
fn extension_order(
    last: Option<ThreadId>,
    enabled: &[(ThreadId, u32)],
) -> impl Iterator<Item = ThreadId> + '_ {
    let first = last.filter(|l| enabled.iter().any(|e| e.0 == *l));
    let rest = enabled
        .iter()
        .map(|e| e.0)
        .filter(move |t| Some(*t) != first);
    first.into_iter().chain(rest)
}

/// Drops the trace of every data race past the first [`SHOWN_PER_KIND`] by key
/// (`Explorer::record_race`); returns the keys of those that keep theirs.
pub(super) fn keep_race_traces(
    findings: &mut BTreeMap<(FindingKind, String), RawFinding>,
) -> std::collections::BTreeSet<String> {
    let races = findings.range_mut((FindingKind::DataRace, String::new())..);
    let mut kept = std::collections::BTreeSet::new();
    for (_, f) in races.take_while(|(k, _)| k.0 == FindingKind::DataRace) {
        if kept.len() < SHOWN_PER_KIND && !f.trace_dropped() {
            kept.insert(f.key.clone());
        } else {
            f.drop_trace();
        }
    }
    kept
}

/// The threads that a step from `before` to `after` started.
fn started_threads(nthreads: usize, before: &State, after: &State) -> Vec<ThreadId> {
    (0..nthreads as ThreadId)
        .filter(|x| {
            before.threads[*x as usize].status == Status::NotStarted
                && after.threads[*x as usize].status != Status::NotStarted
        })
        .collect()
}

/// A race's finding key: the variable and the two accesses' lines and kinds, in order.
pub(super) fn race_key(prog: &Program, r: &Race) -> String {
    let (a, b) = (&r.first, &r.second);
    let var = &prog.vars[prog.var_of_cell(r.cell) as usize].name;
    let rw = |w: bool| if w { "write" } else { "read" };
    let (lo, hi) = if (a.line, a.write) <= (b.line, b.write) {
        (a, b)
    } else {
        (b, a)
    };
    format!(
        "{var}:{}{}:{}{}",
        lo.line,
        rw(lo.write),
        hi.line,
        rw(hi.write)
    )
}

/// The canonical representative of an execution's equivalence class: its steps
/// reordered so that, among the steps whose dependencies have all run, the lowest thread
/// always goes first. Two executions are equivalent exactly when their forms are equal.
///
/// A thread's steps depend on each other, so at most one step of each thread is ready:
/// its next. Each step keeps, per thread, how many of that thread's steps must have run
/// before it (one past its last dependency there), and the form takes the lowest thread
/// whose next step's needs are met. The test suite's naive enumerations call this once per
/// execution; with a ready set and a successor list per step it was a third of their
/// profile (the tests run 5-20% faster with this one).
fn canonical_form(path: &[Node]) -> Vec<Choice> {
    let n = path.len();
    let choice = |i: usize| path[i].choice.expect("a step on the path");
    let mut threads: Vec<ThreadId> = (0..n).map(|i| choice(i).thread).collect();
    threads.sort_unstable();
    threads.dedup();
    let t = threads.len();
    // Per step: its thread (dense) and its place among that thread's steps.
    let mut of = Vec::with_capacity(n);
    let mut steps: Vec<Vec<usize>> = vec![vec![]; t];
    for j in 0..n {
        let u = threads
            .binary_search(&choice(j).thread)
            .expect("a thread of the path");
        of.push((u, steps[u].len() as u32));
        steps[u].push(j);
    }
    // `need[j * t + u]`: how many steps of thread `u` must run before step `j`, found
    // going back from `j`: the first dependency met in a thread is its last there.
    let mut need = vec![0u32; n * t];
    for j in 1..n {
        let need = &mut need[j * t..(j + 1) * t];
        for i in (0..j).rev() {
            let (u, k) = of[i];
            if need[u] <= k && (u == of[j].0 || dependent(&path[i].fp, &path[j].fp)) {
                need[u] = k + 1;
            }
        }
    }
    let mut done = vec![0u32; t];
    let mut form = Vec::with_capacity(n);
    while form.len() < n {
        let ready = (0..t).find(|&u| {
            let next = steps[u].get(done[u] as usize);
            next.is_some_and(|&j| (0..t).all(|v| done[v] >= need[j * t + v]))
        });
        let u = ready.expect("some step is ready: the path is one order of them");
        form.push(choice(steps[u][done[u] as usize]));
        done[u] += 1;
    }
    form
}

/// Whether the paper's model holds for the program, which takes a thread's next step to
/// stay enabled until it is taken: no step may wait or give up, no loop can spin (the
/// spin-loop rule blocks a thread until another writes what it read; a loop that moves a
/// counter every turn cannot, `Instr::LoopHead`), and no thread is started or stopped by
/// another. Then a wakeup leaf that weakly prefixes a new sequence stands for it
/// ([`crate::search::wakeup::AtLeaf::Covers`]), which keeps the wakeup trees small; that
/// matters to the parallel search, whose runs ahead are proved wrong by the branches that
/// the tasks before them add to the tree of their first node (docs/performance.md).
///
/// One kind of waiting is in the model too: a `Lock` taken and released by `with`
/// blocks alone (`Code::scoped`), the mutexes of Nidhugg's optimal DPOR, which are
/// released by the thread that took them. A lock released by another thread is a
/// semaphore, and with those the rule loses classes (readers_writers_no_starvation with
/// `room_empty` a Lock: 228 executions for 232 classes); so it does beside spin loops
/// (`tests/fixtures/regressions/leaf_rule_beside_spin_loops.toml`, 294 executions for
/// 300 classes). There the leaf's continuation can block a thread that the sequence
/// needs.
fn leaf_covers(prog: &Program) -> bool {
    prog.threads.iter().all(|t| {
        let code = &t.code;
        code.instrs.iter().enumerate().all(|(pc, i)| match i {
            Instr::LoopHead { may_spin: true } | Instr::Start { .. } | Instr::Terminate { .. } => {
                false
            }
            Instr::Call { obj, .. } => {
                let first = prog.object_groups[obj.group as usize].first;
                prog.objects[first as usize].kind == ObjKind::Lock
                    && code.scoped.binary_search(&(pc as Pc)).is_ok()
            }
            i => !i.may_wait_or_give_up(),
        })
    })
}

/// May some step of the program wait for another party or give up
/// (`Instr::may_wait_or_give_up`)?
fn may_give_up(prog: &Program) -> bool {
    let code = prog.threads.iter().map(|t| &t.code);
    code.flat_map(|c| &c.instrs)
        .any(|i| i.may_wait_or_give_up())
}
