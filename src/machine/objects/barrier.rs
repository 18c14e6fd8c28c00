//! `threading.Barrier(parties)`: `wait()` returns the arrival index, 0 to parties-1.
//!
//! The last of `parties` threads to arrive completes the round and returns at once;
//! the others wait ([`BarrierWait`]) and each leaves in a step of its own once the round
//! is complete. The barrier is cyclic: the next round starts empty. Happens-before: every
//! arrival of a round releases into that round's channel, every departure acquires it.
//! For the explorer, arrivals write the round and departures only read it, so the
//! departures of one round are independent of each other.

use super::{Blocked, Call, ObjState, Outcome, Primitive, Wait, WaitTarget, internal, say};
use crate::ir::{ObjId, ObjKind, Op, Program, ThreadId, Value};
use crate::machine::eval::Ctx;
use crate::machine::events::{Chan, Event};
use crate::machine::exception::Res;
use crate::machine::footprint::{Footprint, Touch};
use crate::machine::spin::Loc;
use crate::machine::state::{State, Status};

pub(super) struct BarrierKind;

/// A thread that arrived at a barrier in round `generation`, waiting for the rest.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BarrierWait {
    pub bar: ObjId,
    pub generation: u32,
    pub index: u32,
}

fn round(st: &State, o: ObjId) -> (u32, u32) {
    match st.objects[o as usize] {
        ObjState::Barrier {
            arrived,
            generation,
        } => (arrived, generation),
        _ => (0, 0),
    }
}

fn parties(prog: &Program, o: ObjId) -> u32 {
    match prog.objects[o as usize].kind {
        ObjKind::Barrier { parties } => parties,
        _ => 0,
    }
}

fn arrive(k: &mut Call) -> Res<Outcome> {
    let (o, t, name) = (k.o, k.t(), k.name());
    let parties = parties(k.prog(), o);
    let (index, g) = round(k.st, o);
    k.event(Event::Release(Chan::Barrier(o, g)));
    k.wrote(Loc::Obj(o));
    let ObjState::Barrier {
        arrived,
        generation,
    } = k.state()
    else {
        return internal("a Barrier without its state");
    };
    if index + 1 >= parties {
        *arrived = 0;
        *generation += 1;
        k.event(Event::Acquire(Chan::Barrier(o, g)));
        say!(
            k,
            "wait {name}: last of {parties} to arrive, returns {index} (round {} complete)",
            g + 1
        );
        Ok(Outcome::Done(Value::Int(index as i64)))
    } else {
        *arrived += 1;
        k.st.threads[t as usize].status = Status::Waiting(Wait::Barrier(BarrierWait {
            bar: o,
            generation: g,
            index,
        }));
        say!(k, "wait {name}: arrives {} of {parties}", index + 1);
        Ok(Outcome::Waiting)
    }
}

impl Primitive for BarrierKind {
    fn initial(&self, _info: &crate::ir::ObjInfo) -> ObjState {
        ObjState::Barrier {
            arrived: 0,
            generation: 0,
        }
    }

    fn ready(&self, _st: &State, _c: &Ctx, _o: ObjId, _op: &Op, _timeouts: bool) -> Res<u32> {
        Ok(1)
    }

    fn call(&self, k: &mut Call, op: &Op) -> Res<Outcome> {
        match op {
            Op::Wait { .. } => arrive(k),
            _ => super::no_such_operation(k, op),
        }
    }

    fn blocked(&self, _st: &State, _c: &Ctx, _o: ObjId, _op: &Op) -> Blocked {
        Blocked::stuck()
    }

    fn footprint(&self, st: &State, prog: &Program, o: ObjId, fp: &mut Footprint) {
        super::touch_object(prog, fp, o);
        fp.push(Touch::Round {
            bar: o,
            generation: round(st, o).1,
            write: true,
        });
    }

    fn describe(&self, st: &State, prog: &Program, o: ObjId) -> String {
        format!(
            "Barrier, {} of {} arrived",
            round(st, o).0,
            parties(prog, o)
        )
    }

    fn wait_ready(&self, st: &State, _p: &Program, _t: ThreadId, w: &Wait, _timeouts: bool) -> u32 {
        match w {
            Wait::Barrier(w) => u32::from(round(st, w.bar).1 > w.generation),
            _ => 0,
        }
    }

    fn resume(&self, k: &mut Call, w: &Wait) -> Res<Outcome> {
        let Wait::Barrier(w) = w else {
            return internal("a Barrier resumed from another kind's wait");
        };
        let t = k.t();
        k.st.threads[t as usize].status = Status::Ready;
        k.event(Event::Acquire(Chan::Barrier(w.bar, w.generation)));
        let name = k.name_of(w.bar);
        say!(
            k,
            "wait {name} returns {} (round {} complete)",
            w.index,
            w.generation + 1
        );
        Ok(Outcome::Done(Value::Int(w.index as i64)))
    }

    fn wait_blocked(&self, st: &State, prog: &Program, _t: ThreadId, w: &Wait) -> Blocked {
        let bar = w.object();
        Blocked::new(
            WaitTarget::Barrier(bar),
            format!(
                "waits at barrier {} ({} of {} arrived)",
                prog.objects[bar as usize].name,
                round(st, bar).0,
                parties(prog, bar)
            ),
        )
    }

    /// Leaving a barrier conflicts only with the arrivals of its own round.
    fn wait_footprint(&self, _prog: &Program, w: &Wait, fp: &mut Footprint) {
        if let Wait::Barrier(w) = w {
            fp.push(Touch::Round {
                bar: w.bar,
                generation: w.generation,
                write: false,
            });
        }
    }
}
