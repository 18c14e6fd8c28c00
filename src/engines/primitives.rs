//! Python's `threading` and `queue` primitives (Lock, RLock, Condition, Semaphore,
//! BoundedSemaphore, Event, Barrier, Queue with `task_done`/`join`), written once over a
//! [`Runtime`]'s Mutex and Condvar, for the engines that run a scenario on threads
//! (native, loom, shuttle).
//!
//! Every primitive is a monitor, as CPython builds them (a Lock and a Condition each); here
//! all of one execution's primitives, its shared cells and its threads' wait states share
//! one monitor, the [`Kernel`]. That costs nothing in fidelity (each operation is one step
//! in SCENARIO.md's sense, as it is one bytecode under CPython's GIL) and it lets the
//! kernel see a consistent picture of who holds what and who waits for what:
//! - when a thread is about to block and every started, unfinished thread is blocked
//!   with nothing that could let it go on, the execution is stuck: a deadlock, or a
//!   livelock when every stuck thread is spinning (the same rule as the explorer's), and
//!   the kernel explains it from its wait states, exactly as the explorer does;
//! - a thread blocked with a timeout is never stuck: when nothing else can move, it times
//!   out (the explorer tries that alternative too);
//! - `notify(n)` does not pick its waiters: it leaves `n` wake-ups that the first eligible
//!   waiters to run take, so that which waiter wakes is decided by the runtime's
//!   scheduler (and explored by loom and shuttle);
//! - the spin-loop rule of [`crate::machine`] is mirrored: a loop iteration that made no
//!   progress blocks the thread until another thread writes what it read.
//!
//! The operations mirror [`crate::machine`]'s, including the Python errors they raise.

use crate::engines::runtime::Runtime;
use crate::ir::{FindingKind, Value};
use crate::ir::{ObjId, ObjKind, Op, Operand, Program, ThreadId};
use std::collections::VecDeque;

/// Why an execution stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Every unfinished thread is blocked: `kind` is deadlock or livelock.
    Stuck { kind: FindingKind, message: String },
    /// The execution ran past `max_steps`.
    MaxSteps(u64),
    /// The engine gave up on it (native's time budget), with an explanation.
    Abandoned(String),
}

/// A failure found in one execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub kind: FindingKind,
    pub message: String,
}

/// A location read or written, for the spin-loop rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Loc {
    Cell(u32),
    Obj(ObjId),
    Thread(ThreadId),
}

/// One loop iteration's record (the spin-loop rule), as in the machine.
#[derive(Clone, Debug)]
pub struct Spin {
    pub head: u32,
    pub locals: Vec<Option<Value>>,
    pub reads: Vec<Loc>,
    pub wrote: bool,
    pub forced: bool,
    pub shared_hash: u64,
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
        /// Waiting, not yet woken: (thread, arrival number).
        waiters: Vec<(ThreadId, u64)>,
        /// Pending wake-ups: (only waiters that arrived before this number, how many).
        wakeups: Vec<(u64, u32)>,
        next: u64,
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

/// What a blocked thread waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wait {
    /// A Lock, RLock (or a Condition's lock) to be free for it.
    Lock {
        lock: ObjId,
    },
    /// A semaphore permit.
    Sem {
        sem: ObjId,
    },
    /// In `Condition.wait`, its lock released, not yet woken.
    CondWait {
        cv: ObjId,
        saved: u32,
        timed: bool,
    },
    /// Woken (or timed out), waiting to take the lock back.
    CondReacquire {
        cv: ObjId,
        saved: u32,
        result: bool,
    },
    EventWait {
        ev: ObjId,
        timed: bool,
    },
    Barrier {
        bar: ObjId,
        generation: u32,
        index: u32,
    },
    Put {
        q: ObjId,
        value: Value,
        ret: Value,
    },
    Get {
        q: ObjId,
    },
    QJoin {
        q: ObjId,
    },
    Join {
        threads: Vec<ThreadId>,
    },
    Spin {
        reads: Vec<Loc>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Life {
    NotStarted,
    Running,
    Finished,
}

#[derive(Clone, Debug)]
pub struct TState {
    pub life: Life,
    pub wait: Option<Wait>,
    /// Woken by `Event.set` while in `EventWait`.
    pub woken: bool,
    /// Told to time out (nothing else could move).
    pub timed_out: bool,
    /// A spinner whose reads another thread wrote.
    pub spin_woken: bool,
    pub spin: Vec<Spin>,
    pub spin_pending: Option<Vec<Loc>>,
    /// Source line of the thread's current step (for explanations).
    pub line: u32,
}

/// A step's result: a value, or a wait.
pub enum Step {
    Done(Value),
    Wait(Wait),
}

pub type Res<T> = Result<T, String>;

/// The state of one execution behind the kernel's mutex.
pub struct KState {
    pub cells: Vec<Value>,
    pub objects: Vec<ObjState>,
    pub threads: Vec<TState>,
    /// Steps taken so far.
    pub steps: u64,
    pub stop: Option<Stop>,
    /// An assertion or error happened (no deadlock, livelock or outcome is reported after one).
    pub failed: bool,
    pub found: Vec<Found>,
    pub prints: Vec<String>,
    /// Threads waiting on their condition variable.
    pub parked: Vec<bool>,
}

/// One execution's monitor: its state, behind the runtime's mutex, and one condition
/// variable per thread, notified only when that thread's wait can end (fewer wake-ups
/// keep loom's and shuttle's search small).
pub struct Kernel<R: Runtime> {
    pub state: R::Mutex<KState>,
    pub cvs: Vec<R::Condvar>,
}

pub fn truthy(v: Value) -> bool {
    match v {
        Value::None => false,
        Value::Bool(b) => b,
        Value::Int(i) => i != 0,
    }
}

pub fn as_int(v: Value, what: &str) -> Res<i64> {
    match v {
        Value::Int(i) => Ok(i),
        Value::Bool(b) => Ok(b as i64),
        Value::None => Err(format!("TypeError: {what} must be an integer, not None")),
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

pub fn lock_of(prog: &Program, obj: ObjId) -> ObjId {
    match prog.objects[obj as usize].kind {
        ObjKind::Condition { lock } => lock,
        _ => obj,
    }
}

impl<R: Runtime> Kernel<R> {
    pub fn new(prog: &Program) -> Kernel<R> {
        Kernel {
            state: R::mutex(KState::new(prog)),
            cvs: prog.threads.iter().map(|_| R::condvar()).collect(),
        }
    }
    pub fn lock(&self) -> R::Guard<'_, KState> {
        R::lock(&self.state)
    }

    /// Call after any change, holding the lock: if every unfinished thread is now
    /// blocked with nothing to let it go on, a timed waiter times out or else the
    /// execution is stuck (a deadlock or livelock); then every parked thread that can go
    /// on is woken.
    pub fn notify(&self, prog: &Program, st: &mut KState) {
        if st.stop.is_none()
            && st.threads.iter().any(|th| th.life == Life::Running)
            && st.all_stuck(prog)
        {
            match st.timed_waiter() {
                Some(u) => st.threads[u as usize].timed_out = true,
                None => st.stop = Some(st.explain_stuck(prog)),
            }
        }
        for (u, th) in st.threads.iter().enumerate() {
            if !st.parked[u] {
                continue;
            }
            let go = st.stop.is_some()
                || match th.life {
                    Life::NotStarted => st.all_finished(),
                    Life::Finished => true,
                    Life::Running => match &th.wait {
                        None => true,
                        Some(w) => st.can_proceed(prog, u as ThreadId, w),
                    },
                };
            if go {
                R::notify_all(&self.cvs[u]);
            }
        }
    }

    /// Parks thread `t` until it is notified (or wakes spuriously).
    pub fn park<'a>(&'a self, mut g: R::Guard<'a, KState>, t: ThreadId) -> R::Guard<'a, KState> {
        g.parked[t as usize] = true;
        let mut g = R::wait(&self.cvs[t as usize], g);
        g.parked[t as usize] = false;
        g
    }

    /// Blocks thread `t` on `w` until it can go on, then completes the operation. A
    /// stuck execution or a stop ends the wait with `Err`.
    pub fn block<'a>(
        &'a self,
        prog: &Program,
        mut g: R::Guard<'a, KState>,
        t: ThreadId,
        mut w: Wait,
    ) -> (R::Guard<'a, KState>, Result<Value, Stop>) {
        loop {
            if let Some(s) = &g.stop {
                let s = s.clone();
                g.threads[t as usize].wait = None;
                return (g, Err(s));
            }
            if g.can_proceed(prog, t, &w) {
                g.threads[t as usize].wait = None;
                let woke = g.threads[t as usize].timed_out;
                g.threads[t as usize].timed_out = false;
                match g.proceed(prog, t, w, woke) {
                    Step::Done(v) => {
                        self.notify(prog, &mut g);
                        return (g, Ok(v));
                    }
                    Step::Wait(next) => {
                        self.notify(prog, &mut g);
                        w = next;
                        continue;
                    }
                }
            }
            g.threads[t as usize].wait = Some(w.clone());
            // Announces what the blocking operation changed (a Condition wait releases
            // its lock), and finds out whether everyone is stuck now.
            self.notify(prog, &mut g);
            if g.stop.is_some() || g.can_proceed(prog, t, &w) {
                continue;
            }
            g = self.park(g, t);
        }
    }
}

impl KState {
    pub fn new(prog: &Program) -> KState {
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
                ObjKind::Condition { .. } => ObjState::Condition {
                    waiters: vec![],
                    wakeups: vec![],
                    next: 0,
                },
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
            .map(|t| TState {
                life: if t.start {
                    Life::Running
                } else {
                    Life::NotStarted
                },
                wait: None,
                woken: false,
                timed_out: false,
                spin_woken: false,
                spin: vec![],
                spin_pending: None,
                line: 0,
            })
            .collect();
        KState {
            cells,
            objects,
            threads,
            steps: 0,
            stop: None,
            failed: false,
            found: vec![],
            prints: vec![],
            parked: vec![false; prog.threads.len()],
        }
    }

    /// Has every started thread finished?
    pub fn all_finished(&self) -> bool {
        self.threads.iter().all(|t| t.life != Life::Running)
    }

    fn lock_free_for(&self, lock: ObjId, t: ThreadId) -> bool {
        match &self.objects[lock as usize] {
            ObjState::Lock { holder } => holder.is_none(),
            ObjState::RLock { owner, .. } => owner.is_none() || *owner == Some(t),
            ObjState::Semaphore { value } => *value > 0,
            _ => true,
        }
    }

    pub fn owns(&self, prog: &Program, cv: ObjId, t: ThreadId) -> bool {
        match &self.objects[lock_of(prog, cv) as usize] {
            ObjState::Lock { holder } => *holder == Some(t),
            ObjState::RLock { owner, .. } => *owner == Some(t),
            _ => false,
        }
    }

    /// Can the wake-up of condition `cv` reach thread `t` (arrival `seq`)?
    fn claimable(&self, cv: ObjId, t: ThreadId) -> Option<usize> {
        let ObjState::Condition {
            waiters, wakeups, ..
        } = &self.objects[cv as usize]
        else {
            return None;
        };
        let seq = waiters.iter().find(|w| w.0 == t)?.1;
        wakeups.iter().position(|(limit, n)| *n > 0 && seq < *limit)
    }

    /// Could `t`, blocked on `w`, go on now?
    fn can_proceed(&self, prog: &Program, t: ThreadId, w: &Wait) -> bool {
        let th = &self.threads[t as usize];
        match w {
            Wait::Lock { lock } => self.lock_free_for(*lock, t),
            Wait::Sem { sem } => self.lock_free_for(*sem, t),
            Wait::CondWait { cv, .. } => th.timed_out || self.claimable(*cv, t).is_some(),
            Wait::CondReacquire { cv, .. } => self.lock_free_for(lock_of(prog, *cv), t),
            Wait::EventWait { .. } => th.woken || th.timed_out,
            Wait::Barrier {
                bar, generation, ..
            } => {
                matches!(&self.objects[*bar as usize], ObjState::Barrier { generation: g, .. } if *g > *generation)
            }
            Wait::Put { q, .. } => {
                match (&self.objects[*q as usize], prog.objects[*q as usize].kind) {
                    (ObjState::Queue { items, .. }, ObjKind::Queue { maxsize }) => {
                        maxsize == 0 || items.len() < maxsize as usize
                    }
                    _ => true,
                }
            }
            Wait::Get { q } => {
                matches!(&self.objects[*q as usize], ObjState::Queue { items, .. } if !items.is_empty())
            }
            Wait::QJoin { q } => {
                matches!(&self.objects[*q as usize], ObjState::Queue { unfinished, .. } if *unfinished == 0)
            }
            Wait::Join { threads } => threads
                .iter()
                .all(|x| *x == t || self.threads[*x as usize].life != Life::Running),
            Wait::Spin { .. } => th.spin_woken,
        }
    }

    /// Completes the wait `w` of `t` (it can go on); `timed_out`: it was told to time out.
    fn proceed(&mut self, prog: &Program, t: ThreadId, w: Wait, timed_out: bool) -> Step {
        match w {
            Wait::Lock { lock } => {
                let count = match &self.objects[lock as usize] {
                    ObjState::RLock {
                        owner: Some(x),
                        count,
                    } if *x == t => count + 1,
                    _ => 1,
                };
                self.take_lock(t, lock, count);
                Step::Done(Value::Bool(true))
            }
            Wait::Sem { sem } => {
                if let ObjState::Semaphore { value } = &mut self.objects[sem as usize] {
                    *value -= 1;
                }
                self.note_write(t, Loc::Obj(sem));
                Step::Done(Value::Bool(true))
            }
            Wait::CondWait { cv, saved, .. } => {
                let claim = self.claimable(cv, t);
                if let ObjState::Condition {
                    waiters, wakeups, ..
                } = &mut self.objects[cv as usize]
                {
                    waiters.retain(|w| w.0 != t);
                    if let Some(i) = claim {
                        wakeups[i].1 -= 1;
                    }
                }
                self.normalize_wakeups(cv);
                if claim.is_none() {
                    debug_assert!(timed_out);
                    self.note_read(t, Loc::Obj(cv));
                }
                self.note_write(t, Loc::Obj(cv));
                self.steps += 1;
                Step::Wait(Wait::CondReacquire {
                    cv,
                    saved,
                    result: claim.is_some(),
                })
            }
            Wait::CondReacquire { cv, saved, result } => {
                let lock = lock_of(prog, cv);
                self.take_lock(t, lock, saved);
                Step::Done(Value::Bool(result))
            }
            Wait::EventWait { ev, .. } => {
                let woken = self.threads[t as usize].woken;
                self.threads[t as usize].woken = false;
                if !woken {
                    self.note_read(t, Loc::Obj(ev));
                }
                self.steps += 1;
                Step::Done(Value::Bool(woken))
            }
            Wait::Barrier { index, .. } => {
                self.steps += 1;
                Step::Done(Value::Int(index as i64))
            }
            Wait::Put { q, value, ret } => {
                if let ObjState::Queue { items, unfinished } = &mut self.objects[q as usize] {
                    items.push_back(value);
                    *unfinished += 1;
                }
                self.note_write(t, Loc::Obj(q));
                Step::Done(ret)
            }
            Wait::Get { q } => {
                let v = match &mut self.objects[q as usize] {
                    ObjState::Queue { items, .. } => items.pop_front().unwrap_or(Value::None),
                    _ => Value::None,
                };
                self.note_write(t, Loc::Obj(q));
                Step::Done(v)
            }
            Wait::QJoin { q } => {
                self.note_read(t, Loc::Obj(q));
                Step::Done(Value::None)
            }
            Wait::Join { .. } => Step::Done(Value::None),
            Wait::Spin { .. } => {
                self.threads[t as usize].spin_woken = false;
                Step::Done(Value::None)
            }
        }
    }

    /// Drops wake-ups that no current waiter can take any more.
    fn normalize_wakeups(&mut self, cv: ObjId) {
        if let ObjState::Condition {
            waiters, wakeups, ..
        } = &mut self.objects[cv as usize]
        {
            let mut used = 0u32;
            for (limit, n) in wakeups.iter_mut() {
                let eligible = waiters.iter().filter(|w| w.1 < *limit).count() as u32;
                *n = (*n).min(eligible.saturating_sub(used));
                used += *n;
            }
            wakeups.retain(|w| w.1 > 0);
        }
    }

    /// Is every started, unfinished thread blocked with nothing to let it go on?
    fn all_stuck(&self, prog: &Program) -> bool {
        self.threads
            .iter()
            .enumerate()
            .filter(|(_, th)| th.life == Life::Running)
            .all(|(u, th)| match &th.wait {
                Some(w) => !self.can_proceed(prog, u as ThreadId, w),
                None => false,
            })
    }

    /// A stuck thread whose wait has a timeout (it may time out instead).
    fn timed_waiter(&self) -> Option<ThreadId> {
        self.threads
            .iter()
            .position(|th| {
                th.life == Life::Running
                    && matches!(
                        th.wait,
                        Some(
                            Wait::CondWait { timed: true, .. }
                                | Wait::EventWait { timed: true, .. }
                        )
                    )
            })
            .map(|u| u as ThreadId)
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

    /// Locks held by `t`.
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

    /// What `t` waits for, in the words of the explorer's deadlock reports.
    pub fn waits_for(&self, prog: &Program, t: ThreadId) -> String {
        let obj = |o: ObjId| prog.objects[o as usize].name.clone();
        let Some(w) = &self.threads[t as usize].wait else {
            return "is running".into();
        };
        match w {
            Wait::Lock { lock } => {
                let holder = match &self.objects[*lock as usize] {
                    ObjState::Lock { holder } => *holder,
                    ObjState::RLock { owner, .. } => *owner,
                    _ => None,
                };
                let who = if holder == Some(t) {
                    "itself".to_string()
                } else {
                    self.holder_name(prog, *lock)
                };
                format!("waits to acquire {}, held by {who}", obj(*lock))
            }
            Wait::Sem { sem } => format!("waits to acquire {} (value 0)", obj(*sem)),
            Wait::CondWait { cv, .. } => {
                format!("waits on {} for a notify that never comes", obj(*cv))
            }
            Wait::CondReacquire { cv, .. } => {
                let lock = lock_of(prog, *cv);
                format!(
                    "was woken from {} and waits to reacquire {}, held by {}",
                    obj(*cv),
                    obj(lock),
                    self.holder_name(prog, lock)
                )
            }
            Wait::EventWait { ev, .. } => format!("waits for {} to be set", obj(*ev)),
            Wait::Barrier { bar, .. } => {
                let (arrived, parties) = match (
                    &self.objects[*bar as usize],
                    prog.objects[*bar as usize].kind,
                ) {
                    (ObjState::Barrier { arrived, .. }, ObjKind::Barrier { parties }) => {
                        (*arrived, parties)
                    }
                    _ => (0, 0),
                };
                format!(
                    "waits at barrier {} ({arrived} of {parties} arrived)",
                    obj(*bar)
                )
            }
            Wait::Put { q, .. } => format!("waits to put into {}, which is full", obj(*q)),
            Wait::Get { q } => format!("waits to get from {}, which is empty", obj(*q)),
            Wait::QJoin { q } => {
                let n = match &self.objects[*q as usize] {
                    ObjState::Queue { unfinished, .. } => *unfinished,
                    _ => 0,
                };
                format!(
                    "waits in {}.join() for {n} task_done() call(s) that never come",
                    obj(*q)
                )
            }
            Wait::Join { threads } => {
                let names: Vec<&str> = threads
                    .iter()
                    .filter(|x| self.threads[**x as usize].life == Life::Running)
                    .map(|x| prog.threads[*x as usize].name.as_str())
                    .collect();
                format!("waits to join {}", names.join(", "))
            }
            Wait::Spin { reads } => {
                let names: Vec<String> = reads
                    .iter()
                    .map(|l| match l {
                        Loc::Cell(c) => prog.cell_name(*c),
                        Loc::Obj(o) => obj(*o),
                        Loc::Thread(x) => prog.threads[*x as usize].name.clone(),
                    })
                    .collect();
                if names.is_empty() {
                    "loops forever without reading anything that could change".into()
                } else {
                    format!(
                        "spins waiting for a change to {} that no thread will make",
                        names.join(", ")
                    )
                }
            }
        }
    }

    /// Where every unfinished thread is and what it holds and waits for.
    pub fn explain(&self, prog: &Program) -> String {
        let mut parts = vec![];
        for (u, th) in self.threads.iter().enumerate() {
            if th.life != Life::Running {
                continue;
            }
            let u = u as ThreadId;
            let name = &prog.threads[u as usize].name;
            let held = self.held_by(prog, u);
            let held = if held.is_empty() {
                String::new()
            } else {
                format!(" (holds {})", held.join(", "))
            };
            parts.push(format!(
                "{name} (line {}){held} {}",
                th.line,
                self.waits_for(prog, u)
            ));
        }
        parts.join("; ")
    }

    fn explain_stuck(&self, prog: &Program) -> Stop {
        let all_spin = self
            .threads
            .iter()
            .filter(|th| th.life == Life::Running)
            .all(|th| matches!(th.wait, Some(Wait::Spin { .. })));
        let (kind, what) = if all_spin {
            (FindingKind::Livelock, "livelock")
        } else {
            (FindingKind::Deadlock, "deadlock")
        };
        Stop::Stuck {
            kind,
            message: format!("{what}: {}", self.explain(prog)),
        }
    }

    // ---- the spin-loop rule, as in the machine ----

    fn shared_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        self.cells.hash(&mut h);
        self.objects.hash(&mut h);
        h.finish()
    }

    /// At a loop head of `t` (pc `head`) with its locals.
    pub fn loop_head(&mut self, t: ThreadId, head: u32, locals: &[Option<Value>]) {
        if self.threads[t as usize].spin_pending.is_some() {
            return;
        }
        let hash = self.shared_hash();
        let th = &mut self.threads[t as usize];
        if let Some(i) = th.spin.iter().position(|sp| sp.head == head) {
            let sp = &th.spin[i];
            let unchanged = !sp.wrote || sp.shared_hash == hash;
            if !sp.forced && unchanged && sp.locals == locals {
                let reads = sp.reads.clone();
                th.spin.clear();
                th.spin_pending = Some(reads);
                return;
            }
            th.spin.remove(i);
        }
        th.spin.push(Spin {
            head,
            locals: locals.to_vec(),
            reads: vec![],
            wrote: false,
            forced: false,
            shared_hash: hash,
        });
    }

    pub fn note_read(&mut self, t: ThreadId, loc: Loc) {
        for sp in &mut self.threads[t as usize].spin {
            if !sp.reads.contains(&loc) {
                sp.reads.push(loc);
            }
        }
    }

    pub fn note_write(&mut self, t: ThreadId, loc: Loc) {
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
            if let Some(Wait::Spin { reads }) = &th.wait
                && reads.contains(&loc)
            {
                th.spin_woken = true;
            }
        }
    }

    pub fn note_progress(&mut self, t: ThreadId) {
        for sp in &mut self.threads[t as usize].spin {
            sp.forced = true;
        }
    }

    pub fn write_cell(&mut self, t: ThreadId, cell: u32, v: Value) {
        if self.cells[cell as usize] != v {
            self.cells[cell as usize] = v;
            self.note_write(t, Loc::Cell(cell));
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

    /// Starts thread `x` (the caller checked it was not started).
    pub fn start(&mut self, t: ThreadId, x: ThreadId) {
        self.threads[x as usize].life = Life::Running;
        self.note_write(t, Loc::Thread(x));
    }

    /// Thread `t` ends (normally or by a failure).
    pub fn finish(&mut self, t: ThreadId) {
        let th = &mut self.threads[t as usize];
        th.life = Life::Finished;
        th.spin.clear();
        th.spin_pending = None;
        th.wait = None;
        self.note_write(t, Loc::Thread(t));
    }

    /// An object operation by `t` on `o`. `ev` evaluates an operand; `choose(n)` returns a
    /// random number below `n` (whether a timed wait gives up at once). `atomic`: inside
    /// `with atomic:`, where the operation may not block.
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        &mut self,
        prog: &Program,
        t: ThreadId,
        o: ObjId,
        op: &Op,
        ev: &dyn Fn(Operand) -> Res<Value>,
        choose: &mut dyn FnMut(u64) -> u64,
        atomic: bool,
    ) -> Res<Step> {
        let name = prog.objects[o as usize].name.clone();
        let kind = prog.objects[o as usize].kind;
        let flag = |x: Option<Operand>| -> Res<bool> {
            match x {
                None => Ok(true),
                Some(x) => Ok(truthy(ev(x)?)),
            }
        };
        let timed = |x: Option<Operand>| -> Res<bool> {
            match x {
                None => Ok(false),
                Some(x) => match ev(x)? {
                    Value::None => Ok(false),
                    v => Ok(as_int(v, "timeout")? >= 0),
                },
            }
        };
        let would_block = |what: &str| -> String {
            format!("{what}() on {name} would block inside `with atomic:`")
        };
        let block_here = |w: Wait| -> Res<Step> {
            if atomic {
                Err(format!("{}() would block inside `with atomic:`", op.name()))
            } else {
                Ok(Step::Wait(w))
            }
        };
        match (kind, op) {
            (
                ObjKind::Lock | ObjKind::RLock | ObjKind::Condition { .. },
                Op::Acquire { blocking, timeout },
            ) => {
                let lock = lock_of(prog, o);
                let blocking = flag(*blocking)?;
                let timed = timed(*timeout)?;
                if !blocking
                    && timeout.is_some()
                    && !matches!(timeout.map(ev), Some(Ok(Value::None)))
                {
                    return Err(
                        "ValueError: can't specify a timeout for a non-blocking call".into(),
                    );
                }
                if self.lock_free_for(lock, t) {
                    let count = match &self.objects[lock as usize] {
                        ObjState::RLock {
                            owner: Some(x),
                            count,
                        } if *x == t => count + 1,
                        _ => 1,
                    };
                    self.take_lock(t, lock, count);
                    Ok(Step::Done(Value::Bool(true)))
                } else if !blocking || timed {
                    self.note_read(t, Loc::Obj(lock));
                    Ok(Step::Done(Value::Bool(false)))
                } else if atomic {
                    Err(would_block(op.name()))
                } else {
                    Ok(Step::Wait(Wait::Lock { lock }))
                }
            }
            (ObjKind::Lock | ObjKind::RLock | ObjKind::Condition { .. }, Op::Release { .. }) => {
                let lock = lock_of(prog, o);
                let lname = prog.objects[lock as usize].name.clone();
                match &mut self.objects[lock as usize] {
                    ObjState::Lock { holder } => {
                        if holder.is_none() {
                            return Err(format!("RuntimeError: release unlocked lock {lname}"));
                        }
                        *holder = None;
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
                        }
                    }
                    _ => {}
                }
                self.note_write(t, Loc::Obj(lock));
                Ok(Step::Done(Value::None))
            }
            (ObjKind::Lock, Op::Locked) => {
                self.note_read(t, Loc::Obj(o));
                let held = matches!(self.objects[o as usize], ObjState::Lock { holder: Some(_) });
                Ok(Step::Done(Value::Bool(held)))
            }
            (ObjKind::Semaphore { .. }, Op::Acquire { blocking, timeout }) => {
                let blocking = flag(*blocking)?;
                let timed = timed(*timeout)?;
                let ObjState::Semaphore { value } = &mut self.objects[o as usize] else {
                    return Err("internal: not a semaphore".into());
                };
                if *value > 0 {
                    *value -= 1;
                    self.note_write(t, Loc::Obj(o));
                    Ok(Step::Done(Value::Bool(true)))
                } else if !blocking || timed {
                    self.note_read(t, Loc::Obj(o));
                    Ok(Step::Done(Value::Bool(false)))
                } else if atomic {
                    Err(would_block(op.name()))
                } else {
                    Ok(Step::Wait(Wait::Sem { sem: o }))
                }
            }
            (ObjKind::Semaphore { initial, bounded }, Op::Release { n }) => {
                let n = match n {
                    None => 1,
                    Some(n) => as_int(ev(*n)?, "n")?,
                };
                if n < 1 {
                    return Err("ValueError: n must be one or more".into());
                }
                let ObjState::Semaphore { value } = &mut self.objects[o as usize] else {
                    return Err("internal: not a semaphore".into());
                };
                if bounded && value.saturating_add(n) > initial {
                    return Err(format!(
                        "ValueError: Semaphore released too many times ({name})"
                    ));
                }
                *value = value
                    .checked_add(n)
                    .ok_or("OverflowError: semaphore value overflows")?;
                self.note_write(t, Loc::Obj(o));
                Ok(Step::Done(Value::None))
            }
            (ObjKind::Condition { lock }, Op::Wait { timeout }) => {
                let timed = timed(*timeout)?;
                if !self.owns(prog, o, t) {
                    return Err(format!(
                        "RuntimeError: cannot wait on un-acquired lock ({name})"
                    ));
                }
                if atomic {
                    return Err(format!("{}() would block inside `with atomic:`", op.name()));
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
                self.note_write(t, Loc::Obj(lock));
                if let ObjState::Condition { waiters, next, .. } = &mut self.objects[o as usize] {
                    waiters.push((t, *next));
                    *next += 1;
                }
                self.note_write(t, Loc::Obj(o));
                // A timed wait may give up at once (the explorer tries both).
                if timed && choose(2) == 1 {
                    self.threads[t as usize].timed_out = true;
                }
                Ok(Step::Wait(Wait::CondWait {
                    cv: o,
                    saved,
                    timed,
                }))
            }
            (ObjKind::Condition { .. }, Op::Notify { .. } | Op::NotifyAll) => {
                if !self.owns(prog, o, t) {
                    return Err(format!(
                        "RuntimeError: cannot notify on un-acquired lock ({name})"
                    ));
                }
                let n = match op {
                    Op::Notify { n: None } => 1,
                    Op::Notify { n: Some(n) } => as_int(ev(*n)?, "n")?.max(0) as u64,
                    _ => u64::MAX,
                };
                if let ObjState::Condition {
                    waiters,
                    wakeups,
                    next,
                } = &mut self.objects[o as usize]
                {
                    let pending: u64 = wakeups.iter().map(|w| w.1 as u64).sum();
                    let free = (waiters.len() as u64).saturating_sub(pending);
                    let k = n.min(free);
                    if k > 0 {
                        wakeups.push((*next, k as u32));
                    }
                }
                self.note_write(t, Loc::Obj(o));
                Ok(Step::Done(Value::None))
            }
            (ObjKind::Event, Op::Set) => {
                self.objects[o as usize] = ObjState::Event { flag: true };
                for th in self.threads.iter_mut() {
                    if let Some(Wait::EventWait { ev, .. }) = &th.wait
                        && *ev == o
                    {
                        th.woken = true;
                    }
                }
                self.note_write(t, Loc::Obj(o));
                Ok(Step::Done(Value::None))
            }
            (ObjKind::Event, Op::Clear) => {
                self.objects[o as usize] = ObjState::Event { flag: false };
                self.note_write(t, Loc::Obj(o));
                Ok(Step::Done(Value::None))
            }
            (ObjKind::Event, Op::IsSet) => {
                let flag = matches!(self.objects[o as usize], ObjState::Event { flag: true });
                self.note_read(t, Loc::Obj(o));
                Ok(Step::Done(Value::Bool(flag)))
            }
            (ObjKind::Event, Op::Wait { timeout }) => {
                let timed = timed(*timeout)?;
                let flag = matches!(self.objects[o as usize], ObjState::Event { flag: true });
                if flag {
                    self.note_read(t, Loc::Obj(o));
                    Ok(Step::Done(Value::Bool(true)))
                } else {
                    if !atomic && timed && choose(2) == 1 {
                        self.threads[t as usize].timed_out = true;
                    }
                    self.threads[t as usize].woken = false;
                    block_here(Wait::EventWait { ev: o, timed })
                }
            }
            (ObjKind::Barrier { parties }, Op::Wait { .. }) => {
                let ObjState::Barrier {
                    arrived,
                    generation,
                } = &mut self.objects[o as usize]
                else {
                    return Err("internal: not a barrier".into());
                };
                let index = *arrived;
                let g = *generation;
                if index + 1 >= parties {
                    *arrived = 0;
                    *generation += 1;
                    self.note_write(t, Loc::Obj(o));
                    Ok(Step::Done(Value::Int(index as i64)))
                } else {
                    if atomic {
                        return Err(format!("{}() would block inside `with atomic:`", op.name()));
                    }
                    *arrived += 1;
                    self.note_write(t, Loc::Obj(o));
                    Ok(Step::Wait(Wait::Barrier {
                        bar: o,
                        generation: g,
                        index,
                    }))
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
                let v = ev(*value)?;
                let blocking = flag(*block)?;
                let timed = timed(*timeout)?;
                let ret = if blocking && !timed {
                    Value::None
                } else {
                    Value::Bool(true)
                };
                let ObjState::Queue { items, unfinished } = &mut self.objects[o as usize] else {
                    return Err("internal: not a queue".into());
                };
                if maxsize == 0 || items.len() < maxsize as usize {
                    items.push_back(v);
                    *unfinished += 1;
                    self.note_write(t, Loc::Obj(o));
                    Ok(Step::Done(ret))
                } else if !blocking || timed {
                    self.note_read(t, Loc::Obj(o));
                    Ok(Step::Done(Value::Bool(false)))
                } else if atomic {
                    Err(would_block(op.name()))
                } else {
                    Ok(Step::Wait(Wait::Put {
                        q: o,
                        value: v,
                        ret,
                    }))
                }
            }
            (ObjKind::Queue { .. }, Op::Get { block, timeout }) => {
                let blocking = flag(*block)?;
                let timed = timed(*timeout)?;
                let ObjState::Queue { items, .. } = &mut self.objects[o as usize] else {
                    return Err("internal: not a queue".into());
                };
                match items.pop_front() {
                    Some(v) => {
                        self.note_write(t, Loc::Obj(o));
                        Ok(Step::Done(v))
                    }
                    None if !blocking || timed => {
                        self.note_read(t, Loc::Obj(o));
                        Ok(Step::Done(Value::None))
                    }
                    None if atomic => Err(would_block(op.name())),
                    None => Ok(Step::Wait(Wait::Get { q: o })),
                }
            }
            (ObjKind::Queue { .. }, Op::TaskDone) => {
                let ObjState::Queue { unfinished, .. } = &mut self.objects[o as usize] else {
                    return Err("internal: not a queue".into());
                };
                if *unfinished == 0 {
                    return Err(format!(
                        "ValueError: task_done() called too many times ({name})"
                    ));
                }
                *unfinished -= 1;
                self.note_write(t, Loc::Obj(o));
                Ok(Step::Done(Value::None))
            }
            (ObjKind::Queue { .. }, Op::QJoin) => {
                let ObjState::Queue { unfinished, .. } = &self.objects[o as usize] else {
                    return Err("internal: not a queue".into());
                };
                if *unfinished == 0 {
                    self.note_read(t, Loc::Obj(o));
                    Ok(Step::Done(Value::None))
                } else if atomic {
                    Err(would_block(op.name()))
                } else {
                    Ok(Step::Wait(Wait::QJoin { q: o }))
                }
            }
            (ObjKind::Queue { maxsize }, Op::QSize | Op::Empty | Op::Full) => {
                let ObjState::Queue { items, .. } = &self.objects[o as usize] else {
                    return Err("internal: not a queue".into());
                };
                let n = items.len();
                self.note_read(t, Loc::Obj(o));
                let v = match op {
                    Op::QSize => Value::Int(n as i64),
                    Op::Empty => Value::Bool(n == 0),
                    _ => Value::Bool(maxsize > 0 && n >= maxsize as usize),
                };
                Ok(Step::Done(v))
            }
            _ => Err(format!(
                "TypeError: {} has no operation {}",
                kind_label(kind),
                op.name()
            )),
        }
    }
}
