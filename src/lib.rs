//! simrace: a concurrency scenario simulator and race detector.
pub mod ast;
pub mod code;
pub mod detect;
pub mod diag;
pub mod explore;
pub mod ir;
pub mod lower;
pub mod machine;
pub mod report;
pub mod scenario;
pub mod interp;
pub mod native;
pub mod primitives;
pub mod runtime;
pub mod child;
pub mod engine_loom;
pub mod engine_shuttle;
