//! The detectors: data races, the wait-for graph of a deadlock, the lock-order graph.
pub mod lockorder;
pub mod lost_writes;
pub mod races;
pub mod waitfor;
