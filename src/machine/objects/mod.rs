//! The synchronization objects of SCENARIO.md, one file per kind, each the whole truth
//! about its kind: its state, when an operation is ready, its effect (the Python errors
//! it raises, the happens-before events it emits, the trace it writes), what a waiter
//! waits for, and what it touches for the explorer's dependency relation. This module
//! only dispatches: [`primitive`] maps a kind to its file's [`Primitive`], and a new kind
//! is one new file, one arm there, and its variants in [`ObjState`] and [`Wait`].
//!
//! Every operation is one step. A blocking operation that cannot go on now has no
//! alternative ([`Primitive::ready`] is 0), so the scheduler does not pick it; one that
//! blocks *part way* (a Condition's wait releases its lock first, a Barrier's wait
//! arrives first) leaves its thread in a [`Wait`], from which it resumes in a later step.
//! As loom's `rt/` and shuttle's batch semaphore do, the blocking rule lives here once,
//! and every engine (the explorer, native, loom, shuttle) drives this same code.

mod barrier;
mod condition;
mod connection;
mod event;
mod lock;
mod manager;
mod pool;
mod queue;
mod semaphore;

use super::eval::Ctx;
use super::events::Event;
use super::exception::{ExcKind, Res, raise};
use super::footprint::{Footprint, Touch};
use super::spin::Loc;
use super::state::State;
use super::step::StepOut;
use crate::ir::{ObjId, ObjKind, Op, Operand, Program, ThreadId, Value};
use std::collections::VecDeque;

pub use barrier::BarrierWait;
pub use condition::{CondState, CondWait};
pub use connection::EndState;
pub(super) use connection::close_on_exit;
pub use event::EventWait;
pub(super) use lock::lock_timeout;
pub use pool::{PoolState, lost_exceptions};
pub(super) use pool::{
    pool_of, result_blocked, result_footprint, result_op, result_ready, task_field,
};

/// The state of one object.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ObjState {
    Lock {
        holder: Option<ThreadId>,
    },
    RLock {
        owner: Option<ThreadId>,
        count: u32,
    },
    Condition(CondState),
    Semaphore {
        value: i64,
    },
    Event {
        flag: bool,
    },
    Barrier {
        arrived: u32,
        generation: u32,
    },
    Queue {
        items: VecDeque<Value>,
        unfinished: u32,
    },
    Connection(EndState),
    /// A Manager dict's items in insertion order.
    Dict(Vec<(Value, Value)>),
    List(Vec<Value>),
    Pool(PoolState),
}

impl ObjState {
    /// What of this state thread `t`'s own operations decide, for the spin-loop rule's
    /// "did the iteration put back what it changed" (spin.rs): all of it, but for a
    /// Condition's wait list, where only `t`'s own place is its doing (a waiter coming
    /// and going beside it is not).
    pub fn own_part(&self, t: ThreadId) -> ObjState {
        match self {
            ObjState::Condition(c) => ObjState::Condition(CondState {
                waiters: c.waiters.iter().copied().filter(|w| *w == t).collect(),
                ..CondState::default()
            }),
            other => other.clone(),
        }
    }
}

/// A thread inside a blocking operation, between its steps.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Wait {
    Condition(CondWait),
    Event(EventWait),
    Barrier(BarrierWait),
}

impl Wait {
    /// The object waited on.
    pub fn object(&self) -> ObjId {
        match self {
            Wait::Condition(w) => w.cv(),
            Wait::Event(w) => w.ev,
            Wait::Barrier(w) => w.bar,
        }
    }
}

/// What a thread that cannot move waits for: a node of the wait-for graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WaitTarget {
    /// A Lock or RLock (a Condition's lock too), to acquire it.
    Lock(ObjId),
    /// A semaphore's permit.
    Semaphore(ObjId),
    /// A notify of a Condition.
    Notify(ObjId),
    /// An Event to be set.
    Event(ObjId),
    /// The rest of a barrier's parties.
    Barrier(ObjId),
    /// Room in a full queue, an item in an empty one, `task_done` calls for its `join`.
    QueuePut(ObjId),
    QueueGet(ObjId),
    QueueJoin(ObjId),
    /// Something to arrive at a pipe end.
    Pipe(ObjId),
    /// The end of these threads (`join`).
    Threads(Vec<ThreadId>),
    /// A write to one of these (a spin loop that makes no progress).
    Change(Vec<Loc>),
    Nothing,
}

/// Why a thread cannot move: what it waits for, said for people, and which threads
/// could end the wait (for the wait-for graph).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    pub target: WaitTarget,
    pub text: String,
    pub holders: Vec<ThreadId>,
}

impl Blocked {
    pub(super) fn new(target: WaitTarget, text: String) -> Blocked {
        Blocked {
            target,
            text,
            holders: vec![],
        }
    }
    pub(super) fn stuck() -> Blocked {
        Blocked::new(WaitTarget::Nothing, "is stuck".into())
    }
}

/// The result of an operation for its thread.
pub(super) enum Outcome {
    /// The operation finished: write `value` to the destination, move on.
    Done(Value),
    /// The thread now waits (its status changed); the pc stays.
    Waiting,
}

/// An operation in progress: the state it changes, the thread, the object and the
/// alternative chosen, and where its events and trace go.
pub(super) struct Call<'s, 'p> {
    pub st: &'s mut State,
    pub c: &'s Ctx<'p>,
    pub out: &'s mut StepOut,
    pub o: ObjId,
    pub alt: u32,
}

/// Appends to the step's trace line, formatting only when a trace is asked for.
macro_rules! say {
    ($k:expr, $($arg:tt)*) => {
        if $k.out.text.is_some() {
            let s = format!($($arg)*);
            $k.say_text(&s);
        }
    };
}
pub(super) use say;

impl Call<'_, '_> {
    pub fn t(&self) -> ThreadId {
        self.c.t
    }
    pub fn prog(&self) -> &Program {
        self.c.prog
    }
    /// The object's name (`m`, `fork[2]`).
    pub fn name(&self) -> String {
        self.c.prog.objects[self.o as usize].name.clone()
    }
    pub fn name_of(&self, o: ObjId) -> String {
        self.c.prog.objects[o as usize].name.clone()
    }
    pub fn arg(&self, o: Operand) -> Res<Value> {
        self.st.operand(self.c, o)
    }
    pub fn flag(&self, o: Option<Operand>) -> Res<bool> {
        self.st.flag(self.c, o)
    }
    pub fn timed(&self, o: Option<Operand>) -> Res<bool> {
        self.st.timed(self.c, o)
    }
    pub fn event(&mut self, e: Event) {
        self.out.events.push(e);
    }
    /// The operation looked at `loc` (the spin-loop rule's reads).
    pub fn read(&mut self, loc: Loc) {
        let t = self.t();
        self.st.note_read(t, loc);
    }
    /// The operation changed `loc`.
    pub fn wrote(&mut self, loc: Loc) {
        let t = self.t();
        self.st.note_write(t, loc);
    }
    pub fn state(&mut self) -> &mut ObjState {
        &mut self.st.objects[self.o as usize]
    }
    pub fn say_text(&mut self, s: &str) {
        if let Some(o) = self.out.text.as_mut() {
            if !o.is_empty() {
                o.push_str("; ");
            }
            o.push_str(s);
        }
    }
}

/// One kind of object. `ready` and `call` are the two halves of an operation: how many
/// alternatives it has now (0: it must wait), and what it does with the one chosen. The
/// `wait_*` methods are for kinds whose operations leave a thread in a [`Wait`].
pub(super) trait Primitive: Sync {
    fn initial(&self, info: &crate::ir::ObjInfo) -> ObjState;
    /// The alternatives of `op` on `o` by `c.t` in `st` (0: it cannot go on now).
    /// `timeouts`: whether a timed operation may give up (the engines ask without, to
    /// tell a wait that only a timeout would end).
    fn ready(&self, st: &State, c: &Ctx, o: ObjId, op: &Op, timeouts: bool) -> Res<u32>;
    /// Runs `op` with the chosen alternative.
    fn call(&self, k: &mut Call, op: &Op) -> Res<Outcome>;
    /// What a thread that cannot start `op` on `o` waits for.
    fn blocked(&self, st: &State, c: &Ctx, o: ObjId, op: &Op) -> Blocked;
    /// What an operation on `o` touches.
    fn footprint(&self, st: &State, prog: &Program, o: ObjId, fp: &mut Footprint) {
        let _ = st;
        touch_object(prog, fp, o);
    }
    /// What operation `op` on `o` by `c.t` touches, for kinds where it depends on the
    /// operation.
    fn op_footprint(&self, st: &State, c: &Ctx, o: ObjId, op: &Op, fp: &mut Footprint) {
        let _ = op;
        self.footprint(st, c.prog, o, fp)
    }
    /// A lock that `op` waits for as long as it takes (for the lock-order graph).
    fn blocking_lock(&self, st: &State, c: &Ctx, o: ObjId, op: &Op) -> Option<ObjId> {
        let _ = (st, c, o, op);
        None
    }
    /// Who holds the object, for a lock.
    fn holder(&self, s: &ObjState) -> Option<ThreadId> {
        let _ = s;
        None
    }
    /// The object's state for people.
    fn describe(&self, st: &State, prog: &Program, o: ObjId) -> String;
    fn wait_ready(&self, st: &State, prog: &Program, t: ThreadId, w: &Wait, timeouts: bool) -> u32 {
        let _ = (st, prog, t, w, timeouts);
        0
    }
    fn resume(&self, k: &mut Call, w: &Wait) -> Res<Outcome> {
        let _ = (k, w);
        internal("a wait of an object that has none")
    }
    fn wait_blocked(&self, st: &State, prog: &Program, t: ThreadId, w: &Wait) -> Blocked {
        let _ = (st, prog, t, w);
        Blocked::stuck()
    }
    fn wait_footprint(&self, prog: &Program, w: &Wait, fp: &mut Footprint) {
        touch_object(prog, fp, w.object());
    }
    fn wait_lock(&self, prog: &Program, w: &Wait) -> Option<ObjId> {
        let _ = (prog, w);
        None
    }
}

/// The file that knows kind `k`.
fn primitive(k: ObjKind) -> &'static dyn Primitive {
    match k {
        ObjKind::Lock | ObjKind::RLock => &lock::LockKind,
        ObjKind::Condition { .. } => &condition::ConditionKind,
        ObjKind::Semaphore { .. } => &semaphore::SemaphoreKind,
        ObjKind::Event => &event::EventKind,
        ObjKind::Barrier { .. } => &barrier::BarrierKind,
        ObjKind::Queue { .. } => &queue::QueueKind,
        ObjKind::Connection { .. } => &connection::ConnectionKind,
        ObjKind::ManagerDict | ObjKind::ManagerList => &manager::ManagerKind,
        ObjKind::Pool { .. } => &pool::PoolKind,
    }
}

fn of(prog: &Program, o: ObjId) -> &'static dyn Primitive {
    primitive(prog.objects[o as usize].kind)
}

/// A state that should be impossible: a bug in simrace, reported instead of a panic.
pub(super) fn internal<T>(what: &str) -> Res<T> {
    raise(
        ExcKind::RuntimeError,
        format!("internal error in simrace: {what}"),
    )
}

/// The kind name Python prints (`Lock`, `Condition`, ...).
pub fn kind_label(k: ObjKind) -> &'static str {
    match k {
        ObjKind::Lock => "Lock",
        ObjKind::RLock => "RLock",
        ObjKind::Condition { .. } => "Condition",
        ObjKind::Semaphore { bounded: true, .. } => "BoundedSemaphore",
        ObjKind::Semaphore { .. } => "Semaphore",
        ObjKind::Event => "Event",
        ObjKind::Barrier { .. } => "Barrier",
        ObjKind::Queue { .. } => "Queue",
        ObjKind::Connection { .. } => "Connection",
        ObjKind::ManagerDict => "DictProxy",
        ObjKind::ManagerList => "ListProxy",
        ObjKind::Pool { .. } => "Pool",
    }
}

/// The error for an operation a kind does not have (the front end rules these out).
pub(super) fn no_such_operation<T>(k: &Call, op: &Op) -> Res<T> {
    let kind = k.prog().objects[k.o as usize].kind;
    raise(
        ExcKind::TypeError,
        format!("{} has no operation {}", kind_label(kind), op.name()),
    )
}

/// The lock that an operation on `o` acquires: a Condition's own lock, else `o`.
pub fn lock_of(prog: &Program, o: ObjId) -> ObjId {
    match prog.objects[o as usize].kind {
        ObjKind::Condition { lock } => lock,
        _ => o,
    }
}

/// Adds what any operation on `o` touches: the object (and a Condition's lock).
pub fn touch_object(prog: &Program, fp: &mut Footprint, o: ObjId) {
    fp.push(Touch::Obj(o));
    if let ObjKind::Condition { lock } = prog.objects[o as usize].kind {
        fp.push(Touch::Obj(lock));
    }
}

pub fn initial(o: &crate::ir::ObjInfo) -> ObjState {
    primitive(o.kind).initial(o)
}

pub(super) fn ready(st: &State, c: &Ctx, o: ObjId, op: &Op, timeouts: bool) -> Res<u32> {
    of(c.prog, o).ready(st, c, o, op, timeouts)
}

pub(super) fn call(k: &mut Call, op: &Op) -> Res<Outcome> {
    of(k.c.prog, k.o).call(k, op)
}

pub(super) fn blocked(st: &State, c: &Ctx, o: ObjId, op: &Op) -> Blocked {
    of(c.prog, o).blocked(st, c, o, op)
}

pub(super) fn call_footprint(st: &State, c: &Ctx, o: ObjId, op: &Op, fp: &mut Footprint) {
    of(c.prog, o).op_footprint(st, c, o, op, fp)
}

pub(super) fn blocking_lock(st: &State, c: &Ctx, o: ObjId, op: &Op) -> Option<ObjId> {
    of(c.prog, o).blocking_lock(st, c, o, op)
}

pub fn holder(st: &State, o: ObjId) -> Option<ThreadId> {
    let s = &st.objects[o as usize];
    match s {
        ObjState::Lock { .. } | ObjState::RLock { .. } => lock::LockKind.holder(s),
        _ => None,
    }
}

pub(super) fn describe(st: &State, prog: &Program, o: ObjId) -> String {
    of(prog, o).describe(st, prog, o)
}

pub(super) fn wait_ready(st: &State, prog: &Program, t: ThreadId, w: &Wait, timeouts: bool) -> u32 {
    of(prog, w.object()).wait_ready(st, prog, t, w, timeouts)
}

pub(super) fn resume(k: &mut Call, w: &Wait) -> Res<Outcome> {
    of(k.c.prog, w.object()).resume(k, w)
}

pub(super) fn wait_blocked(st: &State, prog: &Program, t: ThreadId, w: &Wait) -> Blocked {
    of(prog, w.object()).wait_blocked(st, prog, t, w)
}

pub(super) fn wait_footprint(_st: &State, prog: &Program, w: &Wait, fp: &mut Footprint) {
    of(prog, w.object()).wait_footprint(prog, w, fp)
}

pub(super) fn wait_lock(prog: &Program, w: &Wait) -> Option<ObjId> {
    of(prog, w.object()).wait_lock(prog, w)
}

/// Party `t` is gone (terminated or killed): it no longer waits on any condition.
pub(super) fn forget_waiter(st: &mut State, t: ThreadId) {
    condition::forget(st, t);
}

/// Renames the threads that object state `s` names (a lock's holder, a condition's
/// waiters, a pool task's worker): thread `t` becomes `to[t]`.
pub(super) fn rename_threads(s: &mut ObjState, to: &[ThreadId]) {
    let map = |t: &mut ThreadId| *t = to[*t as usize];
    match s {
        ObjState::Lock { holder: t } | ObjState::RLock { owner: t, .. } => {
            t.as_mut().map(map);
        }
        ObjState::Condition(c) => c.waiters.iter_mut().for_each(map),
        ObjState::Pool(p) => p.rename_threads(to),
        ObjState::Semaphore { .. }
        | ObjState::Event { .. }
        | ObjState::Barrier { .. }
        | ObjState::Queue { .. }
        | ObjState::Connection(_)
        | ObjState::Dict(_)
        | ObjState::List(_) => {}
    }
}
