//! Optimal dynamic partial-order reduction (Abdulla et al., POPL 2014 and JACM 2017):
//! sleep sets, and wakeup trees ([`crate::search::wakeup`]) that hold, for each state on
//! the path, the sequences of steps that reverse the races found below it, so that every
//! Mazurkiewicz class of executions is explored once and (almost) no execution is started
//! only to be blocked by its sleep set.
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
//! And executions cut at `max_steps` (a loop that can turn for ever) are not maximal, as
//! the theory assumes: a thread still ready at the cut is tried earlier, at the first
//! node since its last step where it is awake, with nothing asleep after it
//! (`bring_forward_the_left_behind`; found by the generated scenarios against state
//! caching).
//!
//! Dependency is the machine's [`Touch`](crate::machine::Touch) relation: two steps of
//! different threads conflict when they access the same cell and one writes, or act on
//! the same object or thread. Alternatives within one step (the value of a `choose`, the
//! waiters a `notify` wakes) are all explored wherever the thread is; each alternative has
//! its own wakeup branches.
//!
//! Pinned by tests/counts.rs and tests/published.rs (the published optimal counts: one
//! execution per class) and by tests/differential.rs (the same findings and outcomes as
//! the naive enumeration and as sleep sets alone).

use crate::ir::ThreadId;
use crate::machine::{Choice, Footprint, State, Status, Touch, dependent};
use crate::search::accesses::Accesses;
use crate::search::explorer::Explorer;
use crate::search::parallel::Request;
use crate::search::wakeup::{AtLeaf, WakeStep, initial, weak_initial};

/// Executions up to this length are walked, longer ones indexed (`reverse_races`).
const SHORT: usize = 64;

impl Explorer<'_> {
    /// Optimal DPOR's race detection over the execution on the path, which ends at node
    /// `end` (Abdulla et al., JACM 2017, run at the end of every execution): every step
    /// taken, and every unfinished thread's next step at the end (a blocked acquisition
    /// races with the acquisition that took the lock, which is how a deadlock is
    /// reached), is checked against the steps before it; each race is reversed.
    pub(super) fn reverse_races(&mut self, end: usize) {
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
                continue; // a thread stopped from outside is in `stopped_steps`
            }
            let fp = self.path[end].state.footprint(prog, p);
            if !fp.is_empty() {
                steps.push((end, p, fp));
            }
        }
        steps.extend(self.stopped_steps(end));
        // The index pays from a few dozen steps on; test builds use it always, and check
        // it against the walk on short executions.
        let indexed = end > SHORT || cfg!(debug_assertions);
        let accesses = indexed.then(|| Accesses::new(&self.path, end, self.nthreads));
        for (k, p, fp) in steps {
            let pclock = self.thread_clock(p, k);
            let candidates = match &accesses {
                Some(a) => a.candidates(&self.path, k, p, &fp, &pclock),
                None => self.candidates_walk(k, p, &fp, &pclock),
            };
            debug_assert!(end > SHORT || candidates == self.candidates_walk(k, p, &fp, &pclock));
            for i in self.races_with(candidates, end, p, &fp, &pclock) {
                self.reverse(i, (k, end), p, &fp, pclock[p as usize]);
            }
        }
        if self.path[end].state.steps as u64 >= self.cfg.max_steps {
            self.bring_forward_the_left_behind(end);
            self.postpone_the_first_failure(end);
        }
    }

    /// The other side of a cut: a thread's failure ends the execution for the report (no
    /// livelock after it), but the steps after it go on, and if none of them depends on
    /// the failing step, the same steps without it reach `max_steps` too: an execution
    /// that runs past the limit with no failure, a livelock, which the commutation of
    /// the failure with those steps would otherwise hide (found by the generated
    /// scenarios: a thread re-acquiring an RLock in a loop beside a thread that always
    /// fails; the naive enumeration and state caching reported the livelock). The steps
    /// after the first failure that do not happen after it, then the next step of a
    /// still-enabled thread that does not fail, go into the failing node's wakeup tree;
    /// the failing thread, explored there first, sleeps in that branch until a step
    /// depends on it.
    fn postpone_the_first_failure(&mut self, end: usize) {
        if !self.path[end].failed {
            return;
        }
        let Some(k) = (self.split_depth..end).find(|&k| self.path[k + 1].failed) else {
            return; // failed before the split point: another task's branch
        };
        if self.path[k].failed {
            return; // an invariant false from the start: nothing to postpone
        }
        let f = self.path[k].choice.unwrap().thread;
        let f_index = self.path[k].clock[f as usize];
        let prog = self.prog;
        let enabled: Vec<ThreadId> = self.path[end].enabled.iter().map(|e| e.0).collect();
        for p in enabled.into_iter().filter(|&p| p != f) {
            let pclock = self.thread_clock(p, end);
            if pclock[f as usize] >= f_index || step_fails(&self.path[end].state, prog, p) {
                continue; // p's next step depends on the failure, or fails too
            }
            let fp = self.path[end].state.footprint(prog, p);
            let v = self.reversal(k, end, p, &fp, pclock[p as usize]);
            // Covered only by a branch explored here whose first step does not fail
            // (f sleeps there): a thread asleep here stands for executions where it
            // moved first, and its step may be the next failure (two threads that
            // always fail beside a spinner).
            let n = &self.path[k];
            let covered = n.explored.iter().any(|(q, fq)| {
                *q != f && weak_initial(&v, *q, fq) && !step_fails(&n.state, prog, *q)
            });
            if !covered && self.runnable_prefix(k, &v) == v.len() {
                self.insert_wakeup(k, v);
            }
            return;
        }
    }

    /// An execution cut at `max_steps` is not maximal, which the theory assumes: a thread
    /// that was ready all along may never have moved in it, and if its next step conflicts
    /// with nothing (a read of what only others read), no race brings it forward, so what
    /// it does (fails, finishes) is never seen. Each thread still enabled at the cut gets
    /// its next step tried at the first node since its last step where it is awake, as a
    /// race reversal would put it (found by the generated scenarios: a thread dividing by
    /// a variable that a spinning thread only reads).
    fn bring_forward_the_left_behind(&mut self, end: usize) {
        let prog = self.prog;
        let waiting: Vec<ThreadId> = self.path[end].enabled.iter().map(|e| e.0).collect();
        for p in waiting {
            let since = (0..end)
                .rev()
                .find(|&k| {
                    let n = &self.path[k];
                    n.choice.unwrap().thread == p || n.started.contains(&p)
                })
                .map_or(0, |k| k + 1);
            // Also just after the last step that p's next step depends on: p's step before
            // it is that race's reversal, but the executions where p moves after it, and
            // the ones after them, were cut too (a write of y before the atomic `y += 1` of
            // a thread left behind by a spinner: the outcome of that order was missed;
            // found by the generated scenarios of memory steps).
            let fp = self.path[end].state.footprint(prog, p);
            let after = (since..end)
                .rev()
                .find(|&k| dependent(&self.path[k].fp, &fp))
                .map(|k| k + 1);
            for from in std::iter::once(since).chain(after) {
                self.bring_forward(p, from, end);
            }
        }
    }

    /// Brings thread `p` forward at the first node from `from` on (before `end`) where it
    /// is awake, was not tried, and was not brought forward yet.
    ///
    /// Not `explored_elsewhere`: the threads explored there commute with p's step, but
    /// their executions were cut too, perhaps before p moved. And where p was tried
    /// already, the next node: that branch was cut too, perhaps before the steps this
    /// execution took after the node (two threads each left behind in the other's branch
    /// never met).
    fn bring_forward(&mut self, p: ThreadId, from: usize, end: usize) {
        let prog = self.prog;
        let at = (from.max(self.split_depth)..end).find(|&i| {
            let n = &self.path[i];
            n.enabled.iter().any(|e| e.0 == p)
                && !n.sleep.iter().any(|s| s.0 == p)
                && !n.explored.iter().any(|e| e.0 == p)
                && !n.brought.contains(&p)
        });
        let Some(i) = at else { return };
        let v = vec![WakeStep {
            choice: Choice { thread: p, alt: 0 },
            fp: self.path[i].state.footprint(prog, p),
        }];
        if i < self.task_depth {
            self.requests.push(Request::Bring(i, v, p));
        } else {
            self.path[i].wakeup.insert(v, AtLeaf::IsFollowed);
        }
        self.path[i].brought.push(p);
    }

    /// The next steps that a thread never took because another thread's step stopped it
    /// (`terminate()` or `kill()` of a process): each is pending just after the step that
    /// stopped it, and races with it (they both touch the stopped thread's [`Touch::Life`]), as a pending
    /// step at the end does: the class where the stopped thread moves first is another.
    fn stopped_steps(&self, end: usize) -> Vec<(usize, ThreadId, Footprint)> {
        let mut out = vec![];
        for k in 0..end {
            let stopper = self.path[k].choice.unwrap().thread;
            let (before, after) = (&self.path[k].state, &self.path[k + 1].state);
            for p in 0..self.nthreads as ThreadId {
                let was = &before.threads[p as usize].status;
                if p == stopper
                    || matches!(was, Status::NotStarted | Status::Finished)
                    || !matches!(after.threads[p as usize].status, Status::Finished)
                {
                    continue;
                }
                let fp = before.footprint(self.prog, p);
                if !fp.is_empty() {
                    out.push((k + 1, p, fp));
                }
            }
        }
        out
    }

    /// The steps that race with `p`'s step with `fp` taken at node `k` (or pending there,
    /// when `k` is the end), among the `candidates` before it (accesses.rs: dependent, of
    /// another thread, not ordered before it through p's history, `pclock`, its clock
    /// before the step; latest first): those not ordered before it through a later
    /// racing step whose reversal can run either. A step ordered only before a race whose
    /// reversal blocks (p's acquisition cannot come before the release of what it
    /// acquires) still races with p: p's step can come before it, and that execution is a
    /// class of its own (p blocks the other thread, or deadlocks with it).
    fn races_with(
        &self,
        candidates: Vec<usize>,
        end: usize,
        p: ThreadId,
        fp: &Footprint,
        pclock: &[u32],
    ) -> Vec<usize> {
        let mut found: Vec<(usize, Option<bool>)> = vec![];
        for i in candidates {
            let n = &self.path[i];
            let q = n.choice.unwrap().thread as usize;
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

    /// The candidates of `races_with` by walking the path back from node `k`: the
    /// definition, used on short executions and checked against the index (accesses.rs)
    /// in test builds.
    fn candidates_walk(&self, k: usize, p: ThreadId, fp: &Footprint, pclock: &[u32]) -> Vec<usize> {
        (0..k)
            .rev()
            .filter(|&i| {
                let n = &self.path[i];
                let q = n.choice.unwrap().thread;
                q != p && dependent(&n.fp, fp) && pclock[q as usize] < n.clock[q as usize]
            })
            .collect()
    }

    /// Optimal DPOR's reversal of a race (Abdulla et al., JACM 2017): the step at node `i`
    /// races with `p`'s next step. The reversed order is `v`: the steps after node `i`
    /// that do not happen after it, then `p`'s step. Unless a thread that sleeps at node
    /// `i` (or was explored there) is a weak initial of `v`, which means an equivalent
    /// execution is or will be explored, `v` goes into node `i`'s wakeup tree.
    ///
    /// p's step was taken at node `k` (or is pending there, `k == end`). Where its
    /// footprint depends on values (a compare-and-swap), it is taken again where `v` puts
    /// it: a CAS that failed after the step at node `i` may succeed before it, and with
    /// the footprint of the failure the wakeup tree put a write after a read it does not
    /// commute with (found by the generated scenarios against sleep sets, seed 502: 15
    /// executions for 16 classes).
    fn reverse(
        &mut self,
        i: usize,
        (k, end): (usize, usize),
        p: ThreadId,
        fp: &Footprint,
        p_before: u32,
    ) {
        let mut v = self.reversal(i, end, p, fp, p_before);
        if self.path[k].state.footprint_depends_on_values(self.prog, p) {
            self.take_last_footprint_again(i, &mut v);
        }
        let continued = self.gives_up.then(|| self.continued(i, end, &v));
        if self.explored_elsewhere(i, &v, continued.as_deref().unwrap_or(&v)) {
            return;
        }
        // A wakeup branch must be executable: a leaf stands for "explore this, then
        // anything", and covers the sequences it weakly prefixes. The race was found with
        // a step that may be blocked (a lock acquisition), so run `v` from node `i`'s
        // state and keep what can run.
        if self.runnable_prefix(i, &v) == v.len() {
            self.insert_wakeup(i, v);
        } else if i < self.task_depth {
            self.requests.push(Request::Source(i, v, p));
        } else {
            self.add_source_branches(i, &v, p);
        }
    }

    /// Inserts `v` into node `i`'s wakeup tree; in a task of the exact parallel search, a
    /// request to the coordinator when node `i` is one of its (parallel.rs).
    fn insert_wakeup(&mut self, i: usize, v: Vec<WakeStep>) {
        if i < self.task_depth {
            self.requests.push(Request::Insert(i, v));
        } else {
            let at_leaf = self.at_leaf();
            self.path[i].wakeup.insert(v, at_leaf);
        }
    }

    /// What a wakeup leaf that weakly prefixes a race's reversal stands for: the reversal,
    /// as in the paper, where no thread can be disabled and enabled again by another's
    /// step but by a lock that `with` blocks take and release (`Explorer::leaf_covers`);
    /// else only itself (wakeup.rs `insert_in`).
    pub(super) fn at_leaf(&self) -> AtLeaf {
        if self.leaf_covers {
            AtLeaf::Covers
        } else {
            AtLeaf::IsFollowed
        }
    }

    /// Whether the class of `v`, a reversal at node `i`, is or will be explored from
    /// elsewhere: a thread explored at node `i` is a weak initial of `v`, or one that
    /// sleeps there is a weak initial of `v` continued as the execution goes on
    /// (`continued`), or, in a split search, another task owns it.
    ///
    /// ODPOR asks the sleeping thread of `v` alone. That lost classes beside a `Lock`'s
    /// non-blocking or timed `acquire`, which fails while another holds the lock (found
    /// by the generated scenarios against sleep sets alone: 82 executions for 84
    /// classes): a thread asleep at node `i` whose release commutes with `v` but not with
    /// the failed acquisition after it stood for the executions where it released first,
    /// in which the acquisition succeeds; those where it fails came from nowhere. A
    /// Queue's non-blocking `get` lost a class the same way (seed 302: 29 executions for
    /// 30 classes), and so did a Semaphore's blocking acquire beside a bounded Queue's
    /// blocking `put` (seed 402: 27 for 28). Only where some step may wait or give up
    /// (`Instr::may_wait_or_give_up`: an object operation, a `join`, an AsyncResult's
    /// `get` or `wait`): in a program of reads and writes alone the test on `v` alone
    /// is kept, which starts fewer executions only to be blocked (lastzero(10): 247
    /// more of them, with the longer test; the published counts with locks are the
    /// same either way).
    fn explored_elsewhere(&self, i: usize, v: &[WakeStep], continued: &[WakeStep]) -> bool {
        let n = &self.path[i];
        let asleep = n.sleep.iter().filter(|(q, _)| !n.inherited.contains(q));
        if n.explored.iter().any(|(q, f)| weak_initial(v, *q, f))
            || asleep
                .into_iter()
                .any(|(q, f)| weak_initial(continued, *q, f))
        {
            return true;
        }
        // In a split search: a thread that sleeps because an earlier subtree starts with it
        // and that can start `v` makes `v`'s class that subtree's.
        n.inherited.iter().any(|q| initial(v, *q))
    }

    /// Node `i`'s branches for `v`, a reversal by `p`'s step that cannot run as it stands.
    pub(super) fn add_source_branches(&mut self, i: usize, v: &[WakeStep], p: ThreadId) {
        // `v` cannot run as it stands (a step in it is blocked): fall back to source-DPOR's
        // rule (Abdulla et al., POPL 2014). Unless a thread that can start `v` was or will
        // be tried here, try one: `p` if it can, else another initial of `v`, else every
        // thread that is awake here.
        let initials = initials(v);
        let prog = self.prog;
        let n = &mut self.path[i];
        let tried = |q: &ThreadId| {
            n.explored.iter().any(|e| e.0 == *q)
                || n.wakeup
                    .branches()
                    .iter()
                    .any(|b| b.step.choice.thread == *q)
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

    /// `v`, a reversal at node `i` in the execution that ends at node `end`, followed by
    /// the rest of that execution: the steps from node `i` on (its own too), each
    /// thread's first ones left out as `v` holds them (a reversal holds a prefix of each
    /// thread's steps).
    fn continued(&self, i: usize, end: usize, v: &[WakeStep]) -> Vec<WakeStep> {
        let mut held = vec![0usize; self.nthreads];
        for s in v {
            held[s.choice.thread as usize] += 1;
        }
        let mut out = v.to_vec();
        for n in &self.path[i..end] {
            let c = n.choice.unwrap();
            if held[c.thread as usize] > 0 {
                held[c.thread as usize] -= 1;
            } else {
                out.push(WakeStep {
                    choice: c,
                    fp: n.fp.clone(),
                });
            }
        }
        out
    }

    /// The footprint of the last step of `v`, a reversal at node `i`, as it is after the
    /// steps of `v` before it run from node `i`'s state (unchanged if one cannot run).
    fn take_last_footprint_again(&self, i: usize, v: &mut [WakeStep]) {
        let prog = self.prog;
        let Some((last, before)) = v.split_last_mut() else {
            return;
        };
        let mut state = State::clone(&self.path[i].state);
        for s in before.iter() {
            if s.choice.alt >= state.alternatives(prog, s.choice.thread) {
                return;
            }
            state.step(prog, s.choice, false);
        }
        last.fp = state.footprint(prog, last.choice.thread);
    }

    /// How many steps of `v` can run one after the other from node `i`'s state.
    fn runnable_prefix(&self, i: usize, v: &[WakeStep]) -> usize {
        // Only operations on objects and threads block; steps that touch nothing else
        // stay enabled in a reordering that keeps their dependencies (cheap and common).
        let may_block = |s: &WakeStep| {
            s.fp.iter().any(|t| {
                matches!(
                    t,
                    Touch::Obj(_)
                        | Touch::Thread(_)
                        | Touch::Round { .. }
                        | Touch::Task { .. }
                        | Touch::Life { .. }
                )
            })
        };
        // A thread waiting at a spin loop's head is blocked on cells (found by the
        // generated scenarios: a poller's blocked read raced with the write that would
        // wake it, its branch could not run, and the branch of a lost update that the
        // wakeup tree had put under it went with it).
        let spinning = |s: &WakeStep| {
            let th = &self.path[i].state.threads[s.choice.thread as usize];
            matches!(th.status, Status::SpinBlocked { .. })
                || th.spin_pending.is_some()
                || th.spin_waits.is_some()
        };
        if !v.iter().any(|s| may_block(s) || spinning(s)) {
            return v.len();
        }
        let prog = self.prog;
        let mut state = State::clone(&self.path[i].state);
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

    /// The dependency (happens-before over conflicts) clock of a step by `t` with `fp`
    /// taken from the top node: from the clocks summarized per place (clocks.rs), after
    /// feeding them the path's steps not fed yet.
    pub(super) fn dep_clock(&mut self, t: ThreadId, fp: &Footprint) -> Vec<u32> {
        let top = self.path.len() - 1;
        self.path_clocks.truncate(top);
        for n in &self.path[self.path_clocks.fed()..top] {
            let q = n.choice.unwrap().thread;
            self.path_clocks.feed(q, &n.fp, &n.clock, &n.started);
        }
        let c = self.path_clocks.clock(self.nthreads, t, fp);
        debug_assert!(top > 64 || c == self.dep_clock_walk(t, fp));
        c
    }

    /// The same clock by walking the path back: the definition, checked against the
    /// summaries in test builds.
    fn dep_clock_walk(&self, t: ThreadId, fp: &Footprint) -> Vec<u32> {
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
}

/// Does thread `q`'s next step (its first alternative) from `state` fail?
fn step_fails(state: &crate::machine::State, prog: &crate::ir::Program, q: ThreadId) -> bool {
    let mut s = state.clone();
    s.step(prog, Choice { thread: q, alt: 0 }, false)
        .failure
        .is_some()
}

/// The threads that can start `v`: those whose first step in `v` depends on no step
/// before it, in the order of their first steps.
fn initials(v: &[WakeStep]) -> Vec<ThreadId> {
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
}
