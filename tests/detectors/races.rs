//! The race detector against small fixtures in tests/fixtures/detect/: for every happens-before
//! edge of SCENARIO.md a racy variant (`expect = ["data_race"]`) and an ordered one (no
//! race), the `[atomics]` and `[ghost]` negatives, array elements named with their
//! index, one finding per pair of program locations, and traces that end at the second
//! access.

use crate::common::{detect_fixture, explore_and_report, load, root, simrace, toml_files};
use simrace::FindingKind;
use simrace::Program;
use simrace::report;
use simrace::{Config, Reduction, explore, replay};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn fixtures() -> Vec<PathBuf> {
    let v = toml_files(&root().join("tests/fixtures/detect"));
    assert!(v.len() >= 30, "fixtures missing");
    v
}

fn fixture(name: &str) -> Program {
    load(detect_fixture(name))
}

fn races(rep: &report::RunReport) -> Vec<&report::FindingReport> {
    rep.findings
        .iter()
        .filter(|f| f.kind == "data_race")
        .collect()
}

#[test]
fn every_fixture_has_exactly_its_expected_verdict() {
    let mut wrong = vec![];
    for p in fixtures() {
        let prog = load(&p);
        let (_, rep) = explore_and_report(&prog);
        assert!(rep.stats.complete);
        if !rep.matches_expectation {
            let msgs: Vec<&str> = rep.findings.iter().map(|f| f.message.as_str()).collect();
            wrong.push(format!(
                "{}: found {:?}, expected {:?}\n    {}",
                p.display(),
                rep.kinds,
                rep.expected,
                msgs.join("\n    ")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_edge_has_a_racy_and_an_ordered_fixture() {
    let names: BTreeSet<String> = fixtures()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for edge in [
        "start",
        "join",
        "lock",
        "rlock",
        "notify",
        "semaphore",
        "event",
        "barrier",
        "queue",
        "task_done",
        "atomics_flag",
        "atomic_block",
    ] {
        assert!(
            names
                .iter()
                .any(|n| n.starts_with(edge) && n.ends_with("_racy")),
            "no racy fixture for {edge}"
        );
        assert!(
            names
                .iter()
                .any(|n| n.starts_with(edge) && n.ends_with("_ordered")),
            "no ordered fixture for {edge}"
        );
    }
}

/// The reduction must not change which races are found (nor how they are grouped).
#[test]
fn reduction_finds_the_same_races_as_naive_enumeration() {
    for p in fixtures() {
        let prog = load(&p);
        let keys = |r: Reduction| -> BTreeSet<String> {
            let cfg = Config {
                reduction: r,
                ..Config::default()
            };
            explore(&prog, &cfg)
                .findings
                .iter()
                .filter(|f| f.kind == FindingKind::DataRace)
                .map(|f| f.key.clone())
                .collect()
        };
        assert_eq!(
            keys(Reduction::Dpor),
            keys(Reduction::None),
            "{}",
            p.display()
        );
    }
}

#[test]
fn race_traces_end_at_the_second_access_and_replay_the_race() {
    for p in fixtures() {
        let prog = load(&p);
        let (ex, rep) = explore_and_report(&prog);
        for (f, fr) in ex.findings.iter().zip(&rep.findings) {
            if f.kind != FindingKind::DataRace {
                continue;
            }
            let race = f.race.as_ref().unwrap();
            let r = replay(&prog, &f.schedule).unwrap();
            assert_eq!(race.second.step + 1, r.steps.len(), "{}", p.display());
            let last = r.steps.last().unwrap();
            let last_op = &last.op;
            assert_eq!(last.thread, race.second.thread);
            // (A `with atomic:` step has the block's line; the access, its own.)
            assert!(last_op.contains(&prog.cell_name(race.cell)), "{last_op}");
            let races = simrace::races_in(&prog, &r.steps);
            assert!(races.contains(race), "{}: {}", p.display(), f.message);
            // The report's trace is the replayed one.
            let rr = fr.race.as_ref().unwrap();
            assert_eq!(rr.second.step, fr.trace.len());
            assert!(fr.trace.last().unwrap().op.contains(&rr.variable));
            assert!(fr.trace[rr.first.step - 1].op.contains(&rr.variable));
            assert_eq!(fr.trace[rr.first.step - 1].thread, rr.first.thread);
        }
    }
}

#[test]
fn races_name_array_elements_with_their_index() {
    let (_, rep) = explore_and_report(&fixture("array_index"));
    let rs = races(&rep);
    assert_eq!(rs.len(), 1, "{:#?}", rs);
    let f = rs[0];
    let race = f.race.as_ref().unwrap();
    assert_eq!(race.variable, "a[2]");
    assert!(f.message.contains("a[2]"), "{}", f.message);
    let mut sides = [&race.first, &race.second];
    sides.sort_by_key(|a| a.line);
    assert_eq!(
        sides.map(|a| (a.thread.as_str(), a.access)),
        [("w[2]", "write"), ("spy", "read")]
    );
    let json = serde_json::to_value(&rep).unwrap();
    let jr = &json["findings"][0]["race"];
    assert_eq!(jr["variable"], "a[2]");
    assert_eq!(jr["index"], 2);
    assert!(json["findings"][0]["race"].get("index").is_some());
    assert!(jr["first"]["line"].is_u64() && jr["second"]["thread"].is_string());
}

#[test]
fn one_finding_per_pair_of_program_locations() {
    let (_, rep) = explore_and_report(&fixture("dedupe"));
    let rs = races(&rep);
    // Locations: the read (line 10) and the write (line 11) of the one code; pairs with
    // a write: read/write and write/write.
    let mut pairs: Vec<(u32, &str, u32, &str)> = rs
        .iter()
        .map(|f| {
            let r = f.race.as_ref().unwrap();
            let (a, b) = (&r.first, &r.second);
            let (a, b) = if (a.line, a.access) <= (b.line, b.access) {
                (a, b)
            } else {
                (b, a)
            };
            (a.line, a.access, b.line, b.access)
        })
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        vec![(10, "read", 11, "write"), (11, "write", 11, "write")]
    );
    for f in &rs {
        assert!(f.count > 1, "{}: count {}", f.message, f.count);
        assert!(f.count <= rep.stats.executions);
    }
}

#[test]
fn shortest_trace_is_shown() {
    // The two writes race in every execution; the shortest that the search runs is five
    // steps (w[0] reads, writes and ends, w[1] reads and writes: each execution goes on
    // with the thread that moved last).
    let (ex, rep) = explore_and_report(&fixture("dedupe"));
    let ww = ex
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::DataRace && f.key.contains("11write:11write"))
        .unwrap();
    assert_eq!(
        ww.schedule.len(),
        5,
        "{}",
        simrace::format_schedule(&ww.schedule)
    );
    // The report keeps only the steps the second access depends on: here the two
    // accesses alone, though every explored execution runs other threads first.
    let (_, rep2) = explore_and_report(&fixture("array_index"));
    let f = races(&rep2)[0];
    assert_eq!(f.schedule, "2,3");
    assert_eq!(f.trace.len(), 2);
    let r = f.race.as_ref().unwrap();
    assert_eq!((r.first.step, r.second.step), (1, 2));
    assert!(races(&rep).iter().all(|f| f.trace.len() <= 4));
}

#[test]
fn the_cli_reports_races_in_json_and_their_schedules_replay() {
    let file = detect_fixture("array_index").to_string_lossy().into_owned();
    let out = simrace(&["run", &file, "--format", "json", "--no-timing"]);
    assert_eq!(out.status.code(), Some(0), "matches its expect");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kinds"], serde_json::json!(["data_race"]));
    let f = &v["findings"][0];
    assert_eq!(f["race"]["variable"], "a[2]");
    let schedule = f["schedule"].as_str().unwrap();
    let out = simrace(&["replay", &file, "--schedule", schedule, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "the schedule reaches the race");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["finding"]["kind"], "data_race");
    assert_eq!(r["finding"]["message"], f["message"]);
    let trace = r["trace"].as_array().unwrap();
    assert_eq!(trace.len(), f["trace"].as_array().unwrap().len());
    assert_eq!(trace.last().unwrap()["op"], "read a[2] = 3");
}

#[test]
fn failure_traces_keep_only_what_the_failure_depends_on() {
    let prog = fixture("short_assertion_trace");
    let (ex, rep) = explore_and_report(&prog);
    let raw = ex
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::Assertion)
        .unwrap();
    let f = rep.findings.iter().find(|f| f.kind == "assertion").unwrap();
    assert!(raw.schedule.len() > 2);
    assert_eq!(f.schedule, "1,2");
    let ops: Vec<&str> = f.trace.iter().map(|t| t.op.as_str()).collect();
    assert_eq!(ops, ["write x = 1", "read x = 1"]);
    // It replays to the same failure at its last step.
    let r = replay(&prog, &simrace::parse_schedule(&f.schedule).unwrap()).unwrap();
    let (at, fl) = r.failure.unwrap();
    assert_eq!(at, Some(1));
    assert!(f.message.contains(&fl.message));
}
