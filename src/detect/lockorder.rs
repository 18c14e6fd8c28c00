//! The lock-order graph over every explored execution, and `potential_deadlock` warnings
//! for its cycles (lock-order inversions, as TSan and Helgrind report them).
//!
//! An edge a → b means some thread took lock b, waiting as long as it takes, while it
//! held lock a. A cycle means the threads could each take their first lock and then wait
//! for the next one forever, even if no explored execution did (because a gate lock in
//! front, say, keeps them apart). Locks are Lock and RLock objects, a Condition's lock
//! included (`with cv:` takes it). An RLock re-entry is not an acquisition, semaphores
//! are not locks, and an acquire that can give up (`blocking=False`, a timeout) adds no
//! edge: it cannot wait forever. A cycle whose edges all come from one thread is not
//! reported: a thread cannot deadlock with itself this way.
//!
//! The explorer feeds each finished execution to [`LockOrder::execution`]; the edges a
//! thread adds depend only on its own steps, so one execution per class of equivalent
//! ones (what partial-order reduction explores) finds them all. State caching feeds its
//! path step by step instead ([`PathLocks`]).

use crate::ir::{ObjId, ObjKind, Program, ThreadId};
use crate::machine::{Chan, Event, State};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Where an edge of the lock-order graph was seen.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Site {
    pub thread: ThreadId,
    /// The line where the held lock was taken.
    pub held_line: u32,
    /// The line where the second lock was taken.
    pub acquired_line: u32,
}

/// The lock-order graph: for each edge (held, acquired), every place it was seen.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct LockOrder {
    #[serde(with = "crate::share::as_pairs")]
    pub edges: BTreeMap<(ObjId, ObjId), BTreeSet<Site>>,
}

/// One edge of a reported cycle (the JSON of a `potential_deadlock` warning).
#[derive(Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CycleEdge {
    pub held: String,
    pub acquired: String,
    pub thread: String,
    pub held_line: u32,
    pub acquired_line: u32,
}

/// A cycle in the lock order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PotentialDeadlock {
    pub message: String,
    pub cycle: Vec<CycleEdge>,
}

fn is_lock(prog: &Program, o: ObjId) -> bool {
    matches!(
        prog.objects[o as usize].kind,
        ObjKind::Lock | ObjKind::RLock
    )
}

fn has_locks(prog: &Program) -> bool {
    prog.objects
        .iter()
        .any(|o| matches!(o.kind, ObjKind::Lock | ObjKind::RLock))
}

/// The locks a thread holds, with the line each was taken at.
type Holding = Vec<(ObjId, u32)>;

/// The locks each thread holds.
#[derive(Clone, Debug, Default)]
struct Held {
    by_thread: Vec<Holding>,
}

impl Held {
    fn new(prog: &Program) -> Self {
        Held {
            by_thread: vec![vec![]; prog.threads.len()],
        }
    }
}

/// Feeds the steps of a path that grows and shrinks to a [`LockOrder`] one at a time,
/// each once while it stays on the path: state caching stops at every state seen before,
/// at any depth, and going over the whole path again there made deep searches
/// quadratic. What each thread holds after a step is kept with an undo log, so that
/// going back up the path restores it.
#[derive(Clone, Debug, Default)]
pub struct PathLocks {
    held: Held,
    /// The steps fed, from the path's start: they are still the path's.
    fed: usize,
    /// For each fed step that changed what its thread holds: the step's index, the
    /// thread and what it held before.
    undo: Vec<(usize, ThreadId, Holding)>,
}

impl PathLocks {
    /// The path changes from step `depth` on: the steps fed from there are forgotten.
    pub fn truncate(&mut self, depth: usize) {
        if depth >= self.fed {
            return;
        }
        while self.undo.last().is_some_and(|u| u.0 >= depth) {
            let (_, t, before) = self.undo.pop().unwrap();
            self.held.by_thread[t as usize] = before;
        }
        self.fed = depth;
    }

    /// The number of steps of the path fed so far.
    pub fn fed(&self) -> usize {
        self.fed
    }

    /// Feeds the path's next step: (the state before it, its thread, its events).
    pub fn feed(
        &mut self,
        order: &mut LockOrder,
        prog: &Program,
        state: &State,
        t: ThreadId,
        events: &[Event],
    ) {
        let i = self.fed;
        self.fed += 1;
        if !has_locks(prog) {
            return;
        }
        if self.held.by_thread.is_empty() {
            self.held = Held::new(prog);
        }
        let held = &mut self.held.by_thread[t as usize];
        let before = held.clone();
        order.step(prog, held, state, t, events);
        if *held != before {
            self.undo.push((i, t, before));
        }
    }
}

impl LockOrder {
    /// Adds the edges that another part of a search saw.
    pub fn merge(&mut self, other: LockOrder) {
        for (edge, sites) in other.edges {
            self.edges.entry(edge).or_default().extend(sites);
        }
    }

    /// Adds the edges of one execution: each step as (the state before it, the thread
    /// that took it, the events it emitted).
    pub fn execution<'a>(
        &mut self,
        prog: &Program,
        steps: impl IntoIterator<Item = (&'a State, ThreadId, &'a [Event])>,
    ) {
        if !has_locks(prog) {
            return;
        }
        let mut held = Held::new(prog);
        for (state, t, events) in steps {
            self.step(prog, &mut held.by_thread[t as usize], state, t, events);
        }
    }

    /// Adds the edges of one step of thread `t` from `state`, which holds `held` before it
    /// (updated).
    fn step(
        &mut self,
        prog: &Program,
        held: &mut Holding,
        state: &State,
        t: ThreadId,
        events: &[Event],
    ) {
        let ti = t as usize;
        for e in events {
            match e {
                Event::Release(Chan::Obj(o)) if is_lock(prog, *o) => {
                    held.retain(|(h, _)| h != o);
                }
                Event::Acquire(Chan::Obj(o)) if is_lock(prog, *o) => {
                    let th = &state.threads[ti];
                    let line = prog.threads[ti]
                        .code
                        .lines
                        .get(th.pc as usize)
                        .copied()
                        .unwrap_or(0);
                    if state.blocking_lock_acquire(prog, t) == Some(*o) {
                        for (h, hl) in held.iter() {
                            if h != o {
                                self.edges.entry((*h, *o)).or_default().insert(Site {
                                    thread: t,
                                    held_line: *hl,
                                    acquired_line: line,
                                });
                            }
                        }
                    }
                    held.push((*o, line));
                }
                _ => {}
            }
        }
    }

    /// One `potential_deadlock` per strongly connected component of the graph that holds
    /// a cycle with edges from more than one thread: its shortest cycle through its lowest
    /// numbered lock. Deterministic.
    pub fn warnings(&self, prog: &Program) -> Vec<PotentialDeadlock> {
        let mut g: DiGraph<ObjId, ()> = DiGraph::new();
        let mut nodes: BTreeMap<ObjId, NodeIndex> = BTreeMap::new();
        for (a, b) in self.edges.keys() {
            for x in [a, b] {
                if !nodes.contains_key(x) {
                    nodes.insert(*x, g.add_node(*x));
                }
            }
        }
        for (a, b) in self.edges.keys() {
            g.add_edge(nodes[a], nodes[b], ());
        }
        let mut sccs: Vec<Vec<NodeIndex>> =
            tarjan_scc(&g).into_iter().filter(|s| s.len() > 1).collect();
        for s in &mut sccs {
            s.sort_by_key(|n| g[*n]);
        }
        sccs.sort_by_key(|s| g[s[0]]);
        let mut out = vec![];
        for scc in sccs {
            let inside: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            let locks = shortest_cycle(&g, scc[0], &inside);
            if let Some(w) = self.report(prog, &locks) {
                out.push(w);
            }
        }
        out
    }

    /// The warning for a cycle of locks, choosing one site per edge so that the edges come
    /// from as many threads as possible; `None` if they can only come from one.
    fn report(&self, prog: &Program, locks: &[ObjId]) -> Option<PotentialDeadlock> {
        let n = locks.len();
        let mut used: Vec<ThreadId> = vec![];
        let mut sites = vec![];
        for i in 0..n {
            let edge = (locks[i], locks[(i + 1) % n]);
            let all = &self.edges[&edge];
            let s = all
                .iter()
                .find(|s| !used.contains(&s.thread))
                .or_else(|| all.iter().next())
                .copied()?;
            used.push(s.thread);
            sites.push((edge, s));
        }
        if sites.iter().all(|(_, s)| s.thread == sites[0].1.thread) {
            return None;
        }
        let name = |o: ObjId| prog.objects[o as usize].name.clone();
        let cycle: Vec<CycleEdge> = sites
            .iter()
            .map(|((a, b), s)| CycleEdge {
                held: name(*a),
                acquired: name(*b),
                thread: prog.threads[s.thread as usize].name.clone(),
                held_line: s.held_line,
                acquired_line: s.acquired_line,
            })
            .collect();
        let mut order: Vec<String> = locks.iter().map(|o| name(*o)).collect();
        order.push(name(locks[0]));
        let parts: Vec<String> = cycle
            .iter()
            .map(|e| {
                format!(
                    "{} takes {} (line {}) while holding {} (taken at line {})",
                    e.thread, e.acquired, e.acquired_line, e.held, e.held_line
                )
            })
            .collect();
        let message = format!(
            "locks are taken in a cycle, {}: {}; threads doing this at the same time can deadlock",
            order.join(" -> "),
            parts.join("; ")
        );
        Some(PotentialDeadlock { message, cycle })
    }
}

/// The shortest cycle through `start` inside `inside` (breadth-first, neighbours in lock
/// order): the locks along it, `start` first.
fn shortest_cycle(
    g: &DiGraph<ObjId, ()>,
    start: NodeIndex,
    inside: &BTreeSet<NodeIndex>,
) -> Vec<ObjId> {
    let mut prev: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    let mut last = start;
    'search: while let Some(n) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = g.neighbors(n).filter(|m| inside.contains(m)).collect();
        next.sort_by_key(|m| g[*m]);
        for m in next {
            if m == start {
                last = n;
                break 'search;
            }
            if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(m) {
                e.insert(n);
                queue.push_back(m);
            }
        }
    }
    let mut path = vec![g[last]];
    let mut n = last;
    while n != start {
        n = prev[&n];
        path.push(g[n]);
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prog() -> Program {
        let text = "[objects]\na = \"Lock\"\nb = \"Lock\"\nc = \"Lock\"\n[[thread]]\nname = \"t\"\ncount = 2\ncode = \"pass\"\n";
        let s = crate::frontend::scenario::parse_scenario("t.toml", text).unwrap();
        crate::frontend::lower::lower(&s).unwrap()
    }

    fn site(thread: ThreadId, held_line: u32, acquired_line: u32) -> Site {
        Site {
            thread,
            held_line,
            acquired_line,
        }
    }

    #[test]
    fn a_cycle_from_one_thread_is_not_reported() {
        let p = prog();
        let mut lo = LockOrder::default();
        lo.edges.entry((0, 1)).or_default().insert(site(0, 1, 2));
        lo.edges.entry((1, 0)).or_default().insert(site(0, 3, 4));
        assert!(lo.warnings(&p).is_empty());
        // Once another thread takes b then a, the cycle can deadlock.
        lo.edges.entry((1, 0)).or_default().insert(site(1, 5, 6));
        let w = lo.warnings(&p);
        assert_eq!(w.len(), 1);
        let who: Vec<(&str, &str, &str)> = w[0]
            .cycle
            .iter()
            .map(|e| (e.thread.as_str(), e.held.as_str(), e.acquired.as_str()))
            .collect();
        assert_eq!(who, [("t[0]", "a", "b"), ("t[1]", "b", "a")]);
    }

    #[test]
    fn one_shortest_cycle_per_component() {
        let p = prog();
        let mut lo = LockOrder::default();
        // a -> b -> c -> a and a -> c: one component; its shortest cycle through a is
        // a -> c -> a.
        lo.edges.entry((0, 1)).or_default().insert(site(0, 1, 2));
        lo.edges.entry((1, 2)).or_default().insert(site(0, 2, 3));
        lo.edges.entry((0, 2)).or_default().insert(site(0, 1, 3));
        lo.edges.entry((2, 0)).or_default().insert(site(1, 7, 8));
        let w = lo.warnings(&p);
        assert_eq!(w.len(), 1);
        assert!(w[0].message.contains("a -> c -> a"), "{}", w[0].message);
    }
}
