//! The explorer on pinned cases: what it explores (counts, outcomes, findings) and how
//! (bounded, random, split over workers).

// `cas(target, expected, new)`: its semantics, footprint and happens-before.
mod cas;
// Execution counts and outcome sets of classic benchmarks, written inline.
mod counts;
// Edge cases of the machine's arithmetic.
mod machine_edges;
// The search's memory: the peak reported, the limit that stops it.
mod memory;
// The split search (`--jobs N`) against the single search.
mod parallel;
// `print`: a step, ordered with other prints; its output part of the outcome.
mod printing;
// The Pool's operations and their errors, on inline scenarios.
mod pool;
// The published optimal counts of the benchmarks in benches/scenarios/.
mod published;
// The preemption bound, seeded random walks and PCT.
mod search;
