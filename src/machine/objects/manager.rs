//! `multiprocessing.Manager()`'s `dict()` and `list()` proxies: every operation is a
//! call to the manager process, one step, atomic, never a data race, and ordered after
//! the earlier operations on the same proxy (happens-before). `d[k] += 1` is two
//! operations (a get, then a set), so updates can still be lost.
//!
//! Dict: `d[k]`, `d[k] = v`, `d.get(k[, default])`, `d.pop(k[, default])`, `len(d)`.
//! List: `l[i]`, `l[i] = v`, `l.append(v)`, `l.pop()`, `len(l)`. A missing key is a
//! KeyError, an index out of range an IndexError, as in Python.

use super::{Blocked, Call, ObjState, Outcome, Primitive, internal, say};
use crate::ir::{ObjId, ObjKind, Op, Operand, Program, Value};
use crate::machine::eval::Ctx;
use crate::machine::events::{Chan, Event};
use crate::machine::exception::{ExcKind, Res, raise};
use crate::machine::spin::Loc;
use crate::machine::state::State;
use crate::machine::value::as_int;

pub(super) struct ManagerKind;

/// A list index, with Python's negative indices.
fn position(i: i64, len: usize) -> Option<usize> {
    let j = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&j).then_some(j as usize)
}

fn index_error<T>(what: &str) -> Res<T> {
    raise(ExcKind::IndexError, what.to_string())
}

fn dict_op(k: &mut Call, op: &Op) -> Res<Value> {
    let args = |k: &Call, o: &Option<Operand>| o.map(|x| k.arg(x)).transpose();
    let (key, value, default) = match op {
        Op::Item { key } | Op::DictGet { key, .. } => (Some(k.arg(*key)?), None, None),
        Op::SetItem { key, value } => (Some(k.arg(*key)?), Some(k.arg(*value)?), None),
        Op::Pop { key, default } => (args(k, key)?, None, args(k, default)?),
        _ => (None, None, None),
    };
    let default = match op {
        Op::DictGet { default, .. } => Some(args(k, default)?.unwrap_or(Value::None)),
        _ => default,
    };
    let ObjState::Dict(items) = k.state() else {
        return internal("a Manager dict without its state");
    };
    let at = key.and_then(|key| items.iter().position(|(x, _)| *x == key));
    let missing = || raise(ExcKind::KeyError, key.unwrap_or(Value::None).to_string());
    match op {
        Op::Item { .. } | Op::DictGet { .. } => match (at, default) {
            (Some(i), _) => Ok(items[i].1),
            (None, Some(d)) => Ok(d),
            (None, None) => missing(),
        },
        Op::SetItem { .. } => {
            let (key, value) = (key.unwrap_or(Value::None), value.unwrap_or(Value::None));
            match at {
                Some(i) => items[i].1 = value,
                None => items.push((key, value)),
            }
            Ok(Value::None)
        }
        Op::Pop { .. } => match (at, default) {
            (Some(i), _) => Ok(items.remove(i).1),
            (None, Some(d)) => Ok(d),
            (None, None) => missing(),
        },
        Op::Len => Ok(Value::Int(items.len() as i64)),
        _ => super::no_such_operation(k, op),
    }
}

fn list_op(k: &mut Call, op: &Op) -> Res<Value> {
    let index = match op {
        Op::Item { key } | Op::SetItem { key, .. } => Some(as_int(k.arg(*key)?, "list indices")?),
        _ => None,
    };
    let value = match op {
        Op::SetItem { value, .. } | Op::Append { value } => Some(k.arg(*value)?),
        _ => None,
    };
    let ObjState::List(items) = k.state() else {
        return internal("a Manager list without its state");
    };
    let at = index.and_then(|i| position(i, items.len()));
    match op {
        Op::Item { .. } => match at {
            Some(i) => Ok(items[i]),
            None => index_error("list index out of range"),
        },
        Op::SetItem { .. } => match at {
            Some(i) => {
                items[i] = value.unwrap_or(Value::None);
                Ok(Value::None)
            }
            None => index_error("list assignment index out of range"),
        },
        Op::Append { .. } => {
            items.push(value.unwrap_or(Value::None));
            Ok(Value::None)
        }
        Op::Pop { key: None, .. } => match items.pop() {
            Some(v) => Ok(v),
            None => index_error("pop from empty list"),
        },
        Op::Len => Ok(Value::Int(items.len() as i64)),
        _ => super::no_such_operation(k, op),
    }
}

/// Does `op` change the proxy's contents?
fn writes(op: &Op) -> bool {
    matches!(op, Op::SetItem { .. } | Op::Pop { .. } | Op::Append { .. })
}

impl Primitive for ManagerKind {
    fn initial(&self, info: &crate::ir::ObjInfo) -> ObjState {
        match info.kind {
            ObjKind::ManagerList => ObjState::List(info.items.iter().map(|i| i.0).collect()),
            _ => ObjState::Dict(info.items.clone()),
        }
    }

    fn ready(&self, _st: &State, _c: &Ctx, _o: ObjId, _op: &Op, _timeouts: bool) -> Res<u32> {
        Ok(1)
    }

    fn call(&self, k: &mut Call, op: &Op) -> Res<Outcome> {
        let (o, name) = (k.o, k.name());
        let v = match k.prog().objects[o as usize].kind {
            ObjKind::ManagerList => list_op(k, op)?,
            _ => dict_op(k, op)?,
        };
        k.event(Event::Acquire(Chan::Obj(o)));
        k.event(Event::Release(Chan::Obj(o)));
        if writes(op) {
            k.wrote(Loc::Obj(o));
        } else {
            k.read(Loc::Obj(o));
        }
        say!(k, "{name}.{}() = {v}", op.name());
        Ok(Outcome::Done(v))
    }

    fn blocked(&self, _st: &State, _c: &Ctx, _o: ObjId, _op: &Op) -> Blocked {
        Blocked::stuck()
    }

    fn describe(&self, st: &State, _prog: &Program, o: ObjId) -> String {
        match &st.objects[o as usize] {
            ObjState::Dict(items) => {
                let items: Vec<String> = items.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("Manager dict {{{}}}", items.join(", "))
            }
            ObjState::List(items) => {
                let items: Vec<String> = items.iter().map(Value::to_string).collect();
                format!("Manager list [{}]", items.join(", "))
            }
            _ => String::new(),
        }
    }
}
