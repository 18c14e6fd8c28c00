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

/// The snippet's header names the same line and column as the headline, counted in
/// characters, even after non-ASCII text on the line (the header counted bytes).
#[test]
fn the_snippet_header_agrees_with_the_headline() {
    insta::glob!("../bad", "*.toml", |path| {
        let rel = relative(path);
        let text = std::fs::read_to_string(path).unwrap();
        let err = simrace::parse(&rel, &text).err().unwrap();
        let at = format!("[{rel}:{}:{}]", err.line, err.column);
        let rendered = err.render();
        assert!(
            rendered.contains(&at) || !rendered.contains('╭'),
            "{rendered}"
        );
    });
}

/// A file that is not UTF-8 is refused at the line and column of its first bad byte
/// (it said 1:1 whatever the place).
#[test]
fn a_file_that_is_not_utf8_is_refused_where_it_stops_being_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.toml");
    std::fs::write(&path, b"[scenario]\nname = \"caf\xe9\"\n").unwrap();
    let err = simrace::load(&path.to_string_lossy()).err().unwrap();
    assert_eq!((err.line, err.column), (2, 12), "{}", err.render());
    assert!(err.render().contains("not valid UTF-8 (at byte 22)"));
}
