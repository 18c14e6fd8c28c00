//! The HTML report without a browser: its structure for a deadlock and a racy counter,
//! escaping, determinism, and a snapshot of one small page.

use crate::common::{count, load, program, run_report};
use simrace::report::html::{ScenarioPage, Section, render};

fn page(file: &str) -> (ScenarioPage, usize) {
    let prog = load(file);
    let rep = run_report(&prog);
    (ScenarioPage::from_report(&prog, &rep), prog.threads.len())
}

#[test]
fn deadlock_page_has_lanes_source_and_a_wait_for_graph() {
    let (p, threads) = page("scenarios/locks/abba_deadlock.toml");
    let html = render(&[Section::Scenario(p)]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(count(&html, "<th class=\"lane\""), threads);
    assert!(html.contains("data-kind=\"deadlock\""));
    assert!(html.contains("<code class=\"src\">with a:</code>"));
    assert_eq!(count(&html, "<svg class=\"waitfor\""), 1);
    // Both threads and both locks are nodes; the four edges of the cycle are red.
    assert_eq!(count(&html, "class=\"node thread in-cycle\""), 2);
    assert_eq!(count(&html, "class=\"node resource in-cycle\""), 2);
    assert_eq!(count(&html, "class=\"edge in-cycle\""), 4);
    assert!(html.contains("simrace replay scenarios/locks/abba_deadlock.toml --schedule 0,1"));
    // Self-contained: nothing is fetched.
    for bad in [
        "src=\"http",
        "href=\"http",
        "<script",
        "<link",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(bad), "{bad}");
    }
}

#[test]
fn counter_page_has_races_highlighted_and_the_outcome_table() {
    let (p, threads) = page("scenarios/counter.toml");
    let html = render(&[Section::Scenario(p)]);
    // One lane header per thread for each of the three findings.
    assert_eq!(count(&html, "<th class=\"lane\""), 3 * threads);
    assert_eq!(count(&html, "data-kind=\"data_race\""), 2);
    assert_eq!(count(&html, "data-kind=\"assertion\""), 1);
    // Each race has two highlighted accesses.
    assert_eq!(count(&html, "class=\"cell race-access\""), 4);
    assert_eq!(count(&html, "<tr class=\"outcome\">"), 2);
    assert!(html.contains("<code class=\"src\">counter = tmp + 1</code>"));
    assert!(!html.contains("<svg"));
}

#[test]
fn text_from_the_scenario_is_escaped() {
    let text = r#"
[scenario]
description = "a <b>bold</b> & \"quoted\" claim"
[shared]
x = 0
[[thread]]
name = "w"
count = 2
code = """
if x < 1:
    x = x + 1
"""
[final]
assert = ["x < 2"]
"#;
    let prog = program("esc.toml", text);
    let rep = run_report(&prog);
    let html = render(&[Section::Scenario(ScenarioPage::from_report(&prog, &rep))]);
    assert!(!html.contains("<b>bold"));
    assert!(html.contains("a &lt;b&gt;bold&lt;/b&gt; &amp; \"quoted\" claim"));
    assert!(html.contains("<code class=\"src\">if x &lt; 1:</code>"));
    assert!(html.contains("`x &lt; 2`"));
}

#[test]
fn a_report_without_a_program_still_renders() {
    let (p, _) = page("scenarios/locks/abba_deadlock.toml");
    let mut v = p.report.clone();
    v["findings"][0].as_object_mut().unwrap().remove("deadlock");
    let html = render(&[Section::Scenario(ScenarioPage::from_value(
        v,
        p.source.clone(),
    ))]);
    assert_eq!(count(&html, "<th class=\"lane\""), 2);
    assert!(!html.contains("<svg"));
    assert!(html.contains("<p class=\"why\">deadlock: t1 (line 14) waits to acquire b"));
}

#[test]
fn the_page_is_deterministic_and_pinned() {
    let (a, _) = page("scenarios/locks/abba_deadlock.toml");
    let (b, _) = page("scenarios/locks/abba_deadlock.toml");
    let html = render(&[Section::Scenario(a)]);
    assert_eq!(html, render(&[Section::Scenario(b)]));
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("html_abba_deadlock", html);
    });
}

/// What each outcome printed is a column of the outcome table, for a passing run too.
#[test]
fn the_outcome_table_shows_what_each_outcome_printed() {
    let (p, _) = page("scenarios/seeds/hello_thread.toml");
    let html = render(&[Section::Scenario(p)]);
    assert!(html.contains("<th>printed</th>"), "{html}");
    assert_eq!(count(&html, "<tr class=\"outcome\">"), 2);
    assert!(html.contains(
        "<pre class=\"output\">main: Main program continues to execute.\nt: Hello from thread!</pre>"
    ));
    assert!(html.contains(
        "<pre class=\"output\">t: Hello from thread!\nmain: Main program continues to execute.</pre>"
    ));
}
