//! The IR interpreter for the engines that run a scenario on threads: each scenario
//! thread is one runtime thread that runs [`run_thread`] over its instructions, against
//! the primitives of [`crate::engines::primitives`], so that the same code serves native threads,
//! loom and shuttle.
//!
//! It mirrors [`crate::machine`]: expressions use the machine's own [`binary`],
//! [`compare`] and [`unary`]; a step is a visible instruction and the local code after
//! it, run while holding the execution's kernel, followed by the `[invariant]` check;
//! the scheduler may switch threads between steps (the kernel is released there).
//!
//! Differences from the machine, all about choices the explorer enumerates and a runtime
//! must make once:
//! - `choose(lo, hi)` takes one value from the runtime's random source (seeded per
//!   thread natively and under loom, shuttle's recorded randomness under shuttle);
//! - a wait with a timeout gives up at once with probability 1/2, else waits and times
//!   out only when nothing else could move;
//! - which waiters `notify` wakes is decided by which of them runs first;
//! - the wake-up of a blocking wait (`Condition.wait`, `Event.wait`, `Barrier.wait`)
//!   counts as a step, as in the machine, but runs in the same critical section as the
//!   operation it completes.

use crate::engines::primitives::{
    Found, KState, Kernel, Life, Loc, Res, Step, Stop, Wait, as_int, truthy,
};
use crate::engines::runtime::{Runtime, below};
use crate::ir::{
    Code, Instr, LocalId, ObjId, ObjSel, Operand, Pc, PrintArg, Program, ThreadId, ThreadSel,
};
use crate::ir::{FindingKind, Value};
use crate::machine::{LOCAL_BUDGET, MAX_CHOOSE, binary, compare, unary};
use std::sync::Arc;

/// How one execution runs.
#[derive(Clone, Debug)]
pub struct ExecConfig {
    pub max_steps: u64,
    /// Native only: random yields and short sleeps between steps.
    pub stress: bool,
}

/// What one execution found.
#[derive(Clone, Debug, Default)]
pub struct ExecResult {
    pub found: Vec<Found>,
    /// The observed values, when every started thread finished without a failure.
    pub outcome: Option<Vec<Value>>,
}

enum Flow {
    Next,
    End,
    Fail(FindingKind, String),
    Stopped,
}

struct Th<'p> {
    prog: &'p Program,
    code: Arc<Code>,
    t: ThreadId,
    tid: i64,
    locals: Vec<Option<Value>>,
    pc: Pc,
    rng: u64,
}

/// Runs thread `t` of one execution to its end (or until the execution stops).
pub fn run_thread<R: Runtime>(
    prog: &Program,
    k: &Kernel<R>,
    t: ThreadId,
    cfg: &ExecConfig,
    seed: u64,
) {
    let info = &prog.threads[t as usize];
    let mut th = Th {
        prog,
        code: info.code.clone(),
        t,
        tid: info.tid,
        locals: vec![None; info.code.locals as usize],
        pc: 0,
        rng: seed ^ (t as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D),
    };
    let mut g = k.lock();
    // A thread that is not started waits to be started, or for everyone to finish.
    while g.threads[t as usize].life == Life::NotStarted {
        if g.stop.is_some() || g.all_finished() {
            return;
        }
        g = k.park(g, t);
    }
    if g.stop.is_some() {
        return;
    }
    if let Err((kind, msg)) = th.run_local(&mut g) {
        th.fail(&mut g, kind, msg);
        k.notify(prog, &mut g);
        return;
    }
    check_invariants(prog, &mut g);
    loop {
        drop(g);
        if cfg.stress {
            stress::<R>(&mut th.rng);
        }
        g = k.lock();
        if g.stop.is_some() {
            return;
        }
        if let Some(reads) = g.threads[t as usize].spin_pending.take() {
            g.threads[t as usize].spin.clear();
            let (g2, r) = k.block(prog, g, t, Wait::Spin { reads });
            g = g2;
            if r.is_err() {
                return;
            }
        }
        if g.steps >= cfg.max_steps {
            if g.stop.is_none() {
                g.stop = Some(Stop::MaxSteps(cfg.max_steps));
            }
            k.notify(prog, &mut g);
            return;
        }
        g.steps += 1;
        g.threads[t as usize].line = th.code.lines[th.pc as usize];
        let (g2, flow) = th.visible(k, g);
        g = g2;
        match flow {
            Flow::Next => {
                if let Err((kind, msg)) = th.run_local(&mut g) {
                    th.fail(&mut g, kind, msg);
                    check_invariants(prog, &mut g);
                    k.notify(prog, &mut g);
                    return;
                }
                check_invariants(prog, &mut g);
                k.notify(prog, &mut g);
            }
            Flow::End => {
                g.finish(t);
                check_invariants(prog, &mut g);
                k.notify(prog, &mut g);
                return;
            }
            Flow::Fail(kind, msg) => {
                th.fail(&mut g, kind, msg);
                check_invariants(prog, &mut g);
                k.notify(prog, &mut g);
                return;
            }
            Flow::Stopped => return,
        }
    }
}

/// Random yields and short sleeps (native `--stress`).
fn stress<R: Runtime>(rng: &mut u64) {
    match below::<R>(rng, 100) {
        0..20 => R::yield_now(),
        20..25 if R::NAME == "native" => {
            let us = 1 + below::<R>(rng, 50);
            std::thread::sleep(std::time::Duration::from_micros(us));
        }
        _ => {}
    }
}

/// Records a failure once per execution (same kind and message).
fn record(st: &mut KState, kind: FindingKind, message: String) {
    if !st
        .found
        .iter()
        .any(|f| f.kind == kind && f.message == message)
    {
        st.found.push(Found { kind, message });
    }
}

fn check_invariants(prog: &Program, st: &mut KState) {
    for inv in &prog.invariants {
        if let Err(msg) = eval_check(prog, &st.cells, &inv.code) {
            let (kind, message) = if msg.starts_with("AssertionError") {
                (
                    FindingKind::Assertion,
                    format!("invariant `{}` does not hold", inv.text),
                )
            } else {
                (
                    FindingKind::Error,
                    format!("invariant `{}`: {msg}", inv.text),
                )
            };
            st.failed = true;
            record(st, kind, format!("line {}: {message}", inv.line));
            return;
        }
    }
}

/// Classifies a finished execution: its failures, or how it got stuck, or its final
/// check and outcome (the explorer's rules: nothing after a failure).
pub fn conclude(prog: &Program, st: &KState) -> ExecResult {
    let mut r = ExecResult {
        found: st.found.clone(),
        outcome: None,
    };
    if st.failed {
        return r;
    }
    match &st.stop {
        Some(Stop::Stuck { kind, message }) => r.found.push(Found {
            kind: *kind,
            message: message.clone(),
        }),
        Some(Stop::MaxSteps(n)) => r.found.push(Found {
            kind: FindingKind::Livelock,
            message: format!("the execution ran past max_steps = {n} without finishing"),
        }),
        Some(Stop::Abandoned(m)) => r.found.push(Found {
            kind: FindingKind::Livelock,
            message: m.clone(),
        }),
        None => {
            if st.all_finished() {
                for f in &prog.final_asserts {
                    if let Err(msg) = eval_check(prog, &st.cells, &f.code) {
                        let (kind, message) = if msg.starts_with("AssertionError") {
                            (
                                FindingKind::Assertion,
                                format!("final assertion `{}` does not hold", f.text),
                            )
                        } else {
                            (
                                FindingKind::Error,
                                format!("final assertion `{}`: {msg}", f.text),
                            )
                        };
                        r.found.push(Found {
                            kind,
                            message: format!("line {}: {message}", f.line),
                        });
                        break;
                    }
                }
                r.outcome = Some(
                    prog.observe
                        .iter()
                        .map(|(_, c)| st.cells[*c as usize])
                        .collect(),
                );
            }
        }
    }
    r
}

/// Runs a `[final]` or `[invariant]` check's code over the cells (as the machine does).
fn eval_check(prog: &Program, cells: &[Value], code: &Code) -> Res<()> {
    let mut locals: Vec<Option<Value>> = vec![None; code.locals as usize];
    let get = |locals: &Vec<Option<Value>>, o: Operand| -> Res<Value> {
        match o {
            Operand::Const(v) => Ok(v),
            Operand::Local(i) => locals[i as usize].ok_or_else(|| "NameError".to_string()),
            Operand::Tid => Ok(Value::Int(0)),
        }
    };
    let mut pc = 0usize;
    let mut budget = LOCAL_BUDGET;
    while pc < code.instrs.len() {
        budget -= 1;
        if budget == 0 {
            return Err("check runs too long".into());
        }
        match &code.instrs[pc] {
            Instr::Move { dst, src } => locals[*dst as usize] = Some(get(&locals, *src)?),
            Instr::Unary { dst, op, a } => {
                locals[*dst as usize] = Some(unary(*op, get(&locals, *a)?)?)
            }
            Instr::Binary { dst, op, a, b } => {
                locals[*dst as usize] = Some(binary(*op, get(&locals, *a)?, get(&locals, *b)?)?)
            }
            Instr::Compare { dst, op, a, b } => {
                locals[*dst as usize] = Some(Value::Bool(compare(
                    *op,
                    get(&locals, *a)?,
                    get(&locals, *b)?,
                )?))
            }
            Instr::Jump { target } => {
                pc = *target as usize;
                continue;
            }
            Instr::Branch { cond, when, target } if truthy(get(&locals, *cond)?) == *when => {
                pc = *target as usize;
                continue;
            }
            Instr::Assert { cond, message } if !truthy(get(&locals, *cond)?) => {
                return Err(format!("AssertionError: {message}"));
            }
            Instr::GhostRead { dst, var, index } => {
                let info = &prog.vars[*var as usize];
                let cell = match (index, info.len) {
                    (None, _) => info.first_cell,
                    (Some(i), Some(len)) => {
                        let i = as_int(get(&locals, *i)?, "list indices")?;
                        let j = if i < 0 { i + len as i64 } else { i };
                        if j < 0 || j >= len as i64 {
                            return Err(format!(
                                "IndexError: list index {i} out of range for {}[{len}]",
                                info.name
                            ));
                        }
                        info.first_cell + j as u32
                    }
                    (Some(_), None) => return Err("TypeError: not an array".into()),
                };
                locals[*dst as usize] = Some(cells[cell as usize]);
            }
            _ => {}
        }
        pc += 1;
    }
    Ok(())
}

/// The local a visible instruction writes its result to.
fn dest(i: &Instr) -> Option<LocalId> {
    match i {
        Instr::Read { dst, .. } | Instr::Choose { dst, .. } | Instr::IsAlive { dst, .. } => {
            Some(*dst)
        }
        Instr::Call { dst, .. } => *dst,
        _ => None,
    }
}

impl Th<'_> {
    fn name(&self) -> &str {
        &self.prog.threads[self.t as usize].name
    }

    fn fail(&self, st: &mut KState, kind: FindingKind, msg: String) {
        let line = self.code.lines.get(self.pc as usize).copied().unwrap_or(0);
        let message = format!("{} (line {line}): {msg}", self.name());
        st.failed = true;
        record(st, kind, message);
        st.finish(self.t);
    }

    fn operand(&self, o: Operand) -> Res<Value> {
        operand(&self.code, &self.locals, self.tid, o)
    }

    fn cell(&self, var: u32, index: Option<Operand>) -> Res<u32> {
        let info = &self.prog.vars[var as usize];
        match (index, info.len) {
            (None, _) => Ok(info.first_cell),
            (Some(i), Some(len)) => {
                let i = as_int(self.operand(i)?, "list indices")?;
                let j = if i < 0 { i + len as i64 } else { i };
                if j < 0 || j >= len as i64 {
                    return Err(format!(
                        "IndexError: list index {i} out of range for {}[{len}]",
                        info.name
                    ));
                }
                Ok(info.first_cell + j as u32)
            }
            (Some(_), None) => Err(format!("TypeError: '{}' is not an array", info.name)),
        }
    }

    fn obj(&self, sel: ObjSel) -> Res<ObjId> {
        let g = &self.prog.object_groups[sel.group as usize];
        match (sel.index, g.len) {
            (None, _) => Ok(g.first),
            (Some(i), Some(len)) => {
                let i = as_int(self.operand(i)?, "list indices")?;
                let j = if i < 0 { i + len as i64 } else { i };
                if j < 0 || j >= len as i64 {
                    return Err(format!(
                        "IndexError: index {i} out of range for {}[{len}]",
                        g.name
                    ));
                }
                Ok(g.first + j as u32)
            }
            (Some(_), None) => Err(format!("TypeError: '{}' is not an array", g.name)),
        }
    }

    fn thread_sel(&self, sel: ThreadSel) -> Res<Vec<ThreadId>> {
        let g = &self.prog.thread_groups[sel.group as usize];
        match (sel.index, g.len) {
            (None, _) => Ok((g.first..g.first + g.count()).collect()),
            (Some(i), Some(len)) => {
                let i = as_int(self.operand(i)?, "list indices")?;
                let j = if i < 0 { i + len as i64 } else { i };
                if j < 0 || j >= len as i64 {
                    return Err(format!(
                        "IndexError: index {i} out of range for {}[{len}]",
                        g.name
                    ));
                }
                Ok(vec![g.first + j as u32])
            }
            (Some(_), None) => Err(format!("TypeError: '{}' is not an array", g.name)),
        }
    }

    fn choose_range(&self, lo: Operand, hi: Operand) -> Res<(i64, i64)> {
        let lo = as_int(self.operand(lo)?, "choose bounds")?;
        let hi = as_int(self.operand(hi)?, "choose bounds")?;
        if lo > hi {
            return Err(format!("ValueError: empty range for choose({lo}, {hi})"));
        }
        if hi.saturating_sub(lo) >= MAX_CHOOSE {
            return Err(format!(
                "ValueError: choose({lo}, {hi}) offers more than {MAX_CHOOSE} values"
            ));
        }
        Ok((lo, hi))
    }

    fn set(&mut self, dst: LocalId, v: Value) {
        self.locals[dst as usize] = Some(v);
    }

    /// Runs local instructions up to the next visible one. `Err`: a failure of this thread.
    fn run_local(&mut self, st: &mut KState) -> Result<(), (FindingKind, String)> {
        let mut budget = LOCAL_BUDGET;
        loop {
            let instr = &self.code.instrs[self.pc as usize];
            if instr.is_visible() {
                return Ok(());
            }
            budget -= 1;
            if budget == 0 {
                return Err((
                    FindingKind::Livelock,
                    format!(
                        "{} ran {LOCAL_BUDGET} local instructions without taking a step",
                        self.name()
                    ),
                ));
            }
            let instr = instr.clone();
            if let Instr::LoopHead = instr {
                st.loop_head(self.t, self.pc, &self.locals);
                let th = &mut st.threads[self.t as usize];
                if th.spin_pending.as_ref().is_some_and(|r| r.is_empty()) {
                    // Nothing can ever change what this loop sees: block at once. The
                    // wait never ends: the caller finds the execution stopped.
                    th.spin_pending = None;
                    th.spin.clear();
                    th.wait = Some(Wait::Spin { reads: vec![] });
                    return Ok(());
                }
                self.pc += 1;
                continue;
            }
            match self.exec_local(st, &instr) {
                Ok(Some(target)) => self.pc = target,
                Ok(None) => self.pc += 1,
                Err(msg) => {
                    let kind = if msg.starts_with("AssertionError") {
                        FindingKind::Assertion
                    } else {
                        FindingKind::Error
                    };
                    return Err((kind, msg));
                }
            }
        }
    }

    fn exec_local(&mut self, st: &mut KState, instr: &Instr) -> Res<Option<Pc>> {
        match instr {
            Instr::Move { dst, src } => {
                let v = self.operand(*src)?;
                self.set(*dst, v);
            }
            Instr::Unary { dst, op, a } => {
                let v = unary(*op, self.operand(*a)?)?;
                self.set(*dst, v);
            }
            Instr::Binary { dst, op, a, b } => {
                let v = binary(*op, self.operand(*a)?, self.operand(*b)?)?;
                self.set(*dst, v);
            }
            Instr::Compare { dst, op, a, b } => {
                let v = compare(*op, self.operand(*a)?, self.operand(*b)?)?;
                self.set(*dst, Value::Bool(v));
            }
            Instr::Jump { target } => return Ok(Some(*target)),
            Instr::Branch { cond, when, target } => {
                if truthy(self.operand(*cond)?) == *when {
                    return Ok(Some(*target));
                }
            }
            Instr::Assert { cond, message } => {
                if !truthy(self.operand(*cond)?) {
                    return Err(format!("AssertionError: {message}"));
                }
            }
            Instr::Print { args } => {
                let mut line = String::new();
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        line.push(' ');
                    }
                    match a {
                        PrintArg::Str(s) => line.push_str(s),
                        PrintArg::Value(o) => line.push_str(&self.operand(*o)?.to_string()),
                    }
                }
                st.prints.push(format!("{}: {line}", self.name()));
            }
            Instr::GhostRead { dst, var, index } => {
                let cell = self.cell(*var, *index)?;
                st.note_read(self.t, Loc::Cell(cell));
                let v = st.cells[cell as usize];
                self.set(*dst, v);
            }
            Instr::GhostWrite { var, index, value } => {
                let cell = self.cell(*var, *index)?;
                let v = self.operand(*value)?;
                st.write_cell(self.t, cell, v);
            }
            Instr::CheckStep { step } => {
                if as_int(self.operand(*step)?, "range() step")? == 0 {
                    return Err("ValueError: range() arg 3 must not be zero".into());
                }
            }
            Instr::LoopHead => st.loop_head(self.t, self.pc, &self.locals),
            _ => return Err("internal: a step inside local code".into()),
        }
        Ok(None)
    }

    /// Executes the visible instruction at `pc` (blocking if it must).
    fn visible<'a, R: Runtime>(
        &mut self,
        k: &'a Kernel<R>,
        mut g: R::Guard<'a, KState>,
    ) -> (R::Guard<'a, KState>, Flow) {
        let t = self.t;
        // A loop that can never change what it sees blocked in run_local.
        if let Some(w) = g.threads[t as usize].wait.take() {
            let (g2, r) = k.block(self.prog, g, t, w);
            return (g2, if r.is_ok() { Flow::Next } else { Flow::Stopped });
        }
        let instr = self.code.instrs[self.pc as usize].clone();
        let r: Res<Option<Value>> = match &instr {
            Instr::Read { var, index, .. } => self
                .cell(*var, *index)
                .map(|cell| st_read(&mut g, t, cell))
                .map(Some),
            Instr::Write { var, index, value } => (|| {
                let v = self.operand(*value)?;
                let cell = self.cell(*var, *index)?;
                g.write_cell(t, cell, v);
                Ok(None)
            })(),
            Instr::Sleep | Instr::Work => Ok(None),
            Instr::Choose { lo, hi, .. } => match self.choose_range(*lo, *hi) {
                Err(e) => Err(e),
                Ok((lo, hi)) => {
                    let v = lo + below::<R>(&mut self.rng, (hi - lo + 1) as u64) as i64;
                    g.note_progress(t);
                    Ok(Some(Value::Int(v)))
                }
            },
            Instr::Start { thread } => (|| {
                let ts = self.thread_sel(*thread)?;
                for x in &ts {
                    if g.threads[*x as usize].life != Life::NotStarted {
                        return Err(format!(
                            "RuntimeError: threads can only be started once ({})",
                            self.prog.threads[*x as usize].name
                        ));
                    }
                }
                for x in ts {
                    g.start(t, x);
                }
                Ok(None)
            })(),
            Instr::Join { thread } => {
                let ts = match self.thread_sel(*thread) {
                    Ok(ts) => ts,
                    Err(e) => return (g, Flow::Fail(FindingKind::Error, e)),
                };
                let (g2, r) = k.block(
                    self.prog,
                    g,
                    t,
                    Wait::Join {
                        threads: ts.clone(),
                    },
                );
                g = g2;
                if r.is_err() {
                    return (g, Flow::Stopped);
                }
                (|| {
                    for x in &ts {
                        if *x == t {
                            return Err("RuntimeError: cannot join current thread".into());
                        }
                        if g.threads[*x as usize].life == Life::NotStarted {
                            return Err(format!(
                                "RuntimeError: cannot join thread before it is started ({})",
                                self.prog.threads[*x as usize].name
                            ));
                        }
                    }
                    Ok(None)
                })()
            }
            Instr::IsAlive { thread, .. } => self.thread_sel(*thread).map(|ts| {
                let x = ts[0];
                g.note_read(t, Loc::Thread(x));
                Some(Value::Bool(g.threads[x as usize].life == Life::Running))
            }),
            Instr::End => return (g, Flow::End),
            Instr::AtomicBegin { end } => {
                let end = *end;
                let at = self.pc;
                match self.run_atomic::<R>(&mut g, at + 1, end) {
                    Ok(()) => {
                        self.pc = end + 1;
                        return (g, Flow::Next);
                    }
                    Err(e) => {
                        self.pc = at;
                        Err(e)
                    }
                }
            }
            Instr::Call { obj, op, .. } => {
                let o = match self.obj(*obj) {
                    Ok(o) => o,
                    Err(e) => return (g, Flow::Fail(FindingKind::Error, e)),
                };
                let r = {
                    let code = &self.code;
                    let locals = &self.locals;
                    let tid = self.tid;
                    let rng = &mut self.rng;
                    let ev = |x: Operand| operand(code, locals, tid, x);
                    let mut choose = |n: u64| below::<R>(rng, n);
                    g.call(self.prog, t, o, op, &ev, &mut choose, false)
                };
                match r {
                    Err(e) => Err(e),
                    Ok(Step::Done(v)) => Ok(Some(v)),
                    Ok(Step::Wait(w)) => {
                        let (g2, r) = k.block(self.prog, g, t, w);
                        g = g2;
                        match r {
                            Ok(v) => Ok(Some(v)),
                            Err(_) => return (g, Flow::Stopped),
                        }
                    }
                }
            }
            _ => Err("internal: local instruction at a step".into()),
        };
        match r {
            Err(e) => (g, Flow::Fail(FindingKind::Error, e)),
            Ok(v) => {
                if let (Some(dst), Some(v)) = (dest(&instr), v) {
                    self.set(dst, v);
                }
                self.pc += 1;
                (g, Flow::Next)
            }
        }
    }

    /// A `with atomic:` block from `from` to its `AtomicEnd` at `end`, in one step.
    fn run_atomic<R: Runtime>(&mut self, g: &mut KState, from: Pc, end: Pc) -> Res<()> {
        let t = self.t;
        self.pc = from;
        let mut budget = LOCAL_BUDGET;
        let mut depth = 0u32;
        loop {
            let pc = self.pc;
            if pc == end && depth == 0 {
                return Ok(());
            }
            budget -= 1;
            if budget == 0 {
                return Err(format!(
                    "an atomic block ran {LOCAL_BUDGET} instructions without finishing"
                ));
            }
            let instr = self.code.instrs[pc as usize].clone();
            let mut next = pc + 1;
            match &instr {
                Instr::Read { dst, var, index } => {
                    let cell = self.cell(*var, *index)?;
                    let v = st_read(g, t, cell);
                    self.set(*dst, v);
                }
                Instr::Write { var, index, value } => {
                    let v = self.operand(*value)?;
                    let cell = self.cell(*var, *index)?;
                    g.write_cell(t, cell, v);
                }
                Instr::AtomicBegin { .. } => depth += 1,
                Instr::AtomicEnd => depth = depth.saturating_sub(1),
                Instr::Call { dst, obj, op } => {
                    let o = self.obj(*obj)?;
                    let r = {
                        let code = &self.code;
                        let locals = &self.locals;
                        let tid = self.tid;
                        let rng = &mut self.rng;
                        let ev = |x: Operand| operand(code, locals, tid, x);
                        let mut choose = |n: u64| below::<R>(rng, n);
                        g.call(self.prog, t, o, op, &ev, &mut choose, true)?
                    };
                    match r {
                        Step::Done(v) => {
                            if let Some(d) = dst {
                                self.set(*d, v);
                            }
                        }
                        Step::Wait(_) => {
                            return Err(format!(
                                "{}() would block inside `with atomic:`",
                                op.name()
                            ));
                        }
                    }
                }
                Instr::IsAlive { dst, thread } => {
                    let ts = self.thread_sel(*thread)?;
                    let alive = g.threads[ts[0] as usize].life == Life::Running;
                    self.set(*dst, Value::Bool(alive));
                }
                Instr::Sleep
                | Instr::Work
                | Instr::Choose { .. }
                | Instr::Start { .. }
                | Instr::Join { .. }
                | Instr::End => {
                    return Err("this operation cannot run inside `with atomic:`".into());
                }
                Instr::LoopHead => {}
                local => {
                    if let Some(target) = self.exec_local(g, local)? {
                        next = target;
                    }
                }
            }
            self.pc = next;
        }
    }
}

fn st_read(st: &mut KState, t: ThreadId, cell: u32) -> Value {
    st.note_read(t, Loc::Cell(cell));
    st.cells[cell as usize]
}

fn operand(code: &Code, locals: &[Option<Value>], tid: i64, o: Operand) -> Res<Value> {
    match o {
        Operand::Const(v) => Ok(v),
        Operand::Tid => Ok(Value::Int(tid)),
        Operand::Local(id) => locals[id as usize].ok_or_else(|| {
            let name = code
                .local_names
                .get(id as usize)
                .map(String::as_str)
                .unwrap_or("?");
            format!("UnboundLocalError: local variable '{name}' referenced before assignment")
        }),
    }
}

/// What many executions of one engine found: how often each kind and each outcome was
/// seen, with example messages.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub executions: u64,
    /// Per kind: executions that saw it, and per message how many.
    pub kinds:
        std::collections::BTreeMap<FindingKind, (u64, std::collections::BTreeMap<String, u64>)>,
    pub outcomes: std::collections::BTreeMap<Vec<Value>, u64>,
    /// A replayable schedule per kind, where the engine gives one (shuttle).
    pub schedules: std::collections::BTreeMap<FindingKind, String>,
    pub complete: bool,
    pub elapsed: std::time::Duration,
    /// What the reader should know: bounds applied, what is not claimed.
    pub notes: Vec<String>,
}

impl Tally {
    pub fn add(&mut self, r: &ExecResult) {
        self.executions += 1;
        let mut seen = vec![];
        for f in &r.found {
            let e = self.kinds.entry(f.kind).or_default();
            if !seen.contains(&f.kind) {
                seen.push(f.kind);
                e.0 += 1;
            }
            *e.1.entry(f.message.clone()).or_default() += 1;
        }
        if let Some(o) = &r.outcome {
            *self.outcomes.entry(o.clone()).or_default() += 1;
        }
    }

    pub fn kinds(&self) -> Vec<FindingKind> {
        self.kinds.keys().copied().collect()
    }
}
