//! The front end on arbitrary bytes: loading a scenario (TOML, the code language, the
//! lowering) and rendering its diagnostic never panic, whatever the input. A file that
//! loads is explored a little too (a few short executions), with its report: the
//! mutations of the library's scenarios reach the machine with programs no generator
//! writes. The check is tests/differential/fuzz_checks.rs's, which the test suite also
//! runs over the committed corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/differential/language.rs"]
#[allow(dead_code)]
mod language;

#[path = "../../tests/differential/fuzz_checks.rs"]
#[allow(dead_code)]
mod fuzz_checks;

fuzz_target!(|data: &[u8]| fuzz_checks::check_bytes(data));
