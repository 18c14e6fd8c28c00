//! The semantics core: the one place that knows what a step does.
//!
//! A [`State`] holds every variable cell, every object's state and every thread's
//! program counter, locals and wait status; it is small, cheap to clone and hashable.
//! [`State::alternatives`] says in how many ways a thread can move (0: it must wait; more
//! than one for a `choose`, or for which waiters a `notify` wakes), [`State::step`]
//! moves one thread by one step and reports what happened ([`StepOut`]): the happens-
//! before [`Event`]s the race detector needs, an optional trace line for people, and a
//! [`Failure`] when an assertion failed or Python would have raised.
//! [`State::footprint`] gives the explorer's dependency relation, [`State::blocked`]
//! what a stuck thread waits for, and [`State::ending`] how an execution ends.
//!
//! Every engine drives this same state: the explorer passes the choice it is exploring,
//! the native, loom and shuttle engines take steps of it under their runtime's mutex and
//! choose with their runtime's random source ([`crate::engines`]). Where they need a
//! different rule (which waiters a `notify` wakes), both rules live side by side in the
//! object's file, selected by the state's [`Policy`].
//!
//! Between steps a thread runs its local code eagerly, so a thread that can move always
//! sits at its next visible instruction.
//!
//! The files: `state` (the state and its parts), `step` (what a step does), `eval`
//! (operands, indices, local code, checks), `value` (Python's arithmetic), `exception`
//! (typed Python exceptions), `threads` (start, join, is_alive, end), `objects/` (one file
//! per kind of object), `spin` (the spin-loop rule), `footprint` (the dependency
//! relation), `future` (what a party may still touch), `events` (happens-before events),
//! `waiting` (who can move, and why not), `ending` (how an execution ends), `clock` (what
//! a step costs in time, for `simrace time`).

mod clock;
mod ending;
mod eval;
mod events;
mod exception;
mod footprint;
mod future;
mod lists;
mod objects;
mod spin;
mod state;
mod step;
mod threads;
mod value;
mod waiting;

pub use clock::Cost;
pub use ending::Ending;
pub use events::{Chan, Event};
pub use footprint::{Footprint, Touch, dependent, place};
pub use future::Future;
pub use objects::{ObjState, WaitTarget, lost_exceptions};
pub use spin::Spin;
pub use state::{Choice, Failure, Policy, State, Status, ThreadState, WakePolicy};
