//! simrace: a concurrency scenario simulator and race detector.
pub mod check;
pub mod cli;
pub mod detect;
pub mod engines;
pub mod frontend;
pub mod ir;
pub mod machine;
pub mod report;
pub mod search;
