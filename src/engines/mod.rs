//! The engines that run a scenario on threads: native, loom and shuttle.
pub mod child;
pub mod interp;
pub mod loom;
pub mod native;
pub mod primitives;
pub mod runtime;
pub mod shuttle;
