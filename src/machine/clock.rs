//! What the simulated clock of `simrace time` needs to know of a thread's next step, in
//! time: [`State::cost`] (a `work(t)` computes for `t`, a `sleep(t)` waits `t`, any other
//! step is one ordinary step) and [`State::timeout_us`] (how long a timed operation
//! waits before it gives up). The durations are the instruction's operands in
//! microseconds, evaluated in the thread's context, as the step would evaluate them.

use super::objects;
use super::state::{State, Status};
use crate::ir::{Instr, ObjKind, Op, Operand, Program, ResultOp, ThreadId, Value};

/// The time a thread's next step takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    /// `work(t)`: `t` microseconds of CPU.
    Work(u64),
    /// `sleep(t)`: `t` microseconds asleep, needing no CPU.
    Sleep(u64),
    /// Any other step (or the next phase of a blocking operation).
    Step,
}

impl State {
    /// What `t`'s next step costs. A duration that cannot be evaluated, or a negative
    /// one, costs nothing (the step itself says what is wrong).
    pub fn cost(&self, prog: &Program, t: ThreadId) -> Cost {
        let th = &self.threads[t as usize];
        if th.status != Status::Ready {
            return Cost::Step;
        }
        let c = self.ctx(prog, t);
        let us = |o: &Operand| match self.operand(&c, *o) {
            Ok(Value::Int(us)) => us.max(0) as u64,
            _ => 0,
        };
        match c.code.instrs.get(th.pc as usize) {
            Some(Instr::Work { us: o }) => Cost::Work(us(o)),
            Some(Instr::Sleep { us: o }) => Cost::Sleep(us(o)),
            _ => Cost::Step,
        }
    }

    /// The timeout of the timed operation `t` is in, in microseconds: `None` when it has
    /// none (or `None`, or a Lock's `-1`: it waits as long as it takes); a negative one
    /// gives up at once, as the explorer reads it ([`State::timed`]).
    pub fn timeout_us(&self, prog: &Program, t: ThreadId) -> Option<u64> {
        let th = &self.threads[t as usize];
        if !matches!(th.status, Status::Ready | Status::Waiting(_)) {
            return None;
        }
        let c = self.ctx(prog, t);
        let us = match c.code.instrs.get(th.pc as usize)? {
            Instr::Call {
                obj,
                op: Op::Acquire { timeout, .. },
                ..
            } if self.obj(&c, *obj).is_ok_and(|o| {
                matches!(
                    prog.objects[o as usize].kind,
                    ObjKind::Lock | ObjKind::RLock | ObjKind::Condition { .. }
                )
            }) =>
            {
                objects::lock_timeout(self, &c, *timeout)
            }
            Instr::Join { timeout, .. }
            | Instr::Call {
                op:
                    Op::Acquire { timeout, .. }
                    | Op::Wait { timeout }
                    | Op::Put { timeout, .. }
                    | Op::Get { timeout, .. }
                    | Op::Poll { timeout },
                ..
            }
            | Instr::Result {
                op: ResultOp::Get { timeout } | ResultOp::Wait { timeout },
                ..
            } => self.timeout_of(&c, *timeout),
            _ => return None,
        };
        Some(us.ok()??.max(0) as u64)
    }
}
