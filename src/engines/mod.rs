//! The engines that run a scenario on threads: native (real OS threads), loom and
//! shuttle; and cpython, which runs the scenario translated to Python on a real `python3`. Each drives the semantics core ([`crate::machine`]) through [`kernel`], over
//! the small [`runtime::Runtime`] trait that std, loom and shuttle each implement.
pub mod child;
pub mod cpython;
pub mod kernel;
pub mod loom;
pub mod native;
pub mod runtime;
pub mod shuttle;
pub mod tally;
