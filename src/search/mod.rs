//! The explorer: runs the machine over every interleaving that matters and collects
//! findings and outcomes.
//!
//! The exhaustive searches share one loop ([`Reduction`]): `None`, a naive depth-first
//! enumeration of every choice at every state, and `Sleep`, sleep sets alone (the
//! references the tests compare against); `States`, state caching; and `Dpor`, optimal
//! dynamic partial-order reduction (Abdulla et al., POPL 2014 and JACM 2017): sleep sets,
//! and wakeup trees ([`crate::search::wakeup`]) that hold, for each state on the path, the
//! sequences of steps that reverse the races found below it, so that every Mazurkiewicz
//! class of executions is explored once and (almost) no execution is started only to be
//! blocked by its sleep set. `Dpor` can also be split over worker threads
//! (`explore_split`). Random walks and PCT sample instead ([`Search`]).
//!
//! Races are looked for when an execution ends (or is cut short), over the whole of it:
//! every step taken, and every unfinished thread's next step at the end, enabled or not
//! (a blocked lock acquisition races with the acquisition that took the lock, which is
//! how a lock-order deadlock is reached). Each race is reversed with ODPOR's sequence
//! `notdep(e).p` over the whole execution, unless a thread asleep at that state is a weak
//! initial of it. Blocking operations, which the theory leaves out, need three more
//! rules, each found missing by the tests against sleep sets alone (see
//! tests/differential.rs):
//! - a step ordered before p's only through a race whose reversal cannot run (p's
//!   acquisition before the release of what it acquires) still races with p's step;
//! - a reversal that cannot run as it stands falls back to source-DPOR's rule (try an
//!   initial of it, or every awake thread);
//! - a wakeup leaf that weakly prefixes a new sequence is followed by the rest of it
//!   ([`crate::search::wakeup`]).
//!
//! A wakeup branch whose next step is disabled or asleep when the search reaches it is
//! dropped; the blocked executions that are left are counted as cut short.
//!
//! Dependency is the machine's [`Touch`](crate::machine::Touch) relation: two steps of
//! different threads conflict when they access the same cell and one writes, or act on
//! the same object or thread. Alternatives within one step (the value of a `choose`, the
//! waiters a `notify` wakes) are all explored wherever the thread is; each alternative has
//! its own wakeup branches.
//!
//! A failed assertion or error is reported with the trace that ends in it, but the
//! failing thread is only stopped and the others go on (as in Python, where an exception
//! ends only its thread), so that the reduction still sees every conflict it needs; every
//! failure in an execution is reported (which of two independent failures happens first
//! is not a property of the trace), but no deadlock or outcome after one.

pub mod shorten;
pub mod wakeup;

use crate::detect::lockorder::LockOrder;
use crate::detect::races::{Race, RaceDetector};
use crate::ir::{FindingKind, Value};
use crate::ir::{Program, ThreadId};
use crate::machine::{
    Choice, Ending, Event, Failure, Footprint, Policy, State, Status, Touch, dependent,
};
use crate::search::wakeup::{WakeNode, WakeStep, WakeupTree, initial, weak_initial};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How much of the interleaving space to explore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// Every choice at every state.
    None,
    /// Dynamic partial-order reduction with sleep sets.
    Dpor,
    /// Sleep sets alone (Godefroid): every thread that is awake is tried at every state.
    /// One execution per class too, by a much simpler argument than DPOR's, but with
    /// many executions cut short: the reference that the tests check DPOR against where
    /// the plain enumeration is too slow.
    Sleep,
    /// State caching: every distinct state is explored once (with every thread tried at
    /// it), and a path that reaches a state already explored stops there. Races are the
    /// pairs of conflicting accesses that are both next at some state
    /// ([`crate::detect::races::races_at`]). Exhaustive, and far smaller where many orders lead to
    /// the same states (counters under a lock, spin loops); but it counts states, not
    /// executions: `executions` are the distinct final states, and a finding's count is
    /// the number of distinct states or steps where it was seen.
    States,
}

/// Which executions to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// Every class of executions (depth-first, with `Config::reduction`).
    Exhaustive,
    /// Random walks: at each step, a thread (and alternative) picked uniformly, from a
    /// seeded generator.
    Random { seed: u64 },
    /// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): random thread
    /// priorities, the highest-priority enabled thread runs, and at `depth - 1` random
    /// steps the running thread drops below all others. Finds every bug of depth `depth`
    /// with probability at least 1/(n k^(depth-1)) per execution.
    Pct { seed: u64, depth: u32 },
}

/// Called now and then during a long search with the statistics so far (for a progress
/// display; the library itself never prints).
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(&Stats) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// Limits and search options (the CLI builds it from flags and `[limits]`).
#[derive(Clone, Debug)]
pub struct Config {
    pub max_steps: u64,
    /// The exhaustive search stops after this many executions; the sampling searches run
    /// this many (1000 when unset).
    pub max_executions: Option<u64>,
    pub timeout: Option<Duration>,
    pub reduction: Reduction,
    pub search: Search,
    /// Exhaustive search only: explore only executions with at most this many
    /// preemptions (switches away from a thread that could have gone on), as CHESS does.
    /// The search is then incomplete when the bound cut anything off.
    pub preemption_bound: Option<u32>,
    pub progress: Option<Progress>,
    /// Exhaustive DPOR only: split the search into tasks over this many worker threads
    /// (see `explore_split`); the result does not depend on the number (with
    /// `max_executions`, the limit applies to each task).
    pub jobs: Option<usize>,
    /// With `jobs`: split only a search that needs more than this many executions (a
    /// smaller one runs alone, as the single search).
    pub split_after: u64,
    /// Count the equivalence classes of the executions explored (`Stats::classes`): a
    /// check on the reduction, for tests; costs memory for every execution.
    pub count_classes: bool,
    /// The semantics core's policies (tests run the explorer with the engines' too).
    pub policy: Policy,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_steps: 10_000,
            max_executions: None,
            timeout: None,
            reduction: Reduction::Dpor,
            search: Search::Exhaustive,
            preemption_bound: None,
            progress: None,
            jobs: None,
            count_classes: false,
            split_after: 500,
            policy: Policy::default(),
        }
    }
}

/// A finding as the explorer saw it: enough to group it and to replay it.
#[derive(Clone, Debug)]
pub struct RawFinding {
    pub kind: FindingKind,
    /// Findings with the same key are the same bug.
    pub key: String,
    pub message: String,
    pub schedule: Vec<Choice>,
    /// For a data race: both accesses.
    pub race: Option<Race>,
    /// Executions in which it was found.
    pub count: u64,
}

/// One observed final outcome.
#[derive(Clone, Debug)]
pub struct RawOutcome {
    pub values: Vec<Value>,
    pub count: u64,
    pub schedule: Vec<Choice>,
}

#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub executions: u64,
    /// Executions cut short because every enabled thread was asleep (redundant).
    pub redundant: u64,
    pub steps: u64,
    /// Distinct states reached (by hash).
    pub states: u64,
    pub max_depth: usize,
    pub complete: bool,
    /// Which limit stopped the search, if one did.
    pub limit: Option<String>,
    pub elapsed: Duration,
    /// With `Config::count_classes`: how many Mazurkiewicz classes the explored
    /// executions fall into (an optimal reduction explores exactly one execution each).
    pub classes: u64,
}

/// Everything an exploration found.
#[derive(Clone, Debug, Default)]
pub struct Exploration {
    pub findings: Vec<RawFinding>,
    pub outcomes: Vec<RawOutcome>,
    pub stats: Stats,
    /// The lock-order graph over every explored execution.
    pub lock_order: LockOrder,
}

struct Node {
    state: State,
    enabled: Vec<(ThreadId, u32)>,
    /// Pending branches to explore from here (optimal DPOR's wakeup tree).
    wakeup: WakeupTree,
    done: Vec<bool>,
    /// Threads explored here, in order, with their footprints (for sleep sets).
    explored: Vec<(ThreadId, Footprint)>,
    sleep: Vec<(ThreadId, Footprint)>,
    /// In a split search, the threads of `sleep` that sleep because an earlier subtree
    /// starts with them (see `explore_split`).
    inherited: Vec<ThreadId>,
    /// The choice being explored from this node.
    choice: Option<Choice>,
    /// The step taken from this node: its footprint, dependency clock, thread step index.
    fp: Footprint,
    clock: Vec<u32>,
    events: Vec<Event>,
    /// Threads that the step taken from this node started.
    started: Vec<ThreadId>,
    /// The first failure on the path up to and including this node's state.
    failed: bool,
    /// Preemptions on the path to this node (for `Config::preemption_bound`).
    preemptions: u32,
    /// An execution ended here.
    ended: bool,
    /// The failures on the path to this node, each once (counted when the execution
    /// ends: an invariant that stays false fails again at every step).
    failures: Vec<(FindingKind, String)>,
}

/// What one subtree of a split search found, before merging.
struct Part {
    findings: BTreeMap<(FindingKind, String), RawFinding>,
    outcomes: BTreeMap<Vec<Value>, RawOutcome>,
    stats: Stats,
    classes: std::collections::BTreeSet<Vec<Choice>>,
    states: std::collections::HashSet<u64>,
    lock_order: LockOrder,
}

/// One task of a split search: a path prefix whose every node is a split point. At a
/// split point every thread that is awake gets a task of its own (each alternative of a
/// `choose` too); the threads of the earlier siblings sleep in the later ones.
struct Task {
    prefix: Vec<Choice>,
    /// For each node of the prefix, the threads of the sibling tasks that come before.
    before: Vec<Vec<ThreadId>>,
}

/// How many tasks a split search aims at (a fixed number: the result must not depend on
/// the number of workers), and how deep it splits at most to get them.
const SPLIT_TASKS: usize = 32;
const SPLIT_DEPTH: usize = 8;

/// The search split into tasks: the first steps are enumerated in full (with sleep sets)
/// down to a fixed depth, and below every prefix a DPOR search runs on its own. Tasks run
/// on `jobs` worker threads and are merged in depth-first order, so that the result does
/// not depend on `jobs`.
///
/// A task's search treats the threads that sleep because a sibling task starts with them
/// as the owners of their classes (`Node::inherited`): a race reversal that such a thread
/// can start is left to its task, and one that it merely commutes with is explored here.
/// Race reversals at the split points themselves belong to the sibling tasks and are
/// dropped. The differential tests check that this explores exactly one execution per
/// class, as the single search does; an execution whose class an earlier task owns would
/// be skipped (`belongs_to_earlier_task`).
///
/// `start`: when the whole search began (its time limit and elapsed time count from
/// there).
fn explore_split(prog: &Program, cfg: &Config, jobs: usize, start: Instant) -> Exploration {
    let (state, failures) = State::initial_with(prog, cfg.policy);
    if !failures.is_empty() {
        return Explorer::new(prog, cfg).run();
    }
    let tasks = split_tasks(prog, cfg, &state);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let parts: std::sync::Mutex<Vec<Option<Part>>> =
        std::sync::Mutex::new((0..tasks.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(tasks.len()) {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if k >= tasks.len() {
                        break;
                    }
                    // A time limit is for the whole search.
                    let mut ex = Explorer::new(prog, cfg);
                    ex.start = start;
                    let part = ex.run_task(&state, &tasks[k]);
                    parts.lock().unwrap_or_else(|e| e.into_inner())[k] = Some(part);
                }
            });
        }
    });
    let parts = parts.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut findings: BTreeMap<(FindingKind, String), RawFinding> = BTreeMap::new();
    let mut outcomes: BTreeMap<Vec<Value>, RawOutcome> = BTreeMap::new();
    let mut stats = Stats {
        complete: true,
        ..Stats::default()
    };
    let mut classes = std::collections::BTreeSet::new();
    let mut states = std::collections::HashSet::new();
    let mut lock_order = LockOrder::default();
    for part in parts.into_iter().flatten() {
        for (k, f) in part.findings {
            match findings.get_mut(&k) {
                None => {
                    findings.insert(k, f);
                }
                Some(e) => {
                    e.count += f.count;
                    if f.schedule.len() < e.schedule.len() {
                        e.schedule = f.schedule;
                        e.message = f.message;
                        e.race = f.race;
                    }
                }
            }
        }
        for (k, o) in part.outcomes {
            match outcomes.get_mut(&k) {
                None => {
                    outcomes.insert(k, o);
                }
                Some(e) => {
                    e.count += o.count;
                    if o.schedule.len() < e.schedule.len() {
                        e.schedule = o.schedule;
                    }
                }
            }
        }
        let s = part.stats;
        stats.executions += s.executions;
        stats.redundant += s.redundant;
        stats.steps += s.steps;
        stats.max_depth = stats.max_depth.max(s.max_depth);
        stats.complete &= s.complete;
        if stats.limit.is_none() {
            stats.limit = s.limit;
        }
        classes.extend(part.classes);
        states.extend(part.states);
        for (edge, sites) in part.lock_order.edges {
            lock_order.edges.entry(edge).or_default().extend(sites);
        }
    }
    // A finding seen only in executions that other subtrees keep has no count here.
    findings.retain(|_, f| f.count > 0);
    stats.classes = classes.len() as u64;
    stats.states = states.len() as u64;
    stats.elapsed = start.elapsed();
    Exploration {
        findings: findings.into_values().collect(),
        outcomes: outcomes.into_values().collect(),
        stats,
        lock_order,
    }
}

/// The tasks of a split search, in depth-first order: split points are expanded level by
/// level until there are `SPLIT_TASKS` tasks or `SPLIT_DEPTH` levels.
fn split_tasks(prog: &Program, cfg: &Config, state: &State) -> Vec<Task> {
    let mut tasks = vec![Task {
        prefix: vec![],
        before: vec![],
    }];
    for depth in 0..SPLIT_DEPTH {
        if tasks.len() >= SPLIT_TASKS {
            break;
        }
        let mut next = vec![];
        let mut grew = false;
        for task in tasks {
            let awake = if task.prefix.len() < depth {
                vec![] // ended above
            } else {
                let mut ex = Explorer::new(prog, cfg);
                ex.push_prefix(state, &task);
                let n = ex.path.last().unwrap();
                if n.state.steps as u64 >= cfg.max_steps {
                    vec![]
                } else {
                    let sleeps = |t: &ThreadId| n.sleep.iter().any(|s| s.0 == *t);
                    n.enabled
                        .iter()
                        .filter(|e| !sleeps(&e.0))
                        .copied()
                        .collect::<Vec<_>>()
                }
            };
            if awake.is_empty() {
                next.push(task);
                continue;
            }
            grew = true;
            for (k, &(t, alts)) in awake.iter().enumerate() {
                for alt in 0..alts {
                    let mut prefix = task.prefix.clone();
                    prefix.push(Choice { thread: t, alt });
                    let mut before = task.before.clone();
                    before.push(awake[..k].iter().map(|e| e.0).collect());
                    next.push(Task { prefix, before });
                }
            }
        }
        tasks = next;
        if !grew {
            break;
        }
    }
    tasks
}

impl Node {
    /// Adds a one-step wakeup branch: thread `t` moves next (first alternative).
    fn add_branch(&mut self, prog: &Program, t: ThreadId) {
        let fp = self.state.footprint(prog, t);
        self.wakeup.branches.push(WakeNode {
            step: WakeStep {
                choice: Choice { thread: t, alt: 0 },
                fp,
            },
            children: vec![],
        });
    }
}

/// Explores `prog` under `cfg`.
pub fn explore(prog: &Program, cfg: &Config) -> Exploration {
    if cfg.preemption_bound.is_some() && cfg.reduction != Reduction::None {
        // Bounding prunes the tree that the reduction's correctness argument relies on:
        // the bounded search enumerates plainly.
        let plain = Config {
            reduction: Reduction::None,
            ..cfg.clone()
        };
        return Explorer::new(prog, &plain).run();
    }
    if let Some(jobs) = cfg.jobs
        && cfg.search == Search::Exhaustive
        && cfg.reduction == Reduction::Dpor
    {
        // A small search is not worth splitting (the split's first steps cost about what
        // a second core saves): it runs alone, and its result is the single search's.
        let after = cfg.split_after;
        let start = Instant::now();
        if after > 0 {
            let first = Config {
                max_executions: Some(cfg.max_executions.map_or(after, |m| m.min(after))),
                ..cfg.clone()
            };
            let alone = Explorer::new(prog, &first).run();
            let limited_by_user = cfg.max_executions.is_some_and(|m| m <= after);
            let timed_out = cfg.timeout.is_some_and(|t| alone.stats.elapsed >= t);
            if alone.stats.complete || limited_by_user || timed_out {
                return alone;
            }
        }
        return explore_split(prog, cfg, jobs.max(1), start);
    }
    Explorer::new(prog, cfg).run()
}

struct Explorer<'p> {
    prog: &'p Program,
    cfg: &'p Config,
    path: Vec<Node>,
    findings: BTreeMap<(FindingKind, String), RawFinding>,
    outcomes: BTreeMap<Vec<Value>, RawOutcome>,
    stats: Stats,
    lock_order: LockOrder,
    start: Instant,
    nthreads: usize,
    classes: std::collections::BTreeSet<Vec<Choice>>,
    states: std::collections::HashSet<u64>,
    /// `Reduction::States`: the states explored, without their step counters, and whether
    /// a failure came before (no outcome or deadlock is reported after one).
    visited: std::collections::HashSet<(State, bool)>,
    /// Set when the preemption bound left some executions out.
    bounded: bool,
    /// Exploring one task of a split search: the nodes above this index are its prefix
    /// (split points), and `split_before` holds, for each, the threads of the sibling
    /// tasks that come before (an execution whose class one of them can start belongs to
    /// that task, and is skipped here).
    split_depth: usize,
    split_before: Vec<Vec<ThreadId>>,
    last_progress: Instant,
}

impl<'p> Explorer<'p> {
    fn new(prog: &'p Program, cfg: &'p Config) -> Self {
        Explorer {
            prog,
            cfg,
            path: vec![],
            findings: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            stats: Stats::default(),
            lock_order: LockOrder::default(),
            start: Instant::now(),
            nthreads: prog.threads.len(),
            classes: std::collections::BTreeSet::new(),
            states: std::collections::HashSet::new(),
            visited: std::collections::HashSet::new(),
            bounded: false,
            split_depth: 0,
            split_before: vec![],
            last_progress: Instant::now(),
        }
    }

    fn schedule(&self) -> Vec<Choice> {
        self.path.iter().filter_map(|n| n.choice).collect()
    }

    fn record(
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

    /// Records a failure; `count`: count this execution for it now (a failure in a step
    /// is counted when its execution ends, once however often it recurs, see `take`).
    /// Returns the finding's key.
    /// Failures are grouped by place and kind of error, not by the values in the message.
    fn failure_key(&self, f: &Failure) -> (FindingKind, String) {
        let head = f.message.split(':').next().unwrap_or("");
        let detail = if f.kind == FindingKind::Assertion {
            f.message.as_str()
        } else {
            ""
        };
        (f.kind, format!("{}:{head}:{detail}", f.line))
    }

    /// Records a data race found in the execution `schedule` (which ends with its second
    /// access), and counts it.
    fn record_race(&mut self, r: Race, schedule: Vec<Choice>) {
        let prog = self.prog;
        let (a, b) = (&r.first, &r.second);
        let rw = |w: bool| if w { "write" } else { "read" };
        let message = format!(
            "data race on {}: {} by {} (line {}) and {} by {} (line {}) are not ordered by happens-before",
            prog.cell_name(r.cell),
            rw(a.write),
            prog.threads[a.thread as usize].name,
            a.line,
            rw(b.write),
            prog.threads[b.thread as usize].name,
            b.line
        );
        let key = race_key(prog, &r);
        self.record(FindingKind::DataRace, key, message, schedule, Some(r), true);
    }

    /// Records a failure; `count`: count this execution for it now (a failure in a step
    /// is counted when its execution ends, once however often it recurs, see `take`).
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
        let paths = match self.cfg.reduction {
            Reduction::States => self.stats.executions + self.stats.redundant,
            _ => self.stats.executions,
        };
        if let Some(max) = self.cfg.max_executions
            && paths >= max
        {
            self.stats.limit = Some(format!("stopped after --max-executions {max}"));
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

    fn new_node(
        &self,
        state: State,
        sleep: Vec<(ThreadId, Footprint)>,
        failed: bool,
        wakeup: WakeupTree,
    ) -> Node {
        let enabled = state.enabled(self.prog);
        Node {
            state,
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
            preemptions: 0,
            ended: false,
            failures: vec![],
        }
    }

    /// Builds the path of a split-search task's prefix.
    fn push_prefix(&mut self, state: &State, task: &Task) {
        self.split_depth = task.prefix.len();
        self.split_before = task.before.clone();
        let root = self.new_node(state.clone(), vec![], false, WakeupTree::default());
        self.path.push(root);
        self.note_state();
        for (l, c) in task.prefix.iter().enumerate() {
            let n = &mut self.path[l];
            for q in &task.before[l] {
                let fp = n.state.footprint(self.prog, *q);
                n.explored.push((*q, fp));
                n.done[*q as usize] = true;
            }
            self.take(*c);
            self.note_state();
        }
    }

    /// One task of a split search: the DPOR search below its prefix.
    fn run_task(mut self, state: &State, task: &Task) -> Part {
        self.push_prefix(state, task);
        // No race check at the prefix's nodes: it would only reverse races at split
        // points, which belong to the sibling tasks.
        self.visit_new();
        self.stats.complete = self.run_exhaustive_loop();
        Part {
            findings: self.findings,
            outcomes: self.outcomes,
            stats: self.stats,
            classes: self.classes,
            states: self.states,
            lock_order: self.lock_order,
        }
    }

    /// In a split search: whether a thread of an earlier sibling task at some split point
    /// can start the rest of the execution on the path from there (its step there depends
    /// on no step before it), so that the earlier task explores the class.
    fn belongs_to_earlier_task(&self, top: usize) -> bool {
        self.split_before.iter().enumerate().any(|(l, before)| {
            let steps = &self.path[l..top];
            before.iter().any(|t| {
                steps
                    .iter()
                    .position(|n| n.choice.unwrap().thread == *t)
                    .is_some_and(|m| !steps[..m].iter().any(|n| dependent(&n.fp, &steps[m].fp)))
            })
        })
    }

    fn run(mut self) -> Exploration {
        let (state, failures) = State::initial_with(self.prog, self.cfg.policy);
        for f in &failures {
            self.record_failure(f, vec![], true);
            self.stats.executions = 1;
        }
        let failed = !failures.is_empty();
        let complete = match self.cfg.search {
            Search::Exhaustive => self.run_exhaustive(state, failed),
            Search::Random { seed } => self.run_sampling(state, failed, seed, None),
            Search::Pct { seed, depth } => self.run_sampling(state, failed, seed, Some(depth)),
        };
        self.stats.complete = complete;
        // A failure seen only on a path cut short as redundant: its class is explored
        // elsewhere, where it is counted.
        self.findings.retain(|_, f| f.count > 0);
        self.stats.classes = self.classes.len() as u64;
        self.stats.states = self.states.len() as u64;
        self.stats.elapsed = self.start.elapsed();
        Exploration {
            findings: self.findings.into_values().collect(),
            outcomes: self.outcomes.into_values().collect(),
            stats: self.stats,
            lock_order: self.lock_order,
        }
    }

    /// The depth-first search; true when it covered everything.
    fn run_exhaustive(&mut self, state: State, failed: bool) -> bool {
        let root = self.new_node(state, vec![], failed, WakeupTree::default());
        self.path.push(root);
        self.visit_new();
        self.run_exhaustive_loop()
    }

    /// The depth-first loop over the path, from its current root.
    fn run_exhaustive_loop(&mut self) -> bool {
        while !self.path.is_empty() {
            if self.out_of_budget() {
                return false;
            }
            let Some(choice) = self.next_choice() else {
                let top = self.path.len() - 1;
                let n = &self.path[top];
                if n.choice.is_none() && !n.ended && self.cfg.reduction == Reduction::Dpor {
                    // Cut short: its races still count (see the module docs).
                    self.reverse_races(top);
                }
                let n = self.path.pop().unwrap();
                if n.choice.is_none() && !n.ended {
                    // Every thread that could go on here sleeps (or its wakeup branch
                    // cannot run): an execution equivalent to one already explored.
                    self.stats.redundant += 1;
                }
                continue;
            };
            self.take(choice);
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

    /// Random walks or PCT: `max_executions` (default 1000) executions from the initial
    /// state, each choice drawn from a generator seeded with `seed`. Never complete.
    fn run_sampling(&mut self, state: State, failed: bool, seed: u64, depth: Option<u32>) -> bool {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let runs = self.cfg.max_executions.unwrap_or(1000);
        // PCT needs an estimate of the number of steps: the longest execution so far.
        let mut longest = 1u64;
        for _ in 0..runs {
            if let Some(t) = self.cfg.timeout
                && self.start.elapsed() >= t
            {
                self.stats.limit = Some(format!(
                    "stopped at the --timeout of {} s after {} sampled executions",
                    t.as_secs(),
                    self.stats.executions
                ));
                return false;
            }
            self.path.clear();
            let root = self.new_node(state.clone(), vec![], failed, WakeupTree::default());
            self.path.push(root);
            // PCT: thread priorities (higher runs first) from d upwards, and d - 1 change
            // points among the first `longest` steps.
            let n = self.nthreads;
            let d = depth.unwrap_or(1).max(1);
            let mut prio: Vec<u64> = (0..n as u64).map(|i| i + d as u64).collect();
            for i in (1..n).rev() {
                prio.swap(i, rng.random_range(0..=i));
            }
            let changes: Vec<u64> = (1..d).map(|_| rng.random_range(1..=longest)).collect();
            loop {
                let top = self.path.last().unwrap();
                if top.enabled.is_empty() || top.state.steps as u64 >= self.cfg.max_steps {
                    longest = longest.max(self.path.len() as u64);
                    self.end_execution();
                    break;
                }
                let enabled = top.enabled.clone();
                let step = self.path.len() as u64;
                let (thread, alts) = match depth {
                    None => enabled[rng.random_range(0..enabled.len())],
                    Some(_) => {
                        let best = |prio: &[u64]| {
                            *enabled
                                .iter()
                                .max_by_key(|(t, _)| prio[*t as usize])
                                .unwrap()
                        };
                        if let Some(k) = changes.iter().position(|c| *c == step) {
                            let (t, _) = best(&prio);
                            prio[t as usize] = k as u64; // below every initial priority
                        }
                        best(&prio)
                    }
                };
                let alt = if alts > 1 {
                    rng.random_range(0..alts)
                } else {
                    0
                };
                self.take(Choice { thread, alt });
                self.note_state();
            }
        }
        let what = match depth {
            None => "random walks".to_string(),
            Some(d) => format!("PCT with depth {d}"),
        };
        self.stats.limit = Some(format!(
            "{what}, seed {seed}: a sample, not every execution"
        ));
        false
    }

    /// Counts the top state among the distinct states, and reports progress now and then.
    fn note_state(&mut self) {
        self.states
            .insert(self.path.last().unwrap().state.fingerprint());
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
    fn next_choice(&mut self) -> Option<Choice> {
        let split_point = self.path.len() <= self.split_depth;
        let n = self.path.last_mut().unwrap();
        if split_point {
            return None; // the other steps from here are other tasks
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
        while let Some(b) = n.wakeup.branches.first() {
            let t = b.step.choice.thread;
            let runnable = n.enabled.iter().any(|e| e.0 == t)
                && !n.done[t as usize]
                && !n.sleep.iter().any(|s| s.0 == t);
            if runnable {
                return Some(Choice { thread: t, alt: 0 });
            }
            n.wakeup.branches.remove(0);
        }
        None
    }

    /// Takes `choice` from the top node and pushes the resulting node.
    fn take(&mut self, choice: Choice) {
        let prog = self.prog;
        let top = self.path.len() - 1;
        let fp = self.path[top].state.footprint(prog, choice.thread);
        if choice.alt == 0 {
            let n = &mut self.path[top];
            n.explored.push((choice.thread, fp.clone()));
        }
        let mut state = self.path[top].state.clone();
        let out = state.step(prog, choice, false);
        self.stats.steps += 1;
        // Dependency clock of this step.
        let clock = self.dep_clock(choice.thread, &fp);
        let n = &mut self.path[top];
        n.choice = Some(choice);
        n.fp = fp.clone();
        n.clock = clock;
        n.events = out.events;
        n.started = (0..self.nthreads as ThreadId)
            .filter(|x| {
                n.state.threads[*x as usize].status == Status::NotStarted
                    && state.threads[*x as usize].status != Status::NotStarted
            })
            .collect();
        let was_failed = n.failed;
        // Sleep set of the child: what slept here or was explored here before, if independent.
        let mut sleep: Vec<(ThreadId, Footprint)> = vec![];
        if matches!(self.cfg.reduction, Reduction::Dpor | Reduction::Sleep) {
            for (t, f) in n.sleep.iter().chain(n.explored.iter()) {
                if *t != choice.thread && !dependent(f, &fp) && !sleep.iter().any(|s| s.0 == *t) {
                    sleep.push((*t, f.clone()));
                }
            }
        }
        let mut failed = was_failed;
        let mut failures = self.path[top].failures.clone();
        if let Some(f) = &out.failure {
            // Every failure is recorded, not only the first of an execution: which of two
            // independent failures comes first is not a property of the trace.
            let schedule = self.schedule();
            let key = self.failure_key(f);
            // With state caching, each failing step is taken once: count it now.
            let by_state = self.cfg.reduction == Reduction::States;
            if by_state || !failures.contains(&key) {
                self.record_failure(f, schedule, by_state);
            }
            if !failures.contains(&key) {
                failures.push(key);
            }
            failed = true;
        }
        // The wakeup tree of the child: what the branches starting with this very choice
        // (thread and alternative) hold after it.
        let wakeup = self.path[top].wakeup.take_branches(choice);
        let n = &self.path[top];
        let inherited: Vec<ThreadId> = sleep
            .iter()
            .map(|s| s.0)
            .filter(|t| {
                // At a split point every sleeper's class is a sibling task's (or above).
                top < self.split_depth || n.inherited.contains(t)
            })
            .collect();
        let mut node = self.new_node(state, sleep, failed, wakeup);
        node.inherited = inherited;
        node.failures = failures;
        // A preemption: the thread that moved into the top node could have gone on.
        let n = &self.path[top];
        let last = top
            .checked_sub(1)
            .map(|i| self.path[i].choice.unwrap().thread);
        node.preemptions = n.preemptions
            + u32::from(matches!(last, Some(l) if l != choice.thread
                && n.enabled.iter().any(|e| e.0 == l)));
        self.path.push(node);
        self.stats.max_depth = self.stats.max_depth.max(self.path.len() - 1);
    }

    /// The dependency (happens-before over conflicts) clock of a step by `t` with `fp`
    /// taken from the top node.
    fn dep_clock(&self, t: ThreadId, fp: &Footprint) -> Vec<u32> {
        let mut c = self.thread_clock(t, self.path.len() - 1);
        for n in &self.path[..self.path.len() - 1] {
            let q = n.choice.unwrap().thread;
            if q != t && dependent(&n.fp, fp) {
                for (a, b) in c.iter_mut().zip(&n.clock) {
                    *a = (*a).max(*b);
                }
            }
        }
        c[t as usize] += 1;
        c
    }

    /// The clock of thread `t` before node `upto`: its last step's, else the clock of the
    /// step that started it, else zero.
    fn thread_clock(&self, t: ThreadId, upto: usize) -> Vec<u32> {
        for n in self.path[..upto].iter().rev() {
            if n.choice.unwrap().thread == t {
                return n.clock.clone();
            }
            if n.started.contains(&t) {
                let mut c = n.clock.clone();
                c[t as usize] = 0;
                return c;
            }
        }
        vec![0; self.nthreads]
    }

    /// Work on a node just pushed: the DPOR race check, then either end the execution
    /// or seed the node's backtrack set.
    fn visit_new(&mut self) {
        self.note_state();
        let top = self.path.len() - 1;
        if self.cfg.reduction == Reduction::States && !self.visit_state(top) {
            return; // explored before: the path stops here
        }
        let n = &self.path[top];
        let steps = n.state.steps as u64;
        if n.enabled.is_empty() || steps >= self.cfg.max_steps {
            self.path[top].ended = true;
            self.end_execution();
            return;
        }
        let n = &mut self.path[top];
        if !n.wakeup.is_empty() {
            return; // following a wakeup sequence
        }
        let prog = self.prog;
        let seed = |t: ThreadId, n: &mut Node| n.add_branch(prog, t);
        if let Some(bound) = self.cfg.preemption_bound {
            // CHESS's preemption bounding, over the plain enumeration: once the bound is
            // used up, the thread that just moved goes on while it can.
            let last = top
                .checked_sub(1)
                .map(|i| self.path[i].choice.unwrap().thread);
            let n = &mut self.path[top];
            let ts: Vec<ThreadId> = n.enabled.iter().map(|e| e.0).collect();
            match last {
                Some(l) if n.preemptions >= bound && ts.contains(&l) => {
                    if ts.len() > 1 {
                        self.bounded = true;
                    }
                    seed(l, n);
                }
                _ => {
                    for t in ts {
                        seed(t, n);
                    }
                }
            }
            return;
        }
        let n = &mut self.path[top];
        match self.cfg.reduction {
            Reduction::None | Reduction::States => {
                let ts: Vec<ThreadId> = n.enabled.iter().map(|e| e.0).collect();
                for t in ts {
                    seed(t, n);
                }
            }
            Reduction::Sleep => {
                let ts: Vec<ThreadId> = n.enabled.iter().map(|e| e.0).collect();
                for t in ts {
                    if !n.sleep.iter().any(|s| s.0 == t) {
                        seed(t, n);
                    }
                }
            }
            Reduction::Dpor => {
                let first = n
                    .enabled
                    .iter()
                    .map(|e| e.0)
                    .find(|t| !n.sleep.iter().any(|s| s.0 == *t));
                // None: every enabled thread sleeps (counted as redundant when popped).
                if let Some(t) = first {
                    seed(t, n);
                }
            }
        }
    }

    /// State caching: false when the state at node `top` was explored before (its lock
    /// acquisitions still go into the lock-order graph). Else records the races at it.
    fn visit_state(&mut self, top: usize) -> bool {
        let n = &self.path[top];
        let mut key = n.state.clone();
        key.steps = 0;
        for t in &mut key.threads {
            t.steps = 0;
        }
        if !self.visited.insert((key, n.failed)) {
            let steps = self.path[..top].iter();
            let steps = steps.map(|n| (&n.state, n.choice.unwrap().thread, &n.events[..]));
            self.lock_order.execution(self.prog, steps);
            return false;
        }
        let races = crate::detect::races::races_at(self.prog, &n.state, &n.enabled, top);
        for r in races {
            let mut schedule = self.schedule();
            for a in [&r.first, &r.second] {
                schedule.push(Choice {
                    thread: a.thread,
                    alt: 0,
                });
            }
            self.record_race(r, schedule);
        }
        true
    }

    /// Optimal DPOR's race detection over the execution on the path, which ends at node
    /// `end` (Abdulla et al., JACM 2017, run at the end of every execution): every step
    /// taken, and every unfinished thread's next step at the end (a blocked acquisition
    /// races with the acquisition that took the lock, which is how a deadlock is
    /// reached), is checked against the steps before it; each race is reversed.
    fn reverse_races(&mut self, end: usize) {
        let prog = self.prog;
        let mut steps: Vec<(usize, ThreadId, Footprint)> = (0..end)
            .map(|k| {
                (
                    k,
                    self.path[k].choice.unwrap().thread,
                    self.path[k].fp.clone(),
                )
            })
            .collect();
        for p in 0..self.nthreads as ThreadId {
            let status = &self.path[end].state.threads[p as usize].status;
            if matches!(status, Status::NotStarted | Status::Finished) {
                continue;
            }
            let fp = self.path[end].state.footprint(prog, p);
            if !fp.is_empty() {
                steps.push((end, p, fp));
            }
        }
        for (k, p, fp) in steps {
            let pclock = self.thread_clock(p, k);
            for i in self.races_with(k, end, p, &fp, &pclock) {
                self.reverse(i, end, p, &fp, pclock[p as usize]);
            }
        }
    }

    /// The steps that race with `p`'s step with `fp` taken at node `k` (or pending there,
    /// when `k` is the end): dependent, of another thread, not ordered before it through
    /// p's history (`pclock`, its clock before the step) nor through a later racing step
    /// whose reversal can run. A step ordered only before a race whose reversal blocks
    /// (p's acquisition cannot come before the release of what it acquires) still races
    /// with p: p's step can come before it, and that execution is a class of its own (p
    /// blocks the other thread, or deadlocks with it).
    fn races_with(
        &self,
        k: usize,
        end: usize,
        p: ThreadId,
        fp: &Footprint,
        pclock: &[u32],
    ) -> Vec<usize> {
        let mut found: Vec<(usize, Option<bool>)> = vec![];
        for i in (0..k).rev() {
            let n = &self.path[i];
            let c = n.choice.unwrap();
            if c.thread == p || !dependent(&n.fp, fp) {
                continue;
            }
            let q = c.thread as usize;
            if pclock[q] >= n.clock[q] {
                continue; // happens before p
            }
            let mut shadowed = false;
            for f in found.iter_mut() {
                let j = f.0;
                if self.path[j].clock[q] < n.clock[q] {
                    continue;
                }
                let runs = *f.1.get_or_insert_with(|| {
                    let v = self.reversal(j, end, p, fp, pclock[p as usize]);
                    self.runnable_prefix(j, &v) == v.len()
                });
                if runs {
                    shadowed = true; // happens before a later reversible race
                    break;
                }
            }
            if !shadowed {
                found.push((i, None));
            }
        }
        found.into_iter().map(|f| f.0).collect()
    }

    /// Optimal DPOR's reversal of a race (Abdulla et al., JACM 2017): the step at node `i`
    /// races with `p`'s next step. The reversed order is `v`: the steps after node `i`
    /// that do not happen after it, then `p`'s step. Unless a thread that sleeps at node
    /// `i` (or was explored there) is a weak initial of `v`, which means an equivalent
    /// execution is or will be explored, `v` goes into node `i`'s wakeup tree.
    fn reverse(&mut self, i: usize, end: usize, p: ThreadId, fp: &Footprint, p_before: u32) {
        let v = self.reversal(i, end, p, fp, p_before);
        let n = &self.path[i];
        if n.sleep
            .iter()
            .filter(|(q, _)| !n.inherited.contains(q))
            .chain(n.explored.iter())
            .any(|(q, f)| weak_initial(&v, *q, f))
        {
            return;
        }
        // In a split search: a thread that sleeps because an earlier subtree starts with it
        // and that can start `v` makes `v`'s class that subtree's.
        if n.inherited.iter().any(|q| initial(&v, *q)) {
            return;
        }
        // A wakeup branch must be executable: a leaf stands for "explore this, then
        // anything", and covers the sequences it weakly prefixes. The race was found with
        // a step that may be blocked (a lock acquisition), so run `v` from node `i`'s
        // state and keep what can run.
        if self.runnable_prefix(i, &v) == v.len() {
            self.path[i].wakeup.insert(v);
            return;
        }
        // `v` cannot run as it stands (a step in it is blocked): fall back to source-DPOR's
        // rule (Abdulla et al., POPL 2014). Unless a thread that can start `v` was or will
        // be tried here, try one: `p` if it can, else another initial of `v`, else every
        // thread that is awake here.
        let initials: Vec<ThreadId> = {
            let mut seen: Vec<ThreadId> = vec![];
            let mut out = vec![];
            for (k, s) in v.iter().enumerate() {
                let t = s.choice.thread;
                if seen.contains(&t) {
                    continue;
                }
                seen.push(t);
                if !v[..k].iter().any(|x| dependent(&x.fp, &s.fp)) {
                    out.push(t);
                }
            }
            out
        };
        let prog = self.prog;
        let n = &mut self.path[i];
        let tried = |q: &ThreadId| {
            n.explored.iter().any(|e| e.0 == *q)
                || n.wakeup.branches.iter().any(|b| b.step.choice.thread == *q)
        };
        if initials.iter().any(tried) {
            return;
        }
        let awake = |q: &ThreadId| {
            n.enabled.iter().any(|e| e.0 == *q)
                && !n.done[*q as usize]
                && !n.sleep.iter().any(|s| s.0 == *q)
        };
        let picks: Vec<ThreadId> = if initials.contains(&p) && awake(&p) {
            vec![p]
        } else if let Some(q) = initials.iter().copied().find(awake) {
            vec![q]
        } else {
            n.enabled.iter().map(|e| e.0).filter(awake).collect()
        };
        for t in picks {
            n.add_branch(prog, t);
        }
    }

    /// The reversal of the race between the step at node `i` and `p`'s step with `fp`,
    /// p's step number `p_before` (counting from 0), in the execution that ends at node
    /// `end`: `notdep(e).p`, the steps of the whole execution after node `i` that do not
    /// happen after it (nor after p's step), then p's step.
    fn reversal(
        &self,
        i: usize,
        end: usize,
        p: ThreadId,
        fp: &Footprint,
        p_before: u32,
    ) -> Vec<WakeStep> {
        let e = self.path[i].choice.unwrap().thread as usize;
        let e_index = self.path[i].clock[e];
        let mut v: Vec<WakeStep> = vec![];
        for n in &self.path[i + 1..end] {
            if n.clock[e] < e_index && n.clock[p as usize] <= p_before {
                v.push(WakeStep {
                    choice: n.choice.unwrap(),
                    fp: n.fp.clone(),
                });
            }
        }
        v.push(WakeStep {
            choice: Choice { thread: p, alt: 0 },
            fp: fp.clone(),
        });
        v
    }

    /// How many steps of `v` can run one after the other from node `i`'s state.
    fn runnable_prefix(&self, i: usize, v: &[WakeStep]) -> usize {
        // Only operations on objects and threads block; steps that touch nothing else
        // stay enabled in a reordering that keeps their dependencies (cheap and common).
        let may_block = |s: &WakeStep| {
            s.fp.iter()
                .any(|t| matches!(t, Touch::Obj(_) | Touch::Thread(_) | Touch::Round { .. }))
        };
        if !v.iter().any(may_block) {
            return v.len();
        }
        let prog = self.prog;
        let mut state = self.path[i].state.clone();
        for (k, s) in v.iter().enumerate() {
            let t = s.choice.thread;
            if s.choice.alt >= state.alternatives(prog, t) {
                return k;
            }
            if k + 1 == v.len() {
                break; // no need to run the last one
            }
            state.step(prog, s.choice, false);
        }
        v.len()
    }

    /// The top node ends an execution: classify it, detect races, record.
    fn end_execution(&mut self) {
        let prog = self.prog;
        let top = self.path.len() - 1;
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
        let by_state = self.cfg.reduction == Reduction::States;
        for key in std::mem::take(&mut self.path[top].failures) {
            if let Some(f) = self.findings.get_mut(&key)
                && !by_state
            {
                f.count += 1;
            }
        }
        // Races, over the whole execution (with state caching, at each state instead).
        if !by_state {
            let mut det = RaceDetector::new(prog);
            for (i, n) in self.path[..top].iter().enumerate() {
                det.step(n.choice.unwrap().thread, i, &n.events);
            }
            let mut seen_here = std::collections::BTreeSet::new();
            for r in std::mem::take(&mut det.races) {
                let key = race_key(prog, &r);
                if !seen_here.insert(key) {
                    continue; // counted once per execution
                }
                let sched = schedule[..=r.second.step].to_vec();
                self.record_race(r, sched);
            }
        }
        // The lock-order graph (see lockorder.rs).
        let steps = self.path[..top].iter();
        let steps = steps.map(|n| (&n.state, n.choice.unwrap().thread, &n.events[..]));
        self.lock_order.execution(prog, steps);
        if failed {
            return;
        }
        let state = &self.path[top].state;
        let ending = state.ending(prog, self.cfg.max_steps);
        match ending {
            None | Some(Ending::Failed) => {}
            Some(Ending::TooLong { message }) => {
                let kind = FindingKind::Livelock;
                self.record(kind, "max_steps".into(), message, schedule, None, true);
            }
            Some(Ending::Finished { check, values }) => {
                // A completed execution has an outcome even when a final assertion fails.
                if let Some(f) = check {
                    self.record_failure(&f, schedule.clone(), true);
                }
                let e = self
                    .outcomes
                    .entry(values.clone())
                    .or_insert_with(|| RawOutcome {
                        values,
                        count: 0,
                        schedule: schedule.clone(),
                    });
                e.count += 1;
                if schedule.len() < e.schedule.len() {
                    e.schedule = schedule;
                }
            }
            Some(Ending::Stuck { kind, key, message }) => {
                self.record(kind, key, message, schedule, None, true);
            }
        }
    }
}

/// A race's finding key: the variable and the two accesses' lines and kinds, in order.
fn race_key(prog: &Program, r: &Race) -> String {
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
fn canonical_form(path: &[Node]) -> Vec<Choice> {
    let n = path.len();
    let mut preds = vec![0usize; n];
    let mut succs: Vec<Vec<usize>> = vec![vec![]; n];
    for j in 0..n {
        let cj = path[j].choice.unwrap();
        for i in 0..j {
            let ci = path[i].choice.unwrap();
            if ci.thread == cj.thread || dependent(&path[i].fp, &path[j].fp) {
                preds[j] += 1;
                succs[i].push(j);
            }
        }
    }
    let mut ready: std::collections::BTreeSet<(ThreadId, usize)> = (0..n)
        .filter(|j| preds[*j] == 0)
        .map(|j| (path[j].choice.unwrap().thread, j))
        .collect();
    let mut form = Vec::with_capacity(n);
    while let Some((_, i)) = ready.pop_first() {
        form.push(path[i].choice.unwrap());
        for &j in &succs[i] {
            preds[j] -= 1;
            if preds[j] == 0 {
                ready.insert((path[j].choice.unwrap().thread, j));
            }
        }
    }
    form
}

/// Formats a schedule: comma-separated thread indices, `t/a` for alternative `a`, and
/// `t*n` for `n` repeats of the same choice.
pub fn format_schedule(s: &[Choice]) -> String {
    let mut out: Vec<String> = vec![];
    let mut i = 0;
    while i < s.len() {
        let mut j = i + 1;
        while j < s.len() && s[j] == s[i] {
            j += 1;
        }
        let mut tok = s[i].thread.to_string();
        if s[i].alt != 0 {
            tok.push_str(&format!("/{}", s[i].alt));
        }
        if j - i > 1 {
            tok.push_str(&format!("*{}", j - i));
        }
        out.push(tok);
        i = j;
    }
    out.join(",")
}

/// Parses a schedule written by [`format_schedule`].
pub fn parse_schedule(text: &str) -> Result<Vec<Choice>, String> {
    let mut out = vec![];
    for tok in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (choice, rep) = match tok.split_once('*') {
            Some((c, n)) => (
                c,
                n.parse::<usize>()
                    .map_err(|_| format!("bad repeat count in `{tok}`"))?,
            ),
            None => (tok, 1),
        };
        let (t, a) = match choice.split_once('/') {
            Some((t, a)) => (
                t,
                a.parse::<u32>()
                    .map_err(|_| format!("bad alternative in `{tok}`"))?,
            ),
            None => (choice, 0),
        };
        let thread = t
            .parse::<u32>()
            .map_err(|_| format!("bad thread number in `{tok}`"))?;
        if rep > 1_000_000 {
            return Err(format!("repeat count too large in `{tok}`"));
        }
        out.extend(std::iter::repeat_n(Choice { thread, alt: a }, rep));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_round_trip() {
        let s = vec![
            Choice { thread: 0, alt: 0 },
            Choice { thread: 0, alt: 0 },
            Choice { thread: 1, alt: 2 },
            Choice { thread: 2, alt: 0 },
        ];
        let text = format_schedule(&s);
        assert_eq!(text, "0*2,1/2,2");
        assert_eq!(parse_schedule(&text).unwrap(), s);
        assert!(parse_schedule("x").is_err());
        assert_eq!(parse_schedule("").unwrap(), vec![]);
    }
}

/// One step of a replayed execution, for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    pub thread: ThreadId,
    pub line: u32,
    pub op: String,
    /// What the step printed.
    pub output: Vec<String>,
    /// What the step did, for the detectors.
    pub events: Vec<Event>,
}

/// A replayed execution: its steps and how it ended.
#[derive(Clone, Debug)]
pub struct Replay {
    pub steps: Vec<TraceStep>,
    /// The first failure (assertion, error) with the step it happened in (`None`: before
    /// the first step).
    pub failure: Option<(Option<usize>, Failure)>,
    pub state: State,
}

/// Replays `schedule` step by step with trace lines. Fails if a choice is not possible.
pub fn replay(prog: &Program, schedule: &[Choice]) -> Result<Replay, String> {
    let (mut state, f0) = State::initial(prog);
    let mut failure = f0.into_iter().next().map(|f| (None, f));
    let mut steps = vec![];
    for (i, c) in schedule.iter().enumerate() {
        if c.thread as usize >= prog.threads.len() {
            return Err(format!(
                "step {}: there is no thread {} (threads are 0..{})",
                i + 1,
                c.thread,
                prog.threads.len() - 1
            ));
        }
        let alts = state.alternatives(prog, c.thread);
        if alts == 0 {
            return Err(format!(
                "step {}: {} cannot move in this state",
                i + 1,
                prog.threads[c.thread as usize].name
            ));
        }
        if c.alt >= alts {
            return Err(format!(
                "step {}: {} has {} alternative(s), not {}",
                i + 1,
                prog.threads[c.thread as usize].name,
                alts,
                c.alt + 1
            ));
        }
        let out = state.step(prog, *c, true);
        steps.push(TraceStep {
            thread: c.thread,
            line: out.line,
            op: out.text.unwrap_or_default(),
            output: out.prints,
            events: out.events,
        });
        if let Some(f) = out.failure
            && failure.is_none()
        {
            failure = Some((Some(i), f));
        }
    }
    Ok(Replay {
        steps,
        failure,
        state,
    })
}
