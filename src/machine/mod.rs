//! The deterministic machine: the one place that knows what a step does.
//!
//! A [`State`] holds every variable cell, every object's state and every thread's
//! program counter, locals and wait status. It is small, cheap to clone and hashable.
//! [`State::alternatives`] says which threads can move and in how many ways (a `choose`,
//! which waiters a `notify` wakes), [`State::step`] moves one thread by one step and
//! reports what happened: the [`Event`]s a happens-before race detector needs, the
//! [`Touch`]es the explorer's dependency relation needs, an optional human-readable
//! trace line, and a [`Failure`] when Python would have raised or an assertion failed.
//!
//! Between steps a thread runs its local code eagerly, so a thread that can move always
//! sits at its next visible instruction.

use crate::frontend::ast::{BinOp, CmpOp, UnOp, VarClass};
use crate::ir::{
    Check, Code, Instr, LocalId, ObjId, ObjKind, ObjSel, Op, Operand, Pc, PrintArg, Program,
    StaticTouch, ThreadId, ThreadSel,
};
use crate::ir::{FindingKind, Value};
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::hash::Hash;

/// How many local instructions a thread may run between two steps before the machine
/// calls it a livelock (a loop that never reaches a step).
pub const LOCAL_BUDGET: u32 = 100_000;
/// The most values one `choose` may offer.
pub const MAX_CHOOSE: i64 = 4096;

/// The whole state of an execution.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    pub cells: Vec<Value>,
    pub objects: Vec<ObjState>,
    pub threads: Vec<Thread>,
    /// Steps taken so far.
    pub steps: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Thread {
    pub status: Status,
    pub pc: Pc,
    pub locals: Vec<Option<Value>>,
    /// The spin-loop trackers, one per loop head passed: what the iteration did.
    pub spin: Vec<Spin>,
    /// An iteration made no progress: at the next step, block on these reads.
    pub spin_pending: Option<Vec<Loc>>,
    /// Steps this thread has taken.
    pub steps: u32,
}

/// The spin-loop rule's record of one loop iteration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Spin {
    pub head: Pc,
    pub locals: Vec<Option<Value>>,
    pub reads: Vec<Loc>,
    /// The iteration wrote something (it may have put it back: see `shared_hash`).
    pub wrote: bool,
    /// Progress for sure: a `choose`, or another thread wrote what this iteration read.
    pub forced: bool,
    /// A hash of every cell and object at the loop head.
    pub shared_hash: u64,
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
    /// The end of these threads (`join`).
    Threads(Vec<ThreadId>),
    /// A write to one of these (a spin loop that makes no progress).
    Change(Vec<Loc>),
    Nothing,
}

/// A location that a step reads or writes, for the spin-loop rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Loc {
    Cell(u32),
    Obj(ObjId),
    Thread(ThreadId),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    NotStarted,
    /// At a visible instruction (`pc`).
    Ready,
    /// In `Condition.wait`, its lock released, not yet notified.
    CondWait {
        cv: ObjId,
        saved: u32,
        timed: bool,
    },
    /// Notified (`result` true) or timed out, waiting to take the lock back.
    CondReacquire {
        cv: ObjId,
        saved: u32,
        result: bool,
    },
    /// In `Event.wait` on an unset event.
    EventWait {
        ev: ObjId,
        woken: bool,
        timed: bool,
    },
    /// Arrived at a barrier in round `generation`, waiting for the rest.
    BarrierWait {
        bar: ObjId,
        generation: u32,
        index: u32,
    },
    /// Spinning on reads that nothing has changed since: waits for a write to one of them.
    SpinBlocked {
        reads: Vec<Loc>,
    },
    Finished,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ObjState {
    Lock {
        holder: Option<ThreadId>,
    },
    RLock {
        owner: Option<ThreadId>,
        count: u32,
    },
    Condition {
        waiters: Vec<ThreadId>,
    },
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
}

/// One scheduling decision: thread `thread` moves, taking alternative `alt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Choice {
    pub thread: ThreadId,
    pub alt: u32,
}

/// A happens-before relevant event, in the order it happened within a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A read or write of a `[shared]` or `[atomics]` cell.
    Access {
        cell: u32,
        write: bool,
        atomic: bool,
        line: u32,
        value: Value,
    },
    /// The thread takes the clock of a channel (lock acquire, event seen set, ...).
    Acquire(Chan),
    /// The thread adds its clock to a channel (lock release, event set, ...).
    Release(Chan),
    /// An atomic write: the channel holds exactly the writer's clock.
    Store(Chan),
    /// A channel forgets every earlier release (`Event.clear`).
    Reset(Chan),
    /// The thread's clock flows into another thread (start, notify, event wake).
    Edge {
        to: ThreadId,
    },
    /// `n` semaphore permits released / one taken (FIFO permits, each with a clock).
    SemRelease {
        sem: ObjId,
        n: u32,
    },
    SemAcquire {
        sem: ObjId,
    },
    /// An item put into / taken from a queue (it carries the putter's clock).
    QueuePut {
        q: ObjId,
    },
    QueueGet {
        q: ObjId,
    },
    /// The thread takes the final clock of a finished thread (join).
    JoinThread {
        of: ThreadId,
    },
}

/// A synchronization channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Chan {
    Obj(ObjId),
    /// One round of a barrier.
    Barrier(ObjId, u32),
    /// The task_done → join channel of a queue.
    QueueJoin(ObjId),
    /// An `[atomics]` cell.
    Atomic(u32),
    /// Every `with atomic:` block.
    AtomicBlock,
}

/// What a step may touch, for the explorer's dependency relation: two steps of different
/// threads are dependent when they touch the same thing and one of them writes (objects,
/// threads and the global ones always count as written).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Touch {
    Cell {
        cell: u32,
        write: bool,
    },
    Obj(ObjId),
    Thread(ThreadId),
    AtomicBlock,
    /// Writes of cells that an invariant reads are all ordered with each other.
    Invariant,
    /// One round of a barrier: its arrivals (writes) and departures (reads).
    Round {
        bar: ObjId,
        generation: u32,
        write: bool,
    },
}

pub type Footprint = SmallVec<[Touch; 4]>;

/// Are two footprints dependent?
pub fn dependent(a: &[Touch], b: &[Touch]) -> bool {
    a.iter().any(|x| {
        b.iter().any(|y| match (x, y) {
            (
                Touch::Cell {
                    cell: c1,
                    write: w1,
                },
                Touch::Cell {
                    cell: c2,
                    write: w2,
                },
            ) => c1 == c2 && (*w1 || *w2),
            (
                Touch::Round {
                    bar: b1,
                    generation: g1,
                    write: w1,
                },
                Touch::Round {
                    bar: b2,
                    generation: g2,
                    write: w2,
                },
            ) => b1 == b2 && g1 == g2 && (*w1 || *w2),
            _ => x == y,
        })
    })
}

/// What went wrong in a step: an assertion or an operation Python raises for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: FindingKind,
    pub thread: Option<ThreadId>,
    pub line: u32,
    pub message: String,
}

/// What a step did.
#[derive(Clone, Debug, Default)]
pub struct StepOut {
    pub events: Vec<Event>,
    pub failure: Option<Failure>,
    /// `print` output, in order.
    pub prints: Vec<String>,
    /// The trace line (only when asked for).
    pub text: Option<String>,
    pub line: u32,
}

/// A thread-level result of running an operation.
enum Outcome {
    /// The operation finished: write `value` to the destination, move on.
    Done(Value),
    /// The thread now waits (its status changed); the pc stays.
    Waiting,
}

type Res<T> = Result<T, String>;

fn truthy(v: Value) -> bool {
    match v {
        Value::None => false,
        Value::Bool(b) => b,
        Value::Int(i) => i != 0,
    }
}

fn type_name(v: Value) -> &'static str {
    match v {
        Value::None => "NoneType",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
    }
}

fn as_int(v: Value, what: &str) -> Res<i64> {
    match v {
        Value::Int(i) => Ok(i),
        Value::Bool(b) => Ok(b as i64),
        Value::None => Err(format!("TypeError: {what} must be an integer, not None")),
    }
}

/// Python's binary arithmetic on our values.
pub fn binary(op: BinOp, a: Value, b: Value) -> Res<Value> {
    let (x, y) = match (a, b) {
        (Value::None, _) | (_, Value::None) => {
            return Err(format!(
                "TypeError: unsupported operand type(s) for {}: '{}' and '{}'",
                op.symbol(),
                type_name(a),
                type_name(b)
            ));
        }
        _ => (as_int(a, "")?, as_int(b, "")?),
    };
    let overflow = || format!("OverflowError: integer overflow in {x} {} {y}", op.symbol());
    let r = match op {
        BinOp::Add => x.checked_add(y).ok_or_else(overflow)?,
        BinOp::Sub => x.checked_sub(y).ok_or_else(overflow)?,
        BinOp::Mul => x.checked_mul(y).ok_or_else(overflow)?,
        BinOp::FloorDiv | BinOp::Mod => {
            if y == 0 {
                let what = if op == BinOp::Mod {
                    "integer modulo by zero"
                } else {
                    "integer division or modulo by zero"
                };
                return Err(format!("ZeroDivisionError: {what}"));
            }
            let q = x.checked_div(y).ok_or_else(overflow)?;
            let r = x - q * y;
            let (q, r) = if r != 0 && ((r < 0) != (y < 0)) {
                (q - 1, r + y)
            } else {
                (q, r)
            };
            if op == BinOp::FloorDiv { q } else { r }
        }
    };
    Ok(Value::Int(r))
}

/// Python's comparisons on our values.
pub fn compare(op: CmpOp, a: Value, b: Value) -> Res<bool> {
    let num = |v: Value| match v {
        Value::Int(i) => Some(i),
        Value::Bool(b) => Some(b as i64),
        Value::None => None,
    };
    match op {
        CmpOp::Eq | CmpOp::Ne => {
            let eq = match (num(a), num(b)) {
                (Some(x), Some(y)) => x == y,
                (None, None) => true,
                _ => false,
            };
            Ok(eq == (op == CmpOp::Eq))
        }
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => Ok(match op {
                CmpOp::Lt => x < y,
                CmpOp::Le => x <= y,
                CmpOp::Gt => x > y,
                CmpOp::Ge => x >= y,
                _ => unreachable!(),
            }),
            _ => Err(format!(
                "TypeError: '{}' not supported between instances of '{}' and '{}'",
                op.symbol(),
                type_name(a),
                type_name(b)
            )),
        },
    }
}

pub fn unary(op: UnOp, a: Value) -> Res<Value> {
    match op {
        UnOp::Not => Ok(Value::Bool(!truthy(a))),
        UnOp::Neg => match a {
            Value::None => Err("TypeError: bad operand type for unary -: 'NoneType'".into()),
            _ => as_int(a, "")?
                .checked_neg()
                .map(Value::Int)
                .ok_or_else(|| "OverflowError: integer overflow in unary -".to_string()),
        },
        UnOp::Pos => match a {
            Value::None => Err("TypeError: bad operand type for unary +: 'NoneType'".into()),
            _ => Ok(Value::Int(as_int(a, "")?)),
        },
    }
}

/// Combinations of `m` out of `k` in lexicographic order: the `index`-th one.
fn combination(k: usize, m: usize, mut index: u64) -> Vec<usize> {
    let mut out = vec![];
    let mut start = 0;
    for slot in 0..m {
        for i in start..k {
            let rest = binom((k - i - 1) as u64, (m - slot - 1) as u64);
            if index < rest {
                out.push(i);
                start = i + 1;
                break;
            }
            index -= rest;
        }
    }
    out
}

fn binom(n: u64, k: u64) -> u64 {
    if k > n {
        return 0;
    }
    let k = k.min(n - k);
    let mut r: u64 = 1;
    for i in 0..k {
        r = r.saturating_mul(n - i) / (i + 1);
    }
    r
}

/// Evaluation context of one thread, borrowed from the state.
struct Ctx<'a> {
    prog: &'a Program,
    code: &'a Code,
    t: ThreadId,
    tid: i64,
}

impl State {
    /// The initial state; a failure in a thread's first local code (before its first
    /// step) is reported with it.
    pub fn initial(prog: &Program) -> (State, Option<Failure>) {
        let mut cells = vec![];
        for v in &prog.vars {
            cells.extend(v.init.iter().copied());
        }
        let objects = prog
            .objects
            .iter()
            .map(|o| match o.kind {
                ObjKind::Lock => ObjState::Lock { holder: None },
                ObjKind::RLock => ObjState::RLock {
                    owner: None,
                    count: 0,
                },
                ObjKind::Condition { .. } => ObjState::Condition { waiters: vec![] },
                ObjKind::Semaphore { initial, .. } => ObjState::Semaphore { value: initial },
                ObjKind::Event => ObjState::Event { flag: false },
                ObjKind::Barrier { .. } => ObjState::Barrier {
                    arrived: 0,
                    generation: 0,
                },
                ObjKind::Queue { .. } => ObjState::Queue {
                    items: VecDeque::new(),
                    unfinished: 0,
                },
            })
            .collect();
        let threads = prog
            .threads
            .iter()
            .map(|t| Thread {
                status: Status::NotStarted,
                pc: 0,
                locals: vec![None; t.code.locals as usize],
                spin: vec![],
                spin_pending: None,
                steps: 0,
            })
            .collect();
        let mut s = State {
            cells,
            objects,
            threads,
            steps: 0,
        };
        let mut out = StepOut::default();
        for t in 0..prog.threads.len() as ThreadId {
            if prog.threads[t as usize].start {
                s.threads[t as usize].status = Status::Ready;
                s.run_local(prog, t, &mut out);
                if out.failure.is_some() {
                    return (s, out.failure);
                }
            }
        }
        if out.failure.is_none() {
            out.failure = s.check_invariants(prog);
        }
        (s, out.failure)
    }

    /// Has every started thread finished?
    /// A hash of what the state is, leaving out the step counters (which only count how
    /// it was reached): equal for the same values, objects and thread positions.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::Hasher;
        let mut h = rustc_hash::FxHasher::default();
        self.cells.hash(&mut h);
        self.objects.hash(&mut h);
        for t in &self.threads {
            (&t.status, t.pc, &t.locals, &t.spin, &t.spin_pending).hash(&mut h);
        }
        h.finish()
    }

    pub fn all_finished(&self) -> bool {
        self.threads
            .iter()
            .all(|t| matches!(t.status, Status::Finished | Status::NotStarted))
    }

    fn ctx<'a>(&self, prog: &'a Program, t: ThreadId) -> Ctx<'a> {
        let info = &prog.threads[t as usize];
        Ctx {
            prog,
            code: &info.code,
            t,
            tid: info.tid,
        }
    }

    fn operand(&self, c: &Ctx, o: Operand) -> Res<Value> {
        match o {
            Operand::Const(v) => Ok(v),
            Operand::Tid => Ok(Value::Int(c.tid)),
            Operand::Local(id) => self.threads[c.t as usize].locals[id as usize].ok_or_else(|| {
                let name = c
                    .code
                    .local_names
                    .get(id as usize)
                    .map(String::as_str)
                    .unwrap_or("?");
                format!("UnboundLocalError: local variable '{name}' referenced before assignment")
            }),
        }
    }

    fn set_local(&mut self, t: ThreadId, id: LocalId, v: Value) {
        self.threads[t as usize].locals[id as usize] = Some(v);
    }

    /// The cell of `var[index]`, with Python's negative indices.
    fn cell(&self, c: &Ctx, var: u32, index: Option<Operand>) -> Res<u32> {
        let info = &c.prog.vars[var as usize];
        match (index, info.len) {
            (None, _) => Ok(info.first_cell),
            (Some(i), Some(len)) => {
                let i = as_int(self.operand(c, i)?, "list indices")?;
                let j = if i < 0 { i + len as i64 } else { i };
                if j < 0 || j >= len as i64 {
                    return Err(format!(
                        "IndexError: list index {i} out of range for {}[{len}]",
                        info.name
                    ));
                }
                Ok(info.first_cell + j as u32)
            }
            (Some(_), None) => Err(format!("TypeError: '{}' is not an array", info.name)),
        }
    }

    fn obj(&self, c: &Ctx, sel: ObjSel) -> Res<ObjId> {
        let g = &c.prog.object_groups[sel.group as usize];
        match (sel.index, g.len) {
            (None, _) => Ok(g.first),
            (Some(i), Some(len)) => {
                let i = as_int(self.operand(c, i)?, "list indices")?;
                let j = if i < 0 { i + len as i64 } else { i };
                if j < 0 || j >= len as i64 {
                    return Err(format!(
                        "IndexError: index {i} out of range for {}[{len}]",
                        g.name
                    ));
                }
                Ok(g.first + j as u32)
            }
            (Some(_), None) => Err(format!("TypeError: '{}' is not an array", g.name)),
        }
    }

    fn thread_sel(&self, c: &Ctx, sel: ThreadSel) -> Res<Vec<ThreadId>> {
        let g = &c.prog.thread_groups[sel.group as usize];
        match (sel.index, g.len) {
            (None, _) => Ok((g.first..g.first + g.count()).collect()),
            (Some(i), Some(len)) => {
                let i = as_int(self.operand(c, i)?, "list indices")?;
                let j = if i < 0 { i + len as i64 } else { i };
                if j < 0 || j >= len as i64 {
                    return Err(format!(
                        "IndexError: index {i} out of range for {}[{len}]",
                        g.name
                    ));
                }
                Ok(vec![g.first + j as u32])
            }
            (Some(_), None) => Err(format!("TypeError: '{}' is not an array", g.name)),
        }
    }

    fn lock_of(prog: &Program, obj: ObjId) -> ObjId {
        match prog.objects[obj as usize].kind {
            ObjKind::Condition { lock } => lock,
            _ => obj,
        }
    }

    /// Can `t` take the lock-like object `lock` (Lock, RLock) now?
    fn lock_free_for(&self, lock: ObjId, t: ThreadId) -> bool {
        match &self.objects[lock as usize] {
            ObjState::Lock { holder } => holder.is_none(),
            ObjState::RLock { owner, .. } => owner.is_none() || *owner == Some(t),
            ObjState::Semaphore { value } => *value > 0,
            _ => true,
        }
    }

    /// `timeout` as Python reads it: `None` or negative waits forever.
    fn timed(&self, c: &Ctx, timeout: Option<Operand>) -> Res<bool> {
        match timeout {
            None => Ok(false),
            Some(o) => match self.operand(c, o)? {
                Value::None => Ok(false),
                v => Ok(as_int(v, "timeout")? >= 0),
            },
        }
    }

    fn flag(&self, c: &Ctx, o: Option<Operand>) -> Res<bool> {
        match o {
            None => Ok(true),
            Some(o) => Ok(truthy(self.operand(c, o)?)),
        }
    }

    /// In how many ways thread `t` can move now (0: it cannot).
    pub fn alternatives(&self, prog: &Program, t: ThreadId) -> u32 {
        let th = &self.threads[t as usize];
        match &th.status {
            Status::NotStarted | Status::Finished | Status::SpinBlocked { .. } => 0,
            Status::CondWait { timed, .. } => u32::from(*timed),
            Status::CondReacquire { cv, .. } => {
                u32::from(self.lock_free_for(Self::lock_of(prog, *cv), t))
            }
            Status::EventWait { woken, timed, .. } => u32::from(*woken || *timed),
            Status::BarrierWait {
                bar, generation, ..
            } => match &self.objects[*bar as usize] {
                ObjState::Barrier { generation: g, .. } => u32::from(*g > *generation),
                _ => 0,
            },
            Status::Ready => {
                let c = self.ctx(prog, t);
                // An operand that cannot be evaluated makes the step raise: it can move.
                self.ready_alternatives(&c, &c.code.instrs[th.pc as usize])
                    .unwrap_or(1)
            }
        }
    }

    fn ready_alternatives(&self, c: &Ctx, instr: &Instr) -> Res<u32> {
        Ok(match instr {
            Instr::Choose { lo, hi, .. } => {
                let lo = as_int(self.operand(c, *lo)?, "choose bounds")?;
                let hi = as_int(self.operand(c, *hi)?, "choose bounds")?;
                if lo > hi || hi.saturating_sub(lo) >= MAX_CHOOSE {
                    1 // raises
                } else {
                    (hi - lo + 1) as u32
                }
            }
            Instr::Join { thread } => {
                let ts = self.thread_sel(c, *thread)?;
                let ready = ts.iter().all(|x| {
                    *x == c.t
                        || matches!(
                            self.threads[*x as usize].status,
                            Status::Finished | Status::NotStarted
                        )
                });
                u32::from(ready)
            }
            Instr::Call { obj, op, .. } => {
                let o = self.obj(c, *obj)?;
                match op {
                    Op::Acquire { blocking, timeout } => {
                        if !self.flag(c, *blocking)? || self.timed(c, *timeout)? {
                            1
                        } else {
                            u32::from(self.lock_free_for(Self::lock_of(c.prog, o), c.t))
                        }
                    }
                    Op::Put { block, timeout, .. } => {
                        if !self.flag(c, *block)? || self.timed(c, *timeout)? {
                            1
                        } else {
                            match (&self.objects[o as usize], c.prog.objects[o as usize].kind) {
                                (ObjState::Queue { items, .. }, ObjKind::Queue { maxsize }) => {
                                    u32::from(maxsize == 0 || items.len() < maxsize as usize)
                                }
                                _ => 1,
                            }
                        }
                    }
                    Op::Get { block, timeout } => {
                        if !self.flag(c, *block)? || self.timed(c, *timeout)? {
                            1
                        } else {
                            match &self.objects[o as usize] {
                                ObjState::Queue { items, .. } => u32::from(!items.is_empty()),
                                _ => 1,
                            }
                        }
                    }
                    Op::QJoin => match &self.objects[o as usize] {
                        ObjState::Queue { unfinished, .. } => u32::from(*unfinished == 0),
                        _ => 1,
                    },
                    Op::Notify { n } => {
                        let waiters = match &self.objects[o as usize] {
                            ObjState::Condition { waiters } => waiters.len(),
                            _ => 0,
                        };
                        let n = match n {
                            None => 1,
                            Some(n) => as_int(self.operand(c, *n)?, "n")?.max(0) as usize,
                        };
                        // Only a notify by the lock's owner wakes anyone (else it raises).
                        if !self.owns(c.prog, o, c.t) {
                            1
                        } else {
                            binom(waiters as u64, n.min(waiters) as u64).clamp(1, 1 << 16) as u32
                        }
                    }
                    _ => 1,
                }
            }
            _ => 1,
        })
    }

    fn owns(&self, prog: &Program, cv: ObjId, t: ThreadId) -> bool {
        match &self.objects[Self::lock_of(prog, cv) as usize] {
            ObjState::Lock { holder } => *holder == Some(t),
            ObjState::RLock { owner, .. } => *owner == Some(t),
            _ => false,
        }
    }

    /// Every thread that can move, with its number of alternatives.
    pub fn enabled(&self, prog: &Program) -> Vec<(ThreadId, u32)> {
        (0..self.threads.len() as ThreadId)
            .filter_map(|t| {
                let n = self.alternatives(prog, t);
                (n > 0).then_some((t, n))
            })
            .collect()
    }

    /// What thread `t`'s next step may touch (an over-approximation), for the explorer.
    /// Meaningful for every started, unfinished thread, whether it can move or not.
    pub fn footprint(&self, prog: &Program, t: ThreadId) -> Footprint {
        let mut fp = Footprint::new();
        let th = &self.threads[t as usize];
        let c = self.ctx(prog, t);
        let obj_touch = |fp: &mut Footprint, o: ObjId| {
            fp.push(Touch::Obj(o));
            if let ObjKind::Condition { lock } = prog.objects[o as usize].kind {
                fp.push(Touch::Obj(lock));
            }
        };
        match &th.status {
            Status::NotStarted | Status::Finished => return fp,
            Status::CondWait { cv, .. } | Status::CondReacquire { cv, .. } => {
                obj_touch(&mut fp, *cv);
                return fp;
            }
            Status::EventWait { ev, .. } => {
                fp.push(Touch::Obj(*ev));
                return fp;
            }
            // Leaving a barrier conflicts only with the arrivals of its own round.
            Status::BarrierWait {
                bar, generation, ..
            } => {
                fp.push(Touch::Round {
                    bar: *bar,
                    generation: *generation,
                    write: false,
                });
                return fp;
            }
            Status::SpinBlocked { reads } => {
                for r in reads {
                    fp.push(match *r {
                        Loc::Cell(cell) => Touch::Cell { cell, write: false },
                        Loc::Obj(o) => Touch::Obj(o),
                        Loc::Thread(x) => Touch::Thread(x),
                    });
                }
            }
            Status::Ready => {}
        }
        let pc = th.pc as usize;
        let Some(instr) = c.code.instrs.get(pc) else {
            return fp;
        };
        if !instr.is_visible() {
            return fp; // a thread blocked at a loop head with nothing to wait for
        }
        let whole_var = |fp: &mut Footprint, var: u32, write: bool| {
            let v = &prog.vars[var as usize];
            for cell in v.first_cell..v.first_cell + v.len.unwrap_or(1) {
                fp.push(Touch::Cell { cell, write });
                if write && prog.invariant_cells[cell as usize] {
                    fp.push(Touch::Invariant);
                }
            }
        };
        match instr {
            Instr::Read { var, index, .. } | Instr::Write { var, index, .. } => {
                let write = matches!(instr, Instr::Write { .. });
                if let Ok(cell) = self.cell(&c, *var, *index) {
                    fp.push(Touch::Cell { cell, write });
                    if write && prog.invariant_cells[cell as usize] {
                        fp.push(Touch::Invariant);
                    }
                }
            }
            // A compare-and-swap reads its cell, and writes it only when it will succeed
            // (a failed CAS is a read, as in Nidhugg and GenMC), so that two CAS on
            // different slots, or two failing ones on the same slot, are independent.
            Instr::Cas {
                var,
                index,
                expected,
                ..
            } => {
                if let Ok(cell) = self.cell(&c, *var, *index) {
                    fp.push(Touch::Cell { cell, write: false });
                    let succeeds = self
                        .operand(&c, *expected)
                        .is_ok_and(|e| cas_matches(self.cells[cell as usize], e));
                    if succeeds {
                        fp.push(Touch::Cell { cell, write: true });
                        if prog.invariant_cells[cell as usize] {
                            fp.push(Touch::Invariant);
                        }
                    }
                }
            }
            Instr::Call { obj, .. } => {
                if let Ok(o) = self.obj(&c, *obj) {
                    obj_touch(&mut fp, o);
                    if let ObjState::Barrier { generation, .. } = &self.objects[o as usize] {
                        fp.push(Touch::Round {
                            bar: o,
                            generation: *generation,
                            write: true,
                        });
                    }
                }
            }
            Instr::Start { thread } | Instr::Join { thread } | Instr::IsAlive { thread, .. } => {
                if let Ok(ts) = self.thread_sel(&c, *thread) {
                    for x in ts {
                        fp.push(Touch::Thread(x));
                        if matches!(instr, Instr::Start { .. }) {
                            for st in &prog.threads[x as usize].code.prelude_touches {
                                static_touch(prog, *st, &mut fp, &whole_var);
                            }
                        }
                    }
                }
            }
            Instr::End => fp.push(Touch::Thread(t)),
            Instr::AtomicBegin { .. } => fp.push(Touch::AtomicBlock),
            _ => {}
        }
        for st in &c.code.extra_touches[pc] {
            static_touch(prog, *st, &mut fp, &whole_var);
        }
        fp.sort();
        fp.dedup();
        fp
    }

    /// Moves thread `t` by one step, taking alternative `alt`. The caller must have
    /// checked that `alt < self.alternatives(prog, t)`. `trace` asks for a trace line.
    pub fn step(&mut self, prog: &Program, choice: Choice, trace: bool) -> StepOut {
        let t = choice.thread;
        let mut out = StepOut {
            text: trace.then(String::new),
            ..StepOut::default()
        };
        self.steps += 1;
        self.threads[t as usize].steps += 1;
        let code = prog.threads[t as usize].code.clone();
        let pc = self.threads[t as usize].pc;
        out.line = code.lines.get(pc as usize).copied().unwrap_or(0);
        let result = self.exec_visible(prog, t, choice.alt, &mut out);
        match result {
            Err(msg) => {
                out.failure = Some(Failure {
                    kind: FindingKind::Error,
                    thread: Some(t),
                    line: out.line,
                    message: msg,
                });
            }
            Ok(Outcome::Waiting) => {}
            Ok(Outcome::Done(v)) => {
                if let Some(dst) = dest(&code.instrs[pc as usize]) {
                    self.set_local(t, dst, v);
                }
                let th = &mut self.threads[t as usize];
                if th.status != Status::Finished {
                    th.pc = match code.instrs[pc as usize] {
                        // The block ran whole: go on after its end.
                        Instr::AtomicBegin { end } => end + 1,
                        _ => pc + 1,
                    };
                    self.run_local(prog, t, &mut out);
                }
            }
        }
        if out.failure.is_none() {
            out.failure = self.check_invariants(prog);
        }
        out
    }

    /// Runs `t`'s local instructions until its next visible one.
    fn run_local(&mut self, prog: &Program, t: ThreadId, out: &mut StepOut) {
        let code = prog.threads[t as usize].code.clone();
        let c = Ctx {
            prog,
            code: &code,
            t,
            tid: prog.threads[t as usize].tid,
        };
        let mut budget = LOCAL_BUDGET;
        loop {
            let pc = self.threads[t as usize].pc;
            let instr = &code.instrs[pc as usize];
            if instr.is_visible() {
                let th = &mut self.threads[t as usize];
                if let Some(reads) = th.spin_pending.take() {
                    th.spin.clear();
                    th.status = Status::SpinBlocked { reads };
                }
                return;
            }
            budget -= 1;
            if budget == 0 {
                out.failure = Some(Failure {
                    kind: FindingKind::Livelock,
                    thread: Some(t),
                    line: code.lines[pc as usize],
                    message: format!(
                        "{} ran {LOCAL_BUDGET} local instructions without taking a step",
                        prog.threads[t as usize].name
                    ),
                });
                return;
            }
            match self.exec_local(&c, instr, out) {
                Ok(Some(target)) => self.threads[t as usize].pc = target,
                Ok(None) => {
                    if self.threads[t as usize].status != Status::Ready {
                        return; // blocked at a loop head
                    }
                    self.threads[t as usize].pc = pc + 1;
                }
                Err(msg) => {
                    let kind = if msg.starts_with("AssertionError") {
                        FindingKind::Assertion
                    } else {
                        FindingKind::Error
                    };
                    out.failure = Some(Failure {
                        kind,
                        thread: Some(t),
                        line: code.lines[pc as usize],
                        message: msg,
                    });
                    return;
                }
            }
        }
    }

    /// Executes one local instruction; returns a jump target if it jumps.
    fn exec_local(&mut self, c: &Ctx, instr: &Instr, out: &mut StepOut) -> Res<Option<Pc>> {
        let t = c.t;
        match instr {
            Instr::Move { dst, src } => {
                let v = self.operand(c, *src)?;
                self.set_local(t, *dst, v);
            }
            Instr::Unary { dst, op, a } => {
                let v = unary(*op, self.operand(c, *a)?)?;
                self.set_local(t, *dst, v);
            }
            Instr::Binary { dst, op, a, b } => {
                let v = binary(*op, self.operand(c, *a)?, self.operand(c, *b)?)?;
                self.set_local(t, *dst, v);
            }
            Instr::Compare { dst, op, a, b } => {
                let v = compare(*op, self.operand(c, *a)?, self.operand(c, *b)?)?;
                self.set_local(t, *dst, Value::Bool(v));
            }
            Instr::Jump { target } => return Ok(Some(*target)),
            Instr::Branch { cond, when, target } => {
                if truthy(self.operand(c, *cond)?) == *when {
                    return Ok(Some(*target));
                }
            }
            Instr::Assert { cond, message } => {
                if !truthy(self.operand(c, *cond)?) {
                    return Err(format!("AssertionError: {message}"));
                }
            }
            Instr::Print { args } => {
                let mut line = String::new();
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        line.push(' ');
                    }
                    match a {
                        PrintArg::Str(s) => line.push_str(s),
                        PrintArg::Value(o) => {
                            let _ = write!(line, "{}", self.operand(c, *o)?);
                        }
                    }
                }
                out.prints
                    .push(format!("{}: {line}", c.prog.threads[t as usize].name));
            }
            Instr::GhostRead { dst, var, index } => {
                let cell = self.cell(c, *var, *index)?;
                self.note_read(t, Loc::Cell(cell));
                let v = self.cells[cell as usize];
                self.set_local(t, *dst, v);
            }
            Instr::GhostWrite { var, index, value } => {
                let cell = self.cell(c, *var, *index)?;
                let v = self.operand(c, *value)?;
                self.write_cell(t, cell, v);
            }
            Instr::CheckStep { step } => {
                if as_int(self.operand(c, *step)?, "range() step")? == 0 {
                    return Err("ValueError: range() arg 3 must not be zero".into());
                }
            }
            Instr::LoopHead => self.loop_head(t),
            _ => unreachable!("visible instruction in exec_local"),
        }
        Ok(None)
    }

    /// The spin-loop rule: an iteration that left the thread's locals as they were and
    /// changed nothing shared (it wrote nothing, or only put back what was there) makes no
    /// progress; the thread waits for another thread to write what it read.
    fn loop_head(&mut self, t: ThreadId) {
        if self.threads[t as usize].spin_pending.is_some() {
            return;
        }
        let hash = self.shared_hash();
        let th = &mut self.threads[t as usize];
        let pc = th.pc;
        if let Some(i) = th.spin.iter().position(|sp| sp.head == pc) {
            let sp = &th.spin[i];
            let unchanged = !sp.wrote || sp.shared_hash == hash;
            if !sp.forced && unchanged && sp.locals == th.locals {
                let reads = sp.reads.clone();
                th.spin.clear();
                if reads.is_empty() {
                    // Nothing can ever change what this loop sees.
                    th.status = Status::SpinBlocked { reads };
                } else {
                    th.spin_pending = Some(reads);
                }
                return;
            }
            th.spin.remove(i);
        }
        let locals = th.locals.clone();
        th.spin.push(Spin {
            head: pc,
            locals,
            reads: vec![],
            wrote: false,
            forced: false,
            shared_hash: hash,
        });
    }

    /// A deterministic hash of every cell and object.
    fn shared_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        self.cells.hash(&mut h);
        self.objects.hash(&mut h);
        h.finish()
    }

    fn note_read(&mut self, t: ThreadId, loc: Loc) {
        for sp in &mut self.threads[t as usize].spin {
            if !sp.reads.contains(&loc) {
                sp.reads.push(loc);
            }
        }
    }

    /// Records that `t` wrote `loc`: its loop iteration wrote, another thread's iteration
    /// that read `loc` made progress, and spinners on `loc` wake up.
    fn note_write(&mut self, t: ThreadId, loc: Loc) {
        for sp in &mut self.threads[t as usize].spin {
            sp.wrote = true;
        }
        for (u, th) in self.threads.iter_mut().enumerate() {
            if u as ThreadId == t {
                continue;
            }
            for sp in &mut th.spin {
                if sp.reads.contains(&loc) {
                    sp.forced = true;
                }
            }
            if th.spin_pending.as_ref().is_some_and(|r| r.contains(&loc)) {
                th.spin_pending = None;
            }
            if let Status::SpinBlocked { reads } = &th.status
                && reads.contains(&loc)
            {
                th.status = Status::Ready;
            }
        }
    }

    fn write_cell(&mut self, t: ThreadId, cell: u32, v: Value) {
        if self.cells[cell as usize] != v {
            self.cells[cell as usize] = v;
            self.note_write(t, Loc::Cell(cell));
        }
    }

    /// Marks certain progress (a `choose`: the next iteration may differ).
    fn note_progress(&mut self, t: ThreadId) {
        for sp in &mut self.threads[t as usize].spin {
            sp.forced = true;
        }
    }

    fn check_invariants(&mut self, prog: &Program) -> Option<Failure> {
        self.first_failed_check(prog, &prog.invariants, "invariant")
    }

    /// Evaluates the `[final]` assertions (every started thread has finished).
    pub fn check_final(&self, prog: &Program) -> Option<Failure> {
        self.first_failed_check(prog, &prog.final_asserts, "final assertion")
    }

    /// The first of `checks` that is false (an assertion) or raises (an error).
    fn first_failed_check(&self, prog: &Program, checks: &[Check], what: &str) -> Option<Failure> {
        checks.iter().find_map(|c| {
            let msg = self.eval_check(prog, &c.code).err()?;
            let (kind, message) = if msg.starts_with("AssertionError") {
                (
                    FindingKind::Assertion,
                    format!("{what} `{}` does not hold", c.text),
                )
            } else {
                (FindingKind::Error, format!("{what} `{}`: {msg}", c.text))
            };
            Some(Failure {
                kind,
                thread: None,
                line: c.line,
                message,
            })
        })
    }

    /// Runs a check's code on a scratch thread-less evaluator.
    fn eval_check(&self, prog: &Program, code: &Code) -> Res<()> {
        let mut locals: Vec<Option<Value>> = vec![None; code.locals as usize];
        let get = |locals: &Vec<Option<Value>>, o: Operand| -> Res<Value> {
            match o {
                Operand::Const(v) => Ok(v),
                Operand::Local(i) => locals[i as usize].ok_or_else(|| "NameError".to_string()),
                Operand::Tid => Ok(Value::Int(0)),
            }
        };
        let mut pc = 0usize;
        let mut budget = LOCAL_BUDGET;
        while pc < code.instrs.len() {
            budget -= 1;
            if budget == 0 {
                return Err("check runs too long".into());
            }
            match &code.instrs[pc] {
                Instr::Move { dst, src } => locals[*dst as usize] = Some(get(&locals, *src)?),
                Instr::Unary { dst, op, a } => {
                    locals[*dst as usize] = Some(unary(*op, get(&locals, *a)?)?)
                }
                Instr::Binary { dst, op, a, b } => {
                    locals[*dst as usize] = Some(binary(*op, get(&locals, *a)?, get(&locals, *b)?)?)
                }
                Instr::Compare { dst, op, a, b } => {
                    locals[*dst as usize] = Some(Value::Bool(compare(
                        *op,
                        get(&locals, *a)?,
                        get(&locals, *b)?,
                    )?))
                }
                Instr::Jump { target } => {
                    pc = *target as usize;
                    continue;
                }
                Instr::Branch { cond, when, target } if truthy(get(&locals, *cond)?) == *when => {
                    pc = *target as usize;
                    continue;
                }
                Instr::Assert { cond, message } if !truthy(get(&locals, *cond)?) => {
                    return Err(format!("AssertionError: {message}"));
                }
                Instr::GhostRead { dst, var, index } => {
                    let info = &prog.vars[*var as usize];
                    let cell = match (index, info.len) {
                        (None, _) => info.first_cell,
                        (Some(i), Some(len)) => {
                            let i = as_int(get(&locals, *i)?, "list indices")?;
                            let j = if i < 0 { i + len as i64 } else { i };
                            if j < 0 || j >= len as i64 {
                                return Err(format!(
                                    "IndexError: list index {i} out of range for {}[{len}]",
                                    info.name
                                ));
                            }
                            info.first_cell + j as u32
                        }
                        (Some(_), None) => return Err("TypeError: not an array".into()),
                    };
                    locals[*dst as usize] = Some(self.cells[cell as usize]);
                }
                _ => {}
            }
            pc += 1;
        }
        Ok(())
    }

    fn describe_obj(prog: &Program, o: ObjId) -> &str {
        &prog.objects[o as usize].name
    }

    /// Executes the visible instruction (or wait phase) of `t`.
    fn exec_visible(
        &mut self,
        prog: &Program,
        t: ThreadId,
        alt: u32,
        out: &mut StepOut,
    ) -> Res<Outcome> {
        let code = prog.threads[t as usize].code.clone();
        let c = Ctx {
            prog,
            code: &code,
            t,
            tid: prog.threads[t as usize].tid,
        };
        let status = self.threads[t as usize].status.clone();
        let text = out.text.is_some();
        macro_rules! say {
            ($($arg:tt)*) => {
                if text {
                    let s = format!($($arg)*);
                    let o = out.text.as_mut().unwrap();
                    if !o.is_empty() { o.push_str("; "); }
                    o.push_str(&s);
                }
            };
        }
        // Wait phases first.
        match status {
            Status::CondWait { cv, saved, .. } => {
                // Only the timeout alternative moves a thread that was not notified.
                if let ObjState::Condition { waiters } = &mut self.objects[cv as usize] {
                    waiters.retain(|x| *x != t);
                }
                self.threads[t as usize].status = Status::CondReacquire {
                    cv,
                    saved,
                    result: false,
                };
                self.note_read(t, Loc::Obj(cv));
                say!("wait {} timed out", Self::describe_obj(prog, cv));
                return Ok(Outcome::Waiting);
            }
            Status::CondReacquire { cv, saved, result } => {
                let lock = Self::lock_of(prog, cv);
                self.take_lock(t, lock, saved);
                out.events.push(Event::Acquire(Chan::Obj(lock)));
                self.threads[t as usize].status = Status::Ready;
                say!(
                    "wait {} returns {} (reacquired {})",
                    Self::describe_obj(prog, cv),
                    Value::Bool(result),
                    Self::describe_obj(prog, lock)
                );
                return Ok(Outcome::Done(Value::Bool(result)));
            }
            Status::EventWait { ev, woken, .. } => {
                self.threads[t as usize].status = Status::Ready;
                if woken {
                    out.events.push(Event::Acquire(Chan::Obj(ev)));
                    say!("wait {} returns True", Self::describe_obj(prog, ev));
                } else {
                    self.note_read(t, Loc::Obj(ev));
                    say!(
                        "wait {} timed out, returns False",
                        Self::describe_obj(prog, ev)
                    );
                }
                return Ok(Outcome::Done(Value::Bool(woken)));
            }
            Status::BarrierWait {
                bar,
                generation,
                index,
            } => {
                self.threads[t as usize].status = Status::Ready;
                out.events
                    .push(Event::Acquire(Chan::Barrier(bar, generation)));
                say!(
                    "wait {} returns {index} (round {} complete)",
                    Self::describe_obj(prog, bar),
                    generation + 1
                );
                return Ok(Outcome::Done(Value::Int(index as i64)));
            }
            Status::Ready => {}
            other => unreachable!("step of a thread that cannot move: {other:?}"),
        }
        let pc = self.threads[t as usize].pc;
        let instr = code.instrs[pc as usize].clone();
        match instr {
            Instr::Read { var, index, .. } => {
                let cell = self.cell(&c, var, index)?;
                let v = self.read_cell(prog, t, cell, out);
                say!("read {} = {v}", prog.cell_name(cell));
                Ok(Outcome::Done(v))
            }
            Instr::Write { var, index, value } => {
                let v = self.operand(&c, value)?;
                let cell = self.cell(&c, var, index)?;
                self.write_visible(prog, t, cell, v, out);
                say!("write {} = {v}", prog.cell_name(cell));
                Ok(Outcome::Done(Value::None))
            }
            Instr::Cas {
                var,
                index,
                expected,
                new,
                ..
            } => {
                let (ok, old) = self.cas(&c, var, index, expected, new, out)?;
                let cell = self.cell(&c, var, index)?;
                if ok {
                    say!(
                        "cas {} = {old} -> {} (True)",
                        prog.cell_name(cell),
                        self.cells[cell as usize]
                    );
                } else {
                    say!("cas {} = {old}, unchanged (False)", prog.cell_name(cell));
                }
                Ok(Outcome::Done(Value::Bool(ok)))
            }
            Instr::Sleep => {
                say!("sleep");
                Ok(Outcome::Done(Value::None))
            }
            Instr::Work => {
                say!("work");
                Ok(Outcome::Done(Value::None))
            }
            Instr::Choose { lo, hi, .. } => {
                let lo = as_int(self.operand(&c, lo)?, "choose bounds")?;
                let hi = as_int(self.operand(&c, hi)?, "choose bounds")?;
                if lo > hi {
                    return Err(format!("ValueError: empty range for choose({lo}, {hi})"));
                }
                if hi.saturating_sub(lo) >= MAX_CHOOSE {
                    return Err(format!(
                        "ValueError: choose({lo}, {hi}) offers more than {MAX_CHOOSE} values"
                    ));
                }
                let v = lo + alt as i64;
                self.note_progress(t);
                say!("choose({lo}, {hi}) = {v}");
                Ok(Outcome::Done(Value::Int(v)))
            }
            Instr::Start { thread } => {
                let ts = self.thread_sel(&c, thread)?;
                for x in &ts {
                    if self.threads[*x as usize].status != Status::NotStarted {
                        return Err(format!(
                            "RuntimeError: threads can only be started once ({})",
                            prog.threads[*x as usize].name
                        ));
                    }
                }
                let names: Vec<&str> = ts
                    .iter()
                    .map(|x| prog.threads[*x as usize].name.as_str())
                    .collect();
                say!("start {}", names.join(", "));
                for x in ts {
                    out.events.push(Event::Edge { to: x });
                    self.threads[x as usize].status = Status::Ready;
                    self.note_write(t, Loc::Thread(x));
                    self.run_local(prog, x, out);
                    if out.failure.is_some() {
                        break;
                    }
                }
                Ok(Outcome::Done(Value::None))
            }
            Instr::Join { thread } => {
                let ts = self.thread_sel(&c, thread)?;
                for x in &ts {
                    if *x == t {
                        return Err("RuntimeError: cannot join current thread".into());
                    }
                    if self.threads[*x as usize].status == Status::NotStarted {
                        return Err(format!(
                            "RuntimeError: cannot join thread before it is started ({})",
                            prog.threads[*x as usize].name
                        ));
                    }
                }
                for x in &ts {
                    out.events.push(Event::JoinThread { of: *x });
                }
                let names: Vec<&str> = ts
                    .iter()
                    .map(|x| prog.threads[*x as usize].name.as_str())
                    .collect();
                say!("join {}", names.join(", "));
                Ok(Outcome::Done(Value::None))
            }
            Instr::IsAlive { thread, .. } => {
                let ts = self.thread_sel(&c, thread)?;
                let x = ts[0];
                self.note_read(t, Loc::Thread(x));
                let alive = !matches!(
                    self.threads[x as usize].status,
                    Status::NotStarted | Status::Finished
                );
                say!(
                    "{}.is_alive() = {}",
                    prog.threads[x as usize].name,
                    Value::Bool(alive)
                );
                Ok(Outcome::Done(Value::Bool(alive)))
            }
            Instr::End => {
                let th = &mut self.threads[t as usize];
                th.status = Status::Finished;
                th.spin.clear();
                self.note_write(t, Loc::Thread(t));
                say!("end");
                Ok(Outcome::Done(Value::None))
            }
            Instr::AtomicBegin { end } => {
                out.events.push(Event::Acquire(Chan::AtomicBlock));
                say!("atomic {{");
                self.run_atomic(&c, pc + 1, end, out)?;
                out.events.push(Event::Release(Chan::AtomicBlock));
                if let Some(o) = out.text.as_mut() {
                    o.push_str(" }");
                }
                Ok(Outcome::Done(Value::None))
            }
            Instr::AtomicEnd => unreachable!("AtomicEnd outside an atomic block"),
            Instr::Call { obj, op, .. } => {
                let o = self.obj(&c, obj)?;
                let r = self.call(&c, o, &op, alt, out)?;
                Ok(r)
            }
            _ => unreachable!("local instruction at a step"),
        }
    }

    fn read_cell(&mut self, prog: &Program, t: ThreadId, cell: u32, out: &mut StepOut) -> Value {
        let v = self.cells[cell as usize];
        let atomic = prog.cell_class(cell) == VarClass::Atomic;
        let line = prog.threads[t as usize].code.lines[self.threads[t as usize].pc as usize];
        out.events.push(Event::Access {
            cell,
            write: false,
            atomic,
            line,
            value: v,
        });
        if atomic {
            out.events.push(Event::Acquire(Chan::Atomic(cell)));
        }
        self.note_read(t, Loc::Cell(cell));
        v
    }

    fn write_visible(
        &mut self,
        prog: &Program,
        t: ThreadId,
        cell: u32,
        v: Value,
        out: &mut StepOut,
    ) {
        let atomic = prog.cell_class(cell) == VarClass::Atomic;
        let line = prog.threads[t as usize].code.lines[self.threads[t as usize].pc as usize];
        if atomic {
            out.events.push(Event::Store(Chan::Atomic(cell)));
        }
        out.events.push(Event::Access {
            cell,
            write: true,
            atomic,
            line,
            value: v,
        });
        self.write_cell(t, cell, v);
    }

    /// `cas(var[index], expected, new)` as one step: reads the cell and, when it equals
    /// `expected`, writes `new`. Returns whether it wrote, and the value it read.
    fn cas(
        &mut self,
        c: &Ctx,
        var: u32,
        index: Option<Operand>,
        expected: Operand,
        new: Operand,
        out: &mut StepOut,
    ) -> Res<(bool, Value)> {
        let expected = self.operand(c, expected)?;
        let new = self.operand(c, new)?;
        let cell = self.cell(c, var, index)?;
        let old = self.read_cell(c.prog, c.t, cell, out);
        let ok = cas_matches(old, expected);
        if ok {
            self.write_visible(c.prog, c.t, cell, new, out);
        }
        Ok((ok, old))
    }

    /// Runs a `with atomic:` block from `from` to its `AtomicEnd` at `end`, all in one step.
    fn run_atomic(&mut self, c: &Ctx, from: Pc, end: Pc, out: &mut StepOut) -> Res<()> {
        let t = c.t;
        self.threads[t as usize].pc = from;
        let mut budget = LOCAL_BUDGET;
        let mut depth = 0u32;
        loop {
            let pc = self.threads[t as usize].pc;
            if pc == end && depth == 0 {
                return Ok(());
            }
            budget -= 1;
            if budget == 0 {
                return Err(format!(
                    "an atomic block ran {LOCAL_BUDGET} instructions without finishing"
                ));
            }
            let instr = c.code.instrs[pc as usize].clone();
            let mut next = pc + 1;
            match instr {
                Instr::Read { dst, var, index } => {
                    let cell = self.cell(c, var, index)?;
                    let v = self.read_cell(c.prog, t, cell, out);
                    self.set_local(t, dst, v);
                    if let Some(o) = out.text.as_mut() {
                        let _ = write!(o, " read {} = {v};", c.prog.cell_name(cell));
                    }
                }
                Instr::Write { var, index, value } => {
                    let v = self.operand(c, value)?;
                    let cell = self.cell(c, var, index)?;
                    self.write_visible(c.prog, t, cell, v, out);
                    if let Some(o) = out.text.as_mut() {
                        let _ = write!(o, " write {} = {v};", c.prog.cell_name(cell));
                    }
                }
                Instr::Cas {
                    dst,
                    var,
                    index,
                    expected,
                    new,
                } => {
                    let (ok, old) = self.cas(c, var, index, expected, new, out)?;
                    self.set_local(t, dst, Value::Bool(ok));
                    if let Some(o) = out.text.as_mut() {
                        let cell = self.cell(c, var, index)?;
                        let _ = write!(
                            o,
                            " cas {} = {old}: {};",
                            c.prog.cell_name(cell),
                            Value::Bool(ok)
                        );
                    }
                }
                Instr::AtomicBegin { .. } => depth += 1,
                Instr::AtomicEnd => depth = depth.saturating_sub(1),
                Instr::Call { dst, obj, op } => {
                    let o = self.obj(c, obj)?;
                    // Only operations that do not block are allowed here.
                    let saved = out.text.take();
                    let mut sub = StepOut {
                        text: saved.as_ref().map(|_| String::new()),
                        ..StepOut::default()
                    };
                    if self.ready_alternatives(c, &c.code.instrs[pc as usize])? == 0 {
                        return Err(format!(
                            "{}() on {} would block inside `with atomic:`",
                            op.name(),
                            c.prog.objects[o as usize].name
                        ));
                    }
                    let r = self.call(c, o, &op, 0, &mut sub)?;
                    out.events.append(&mut sub.events);
                    out.text = saved;
                    if let (Some(o), Some(s)) = (out.text.as_mut(), sub.text) {
                        let _ = write!(o, " {s};");
                    }
                    match r {
                        Outcome::Done(v) => {
                            if let Some(d) = dst {
                                self.set_local(t, d, v);
                            }
                        }
                        Outcome::Waiting => {
                            return Err(format!(
                                "{}() would block inside `with atomic:`",
                                op.name()
                            ));
                        }
                    }
                }
                Instr::IsAlive { dst, thread } => {
                    let ts = self.thread_sel(c, thread)?;
                    let alive = !matches!(
                        self.threads[ts[0] as usize].status,
                        Status::NotStarted | Status::Finished
                    );
                    self.set_local(t, dst, Value::Bool(alive));
                }
                Instr::Sleep
                | Instr::Work
                | Instr::Choose { .. }
                | Instr::Start { .. }
                | Instr::Join { .. }
                | Instr::End => {
                    return Err("this operation cannot run inside `with atomic:`".into());
                }
                Instr::LoopHead => {}
                local => {
                    if let Some(target) = self.exec_local(c, &local, out)? {
                        next = target;
                    }
                }
            }
            self.threads[t as usize].pc = next;
        }
    }

    fn take_lock(&mut self, t: ThreadId, lock: ObjId, count: u32) {
        match &mut self.objects[lock as usize] {
            ObjState::Lock { holder } => *holder = Some(t),
            ObjState::RLock { owner, count: c } => {
                *owner = Some(t);
                *c = count.max(1);
            }
            _ => {}
        }
        self.note_write(t, Loc::Obj(lock));
    }

    /// An object operation.
    fn call(&mut self, c: &Ctx, o: ObjId, op: &Op, alt: u32, out: &mut StepOut) -> Res<Outcome> {
        let t = c.t;
        let prog = c.prog;
        let name = prog.objects[o as usize].name.clone();
        let kind = prog.objects[o as usize].kind;
        let text = out.text.is_some();
        macro_rules! say {
            ($($arg:tt)*) => {
                if text {
                    let s = format!($($arg)*);
                    let o = out.text.as_mut().unwrap();
                    if !o.is_empty() { o.push_str("; "); }
                    o.push_str(&s);
                }
            };
        }
        match (kind, op) {
            (
                ObjKind::Lock | ObjKind::RLock | ObjKind::Condition { .. },
                Op::Acquire { blocking, timeout },
            ) => {
                let lock = Self::lock_of(prog, o);
                let blocking = self.flag(c, *blocking)?;
                let timed = self.timed(c, *timeout)?;
                if !blocking
                    && timeout.is_some()
                    && !matches!(timeout.map(|x| self.operand(c, x)), Some(Ok(Value::None)))
                {
                    return Err(
                        "ValueError: can't specify a timeout for a non-blocking call".into(),
                    );
                }
                let lname = prog.objects[lock as usize].name.clone();
                if self.lock_free_for(lock, t) {
                    let count = match &self.objects[lock as usize] {
                        ObjState::RLock {
                            owner: Some(x),
                            count,
                        } if *x == t => count + 1,
                        _ => 1,
                    };
                    let reentry = count > 1;
                    self.take_lock(t, lock, count);
                    if !reentry {
                        out.events.push(Event::Acquire(Chan::Obj(lock)));
                    }
                    if reentry {
                        say!("acquire {lname} (again: held {count} times)");
                    } else {
                        say!("acquire {lname}");
                    }
                    Ok(Outcome::Done(Value::Bool(true)))
                } else if !blocking || timed {
                    self.note_read(t, Loc::Obj(lock));
                    say!(
                        "acquire {lname} fails: held by {}",
                        self.holder_name(prog, lock)
                    );
                    Ok(Outcome::Done(Value::Bool(false)))
                } else {
                    unreachable!("blocked acquire was scheduled")
                }
            }
            (ObjKind::Lock | ObjKind::RLock | ObjKind::Condition { .. }, Op::Release { .. }) => {
                let lock = Self::lock_of(prog, o);
                let lname = prog.objects[lock as usize].name.clone();
                match &mut self.objects[lock as usize] {
                    ObjState::Lock { holder } => {
                        if holder.is_none() {
                            return Err(format!("RuntimeError: release unlocked lock {lname}"));
                        }
                        *holder = None;
                        out.events.push(Event::Release(Chan::Obj(lock)));
                        say!("release {lname}");
                    }
                    ObjState::RLock { owner, count } => {
                        if *owner != Some(t) {
                            return Err(format!(
                                "RuntimeError: cannot release un-acquired lock {lname}"
                            ));
                        }
                        *count -= 1;
                        if *count == 0 {
                            *owner = None;
                            out.events.push(Event::Release(Chan::Obj(lock)));
                            say!("release {lname}");
                        } else {
                            say!("release {lname} (still held {} times)", *count);
                        }
                    }
                    _ => unreachable!(),
                }
                self.note_write(t, Loc::Obj(lock));
                Ok(Outcome::Done(Value::None))
            }
            (ObjKind::Lock, Op::Locked) => {
                self.note_read(t, Loc::Obj(o));
                let held = matches!(self.objects[o as usize], ObjState::Lock { holder: Some(_) });
                say!("{name}.locked() = {}", Value::Bool(held));
                Ok(Outcome::Done(Value::Bool(held)))
            }
            (ObjKind::Semaphore { initial, bounded }, Op::Acquire { blocking, timeout }) => {
                let blocking = self.flag(c, *blocking)?;
                let timed = self.timed(c, *timeout)?;
                let ObjState::Semaphore { value } = &mut self.objects[o as usize] else {
                    unreachable!()
                };
                let _ = (initial, bounded);
                if *value > 0 {
                    *value -= 1;
                    let v = *value;
                    out.events.push(Event::SemAcquire { sem: o });
                    self.note_write(t, Loc::Obj(o));
                    say!("acquire {name} (value now {v})");
                    Ok(Outcome::Done(Value::Bool(true)))
                } else if !blocking || timed {
                    self.note_read(t, Loc::Obj(o));
                    say!("acquire {name} fails: value is 0");
                    Ok(Outcome::Done(Value::Bool(false)))
                } else {
                    unreachable!("blocked semaphore acquire was scheduled")
                }
            }
            (ObjKind::Semaphore { initial, bounded }, Op::Release { n }) => {
                let n = match n {
                    None => 1,
                    Some(n) => as_int(self.operand(c, *n)?, "n")?,
                };
                if n < 1 {
                    return Err("ValueError: n must be one or more".into());
                }
                let ObjState::Semaphore { value } = &mut self.objects[o as usize] else {
                    unreachable!()
                };
                if bounded && value.saturating_add(n) > initial {
                    return Err(format!(
                        "ValueError: Semaphore released too many times ({name})"
                    ));
                }
                *value = value
                    .checked_add(n)
                    .ok_or("OverflowError: semaphore value overflows")?;
                let v = *value;
                out.events.push(Event::SemRelease {
                    sem: o,
                    n: n.min(u32::MAX as i64) as u32,
                });
                self.note_write(t, Loc::Obj(o));
                if n == 1 {
                    say!("release {name} (value now {v})");
                } else {
                    say!("release {name} {n} (value now {v})");
                }
                Ok(Outcome::Done(Value::None))
            }
            (ObjKind::Condition { lock }, Op::Wait { timeout }) => {
                let timed = self.timed(c, *timeout)?;
                if !self.owns(prog, o, t) {
                    return Err(format!(
                        "RuntimeError: cannot wait on un-acquired lock ({name})"
                    ));
                }
                let saved = match &self.objects[lock as usize] {
                    ObjState::RLock { count, .. } => *count,
                    _ => 1,
                };
                match &mut self.objects[lock as usize] {
                    ObjState::Lock { holder } => *holder = None,
                    ObjState::RLock { owner, count } => {
                        *owner = None;
                        *count = 0;
                    }
                    _ => {}
                }
                out.events.push(Event::Release(Chan::Obj(lock)));
                self.note_write(t, Loc::Obj(lock));
                if let ObjState::Condition { waiters } = &mut self.objects[o as usize] {
                    waiters.push(t);
                }
                self.note_write(t, Loc::Obj(o));
                self.threads[t as usize].status = Status::CondWait {
                    cv: o,
                    saved,
                    timed,
                };
                say!(
                    "wait {name} (releases {})",
                    prog.objects[lock as usize].name
                );
                Ok(Outcome::Waiting)
            }
            (ObjKind::Condition { .. }, Op::Notify { .. } | Op::NotifyAll) => {
                if !self.owns(prog, o, t) {
                    return Err(format!(
                        "RuntimeError: cannot notify on un-acquired lock ({name})"
                    ));
                }
                let ObjState::Condition { waiters } = &mut self.objects[o as usize] else {
                    unreachable!()
                };
                let woken: Vec<ThreadId> = match op {
                    Op::NotifyAll => std::mem::take(waiters),
                    Op::Notify { n } => {
                        let k = waiters.len();
                        let n = match n {
                            None => 1,
                            Some(n) => {
                                let w = waiters.clone();
                                let v = as_int(self.operand(c, *n)?, "n")?.max(0) as usize;
                                let ObjState::Condition { waiters } = &mut self.objects[o as usize]
                                else {
                                    unreachable!()
                                };
                                *waiters = w;
                                v
                            }
                        };
                        let ObjState::Condition { waiters } = &mut self.objects[o as usize] else {
                            unreachable!()
                        };
                        let pick = combination(k, n.min(k), alt as u64);
                        let chosen: Vec<ThreadId> = pick.iter().map(|i| waiters[*i]).collect();
                        waiters.retain(|x| !chosen.contains(x));
                        chosen
                    }
                    _ => unreachable!(),
                };
                for w in &woken {
                    if let Status::CondWait { cv, saved, .. } = self.threads[*w as usize].status {
                        self.threads[*w as usize].status = Status::CondReacquire {
                            cv,
                            saved,
                            result: true,
                        };
                    }
                    out.events.push(Event::Edge { to: *w });
                }
                self.note_write(t, Loc::Obj(o));
                let names: Vec<&str> = woken
                    .iter()
                    .map(|w| prog.threads[*w as usize].name.as_str())
                    .collect();
                let verb = if matches!(op, Op::NotifyAll) {
                    "notify_all"
                } else {
                    "notify"
                };
                if names.is_empty() {
                    say!("{verb} {name} (no thread is waiting)");
                } else {
                    say!("{verb} {name} wakes {}", names.join(", "));
                }
                Ok(Outcome::Done(Value::None))
            }
            (ObjKind::Event, Op::Set) => {
                self.objects[o as usize] = ObjState::Event { flag: true };
                out.events.push(Event::Release(Chan::Obj(o)));
                let mut woke = vec![];
                for (u, th) in self.threads.iter_mut().enumerate() {
                    if let Status::EventWait { ev, woken, .. } = &mut th.status
                        && *ev == o
                        && !*woken
                    {
                        *woken = true;
                        woke.push(u as ThreadId);
                    }
                }
                for u in &woke {
                    out.events.push(Event::Edge { to: *u });
                }
                self.note_write(t, Loc::Obj(o));
                say!("set {name}");
                Ok(Outcome::Done(Value::None))
            }
            (ObjKind::Event, Op::Clear) => {
                self.objects[o as usize] = ObjState::Event { flag: false };
                out.events.push(Event::Reset(Chan::Obj(o)));
                self.note_write(t, Loc::Obj(o));
                say!("clear {name}");
                Ok(Outcome::Done(Value::None))
            }
            (ObjKind::Event, Op::IsSet) => {
                let ObjState::Event { flag } = self.objects[o as usize] else {
                    unreachable!()
                };
                if flag {
                    out.events.push(Event::Acquire(Chan::Obj(o)));
                }
                self.note_read(t, Loc::Obj(o));
                say!("{name}.is_set() = {}", Value::Bool(flag));
                Ok(Outcome::Done(Value::Bool(flag)))
            }
            (ObjKind::Event, Op::Wait { timeout }) => {
                let timed = self.timed(c, *timeout)?;
                let ObjState::Event { flag } = self.objects[o as usize] else {
                    unreachable!()
                };
                if flag {
                    out.events.push(Event::Acquire(Chan::Obj(o)));
                    self.note_read(t, Loc::Obj(o));
                    say!("wait {name} returns True (already set)");
                    Ok(Outcome::Done(Value::Bool(true)))
                } else {
                    self.threads[t as usize].status = Status::EventWait {
                        ev: o,
                        woken: false,
                        timed,
                    };
                    say!("wait {name} (not set: blocks)");
                    Ok(Outcome::Waiting)
                }
            }
            (ObjKind::Barrier { parties }, Op::Wait { .. }) => {
                let ObjState::Barrier {
                    arrived,
                    generation,
                } = &mut self.objects[o as usize]
                else {
                    unreachable!()
                };
                let index = *arrived;
                let g = *generation;
                out.events.push(Event::Release(Chan::Barrier(o, g)));
                self.note_write(t, Loc::Obj(o));
                let ObjState::Barrier {
                    arrived,
                    generation,
                } = &mut self.objects[o as usize]
                else {
                    unreachable!()
                };
                if index + 1 >= parties {
                    *arrived = 0;
                    *generation += 1;
                    out.events.push(Event::Acquire(Chan::Barrier(o, g)));
                    say!(
                        "wait {name}: last of {parties} to arrive, returns {index} (round {} complete)",
                        g + 1
                    );
                    Ok(Outcome::Done(Value::Int(index as i64)))
                } else {
                    *arrived += 1;
                    self.threads[t as usize].status = Status::BarrierWait {
                        bar: o,
                        generation: g,
                        index,
                    };
                    say!("wait {name}: arrives {} of {parties}", index + 1);
                    Ok(Outcome::Waiting)
                }
            }
            (
                ObjKind::Queue { maxsize },
                Op::Put {
                    value,
                    block,
                    timeout,
                },
            ) => {
                let v = self.operand(c, *value)?;
                let blocking = self.flag(c, *block)?;
                let timed = self.timed(c, *timeout)?;
                let ObjState::Queue { items, unfinished } = &mut self.objects[o as usize] else {
                    unreachable!()
                };
                if maxsize == 0 || items.len() < maxsize as usize {
                    items.push_back(v);
                    *unfinished += 1;
                    out.events.push(Event::QueuePut { q: o });
                    self.note_write(t, Loc::Obj(o));
                    say!("put {v} into {name}");
                    let r = if blocking && !timed {
                        Value::None
                    } else {
                        Value::Bool(true)
                    };
                    Ok(Outcome::Done(r))
                } else {
                    self.note_read(t, Loc::Obj(o));
                    say!("put {v} into {name} fails: full");
                    Ok(Outcome::Done(Value::Bool(false)))
                }
            }
            (ObjKind::Queue { .. }, Op::Get { .. }) => {
                let ObjState::Queue { items, .. } = &mut self.objects[o as usize] else {
                    unreachable!()
                };
                match items.pop_front() {
                    Some(v) => {
                        out.events.push(Event::QueueGet { q: o });
                        self.note_write(t, Loc::Obj(o));
                        say!("get {v} from {name}");
                        Ok(Outcome::Done(v))
                    }
                    None => {
                        self.note_read(t, Loc::Obj(o));
                        say!("get from {name} fails: empty, returns None");
                        Ok(Outcome::Done(Value::None))
                    }
                }
            }
            (ObjKind::Queue { .. }, Op::TaskDone) => {
                let ObjState::Queue { unfinished, .. } = &mut self.objects[o as usize] else {
                    unreachable!()
                };
                if *unfinished == 0 {
                    return Err(format!(
                        "ValueError: task_done() called too many times ({name})"
                    ));
                }
                *unfinished -= 1;
                let left = *unfinished;
                out.events.push(Event::Release(Chan::QueueJoin(o)));
                self.note_write(t, Loc::Obj(o));
                say!("task_done {name} ({left} unfinished)");
                Ok(Outcome::Done(Value::None))
            }
            (ObjKind::Queue { .. }, Op::QJoin) => {
                out.events.push(Event::Acquire(Chan::QueueJoin(o)));
                self.note_read(t, Loc::Obj(o));
                say!("join {name} (every task done)");
                Ok(Outcome::Done(Value::None))
            }
            (ObjKind::Queue { maxsize }, Op::QSize | Op::Empty | Op::Full) => {
                let ObjState::Queue { items, .. } = &self.objects[o as usize] else {
                    unreachable!()
                };
                let n = items.len();
                self.note_read(t, Loc::Obj(o));
                let v = match op {
                    Op::QSize => Value::Int(n as i64),
                    Op::Empty => Value::Bool(n == 0),
                    _ => Value::Bool(maxsize > 0 && n >= maxsize as usize),
                };
                say!("{name}.{}() = {v}", op.name());
                Ok(Outcome::Done(v))
            }
            _ => Err(format!(
                "TypeError: {} has no operation {}",
                kind_label(kind),
                op.name()
            )),
        }
    }

    fn holder_name(&self, prog: &Program, lock: ObjId) -> String {
        let h = match &self.objects[lock as usize] {
            ObjState::Lock { holder } => *holder,
            ObjState::RLock { owner, .. } => *owner,
            _ => None,
        };
        match h {
            Some(h) => prog.threads[h as usize].name.clone(),
            None => "nobody".into(),
        }
    }

    /// The resource a thread that cannot move waits for (the wait-for graph's node).
    pub fn wait_target(&self, prog: &Program, t: ThreadId) -> WaitTarget {
        let th = &self.threads[t as usize];
        match &th.status {
            Status::CondWait { cv, .. } => WaitTarget::Notify(*cv),
            Status::CondReacquire { cv, .. } => WaitTarget::Lock(Self::lock_of(prog, *cv)),
            Status::EventWait { ev, .. } => WaitTarget::Event(*ev),
            Status::BarrierWait { bar, .. } => WaitTarget::Barrier(*bar),
            Status::SpinBlocked { reads } => WaitTarget::Change(reads.clone()),
            Status::Ready => {
                let c = self.ctx(prog, t);
                match &c.code.instrs[th.pc as usize] {
                    Instr::Call { obj: sel, op, .. } => {
                        let Ok(o) = self.obj(&c, *sel) else {
                            return WaitTarget::Nothing;
                        };
                        match (op, prog.objects[o as usize].kind) {
                            (Op::Acquire { .. }, ObjKind::Semaphore { .. }) => {
                                WaitTarget::Semaphore(o)
                            }
                            (Op::Acquire { .. }, _) => WaitTarget::Lock(Self::lock_of(prog, o)),
                            (Op::Put { .. }, _) => WaitTarget::QueuePut(o),
                            (Op::Get { .. }, _) => WaitTarget::QueueGet(o),
                            (Op::QJoin, _) => WaitTarget::QueueJoin(o),
                            _ => WaitTarget::Nothing,
                        }
                    }
                    Instr::Join { .. } => WaitTarget::Threads(self.waits_for(prog, t).1),
                    _ => WaitTarget::Nothing,
                }
            }
            Status::NotStarted | Status::Finished => WaitTarget::Nothing,
        }
    }

    /// Does `t`'s next step take a Lock or RLock (or a Condition's lock) and wait for it
    /// as long as it takes (blocking, no timeout)? Which lock, if so. For the lock-order
    /// graph: an acquisition that can give up cannot deadlock.
    pub fn blocking_lock_acquire(&self, prog: &Program, t: ThreadId) -> Option<ObjId> {
        let th = &self.threads[t as usize];
        match &th.status {
            Status::CondReacquire { cv, .. } => Some(Self::lock_of(prog, *cv)),
            Status::Ready => {
                let c = self.ctx(prog, t);
                let Instr::Call {
                    obj: sel,
                    op: Op::Acquire { blocking, timeout },
                    ..
                } = &c.code.instrs[th.pc as usize]
                else {
                    return None;
                };
                let o = self.obj(&c, *sel).ok()?;
                if matches!(prog.objects[o as usize].kind, ObjKind::Semaphore { .. })
                    || !self.flag(&c, *blocking).ok()?
                    || self.timed(&c, *timeout).ok()?
                {
                    return None;
                }
                Some(Self::lock_of(prog, o))
            }
            _ => None,
        }
    }

    /// What a thread that cannot move waits for, and which threads could end the wait:
    /// for the deadlock explanation and the wait-for graph.
    pub fn waits_for(&self, prog: &Program, t: ThreadId) -> (String, Vec<ThreadId>) {
        let th = &self.threads[t as usize];
        let holder_of = |lock: ObjId| -> Vec<ThreadId> {
            match &self.objects[lock as usize] {
                ObjState::Lock { holder } => holder.iter().copied().collect(),
                ObjState::RLock { owner, .. } => owner.iter().copied().collect(),
                _ => vec![],
            }
        };
        let obj = |o: ObjId| prog.objects[o as usize].name.clone();
        match &th.status {
            Status::CondWait { cv, .. } => (
                format!("waits on {} for a notify that never comes", obj(*cv)),
                vec![],
            ),
            Status::CondReacquire { cv, .. } => {
                let lock = Self::lock_of(prog, *cv);
                let h = holder_of(lock);
                (
                    format!(
                        "was woken from {} and waits to reacquire {}, held by {}",
                        obj(*cv),
                        obj(lock),
                        self.holder_name(prog, lock)
                    ),
                    h,
                )
            }
            Status::EventWait { ev, .. } => (format!("waits for {} to be set", obj(*ev)), vec![]),
            Status::BarrierWait { bar, .. } => {
                let (arrived, parties) = match (
                    &self.objects[*bar as usize],
                    prog.objects[*bar as usize].kind,
                ) {
                    (ObjState::Barrier { arrived, .. }, ObjKind::Barrier { parties }) => {
                        (*arrived, parties)
                    }
                    _ => (0, 0),
                };
                (
                    format!(
                        "waits at barrier {} ({arrived} of {parties} arrived)",
                        obj(*bar)
                    ),
                    vec![],
                )
            }
            Status::SpinBlocked { reads } => {
                let names: Vec<String> = reads
                    .iter()
                    .map(|l| match l {
                        Loc::Cell(c) => prog.cell_name(*c),
                        Loc::Obj(o) => obj(*o),
                        Loc::Thread(x) => prog.threads[*x as usize].name.clone(),
                    })
                    .collect();
                if names.is_empty() {
                    (
                        "loops forever without reading anything that could change".into(),
                        vec![],
                    )
                } else {
                    (
                        format!(
                            "spins waiting for a change to {} that no thread will make",
                            names.join(", ")
                        ),
                        vec![],
                    )
                }
            }
            Status::Ready => {
                let c = self.ctx(prog, t);
                match &c.code.instrs[th.pc as usize] {
                    Instr::Call { obj: sel, op, .. } => {
                        let Ok(o) = self.obj(&c, *sel) else {
                            return ("is stuck".into(), vec![]);
                        };
                        match op {
                            Op::Acquire { .. } => match prog.objects[o as usize].kind {
                                ObjKind::Semaphore { .. } => {
                                    (format!("waits to acquire {} (value 0)", obj(o)), vec![])
                                }
                                _ => {
                                    let lock = Self::lock_of(prog, o);
                                    let h = holder_of(lock);
                                    let who = if h == vec![t] {
                                        "itself".to_string()
                                    } else {
                                        self.holder_name(prog, lock)
                                    };
                                    (format!("waits to acquire {}, held by {who}", obj(lock)), h)
                                }
                            },
                            Op::Put { .. } => (
                                format!("waits to put into {}, which is full", obj(o)),
                                vec![],
                            ),
                            Op::Get { .. } => (
                                format!("waits to get from {}, which is empty", obj(o)),
                                vec![],
                            ),
                            Op::QJoin => {
                                let n = match &self.objects[o as usize] {
                                    ObjState::Queue { unfinished, .. } => *unfinished,
                                    _ => 0,
                                };
                                (
                                    format!(
                                        "waits in {}.join() for {n} task_done() call(s) that never come",
                                        obj(o)
                                    ),
                                    vec![],
                                )
                            }
                            _ => ("is stuck".into(), vec![]),
                        }
                    }
                    Instr::Join { thread } => {
                        let ts = self.thread_sel(&c, *thread).unwrap_or_default();
                        let waiting: Vec<ThreadId> = ts
                            .into_iter()
                            .filter(|x| {
                                !matches!(
                                    self.threads[*x as usize].status,
                                    Status::Finished | Status::NotStarted
                                )
                            })
                            .collect();
                        let names: Vec<&str> = waiting
                            .iter()
                            .map(|x| prog.threads[*x as usize].name.as_str())
                            .collect();
                        (format!("waits to join {}", names.join(", ")), waiting)
                    }
                    _ => ("is stuck".into(), vec![]),
                }
            }
            Status::NotStarted | Status::Finished => (String::new(), vec![]),
        }
    }

    /// The threads that are started and unfinished.
    pub fn unfinished(&self) -> Vec<ThreadId> {
        (0..self.threads.len() as ThreadId)
            .filter(|t| {
                !matches!(
                    self.threads[*t as usize].status,
                    Status::Finished | Status::NotStarted
                )
            })
            .collect()
    }

    /// The names and values of the observed cells.
    pub fn observed(&self, prog: &Program) -> Vec<Value> {
        prog.observe
            .iter()
            .map(|(_, c)| self.cells[*c as usize])
            .collect()
    }

    /// Locks held by `t` (for explanations).
    pub fn held_by(&self, prog: &Program, t: ThreadId) -> Vec<String> {
        self.objects
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match o {
                ObjState::Lock { holder: Some(h) } | ObjState::RLock { owner: Some(h), .. }
                    if *h == t =>
                {
                    Some(prog.objects[i].name.clone())
                }
                _ => None,
            })
            .collect()
    }
}

fn static_touch(
    prog: &Program,
    st: StaticTouch,
    fp: &mut Footprint,
    whole_var: &dyn Fn(&mut Footprint, u32, bool),
) {
    match st {
        StaticTouch::Var { var, write } => whole_var(fp, var, write),
        StaticTouch::Objects { group } => {
            let g = &prog.object_groups[group as usize];
            for o in g.first..g.first + g.count() {
                fp.push(Touch::Obj(o));
                if let ObjKind::Condition { lock } = prog.objects[o as usize].kind {
                    fp.push(Touch::Obj(lock));
                }
            }
        }
        StaticTouch::Threads { group } => {
            let g = &prog.thread_groups[group as usize];
            for x in g.first..g.first + g.count() {
                fp.push(Touch::Thread(x));
            }
        }
    }
}

fn kind_label(k: ObjKind) -> &'static str {
    match k {
        ObjKind::Lock => "Lock",
        ObjKind::RLock => "RLock",
        ObjKind::Condition { .. } => "Condition",
        ObjKind::Semaphore { .. } => "Semaphore",
        ObjKind::Event => "Event",
        ObjKind::Barrier { .. } => "Barrier",
        ObjKind::Queue { .. } => "Queue",
    }
}

/// Does a compare-and-swap that read `current` and expects `expected` succeed? Python's
/// `==` (so `True` matches `1`).
fn cas_matches(current: Value, expected: Value) -> bool {
    compare(CmpOp::Eq, current, expected).unwrap_or(false)
}

/// The local a visible instruction writes its result to.
fn dest(i: &Instr) -> Option<LocalId> {
    match i {
        Instr::Read { dst, .. }
        | Instr::Cas { dst, .. }
        | Instr::Choose { dst, .. }
        | Instr::IsAlive { dst, .. } => Some(*dst),
        Instr::Call { dst, .. } => *dst,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_floor_division_and_modulo() {
        let d = |a, b| binary(BinOp::FloorDiv, Value::Int(a), Value::Int(b)).unwrap();
        let m = |a, b| binary(BinOp::Mod, Value::Int(a), Value::Int(b)).unwrap();
        assert_eq!(d(7, 2), Value::Int(3));
        assert_eq!(d(-7, 2), Value::Int(-4));
        assert_eq!(d(7, -2), Value::Int(-4));
        assert_eq!(m(-7, 2), Value::Int(1));
        assert_eq!(m(7, -2), Value::Int(-1));
        assert!(
            binary(BinOp::FloorDiv, Value::Int(1), Value::Int(0))
                .unwrap_err()
                .starts_with("ZeroDivisionError")
        );
        assert!(
            binary(BinOp::Add, Value::Int(i64::MAX), Value::Int(1))
                .unwrap_err()
                .starts_with("OverflowError")
        );
        assert!(binary(BinOp::FloorDiv, Value::Int(i64::MIN), Value::Int(-1)).is_err());
        assert_eq!(
            binary(BinOp::Add, Value::Bool(true), Value::Int(1)).unwrap(),
            Value::Int(2)
        );
        assert!(
            binary(BinOp::Add, Value::None, Value::Int(1))
                .unwrap_err()
                .starts_with("TypeError")
        );
    }

    #[test]
    fn python_comparisons() {
        assert!(compare(CmpOp::Eq, Value::Bool(true), Value::Int(1)).unwrap());
        assert!(compare(CmpOp::Eq, Value::None, Value::None).unwrap());
        assert!(!compare(CmpOp::Eq, Value::None, Value::Int(0)).unwrap());
        assert!(compare(CmpOp::Lt, Value::None, Value::Int(0)).is_err());
    }

    #[test]
    fn combinations_enumerate_in_order() {
        let all: Vec<Vec<usize>> = (0..binom(4, 2)).map(|i| combination(4, 2, i)).collect();
        assert_eq!(
            all,
            vec![
                vec![0, 1],
                vec![0, 2],
                vec![0, 3],
                vec![1, 2],
                vec![1, 3],
                vec![2, 3]
            ]
        );
        assert_eq!(combination(3, 1, 2), vec![2]);
    }
}
