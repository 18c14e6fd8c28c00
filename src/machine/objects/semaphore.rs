//! `threading.Semaphore` and `threading.BoundedSemaphore`.
//!
//! `acquire` takes a permit when the value is positive; blocking without a timeout, it
//! waits for one; non-blocking or timed, it is one step that fails at 0. `release(n)`
//! adds `n` permits (ValueError for n < 1, and for a BoundedSemaphore above its initial
//! value). Happens-before: permits are FIFO, each carrying the clock of the release that
//! made it, so an acquisition is ordered after the release whose permit it takes.

use super::{Blocked, Call, ObjState, Outcome, Primitive, WaitTarget, internal, say};
use crate::ir::{ObjId, ObjKind, Op, Program, Value};
use crate::machine::eval::Ctx;
use crate::machine::events::Event;
use crate::machine::exception::{ExcKind, PyException, Res, raise};
use crate::machine::spin::Loc;
use crate::machine::state::State;
use crate::machine::value::as_int;

pub(super) struct SemaphoreKind;

fn value(st: &State, o: ObjId) -> i64 {
    match st.objects[o as usize] {
        ObjState::Semaphore { value } => value,
        _ => 0,
    }
}

fn acquire(k: &mut Call, blocking: bool, timed: bool) -> Res<Outcome> {
    let (o, name) = (k.o, k.name());
    let ObjState::Semaphore { value } = k.state() else {
        return internal("a Semaphore without its state");
    };
    if *value > 0 {
        *value -= 1;
        let v = *value;
        k.event(Event::SemAcquire { sem: o });
        k.wrote(Loc::Obj(o));
        say!(k, "acquire {name} (value now {v})");
        Ok(Outcome::Done(Value::Bool(true)))
    } else if !blocking || timed {
        k.read(Loc::Obj(o));
        say!(k, "acquire {name} fails: value is 0");
        Ok(Outcome::Done(Value::Bool(false)))
    } else {
        internal("a blocked semaphore acquire was scheduled")
    }
}

fn release(k: &mut Call, n: i64) -> Res<Outcome> {
    let (o, name) = (k.o, k.name());
    if n < 1 {
        return raise(ExcKind::ValueError, "n must be one or more");
    }
    let ObjKind::Semaphore { initial, bounded } = k.prog().objects[o as usize].kind else {
        return internal("a Semaphore of another kind");
    };
    let ObjState::Semaphore { value } = k.state() else {
        return internal("a Semaphore without its state");
    };
    if bounded && value.saturating_add(n) > initial {
        return raise(
            ExcKind::ValueError,
            format!("Semaphore released too many times ({name})"),
        );
    }
    *value = value
        .checked_add(n)
        .ok_or_else(|| PyException::new(ExcKind::OverflowError, "semaphore value overflows"))?;
    let v = *value;
    k.event(Event::SemRelease {
        sem: o,
        n: n.min(u32::MAX as i64) as u32,
    });
    k.wrote(Loc::Obj(o));
    if n == 1 {
        say!(k, "release {name} (value now {v})");
    } else {
        say!(k, "release {name} {n} (value now {v})");
    }
    Ok(Outcome::Done(Value::None))
}

impl Primitive for SemaphoreKind {
    fn initial(&self, info: &crate::ir::ObjInfo) -> ObjState {
        let kind = info.kind;
        match kind {
            ObjKind::Semaphore { initial, .. } => ObjState::Semaphore { value: initial },
            _ => ObjState::Semaphore { value: 0 },
        }
    }

    fn ready(&self, st: &State, c: &Ctx, o: ObjId, op: &Op, timeouts: bool) -> Res<u32> {
        match op {
            Op::Acquire { blocking, timeout } => {
                if !st.flag(c, *blocking)? || (timeouts && st.timed(c, *timeout)?) {
                    Ok(1)
                } else {
                    Ok(u32::from(value(st, o) > 0))
                }
            }
            _ => Ok(1),
        }
    }

    fn call(&self, k: &mut Call, op: &Op) -> Res<Outcome> {
        match op {
            Op::Acquire { blocking, timeout } => {
                let (blocking, timed) = (k.flag(*blocking)?, k.timed(*timeout)?);
                if !blocking && timed {
                    return raise(
                        ExcKind::ValueError,
                        "can't specify timeout for non-blocking acquire",
                    );
                }
                acquire(k, blocking, timed)
            }
            Op::Release { n } => {
                let n = match n {
                    None => 1,
                    Some(n) => as_int(k.arg(*n)?, "n")?,
                };
                release(k, n)
            }
            _ => super::no_such_operation(k, op),
        }
    }

    fn blocked(&self, _st: &State, c: &Ctx, o: ObjId, op: &Op) -> Blocked {
        match op {
            Op::Acquire { .. } => Blocked::new(
                WaitTarget::Semaphore(o),
                format!(
                    "waits to acquire {} (value 0)",
                    c.prog.objects[o as usize].name
                ),
            ),
            _ => Blocked::stuck(),
        }
    }

    fn describe(&self, st: &State, _prog: &Program, o: ObjId) -> String {
        format!("Semaphore, value {}", value(st, o))
    }
}
