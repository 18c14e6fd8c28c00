//! simrace's integration tests: one test binary, with a module per concern (as ripgrep and
//! shuttle do), because every test binary links loom and shuttle and takes long to build.
//! Run one concern with a filter, e.g. `cargo test --test integration differential::`.
//!
//! Fixtures: `tests/bad/` (inputs the frontend must reject; their paths are part of the
//! pinned messages in `snapshots/errors/`, so they stay there), `tests/fixtures/detect/`
//! (small programs for the detectors) and `tests/fixtures/engines/` (cases for the
//! engines). Snapshots live in `snapshots/`.

/// The allocator `simrace` itself runs with (src/main.rs), so that the tests explore as
/// the command does (with the system allocator, malloc and free were a sixth of the
/// generated tests' profile; the suite ran about 5% faster with this).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Helpers used by more than one module: finding files, loading and exploring scenarios,
// running the `simrace` binary. A helper one module needs stays in that module.
mod common;

// Tests that need a real browser: the HTML report loaded in headless Chromium (needs
// /usr/bin/chromium).
mod browser;
// The CPython engine and `simrace export --python`: the translated program on a real
// python3 conforms to the explorer on the library (skipped, and said, without python3).
mod cpython;
// The detectors (src/detect) on small programs in tests/fixtures/detect/: data races (a
// racy and an ordered fixture per happens-before edge), deadlock explanations and the
// lock-order graph's warnings.
mod detectors;
// The explorer against slow but simple references (the naive enumeration, sleep sets
// alone, state caching), on generated scenarios (proptest strategies; a failure is shrunk
// to a minimal scenario) and on the library.
mod differential;
// The engines other than the explorer (native, loom, shuttle): they agree with it on the
// library and on tests/fixtures/engines/; their own output.
mod engines;
// The explorer (src/search, src/machine) on pinned cases: execution counts of classic and
// published benchmarks, bounded and random search, compare-and-swap, the split search,
// edge cases of the machine.
mod explorer;
// The frontend (src/frontend): bad input is rejected with a clear message, and the JSON
// Schema agrees with the parser.
mod frontend;
// Bugs users hit, each with the scenario that showed it (tests/fixtures/regressions/):
// every engine gives the expected verdict, never a panic.
mod regressions;
// Never a panic, never a silent hang: generated scenarios over the whole language through
// every stage, and the explorer's budgets on cyclic programs.
mod robustness;
// Partitioned runs: shares of `check` and `run` as separate processes, merged, give
// byte for byte what one run gives; merge refuses shares that do not make one run.
mod scale;
// What the user sees (src/report and the commands): the text report of every library
// scenario (snapshots), the HTML report, `simrace explain`, `simrace step` and
// `simrace check`.
mod reports;
// `simrace time` (src/time): the shape of the timing scenarios' speedups (the GIL, cores,
// process start), timeouts and deadlocks on the clock, and one pinned JSON report.
mod timing;
