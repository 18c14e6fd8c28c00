//! simrace: a concurrency scenario simulator and race detector.
pub mod ast;
pub mod child;
pub mod code;
pub mod detect;
pub mod diag;
pub mod engine_loom;
pub mod engine_shuttle;
pub mod explore;
pub mod interp;
pub mod ir;
pub mod lower;
pub mod machine;
pub mod native;
pub mod primitives;
pub mod report;
pub mod runtime;
pub mod scenario;
