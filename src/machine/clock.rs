//! What the simulated clock of `simrace time` needs to know of a thread's next step, in
//! time: [`State::cost`] (a `work(t)` computes for `t`, a `sleep(t)` waits `t`, any other
//! step is one ordinary step) and [`State::timeout_us`] (how long a timed operation
//! waits before it gives up). The durations are the instruction's operands in
//! microseconds, evaluated in the thread's context, as the step would evaluate them.

use super::state::{State, Status};
use crate::ir::{Instr, Op, Operand, Program, ResultOp, ThreadId, Value};

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

    /// The timeout of the timed operation `t` is in, in microseconds: `None` when it
    /// has none (or `None`, or a negative one: it waits as long as it takes).
    pub fn timeout_us(&self, prog: &Program, t: ThreadId) -> Option<u64> {
        let th = &self.threads[t as usize];
        if !matches!(th.status, Status::Ready | Status::Waiting(_)) {
            return None;
        }
        let c = self.ctx(prog, t);
        let timeout = match c.code.instrs.get(th.pc as usize)? {
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
            } => *timeout,
            _ => None,
        }?;
        match self.operand(&c, timeout) {
            Ok(Value::Int(us)) if us >= 0 => Some(us as u64),
            _ => None,
        }
    }
}
