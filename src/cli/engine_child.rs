//! `simrace __engine-child` (hidden): the child side of `--engine loom` and `--engine
//! shuttle` (see [`crate::engines::child`]). It runs the engine in this process, which
//! loom may abort, and prints the tally as one JSON line for the parent.

use super::args::EngineChildArgs;
use super::{load_or_print, print_out};
use crate::engines::child::ModelSettings;
use crate::engines::{loom, shuttle};
use std::sync::Arc;

pub(super) fn engine_child(a: &EngineChildArgs) -> u8 {
    let prog = match load_or_print(&a.file) {
        Ok(p) => Arc::new(p),
        Err(code) => return code,
    };
    let Ok(s) = serde_json::from_str::<ModelSettings>(&a.settings) else {
        eprintln!("simrace: bad engine settings");
        return 2;
    };
    let line = match a.engine.as_str() {
        "loom" => loom::child(&prog, &s),
        "shuttle" => shuttle::child(&prog, &s),
        engine => {
            eprintln!("simrace: unknown engine {engine}");
            return 2;
        }
    };
    print_out(&format!("{line}\n"));
    0
}
