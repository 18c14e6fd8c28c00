//! Bad input: every file in tests/bad/ must be rejected with a message naming file, line
//! and column (pinned as a snapshot), and never a panic.

use crate::common::relative;

#[test]
fn bad_scenarios_are_rejected_with_a_clear_message() {
    insta::glob!("../bad", "*.toml", |path| {
        let rel = relative(path);
        let text = std::fs::read_to_string(path).unwrap();
        let err = simrace::parse(&rel, &text)
            .map(|_| ())
            .err()
            .unwrap_or_else(|| panic!("{rel} was accepted"));
        let first = err.render().lines().next().unwrap().to_string();
        assert!(first.starts_with(&format!("{rel}:")), "{first}");
        insta::with_settings!({
            snapshot_path => "../../snapshots/errors",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(err.render());
        });
    });
}
