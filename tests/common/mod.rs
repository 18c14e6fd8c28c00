//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test crate uses some of them

use simrace::search::Exploration;

/// Every scenario file of the library, in order (as `simrace check scenarios` finds them).
pub fn library_files() -> Vec<String> {
    let dir = format!("{}/scenarios", env!("CARGO_MANIFEST_DIR"));
    simrace::check::collect(&[dir])
        .into_iter()
        .map(|i| match i {
            simrace::check::Input::File(f) => f,
            simrace::check::Input::Bad(d) => panic!("{}", d.render()),
        })
        .collect()
}

/// Executions, and every finding and outcome with its count: equal for two searches
/// that each explore one execution per class.
pub fn exact(e: &Exploration) -> (u64, Vec<String>, Vec<String>) {
    let findings = e
        .findings
        .iter()
        .map(|f| format!("{}|{}|{}", f.kind, f.key, f.count))
        .collect();
    let outcomes = e
        .outcomes
        .iter()
        .map(|o| format!("{:?}={}", o.values, o.count))
        .collect();
    (e.stats.executions, findings, outcomes)
}
