//! The exact parallel search (`Config::jobs`): the single DPOR search, with the subtrees
//! below a fixed depth run as tasks on worker threads, and a result that is the single
//! search's, byte for byte (but for the memory measure), whatever the number of workers.
//!
//! Optimal DPOR is sequential: the races found below one branch of a node add to the
//! wakeup trees of the nodes above it (Abdulla et al., JACM 2017), and so decide what the
//! later branches explore. Here one thread, the coordinator, runs the single search
//! itself down to `TASK_DEPTH`. A node pushed there is a task: the path to it (the
//! coordinator's nodes above it, their wakeup trees left out, and the node with its own
//! wakeup tree) is everything the search below it reads, and the task's result is its
//! part of the findings, outcomes and statistics, with what it would have added to the
//! wakeup trees above it ([`Request`]). The coordinator takes the results in the single
//! search's order and applies each one's requests where the single search would have
//! made them, so the search above stays exactly the single search's.
//!
//! The workers run ahead, speculatively (as in speculative parallelization of sequential
//! loops): after each task the coordinator walks its own search forward as if the tasks
//! before added nothing, and queues the next tasks that walk meets. A result is used only
//! when its task's input is exactly the one the single search reaches (the requests of
//! the tasks before may have added to the wakeup tree of its first node, and then it is
//! run again), and when the limits (`max_executions`, the step budget), counted from
//! the work before it, would not have stopped it elsewhere. A run ahead that the next
//! walk no longer meets is not cancelled, and its result is kept (a few of them, the
//! newest): the branches that the tasks before added above it are often explored
//! before it, and the walk meets it again, unchanged, later. The wasted work is the
//! speculation that the tasks before proved wrong; `cargo bench --bench peers` reports
//! it against the single search's.
//!
//! `run --partition` cannot use this: shares on other machines cannot wait for each
//! other's requests, so they split the search into fixed tasks instead (split.rs).
//!
//! Pinned by tests/explorer/parallel.rs (the report of `--jobs N` is the single search's
//! on the library for several task depths and thread counts, and where the limits stop
//! it) and by the differential tests (the same on generated scenarios).

use crate::ir::{FindingKind, Program, ThreadId};
use crate::search::explorer::{Explorer, Node};
use crate::search::split::{Part, within};
use crate::search::wakeup::{AtLeaf, WakeStep, WakeupTree};
use crate::search::{Config, Exploration, ParallelWork, Stats};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// The depth of the nodes that become tasks. Deep enough for many tasks of a few
/// hundred steps each on the published benchmarks (lastzero10: 321, indexer15: 232),
/// so that the biggest one is a few percent of the search.
pub(super) const TASK_DEPTH: usize = 14;

/// What a task adds to a wakeup tree above it (dpor.rs), in the order it found them.
pub(super) enum Request {
    /// `v` goes into node `i`'s wakeup tree.
    Insert(usize, Vec<WakeStep>),
    /// `v`, a reversal by thread `p` that cannot run, gets source-DPOR's branches at `i`.
    Source(usize, Vec<WakeStep>, ThreadId),
    /// Thread `p` is brought forward to node `i` with `v` (an execution cut left it behind).
    Bring(usize, Vec<WakeStep>, ThreadId),
}

/// What a subtree pushed to the coordinator's loop turned into.
pub(super) enum Delegated {
    /// Not a task: the coordinator goes on with it.
    No,
    /// A task, done and applied.
    Done,
    /// A task that a limit stopped: so is the search.
    Stop,
}

/// A task's input: the path to its first node (the nodes above without their wakeup
/// trees, which the task does not read).
type Input = Arc<Vec<Node>>;

/// A task's part of the search.
struct Output {
    part: Part,
    work: u64,
    too_long: u64,
    requests: Vec<Request>,
    counted_above: BTreeMap<(FindingKind, String), u64>,
    /// The executions and work before it that it was run with.
    bases: (u64, u64),
}

#[derive(Clone)]
struct Job {
    input: Input,
    bases: (u64, u64),
}

#[derive(Default)]
struct Shared {
    queue: VecDeque<Job>,
    running: Vec<Job>,
    /// Results not yet used, oldest first.
    done: Vec<(Input, Output)>,
}

/// The tasks of one exact parallel search: the coordinator's side, and the workers'.
pub(super) struct Pool<'p> {
    prog: &'p Program,
    cfg: &'p Config,
    /// The tasks' configuration (no progress lines: the coordinator's are the search's).
    quiet: Config,
    /// The speculative walk's: no limits.
    walk: Config,
    depth: usize,
    /// How many tasks the workers may run ahead: 4 for each worker. With 2, a worker
    /// on indexer15 waited for the coordinator for a third of the search; with 8, the
    /// walks ahead (each starts again from the coordinator's path) cost 10% more steps
    /// (docs/performance.md, "The coordinator's copies").
    ahead: usize,
    /// How many results the walk no longer meets are kept, in case it meets them again:
    /// 16 for each worker (the most held at once, the window's included, was 25, with one
    /// worker, on readers-writers with 3 readers).
    kept: usize,
    start: Instant,
    /// Set when the search ends (under the lock of `shared`, so that a worker waiting
    /// for a task sees it): the workers return, and the runs still going stop.
    ending: Arc<AtomicBool>,
    shared: Mutex<Shared>,
    changed: Condvar,
    /// What was run in all (see `work_done`).
    work: Mutex<Work>,
}

/// The parallel search's work, counted as it goes.
#[derive(Default)]
struct Work {
    /// Executions run (explored and cut short) and steps: every task run, the walks
    /// ahead, and the tasks whose results were used.
    ran: (u64, u64),
    walked: (u64, u64),
    used: (u64, u64),
    tasks: u64,
    task_runs: u64,
    ahead_used: u64,
}

/// The search on `jobs` threads (the coordinator and `jobs - 1` workers), with tasks at
/// `depth`.
pub(super) fn explore_exact(
    prog: &Program,
    cfg: &Config,
    jobs: usize,
    depth: usize,
    start: Instant,
) -> Exploration {
    let quiet = Config {
        progress: None,
        ..cfg.clone()
    };
    let walk = Config {
        progress: None,
        max_executions: None,
        step_budget: None,
        max_memory: None,
        timeout: None,
        stop: None,
        count_classes: false,
        auto_states: false,
        ..cfg.clone()
    };
    let pool = Pool {
        prog,
        cfg,
        quiet,
        walk,
        depth,
        ahead: 4 * (jobs - 1),
        kept: 16 * (jobs - 1),
        start,
        ending: Arc::new(AtomicBool::new(false)),
        shared: Mutex::new(Shared::default()),
        changed: Condvar::new(),
        work: Mutex::new(Work::default()),
    };
    std::thread::scope(|scope| {
        for _ in 1..jobs {
            scope.spawn(|| pool.work());
        }
        let mut co = Explorer::new(prog, cfg);
        co.start = start;
        co.pool = Some(&pool);
        let mut ex = co.run();
        ex.stats.parallel = Some(pool.work_done(&ex.stats));
        let g = pool.lock();
        pool.ending.store(true, Ordering::Relaxed);
        pool.changed.notify_all();
        drop(g);
        ex
    })
}

impl<'p> Pool<'p> {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A worker: runs queued tasks until the search ends.
    fn work(&self) {
        let mut g = self.lock();
        loop {
            if self.ending.load(Ordering::Relaxed) {
                return;
            }
            let Some(job) = g.queue.pop_front() else {
                g = self.changed.wait(g).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            g = self.run_queued(g, job);
        }
    }

    /// Runs a job taken from the queue, unlocked, and files its result (unless the search
    /// ended). However the run ends, a panic included, the job is no longer running
    /// when this returns or unwinds, so that no one waits for it for ever.
    fn run_queued<'g>(&'g self, mut g: MutexGuard<'g, Shared>, job: Job) -> MutexGuard<'g, Shared> {
        /// Takes the job off the running list if the run unwinds.
        struct Unwinding<'a, 'p>(&'a Pool<'p>, Option<Input>);
        impl Drop for Unwinding<'_, '_> {
            fn drop(&mut self) {
                if let Some(input) = self.1.take() {
                    let mut g = self.0.lock();
                    g.running.retain(|j| !Arc::ptr_eq(&j.input, &input));
                    self.0.changed.notify_all();
                }
            }
        }
        g.running.push(job.clone());
        drop(g);
        let mut unwinding = Unwinding(self, Some(job.input.clone()));
        let out = self.run(&job.input, job.bases, Some(self.ending.clone()));
        unwinding.1 = None;
        let mut g = self.lock();
        g.running.retain(|j| !Arc::ptr_eq(&j.input, &job.input));
        if !self.ending.load(Ordering::Relaxed) {
            g.done.push((job.input, out));
        }
        self.changed.notify_all();
        g
    }

    /// Runs the task with `input`, after `bases` executions and work.
    fn run(&self, input: &[Node], bases: (u64, u64), cancel: Option<Arc<AtomicBool>>) -> Output {
        let mut ex = Explorer::new(self.prog, &self.quiet);
        ex.start = self.start;
        ex.path = input.to_vec();
        ex.task_depth = self.depth;
        (ex.exec_base, ex.work_base) = bases;
        ex.cancel = cancel;
        ex.visit_new();
        ex.stats.complete = ex.run_exhaustive_loop();
        let mut w = self.work.lock().unwrap_or_else(|e| e.into_inner());
        w.task_runs += 1;
        w.ran.0 += ex.stats.executions + ex.stats.redundant;
        w.ran.1 += ex.stats.steps;
        drop(w);
        Output {
            part: Part::take(&mut ex),
            work: ex.work,
            too_long: ex.too_long,
            requests: ex.requests,
            counted_above: ex.counted_above,
            bases,
        }
    }

    /// The coordinator's hook, after it pushed a node: a node at the task depth that
    /// does not end an execution becomes a task, whose result is applied here.
    pub(super) fn delegate(&self, co: &mut Explorer<'p>) -> Delegated {
        let top = co.path.len() - 1;
        if top != self.depth || co.stats.executions < self.cfg.split_after || co.ends_at(top) {
            return Delegated::No;
        }
        let input = snapshot(&mut co.path);
        // The node is the task's: the coordinator pops it as an execution's end.
        co.path[top].ended = true;
        co.path[top].wakeup = WakeupTree::default();
        let bases = (co.stats.executions, co.stats.steps + co.work);
        self.speculate(co, &input, bases);
        let out = self.result(&input, bases);
        let mut w = self.work.lock().unwrap_or_else(|e| e.into_inner());
        w.tasks += 1;
        w.used.0 += out.part.stats.executions + out.part.stats.redundant;
        w.used.1 += out.part.stats.steps;
        drop(w);
        let stop = !out.part.stats.complete;
        apply(co, out);
        co.progress();
        if stop {
            Delegated::Stop
        } else {
            Delegated::Done
        }
    }

    /// The result of the task with `input` at `bases`: one run ahead if it is valid,
    /// else run here (the coordinator runs other queued tasks while one it needs runs
    /// on a worker).
    fn result(&self, input: &Input, bases: (u64, u64)) -> Output {
        let mut g = self.lock();
        loop {
            if let Some(k) = g.done.iter().position(|(i, _)| same_input(i, input)) {
                let (_, out) = g.done.remove(k);
                if self.valid(&out, bases) {
                    drop(g);
                    self.work
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .ahead_used += 1;
                    return out;
                }
                break;
            }
            if !g.running.iter().any(|j| same_input(&j.input, input)) {
                g.queue.retain(|j| !same_input(&j.input, input));
                break;
            }
            match g.queue.pop_front() {
                Some(job) => g = self.run_queued(g, job),
                None => g = self.changed.wait(g).unwrap_or_else(|e| e.into_inner()),
            }
        }
        drop(g);
        self.run(input, bases, None)
    }

    /// What the search ran in all, given its statistics `s` (the coordinator's own
    /// work is what they count beyond the tasks whose results were used).
    fn work_done(&self, s: &Stats) -> ParallelWork {
        let w = self.work.lock().unwrap_or_else(|e| e.into_inner());
        let own = (s.executions + s.redundant - w.used.0, s.steps - w.used.1);
        ParallelWork {
            tasks: w.tasks,
            task_runs: w.task_runs,
            ahead_used: w.ahead_used,
            runs: own.0 + w.ran.0 + w.walked.0,
            steps: own.1 + w.ran.1 + w.walked.1,
        }
    }

    /// Whether a task's result, run after `out.bases`, is what it gives after `bases`:
    /// the same bases, or no limit that the difference would have reached.
    fn valid(&self, out: &Output, bases: (u64, u64)) -> bool {
        out.bases == bases
            || (out.part.stats.complete && within(self.cfg, bases, &out.part.stats, out.work))
    }

    /// Queues the tasks after the one with `input` that the search meets if the tasks
    /// before add nothing. The runs and results it no longer meets are left: it often
    /// meets them again, after the branches that the tasks before added above them (on
    /// readers-writers with 2 readers and 2 writers, dropping them cost 1.31 times the
    /// single search's steps, keeping them 1.09); of the results, the `kept` newest.
    fn speculate(&self, co: &Explorer<'p>, input: &Input, bases: (u64, u64)) {
        if self.ahead == 0 {
            return;
        }
        let next = self.upcoming(co);
        let wanted = |i: &Input| same_input(i, input) || next.iter().any(|n| same_input(n, i));
        let mut g = self.lock();
        let mut extra = g.done.iter().filter(|(i, _)| !wanted(i)).count();
        g.done.retain(|(i, _)| {
            let drop = extra > self.kept && !wanted(i);
            extra -= usize::from(drop);
            !drop
        });
        g.queue.clear();
        for n in next {
            let known = g.running.iter().any(|j| same_input(&j.input, &n))
                || g.done.iter().any(|(i, _)| same_input(i, &n));
            if !known {
                g.queue.push_back(Job { input: n, bases });
            }
        }
        self.changed.notify_all();
    }

    /// The next `ahead` tasks of the coordinator's search, if the ones before add
    /// nothing to the wakeup trees above them: its path walked on, a copy.
    fn upcoming(&self, co: &Explorer<'p>) -> Vec<Input> {
        let mut w = Explorer::new(self.prog, &self.walk);
        w.path = co.path.clone();
        let mut out = vec![];
        while out.len() < self.ahead && !w.path.is_empty() {
            let Some(c) = w.next_choice() else {
                w.backtrack();
                continue;
            };
            w.take(c);
            let top = w.path.len() - 1;
            if top == self.depth && !w.ends_at(top) {
                out.push(snapshot(&mut w.path));
                w.path[top].ended = true;
                w.path[top].wakeup = WakeupTree::default();
                continue;
            }
            w.visit_new();
        }
        let mut work = self.work.lock().unwrap_or_else(|e| e.into_inner());
        work.walked.0 += w.stats.executions + w.stats.redundant;
        work.walked.1 += w.stats.steps;
        out
    }
}

/// A task's input: the path, the wakeup trees above its first node left out (they are
/// set aside while the path is copied: they can be big).
fn snapshot(path: &mut [Node]) -> Input {
    let last = path.len() - 1;
    let trees: Vec<WakeupTree> = path[..last]
        .iter_mut()
        .map(|n| std::mem::take(&mut n.wakeup))
        .collect();
    let nodes = path.to_vec();
    for (n, t) in path.iter_mut().zip(trees) {
        n.wakeup = t;
    }
    Arc::new(nodes)
}

/// Whether two inputs are the same task: the same steps, and everything of the nodes
/// above that the search below reads and that the steps do not decide (sleep sets, the
/// threads explored and brought forward), and the same wakeup tree at the first node.
fn same_input(a: &[Node], b: &[Node]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.choice == y.choice
                && x.sleep == y.sleep
                && x.explored == y.explored
                && x.done == y.done
                && x.brought == y.brought
                && x.wakeup == y.wakeup
        })
}

/// Adds a task's part to the coordinator's, as if the coordinator had explored it.
fn apply(co: &mut Explorer, out: Output) {
    out.part.merge_into(co);
    for (key, n) in out.counted_above {
        if let Some(f) = co.findings.get_mut(&key) {
            f.count += n;
        }
    }
    co.work += out.work;
    co.too_long += out.too_long;
    for r in out.requests {
        match r {
            Request::Insert(i, v) => {
                let at_leaf = co.at_leaf();
                co.path[i].wakeup.insert(v, at_leaf);
            }
            Request::Source(i, v, p) => co.add_source_branches(i, &v, p),
            Request::Bring(i, v, p) => {
                co.path[i].wakeup.insert(v, AtLeaf::IsFollowed);
                co.path[i].brought.push(p);
            }
        }
    }
}
