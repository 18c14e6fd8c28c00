//! `multiprocessing.Pool`: its tasks and their AsyncResults.
//!
//! Not reachable from the front end yet: every operation is an internal error, so that a
//! program that reaches one (a bug in simrace) says so instead of running wrongly.

use super::{Blocked, Call, ObjState, Outcome, Primitive, internal};
use crate::ir::{ObjId, Op, Program, ResultOp, TaskField, Value};
use crate::machine::eval::Ctx;
use crate::machine::exception::Res;
use crate::machine::state::State;

pub(super) struct PoolKind;

impl Primitive for PoolKind {
    fn initial(&self, _info: &crate::ir::ObjInfo) -> ObjState {
        ObjState::Pool
    }
    fn ready(&self, _st: &State, _c: &Ctx, _o: ObjId, _op: &Op, _timeouts: bool) -> Res<u32> {
        Ok(1)
    }
    fn call(&self, _k: &mut Call, _op: &Op) -> Res<Outcome> {
        internal("a Pool operation")
    }
    fn blocked(&self, _st: &State, _c: &Ctx, _o: ObjId, _op: &Op) -> Blocked {
        Blocked::stuck()
    }
    fn describe(&self, _st: &State, _prog: &Program, _o: ObjId) -> String {
        "Pool".into()
    }
}

/// The pool an AsyncResult belongs to.
pub(in crate::machine) fn pool_of(handle: Value) -> Res<ObjId> {
    match handle {
        Value::Task { pool, .. } => Ok(pool),
        _ => internal("an AsyncResult operation on something else"),
    }
}

/// An operation on an AsyncResult.
pub(in crate::machine) fn result_op(_k: &mut Call, _handle: Value, _op: &ResultOp) -> Res<Outcome> {
    internal("an AsyncResult operation")
}

/// What a worker reads of the task it took.
pub(in crate::machine) fn task_field(_st: &State, _task: Value, _field: TaskField) -> Res<Value> {
    internal("a task field")
}
