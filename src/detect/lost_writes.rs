//! `process_write_lost` warnings: a process writes a variable that another party (or a
//! `[final]` assertion) reads, but every process works on its own copy of `[shared]`
//! and `[atomics]` memory (SCENARIO.md, Processes), so the reader never sees the write.
//! This is the classic first mistake with `multiprocessing`: the child fills a dict and
//! the parent's stays empty.
//!
//! The explorer feeds each explored execution to [`LostWrites::execution`] (state
//! caching feeds the path it is on one step at a time, [`LostWrites::feed`]): every
//! write of a process to its own copy, every read of the same variable by any other
//! party, with where it happened, and which writes each read sees. A read by R of v sees
//! W's write of v when the copy of memory it reads holds that write: W wrote it there
//! (R's own process), or a start by fork copied it there after the write (W, or a
//! process forked from W's copy after the write, started R's process: transitively).
//! [`Copies`] follows this along an execution; a process's start is the first `Edge` to
//! it. The writer W and reader R of v are reported together only when R sees W's write
//! in no explored execution (the pair need not be in the same execution: the lesson is
//! the same). Per variable, the first writer in exploration order with such a reader is
//! named, with the first such reader, or the `[final]` assertion, which reads the main
//! program's copy (no start copies a write there), when no party is one. Exploration
//! order is deterministic, so the message is too. `Value` and `Array` objects are shared
//! memory and never reported; `[ghost]` writes are not steps and are not seen.

use crate::ir::{Instr, Program, StartMethod, ThreadId, VarId};
use crate::machine::Event;
use std::collections::{BTreeMap, BTreeSet};

/// Where an access was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Place {
    party: ThreadId,
    line: u32,
}

/// What the explored executions showed of each variable (serialized for the shares of a
/// partitioned run).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct LostWrites {
    /// Per variable, the first write of each process to its own copy.
    writes: BTreeMap<VarId, Vec<Place>>,
    /// Per variable, the first read by each party.
    reads: BTreeMap<VarId, Vec<Place>>,
    /// (variable, writer, reader): some read of the reader saw a write of the writer.
    seen: BTreeSet<(VarId, ThreadId, ThreadId)>,
    /// Pool tasks that failed with nobody collecting the failure (`exception_lost`), by
    /// submission line and task: the first message seen.
    #[serde(with = "crate::share::as_pairs")]
    lost: BTreeMap<(u32, String), String>,
}

/// A variable that a process writes and someone else reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostWrite {
    pub variable: String,
    pub message: String,
}

/// The process writes (variable, writer) that one copy of memory holds.
type Holds = BTreeSet<(VarId, ThreadId)>;

/// Which process writes each copy of memory holds, along one execution or along the
/// path of the search, whose steps are fed once each while they stay on it: an undo log
/// restores what the steps forgotten by [`Copies::truncate`] changed.
#[derive(Clone, Debug, Default)]
pub struct Copies {
    /// Per memory (the parties' own; not the shared one).
    holds: Vec<Holds>,
    /// Per party: started by an `Edge` so far.
    started: Vec<bool>,
    /// The steps fed, from the execution's start.
    fed: usize,
    /// For each change: the index of the step that made it, and how to undo it.
    undo: Vec<(usize, Undo)>,
}

#[derive(Clone, Debug)]
enum Undo {
    /// A memory got a write it did not hold.
    Wrote(u32, (VarId, ThreadId)),
    /// A start copied into a memory: what it held before.
    Forked(u32, Holds),
    /// A party was started.
    Started(ThreadId),
}

impl Copies {
    fn new(prog: &Program) -> Self {
        Copies {
            holds: vec![Holds::new(); prog.memories as usize],
            started: vec![false; prog.threads.len()],
            ..Copies::default()
        }
    }

    /// The path changes from step `depth` on: the steps fed from there are forgotten,
    /// and the next step fed is step `depth`.
    fn truncate(&mut self, depth: usize) {
        while self.undo.last().is_some_and(|u| u.0 >= depth) {
            match self.undo.pop().unwrap().1 {
                Undo::Wrote(m, w) => _ = self.holds[m as usize].remove(&w),
                Undo::Forked(m, before) => self.holds[m as usize] = before,
                Undo::Started(t) => self.started[t as usize] = false,
            }
        }
        self.fed = depth;
    }

    /// Memory `mem` holds the write of `var` by `writer`.
    fn write(&mut self, mem: u32, var: VarId, writer: ThreadId) {
        if self.holds[mem as usize].insert((var, writer)) {
            self.undo.push((self.fed, Undo::Wrote(mem, (var, writer))));
        }
    }

    /// An edge from `from` to `to`: the start of `to` if it is the first to a party that
    /// another starts. A process started by fork gets a copy of the starter's memory.
    fn edge(&mut self, prog: &Program, from: ThreadId, to: ThreadId) {
        let info = &prog.threads[to as usize];
        if info.start || self.started[to as usize] {
            return;
        }
        self.started[to as usize] = true;
        self.undo.push((self.fed, Undo::Started(to)));
        if info.process && prog.start_method == StartMethod::Fork {
            let copy = self.holds[prog.threads[from as usize].memory as usize].clone();
            let before = std::mem::replace(&mut self.holds[info.memory as usize], copy);
            self.undo
                .push((self.fed, Undo::Forked(info.memory, before)));
        }
    }

    /// The processes whose write of `var` memory `mem` holds.
    fn writers(&self, mem: u32, var: VarId) -> impl Iterator<Item = ThreadId> + '_ {
        let range = (var, 0)..=(var, ThreadId::MAX);
        self.holds[mem as usize].range(range).map(|w| w.1)
    }
}

impl LostWrites {
    /// Adds the accesses of one execution: the thread of each step and its events.
    pub fn execution<'a>(
        &mut self,
        prog: &Program,
        steps: impl IntoIterator<Item = (ThreadId, &'a [Event])>,
    ) {
        if !has_processes(prog) {
            return;
        }
        let mut copies = Copies::new(prog);
        for (party, events) in steps {
            self.step(prog, &mut copies, party, events);
        }
    }

    /// Adds step `depth` of the search's path (its thread and events), after the steps
    /// before it on the path: `copies` follows the path, and forgets the steps fed from
    /// `depth` on first.
    pub fn feed(
        &mut self,
        prog: &Program,
        copies: &mut Copies,
        depth: usize,
        party: ThreadId,
        events: &[Event],
    ) {
        if !has_processes(prog) {
            return;
        }
        if copies.holds.is_empty() {
            *copies = Copies::new(prog);
        }
        copies.truncate(depth);
        self.step(prog, copies, party, events);
    }

    fn step(&mut self, prog: &Program, copies: &mut Copies, party: ThreadId, events: &[Event]) {
        for e in events {
            match e {
                Event::Access {
                    cell, write, line, ..
                } => {
                    let place = Place { party, line: *line };
                    self.access(prog, copies, place, *cell, *write);
                }
                Event::Edge { to } => copies.edge(prog, party, *to),
                _ => {}
            }
        }
        copies.fed += 1;
    }

    fn access(
        &mut self,
        prog: &Program,
        copies: &mut Copies,
        at: Place,
        address: u32,
        write: bool,
    ) {
        let (mem, cell) = prog.locate(address);
        if mem == prog.memories {
            return; // a Value or Array: shared memory
        }
        let var = prog.var_of_cell(cell);
        if write && prog.threads[at.party as usize].process {
            first_of_party(self.writes.entry(var).or_default(), at);
            copies.write(mem, var, at.party);
        } else if !write {
            first_of_party(self.reads.entry(var).or_default(), at);
            for w in copies.writers(mem, var) {
                self.seen.insert((var, w, at.party));
            }
        }
    }

    /// Adds the Pool tasks whose failure nobody collected in the execution that ended in
    /// `state` (SCENARIO.md, Pool: `exception_lost`).
    pub fn exceptions(&mut self, prog: &Program, state: &crate::machine::State) {
        for (task, line, failure) in crate::machine::lost_exceptions(state, prog) {
            self.lost.entry((line, task)).or_insert(failure);
        }
    }

    /// The `exception_lost` warnings, in line order.
    pub fn exception_warnings(&self) -> Vec<String> {
        self.lost
            .iter()
            .map(|((line, task), failure)| {
                format!(
                    "the task {task} submitted at line {line} failed ({failure}) and no get(), apply() or map() collected its failure: it is lost, as Python loses it; call get() on its AsyncResult"
                )
            })
            .collect()
    }

    /// Adds what a later part of a split search saw (an earlier part's places win).
    pub fn merge(&mut self, later: LostWrites) {
        for (k, m) in later.lost {
            self.lost.entry(k).or_insert(m);
        }
        for (var, ws) in later.writes {
            let mine = self.writes.entry(var).or_default();
            ws.into_iter().for_each(|w| first_of_party(mine, w));
        }
        for (var, rs) in later.reads {
            let mine = self.reads.entry(var).or_default();
            rs.into_iter().for_each(|r| first_of_party(mine, r));
        }
        self.seen.extend(later.seen);
    }

    /// The warnings, in variable order.
    pub fn warnings(&self, prog: &Program) -> Vec<LostWrite> {
        let final_reads = final_reads(prog);
        let mut out = vec![];
        for (var, writes) in &self.writes {
            let named = writes.iter().find_map(|w| {
                let reader = self.reader(prog, &final_reads, *var, w)?;
                Some(lost_write(prog, *var, w, &reader))
            });
            out.extend(named);
        }
        out
    }

    /// The first reader of `var` that never sees the write `w`: a party, or else the
    /// `[final]` assertion.
    fn reader(
        &self,
        prog: &Program,
        final_reads: &BTreeMap<VarId, u32>,
        var: VarId,
        w: &Place,
    ) -> Option<String> {
        let misses =
            |r: &&Place| r.party != w.party && !self.seen.contains(&(var, w.party, r.party));
        let party = self.reads.get(&var).and_then(|rs| rs.iter().find(misses));
        let party =
            party.map(|r| format!("{} (line {})", prog.threads[r.party as usize].name, r.line));
        party.or_else(|| {
            final_reads
                .get(&var)
                .map(|line| format!("the [final] assertion (line {line})"))
        })
    }
}

/// Adds `at` to `places` unless its party is there already.
fn first_of_party(places: &mut Vec<Place>, at: Place) {
    if !places.iter().any(|p| p.party == at.party) {
        places.push(at);
    }
}

/// Only programs with processes have copies of memory.
fn has_processes(prog: &Program) -> bool {
    prog.threads.iter().any(|t| t.process)
}

fn lost_write(prog: &Program, var: VarId, w: &Place, reader: &str) -> LostWrite {
    let name = &prog.vars[var as usize].name;
    let writer = &prog.threads[w.party as usize].name;
    LostWrite {
        variable: name.clone(),
        message: format!(
            "{writer} (line {}) writes {name} in its own copy of memory, and {reader} reads {name}: a process works on a copy of [shared] and [atomics] variables taken when it starts, so the reader only ever sees its own copy and never this write; share the value through a Queue, a Pipe, a Value or Array, or a Manager",
            w.line
        ),
    }
}

/// The variables the `[final]` assertions read, with the line of the first.
fn final_reads(prog: &Program) -> BTreeMap<VarId, u32> {
    let mut out = BTreeMap::new();
    for check in &prog.final_asserts {
        for i in &check.code.instrs {
            if let Instr::GhostRead { var, .. } = i {
                out.entry(*var).or_insert(check.line);
            }
        }
    }
    out
}
