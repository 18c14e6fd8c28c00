//! Edge cases of the machine's arithmetic that must give Python's error, not a panic.

use crate::common::program;
use simrace::FindingKind;
use simrace::{Config, explore};

#[test]
fn releasing_a_bounded_semaphore_by_a_huge_n_is_a_value_error() {
    let text = "[objects]\ns = { kind = \"BoundedSemaphore\", value = 1 }\n[[thread]]\nname = \"t\"\ncode = \"s.release(9223372036854775807)\"\n";
    let e = explore(&program("sem.toml", text), &Config::default());
    assert_eq!(e.findings.len(), 1);
    assert_eq!(e.findings[0].kind, FindingKind::Error);
    assert!(e.findings[0].message.contains("released too many times"));
}
