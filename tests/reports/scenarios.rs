//! Snapshot tests over every scenario under scenarios/ (all topic folders): the text
//! report of each is pinned under snapshots/, its verdict must match its `expect`, every
//! finding must replay to the same finding, and the same input must give byte-identical
//! output.

use crate::common::{load, relative, replays_to_itself, run_report};
use simrace::report;
use simrace::{Config, explore};

#[test]
fn scenario_reports() {
    insta::glob!("../../scenarios", "**/*.toml", |path| {
        let rel = relative(path);
        let prog = load(&rel);
        let rep = run_report(&prog);
        let text = report::render_text(&rep);
        insta::with_settings!({
            snapshot_path => "../../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(text);
        });
    });
}

#[test]
fn every_scenario_matches_its_expectation() {
    let mut wrong = vec![];
    insta::glob!("../../scenarios", "**/*.toml", |path| {
        let rel = relative(path);
        let rep = run_report(&load(&rel));
        assert!(rep.stats.complete, "{rel}: exploration incomplete");
        if !rep.matches_expectation {
            wrong.push(format!(
                "{rel}: found {:?}, expected {:?}",
                rep.kinds, rep.expected
            ));
        }
    });
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_finding_replays_to_itself() {
    insta::glob!("../../scenarios", "**/*.toml", |path| {
        let rel = relative(path);
        let prog = load(&rel);
        let ex = explore(&prog, &Config::default());
        for f in &ex.findings {
            if let Err(e) = replays_to_itself(&prog, f, Config::default().max_steps) {
                panic!("{rel}: {e}");
            }
        }
    });
}

#[test]
fn output_is_deterministic() {
    insta::glob!("../../scenarios", "**/*.toml", |path| {
        let rel = relative(path);
        let prog = load(&rel);
        let a = serde_json::to_string(&run_report(&prog)).unwrap();
        let b = serde_json::to_string(&run_report(&prog)).unwrap();
        assert_eq!(a, b, "{rel}: two runs differ");
        assert_eq!(
            report::render_text(&run_report(&prog)),
            report::render_text(&run_report(&prog))
        );
    });
}
