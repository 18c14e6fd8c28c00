//! simrace: a concurrency scenario simulator and race detector.
pub mod ast;
pub mod code;
pub mod detect;
pub mod diag;
pub mod explore;
pub mod ir;
pub mod lockorder;
pub mod lower;
pub mod machine;
pub mod report;
pub mod scenario;
pub mod shorten;
pub mod waitfor;
