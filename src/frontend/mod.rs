//! The front end: a scenario file in, a lowered [`crate::ir::Program`] or a diagnostic out.
pub mod ast;
pub mod code;
pub mod diag;
pub mod lower;
pub mod scenario;
pub mod schema;
