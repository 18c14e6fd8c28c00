//! simrace's integration tests: one test binary, with a module per concern (as ripgrep and
//! shuttle do), because every test binary links loom and shuttle and takes long to build.
//! Run one concern with a filter, e.g. `cargo test --test integration differential::`.
//!
//! Fixtures: `tests/bad/` (inputs the frontend must reject; their paths are part of the
//! pinned messages in `snapshots/errors/`, so they stay there), `tests/fixtures/detect/`
//! (small programs for the detectors) and `tests/fixtures/engines/` (cases for the
//! engines). Snapshots live in `snapshots/`.

// Helpers every module may use: loading and exploring scenarios, finding files, running
// the `simrace` binary.
mod common;

// The browser: the HTML report loaded in headless Chromium (needs /usr/bin/chromium).
mod browser;
// The detectors: data races (one fixture per happens-before edge) and deadlocks (the
// wait-for graph, the lock-order graph's warnings).
mod detectors;
// The explorer checked against references on scenarios it did not see before: generated
// scenarios (proptest strategies, failures shrunk to a minimal scenario) and the library,
// against the naive enumeration, sleep sets alone and state caching.
mod differential;
// The engines: loom, shuttle and native agree with the explorer on the library and
// `tests/fixtures/engines/`.
mod engines;
// The explorer on pinned cases: execution counts (classic and published benchmarks),
// bounded and random search, compare-and-swap, the split search, machine edge cases.
mod explorer;
// The frontend: bad input is rejected with a clear message, and the JSON Schema agrees
// with the parser.
mod frontend;
// What the user sees: the text reports of the library (snapshots), the HTML report,
// `simrace explain`, `simrace step` and `simrace check`.
mod reports;
