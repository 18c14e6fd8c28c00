//! List values: `[a, b, c]`, `xs[i]`, `len(xs)`, `pool.map`'s results and the lists of
//! AsyncResults it works on.
//!
//! A list is immutable and lives in the execution's arena (`State::lists`); a value holds
//! its place there. Equal lists get the same place (the arena is searched before a list is
//! added), so comparing places compares lists, and place 0 is always the empty list, so
//! truth needs no arena. SCENARIO.md's lists are fixed-length local values, so an arena
//! that only grows is enough: an execution creates few of them. The deviation: a list's
//! place depends on the order lists were made in, so two states that hold equal lists
//! made in another order hash differently (state caching sees them as two states).

use super::exception::{ExcKind, Res, raise};
use super::state::State;
use super::value::{as_int, type_name};
use crate::ir::Value;
use std::sync::Arc;

/// The arena every execution starts with: the empty list at place 0.
pub(super) fn new_arena() -> Vec<Arc<[Value]>> {
    vec![Arc::from(Vec::new())]
}

impl State {
    /// The list value of `items`.
    pub(super) fn make_list(&mut self, items: Vec<Value>) -> Value {
        if let Some(i) = self.lists.iter().position(|l| **l == *items) {
            return Value::List(i as u32);
        }
        self.lists.push(Arc::from(items));
        Value::List(self.lists.len() as u32 - 1)
    }

    /// The items of list value `v` (a TypeError for anything else).
    pub(super) fn items(&self, v: Value) -> Res<Arc<[Value]>> {
        match v {
            Value::List(i) => Ok(self.lists[i as usize].clone()),
            _ => raise(
                ExcKind::TypeError,
                format!("'{}' object is not a list", type_name(v)),
            ),
        }
    }

    /// `xs[i]`, with Python's negative indices.
    pub(super) fn list_item(&self, list: Value, index: Value) -> Res<Value> {
        let items = self.items(list)?;
        let i = as_int(index, "list indices")?;
        let j = if i < 0 { i + items.len() as i64 } else { i };
        match usize::try_from(j).ok().and_then(|j| items.get(j)) {
            Some(v) => Ok(*v),
            None => raise(ExcKind::IndexError, "list index out of range"),
        }
    }

    /// A value as Python prints it: lists with their contents.
    pub fn show(&self, v: Value) -> String {
        match v {
            Value::List(i) => {
                let items: Vec<String> = self.lists[i as usize]
                    .iter()
                    .map(|x| self.show(*x))
                    .collect();
                format!("[{}]", items.join(", "))
            }
            other => other.to_string(),
        }
    }
}
