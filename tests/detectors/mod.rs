//! The detectors, on the small programs in tests/fixtures/detect/.

// Deadlock explanations and the lock-order graph's `potential_deadlock` warnings.
mod deadlocks;
// The race detector: a racy and an ordered fixture for every happens-before edge.
mod races;
// `process_write_lost` warnings: which reader never sees a process's write.
mod lost_writes;
