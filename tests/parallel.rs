//! The split search (`--jobs N`): its result does not depend on N, and it finds the same
//! executions (one per class), findings and outcomes as the single search.

use simrace::explore::{Config, Exploration, explore};
use simrace::ir::Program;

fn scenario_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            scenario_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

fn report(prog: &Program, e: &Exploration) -> String {
    let r = simrace::report::build(prog, e, "explore", false);
    serde_json::to_string_pretty(&r).unwrap()
}

fn summary(e: &Exploration) -> (u64, Vec<String>, Vec<String>) {
    let findings = e
        .findings
        .iter()
        .map(|f| format!("{}|{}|{}", f.kind, f.key, f.count))
        .collect();
    let outcomes = e
        .outcomes
        .iter()
        .map(|o| format!("{:?}={}", o.values, o.count))
        .collect();
    (e.stats.executions, findings, outcomes)
}

#[test]
fn the_split_search_does_not_depend_on_the_workers_and_agrees_with_the_single_search() {
    let mut files = vec![];
    scenario_files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
        &mut files,
    );
    assert!(files.len() >= 30);
    for f in &files {
        let s = simrace::scenario::load(f.to_str().unwrap()).unwrap();
        let prog = simrace::lower::lower(&s).unwrap();
        let single = explore(&prog, &Config::default());
        let jobs = |n| Config {
            jobs: Some(n),
            ..Config::default()
        };
        let one = explore(&prog, &jobs(1));
        let two = explore(&prog, &jobs(2));
        let name = f.display();
        assert!(two.stats.complete, "{name}");
        assert_eq!(
            report(&prog, &one),
            report(&prog, &two),
            "{name}: 1 vs 2 workers"
        );
        // One execution per class either way: the same counts, findings and outcomes.
        assert_eq!(summary(&single), summary(&two), "{name}: single vs split");
    }
}
