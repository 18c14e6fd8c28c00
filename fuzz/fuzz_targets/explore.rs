//! The explorer and replay on valid generated scenarios: scenarios over the whole
//! language (tests/differential/language.rs, shared with the property tests), built from
//! arbitrary bytes. Within small limits, exploring never panics, every finding replays
//! to itself (`simrace::replays_to_itself`, the property the tests check too), and the
//! report serializes. The check is tests/differential/fuzz_checks.rs's, which the test
//! suite also runs over the committed corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/differential/language.rs"]
#[allow(dead_code)]
mod language;

#[path = "../../tests/differential/fuzz_checks.rs"]
#[allow(dead_code)]
mod fuzz_checks;

fuzz_target!(|input: fuzz_checks::Input| fuzz_checks::check_input(&input));
