//! The wait-for graph of a deadlocked state, and the deadlock explanation built from it.
//!
//! Nodes are threads and the resources they wait for (a lock, a condition's notify, an
//! event, a barrier, a queue, the end of a joined thread, a change to a spun-on
//! variable); an edge thread → resource says the thread waits for it, an edge resource →
//! thread says the thread holds it (owns the lock, or is the joined thread). A cycle is a
//! set of threads each waiting for what the next holds: nothing outside can break it.
//! A deadlock without a cycle (a lost notify, a barrier short of parties) waits for
//! something that no thread is left to do.
//!
//! [`explain`] turns a stuck [`State`] into a [`DeadlockReport`] (part of the JSON report
//! of a deadlock finding); [`dot`] writes such reports as one Graphviz digraph.

use crate::ir::{Program, ThreadId};
use crate::machine::{State, WaitTarget};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

/// Why a state is stuck: every blocked thread, and the cycle if there is one.
#[derive(Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DeadlockReport {
    pub threads: Vec<BlockedThread>,
    /// Thread names around a cycle of the wait-for graph, starting with the lowest
    /// numbered thread on it; empty when there is none.
    pub cycle: Vec<String>,
}

/// One blocked thread of a deadlock.
#[derive(Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BlockedThread {
    pub thread: String,
    pub line: u32,
    /// The resource: `lock b`, `notify on cv`, `event ev`, `thread t1`, ...
    pub waits_for: String,
    /// The threads that hold that resource (a lock's owner, a joined thread).
    pub held_by: Vec<String>,
    /// Locks this thread holds.
    pub holds: Vec<String>,
    /// The explanation in words.
    pub why: String,
}

/// The name of a wait-for resource, as it appears in reports and the graph.
pub fn resource_name(prog: &Program, target: &WaitTarget) -> String {
    let obj = |o: &u32| prog.objects[*o as usize].name.clone();
    let thread = |t: &ThreadId| prog.threads[*t as usize].name.clone();
    match target {
        WaitTarget::Lock(o) => format!("lock {}", obj(o)),
        WaitTarget::Semaphore(o) => format!("semaphore {}", obj(o)),
        WaitTarget::Notify(o) => format!("notify on {}", obj(o)),
        WaitTarget::Event(o) => format!("event {}", obj(o)),
        WaitTarget::Barrier(o) => format!("barrier {}", obj(o)),
        WaitTarget::QueuePut(o) => format!("room in queue {}", obj(o)),
        WaitTarget::QueueGet(o) => format!("an item in queue {}", obj(o)),
        WaitTarget::QueueJoin(o) => format!("task_done on queue {}", obj(o)),
        WaitTarget::Pipe(o) => format!("something to receive on {}", obj(o)),
        WaitTarget::Threads(ts) => {
            let names: Vec<String> = ts.iter().map(thread).collect();
            if names.len() == 1 {
                format!("thread {}", names[0])
            } else {
                format!("threads {}", names.join(", "))
            }
        }
        WaitTarget::Change(locs) => {
            let names: Vec<String> = locs.iter().map(|l| l.name(prog)).collect();
            if names.is_empty() {
                "nothing (an endless loop)".into()
            } else {
                format!("a change to {}", names.join(", "))
            }
        }
        WaitTarget::Nothing => "nothing it can get".into(),
    }
}

/// The wait-for graph: edges thread → resource ("waits for") and resource → thread
/// ("held by").
pub type Graph = DiGraph<Node, ()>;

/// A node: a thread, or a resource by its name (`lock b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Thread(ThreadId),
    Resource(String),
}

/// Builds the wait-for graph of a stuck state: each unfinished thread waits for one
/// resource, held by zero or more threads. Deterministic: nodes in thread order.
pub fn graph(prog: &Program, state: &State) -> Graph {
    let mut g = Graph::new();
    let mut threads: BTreeMap<ThreadId, NodeIndex> = BTreeMap::new();
    let mut resources: BTreeMap<String, NodeIndex> = BTreeMap::new();
    let stuck = state.unfinished();
    for t in &stuck {
        threads.insert(*t, g.add_node(Node::Thread(*t)));
    }
    for t in &stuck {
        let target = state.wait_target(prog, *t);
        let name = resource_name(prog, &target);
        let r = *resources
            .entry(name.clone())
            .or_insert_with(|| g.add_node(Node::Resource(name)));
        g.update_edge(threads[t], r, ());
        for h in state.waits_for(prog, *t).1 {
            let hn = *threads
                .entry(h)
                .or_insert_with(|| g.add_node(Node::Thread(h)));
            g.update_edge(r, hn, ());
        }
    }
    g
}

/// One cycle of threads in the wait-for graph, if there is one: in the strongly connected
/// component that holds the lowest numbered thread on any cycle, the shortest way from
/// that thread back to itself.
pub fn cycle(g: &Graph) -> Vec<ThreadId> {
    let mut best: Option<(ThreadId, NodeIndex)> = None;
    for scc in tarjan_scc(g) {
        let cyclic = scc.len() > 1 || g.contains_edge(scc[0], scc[0]);
        if !cyclic {
            continue;
        }
        for n in &scc {
            if let Node::Thread(t) = g[*n]
                && best.is_none_or(|(b, _)| t < b)
            {
                best = Some((t, *n));
            }
        }
    }
    let Some((_, start)) = best else {
        return vec![];
    };
    // Breadth-first search back to `start`, neighbours in index order.
    let mut prev: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    let mut end = None;
    'search: while let Some(n) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = g.neighbors(n).collect();
        next.sort();
        for m in next {
            if m == start {
                end = Some(n);
                break 'search;
            }
            if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(m) {
                e.insert(n);
                queue.push_back(m);
            }
        }
    }
    let mut path = vec![];
    let mut n = end.expect("a node on a cycle reaches itself");
    loop {
        path.push(n);
        if n == start {
            break;
        }
        n = prev[&n];
    }
    path.reverse();
    path.into_iter()
        .filter_map(|n| match g[n] {
            Node::Thread(t) => Some(t),
            Node::Resource(_) => None,
        })
        .collect()
}

/// Explains a stuck state: what every unfinished thread waits for, who holds it, what it
/// holds itself, and the cycle if there is one.
pub fn explain(prog: &Program, state: &State) -> DeadlockReport {
    let name = |t: ThreadId| prog.threads[t as usize].name.clone();
    let threads = state
        .unfinished()
        .into_iter()
        .map(|t| {
            let (why, holders) = state.waits_for(prog, t);
            let th = &state.threads[t as usize];
            let code = &prog.threads[t as usize].code;
            BlockedThread {
                thread: name(t),
                line: code.lines.get(th.pc as usize).copied().unwrap_or(0),
                waits_for: resource_name(prog, &state.wait_target(prog, t)),
                held_by: holders.into_iter().map(name).collect(),
                holds: state.held_by(prog, t),
                why,
            }
        })
        .collect();
    let cycle = cycle(&graph(prog, state)).into_iter().map(name).collect();
    DeadlockReport { threads, cycle }
}

/// Text lines for the report: one per blocked thread, then the cycle.
pub fn render_text(d: &DeadlockReport, indent: &str) -> String {
    let mut out = String::new();
    for t in &d.threads {
        let _ = write!(
            out,
            "{indent}{} (line {}) waits for {}",
            t.thread, t.line, t.waits_for
        );
        // (A joined thread "holds" its own end: saying so adds nothing.)
        if !t.held_by.is_empty() && !t.waits_for.starts_with("thread") {
            let _ = write!(out, ", held by {}", t.held_by.join(", "));
        }
        if !t.holds.is_empty() {
            let _ = write!(out, "; holds {}", t.holds.join(", "));
        }
        out.push('\n');
    }
    if d.cycle.is_empty() && d.threads.iter().all(|t| t.held_by.is_empty()) {
        let _ = writeln!(
            out,
            "{indent}no cycle: no thread holds what is waited for, and no thread that could provide it can move"
        );
    } else if d.cycle.is_empty() {
        let _ = writeln!(
            out,
            "{indent}no cycle: the waits end at a lock held by a finished thread, or at something no thread holds"
        );
    } else {
        let mut c = d.cycle.clone();
        c.push(d.cycle[0].clone());
        let _ = writeln!(out, "{indent}cycle: {}", c.join(" -> "));
    }
    out
}

fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' | '\\' => {
                q.push('\\');
                q.push(ch);
            }
            '\n' => q.push_str("\\n"),
            _ => q.push(ch),
        }
    }
    q.push('"');
    q
}

fn dot_body(out: &mut String, d: &DeadlockReport, prefix: &str, indent: &str) {
    let tid = |t: &str| quote(&format!("{prefix}thread {t}"));
    let rid = |r: &str| quote(&format!("{prefix}{r}"));
    let on_cycle = |t: &str| d.cycle.iter().position(|c| c == t);
    let mut known: Vec<&str> = vec![];
    let mut resources: Vec<&str> = vec![];
    for t in &d.threads {
        let mut label = format!("{}\nline {}", t.thread, t.line);
        if !t.holds.is_empty() {
            let _ = write!(label, "\nholds {}", t.holds.join(", "));
        }
        let _ = writeln!(
            out,
            "{indent}{} [shape=box, label={}{}];",
            tid(&t.thread),
            quote(&label),
            if on_cycle(&t.thread).is_some() {
                ", color=red"
            } else {
                ""
            }
        );
        known.push(&t.thread);
    }
    for t in &d.threads {
        // In a stuck state a holder that is not blocked has finished.
        for h in &t.held_by {
            if !known.contains(&h.as_str()) {
                let _ = writeln!(
                    out,
                    "{indent}{} [shape=box, style=dashed, label={}];",
                    tid(h),
                    quote(&format!("{h}\n(finished)"))
                );
                known.push(h);
            }
        }
        if !resources.contains(&t.waits_for.as_str()) {
            let _ = writeln!(
                out,
                "{indent}{} [shape=ellipse, label={}];",
                rid(&t.waits_for),
                quote(&t.waits_for)
            );
            resources.push(&t.waits_for);
        }
    }
    let red = ", color=red, fontcolor=red";
    let mut edges: Vec<(String, bool)> = vec![];
    for t in &d.threads {
        let pos = on_cycle(&t.thread);
        edges.push((
            format!(
                "{} -> {} [label=\"waits for\"",
                tid(&t.thread),
                rid(&t.waits_for)
            ),
            pos.is_some(),
        ));
    }
    for t in &d.threads {
        for h in &t.held_by {
            // The edge is on the cycle when `t` is on it and `h` comes next.
            let next = on_cycle(&t.thread).map(|i| &d.cycle[(i + 1) % d.cycle.len()]);
            let e = format!("{} -> {} [label=\"held by\"", rid(&t.waits_for), tid(h));
            if !edges.iter().any(|(x, _)| *x == e) {
                edges.push((e, next == Some(h)));
            } else if next == Some(h) {
                for (x, c) in edges.iter_mut() {
                    if *x == e {
                        *c = true;
                    }
                }
            }
        }
    }
    for (e, c) in edges {
        let _ = writeln!(out, "{indent}{e}{}];", if c { red } else { "" });
    }
}

/// Writes wait-for graphs as one Graphviz digraph: one graph as it is, several as one
/// cluster each, labelled with the given titles. Deterministic.
pub fn dot(graphs: &[(String, &DeadlockReport)]) -> String {
    let mut out = String::from(
        "digraph waitfor {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    match graphs {
        [] => out.push_str("  // no deadlock was found\n"),
        [(title, d)] => {
            let _ = writeln!(out, "  label={};\n  labelloc=t;", quote(title));
            dot_body(&mut out, d, "", "  ");
        }
        _ => {
            for (i, (title, d)) in graphs.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  subgraph cluster_{i} {{\n    label={};",
                    quote(title)
                );
                dot_body(&mut out, d, &format!("{i}: "), "    ");
                out.push_str("  }\n");
            }
        }
    }
    out.push_str("}\n");
    out
}

/// One unfinished thread of a state, by thread number (for `explain`, `step` and the
/// HTML report, which work with thread numbers rather than names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stuck {
    pub thread: ThreadId,
    /// The scenario-file line it is at.
    pub line: u32,
    /// What it waits for, as in the report: `lock b`, `event ev`, `thread t2`.
    pub waits_for: String,
    /// The object it waits for (`b`), when it waits for one object.
    pub object: Option<String>,
    /// The threads that hold what it waits for.
    pub held_by: Vec<ThreadId>,
    /// The locks it holds.
    pub holds: Vec<String>,
    /// The machine's sentence: `waits to acquire b, held by t2`.
    pub why: String,
}

/// The wait-for graph of one state, by thread number: every started, unfinished thread
/// (whether it can move or not), and the cycle of [`cycle`], if there is one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WaitFor {
    pub threads: Vec<Stuck>,
    pub cycle: Vec<ThreadId>,
}

impl WaitFor {
    pub fn of(prog: &Program, state: &State) -> WaitFor {
        let threads = state
            .unfinished()
            .into_iter()
            .map(|t| {
                let (why, held_by) = state.waits_for(prog, t);
                let th = &state.threads[t as usize];
                let code = &prog.threads[t as usize].code;
                let target = state.wait_target(prog, t);
                let object = match &target {
                    WaitTarget::Lock(o)
                    | WaitTarget::Semaphore(o)
                    | WaitTarget::Notify(o)
                    | WaitTarget::Event(o)
                    | WaitTarget::Barrier(o)
                    | WaitTarget::QueuePut(o)
                    | WaitTarget::QueueGet(o)
                    | WaitTarget::QueueJoin(o)
                    | WaitTarget::Pipe(o) => Some(prog.objects[*o as usize].name.clone()),
                    _ => None,
                };
                Stuck {
                    thread: t,
                    line: code.lines.get(th.pc as usize).copied().unwrap_or(0),
                    waits_for: resource_name(prog, &target),
                    object,
                    held_by,
                    holds: state.held_by(prog, t),
                    why,
                }
            })
            .collect();
        WaitFor {
            threads,
            cycle: cycle(&graph(prog, state)),
        }
    }
}
