//! `queue.Queue(maxsize)`: `put`, `get` (blocking, non-blocking, timed), `task_done`,
//! `join`, `qsize`, `empty`, `full`.
//!
//! A blocking `put` into a full queue, or `get` from an empty one, waits; with
//! `block=False` or a timeout it is one step that gives up (`put` returns False, `get`
//! None: SCENARIO.md returns instead of raising Full and Empty). `task_done` more often
//! than items were put is a ValueError; `join` waits until every item put has been
//! marked done. Happens-before: an item carries its putter's clock to its getter; every
//! `task_done` releases into the queue's join channel, which a returning `join` acquires.

use super::{Blocked, Call, ObjState, Outcome, Primitive, WaitTarget, internal, say};
use crate::ir::{ObjId, ObjKind, Op, Operand, Program, Value};
use crate::machine::eval::Ctx;
use crate::machine::events::{Chan, Event};
use crate::machine::exception::{ExcKind, Res, raise};
use crate::machine::spin::Loc;
use crate::machine::state::State;

pub(super) struct QueueKind;

fn contents(st: &State, o: ObjId) -> (usize, u32) {
    match &st.objects[o as usize] {
        ObjState::Queue { items, unfinished } => (items.len(), *unfinished),
        _ => (0, 0),
    }
}

fn maxsize(prog: &Program, o: ObjId) -> usize {
    match prog.objects[o as usize].kind {
        ObjKind::Queue { maxsize } => maxsize as usize,
        _ => 0,
    }
}

fn has_room(st: &State, prog: &Program, o: ObjId) -> bool {
    let max = maxsize(prog, o);
    max == 0 || contents(st, o).0 < max
}

const NEGATIVE: &str = "'timeout' must be a non-negative number";

/// Does Queue `o` refuse this `put` or `get` (ValueError)? Python's does when it blocks
/// with a negative timeout, before it looks at the items; a `put` only when the queue is
/// bounded (an unbounded one never reads the timeout).
fn refuses(st: &State, c: &Ctx, o: ObjId, op: &Op) -> Res<bool> {
    let (block, timeout) = match op {
        Op::Put { block, timeout, .. } if maxsize(c.prog, o) > 0 => (*block, *timeout),
        Op::Get { block, timeout } => (*block, *timeout),
        _ => return Ok(false),
    };
    Ok(st.flag(c, block)? && st.timeout_of(c, timeout)?.is_some_and(|us| us < 0))
}

fn put(k: &mut Call, value: Operand, block: bool, timed: bool) -> Res<Outcome> {
    let (o, name) = (k.o, k.name());
    let v = k.arg(value)?;
    if !has_room(k.st, k.prog(), o) {
        k.read(Loc::Obj(o));
        say!(k, "put {v} into {name} fails: full");
        return Ok(Outcome::Done(Value::Bool(false)));
    }
    let ObjState::Queue { items, unfinished } = k.state() else {
        return internal("a Queue without its state");
    };
    items.push_back(v);
    *unfinished += 1;
    k.event(Event::QueuePut { q: o });
    k.wrote(Loc::Obj(o));
    say!(k, "put {v} into {name}");
    // `put()` returns None; the forms that may give up return whether it went in.
    Ok(Outcome::Done(if block && !timed {
        Value::None
    } else {
        Value::Bool(true)
    }))
}

fn get(k: &mut Call) -> Res<Outcome> {
    let (o, name) = (k.o, k.name());
    let ObjState::Queue { items, .. } = k.state() else {
        return internal("a Queue without its state");
    };
    match items.pop_front() {
        Some(v) => {
            k.event(Event::QueueGet { q: o });
            k.wrote(Loc::Obj(o));
            say!(k, "get {v} from {name}");
            Ok(Outcome::Done(v))
        }
        None => {
            k.read(Loc::Obj(o));
            say!(k, "get from {name} fails: empty, returns None");
            Ok(Outcome::Done(Value::None))
        }
    }
}

fn task_done(k: &mut Call) -> Res<Outcome> {
    let (o, name) = (k.o, k.name());
    let ObjState::Queue { unfinished, .. } = k.state() else {
        return internal("a Queue without its state");
    };
    if *unfinished == 0 {
        return raise(
            ExcKind::ValueError,
            format!("task_done() called too many times ({name})"),
        );
    }
    *unfinished -= 1;
    let left = *unfinished;
    k.event(Event::Release(Chan::QueueJoin(o)));
    k.wrote(Loc::Obj(o));
    say!(k, "task_done {name} ({left} unfinished)");
    Ok(Outcome::Done(Value::None))
}

fn inspect(k: &mut Call, op: &Op) -> Res<Outcome> {
    let (o, name) = (k.o, k.name());
    let n = contents(k.st, o).0;
    let max = maxsize(k.prog(), o);
    k.read(Loc::Obj(o));
    let v = match op {
        Op::QSize => Value::Int(n as i64),
        Op::Empty => Value::Bool(n == 0),
        _ => Value::Bool(max > 0 && n >= max),
    };
    say!(k, "{name}.{}() = {v}", op.name());
    Ok(Outcome::Done(v))
}

impl Primitive for QueueKind {
    fn initial(&self, _info: &crate::ir::ObjInfo) -> ObjState {
        ObjState::Queue {
            items: Default::default(),
            unfinished: 0,
        }
    }

    fn ready(&self, st: &State, c: &Ctx, o: ObjId, op: &Op, timeouts: bool) -> Res<u32> {
        let gives_up = |block: &Option<Operand>, timeout: &Option<Operand>| -> Res<bool> {
            Ok(!st.flag(c, *block)?
                || (timeouts && st.timed(c, *timeout)?)
                || refuses(st, c, o, op)?)
        };
        Ok(match op {
            Op::Put { block, timeout, .. } => {
                u32::from(gives_up(block, timeout)? || has_room(st, c.prog, o))
            }
            Op::Get { block, timeout } => {
                u32::from(gives_up(block, timeout)? || contents(st, o).0 > 0)
            }
            Op::QJoin => u32::from(contents(st, o).1 == 0),
            _ => 1,
        })
    }

    fn call(&self, k: &mut Call, op: &Op) -> Res<Outcome> {
        let (o, name) = (k.o, k.name());
        match op {
            Op::Put {
                value,
                block,
                timeout,
            } => {
                if refuses(k.st, k.c, o, op)? {
                    return raise(ExcKind::ValueError, NEGATIVE);
                }
                let (block, timed) = (k.flag(*block)?, k.timed(*timeout)?);
                put(k, *value, block, timed)
            }
            Op::Get { .. } => {
                if refuses(k.st, k.c, o, op)? {
                    return raise(ExcKind::ValueError, NEGATIVE);
                }
                get(k)
            }
            Op::TaskDone => task_done(k),
            Op::QJoin => {
                k.event(Event::Acquire(Chan::QueueJoin(o)));
                k.read(Loc::Obj(o));
                say!(k, "join {name} (every task done)");
                Ok(Outcome::Done(Value::None))
            }
            Op::QSize | Op::Empty | Op::Full => inspect(k, op),
            _ => super::no_such_operation(k, op),
        }
    }

    fn blocked(&self, st: &State, c: &Ctx, o: ObjId, op: &Op) -> Blocked {
        let name = &c.prog.objects[o as usize].name;
        match op {
            Op::Put { .. } => Blocked::new(
                WaitTarget::QueuePut(o),
                format!("waits to put into {name}, which is full"),
            ),
            Op::Get { .. } => Blocked::new(
                WaitTarget::QueueGet(o),
                format!("waits to get from {name}, which is empty"),
            ),
            Op::QJoin => Blocked::new(
                WaitTarget::QueueJoin(o),
                format!(
                    "waits in {name}.join() for {}",
                    crate::ir::counted(
                        contents(st, o).1 as usize,
                        "task_done() call that never comes",
                        "task_done() calls that never come"
                    )
                ),
            ),
            _ => Blocked::stuck(),
        }
    }

    fn describe(&self, st: &State, _prog: &Program, o: ObjId) -> String {
        match &st.objects[o as usize] {
            ObjState::Queue { items, unfinished } => {
                let items: Vec<String> = items.iter().map(Value::to_string).collect();
                format!(
                    "Queue [{}], {unfinished} unfinished task(s)",
                    items.join(", ")
                )
            }
            _ => String::new(),
        }
    }
}

impl State {
    /// A queue's items left and its unfinished task count (`None`: not a queue), for
    /// `explain` to say why a `join()` never returns.
    pub fn queue_contents(&self, o: ObjId) -> Option<(usize, u32)> {
        match self.objects.get(o as usize)? {
            ObjState::Queue { .. } => Some(contents(self, o)),
            _ => None,
        }
    }
}
