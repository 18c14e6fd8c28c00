//! `threading.Lock` and `threading.RLock` (and the lock inside every Condition, whose
//! `acquire` and `release` come here).
//!
//! A Lock has a holder; releasing it when it is not held is a RuntimeError, as in Python
//! (any thread may release a held Lock). An RLock has an owner and a count: only the
//! owner may release it, and the owner may acquire it again. A blocking acquisition
//! without a timeout of a held lock waits; with `blocking=False` or a timeout it is one
//! step that fails when the lock is held (the explorer tries it at every point, which is
//! what "a timeout is not measured" means). Happens-before: a release is a `Release` of
//! the lock's channel, the next acquisition an `Acquire` of it.

use super::{Blocked, Call, ObjState, Outcome, Primitive, WaitTarget, internal, say};
use crate::ir::{ObjId, ObjKind, Op, Operand, Program, ThreadId, Value};
use crate::machine::eval::Ctx;
use crate::machine::events::{Chan, Event};
use crate::machine::exception::{ExcKind, Res, raise};
use crate::machine::spin::Loc;
use crate::machine::state::State;

pub(super) struct LockKind;

/// Can `t` take the lock-like object `lock` now?
pub(super) fn free_for(st: &State, lock: ObjId, t: ThreadId) -> bool {
    match &st.objects[lock as usize] {
        ObjState::Lock { holder } => holder.is_none(),
        ObjState::RLock { owner, .. } => owner.is_none() || *owner == Some(t),
        _ => true,
    }
}

/// Does `t` hold `lock`?
pub(super) fn owns(st: &State, lock: ObjId, t: ThreadId) -> bool {
    LockKind.holder(&st.objects[lock as usize]) == Some(t)
}

/// `t` takes `lock` (`count` times, for an RLock).
pub(super) fn take(st: &mut State, t: ThreadId, lock: ObjId, count: u32) {
    match &mut st.objects[lock as usize] {
        ObjState::Lock { holder } => *holder = Some(t),
        ObjState::RLock { owner, count: c } => {
            *owner = Some(t);
            *c = count.max(1);
        }
        _ => {}
    }
    st.note_write(t, Loc::Obj(lock));
}

/// How often `t` would hold `lock` after acquiring it once more.
fn next_count(st: &State, lock: ObjId, t: ThreadId) -> u32 {
    match &st.objects[lock as usize] {
        ObjState::RLock {
            owner: Some(x),
            count,
        } if *x == t => count + 1,
        _ => 1,
    }
}

/// The alternatives of an acquisition of `lock`: a non-blocking or timed one can always
/// go (it may fail), a blocking one only when the lock is free for it.
pub(super) fn acquire_ready(
    st: &State,
    c: &Ctx,
    lock: ObjId,
    blocking: Option<Operand>,
    timeout: Option<Operand>,
    timeouts: bool,
) -> Res<u32> {
    match lock_timeout(st, c, timeout)? {
        Some(us) if us < 0 => return Ok(1), // a ValueError
        Some(_) if timeouts => return Ok(1),
        _ if !st.flag(c, blocking)? => return Ok(1),
        _ => {}
    }
    Ok(u32::from(free_for(st, lock, c.t)))
}

/// The timeout of a Lock's (an RLock's, a Condition's) `acquire` as Python's `threading`
/// reads it: `-1`, its default, waits as long as it takes (`None`); any other negative
/// one is a ValueError, raised by `acquire`; and `timeout=None`, which the other waits
/// take for "as long as it takes", is a TypeError, as in CPython.
pub(in crate::machine) fn lock_timeout(
    st: &State,
    c: &Ctx,
    timeout: Option<Operand>,
) -> Res<Option<i64>> {
    if let Some(o) = timeout
        && st.operand(c, o)? == Value::None
    {
        return raise(
            ExcKind::TypeError,
            "'NoneType' object cannot be interpreted as an integer",
        );
    }
    Ok(st.timeout_of(c, timeout)?.filter(|us| *us != -1_000_000))
}

/// `acquire(blocking, timeout)` of `lock`: True when taken, False when it gives up.
pub(super) fn acquire(
    k: &mut Call,
    lock: ObjId,
    blocking: Option<Operand>,
    timeout: Option<Operand>,
) -> Res<Outcome> {
    let t = k.t();
    let blocking_flag = k.flag(blocking)?;
    let timeout = lock_timeout(k.st, k.c, timeout)?;
    if !blocking_flag && timeout.is_some() {
        return raise(
            ExcKind::ValueError,
            "can't specify a timeout for a non-blocking call",
        );
    }
    if timeout.is_some_and(|us| us < 0) {
        return raise(ExcKind::ValueError, "timeout value must be positive");
    }
    let lname = k.name_of(lock);
    if free_for(k.st, lock, t) {
        let count = next_count(k.st, lock, t);
        take(k.st, t, lock, count);
        if count > 1 {
            say!(k, "acquire {lname} (again: held {count} times)");
        } else {
            k.event(Event::Acquire(Chan::Obj(lock)));
            say!(k, "acquire {lname}");
        }
        Ok(Outcome::Done(Value::Bool(true)))
    } else if !blocking_flag || timeout.is_some() {
        k.read(Loc::Obj(lock));
        let who = k.st.holder_name(k.prog(), lock);
        say!(k, "acquire {lname} fails: held by {who}");
        Ok(Outcome::Done(Value::Bool(false)))
    } else {
        internal("a blocked acquire was scheduled")
    }
}

/// `release()` of `lock`.
pub(super) fn release(k: &mut Call, lock: ObjId) -> Res<Outcome> {
    let t = k.t();
    let lname = k.name_of(lock);
    match &mut k.st.objects[lock as usize] {
        ObjState::Lock { holder } => {
            if holder.is_none() {
                return raise(
                    ExcKind::RuntimeError,
                    format!("release unlocked lock {lname}"),
                );
            }
            *holder = None;
            k.event(Event::Release(Chan::Obj(lock)));
            say!(k, "release {lname}");
        }
        ObjState::RLock { owner, count } => {
            if *owner != Some(t) {
                return raise(
                    ExcKind::RuntimeError,
                    format!("cannot release un-acquired lock {lname}"),
                );
            }
            *count -= 1;
            if *count == 0 {
                *owner = None;
                k.event(Event::Release(Chan::Obj(lock)));
                say!(k, "release {lname}");
            } else {
                let left = *count;
                say!(k, "release {lname} (still held {left} times)");
            }
        }
        _ => return internal("release of an object that is not a lock"),
    }
    k.wrote(Loc::Obj(lock));
    Ok(Outcome::Done(Value::None))
}

/// Lets go of `lock` entirely (a Condition's wait): how often it was held.
pub(super) fn release_all(st: &mut State, lock: ObjId) -> u32 {
    match &mut st.objects[lock as usize] {
        ObjState::Lock { holder } => {
            *holder = None;
            1
        }
        ObjState::RLock { owner, count } => {
            *owner = None;
            std::mem::take(count)
        }
        _ => 1,
    }
}

/// What a thread blocked acquiring `lock` waits for.
pub(super) fn blocked_on(st: &State, prog: &Program, t: ThreadId, lock: ObjId) -> Blocked {
    let holders: Vec<ThreadId> = LockKind
        .holder(&st.objects[lock as usize])
        .into_iter()
        .collect();
    let who = if holders == vec![t] {
        "itself".to_string()
    } else {
        st.holder_name(prog, lock)
    };
    Blocked {
        target: WaitTarget::Lock(lock),
        text: format!(
            "waits to acquire {}, held by {who}",
            prog.objects[lock as usize].name
        ),
        holders,
    }
}

/// Is `acquire(blocking, timeout)` one that waits as long as it takes?
pub(super) fn waits_forever(
    st: &State,
    c: &Ctx,
    blocking: Option<Operand>,
    timeout: Option<Operand>,
) -> bool {
    st.flag(c, blocking).unwrap_or(false) && lock_timeout(st, c, timeout).is_ok_and(|t| t.is_none())
}

impl Primitive for LockKind {
    fn initial(&self, info: &crate::ir::ObjInfo) -> ObjState {
        let kind = info.kind;
        match kind {
            ObjKind::RLock => ObjState::RLock {
                owner: None,
                count: 0,
            },
            _ => ObjState::Lock { holder: None },
        }
    }

    fn ready(&self, st: &State, c: &Ctx, o: ObjId, op: &Op, timeouts: bool) -> Res<u32> {
        match op {
            Op::Acquire { blocking, timeout } => {
                acquire_ready(st, c, o, *blocking, *timeout, timeouts)
            }
            _ => Ok(1),
        }
    }

    fn call(&self, k: &mut Call, op: &Op) -> Res<Outcome> {
        let o = k.o;
        match op {
            Op::Acquire { blocking, timeout } => acquire(k, o, *blocking, *timeout),
            Op::Release { .. } => release(k, o),
            Op::Locked => {
                k.read(Loc::Obj(o));
                let held = self.holder(k.state()).is_some();
                let name = k.name();
                say!(k, "{name}.locked() = {}", Value::Bool(held));
                Ok(Outcome::Done(Value::Bool(held)))
            }
            _ => super::no_such_operation(k, op),
        }
    }

    fn blocked(&self, st: &State, c: &Ctx, o: ObjId, op: &Op) -> Blocked {
        match op {
            Op::Acquire { .. } => blocked_on(st, c.prog, c.t, o),
            _ => Blocked::stuck(),
        }
    }

    fn blocking_lock(&self, st: &State, c: &Ctx, o: ObjId, op: &Op) -> Option<ObjId> {
        match op {
            Op::Acquire { blocking, timeout } if waits_forever(st, c, *blocking, *timeout) => {
                Some(o)
            }
            _ => None,
        }
    }

    fn holder(&self, s: &ObjState) -> Option<ThreadId> {
        match s {
            ObjState::Lock { holder } => *holder,
            ObjState::RLock { owner, .. } => *owner,
            _ => None,
        }
    }

    fn describe(&self, st: &State, prog: &Program, o: ObjId) -> String {
        let who = |t: ThreadId| prog.threads[t as usize].name.clone();
        match &st.objects[o as usize] {
            ObjState::Lock { holder: None } => "Lock, free".into(),
            ObjState::Lock { holder: Some(h) } => format!("Lock, held by {}", who(*h)),
            ObjState::RLock { owner: None, .. } => "RLock, free".into(),
            ObjState::RLock {
                owner: Some(h),
                count,
            } => format!("RLock, held by {} ({count} times)", who(*h)),
            _ => String::new(),
        }
    }
}
