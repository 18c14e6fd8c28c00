//! Snapshot tests over every scenario under scenarios/ (all topic folders): the text
//! report of each is pinned under snapshots/, its verdict must match its `expect`, every
//! finding must replay to the same finding, and the same input must give byte-identical
//! output.

use crate::common::{load, relative, run_report};
use simrace::FindingKind;
use simrace::report;
use simrace::{Config, explore, parse_schedule, replay};

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
            let text = simrace::format_schedule(&f.schedule);
            let schedule = parse_schedule(&text).unwrap();
            assert_eq!(schedule, f.schedule, "{rel}: schedule round trip");
            let r = replay(&prog, &schedule).unwrap_or_else(|e| panic!("{rel}: {e}"));
            match f.kind {
                FindingKind::Assertion | FindingKind::Error => {
                    // The last step (or the final check) fails with this message.
                    let last = r.steps.len().checked_sub(1);
                    let failed_here = r.failure.as_ref().is_some_and(|(at, fl)| {
                        fl.kind == f.kind && (*at == last || f.message.contains(&fl.message))
                    });
                    let final_fails = r.state.all_finished()
                        && r.state
                            .check_final(&prog)
                            .is_some_and(|fl| f.message.contains(&fl.message));
                    assert!(
                        failed_here || final_fails,
                        "{rel}: {} does not replay: {:?}",
                        f.message,
                        r.failure
                    );
                }
                FindingKind::Deadlock | FindingKind::Livelock => {
                    if f.key == "max_steps" {
                        assert_eq!(
                            r.steps.len() as u64,
                            Config::default()
                                .max_steps
                                .min(prog.max_steps.unwrap_or(u64::MAX))
                        );
                    } else {
                        assert!(
                            r.state.enabled(&prog).is_empty() && !r.state.all_finished(),
                            "{rel}: {} does not replay",
                            f.message
                        );
                    }
                }
                FindingKind::DataRace => {
                    let race = f.race.as_ref().unwrap();
                    let races = simrace::races_in(&prog, &r.steps);
                    assert!(
                        races.iter().any(|x| x == race),
                        "{rel}: the race {} does not replay",
                        f.message
                    );
                    assert_eq!(
                        race.second.step + 1,
                        r.steps.len(),
                        "{rel}: the trace ends at the second access"
                    );
                }
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
