//! simrace: a concurrency scenario simulator and race detector.
pub mod ast;
pub mod code;
pub mod diag;
pub mod scenario;
pub mod ir;
pub mod lower;
pub mod machine;
pub mod detect;
pub mod explore;
pub mod report;
