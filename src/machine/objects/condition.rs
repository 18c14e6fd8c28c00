//! `threading.Condition`: `acquire`/`release` of its lock (its own RLock unless the
//! scenario names one), `wait(timeout)`, `notify(n)` and `notify_all()`.
//!
//! `wait` needs the lock (else RuntimeError, the stricter check SCENARIO.md asks for):
//! in one step it lets go of the lock entirely (remembering an RLock's count), and the
//! thread waits ([`CondWait::Notify`]). Once notified, or when a timed wait gives up, it
//! waits to take the lock back ([`CondWait::Reacquire`]) and `wait` returns True
//! (notified) or False (timed out) in that step.
//!
//! Which waiters a `notify(n)` wakes is decided by one of two policies
//! ([`WakePolicy`]), both here so that they are one rule seen two ways:
//! - `Choose` (the explorer's): the notify picks `n` of the waiters, one alternative per
//!   set, in lexicographic order of their positions in the wait list;
//! - `Race` (the engines'): the notify leaves a wake-up for `n` of the threads waiting
//!   at that moment, and whichever of them moves first takes it; a waiter takes the
//!   oldest wake-up it is eligible for (eligibility sets are nested, so this loses
//!   none). The engines' schedulers then decide who wakes, which loom and shuttle explore
//!   as interleavings. tests/ run the explorer under both policies on the library and on
//!   generated scenarios and require the same verdicts and outcome sets.
//!
//! Happens-before: a notify flows into the wait it wakes (`Choose`: an edge to the woken
//! thread; `Race`: a channel per notify, acquired by the waiter that takes it); taking
//! the lock back is an acquisition of the lock.

use super::lock;
use super::{Blocked, Call, ObjState, Outcome, Primitive, Wait, WaitTarget, internal, say};
use crate::ir::{ObjId, Op, Program, ThreadId, Value};
use crate::machine::eval::Ctx;
use crate::machine::events::{Chan, Event};
use crate::machine::exception::{ExcKind, Res, raise};
use crate::machine::footprint::Footprint;
use crate::machine::spin::Loc;
use crate::machine::state::{State, Status, WakePolicy};
use crate::machine::value::as_int;

pub(super) struct ConditionKind;

/// A Condition's state: the threads waiting for a notify, in the order they came.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CondState {
    pub waiters: Vec<ThreadId>,
    /// `Race` only: each waiter's arrival number (parallel to `waiters`).
    pub arrivals: Vec<u32>,
    /// `Race` only: pending wake-ups, oldest first: (serial, waiters that arrived before
    /// this number may take it, how many are left).
    pub wakeups: Vec<(u32, u32, u32)>,
    /// `Race` only: the next arrival number and wake-up serial.
    pub next: u32,
}

/// A thread inside `Condition.wait`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CondWait {
    /// Its lock released, not yet notified (`saved`: an RLock's count to restore).
    Notify { cv: ObjId, saved: u32, timed: bool },
    /// Notified (`result` true) or timed out, waiting to take the lock back.
    Reacquire { cv: ObjId, saved: u32, result: bool },
}

impl CondWait {
    pub fn cv(&self) -> ObjId {
        match self {
            CondWait::Notify { cv, .. } | CondWait::Reacquire { cv, .. } => *cv,
        }
    }
}

fn cond(st: &State, o: ObjId) -> Option<&CondState> {
    match &st.objects[o as usize] {
        ObjState::Condition(c) => Some(c),
        _ => None,
    }
}

fn cond_mut(st: &mut State, o: ObjId) -> Res<&mut CondState> {
    match &mut st.objects[o as usize] {
        ObjState::Condition(c) => Ok(c),
        _ => internal("a Condition without its state"),
    }
}

/// How many waiters `notify(n)` wakes.
fn wanted(k: &Call, op: &Op) -> Res<usize> {
    match op {
        Op::Notify { n: Some(n) } => Ok(as_int(k.arg(*n)?, "n")?.max(0) as usize),
        Op::Notify { n: None } => Ok(1),
        _ => Ok(usize::MAX),
    }
}

impl CondState {
    /// `Race`: the oldest wake-up the waiter at `i` may take.
    fn wakeup_for(&self, i: usize) -> Option<usize> {
        let arrival = self.arrivals.get(i)?;
        self.wakeups.iter().position(|w| *arrival < w.1)
    }

    /// Removes the waiter at `i`; drops the wake-ups no remaining waiter may take.
    fn remove(&mut self, i: usize) {
        self.waiters.remove(i);
        if !self.arrivals.is_empty() {
            self.arrivals.remove(i);
        }
        let first = self.arrivals.first().copied();
        self.wakeups
            .retain(|w| w.2 > 0 && first.is_some_and(|a| a < w.1));
    }
}

/// Lexicographic combinations of `m` out of `k`: the `index`-th one.
pub(crate) fn combination(k: usize, m: usize, mut index: u64) -> Vec<usize> {
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

pub(crate) fn binom(n: u64, k: u64) -> u64 {
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

fn wait(k: &mut Call, timeout: Option<crate::ir::Operand>) -> Res<Outcome> {
    let (t, cv) = (k.t(), k.o);
    let timed = k.timed(timeout)?;
    let lock = super::lock_of(k.prog(), cv);
    let name = k.name();
    if !lock::owns(k.st, lock, t) {
        return raise(
            ExcKind::RuntimeError,
            format!("cannot wait on un-acquired lock ({name})"),
        );
    }
    // Waiting reads the notifications: a notify by another thread is progress for a
    // loop around the wait (the spin-loop rule); another waiter coming or going is not.
    k.read(Loc::Notify(cv));
    let saved = lock::release_all(k.st, lock);
    k.event(Event::Release(Chan::Obj(lock)));
    k.wrote(Loc::Obj(lock));
    let race = k.st.policy.wake == WakePolicy::Race;
    let c = cond_mut(k.st, cv)?;
    c.waiters.push(t);
    if race {
        c.arrivals.push(c.next);
        c.next += 1;
    }
    k.wrote(Loc::Obj(cv));
    k.st.threads[t as usize].status =
        Status::Waiting(Wait::Condition(CondWait::Notify { cv, saved, timed }));
    let lname = k.name_of(lock);
    say!(k, "wait {name} (releases {lname})");
    Ok(Outcome::Waiting)
}

fn notify(k: &mut Call, op: &Op) -> Res<Outcome> {
    let (t, cv) = (k.t(), k.o);
    let name = k.name();
    if !lock::owns(k.st, super::lock_of(k.prog(), cv), t) {
        return raise(
            ExcKind::RuntimeError,
            format!("cannot notify on un-acquired lock ({name})"),
        );
    }
    let n = wanted(k, op)?;
    // Who is woken depends on who waits: a waiter arriving is progress for a loop
    // around the notify.
    k.read(Loc::Obj(cv));
    let verb = if matches!(op, Op::NotifyAll) {
        "notify_all"
    } else {
        "notify"
    };
    let woken = match k.st.policy.wake {
        WakePolicy::Choose => wake_chosen(k, n)?,
        WakePolicy::Race => leave_wakeups(k, n)?,
    };
    if !woken.is_empty() {
        // A notify that wakes nobody changes nothing.
        k.wrote(Loc::Obj(cv));
        k.wrote(Loc::Notify(cv));
    }
    // A waiter that timed out and is still on the list (CPython's order) spends the
    // notify for nothing; under `Race` it takes one only if it is the one that wakes.
    let lost = match k.st.policy.wake {
        WakePolicy::Choose => "the notify is lost",
        WakePolicy::Race => "a notify it takes is lost",
    };
    let names: Vec<String> = woken
        .iter()
        .map(|w| {
            let name = &k.prog().threads[*w as usize].name;
            match k.st.threads[*w as usize].status {
                Status::Waiting(Wait::Condition(CondWait::Reacquire { result: false, .. })) => {
                    format!("{name} (which timed out: {lost})")
                }
                _ => name.clone(),
            }
        })
        .collect();
    match (names.is_empty(), k.st.policy.wake) {
        (true, _) => say!(k, "{verb} {name} (no thread is waiting)"),
        (false, WakePolicy::Choose) => say!(k, "{verb} {name} wakes {}", names.join(", ")),
        (false, WakePolicy::Race) => say!(k, "{verb} {name} may wake {}", names.join(", ")),
    }
    Ok(Outcome::Done(Value::None))
}

/// `Choose`: wakes the set of waiters that the alternative names.
fn wake_chosen(k: &mut Call, n: usize) -> Res<Vec<ThreadId>> {
    let alt = k.alt;
    let c = cond_mut(k.st, k.o)?;
    let pick = combination(c.waiters.len(), n.min(c.waiters.len()), alt as u64);
    let chosen: Vec<ThreadId> = pick.iter().map(|i| c.waiters[*i]).collect();
    c.waiters.retain(|x| !chosen.contains(x));
    for w in &chosen {
        // A waiter that timed out and waits for the lock is still on the list, as in
        // CPython: the notify is spent on it and its `wait` still returns False.
        if let Status::Waiting(Wait::Condition(CondWait::Notify { cv, saved, .. })) =
            k.st.threads[*w as usize].status
        {
            k.st.threads[*w as usize].status =
                Status::Waiting(Wait::Condition(CondWait::Reacquire {
                    cv,
                    saved,
                    result: true,
                }));
            k.event(Event::Edge { to: *w });
        }
    }
    Ok(chosen)
}

/// `Race`: leaves a wake-up for `n` of the present waiters; returns who may take it.
fn leave_wakeups(k: &mut Call, n: usize) -> Res<Vec<ThreadId>> {
    let c = cond_mut(k.st, k.o)?;
    let n = n.min(c.waiters.len());
    if n == 0 {
        return Ok(vec![]);
    }
    let serial = c.next;
    c.next += 1;
    c.wakeups.push((serial, serial, n as u32));
    let eligible = c.waiters.clone();
    let o = k.o;
    k.event(Event::Release(Chan::Wakeup(o, serial)));
    Ok(eligible)
}

impl Primitive for ConditionKind {
    fn initial(&self, _info: &crate::ir::ObjInfo) -> ObjState {
        ObjState::Condition(CondState::default())
    }

    fn ready(&self, st: &State, c: &Ctx, o: ObjId, op: &Op, timeouts: bool) -> Res<u32> {
        let lock = super::lock_of(c.prog, o);
        match op {
            Op::Acquire { blocking, timeout } => {
                lock::acquire_ready(st, c, lock, *blocking, *timeout, timeouts)
            }
            Op::Notify { n } if st.policy.wake == WakePolicy::Choose => {
                // Only a notify by the lock's owner wakes anyone (else it raises).
                if !lock::owns(st, lock, c.t) {
                    return Ok(1);
                }
                let waiters = cond(st, o).map_or(0, |s| s.waiters.len());
                let n = match n {
                    None => 1,
                    Some(n) => as_int(st.operand(c, *n)?, "n")?.max(0) as usize,
                };
                Ok(binom(waiters as u64, n.min(waiters) as u64).clamp(1, 1 << 16) as u32)
            }
            _ => Ok(1),
        }
    }

    fn call(&self, k: &mut Call, op: &Op) -> Res<Outcome> {
        let lock = super::lock_of(k.prog(), k.o);
        match op {
            Op::Acquire { blocking, timeout } => lock::acquire(k, lock, *blocking, *timeout),
            Op::Release { .. } => lock::release(k, lock),
            Op::Wait { timeout } => wait(k, *timeout),
            Op::Notify { .. } | Op::NotifyAll => notify(k, op),
            _ => super::no_such_operation(k, op),
        }
    }

    fn blocked(&self, st: &State, c: &Ctx, o: ObjId, op: &Op) -> Blocked {
        match op {
            Op::Acquire { .. } => lock::blocked_on(st, c.prog, c.t, super::lock_of(c.prog, o)),
            _ => Blocked::stuck(),
        }
    }

    fn blocking_lock(&self, st: &State, c: &Ctx, o: ObjId, op: &Op) -> Option<ObjId> {
        match op {
            Op::Acquire { blocking, timeout }
                if lock::waits_forever(st, c, *blocking, *timeout) =>
            {
                Some(super::lock_of(c.prog, o))
            }
            _ => None,
        }
    }

    fn describe(&self, st: &State, prog: &Program, o: ObjId) -> String {
        let waiters: Vec<ThreadId> = (cond(st, o).map(|c| c.waiters.clone()))
            .unwrap_or_default()
            .into_iter()
            .filter(|t| {
                matches!(
                    st.threads[*t as usize].status,
                    Status::Waiting(Wait::Condition(CondWait::Notify { .. }))
                )
            })
            .collect();
        if waiters.is_empty() {
            return "Condition, nobody waiting".into();
        }
        let names: Vec<&str> = waiters
            .iter()
            .map(|t| prog.threads[*t as usize].name.as_str())
            .collect();
        format!("Condition, waiting: {}", names.join(", "))
    }

    fn wait_ready(&self, st: &State, prog: &Program, t: ThreadId, w: &Wait, timeouts: bool) -> u32 {
        match w {
            Wait::Condition(CondWait::Notify { cv, timed, .. }) => {
                let woken = st.policy.wake == WakePolicy::Race && race_eligible(st, *cv, t);
                let spins = st.threads[t as usize].spin_waits.is_some();
                u32::from(woken) + u32::from(*timed && timeouts && !spins)
            }
            Wait::Condition(CondWait::Reacquire { cv, .. }) => {
                let free = lock::free_for(st, super::lock_of(prog, *cv), t);
                let spends = st.policy.wake == WakePolicy::Race && race_eligible(st, *cv, t);
                u32::from(free) * (1 + u32::from(spends))
            }
            _ => 0,
        }
    }

    fn resume(&self, k: &mut Call, w: &Wait) -> Res<Outcome> {
        let t = k.t();
        match w {
            Wait::Condition(CondWait::Notify { cv, saved, .. }) => {
                let take = k.alt == 0
                    && k.st.policy.wake == WakePolicy::Race
                    && race_eligible(k.st, *cv, t);
                if take {
                    take_wakeup(k, *cv, *saved)
                } else {
                    time_out(k, *cv, *saved)
                }
            }
            Wait::Condition(CondWait::Reacquire { cv, saved, result }) => {
                leave_after_timeout(k, *cv)?;
                let lock = super::lock_of(k.prog(), *cv);
                lock::take(k.st, t, lock, *saved);
                k.event(Event::Acquire(Chan::Obj(lock)));
                k.st.threads[t as usize].status = Status::Ready;
                let (name, lname) = (k.name_of(*cv), k.name_of(lock));
                say!(
                    k,
                    "wait {name} returns {} (reacquired {lname})",
                    Value::Bool(*result)
                );
                Ok(Outcome::Done(Value::Bool(*result)))
            }
            _ => internal("a Condition resumed from another kind's wait"),
        }
    }

    fn wait_blocked(&self, st: &State, prog: &Program, t: ThreadId, w: &Wait) -> Blocked {
        match w {
            Wait::Condition(CondWait::Notify { cv, .. }) => {
                let name = &prog.objects[*cv as usize].name;
                let changes: Vec<String> = (st.threads[t as usize].spin_waits.iter())
                    .flatten()
                    .filter(|l| !matches!(l, Loc::Notify(_)))
                    .map(|l| l.name(prog))
                    .collect();
                let text = if changes.is_empty() {
                    format!("waits on {name} for a notify that never comes")
                } else {
                    format!(
                        "waits on {name} for a notify, or a change to {} that its timed \
                         wait would see, that never comes",
                        changes.join(", ")
                    )
                };
                Blocked::new(WaitTarget::Notify(*cv), text)
            }
            Wait::Condition(CondWait::Reacquire { cv, .. }) => {
                let lock = super::lock_of(prog, *cv);
                Blocked {
                    target: WaitTarget::Lock(lock),
                    text: format!(
                        "was woken from {} and waits to reacquire {}, held by {}",
                        prog.objects[*cv as usize].name,
                        prog.objects[lock as usize].name,
                        st.holder_name(prog, lock)
                    ),
                    holders: super::holder(st, lock).into_iter().collect(),
                }
            }
            _ => Blocked::stuck(),
        }
    }

    fn wait_footprint(&self, prog: &Program, w: &Wait, fp: &mut Footprint) {
        super::touch_object(prog, fp, w.object());
    }

    fn wait_lock(&self, prog: &Program, w: &Wait) -> Option<ObjId> {
        match w {
            Wait::Condition(CondWait::Reacquire { cv, .. }) => Some(super::lock_of(prog, *cv)),
            _ => None,
        }
    }
}

/// `Race`: may waiter `t` of `cv` take a pending wake-up?
fn race_eligible(st: &State, cv: ObjId, t: ThreadId) -> bool {
    cond(st, cv).is_some_and(|c| {
        c.waiters
            .iter()
            .position(|w| *w == t)
            .is_some_and(|i| c.wakeup_for(i).is_some())
    })
}

/// `Race`: the waiter takes the oldest wake-up it may take.
fn take_wakeup(k: &mut Call, cv: ObjId, saved: u32) -> Res<Outcome> {
    let t = k.t();
    let c = cond_mut(k.st, cv)?;
    let Some(i) = c.waiters.iter().position(|w| *w == t) else {
        return internal("a waiter that is not in the wait list");
    };
    let Some(j) = c.wakeup_for(i) else {
        return internal("a wake-up taken that was not there");
    };
    let serial = c.wakeups[j].0;
    c.wakeups[j].2 -= 1;
    c.remove(i);
    k.event(Event::Acquire(Chan::Wakeup(cv, serial)));
    k.wrote(Loc::Obj(cv));
    k.st.threads[t as usize].status = Status::Waiting(Wait::Condition(CondWait::Reacquire {
        cv,
        saved,
        result: true,
    }));
    let name = k.name_of(cv);
    say!(k, "woken from {name}");
    Ok(Outcome::Waiting)
}

/// A timed wait gives up: the thread waits for the lock, and stays on the wait list
/// until it has it (CPython's `Condition.wait` removes a waiter that timed out only
/// after `_acquire_restore`): a notify before then may be spent on it.
fn time_out(k: &mut Call, cv: ObjId, saved: u32) -> Res<Outcome> {
    let t = k.t();
    k.st.threads[t as usize].status = Status::Waiting(Wait::Condition(CondWait::Reacquire {
        cv,
        saved,
        result: false,
    }));
    k.wrote(Loc::Obj(cv));
    k.st.note_timed_out(t);
    let name = k.name_of(cv);
    say!(k, "wait {name} timed out");
    Ok(Outcome::Waiting)
}

/// A waiter that timed out takes the lock back and leaves the wait list, if a notify
/// has not taken it off already. `Race`: alternative 1 is the notify that was spent on
/// it before (a pending wake-up it may take), as `Choose` has a notify pick it.
fn leave_after_timeout(k: &mut Call, cv: ObjId) -> Res<()> {
    let (t, spend) = (k.t(), k.alt == 1);
    let c = cond_mut(k.st, cv)?;
    let Some(i) = c.waiters.iter().position(|w| *w == t) else {
        return Ok(());
    };
    if spend {
        let Some(j) = c.wakeup_for(i) else {
            return internal("a wake-up spent that was not there");
        };
        c.wakeups[j].2 -= 1;
    }
    c.remove(i);
    k.wrote(Loc::Obj(cv));
    Ok(())
}

/// `t` is gone: it leaves every condition's wait list (and its wake-ups, if nobody else
/// may take them).
pub(super) fn forget(st: &mut State, t: ThreadId) {
    for s in &mut st.objects {
        if let ObjState::Condition(c) = s
            && let Some(i) = c.waiters.iter().position(|w| *w == t)
        {
            c.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_waiter_takes_the_oldest_wakeup_it_may_take() {
        // a arrived first; notify(1) (serial 2, for a); b arrives; notify(1) (serial 4, for
        // a and b). b takes serial 4, a takes serial 2: both wake.
        let mut c = CondState {
            waiters: vec![0, 1],
            arrivals: vec![0, 3],
            wakeups: vec![(2, 2, 1), (4, 4, 1)],
            next: 5,
        };
        assert_eq!(c.wakeup_for(1), Some(1));
        assert_eq!(c.wakeup_for(0), Some(0));
        c.wakeups[1].2 -= 1;
        c.remove(1);
        assert_eq!(c.wakeups, vec![(2, 2, 1)]);
        c.wakeups[0].2 -= 1;
        c.remove(0);
        assert!(c.wakeups.is_empty() && c.waiters.is_empty());
    }

    #[test]
    fn a_wakeup_nobody_may_take_is_dropped() {
        // Only a may take the first wake-up; a times out: it goes.
        let mut c = CondState {
            waiters: vec![0, 1],
            arrivals: vec![0, 3],
            wakeups: vec![(2, 2, 1)],
            next: 4,
        };
        c.remove(0);
        assert!(c.wakeups.is_empty());
    }
}
