//! The operations on threads: `start()`, `join()`, `is_alive()`, and a thread's end.
//!
//! `worker.start()` starts every instance of a `[[thread]]` array in one step, and
//! `worker.join()` waits for every instance; `worker[i]` names one. Starting twice,
//! joining a thread that never started, and a thread joining itself are RuntimeErrors,
//! as in Python. Happens-before: a start flows into the started thread, a thread's end
//! into the join that returns.

use super::eval::Ctx;
use super::events::Event;
use super::exception::{ExcKind, Res, raise};
use super::objects::Outcome;
use super::spin::Loc;
use super::state::{State, Status};
use super::step::{StepOut, say};
use crate::ir::{Program, ThreadId, ThreadSel, Value};

fn names(prog: &Program, ts: &[ThreadId]) -> String {
    let v: Vec<&str> = ts
        .iter()
        .map(|x| prog.threads[*x as usize].name.as_str())
        .collect();
    v.join(", ")
}

impl State {
    pub(super) fn start(&mut self, c: &Ctx, sel: ThreadSel, out: &mut StepOut) -> Res<Outcome> {
        let ts = self.thread_sel(c, sel)?;
        for x in &ts {
            if self.threads[*x as usize].status != Status::NotStarted {
                return raise(
                    ExcKind::RuntimeError,
                    format!(
                        "threads can only be started once ({})",
                        c.prog.threads[*x as usize].name
                    ),
                );
            }
        }
        say!(out, "start {}", names(c.prog, &ts));
        for x in ts {
            out.events.push(Event::Edge { to: x });
            self.threads[x as usize].status = Status::Ready;
            self.note_write(c.t, Loc::Thread(x));
            // The started thread's first local code runs now; a failure there ends it.
            self.run_local(c.prog, x, out);
        }
        Ok(Outcome::Done(Value::None))
    }

    /// Can `t` go on with joining `sel` now? `worker.join()` joins the instances in
    /// order, as `for w in workers: w.join()` does: it waits at the first unfinished one,
    /// and raises at the first that is the joining thread itself or was never started.
    pub(super) fn join_ready(&self, c: &Ctx, sel: ThreadSel) -> Res<bool> {
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

    pub(super) fn join(&mut self, c: &Ctx, sel: ThreadSel, out: &mut StepOut) -> Res<Outcome> {
        let ts = self.thread_sel(c, sel)?;
        for x in &ts {
            if *x == c.t {
                return raise(ExcKind::RuntimeError, "cannot join current thread");
            }
            if self.threads[*x as usize].status == Status::NotStarted {
                return raise(
                    ExcKind::RuntimeError,
                    format!(
                        "cannot join thread before it is started ({})",
                        c.prog.threads[*x as usize].name
                    ),
                );
            }
        }
        for x in &ts {
            out.events.push(Event::JoinThread { of: *x });
        }
        say!(out, "join {}", names(c.prog, &ts));
        Ok(Outcome::Done(Value::None))
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

    pub(super) fn end(&mut self, c: &Ctx, out: &mut StepOut) -> Res<Outcome> {
        let th = &mut self.threads[c.t as usize];
        th.status = Status::Finished;
        th.spin.clear();
        self.note_write(c.t, Loc::Thread(c.t));
        say!(out, "end");
        Ok(Outcome::Done(Value::None))
    }
}
