//! `threading.Event`: `set`, `clear`, `is_set`, `wait(timeout)`.
//!
//! `wait` on a set event returns True at once; on an unset one the thread waits
//! ([`EventWait`]) until a `set` wakes it (True), or a timed wait gives up (False). A
//! `set` wakes every waiter registered at that moment, even if a `clear` follows before
//! they run (as in CPython, where the waiters' own locks are released by `set`).
//! Happens-before: `set` releases into the event, and a `wait` or `is_set` that sees it
//! set acquires it; `clear` resets it.

use super::{Blocked, Call, ObjState, Outcome, Primitive, Wait, WaitTarget, internal, say};
use crate::ir::{ObjId, Op, Operand, Program, ThreadId, Value};
use crate::machine::eval::Ctx;
use crate::machine::events::{Chan, Event};
use crate::machine::exception::Res;
use crate::machine::footprint::{Footprint, Touch};
use crate::machine::spin::Loc;
use crate::machine::state::{State, Status};

pub(super) struct EventKind;

/// A thread in `Event.wait` on an unset event.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventWait {
    pub ev: ObjId,
    /// A `set` came.
    pub woken: bool,
    pub timed: bool,
}

fn is_set(st: &State, o: ObjId) -> bool {
    matches!(st.objects[o as usize], ObjState::Event { flag: true })
}

fn set(k: &mut Call) -> Res<Outcome> {
    let (o, name) = (k.o, k.name());
    k.st.objects[o as usize] = ObjState::Event { flag: true };
    k.event(Event::Release(Chan::Obj(o)));
    let mut woke = vec![];
    for (u, th) in k.st.threads.iter_mut().enumerate() {
        if let Status::Waiting(Wait::Event(w)) = &mut th.status
            && w.ev == o
            && !w.woken
        {
            w.woken = true;
            woke.push(u as ThreadId);
        }
    }
    for u in woke {
        k.event(Event::Edge { to: u });
    }
    k.wrote(Loc::Obj(o));
    say!(k, "set {name}");
    Ok(Outcome::Done(Value::None))
}

fn wait(k: &mut Call, timeout: Option<Operand>) -> Res<Outcome> {
    let (o, t, name) = (k.o, k.t(), k.name());
    let timed = k.timed(timeout)?;
    if is_set(k.st, o) {
        k.event(Event::Acquire(Chan::Obj(o)));
        k.read(Loc::Obj(o));
        say!(k, "wait {name} returns True (already set)");
        return Ok(Outcome::Done(Value::Bool(true)));
    }
    k.st.threads[t as usize].status = Status::Waiting(Wait::Event(EventWait {
        ev: o,
        woken: false,
        timed,
    }));
    say!(k, "wait {name} (not set: blocks)");
    Ok(Outcome::Waiting)
}

impl Primitive for EventKind {
    fn initial(&self, _info: &crate::ir::ObjInfo) -> ObjState {
        ObjState::Event { flag: false }
    }

    fn ready(&self, _st: &State, _c: &Ctx, _o: ObjId, _op: &Op, _timeouts: bool) -> Res<u32> {
        Ok(1)
    }

    fn call(&self, k: &mut Call, op: &Op) -> Res<Outcome> {
        let (o, name) = (k.o, k.name());
        match op {
            Op::Set => set(k),
            Op::Clear => {
                k.st.objects[o as usize] = ObjState::Event { flag: false };
                k.event(Event::Reset(Chan::Obj(o)));
                k.wrote(Loc::Obj(o));
                say!(k, "clear {name}");
                Ok(Outcome::Done(Value::None))
            }
            Op::IsSet => {
                let flag = is_set(k.st, o);
                if flag {
                    k.event(Event::Acquire(Chan::Obj(o)));
                }
                k.read(Loc::Obj(o));
                say!(k, "{name}.is_set() = {}", Value::Bool(flag));
                Ok(Outcome::Done(Value::Bool(flag)))
            }
            Op::Wait { timeout } => wait(k, *timeout),
            _ => super::no_such_operation(k, op),
        }
    }

    fn blocked(&self, _st: &State, _c: &Ctx, _o: ObjId, _op: &Op) -> Blocked {
        Blocked::stuck()
    }

    fn describe(&self, st: &State, _prog: &Program, o: ObjId) -> String {
        format!("Event, {}", if is_set(st, o) { "set" } else { "not set" })
    }

    fn wait_ready(&self, _st: &State, _p: &Program, _t: ThreadId, w: &Wait, timeouts: bool) -> u32 {
        match w {
            Wait::Event(w) => u32::from(w.woken || (w.timed && timeouts)),
            _ => 0,
        }
    }

    fn resume(&self, k: &mut Call, w: &Wait) -> Res<Outcome> {
        let Wait::Event(w) = w else {
            return internal("an Event resumed from another kind's wait");
        };
        let (t, name) = (k.t(), k.name_of(w.ev));
        k.st.threads[t as usize].status = Status::Ready;
        if w.woken {
            k.event(Event::Acquire(Chan::Obj(w.ev)));
            say!(k, "wait {name} returns True");
        } else {
            k.read(Loc::Obj(w.ev));
            say!(k, "wait {name} timed out, returns False");
        }
        Ok(Outcome::Done(Value::Bool(w.woken)))
    }

    fn wait_blocked(&self, _st: &State, prog: &Program, _t: ThreadId, w: &Wait) -> Blocked {
        Blocked::new(
            WaitTarget::Event(w.object()),
            format!(
                "waits for {} to be set",
                prog.objects[w.object() as usize].name
            ),
        )
    }

    fn wait_footprint(&self, _prog: &Program, w: &Wait, fp: &mut Footprint) {
        fp.push(Touch::Obj(w.object()));
    }
}
