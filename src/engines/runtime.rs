//! The small runtime trait that the Python-style primitives ([`crate::engines::primitives`]) and
//! the IR interpreter ([`crate::engines::interp`]) are written against, with three instances:
//! [`Std`] (real OS threads), [`Loom`] (a `loom::model`) and [`Shuttle`] (a shuttle
//! test). One scenario therefore means the same on every engine: only the runtime that
//! schedules the threads differs.
//!
//! The trait is deliberately small: a mutex, a condition variable, spawn and join, a
//! yield, and a source of random numbers for `choose` and for timeouts. Its
//! preconditions:
//! - [`Runtime::lock`] is never called on a mutex the calling thread already holds;
//! - [`Runtime::wait`] may wake spuriously: callers re-check their condition in a loop;
//! - [`Runtime::random`] must be deterministic in `state` for [`Std`] and [`Loom`]
//!   (loom replays an execution by running it again and needs the same choices), and
//!   [`Shuttle`] uses shuttle's own recorded randomness so that a failing schedule
//!   replays with the same choices.
//!
//! Shared cells are not atomics here: a scenario value is `None`, a bool or any 64-bit
//! integer (2^64 + 3 values), which does not fit in one `AtomicU64`. Cells live inside the
//! primitives' monitor instead (see [`crate::engines::primitives`]); every read and every write is
//! one critical section, so a read-modify-write is still two steps and a lost update is
//! still possible, and Rust sees no data race.

use std::ops::DerefMut;

/// A runtime that threads, mutexes and condition variables come from.
pub trait Runtime: Send + Sync + Sized + 'static {
    /// The engine name shown in reports.
    const NAME: &'static str;
    type Mutex<T: Send + 'static>: Send + Sync;
    type Guard<'a, T: Send + 'static>: DerefMut<Target = T>;
    type Condvar: Send + Sync;
    type JoinHandle: Send;

    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T>;
    fn lock<T: Send + 'static>(m: &Self::Mutex<T>) -> Self::Guard<'_, T>;
    fn condvar() -> Self::Condvar;
    /// Releases the guard's mutex, waits for a notification, takes the mutex back.
    fn wait<'a, T: Send + 'static>(c: &Self::Condvar, g: Self::Guard<'a, T>) -> Self::Guard<'a, T>;
    fn notify_all(c: &Self::Condvar);
    fn spawn<F: FnOnce() + Send + 'static>(f: F) -> Self::JoinHandle;
    fn join(h: Self::JoinHandle);
    fn yield_now();
    /// A random number; `state` is the calling thread's generator state.
    fn random(state: &mut u64) -> u64 {
        splitmix(state)
    }
}

/// SplitMix64: a small, good, seedable generator.
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A number in `0..n` (`n > 0`).
pub fn below<R: Runtime>(state: &mut u64, n: u64) -> u64 {
    if n <= 1 { 0 } else { R::random(state) % n }
}

/// Real OS threads and `std::sync`.
pub struct Std;

impl Runtime for Std {
    const NAME: &'static str = "native";
    type Mutex<T: Send + 'static> = std::sync::Mutex<T>;
    type Guard<'a, T: Send + 'static> = std::sync::MutexGuard<'a, T>;
    type Condvar = std::sync::Condvar;
    type JoinHandle = std::thread::JoinHandle<()>;

    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T> {
        std::sync::Mutex::new(value)
    }
    fn lock<T: Send + 'static>(m: &Self::Mutex<T>) -> Self::Guard<'_, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn condvar() -> Self::Condvar {
        std::sync::Condvar::new()
    }
    fn wait<'a, T: Send + 'static>(c: &Self::Condvar, g: Self::Guard<'a, T>) -> Self::Guard<'a, T> {
        c.wait(g).unwrap_or_else(|e| e.into_inner())
    }
    fn notify_all(c: &Self::Condvar) {
        c.notify_all()
    }
    fn spawn<F: FnOnce() + Send + 'static>(f: F) -> Self::JoinHandle {
        std::thread::spawn(f)
    }
    fn join(h: Self::JoinHandle) {
        let _ = h.join();
    }
    fn yield_now() {
        std::thread::yield_now()
    }
}

/// loom's model-checked threads and `loom::sync` (only inside `loom::model`).
pub struct Loom;

impl Runtime for Loom {
    const NAME: &'static str = "loom";
    type Mutex<T: Send + 'static> = loom::sync::Mutex<T>;
    type Guard<'a, T: Send + 'static> = loom::sync::MutexGuard<'a, T>;
    type Condvar = loom::sync::Condvar;
    type JoinHandle = loom::thread::JoinHandle<()>;

    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T> {
        loom::sync::Mutex::new(value)
    }
    fn lock<T: Send + 'static>(m: &Self::Mutex<T>) -> Self::Guard<'_, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn condvar() -> Self::Condvar {
        loom::sync::Condvar::new()
    }
    fn wait<'a, T: Send + 'static>(c: &Self::Condvar, g: Self::Guard<'a, T>) -> Self::Guard<'a, T> {
        c.wait(g).unwrap_or_else(|e| e.into_inner())
    }
    fn notify_all(c: &Self::Condvar) {
        c.notify_all()
    }
    fn spawn<F: FnOnce() + Send + 'static>(f: F) -> Self::JoinHandle {
        loom::thread::spawn(f)
    }
    fn join(h: Self::JoinHandle) {
        let _ = h.join();
    }
    fn yield_now() {
        loom::thread::yield_now()
    }
}

/// shuttle's controlled threads and `shuttle::sync` (only inside a shuttle test).
pub struct Shuttle;

impl Runtime for Shuttle {
    const NAME: &'static str = "shuttle";
    type Mutex<T: Send + 'static> = shuttle::sync::Mutex<T>;
    type Guard<'a, T: Send + 'static> = shuttle::sync::MutexGuard<'a, T>;
    type Condvar = shuttle::sync::Condvar;
    type JoinHandle = shuttle::thread::JoinHandle<()>;

    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T> {
        shuttle::sync::Mutex::new(value)
    }
    fn lock<T: Send + 'static>(m: &Self::Mutex<T>) -> Self::Guard<'_, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn condvar() -> Self::Condvar {
        shuttle::sync::Condvar::new()
    }
    fn wait<'a, T: Send + 'static>(c: &Self::Condvar, g: Self::Guard<'a, T>) -> Self::Guard<'a, T> {
        c.wait(g).unwrap_or_else(|e| e.into_inner())
    }
    fn notify_all(c: &Self::Condvar) {
        c.notify_all()
    }
    fn spawn<F: FnOnce() + Send + 'static>(f: F) -> Self::JoinHandle {
        shuttle::thread::spawn(f)
    }
    fn join(h: Self::JoinHandle) {
        let _ = h.join();
    }
    fn yield_now() {
        shuttle::thread::yield_now()
    }
    /// shuttle's recorded randomness: part of the schedule, so a replay makes the same
    /// choices.
    fn random(_state: &mut u64) -> u64 {
        use shuttle::rand::RngCore;
        shuttle::rand::thread_rng().next_u64()
    }
}
