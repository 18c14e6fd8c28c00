//! The front end: a scenario file in, a lowered [`crate::ir::Program`] or a diagnostic out.
//!
//! The pipeline, one module per stage:
//! - [`scenario`] reads the TOML tables into an [`ast::Scenario`]; for each code string it
//!   makes a [`source::CodeSource`], which maps the decoded string back to the file;
//! - [`lexer`] cuts the code into tokens, with Python's indentation rules;
//! - [`parser`] builds the statements and expressions of the syntax tree ([`ast`]);
//! - [`lower`] resolves names, checks each operation against its object, and compiles
//!   the tree to the IR.
//!
//! [`names`] holds the reserved words that the parser and the tables share; [`pipe_ends`]
//! which Pipe ends each party uses, for the lowering and the CPython translation. Every error
//! on the way is a [`diag::Diagnostic`] with a place in the file and a help line: the
//! front end never panics on any input.
pub mod ast;
pub mod diag;
pub mod lexer;
pub mod lower;
pub mod names;
pub mod parser;
pub mod pipe_ends;
pub mod scenario;
pub mod schema;
pub mod source;
