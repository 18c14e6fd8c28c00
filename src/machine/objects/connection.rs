//! `multiprocessing.Pipe()`: two connections, `p[0]` and `p[1]`. What one end sends,
//! the other receives, in order.
//!
//! `send(v)` never blocks; `recv()` waits for something to arrive, and is an EOFError
//! when nothing is left and the other end is closed; `poll()` says whether `recv` would
//! return at once (true at end of file too), `poll(timeout)` may also wait for that (it
//! is one step that answers from the state it is taken in: the explorer tries it at
//! every point). `close()` closes this end; using a closed end is an OSError ("handle is
//! closed"), sending to an end whose peer is closed a BrokenPipeError. A one-way pipe
//! (`duplex = false`) receives on `p[0]` and sends on `p[1]`; the other direction is an
//! OSError, as in Python. Happens-before: a `send` flows into the `recv` that gets it
//! (each message carries its sender's clock, as a queue's items do).

use super::{Blocked, Call, ObjState, Outcome, Primitive, WaitTarget, internal, say};
use crate::ir::{ObjId, ObjKind, Op, Program, ThreadId, Value};
use crate::machine::eval::Ctx;
use crate::machine::events::Event;
use crate::machine::exception::{ExcKind, Res, raise};
use crate::machine::footprint::{Footprint, Touch};
use crate::machine::spin::Loc;
use crate::machine::state::{State, Status};
use std::collections::VecDeque;

pub(super) struct ConnectionKind;

/// One end's state: what has arrived and not been received, and whether it is closed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct EndState {
    pub inbox: VecDeque<Value>,
    pub closed: bool,
}

fn end(st: &State, o: ObjId) -> Option<&EndState> {
    match &st.objects[o as usize] {
        ObjState::Connection(e) => Some(e),
        _ => None,
    }
}

/// This end's peer and what it may do.
fn shape(prog: &Program, o: ObjId) -> (ObjId, bool, bool) {
    match prog.objects[o as usize].kind {
        ObjKind::Connection { peer, send, recv } => (peer, send, recv),
        _ => (o, false, false),
    }
}

fn closed(st: &State, o: ObjId) -> bool {
    end(st, o).is_none_or(|e| e.closed)
}

/// Can a `recv` on `o` return now (an item, or end of file)?
fn readable(st: &State, prog: &Program, o: ObjId) -> bool {
    let peer = shape(prog, o).0;
    end(st, o).is_some_and(|e| !e.inbox.is_empty()) || closed(st, peer)
}

/// Process `t` has ended (normally, failing, terminated or killed): each Pipe end that
/// only processes use and whose holders have now all ended closes, as Python closes a
/// process's copies when it exits ([`crate::ir::ClosesOnExit`]); `by` is the thread
/// whose step it is. The ends closed, for the trace.
pub(in crate::machine) fn close_on_exit(
    st: &mut State,
    prog: &Program,
    t: ThreadId,
    by: ThreadId,
) -> Vec<ObjId> {
    let mut closed = vec![];
    for c in prog
        .closes_on_exit
        .iter()
        .filter(|c| c.holders.contains(&t))
    {
        let ended = |h: &ThreadId| st.threads[*h as usize].status == Status::Finished;
        if !c.holders.iter().all(ended) {
            continue;
        }
        if let ObjState::Connection(e) = &mut st.objects[c.end as usize]
            && !e.closed
        {
            e.closed = true;
            st.note_write(by, Loc::Obj(c.end));
            closed.push(c.end);
        }
    }
    closed
}

/// The OSError of using a closed end, or of the wrong direction of a one-way pipe.
fn check_usable(st: &State, prog: &Program, o: ObjId, sending: bool) -> Res<()> {
    let (_, send, recv) = shape(prog, o);
    if closed(st, o) {
        return raise(ExcKind::OSError, "handle is closed");
    }
    match (sending, send, recv) {
        (true, false, _) => raise(ExcKind::OSError, "connection is read-only"),
        (false, _, false) => raise(ExcKind::OSError, "connection is write-only"),
        _ => Ok(()),
    }
}

fn send(k: &mut Call, v: Value) -> Res<Outcome> {
    let (o, name) = (k.o, k.name());
    check_usable(k.st, k.prog(), o, true)?;
    let peer = shape(k.prog(), o).0;
    if closed(k.st, peer) {
        return raise(ExcKind::BrokenPipeError, "[Errno 32] Broken pipe");
    }
    let ObjState::Connection(e) = &mut k.st.objects[peer as usize] else {
        return internal("a pipe end without its state");
    };
    e.inbox.push_back(v);
    k.event(Event::QueuePut { q: peer });
    k.wrote(Loc::Obj(peer));
    say!(k, "send {v} through {name}");
    Ok(Outcome::Done(Value::None))
}

fn recv(k: &mut Call) -> Res<Outcome> {
    let (o, name) = (k.o, k.name());
    check_usable(k.st, k.prog(), o, false)?;
    let ObjState::Connection(e) = k.state() else {
        return internal("a pipe end without its state");
    };
    match e.inbox.pop_front() {
        Some(v) => {
            k.event(Event::QueueGet { q: o });
            k.wrote(Loc::Obj(o));
            say!(k, "recv {v} from {name}");
            Ok(Outcome::Done(v))
        }
        None if readable(k.st, k.prog(), o) => raise(
            ExcKind::EOFError,
            "the other end is closed and nothing is left",
        ),
        None => internal("a blocked recv was scheduled"),
    }
}

fn poll(k: &mut Call) -> Res<Outcome> {
    let (o, name) = (k.o, k.name());
    check_usable(k.st, k.prog(), o, false)?;
    let peer = shape(k.prog(), o).0;
    k.read(Loc::Obj(o));
    k.read(Loc::Obj(peer));
    let ready = readable(k.st, k.prog(), o);
    say!(k, "{name}.poll() = {}", Value::Bool(ready));
    Ok(Outcome::Done(Value::Bool(ready)))
}

fn close(k: &mut Call) -> Res<Outcome> {
    let (o, name) = (k.o, k.name());
    let ObjState::Connection(e) = k.state() else {
        return internal("a pipe end without its state");
    };
    e.closed = true;
    k.wrote(Loc::Obj(o));
    say!(k, "close {name}");
    Ok(Outcome::Done(Value::None))
}

impl Primitive for ConnectionKind {
    fn initial(&self, _info: &crate::ir::ObjInfo) -> ObjState {
        ObjState::Connection(EndState::default())
    }

    fn ready(&self, st: &State, c: &Ctx, o: ObjId, op: &Op, timeouts: bool) -> Res<u32> {
        // A recv that raises can go on; one that would get something too.
        let can_read =
            || u32::from(check_usable(st, c.prog, o, false).is_err() || readable(st, c.prog, o));
        Ok(match op {
            Op::Recv => can_read(),
            // `poll(None)` waits as long as it takes, as Python's does; `poll(t)` waits up
            // to `t`, and may give up (so it can always go on in the explorer, which
            // gives it up when nothing can be read; the clock waits `t` first).
            Op::Poll {
                timeout: Some(timeout),
            } => match st.timeout_of(c, Some(*timeout)) {
                Ok(None) => can_read(),
                Ok(Some(us)) if us > 0 && !timeouts => can_read(),
                _ => 1,
            },
            _ => 1,
        })
    }

    fn call(&self, k: &mut Call, op: &Op) -> Res<Outcome> {
        match op {
            Op::Send { value } => {
                let v = k.arg(*value)?;
                send(k, v)
            }
            Op::Recv => recv(k),
            Op::Poll { timeout } => {
                k.timed(*timeout)?;
                poll(k)
            }
            Op::Close => close(k),
            _ => super::no_such_operation(k, op),
        }
    }

    fn blocked(&self, _st: &State, c: &Ctx, o: ObjId, op: &Op) -> Blocked {
        match op {
            Op::Recv => Blocked::new(
                WaitTarget::Pipe(o),
                format!(
                    "waits to receive on {}, and nothing comes while the other end is open",
                    c.prog.objects[o as usize].name
                ),
            ),
            Op::Poll { .. } => Blocked::new(
                WaitTarget::Pipe(o),
                format!(
                    "polls {} without a timeout, and nothing comes while the other end is open",
                    c.prog.objects[o as usize].name
                ),
            ),
            _ => Blocked::stuck(),
        }
    }

    fn footprint(&self, _st: &State, prog: &Program, o: ObjId, fp: &mut Footprint) {
        fp.push(Touch::Obj(o));
        fp.push(Touch::Obj(shape(prog, o).0));
    }

    fn describe(&self, st: &State, _prog: &Program, o: ObjId) -> String {
        let Some(e) = end(st, o) else {
            return String::new();
        };
        let items: Vec<String> = e.inbox.iter().map(Value::to_string).collect();
        let closed = if e.closed { ", closed" } else { "" };
        format!("Pipe end, inbox [{}]{closed}", items.join(", "))
    }
}
