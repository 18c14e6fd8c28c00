//! Evaluating what a step needs before it acts: operands (constants, locals, `tid`),
//! which cell `a[i]` is, which object `fork[i]` is, which threads `worker[i]` names, and
//! the thread-local instructions that run between steps. `[final]` and `[invariant]`
//! checks are evaluated by the same code on a scratch frame.

use super::exception::{ExcKind, PyException, Res, raise};
use super::state::State;
use super::value::{as_int, binary, compare, truthy, unary};
use crate::ir::{Code, Instr, LocalId, ObjId, ObjSel, Operand, Pc, Program, ThreadId, ThreadSel};
use crate::ir::{Value, VarInfo};

/// How many local instructions may run between two steps (or in one check, or in one
/// atomic block) before the machine calls it a livelock.
pub const LOCAL_BUDGET: u32 = 100_000;

/// Evaluation context of one thread, borrowed from the program.
pub(super) struct Ctx<'a> {
    pub prog: &'a Program,
    pub code: &'a Code,
    pub t: ThreadId,
    pub tid: i64,
    /// The thread's memory (0: the main program's; a process has its own).
    pub mem: u32,
}

/// What a thread-local instruction does to the control flow.
pub(super) enum Flow {
    /// Go on with the next instruction (after writing `Some((local, value))`).
    Next(Option<(LocalId, Value)>),
    Jump(Pc),
}

/// The instructions that only compute on locals and jump (the same for a thread and for
/// a check); `None` for every other instruction.
pub(super) fn pure(instr: &Instr, get: &dyn Fn(Operand) -> Res<Value>) -> Option<Res<Flow>> {
    let set = |dst: &LocalId, v: Res<Value>| Some(v.map(|v| Flow::Next(Some((*dst, v)))));
    match instr {
        Instr::Move { dst, src } => set(dst, get(*src)),
        Instr::Unary { dst, op, a } => set(dst, get(*a).and_then(|a| unary(*op, a))),
        Instr::Binary { dst, op, a, b } => set(dst, get(*a).and_then(|a| binary(*op, a, get(*b)?))),
        Instr::Compare { dst, op, a, b } => set(
            dst,
            get(*a).and_then(|a| compare(*op, a, get(*b)?).map(Value::Bool)),
        ),
        Instr::Jump { target } => Some(Ok(Flow::Jump(*target))),
        Instr::Branch { cond, when, target } => Some(get(*cond).map(|c| {
            if truthy(c) == *when {
                Flow::Jump(*target)
            } else {
                Flow::Next(None)
            }
        })),
        Instr::Assert { cond, message } => Some(get(*cond).and_then(|c| {
            if truthy(c) {
                Ok(Flow::Next(None))
            } else {
                Err(PyException::assertion(message.clone()))
            }
        })),
        Instr::CheckStep { step } => Some(get(*step).and_then(|s| {
            if as_int(s, "range() step")? == 0 {
                raise(ExcKind::ValueError, "range() arg 3 must not be zero")
            } else {
                Ok(Flow::Next(None))
            }
        })),
        _ => None,
    }
}

/// Python's index `i` into a sequence of `len` (negative counts from the end).
fn position(i: i64, len: u32) -> Option<u32> {
    let j = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&j).then_some(j as u32)
}

/// The cell of `var[index]` (`index` already evaluated).
pub(super) fn cell_of(info: &VarInfo, index: Option<Value>) -> Res<u32> {
    match (index, info.len) {
        (None, _) => Ok(info.first_cell),
        (Some(i), Some(len)) => {
            let i = as_int(i, "list indices")?;
            match position(i, len) {
                Some(j) => Ok(info.first_cell + j),
                None => raise(
                    ExcKind::IndexError,
                    format!(
                        "list index {i} out of range: {} has {}",
                        info.name,
                        crate::ir::counted(len as usize, "item", "items")
                    ),
                ),
            }
        }
        (Some(_), None) => raise(
            ExcKind::TypeError,
            format!("'{}' is not an array", info.name),
        ),
    }
}

/// The members `first..` of a group named `name` of `len` (an array) that `index`
/// selects: all of them without an index.
pub(super) fn select(
    name: &str,
    first: u32,
    len: Option<u32>,
    index: Option<Value>,
) -> Res<(u32, u32)> {
    match (index, len) {
        (None, _) => Ok((first, first + len.unwrap_or(1))),
        (Some(i), Some(len)) => {
            let i = as_int(i, "list indices")?;
            match position(i, len) {
                Some(j) => Ok((first + j, first + j + 1)),
                None => raise(
                    ExcKind::IndexError,
                    format!(
                        "index {i} out of range: {name} has {}",
                        crate::ir::counted(len as usize, "item", "items")
                    ),
                ),
            }
        }
        (Some(_), None) => raise(ExcKind::TypeError, format!("'{name}' is not an array")),
    }
}

impl State {
    pub(super) fn ctx<'a>(&self, prog: &'a Program, t: ThreadId) -> Ctx<'a> {
        let info = &prog.threads[t as usize];
        Ctx {
            prog,
            code: &info.code,
            t,
            tid: info.tid,
            mem: info.memory,
        }
    }

    pub(super) fn operand(&self, c: &Ctx, o: Operand) -> Res<Value> {
        match o {
            Operand::Const(v) => Ok(v),
            Operand::Tid => Ok(Value::Int(c.tid)),
            Operand::Local(id) => self.threads[c.t as usize].locals[id as usize].ok_or_else(|| {
                let name = c.code.local_names.get(id as usize).map(String::as_str);
                PyException::new(
                    ExcKind::UnboundLocalError,
                    format!(
                        "local variable '{}' referenced before assignment",
                        name.unwrap_or("?")
                    ),
                )
            }),
        }
    }

    fn index(&self, c: &Ctx, index: Option<Operand>) -> Res<Option<Value>> {
        index.map(|i| self.operand(c, i)).transpose()
    }

    pub(super) fn set_local(&mut self, t: ThreadId, id: LocalId, v: Value) {
        self.threads[t as usize].locals[id as usize] = Some(v);
    }

    /// The address of `var[index]` in the thread's memory, with Python's negative
    /// indices.
    pub(super) fn cell(&self, c: &Ctx, var: u32, index: Option<Operand>) -> Res<u32> {
        let cell = cell_of(&c.prog.vars[var as usize], self.index(c, index)?)?;
        Ok(c.prog.address(c.mem, cell))
    }

    /// The object `group[index]`.
    pub(super) fn obj(&self, c: &Ctx, sel: ObjSel) -> Res<ObjId> {
        let g = &c.prog.object_groups[sel.group as usize];
        Ok(select(&g.name, g.first, g.len, self.index(c, sel.index)?)?.0)
    }

    /// The threads `group` (every instance) or `group[index]` (one).
    pub(super) fn thread_sel(&self, c: &Ctx, sel: ThreadSel) -> Res<Vec<ThreadId>> {
        let g = &c.prog.thread_groups[sel.group as usize];
        let (from, to) = select(&g.name, g.first, g.len, self.index(c, sel.index)?)?;
        Ok((from..to).collect())
    }

    /// `timeout` in microseconds as given; `None` when there is none (or it is `None`).
    pub(super) fn timeout_of(&self, c: &Ctx, timeout: Option<Operand>) -> Res<Option<i64>> {
        match timeout.map(|o| self.operand(c, o)).transpose()? {
            None | Some(Value::None) => Ok(None),
            Some(v) => Ok(Some(as_int(v, "timeout")?)),
        }
    }

    /// Does the operation give up after `timeout`? Any number does, a negative one at
    /// once, as Python's waits do (a Lock's `acquire` and a Queue's `put` and `get`, which
    /// read a negative one otherwise, look at it first: see `lock::lock_timeout` and
    /// `queue::refuses`).
    pub(super) fn timed(&self, c: &Ctx, timeout: Option<Operand>) -> Res<bool> {
        Ok(self.timeout_of(c, timeout)?.is_some())
    }

    /// A `blocking=`/`block=` flag (default True).
    pub(super) fn flag(&self, c: &Ctx, o: Option<Operand>) -> Res<bool> {
        match o {
            None => Ok(true),
            Some(o) => Ok(truthy(self.operand(c, o)?)),
        }
    }

    /// Runs a `[final]` or `[invariant]` check's code on a scratch frame: `Err` when its
    /// assertion is false (AssertionError) or it raises.
    pub(super) fn eval_check(&self, prog: &Program, code: &Code) -> Res<()> {
        let mut locals: Vec<Option<Value>> = vec![None; code.locals as usize];
        let mut pc = 0usize;
        let mut budget = LOCAL_BUDGET;
        while pc < code.instrs.len() {
            budget -= 1;
            if budget == 0 {
                return raise(ExcKind::Livelock, "the check runs too long");
            }
            let get = |o: Operand| match o {
                Operand::Const(v) => Ok(v),
                Operand::Tid => Ok(Value::Int(0)),
                Operand::Local(i) => locals[i as usize]
                    .ok_or_else(|| PyException::new(ExcKind::NameError, "name is not defined")),
            };
            let flow = match &code.instrs[pc] {
                Instr::GhostRead { dst, var, index } => {
                    let index = index.map(get).transpose()?;
                    let cell = cell_of(&prog.vars[*var as usize], index)?;
                    let address = prog.address(0, cell);
                    Flow::Next(Some((*dst, self.cells[address as usize])))
                }
                i => pure(i, &get).unwrap_or(Ok(Flow::Next(None)))?,
            };
            match flow {
                Flow::Jump(target) => pc = target as usize,
                Flow::Next(set) => {
                    if let Some((dst, v)) = set {
                        locals[dst as usize] = Some(v);
                    }
                    pc += 1;
                }
            }
        }
        Ok(())
    }
}
