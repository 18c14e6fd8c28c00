//! simrace: a concurrency scenario simulator and race detector.
pub mod ast;
pub mod check;
pub mod code;
pub mod detect;
pub mod diag;
pub mod explain;
pub mod explore;
pub mod html;
pub mod ir;
pub mod lower;
pub mod machine;
pub mod report;
pub mod scenario;
pub mod schema;
pub mod step;
pub mod waitfor;
pub mod wakeup;
