//! The DPOR search split into fixed tasks, for `run --partition` (shares on machines that
//! do not talk to each other; `--jobs` on one machine runs the exact parallel search of
//! parallel.rs instead): the first steps are enumerated in full (with sleep sets) down to
//! a fixed depth, and below every prefix a DPOR search runs on its own. A share's tasks
//! run on `jobs` worker threads, and the shares' parts are merged in depth-first order, so
//! that the result does not depend on the partition or on `jobs`.
//!
//! A task's search treats the threads that sleep because a sibling task starts with them
//! as the owners of their classes (`Node::inherited`): a race reversal that such a thread
//! can start is left to its task, and one that it merely commutes with is explored here.
//! Race reversals at the split points themselves belong to the sibling tasks and are
//! dropped. The differential tests check that this explores exactly one execution per
//! class, as the single search does; an execution whose class an earlier task owns would
//! be skipped (`belongs_to_earlier_task`).
//!
//! The limits of the whole search (`max_executions`, the step budget) count across the
//! tasks in their order, as in one process that runs them one after another: a share
//! runs each task from no work, and the merge runs again the task that crosses a limit
//! from the work before it ([`merge_tasks`]), as the exact parallel search does with a
//! task run ahead (parallel.rs).
//!
//! Pinned by tests/scale/run.rs: the merged shares do not depend on the partition, and
//! they have the single search's executions, findings and outcomes; a limit stops them
//! after the one run's executions.

use crate::detect::lockorder::LockOrder;
use crate::detect::lost_writes::LostWrites;
use crate::ir::{FindingKind, Program, ThreadId};
use crate::machine::{Choice, Footprint, Future, State, Status, dependent};
use crate::search::explorer::{Explorer, keep_race_traces};
use crate::search::format_schedule;
use crate::search::wakeup::WakeupTree;
use crate::search::{Config, Exploration, OutcomeKey, RawFinding, RawOutcome, Stats};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// What one subtree found, before merging: a task of a split search, or of the parallel
/// search (parallel.rs).
pub(super) struct Part {
    findings: BTreeMap<(FindingKind, String), RawFinding>,
    outcomes: BTreeMap<OutcomeKey, RawOutcome>,
    pub(super) stats: Stats,
    classes: std::collections::BTreeSet<Vec<Choice>>,
    states: std::collections::HashSet<u64>,
    lock_order: LockOrder,
    lost_writes: LostWrites,
}

/// One task of a split search: a path prefix whose every node is a split point. At a
/// split point every thread that is awake gets a task of its own (each alternative of a
/// `choose` too); the threads of the earlier siblings sleep in the later ones.
#[derive(Clone)]
struct Task {
    prefix: Vec<Choice>,
    /// For each node of the prefix, the threads of the sibling tasks that come before.
    before: Vec<Vec<ThreadId>>,
}

/// How many tasks a split search aims at (a fixed number: the result must not depend on
/// the number of workers), and how deep it splits at most to get them.
const SPLIT_TASKS: usize = 32;
const SPLIT_DEPTH: usize = 8;

/// What one share of a partitioned split search found (`simrace run --partition`).
#[derive(Debug, Serialize, Deserialize)]
pub enum ShareResult {
    /// The search was not split: the whole search (each share has it).
    Alone(Box<Exploration>),
    /// The split search's tasks: every task's name (its prefix, as a schedule), and the
    /// results of this share's tasks.
    Tasks {
        tasks: Vec<String>,
        results: Vec<TaskResult>,
    },
}

/// One task's part of a split search, as a share carries it.
#[derive(Debug, Serialize, Deserialize)]
pub struct TaskResult {
    pub task: usize,
    findings: Vec<RawFinding>,
    outcomes: Vec<RawOutcome>,
    stats: Stats,
    classes: Vec<Vec<Choice>>,
    states: Vec<u64>,
    lock_order: LockOrder,
    lost_writes: LostWrites,
    /// What the task's search cost for the step budget (`Explorer::work`).
    work: u64,
}

/// The tasks of the split search that `select` picks, run on `jobs` workers.
pub(super) fn explore_share(
    prog: &Program,
    cfg: &Config,
    jobs: usize,
    start: Instant,
    select: &dyn Fn(usize, &str) -> bool,
) -> ShareResult {
    let (state, failures) = State::initial_with(prog, cfg.policy);
    if !failures.is_empty() {
        return ShareResult::Alone(Box::new(Explorer::new(prog, cfg).run()));
    }
    let tasks = split_tasks(prog, cfg, &state);
    let names: Vec<String> = tasks.iter().map(|t| format_schedule(&t.prefix)).collect();
    let mine: Vec<usize> = (0..tasks.len()).filter(|&k| select(k, &names[k])).collect();
    let picked: Vec<Task> = mine.iter().map(|&k| tasks[k].clone()).collect();
    let parts = run_tasks(prog, cfg, jobs, start, &state, &picked);
    let results = mine
        .iter()
        .zip(parts)
        .map(|(&k, p)| {
            let (part, work) = p.expect("every task ran");
            part.into_result(k, work)
        })
        .collect();
    ShareResult::Tasks {
        tasks: names,
        results,
    }
}

/// The exploration that the shares of a partitioned search of `prog` under `cfg` make
/// together: the whole search when it was not split, else the tasks' parts merged in
/// the tasks' order, as one process that runs the tasks one after another under one
/// budget would find them (see [`merge_tasks`]). `Err` when the shares disagree on the
/// tasks, or a task is missing or given twice.
pub fn merge_shares(
    prog: &Program,
    cfg: &Config,
    shares: Vec<ShareResult>,
) -> Result<Exploration, String> {
    let mut names: Option<Vec<String>> = None;
    let mut slots: Vec<Option<TaskResult>> = vec![];
    let mut alone = None;
    for share in shares {
        match share {
            ShareResult::Alone(ex) => alone = Some(*ex),
            ShareResult::Tasks { tasks, results } => {
                if names.as_ref().is_some_and(|n| *n != tasks) {
                    return Err("the shares split the search into different tasks".into());
                }
                slots.resize_with(tasks.len(), || None);
                names = Some(tasks);
                for r in results {
                    let k = r.task;
                    if k >= slots.len() || slots[k].is_some() {
                        return Err(format!("task {k} is out of place or given twice"));
                    }
                    slots[k] = Some(r);
                }
            }
        }
    }
    match (alone, names) {
        (Some(ex), None) => Ok(ex),
        (None, Some(names)) => merge_tasks(prog, cfg, &names, slots),
        _ => Err("some shares split the search and others did not".into()),
    }
}

/// The tasks' parts merged in order, as one process that runs them one after another
/// would find them, with the limits that count (`max_executions`, the step budget) for
/// the whole search: each task counts from the work of the tasks before it. A share ran
/// every task from no work; where the work before a task leaves its result within the
/// limits, the result stands, and where it does not, the task is run again here from
/// that work, and it stops at the limit, as the one process would (at most the limit's
/// worth of work). The merge ends with the first task that did not finish: the one
/// process stops there.
fn merge_tasks(
    prog: &Program,
    cfg: &Config,
    names: &[String],
    slots: Vec<Option<TaskResult>>,
) -> Result<Exploration, String> {
    let mut merged = Part::empty();
    let mut elapsed = Duration::ZERO;
    let mut bases = (0, 0);
    for (k, r) in slots.into_iter().enumerate() {
        let r = r.ok_or_else(|| format!("no share holds task {k}"))?;
        let (part, work) = if bases == (0, 0) || within(cfg, bases, &r.stats, r.work) {
            let work = r.work;
            (Part::from_result(r), work)
        } else {
            rerun_task(prog, cfg, names, k, bases)?
        };
        bases = (
            bases.0 + part.stats.executions,
            bases.1 + part.stats.steps + work,
        );
        elapsed = elapsed.max(part.stats.elapsed);
        let stop = !part.stats.complete;
        merged.merge(part);
        if stop {
            break;
        }
    }
    Ok(merged.into_exploration(elapsed, cfg.max_steps))
}

/// Whether a subtree's search that ran `stats` and cost `work` from no work before it
/// stays within the limits of the whole search after `bases` (executions, work) of it:
/// then it runs the same after them.
pub(super) fn within(cfg: &Config, bases: (u64, u64), stats: &Stats, work: u64) -> bool {
    let under = |x: u64, limit: Option<u64>| limit.is_none_or(|m| x < m);
    under(bases.0 + stats.executions, cfg.max_executions)
        && under(bases.1 + stats.steps + work, cfg.step_budget)
}

/// Task `k` of the split search run here, after `bases` of work.
fn rerun_task(
    prog: &Program,
    cfg: &Config,
    names: &[String],
    k: usize,
    bases: (u64, u64),
) -> Result<(Part, u64), String> {
    let (state, _) = State::initial_with(prog, cfg.policy);
    let tasks = split_tasks(prog, cfg, &state);
    let same = tasks.len() == names.len()
        && tasks
            .iter()
            .zip(names)
            .all(|(t, n)| format_schedule(&t.prefix) == *n);
    if !same {
        return Err("the shares split the search into other tasks than this simrace does".into());
    }
    let mut ex = Explorer::new(prog, cfg);
    (ex.exec_base, ex.work_base) = bases;
    Ok(ex.run_task(&state, &tasks[k]))
}

/// Runs `tasks` from `state` on `jobs` worker threads; their parts, in the tasks' order.
fn run_tasks(
    prog: &Program,
    cfg: &Config,
    jobs: usize,
    start: Instant,
    state: &State,
    tasks: &[Task],
) -> Vec<Option<(Part, u64)>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let parts: std::sync::Mutex<Vec<Option<(Part, u64)>>> =
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
                    let part = ex.run_task(state, &tasks[k]);
                    parts.lock().unwrap_or_else(|e| e.into_inner())[k] = Some(part);
                }
            });
        }
    });
    parts.into_inner().unwrap_or_else(|e| e.into_inner())
}

impl Part {
    /// The merge of no parts.
    fn empty() -> Part {
        Part {
            findings: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            stats: Stats {
                complete: true,
                ..Stats::default()
            },
            classes: std::collections::BTreeSet::new(),
            states: std::collections::HashSet::new(),
            lock_order: LockOrder::default(),
            lost_writes: LostWrites::default(),
        }
    }

    /// What the search `ex` found, taken out of it.
    pub(super) fn take(ex: &mut Explorer) -> Part {
        Part {
            findings: std::mem::take(&mut ex.findings),
            outcomes: std::mem::take(&mut ex.outcomes),
            stats: std::mem::take(&mut ex.stats),
            classes: std::mem::take(&mut ex.classes),
            states: std::mem::take(&mut ex.states),
            lock_order: std::mem::take(&mut ex.lock_order),
            lost_writes: std::mem::take(&mut ex.lost_writes),
        }
    }

    /// Merges the next part into the search `ex`, as if `ex` had explored it.
    pub(super) fn merge_into(self, ex: &mut Explorer) {
        let mut all = Part::take(ex);
        ex.race_traces = all.merge(self);
        let Part {
            findings,
            outcomes,
            stats,
            classes,
            states,
            lock_order,
            lost_writes,
        } = all;
        (ex.findings, ex.outcomes, ex.stats, ex.classes) = (findings, outcomes, stats, classes);
        (ex.states, ex.lock_order, ex.lost_writes) = (states, lock_order, lost_writes);
    }

    /// Merges in the next part, in depth-first order: counts add up, and a finding or
    /// outcome keeps the first of its shortest schedules. Returns the keys of the data
    /// races that keep their trace (`keep_race_traces`).
    fn merge(&mut self, part: Part) -> BTreeSet<String> {
        merge_findings(&mut self.findings, part.findings);
        let race_traces = keep_race_traces(&mut self.findings);
        merge_outcomes(&mut self.outcomes, part.outcomes);
        merge_stats(&mut self.stats, part.stats);
        self.classes.extend(part.classes);
        self.states.extend(part.states);
        self.lock_order.merge(part.lock_order);
        self.lost_writes.merge(part.lost_writes);
        race_traces
    }

    /// As a share carries it, for task `task`, whose search cost `work`.
    fn into_result(self, task: usize, work: u64) -> TaskResult {
        let mut states: Vec<u64> = self.states.into_iter().collect();
        states.sort_unstable();
        TaskResult {
            task,
            findings: self.findings.into_values().collect(),
            outcomes: self.outcomes.into_values().collect(),
            stats: self.stats,
            classes: self.classes.into_iter().collect(),
            states,
            lock_order: self.lock_order,
            lost_writes: self.lost_writes,
            work,
        }
    }

    fn from_result(r: TaskResult) -> Part {
        Part {
            findings: r
                .findings
                .into_iter()
                .map(|f| ((f.kind, f.key.clone()), f))
                .collect(),
            outcomes: r
                .outcomes
                .into_iter()
                .map(|o| ((o.values.clone(), o.output.clone()), o))
                .collect(),
            stats: r.stats,
            classes: r.classes.into_iter().collect(),
            states: r.states.into_iter().collect(),
            lock_order: r.lock_order,
            lost_writes: r.lost_writes,
        }
    }

    /// The exploration that the merged parts make, for a search that took `elapsed` with
    /// at most `max_steps` steps in an execution.
    fn into_exploration(mut self, elapsed: Duration, max_steps: u64) -> Exploration {
        // A finding seen only in executions that other subtrees keep has no count here.
        self.findings.retain(|_, f| f.count > 0);
        self.stats.classes = self.classes.len() as u64;
        self.stats.states = self.states.len() as u64;
        self.stats.elapsed = elapsed;
        Exploration {
            findings: self.findings.into_values().collect(),
            outcomes: self.outcomes.into_values().collect(),
            stats: self.stats,
            lock_order: self.lock_order,
            lost_writes: self.lost_writes,
            max_steps,
        }
    }
}

fn merge_findings(
    findings: &mut BTreeMap<(FindingKind, String), RawFinding>,
    more: BTreeMap<(FindingKind, String), RawFinding>,
) {
    for (k, f) in more {
        match findings.get_mut(&k) {
            None => {
                findings.insert(k, f);
            }
            Some(e) => {
                e.count += f.count;
                // A race whose trace either part dropped is past the ones shown.
                let dropped = e.trace_dropped() || f.trace_dropped();
                if !dropped && f.schedule.len() < e.schedule.len() {
                    e.schedule = f.schedule;
                    e.message = f.message;
                    e.race = f.race;
                }
            }
        }
    }
}

fn merge_outcomes(
    outcomes: &mut BTreeMap<OutcomeKey, RawOutcome>,
    more: BTreeMap<OutcomeKey, RawOutcome>,
) {
    for (k, o) in more {
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
}

fn merge_stats(stats: &mut Stats, s: Stats) {
    stats.executions += s.executions;
    stats.redundant += s.redundant;
    stats.steps += s.steps;
    stats.max_depth = stats.max_depth.max(s.max_depth);
    stats.peak_memory = stats.peak_memory.max(s.peak_memory);
    stats.complete &= s.complete;
    stats.interrupted |= s.interrupted;
    if stats.limit.is_none() {
        stats.limit = s.limit;
    }
}

/// The tasks of a split search, in depth-first order: split points are expanded level by
/// level until there are `SPLIT_TASKS` tasks or `SPLIT_DEPTH` levels.
fn split_tasks(prog: &Program, cfg: &Config, state: &State) -> Vec<Task> {
    let mut tasks = vec![Task {
        prefix: vec![],
        before: vec![],
    }];
    let mut futures = Futures::default();
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
                    let child = Task { prefix, before };
                    if !holds_nothing(prog, cfg, state, &child, &mut futures) {
                        next.push(child);
                    }
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

/// Whether every execution of `task` is an earlier task's, as seen from the end of its
/// prefix: some threads sleep there because earlier sibling tasks start with them, and no
/// other party can still take a step that depends on one of their next steps
/// (machine/future.rs), so none of them ever wakes (a sleeper moves only once woken); and
/// the others cannot take an execution to `max_steps` (an execution cut there before the
/// sleepers move would be this task's). Such a task is left out of the split: it would
/// explore all its executions only to find each blocked at its end.
fn holds_nothing(
    prog: &Program,
    cfg: &Config,
    state: &State,
    task: &Task,
    cache: &mut Futures,
) -> bool {
    let mut ex = Explorer::new(prog, cfg);
    ex.push_prefix(state, task);
    let n = ex.path.last().expect("the prefix's path has a root");
    let st = &n.state;
    let mut asleep: Vec<&(ThreadId, Footprint)> = n
        .sleep
        .iter()
        .filter(|s| n.inherited.contains(&s.0))
        .collect();
    let live: Vec<ThreadId> = (0..st.threads.len() as ThreadId)
        .filter(|&u| {
            !matches!(
                st.threads[u as usize].status,
                Status::NotStarted | Status::Finished
            )
        })
        .collect();
    // The sleepers that no party outside them can wake, as a greatest fixed point: one
    // that a party outside can wake may move, and wake the others.
    while !asleep.is_empty() {
        let outside: Vec<ThreadId> = live
            .iter()
            .copied()
            .filter(|u| !asleep.iter().any(|s| s.0 == *u))
            .collect();
        let futures = outside_futures(prog, st, &outside, cache);
        let before = asleep.len();
        asleep.retain(|(_, fp)| {
            !futures
                .iter()
                .any(|(u, f)| dependent(fp, &st.footprint(prog, *u)) || f.may_touch(fp))
        });
        if asleep.len() == before {
            let steps = futures.iter().map(|(_, f)| f.steps());
            let total = steps.sum::<Option<u64>>();
            return total.is_some_and(|t| (st.steps as u64).saturating_add(t) < cfg.max_steps);
        }
    }
    false
}

/// The futures of the parties `outside` (the sleepers do not move), where a cell that none
/// of them can write keeps its value: lastzero's scan stops at a zero that only a sleeper
/// would overwrite. Computed again with the cells the last round left unwritten until
/// they stay the same (only for the parties that read one of them: the others' run is
/// the same), and used only where no party writes a cell that it read as kept.
fn outside_futures(
    prog: &Program,
    st: &State,
    outside: &[ThreadId],
    cache: &mut Futures,
) -> Vec<(ThreadId, Rc<Future>)> {
    let base: Vec<(ThreadId, Rc<Future>)> = outside
        .iter()
        .map(|&u| (u, cache.of(prog, st, u)))
        .collect();
    let written = |fs: &[(ThreadId, Rc<Future>)]| -> Option<HashSet<u32>> {
        let mut all = HashSet::new();
        for (_, f) in fs {
            all.extend(f.writes()?);
        }
        Some(all)
    };
    let mut futures = base.clone();
    for _ in 0..FROZEN_ROUNDS {
        let Some(w) = written(&futures) else { break };
        let kept = |cell: u32| !w.contains(&cell);
        let next: Vec<(ThreadId, Rc<Future>)> = base
            .iter()
            .map(|(u, f)| match f.reads_any(&kept) {
                true => (*u, Rc::new(st.future(prog, *u, &kept))),
                false => (*u, f.clone()),
            })
            .collect();
        match written(&next) {
            Some(again) if again.is_subset(&w) => {
                futures = next;
                if again == w {
                    break;
                }
            }
            _ => break,
        }
    }
    futures
}

/// The futures with no cell kept, by party, program counter and locals (all that they
/// depend on for the split's questions): the prefixes of many tasks leave a party where
/// others left it.
#[derive(Default)]
struct Futures(HashMap<PartyAt, Rc<Future>>);

/// A party, its program counter and its locals.
type PartyAt = (ThreadId, u32, Vec<Option<crate::ir::Value>>);

impl Futures {
    fn of(&mut self, prog: &Program, st: &State, u: ThreadId) -> Rc<Future> {
        let th = &st.threads[u as usize];
        if th.dying || th.caught.is_some() {
            return Rc::new(st.future(prog, u, &|_| false));
        }
        let key = (u, th.pc, th.locals.clone());
        self.0
            .entry(key)
            .or_insert_with(|| Rc::new(st.future(prog, u, &|_| false)))
            .clone()
    }
}

/// At most how many times [`outside_futures`] computes the futures again.
const FROZEN_ROUNDS: usize = 4;

impl Explorer<'_> {
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

    /// One task of a split search: the DPOR search below its prefix; what it found, and
    /// what it cost for the step budget.
    fn run_task(mut self, state: &State, task: &Task) -> (Part, u64) {
        self.push_prefix(state, task);
        // No race check at the prefix's nodes: it would only reverse races at split
        // points, which belong to the sibling tasks.
        self.visit_new();
        self.stats.complete = self.run_exhaustive_loop();
        (Part::take(&mut self), self.work)
    }

    /// In a split search: whether a thread of an earlier sibling task at some split point
    /// can start the rest of the execution on the path from there (its step there depends
    /// on no step before it), so that the earlier task explores the class.
    pub(super) fn belongs_to_earlier_task(&self, top: usize) -> bool {
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
}
