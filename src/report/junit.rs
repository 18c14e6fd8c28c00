//! `simrace check`'s results as JUnit XML, for CI: one `<testsuite>` for the whole
//! check, one `<testcase>` per scenario (class name from its folder, name from its file),
//! a `<failure>` with the first unexpected finding's trace for a mismatch, an `<error>`
//! with the diagnostic for an invalid input.

use super::{plural, write_trace};
use crate::check::{CheckResult, Outcome, Status, Summary};
use crate::frontend::diag::Diagnostic;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use std::fmt::Write as _;
use std::path::Path;

/// `scenarios/locks` for `scenarios/locks/counter.toml` as a JUnit class name:
/// `scenarios.locks` (`simrace` for a file in the current folder).
fn classname(file: &str) -> String {
    let parts: Vec<String> = Path::new(file)
        .parent()
        .map(|p| {
            p.components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if parts.is_empty() {
        "simrace".to_string()
    } else {
        parts.join(".")
    }
}

/// The file's stem: the JUnit test case name.
fn case_name(file: &str) -> String {
    Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| file.to_string())
}

/// Characters XML 1.0 cannot carry at all (most control characters) become U+FFFD;
/// escaping of the rest is quick-xml's.
fn xml_chars(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Element text, made of characters XML can carry and escaped by quick-xml (`<`, `>` and `&`: quotes need no escaping in
/// text, and reports quote a lot).
fn xml_text(s: &str) -> BytesText<'static> {
    BytesText::from_escaped(quick_xml::escape::partial_escape(xml_chars(s)).into_owned())
}

/// One line for an attribute value (parsers turn newlines in attributes into spaces).
fn attr(s: &str) -> String {
    xml_chars(&s.replace(['\n', '\r'], " "))
}

/// The `message` of a mismatch: expected and got, and the first unexpected finding with
/// its schedule.
fn failure_message(r: &CheckResult) -> String {
    let mut m = r.expected_got().unwrap_or_default();
    if let Some(f) = r.first_unexpected() {
        let _ = write!(m, "; {}: {} (schedule {})", f.kind, f.message, f.schedule);
    } else {
        let missing = r.missing();
        if !missing.is_empty() {
            let _ = write!(m, "; not found: {}", missing.join(", "));
        }
    }
    m
}

/// The body of a mismatch: the first unexpected finding with its replay command and
/// trace, or the expected kinds that were not found.
fn failure_body(r: &CheckResult) -> String {
    let Some(rep) = r.report() else {
        return String::new();
    };
    let mut out = String::new();
    let _ = writeln!(out, "{}", r.expected_got().unwrap_or_default());
    if let Some(f) = r.first_unexpected() {
        let _ = writeln!(out, "{}: {}", f.kind, f.message);
        let _ = writeln!(
            out,
            "  reached in {} of {}",
            plural(f.count, "execution"),
            rep.stats.executions
        );
        let _ = writeln!(
            out,
            "  replay: {}",
            super::replay_command(&rep.file, &f.schedule, rep.max_steps)
        );
        write_trace(&mut out, &f.trace, &f.output, "  ");
    }
    let missing = r.missing();
    if !missing.is_empty() {
        let how = if rep.stats.complete {
            "every execution was explored"
        } else {
            "the exploration was INCOMPLETE"
        };
        let _ = writeln!(
            out,
            "not found: {} (in {}; {how})",
            missing.join(", "),
            plural(rep.stats.executions, "execution")
        );
    }
    out
}

/// Writes the results as JUnit XML: one `<testsuite>` for the whole check, one
/// `<testcase>` per result (class name from its folder, name from its file), with a
/// `<failure>` for a mismatch and an `<error>` for an invalid input. `timing`: give
/// each test case and the suite a `time` (the reports' elapsed times).
pub fn write_junit<W: std::io::Write>(
    results: &[CheckResult],
    timing: bool,
    out: W,
) -> std::io::Result<()> {
    let summary = Summary::of(results);
    let seconds = |ms: f64| format!("{:.3}", ms / 1000.0);
    let total_ms: f64 = results
        .iter()
        .filter_map(CheckResult::report)
        .map(|r| r.stats.elapsed_ms)
        .sum();
    let (tests, failures, errors) = (
        summary.scenarios.to_string(),
        summary.mismatched.to_string(),
        summary.invalid.to_string(),
    );
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut suites = w
        .create_element("testsuites")
        .with_attribute(("name", "simrace check"))
        .with_attribute(("tests", tests.as_str()))
        .with_attribute(("failures", failures.as_str()))
        .with_attribute(("errors", errors.as_str()));
    if timing {
        suites = suites.with_attribute(("time", seconds(total_ms).as_str()));
    }
    suites.write_inner_content(|w| {
        let mut suite = w
            .create_element("testsuite")
            .with_attribute(("name", "simrace check"))
            .with_attribute(("tests", tests.as_str()))
            .with_attribute(("failures", failures.as_str()))
            .with_attribute(("errors", errors.as_str()))
            .with_attribute(("skipped", "0"));
        if timing {
            suite = suite.with_attribute(("time", seconds(total_ms).as_str()));
        }
        suite.write_inner_content(|w| {
            for r in results {
                write_case(
                    w,
                    r,
                    timing.then(|| seconds(r.report().map_or(0.0, |x| x.stats.elapsed_ms))),
                )?;
            }
            Ok(())
        })?;
        Ok(())
    })?;
    let mut out = w.into_inner();
    out.write_all(b"\n")?;
    out.flush()
}

/// One `<testcase>`, with its `time` when given.
fn write_case<W: std::io::Write>(
    w: &mut Writer<W>,
    r: &CheckResult,
    time: Option<String>,
) -> std::io::Result<()> {
    let (classname, name, file) = (
        attr(&classname(&r.file)),
        attr(&case_name(&r.file)),
        attr(&r.file),
    );
    let mut case = w
        .create_element("testcase")
        .with_attribute(("classname", classname.as_str()))
        .with_attribute(("name", name.as_str()))
        .with_attribute(("file", file.as_str()));
    if let Some(t) = &time {
        case = case.with_attribute(("time", t.as_str()));
    }
    let incomplete = incomplete_note(r);
    match (&r.outcome, r.status()) {
        (Outcome::Invalid(d), _) => {
            case.write_inner_content(|w| write_error(w, d))?;
        }
        (Outcome::Ran(_), Status::Fail) => {
            case.write_inner_content(|w| write_failure(w, r, incomplete.as_deref()))?;
        }
        (Outcome::Ran(_), _) => match &incomplete {
            Some(text) => {
                case.write_inner_content(|w| write_system_out(w, text))?;
            }
            None => {
                case.write_empty()?;
            }
        },
    }
    Ok(())
}

/// `INCOMPLETE: the limit (N executions)` when a limit stopped the exploration.
fn incomplete_note(r: &CheckResult) -> Option<String> {
    r.report().filter(|x| !x.stats.complete).map(|x| {
        format!(
            "INCOMPLETE: {} ({})",
            x.stats.limit.as_deref().unwrap_or("a limit was hit"),
            plural(x.stats.executions, "execution")
        )
    })
}

/// The `<error>` of an invalid input: its diagnostic.
fn write_error<W: std::io::Write>(w: &mut Writer<W>, d: &Diagnostic) -> std::io::Result<()> {
    let message = attr(&format!(
        "{}:{}:{}: {}",
        d.path, d.line, d.column, d.message
    ));
    w.create_element("error")
        .with_attribute(("message", message.as_str()))
        .with_attribute(("type", "invalid"))
        .write_text_content(xml_text(&d.render()))?;
    Ok(())
}

/// The `<failure>` of a mismatch, then the note of an incomplete exploration.
fn write_failure<W: std::io::Write>(
    w: &mut Writer<W>,
    r: &CheckResult,
    incomplete: Option<&str>,
) -> std::io::Result<()> {
    let message = attr(&failure_message(r));
    w.create_element("failure")
        .with_attribute(("message", message.as_str()))
        .with_attribute(("type", "mismatch"))
        .write_text_content(xml_text(&failure_body(r)))?;
    if let Some(text) = incomplete {
        write_system_out(w, text)?;
    }
    Ok(())
}

fn write_system_out<W: std::io::Write>(w: &mut Writer<W>, text: &str) -> std::io::Result<()> {
    w.create_element("system-out")
        .write_text_content(xml_text(text))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_and_case_names_come_from_the_path() {
        assert_eq!(classname("scenarios/locks/counter.toml"), "scenarios.locks");
        assert_eq!(classname("./scenarios/counter.toml"), "scenarios");
        assert_eq!(classname("counter.toml"), "simrace");
        assert_eq!(classname("/tmp/x/a.toml"), "tmp.x");
        assert_eq!(case_name("scenarios/locks/counter.toml"), "counter");
    }

    #[test]
    fn xml_chars_replaces_what_xml_cannot_carry() {
        assert_eq!(xml_chars("a\u{1b}b\tc\n"), "a\u{FFFD}b\tc\n");
        assert_eq!(attr("a\nb"), "a b");
    }
}
