//! What one step does: [`State::step`] moves one thread by one step, the only way an
//! execution changes. A step is the thread's next visible instruction (a read or write
//! of a shared cell, an object operation, start, join, sleep, work, choose, a whole
//! `with atomic:` block, the thread's end) or the next phase of a blocking operation,
//! followed by the thread's local code up to its next visible instruction, then the
//! `[invariant]` check.
//!
//! A failure (an assertion, or what Python raises) ends its thread: the thread is
//! finished, the state is marked failed (no outcome and no deadlock is reported after
//! it), and the other threads may still move, as in Python, where an exception ends only
//! the thread that raised it.

use super::eval::{Ctx, Flow, LOCAL_BUDGET, pure};
use super::events::{Chan, Event};
use super::exception::{ExcKind, PyException, Res, raise};
use super::objects::{self, Call, Outcome};
use super::spin::Loc;
use super::state::{Caught, Choice, Failure, Policy, State, Status};
use super::value::{as_int, cas_matches};
use crate::frontend::ast::VarClass;
use crate::ir::{
    FindingKind, Instr, LocalId, Operand, Pc, PrintArg, Program, ThreadId, Value,
    choose_range_error,
};
use std::fmt::Write as _;

/// What a step did.
#[derive(Clone, Debug, Default)]
pub struct StepOut {
    pub events: Vec<Event>,
    pub failure: Option<Failure>,
    /// `print` output, in order.
    pub prints: Vec<String>,
    /// The trace line (only when asked for).
    pub text: Option<String>,
    pub line: u32,
}

impl StepOut {
    pub(super) fn say(&mut self, s: &str) {
        if let Some(o) = self.text.as_mut() {
            if !o.is_empty() {
                o.push_str("; ");
            }
            o.push_str(s);
        }
    }
}

/// Appends to a step's trace line, formatting only when a trace is asked for.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        if $out.text.is_some() {
            let s = format!($($arg)*);
            $out.say(&s);
        }
    };
}
pub(super) use say;

impl State {
    /// The state before the first step under the explorer's policies, with the failures
    /// of the started threads' first local code (each ends its thread).
    pub fn initial(prog: &Program) -> (State, Vec<Failure>) {
        State::initial_with(prog, Policy::default())
    }

    /// [`State::initial`] under other policies.
    pub fn initial_with(prog: &Program, policy: Policy) -> (State, Vec<Failure>) {
        let mut s = State::empty(prog, policy);
        // The file's own state is reachable too: an `[invariant]` is checked there before
        // the threads' first local code (a `[ghost]` update) runs.
        let mut failures: Vec<Failure> = s.check_invariants(prog).into_iter().collect();
        for t in 0..prog.threads.len() as ThreadId {
            if prog.threads[t as usize].start {
                s.threads[t as usize].status = Status::Ready;
                let mut out = StepOut::default();
                s.run_local(prog, t, &mut out);
                failures.extend(out.failure);
            }
        }
        if failures.is_empty()
            && let Some(f) = s.check_invariants(prog)
        {
            failures.push(f);
        }
        // An invariant's failure ends the execution for the report, as after a step (a
        // thread's failure in its first local code has said so already, a process's not).
        s.failed |= failures.iter().any(|f| f.thread.is_none());
        (s, failures)
    }

    /// Moves thread `t` by one step, taking alternative `alt`. Precondition (a bug in
    /// the caller otherwise): `alt < self.alternatives(prog, t)`. `trace` asks for a
    /// trace line.
    pub fn step(&mut self, prog: &Program, choice: Choice, trace: bool) -> StepOut {
        let t = choice.thread;
        let mut out = StepOut {
            text: trace.then(String::new),
            ..StepOut::default()
        };
        self.steps += 1;
        self.threads[t as usize].steps += 1;
        let c = self.ctx(prog, t);
        let pc = self.threads[t as usize].pc;
        out.line = c.code.lines.get(pc as usize).copied().unwrap_or(0);
        // Which call the step is in, read before the step (it may leave the call).
        let call = match (&out.text, c.code.call_of.get(pc as usize)) {
            (Some(_), Some(Some(call))) => Some(self.call_label(&c, *call)),
            _ => None,
        };
        if self.threads[t as usize].dying {
            self.die(&c, &mut out);
        } else {
            self.take_step(&c, pc, choice.alt, &mut out);
        }
        if let (Some(call), Some(text)) = (call, out.text.as_mut()) {
            let _ = write!(text, " (in {call})");
        }
        if out.failure.is_none() {
            out.failure = self.check_invariants(prog);
            self.failed |= out.failure.is_some();
        }
        out
    }

    /// The step of a thread that has not raised: its visible instruction (or wait
    /// phase), then its local code up to the next one.
    fn take_step(&mut self, c: &Ctx, pc: Pc, alt: u32, out: &mut StepOut) {
        let t = c.t;
        // What a spinning thread writes is compared with what it held (spin.rs).
        let spinning = !self.threads[t as usize].spin.is_empty();
        let objects = spinning.then(|| self.objects.clone());
        let result = self.exec_visible(c, alt, out);
        if let Some(objects) = objects {
            self.fill_befores(t, &objects);
        }
        match result {
            Err(e) => self.fail(c, out.line, e, out),
            Ok(Outcome::Waiting) => {}
            Ok(Outcome::Done(v)) => {
                if let Some(dst) = c.code.instrs.get(pc as usize).and_then(dest) {
                    self.set_local(t, dst, v);
                }
                if self.threads[t as usize].status != Status::Finished {
                    self.threads[t as usize].pc = match c.code.instrs[pc as usize] {
                        // The block ran whole: go on after its end.
                        Instr::AtomicBegin { end } => end + 1,
                        _ => pc + 1,
                    };
                    self.run_local(c.prog, t, out);
                }
            }
        }
    }

    /// Thread `c.t` raised `e` at `line`: the failure ends the thread. A thread's
    /// failure ends the execution for the report (no outcome, no deadlock after it); a
    /// process dies at its next step ([`Self::die`]) and the others go on.
    fn fail(&mut self, c: &Ctx, line: u32, e: PyException, out: &mut StepOut) {
        if self.catch(c, line, &e, out) {
            return;
        }
        let process = c.prog.threads[c.t as usize].process;
        let th = &mut self.threads[c.t as usize];
        th.spin.clear();
        th.spin_pending = None;
        th.spin_waits = None;
        if process {
            th.status = Status::Ready;
            th.dying = true;
        } else {
            th.status = Status::Finished;
            self.failed = true;
        }
        if out.failure.is_none() {
            out.failure = Some(Failure {
                kind: e.finding(),
                thread: Some(c.t),
                line,
                group: e.kind.name().to_string(),
                message: e.to_string(),
            });
        }
    }

    /// A failure inside a catch block (a Pool task's body): the party leaves the `with`
    /// blocks inside it, keeps the exception and goes on at the handler (a step that
    /// reports the task's failure to the pool). False when no block catches it.
    fn catch(&mut self, c: &Ctx, line: u32, e: &PyException, out: &mut StepOut) -> bool {
        let pc = self.threads[c.t as usize].pc;
        let Some(block) = c.code.catches.iter().find(|b| b.body.contains(&pc)) else {
            return false;
        };
        self.unwind_within(c, &block.body, out);
        let th = &mut self.threads[c.t as usize];
        th.caught = Some(Caught {
            exception: e.clone(),
            line,
        });
        th.status = Status::Ready;
        th.pc = block.handler;
        true
    }

    /// The step after a process raised: it leaves its `with` blocks as Python unwinds
    /// them, ends with exit code 1 and closes its Pipe ends. A step of its own, so that
    /// what a step touches depends only on where its thread is, not on what it reads,
    /// as DPOR needs: the raising step touches what it would touch had it not raised,
    /// and this one what an end does. (Found by the generated process scenarios: a
    /// failure that stopped a daemon only when it read the daemon's write gave the
    /// wakeup trees a footprint from another order, and DPOR missed six classes.)
    fn die(&mut self, c: &Ctx, out: &mut StepOut) {
        say!(out, "dies with exit code 1");
        self.unwind(c, out);
        self.ended(c, 1, out);
    }

    /// Leaves every `with` block `c.t` is in, innermost first, by running its exit (a
    /// release); what that raises is dropped, as the first exception is the one reported.
    fn unwind(&mut self, c: &Ctx, out: &mut StepOut) {
        self.unwind_within(c, &(0..Pc::MAX), out);
    }

    /// [`Self::unwind`] for the blocks that start within `range`.
    fn unwind_within(&mut self, c: &Ctx, range: &std::ops::Range<Pc>, out: &mut StepOut) {
        let pc = self.threads[c.t as usize].pc;
        let mut open: Vec<&crate::ir::WithBlock> = c
            .code
            .withs
            .iter()
            .filter(|w| w.body.contains(&pc) && range.contains(&w.body.start))
            .collect();
        open.sort_by_key(|w| std::cmp::Reverse(w.body.start));
        for w in open {
            let Instr::Call { obj, op, .. } = &c.code.instrs[w.exit as usize] else {
                continue;
            };
            if let Ok(o) = self.obj(c, *obj) {
                let mut k = Call {
                    st: self,
                    c,
                    out,
                    o,
                    alt: 0,
                };
                let _ = objects::call(&mut k, op);
            }
        }
    }

    /// The inlined call `call` of `c`'s code, with its arguments and the line it was made
    /// on, inside its callers: `deposit(5) line 4`, `add(1) line 3 in deposit(5) line 9`.
    fn call_label(&self, c: &Ctx, call: u32) -> String {
        let mut parts = vec![];
        let mut cur = Some(call);
        while let Some(i) = cur {
            let Some(ic) = c.code.calls.get(i as usize) else {
                break;
            };
            let locals = &self.threads[c.t as usize].locals;
            let args: Vec<String> = ic
                .args
                .iter()
                .map(|l| match locals.get(*l as usize).copied().flatten() {
                    Some(v) => self.show(v),
                    None => "?".into(),
                })
                .collect();
            let name = c
                .prog
                .functions
                .get(ic.func as usize)
                .map_or("?", |f| &f.name);
            parts.push(format!("{name}({}) line {}", args.join(", "), ic.line));
            cur = ic.parent;
        }
        parts.join(" in ")
    }

    /// Runs `t`'s local instructions until its next visible one.
    pub(super) fn run_local(&mut self, prog: &Program, t: ThreadId, out: &mut StepOut) {
        let c = self.ctx(prog, t);
        let mut budget = LOCAL_BUDGET;
        loop {
            let pc = self.threads[t as usize].pc;
            let Some(instr) = c.code.instrs.get(pc as usize) else {
                let e = PyException::new(ExcKind::RuntimeError, "internal: ran off the code");
                return self.fail(&c, 0, e, out);
            };
            let line = c.code.lines[pc as usize];
            if instr.is_visible() {
                let th = &mut self.threads[t as usize];
                if let Some(reads) = th.spin_pending.take() {
                    th.spin.clear();
                    th.status = Status::SpinBlocked { reads };
                }
                return;
            }
            budget -= 1;
            if budget == 0 {
                let e = PyException::new(
                    ExcKind::Livelock,
                    format!(
                        "{} ran {LOCAL_BUDGET} local instructions without taking a step",
                        prog.threads[t as usize].name
                    ),
                );
                return self.fail(&c, line, e, out);
            }
            match self.exec_local(&c, instr) {
                Ok(Some(target)) => self.threads[t as usize].pc = target,
                Ok(None) => {
                    if self.threads[t as usize].status != Status::Ready {
                        return; // blocked at a loop head
                    }
                    self.threads[t as usize].pc = pc + 1;
                }
                Err(e) => return self.fail(&c, line, e, out),
            }
        }
    }

    /// Executes one local instruction; returns a jump target if it jumps.
    fn exec_local(&mut self, c: &Ctx, instr: &Instr) -> Res<Option<Pc>> {
        let t = c.t;
        if let Some(flow) = pure(instr, &|o| self.operand(c, o)) {
            return match flow? {
                Flow::Jump(target) => Ok(Some(target)),
                Flow::Next(set) => {
                    if let Some((dst, v)) = set {
                        self.set_local(t, dst, v);
                    }
                    Ok(None)
                }
            };
        }
        match instr {
            Instr::GhostRead { dst, var, index } => {
                let cell = self.cell(c, *var, *index)?;
                self.note_read(t, Loc::Cell(cell));
                let v = self.cells[cell as usize];
                self.set_local(t, *dst, v);
            }
            Instr::GhostWrite { var, index, value } => {
                let cell = self.cell(c, *var, *index)?;
                let v = self.operand(c, *value)?;
                self.write_cell(t, cell, v);
            }
            Instr::LoopHead { .. } => self.loop_head(t),
            Instr::ClearLocals { from, to } => {
                for l in &mut self.threads[t as usize].locals[*from as usize..*to as usize] {
                    *l = None;
                }
            }
            _ => {
                let (dst, v) = self.list_instr(c, instr)?;
                self.set_local(t, dst, v);
            }
        }
        Ok(None)
    }

    /// The local instructions on lists and tasks: where the result goes, and what it is.
    fn list_instr(&mut self, c: &Ctx, instr: &Instr) -> Res<(LocalId, Value)> {
        Ok(match instr {
            Instr::MakeList { dst, items } => {
                let items = items
                    .iter()
                    .map(|o| self.operand(c, *o))
                    .collect::<Res<_>>()?;
                (*dst, self.make_list(items))
            }
            Instr::ListItem { dst, list, index } => {
                let (list, index) = (self.operand(c, *list)?, self.operand(c, *index)?);
                (*dst, self.list_item(list, index)?)
            }
            Instr::ListLen { dst, list } => {
                let n = self.items(self.operand(c, *list)?)?.len();
                (*dst, Value::Int(n as i64))
            }
            Instr::RangeList {
                dst,
                start,
                stop,
                step,
            } => {
                let [a, b, s] = [start, stop, step].map(|o| self.operand(c, *o));
                let items = range_items(
                    as_int(a?, "range()")?,
                    as_int(b?, "range()")?,
                    as_int(s?, "range()")?,
                )?;
                (*dst, self.make_list(items))
            }
            Instr::TaskField { dst, task, field } => {
                let task = self.operand(c, *task)?;
                (*dst, objects::task_field(self, task, *field)?)
            }
            _ => return raise(ExcKind::RuntimeError, "internal: a step run as local code"),
        })
    }

    /// `print(...)`: one step that appends a line to the execution's output.
    fn print(&mut self, c: &Ctx, args: &[PrintArg], out: &mut StepOut) -> Res<()> {
        let line = self.print_line(c, args)?;
        say!(out, "print {line}");
        let shown = format!("{}: {line}", c.prog.threads[c.t as usize].name);
        self.output.push(shown.as_str().into());
        out.prints.push(shown);
        Ok(())
    }

    fn print_line(&self, c: &Ctx, args: &[PrintArg]) -> Res<String> {
        let mut line = String::new();
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                line.push(' ');
            }
            match a {
                PrintArg::Str(s) => line.push_str(s),
                PrintArg::Value(o) => {
                    let v = self.operand(c, *o)?;
                    line.push_str(&self.show(v));
                }
            }
        }
        Ok(line)
    }

    /// Executes the visible instruction (or wait phase) of `c.t`.
    fn exec_visible(&mut self, c: &Ctx, alt: u32, out: &mut StepOut) -> Res<Outcome> {
        let t = c.t;
        match &self.threads[t as usize].status {
            Status::Waiting(w) => {
                let w = w.clone();
                let o = w.object();
                let mut k = Call {
                    st: self,
                    c,
                    out,
                    o,
                    alt,
                };
                return objects::resume(&mut k, &w);
            }
            Status::Ready => {}
            _ => return raise(ExcKind::RuntimeError, "internal: a thread that cannot move"),
        }
        let pc = self.threads[t as usize].pc;
        match &c.code.instrs[pc as usize] {
            Instr::Read { var, index, .. } => {
                let cell = self.cell(c, *var, *index)?;
                let v = self.read_cell(c, cell, out);
                say!(out, "read {} = {v}", cell_label(c, cell));
                Ok(Outcome::Done(v))
            }
            Instr::Write { var, index, value } => {
                let v = self.operand(c, *value)?;
                let cell = self.cell(c, *var, *index)?;
                self.write_visible(c, cell, v, out)?;
                say!(out, "write {} = {v}", cell_label(c, cell));
                Ok(Outcome::Done(Value::None))
            }
            Instr::Cas {
                var,
                index,
                expected,
                new,
                ..
            } => {
                let cell = self.cell(c, *var, *index)?;
                let (ok, old) = self.cas(c, cell, *expected, *new, out)?;
                let now = self.cells[cell as usize];
                let name = cell_label(c, cell);
                if ok {
                    say!(out, "cas {name} = {old} -> {now} (True)");
                } else {
                    say!(out, "cas {name} = {old}, unchanged (False)");
                }
                Ok(Outcome::Done(Value::Bool(ok)))
            }
            Instr::Print { args } => {
                self.print(c, args, out)?;
                Ok(Outcome::Done(Value::None))
            }
            Instr::Sleep { us } | Instr::Work { us } => {
                let name = if matches!(c.code.instrs[pc as usize], Instr::Sleep { .. }) {
                    "sleep"
                } else {
                    "work"
                };
                // Python's `time.sleep(-1)`: ValueError; `work` reads the same way.
                if matches!(self.operand(c, *us)?, Value::Int(us) if us < 0) {
                    return raise(
                        ExcKind::ValueError,
                        format!("{name} length must be non-negative"),
                    );
                }
                say!(out, "{name}");
                Ok(Outcome::Done(Value::None))
            }
            Instr::Choose { lo, hi, .. } => {
                let (lo, hi) = self.choose_range(c, *lo, *hi)?;
                let v = lo + alt as i64;
                let _ = hi;
                self.note_progress(t);
                say!(out, "choose({lo}, {hi}) = {v}");
                Ok(Outcome::Done(Value::Int(v)))
            }
            Instr::Start { thread } => self.start(c, *thread, out),
            Instr::Join { thread, timeout } => self.join(c, *thread, *timeout, out),
            Instr::Terminate { thread, kill } => self.terminate(c, *thread, *kill, out),
            Instr::ExitCode { thread, .. } => self.exit_code(c, *thread, out),
            Instr::IsAlive { thread, .. } => self.is_alive_op(c, *thread, out),
            Instr::End => self.end(c, out),
            Instr::AtomicBegin { end } => {
                out.events.push(Event::Acquire(Chan::AtomicBlock));
                say!(out, "atomic {{");
                let mut marks = vec![];
                let ran = self.run_atomic(c, pc + 1, *end, out, &mut marks);
                elide_atomic(out, &marks);
                // Left by an exception too, as a `with` block is: the next block comes
                // after it.
                out.events.push(Event::Release(Chan::AtomicBlock));
                ran?;
                if let Some(o) = out.text.as_mut() {
                    o.push_str(" }");
                }
                Ok(Outcome::Done(Value::None))
            }
            Instr::Call { obj, op, .. } => {
                let o = self.obj(c, *obj)?;
                let mut k = Call {
                    st: self,
                    c,
                    out,
                    o,
                    alt,
                };
                objects::call(&mut k, op)
            }
            Instr::Result { handle, op, .. } => {
                let handle = self.operand(c, *handle)?;
                let Some(o) = objects::pool_of(self, handle)? else {
                    // `map` of no items: nothing to wait for.
                    say!(out, "map of no items = []");
                    return Ok(Outcome::Done(Value::List(super::value::EMPTY_LIST)));
                };
                let mut k = Call {
                    st: self,
                    c,
                    out,
                    o,
                    alt,
                };
                objects::result_op(&mut k, handle, op)
            }
            _ => raise(ExcKind::RuntimeError, "internal: local code run as a step"),
        }
    }

    /// The bounds of `choose(lo, hi)`, checked.
    pub(super) fn choose_range(&self, c: &Ctx, lo: Operand, hi: Operand) -> Res<(i64, i64)> {
        let lo = as_int(self.operand(c, lo)?, "choose bounds")?;
        let hi = as_int(self.operand(c, hi)?, "choose bounds")?;
        match choose_range_error(lo, hi) {
            Some(why) => raise(ExcKind::ValueError, why),
            None => Ok((lo, hi)),
        }
    }

    /// The line of `c.t`'s current instruction (inside an atomic block: the statement's).
    pub(super) fn current_line(&self, c: &Ctx) -> u32 {
        c.code.lines[self.threads[c.t as usize].pc as usize]
    }

    fn read_cell(&mut self, c: &Ctx, cell: u32, out: &mut StepOut) -> Value {
        let v = self.cells[cell as usize];
        let atomic = c.prog.cell_class(cell) == VarClass::Atomic;
        out.events.push(Event::Access {
            cell,
            write: false,
            atomic,
            line: self.current_line(c),
            value: v,
        });
        if atomic {
            out.events.push(Event::Acquire(Chan::Atomic(cell)));
        }
        self.note_read(c.t, Loc::Cell(cell));
        v
    }

    fn write_visible(&mut self, c: &Ctx, cell: u32, v: Value, out: &mut StepOut) -> Res<()> {
        if matches!(v, Value::List(_) | Value::Task { .. }) {
            return raise(
                ExcKind::TypeError,
                format!(
                    "{} holds ints, bools and None, not a {}",
                    c.prog.cell_name(cell),
                    super::value::type_name(v)
                ),
            );
        }
        let atomic = c.prog.cell_class(cell) == VarClass::Atomic;
        if atomic {
            out.events.push(Event::Store(Chan::Atomic(cell)));
        }
        out.events.push(Event::Access {
            cell,
            write: true,
            atomic,
            line: self.current_line(c),
            value: v,
        });
        self.write_cell(c.t, cell, v);
        Ok(())
    }

    /// `cas(cell, expected, new)` as one step: reads the cell and, when it equals
    /// `expected`, writes `new`. Returns whether it wrote, and the value it read.
    fn cas(
        &mut self,
        c: &Ctx,
        cell: u32,
        expected: Operand,
        new: Operand,
        out: &mut StepOut,
    ) -> Res<(bool, Value)> {
        let expected = self.operand(c, expected)?;
        let new = self.operand(c, new)?;
        let old = self.read_cell(c, cell, out);
        let ok = cas_matches(old, expected);
        if ok {
            self.write_visible(c, cell, new, out)?;
        }
        Ok((ok, old))
    }

    /// Runs a `with atomic:` block from `from` to its `AtomicEnd` at `end`, all in one
    /// step. It may not block; the front end rules out what could.
    /// `marks`: where the step's text ends after each visible instruction, for
    /// [`elide_atomic`].
    fn run_atomic(
        &mut self,
        c: &Ctx,
        from: Pc,
        end: Pc,
        out: &mut StepOut,
        marks: &mut Vec<usize>,
    ) -> Res<()> {
        let t = c.t;
        self.threads[t as usize].pc = from;
        let mut budget = LOCAL_BUDGET;
        let mut depth = 0u32;
        loop {
            let pc = self.threads[t as usize].pc;
            if pc == end && depth == 0 {
                return Ok(());
            }
            budget -= 1;
            if budget == 0 {
                return raise(
                    ExcKind::Livelock,
                    format!("an atomic block ran {LOCAL_BUDGET} instructions without finishing"),
                );
            }
            let next = match &c.code.instrs[pc as usize] {
                Instr::AtomicBegin { .. } => {
                    depth += 1;
                    None
                }
                Instr::AtomicEnd => {
                    depth = depth.saturating_sub(1);
                    None
                }
                Instr::LoopHead { .. } => None,
                instr if instr.is_visible() => {
                    self.atomic_visible(c, instr, out)?;
                    marks.extend(out.text.as_ref().map(String::len));
                    None
                }
                local => self.exec_local(c, local)?,
            };
            self.threads[t as usize].pc = next.unwrap_or(pc + 1);
        }
    }

    /// One visible instruction inside a `with atomic:` block.
    fn atomic_visible(&mut self, c: &Ctx, instr: &Instr, out: &mut StepOut) -> Res<()> {
        let t = c.t;
        match instr {
            Instr::Read { dst, var, index } => {
                let cell = self.cell(c, *var, *index)?;
                let v = self.read_cell(c, cell, out);
                self.set_local(t, *dst, v);
                if let Some(o) = out.text.as_mut() {
                    let _ = write!(o, " read {} = {v};", cell_label(c, cell));
                }
            }
            Instr::Write { var, index, value } => {
                let v = self.operand(c, *value)?;
                let cell = self.cell(c, *var, *index)?;
                self.write_visible(c, cell, v, out)?;
                if let Some(o) = out.text.as_mut() {
                    let _ = write!(o, " write {} = {v};", cell_label(c, cell));
                }
            }
            Instr::Cas {
                dst,
                var,
                index,
                expected,
                new,
            } => {
                let cell = self.cell(c, *var, *index)?;
                let (ok, old) = self.cas(c, cell, *expected, *new, out)?;
                self.set_local(t, *dst, Value::Bool(ok));
                if let Some(o) = out.text.as_mut() {
                    let name = cell_label(c, cell);
                    let _ = write!(o, " cas {name} = {old}: {};", Value::Bool(ok));
                }
            }
            Instr::Call { dst, obj, op } => {
                let o = self.obj(c, *obj)?;
                if objects::ready(self, c, o, op, true)? == 0 {
                    return raise(
                        ExcKind::RuntimeError,
                        format!(
                            "{}() on {} would block inside `with atomic:`",
                            op.name(),
                            c.prog.objects[o as usize].name
                        ),
                    );
                }
                let mut sub = StepOut {
                    text: out.text.as_ref().map(|_| String::new()),
                    line: out.line,
                    ..StepOut::default()
                };
                let r = {
                    let mut k = Call {
                        st: self,
                        c,
                        out: &mut sub,
                        o,
                        alt: 0,
                    };
                    objects::call(&mut k, op)?
                };
                out.events.append(&mut sub.events);
                if let (Some(o), Some(s)) = (out.text.as_mut(), sub.text) {
                    let _ = write!(o, " {s};");
                }
                match r {
                    Outcome::Done(v) => {
                        if let Some(d) = dst {
                            self.set_local(t, *d, v);
                        }
                    }
                    Outcome::Waiting => {
                        return raise(
                            ExcKind::RuntimeError,
                            format!("{}() would block inside `with atomic:`", op.name()),
                        );
                    }
                }
            }
            Instr::IsAlive { dst, thread } => {
                let ts = self.thread_sel(c, *thread)?;
                let alive = self.is_alive(ts[0]);
                self.set_local(t, *dst, Value::Bool(alive));
            }
            Instr::Print { args } => {
                let mut sub = StepOut {
                    text: out.text.as_ref().map(|_| String::new()),
                    ..StepOut::default()
                };
                self.print(c, args, &mut sub)?;
                out.prints.append(&mut sub.prints);
                if let (Some(o), Some(s)) = (out.text.as_mut(), sub.text) {
                    let _ = write!(o, " {s};");
                }
            }
            _ => {
                return raise(
                    ExcKind::RuntimeError,
                    "this operation cannot run inside `with atomic:`",
                );
            }
        }
        Ok(())
    }

    /// The first `[invariant]` that is false or raises.
    pub fn check_invariants(&self, prog: &Program) -> Option<Failure> {
        self.first_failed_check(prog, &prog.invariants, "invariant")
    }

    /// Evaluates the `[final]` assertions (every started thread has finished).
    pub fn check_final(&self, prog: &Program) -> Option<Failure> {
        self.first_failed_check(prog, &prog.final_asserts, "final assertion")
    }

    /// The first of `checks` that is false (an assertion) or raises (an error).
    fn first_failed_check(
        &self,
        prog: &Program,
        checks: &[crate::ir::Check],
        what: &str,
    ) -> Option<Failure> {
        checks.iter().find_map(|c| {
            let e = self.eval_check(prog, &c.code).err()?;
            let head = format!("{what} `{}`", c.text);
            let message = if e.from_assert {
                format!("{head} does not hold")
            } else {
                format!("{head}: {e}")
            };
            let kind = e.finding();
            let kind = if kind == FindingKind::Livelock {
                FindingKind::Error
            } else {
                kind
            };
            Some(Failure {
                kind,
                thread: None,
                line: c.line,
                message,
                group: head,
            })
        })
    }
}

/// A cell as a trace names it: a process's own copy says so (`results[0] (own copy)`),
/// so that a reader sees why another party never sees the write.
fn cell_label(c: &Ctx, address: u32) -> String {
    let name = c.prog.cell_name(address);
    let mem = c.prog.locate(address).0;
    if mem != 0 && mem != c.prog.memories {
        format!("{name} (own copy)")
    } else {
        name
    }
}

/// The values of `range(a, b, step)` (at most a million: more is surely a mistake).
fn range_items(a: i64, b: i64, step: i64) -> Res<Vec<Value>> {
    if step == 0 {
        return raise(ExcKind::ValueError, "range() arg 3 must not be zero");
    }
    let mut out = vec![];
    let mut i = a;
    while (step > 0 && i < b) || (step < 0 && i > b) {
        if out.len() >= 1_000_000 {
            return raise(ExcKind::ValueError, "range() of more than a million values");
        }
        out.push(Value::Int(i));
        i = match i.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    Ok(out)
}

/// The local a visible instruction writes its result to.
fn dest(i: &Instr) -> Option<LocalId> {
    match i {
        Instr::Read { dst, .. }
        | Instr::Cas { dst, .. }
        | Instr::Choose { dst, .. }
        | Instr::IsAlive { dst, .. }
        | Instr::ExitCode { dst, .. } => Some(*dst),
        Instr::Call { dst, .. } | Instr::Result { dst, .. } => *dst,
        _ => None,
    }
}

/// How many of an atomic block's operations its trace row shows at the start and at the
/// end; the ones between are counted. A spin inside `with atomic:` runs thousands of
/// them in one step, and the row would be a megabyte long.
const ATOMIC_SHOWN: (usize, usize) = (12, 4);

/// Cuts the middle out of the text of an atomic block whose operations ended at `marks`
/// (see [`ATOMIC_SHOWN`]).
fn elide_atomic(out: &mut StepOut, marks: &[usize]) {
    let (head, tail) = ATOMIC_SHOWN;
    let Some(text) = out.text.as_mut() else {
        return;
    };
    let n = marks.len();
    if n <= head + tail + 1 {
        return;
    }
    let (cut, resume) = (marks[head - 1], marks[n - tail - 1]);
    let rest = text.split_off(resume);
    text.truncate(cut);
    let _ = write!(text, " ... {} more ...;", n - head - tail);
    text.push_str(&rest);
}
