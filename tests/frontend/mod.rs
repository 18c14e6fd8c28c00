//! The frontend: parsing and lowering scenario files, and the JSON Schema of the format.

// Bad input (tests/bad/) is rejected with a message naming file, line and column.
mod errors;
// The JSON Schema against the parser.
mod schema;
