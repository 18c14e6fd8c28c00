//! The operations on threads and processes: `start()`, `join()` (and a process's
//! `join(timeout)`), `is_alive()`, a process's `terminate()`, `kill()` and `exitcode`,
//! and a party's end.
//!
//! `worker.start()` starts every instance of a `[[thread]]` or `[[process]]` array in one
//! step, and `worker.join()` joins every instance in index order; `worker[i]` names one.
//! A started process takes a copy of the starter's memory (`fork`, the default) or
//! starts from the file's values (`spawn`); taking the copy is not an access. The errors
//! are Python's: RuntimeError for threads (started twice, joined before started, joining
//! itself), `multiprocessing`'s AssertionErrors for processes, AttributeError for
//! terminating one never started. Happens-before: a start flows into the started party,
//! a party's end into the join that returns.

use super::eval::Ctx;
use super::events::Event;
use super::exception::{ExcKind, PyException, Res, raise};
use super::objects::Outcome;
use super::spin::Loc;
use super::state::{State, Status};
use super::step::{StepOut, say};
use crate::ir::{Operand, Program, StartMethod, ThreadId, ThreadSel, Value};

fn names(prog: &Program, ts: &[ThreadId]) -> String {
    let v: Vec<&str> = ts
        .iter()
        .map(|x| prog.threads[*x as usize].name.as_str())
        .collect();
    v.join(", ")
}

/// A `multiprocessing` check that fails: an AssertionError raised by the library (an
/// `error` finding, not an `assertion`).
fn mp_assert<T>(message: &str) -> Res<T> {
    Err(PyException::new(ExcKind::AssertionError, message))
}

impl State {
    pub(super) fn start(&mut self, c: &Ctx, sel: ThreadSel, out: &mut StepOut) -> Res<Outcome> {
        let ts = self.thread_sel(c, sel)?;
        for x in &ts {
            self.check_start(c, *x)?;
        }
        say!(out, "start {}", names(c.prog, &ts));
        for x in ts {
            out.events.push(Event::Edge { to: x });
            if c.prog.threads[x as usize].process && c.prog.start_method == StartMethod::Fork {
                self.fork_memory(c.prog, c.mem, c.prog.threads[x as usize].memory);
            }
            self.threads[x as usize].status = Status::Ready;
            self.note_write(c.t, Loc::Thread(x));
            // The started party's first local code runs now; a failure there ends it.
            self.run_local(c.prog, x, out);
        }
        Ok(Outcome::Done(Value::None))
    }

    fn check_start(&self, c: &Ctx, x: ThreadId) -> Res<()> {
        let info = &c.prog.threads[x as usize];
        let started = self.threads[x as usize].status != Status::NotStarted;
        if !info.process {
            if started {
                return raise(
                    ExcKind::RuntimeError,
                    format!("threads can only be started once ({})", info.name),
                );
            }
            return Ok(());
        }
        let me = &c.prog.threads[c.t as usize];
        if me.process && me.daemon {
            return mp_assert("daemonic processes are not allowed to have children");
        }
        if started {
            return mp_assert(&format!("cannot start a process twice ({})", info.name));
        }
        Ok(())
    }

    /// A process started by fork gets the starter's values of every private cell.
    fn fork_memory(&mut self, prog: &Program, from: u32, to: u32) {
        for cell in 0..prog.cells {
            if !prog.cell_is_global(cell) {
                let v = self.cells[prog.address(from, cell) as usize];
                self.put_cell(prog.address(to, cell), v);
            }
        }
    }

    /// Can `t` go on with joining `sel` now? `worker.join()` joins the instances in
    /// order, as `for w in workers: w.join()` does: it waits at the first unfinished one,
    /// and raises at the first that is the joining party itself or was never started. A
    /// process's `join(timeout)` can always go on (it may return before the end).
    pub(super) fn join_ready(
        &self,
        c: &Ctx,
        sel: ThreadSel,
        timeout: Option<Operand>,
    ) -> Res<bool> {
        if self.timed(c, timeout)? {
            return Ok(true);
        }
        for x in self.thread_sel(c, sel)? {
            if x == c.t || self.threads[x as usize].status == Status::NotStarted {
                return Ok(true); // it raises
            }
            if self.is_alive(x) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub(super) fn join(
        &mut self,
        c: &Ctx,
        sel: ThreadSel,
        timeout: Option<Operand>,
        out: &mut StepOut,
    ) -> Res<Outcome> {
        let ts = self.thread_sel(c, sel)?;
        for x in &ts {
            self.check_join(c, *x)?;
        }
        // A timed join returns at once when the party has not ended.
        let ended: Vec<ThreadId> = ts.iter().copied().filter(|x| !self.is_alive(*x)).collect();
        for x in &ended {
            out.events.push(Event::JoinThread { of: *x });
        }
        let gave_up = ended.len() < ts.len();
        if gave_up {
            for x in &ts {
                self.note_read(c.t, Loc::Thread(*x));
            }
            say!(out, "join {} timed out", names(c.prog, &ts));
        } else {
            say!(out, "join {}", names(c.prog, &ts));
        }
        let _ = timeout;
        Ok(Outcome::Done(Value::None))
    }

    fn check_join(&self, c: &Ctx, x: ThreadId) -> Res<()> {
        let info = &c.prog.threads[x as usize];
        let never = self.threads[x as usize].status == Status::NotStarted;
        match (info.process, x == c.t, never) {
            (false, true, _) => raise(ExcKind::RuntimeError, "cannot join current thread"),
            (false, _, true) => raise(
                ExcKind::RuntimeError,
                format!("cannot join thread before it is started ({})", info.name),
            ),
            (true, true, _) => mp_assert("can only join a child process"),
            (true, _, true) => {
                mp_assert(&format!("can only join a started process ({})", info.name))
            }
            _ => Ok(()),
        }
    }

    pub(super) fn is_alive_op(
        &mut self,
        c: &Ctx,
        sel: ThreadSel,
        out: &mut StepOut,
    ) -> Res<Outcome> {
        let x = self.thread_sel(c, sel)?[0];
        self.note_read(c.t, Loc::Thread(x));
        let alive = self.is_alive(x);
        let name = &c.prog.threads[x as usize].name;
        say!(out, "{name}.is_alive() = {}", Value::Bool(alive));
        Ok(Outcome::Done(Value::Bool(alive)))
    }

    /// `p.terminate()` or `p.kill()`: the process ends before its next step, holding
    /// whatever it holds.
    pub(super) fn terminate(
        &mut self,
        c: &Ctx,
        sel: ThreadSel,
        kill: bool,
        out: &mut StepOut,
    ) -> Res<Outcome> {
        let ts = self.thread_sel(c, sel)?;
        let verb = if kill { "kill" } else { "terminate" };
        for x in &ts {
            if self.threads[*x as usize].status == Status::NotStarted {
                return raise(
                    ExcKind::AttributeError,
                    format!(
                        "'NoneType' object has no attribute '{verb}' (the process was never started)"
                    ),
                );
            }
        }
        say!(out, "{verb} {}", names(c.prog, &ts));
        for x in &ts {
            if self.is_alive(*x) {
                self.stop_party(*x, if kill { -9 } else { -15 });
                self.note_write(c.t, Loc::Thread(*x));
                self.process_ended(c, *x, out);
            }
        }
        Ok(Outcome::Done(Value::None))
    }

    /// Ends party `x` from outside with exit code `code`; a wait it was in is gone.
    pub(super) fn stop_party(&mut self, x: ThreadId, code: i64) {
        let th = &mut self.threads[x as usize];
        th.status = Status::Finished;
        th.exit = Some(code);
        th.spin.clear();
        th.spin_pending = None;
        th.spin_waits = None;
        super::objects::forget_waiter(self, x);
    }

    /// `p.exitcode`: None while the process runs (or never started), then its code.
    pub(super) fn exit_code(&mut self, c: &Ctx, sel: ThreadSel, out: &mut StepOut) -> Res<Outcome> {
        let x = self.thread_sel(c, sel)?[0];
        self.note_read(c.t, Loc::Thread(x));
        let v = match self.threads[x as usize].exit {
            Some(code) => Value::Int(code),
            None => Value::None,
        };
        let name = &c.prog.threads[x as usize].name;
        say!(out, "{name}.exitcode = {v}");
        Ok(Outcome::Done(v))
    }

    pub(super) fn end(&mut self, c: &Ctx, out: &mut StepOut) -> Res<Outcome> {
        say!(out, "end");
        self.ended(c, 0, out);
        Ok(Outcome::Done(Value::None))
    }

    /// `c.t` ends in its own step (its `end`, or its death after it raised): a process
    /// with exit code `exit`, its Pipe ends closed.
    pub(super) fn ended(&mut self, c: &Ctx, exit: i64, out: &mut StepOut) {
        let th = &mut self.threads[c.t as usize];
        th.status = Status::Finished;
        th.spin.clear();
        th.dying = false;
        if c.prog.threads[c.t as usize].process {
            th.exit = Some(exit);
        }
        self.note_write(c.t, Loc::Thread(c.t));
        self.process_ended(c, c.t, out);
    }

    /// Party `x` has just ended in `c.t`'s step: if it is a process, the Pipe ends that
    /// closed with it, said in the trace.
    pub(super) fn process_ended(&mut self, c: &Ctx, x: ThreadId, out: &mut StepOut) {
        if !c.prog.threads[x as usize].process {
            return;
        }
        for end in super::objects::close_on_exit(self, c.prog, x, c.t) {
            let name = &c.prog.objects[end as usize].name;
            say!(out, "{name} closes: no process that uses it is left");
        }
    }
}
