//! What a step tells the happens-before detectors: [`Event`]s in the order they
//! happened within the step, over synchronization channels ([`Chan`]). Every edge of
//! SCENARIO.md's happens-before list is one pair of events here; the race detector
//! ([`crate::detect::races`]) turns them into vector clocks.

use crate::ir::{ObjId, ThreadId, Value};

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
    /// One `notify` of a Condition under the race wake policy: the notifier releases into
    /// it, the waiter that takes the wake-up acquires it.
    Wakeup(ObjId, u32),
    /// A Pool task's submission → its start in a worker.
    TaskStart(ObjId, u32),
    /// A Pool task's end → the `get`, `wait`, `map` or `apply` that returns its value.
    TaskEnd(ObjId, u32),
}
