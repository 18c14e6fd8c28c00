//! `simrace check` end to end: the binary on a temporary folder with a scenario that
//! passes, one whose `expect` is wrong and one that is invalid; its lines, summary and
//! exit codes, the JUnit XML (parsed back with quick-xml) and the JSON.

use crate::common::{root, simrace_in, stderr, stdout};
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use std::collections::BTreeMap;

const COUNTER: &str = r#"[scenario]
description = "Two workers increment a shared counter without a lock."
expect = ["assertion", "data_race"]

[shared]
counter = 0

[[thread]]
name = "worker"
count = 2
code = """
tmp = counter
counter = tmp + 1
"""

[final]
assert = ["counter == 2"]
"#;

/// The same program, wrongly expected to pass.
fn mismatching() -> String {
    COUNTER.replace(
        r#"expect = ["assertion", "data_race"]"#,
        r#"expect = "pass""#,
    )
}

/// Expects a deadlock that cannot happen: nothing unexpected is found, one kind is missing.
const LOCKED: &str = r#"[scenario]
expect = ["deadlock"]

[shared]
x = 0

[objects]
m = "Lock"

[[thread]]
name = "w"
count = 2
code = """
with m:
    x += 1
"""
"#;

const INVALID: &str = "[objects]\nm = \"Lok\"\n\n[[thread]]\nname = \"t\"\ncode = \"pass\"\n";

/// A folder `scen` with `locks/counter.toml` (passes), `locks/wrong.toml` (mismatches)
/// and `bad.toml` (invalid), in a fresh temporary directory.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let scen = dir.path().join("scen");
    std::fs::create_dir_all(scen.join("locks")).unwrap();
    std::fs::write(scen.join("locks/counter.toml"), COUNTER).unwrap();
    std::fs::write(scen.join("locks/wrong.toml"), mismatching()).unwrap();
    std::fs::write(scen.join("bad.toml"), INVALID).unwrap();
    // Not scenarios: other extensions and hidden folders are skipped.
    std::fs::write(scen.join("notes.txt"), "not a scenario").unwrap();
    std::fs::create_dir_all(scen.join(".hidden")).unwrap();
    std::fs::write(scen.join(".hidden/x.toml"), INVALID).unwrap();
    dir
}

#[test]
fn lines_summary_and_exit_codes() {
    let dir = fixture();
    let o = simrace_in(dir.path(), &["check", "scen"]);
    assert_eq!(
        stdout(&o),
        "ERROR scen/bad.toml:2:5: unknown object kind \"Lok\"\n\
         PASS scen/locks/counter.toml  expected [assertion, data_race], got [assertion, data_race]  (4 executions)\n\
         FAIL scen/locks/wrong.toml  expected [], got [assertion, data_race]  (4 executions)\n\
         3 scenarios: 1 as expected, 1 mismatched, 1 invalid\n"
    );
    assert_eq!(o.status.code(), Some(2), "an invalid input: exit 2");
    // The invalid file's full diagnostic goes to stderr.
    let err = stderr(&o);
    assert!(
        err.starts_with("scen/bad.toml:2:5: error: unknown object kind \"Lok\"\n"),
        "{err}"
    );
    assert!(err.contains("did you mean \"Lock\"?"), "{err}");

    // Without the invalid file: a mismatch is exit 1.
    let o = simrace_in(dir.path(), &["check", "scen/locks"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).ends_with("2 scenarios: 1 as expected, 1 mismatched, 0 invalid\n"),
        "{}",
        stdout(&o)
    );

    // Files may be named one by one, in any order; the order given is kept, and a file
    // named twice is checked once.
    let o = simrace_in(
        dir.path(),
        &[
            "check",
            "scen/locks/counter.toml",
            "scen/locks/counter.toml",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "PASS scen/locks/counter.toml  expected [assertion, data_race], got [assertion, data_race]  (4 executions)\n\
         1 scenario: 1 as expected, 0 mismatched, 0 invalid\n"
    );
}

#[test]
fn output_does_not_depend_on_jobs() {
    let dir = fixture();
    let one = simrace_in(dir.path(), &["check", "scen", "--jobs", "1"]);
    let many = simrace_in(dir.path(), &["check", "scen", "--jobs", "8"]);
    assert_eq!(stdout(&one), stdout(&many));
    let one = simrace_in(
        dir.path(),
        &["check", "scen", "--jobs", "1", "--format", "json"],
    );
    let many = simrace_in(
        dir.path(),
        &["check", "scen", "--jobs", "3", "--format", "json"],
    );
    assert_eq!(stdout(&one), stdout(&many));
    // --jobs 0 is a wrong flag.
    let o = simrace_in(dir.path(), &["check", "scen", "--jobs", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn missing_paths_and_empty_folders_are_errors() {
    let dir = fixture();
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    let o = simrace_in(
        dir.path(),
        &["check", "nope.toml", "empty", "scen/locks/counter.toml"],
    );
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("ERROR nope.toml:1:1: cannot read the file"),
        "{out}"
    );
    assert_eq!(
        lines[1],
        "ERROR empty:1:1: no scenario files (*.toml) in this folder"
    );
    assert!(
        lines[2].starts_with("PASS scen/locks/counter.toml"),
        "{out}"
    );
    assert_eq!(
        lines[3],
        "3 scenarios: 1 as expected, 0 mismatched, 2 invalid"
    );
}

#[test]
fn limits_are_passed_on_and_an_incomplete_exploration_shows() {
    let dir = fixture();
    let o = simrace_in(
        dir.path(),
        &["check", "scen/locks/counter.toml", "--max-executions", "1"],
    );
    assert_eq!(
        stdout(&o),
        "FAIL scen/locks/counter.toml  expected [assertion, data_race], got [data_race]  \
         (1 execution, INCOMPLETE: stopped after --max-executions 1; to go further: \
         --reduction states (each distinct state once), or a bigger --max-executions)\n\
         1 scenario: 0 as expected, 1 mismatched, 0 invalid; 1 incomplete\n"
    );
    assert_eq!(o.status.code(), Some(1));
}

/// One element of the JUnit report: its name, attributes and text.
#[derive(Debug, Default, Clone)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
    children: Vec<Element>,
}

fn element(e: &BytesStart) -> Element {
    Element {
        name: e.name().as_ref().to_string(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    a.key.as_ref().to_string(),
                    a.normalized_value(XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect(),
        ..Element::default()
    }
}

/// Parses XML into a tree of elements (the root is a synthetic "document").
fn parse_xml(xml: &str) -> Element {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack = vec![Element {
        name: "document".into(),
        ..Element::default()
    }];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => {
                let el = element(&e);
                stack.last_mut().unwrap().children.push(el);
            }
            Event::End(_) => {
                let el = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(el);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let ch = quick_xml::escape::resolve_predefined_entity(&name)
                    .unwrap_or_else(|| panic!("unknown entity &{name};"));
                stack.last_mut().unwrap().text.push_str(ch);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    stack.pop().unwrap()
}

fn children<'e>(e: &'e Element, name: &str) -> Vec<&'e Element> {
    e.children.iter().filter(|c| c.name == name).collect()
}

#[test]
fn junit_has_one_case_per_scenario_with_failures_and_errors() {
    let dir = fixture();
    std::fs::write(dir.path().join("scen/locks/locked.toml"), LOCKED).unwrap();
    let o = simrace_in(dir.path(), &["check", "scen", "--junit", "out/report.xml"]);
    assert_eq!(o.status.code(), Some(2), "the folder out/ does not exist");
    assert!(stderr(&o).contains("cannot write the JUnit report out/report.xml"));

    let o = simrace_in(dir.path(), &["check", "scen", "--junit", "report.xml"]);
    assert_eq!(o.status.code(), Some(2));
    let xml = std::fs::read_to_string(dir.path().join("report.xml")).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    let doc = parse_xml(&xml);
    let suites = children(&doc, "testsuites");
    assert_eq!(suites.len(), 1);
    let suite = children(suites[0], "testsuite");
    assert_eq!(suite.len(), 1, "one testsuite per invocation");
    let suite = suite[0];
    assert_eq!(suite.attrs["tests"], "4");
    assert_eq!(suite.attrs["failures"], "2");
    assert_eq!(suite.attrs["errors"], "1");
    assert!(!suite.attrs.contains_key("time"), "no timings unless asked");

    let cases = children(suite, "testcase");
    let names: Vec<(&str, &str, &str)> = cases
        .iter()
        .map(|c| {
            (
                c.attrs["classname"].as_str(),
                c.attrs["name"].as_str(),
                c.attrs["file"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("scen", "bad", "scen/bad.toml"),
            ("scen.locks", "counter", "scen/locks/counter.toml"),
            ("scen.locks", "locked", "scen/locks/locked.toml"),
            ("scen.locks", "wrong", "scen/locks/wrong.toml"),
        ]
    );

    // The invalid file: an <error> naming file, line and column.
    let err = children(cases[0], "error");
    assert_eq!(err.len(), 1);
    assert_eq!(
        err[0].attrs["message"],
        "scen/bad.toml:2:5: unknown object kind \"Lok\""
    );
    assert!(
        err[0].text.contains("did you mean \"Lock\"?"),
        "{}",
        err[0].text
    );
    assert!(children(cases[0], "failure").is_empty());

    // The passing one has neither.
    assert!(cases[1].children.is_empty(), "{:?}", cases[1]);

    // A missing expected kind: the failure says what was not found.
    let fail = children(cases[2], "failure");
    assert_eq!(fail.len(), 1);
    assert_eq!(
        fail[0].attrs["message"],
        "expected [deadlock], got []; not found: deadlock"
    );
    assert!(
        fail[0]
            .text
            .contains("not found: deadlock (in 2 executions; every execution was explored)"),
        "{}",
        fail[0].text
    );

    // An unexpected finding: the failure gives expected/got, the first finding's message
    // and schedule, and the body its trace and replay command.
    let fail = children(cases[3], "failure");
    assert_eq!(fail.len(), 1);
    let message = &fail[0].attrs["message"];
    assert!(
        message.starts_with("expected [], got [assertion, data_race]; assertion: line "),
        "{message}"
    );
    assert!(
        message.contains("`counter == 2` does not hold (schedule "),
        "{message}"
    );
    let body = &fail[0].text;
    assert!(
        body.contains("replay: simrace replay scen/locks/wrong.toml --schedule "),
        "{body}"
    );
    assert!(body.contains("read counter = 0"), "{body}");
    assert!(
        message.contains(&format!(
            "(schedule {})",
            body.split("--schedule ")
                .nth(1)
                .unwrap()
                .lines()
                .next()
                .unwrap()
        )),
        "the message and the body name the same schedule"
    );
}

#[test]
fn junit_escapes_what_it_must() {
    let dir = tempfile::tempdir().unwrap();
    let scen = dir.path().join("a&b <c>");
    std::fs::create_dir_all(&scen).unwrap();
    std::fs::write(scen.join("q\"uote.toml"), mismatching()).unwrap();
    let o = simrace_in(dir.path(), &["check", "a&b <c>", "--junit", "r.xml"]);
    assert_eq!(o.status.code(), Some(1));
    let doc = parse_xml(&std::fs::read_to_string(dir.path().join("r.xml")).unwrap());
    let suite = children(children(&doc, "testsuites")[0], "testsuite")[0];
    let case = children(suite, "testcase")[0];
    assert_eq!(case.attrs["classname"], "a&b <c>");
    assert_eq!(case.attrs["name"], "q\"uote");
    assert!(
        children(case, "failure")[0]
            .text
            .contains("replay: simrace replay a&b <c>/q\"uote.toml"),
    );
}

#[test]
fn json_has_every_result_as_run_gives_it_and_a_summary() {
    let dir = fixture();
    let o = simrace_in(dir.path(), &["check", "scen", "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v["summary"],
        serde_json::json!({"scenarios": 3, "as_expected": 1, "mismatched": 1, "invalid": 1, "incomplete": 0})
    );
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for (r, file) in results.iter().zip([
        "scen/bad.toml",
        "scen/locks/counter.toml",
        "scen/locks/wrong.toml",
    ]) {
        assert_eq!(r["file"], file);
        // The same object `simrace run --engine explore --format json` gives for it.
        let run = simrace_in(
            dir.path(),
            &[
                "run",
                file,
                "--engine",
                "explore",
                "--format",
                "json",
                "--no-timing",
            ],
        );
        let run: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
        let run = match run {
            serde_json::Value::Array(mut a) if a.len() == 1 => a.pop().unwrap(),
            other => other,
        };
        assert_eq!(r, &run, "{file}");
    }
    assert_eq!(results[0]["error"]["line"], 2);
    assert_eq!(results[0]["error"]["column"], 5);
    assert_eq!(results[1]["matches_expectation"], true);
    assert_eq!(results[2]["matches_expectation"], false);
    assert_eq!(
        results[2]["stats"]["elapsed_ms"], 0.0,
        "no timings unless asked"
    );
}

#[test]
fn schema_prints_the_checked_in_schema() {
    let dir = tempfile::tempdir().unwrap();
    let o = simrace_in(dir.path(), &["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let file = root().join("schema/scenario.schema.json");
    assert_eq!(stdout(&o), std::fs::read_to_string(file).unwrap());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
}

#[test]
fn timing_is_shown_only_when_asked() {
    let dir = fixture();
    let o = simrace_in(
        dir.path(),
        &["check", "scen/locks", "--timing", "--junit", "r.xml"],
    );
    for line in stdout(&o).lines().filter(|l| !l.starts_with("2 scenarios")) {
        assert!(line.ends_with(" ms)"), "{line}");
    }
    let doc = parse_xml(&std::fs::read_to_string(dir.path().join("r.xml")).unwrap());
    let suite = children(children(&doc, "testsuites")[0], "testsuite")[0];
    assert!(suite.attrs.contains_key("time"));
    for case in children(suite, "testcase") {
        let t: f64 = case.attrs["time"].parse().unwrap();
        assert!(t >= 0.0);
    }
}

/// Limits that no scenario may set are wrong flags, refused as `[limits]` refuses them
/// (`--max-steps 0` was taken, and `--max-executions 0` ran nothing and failed), and an
/// explorer `--jobs` beyond 1024 is refused (20,000 threads aborted the process).
#[test]
fn zero_limits_and_absurd_jobs_are_wrong_flags() {
    for flag in ["--max-steps", "--max-executions", "--timeout"] {
        let o = crate::common::simrace(&["run", "scenarios/counter.toml", flag, "0"]);
        assert_eq!(o.status.code(), Some(2), "{flag}");
        assert!(
            crate::common::stderr(&o).contains("must be a positive integer"),
            "{flag}"
        );
    }
    let o = crate::common::simrace(&["run", "scenarios/counter.toml", "--jobs", "20000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(crate::common::stderr(&o).contains("1..=1024"));
}

/// A race for every pair of 30 `[[thread]]` tables writing one variable: 435 findings.
/// The report writes out 256 of a kind, the first by place, and counts the rest (JSON
/// `findings_not_shown`, a text note); the verdict is the same. (200 tables made a
/// report of 348 MB in 22 s.)
#[test]
fn a_report_writes_out_256_findings_of_a_kind_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("[scenario]\nexpect = [\"data_race\"]\n[shared]\nx = 0\n");
    for i in 0..30 {
        text.push_str(&format!("[[thread]]\nname = \"t{i}\"\ncode = \"x = 1\"\n"));
    }
    let file = dir.path().join("pairs.toml");
    std::fs::write(&file, text).unwrap();
    let file = file.to_string_lossy().into_owned();
    let run = ["run", &file, "--engine", "explore", "--max-executions", "1"];
    let o = crate::common::simrace(&[&run[..], &["--format", "json"]].concat());
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 256);
    assert_eq!(v["findings_not_shown"], 435 - 256);
    assert_eq!(v["kinds"], serde_json::json!(["data_race"]));
    let text = stdout(&crate::common::simrace(&run));
    assert!(
        text.contains("note: 179 more findings are not shown"),
        "{text}"
    );
}
