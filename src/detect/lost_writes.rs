//! `process_write_lost` warnings: a process writes a variable that another party (or a
//! `[final]` assertion) reads, but every process works on its own copy of `[shared]`
//! and `[atomics]` memory (SCENARIO.md, Processes), so the reader never sees the write.
//! This is the classic first mistake with `multiprocessing`: the child fills a dict and
//! the parent's stays empty.
//!
//! The explorer feeds each explored execution to [`LostWrites::execution`]: every write
//! of a process to its own copy, and every read of the same variable by any other
//! party, with where it happened. A variable is reported when some execution has such a
//! write and some execution such a read (not necessarily the same one: the lesson is the
//! same). The first place of each, in the order the executions were explored, is named;
//! exploration order is deterministic, so the message is too. `Value` and `Array`
//! objects are shared memory and never reported; `[ghost]` writes are not steps and are
//! not seen.

use crate::ir::{Instr, Program, ThreadId, VarId};
use crate::machine::Event;
use std::collections::BTreeMap;

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
    /// The first write of a process to its own copy.
    writes: BTreeMap<VarId, Place>,
    /// Per variable, the first read by each party.
    reads: BTreeMap<VarId, Vec<Place>>,
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

impl LostWrites {
    /// Adds the accesses of one execution: the thread of each step and its events.
    pub fn execution<'a>(
        &mut self,
        prog: &Program,
        steps: impl IntoIterator<Item = (ThreadId, &'a [Event])>,
    ) {
        if !prog.threads.iter().any(|t| t.process) {
            return;
        }
        for (party, events) in steps {
            for e in events {
                if let Event::Access {
                    cell, write, line, ..
                } = e
                {
                    self.access(prog, party, *cell, *write, *line);
                }
            }
        }
    }

    fn access(&mut self, prog: &Program, party: ThreadId, address: u32, write: bool, line: u32) {
        let (mem, cell) = prog.locate(address);
        if mem == prog.memories {
            return; // a Value or Array: shared memory
        }
        let var = prog.var_of_cell(cell);
        let place = Place { party, line };
        if write && prog.threads[party as usize].process {
            self.writes.entry(var).or_insert(place);
        } else if !write {
            let reads = self.reads.entry(var).or_default();
            if !reads.iter().any(|p| p.party == party) {
                reads.push(place);
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
        for (var, w) in later.writes {
            self.writes.entry(var).or_insert(w);
        }
        for (var, rs) in later.reads {
            let mine = self.reads.entry(var).or_default();
            for r in rs {
                if !mine.iter().any(|p| p.party == r.party) {
                    mine.push(r);
                }
            }
        }
    }

    /// The warnings, in variable order.
    pub fn warnings(&self, prog: &Program) -> Vec<LostWrite> {
        let final_reads = final_reads(prog);
        let mut out = vec![];
        for (var, w) in &self.writes {
            let reader = self
                .reads
                .get(var)
                .and_then(|rs| rs.iter().find(|r| r.party != w.party))
                .map(|r| format!("{} (line {})", prog.threads[r.party as usize].name, r.line));
            let reader = reader.or_else(|| {
                final_reads
                    .get(var)
                    .map(|line| format!("the [final] assertion (line {line})"))
            });
            if let Some(reader) = reader {
                out.push(lost_write(prog, *var, w, &reader));
            }
        }
        out
    }
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
