//! Deadlock explanations (the wait-for graph, its JSON and DOT) and the lock-order
//! graph's `potential_deadlock` warnings, on the fixtures in tests/fixtures/detect/.

use crate::common::{detect_fixture, load, root, run_report, simrace, toml_files};
use serde_json::{Value, json};
use simrace::Program;
use simrace::report;
use simrace::{Config, Reduction, explore};

fn path(name: &str) -> String {
    detect_fixture(name).to_string_lossy().into_owned()
}

fn fixture(name: &str) -> Program {
    load(detect_fixture(name))
}

fn json_of(name: &str) -> Value {
    serde_json::to_value(run_report(&fixture(name))).unwrap()
}

fn text_of(name: &str) -> String {
    report::render_text(&run_report(&fixture(name)))
}

fn deadlock(name: &str) -> Value {
    let j = json_of(name);
    let f: Vec<&Value> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "deadlock")
        .collect();
    assert_eq!(f.len(), 1, "{name}: {j:#}");
    f[0]["deadlock"].clone()
}

#[test]
fn abba_deadlock_names_waits_holders_and_the_cycle() {
    assert_eq!(
        deadlock("deadlock_abba"),
        json!({
            "threads": [
                {"thread": "t1", "line": 10, "waits_for": "lock b", "held_by": ["t2"],
                 "holds": ["a"], "why": "waits to acquire b, held by t2"},
                {"thread": "t2", "line": 17, "waits_for": "lock a", "held_by": ["t1"],
                 "holds": ["b"], "why": "waits to acquire a, held by t1"},
            ],
            "cycle": ["t1", "t2"],
        })
    );
    let text = text_of("deadlock_abba");
    assert!(
        text.contains("  t1 (line 10) waits for lock b, held by t2; holds a\n"),
        "{text}"
    );
    assert!(text.contains("  cycle: t1 -> t2 -> t1\n"), "{text}");
}

#[test]
fn a_lost_notify_has_no_cycle() {
    let d = deadlock("deadlock_lost_notify");
    assert_eq!(d["cycle"], json!([]));
    assert_eq!(d["threads"].as_array().unwrap().len(), 1);
    let t = &d["threads"][0];
    assert_eq!(t["thread"], "waiter");
    assert_eq!(t["waits_for"], "notify on cv");
    assert_eq!(t["held_by"], json!([]));
    assert_eq!(t["holds"], json!([]));
    assert!(text_of("deadlock_lost_notify").contains("no cycle"));
}

#[test]
fn a_join_under_a_lock_is_a_cycle_through_the_joined_thread() {
    let d = deadlock("deadlock_join_cycle");
    assert_eq!(d["cycle"], json!(["main", "worker"]));
    assert_eq!(d["threads"][0]["waits_for"], "thread worker");
    assert_eq!(d["threads"][0]["held_by"], json!(["worker"]));
    assert_eq!(d["threads"][1]["waits_for"], "lock m");
}

#[test]
fn a_lock_taken_twice_by_its_holder_is_a_cycle_of_one() {
    let d = deadlock("deadlock_self");
    assert_eq!(d["cycle"], json!(["t"]));
    assert_eq!(d["threads"][0]["held_by"], json!(["t"]));
}

#[test]
fn dot_writes_the_wait_for_graphs() {
    let dir = std::env::temp_dir().join(format!("simrace-dot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let one = dir.join("one.dot");
    let out = simrace(&[
        "run",
        &path("deadlock_abba"),
        "--no-timing",
        "--dot",
        one.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let dot = std::fs::read_to_string(&one).unwrap();
    assert!(dot.starts_with("digraph waitfor {\n"), "{dot}");
    assert!(!dot.contains("subgraph"), "{dot}");
    assert!(
        dot.contains("\"thread t1\" -> \"lock b\" [label=\"waits for\", color=red"),
        "{dot}"
    );
    assert!(
        dot.contains("\"lock b\" -> \"thread t2\" [label=\"held by\", color=red"),
        "{dot}"
    );
    assert!(dot.ends_with("}\n"));

    let many = dir.join("many.dot");
    let args = [
        "run",
        &path("deadlock_abba"),
        &path("deadlock_lost_notify"),
        &path("lock_ordered"),
        "--dot",
        many.to_str().unwrap(),
    ];
    assert_eq!(simrace(&args).status.code(), Some(0));
    let a = std::fs::read_to_string(&many).unwrap();
    assert_eq!(simrace(&args).status.code(), Some(0));
    let b = std::fs::read_to_string(&many).unwrap();
    assert_eq!(a, b, "deterministic");
    assert!(
        a.contains("subgraph cluster_0 {") && a.contains("subgraph cluster_1 {"),
        "{a}"
    );
    assert!(!a.contains("cluster_2"), "{a}");
    assert!(
        a.contains("\"1: thread waiter\" -> \"1: notify on cv\" [label=\"waits for\"];"),
        "{a}"
    );

    let none = dir.join("none.dot");
    simrace(&[
        "run",
        &path("lock_ordered"),
        "--dot",
        none.to_str().unwrap(),
    ]);
    assert!(
        std::fs::read_to_string(&none)
            .unwrap()
            .contains("no deadlock")
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn warnings(name: &str) -> Vec<Value> {
    json_of(name)["warnings"].as_array().unwrap().clone()
}

#[test]
fn a_gate_lock_hides_the_deadlock_but_not_the_inversion() {
    let j = json_of("lockorder_gate");
    assert_eq!(j["kinds"], json!([]));
    let w = warnings("lockorder_gate");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0]["kind"], "potential_deadlock");
    assert_eq!(
        w[0]["cycle"],
        json!([
            {"held": "a", "acquired": "b", "thread": "t1", "held_line": 12, "acquired_line": 13},
            {"held": "b", "acquired": "a", "thread": "t2", "held_line": 20, "acquired_line": 21},
        ])
    );
    let m = w[0]["message"].as_str().unwrap();
    assert!(
        m.contains("a -> b -> a") && m.contains("t2 takes a (line 21)"),
        "{m}"
    );
    assert!(text_of("lockorder_gate").contains("warning: potential_deadlock: "));
}

#[test]
fn lock_order_cycles_need_two_threads_and_blocking_locks() {
    assert_eq!(warnings("lockorder_one_thread"), Vec::<Value>::new());
    assert_eq!(warnings("lockorder_consistent"), Vec::<Value>::new());
    assert_eq!(warnings("lock_ordered"), Vec::<Value>::new());
    assert_eq!(
        warnings("lockorder_philosophers_fixed"),
        Vec::<Value>::new()
    );
}

#[test]
fn a_conditions_lock_is_a_lock_in_the_order() {
    let w = warnings("lockorder_condition");
    assert_eq!(w.len(), 1);
    let held: Vec<&str> = w[0]["cycle"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["held"].as_str().unwrap())
        .collect();
    assert_eq!(held, ["m", "n"]);
}

#[test]
fn philosophers_give_one_cycle_through_every_fork() {
    let w = warnings("lockorder_philosophers");
    assert_eq!(w.len(), 1);
    let edges: Vec<(String, String, String)> = w[0]["cycle"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["thread"].as_str().unwrap().to_string(),
                e["held"].as_str().unwrap().to_string(),
                e["acquired"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        edges,
        [
            ("phil[0]".into(), "fork[0]".into(), "fork[1]".into()),
            ("phil[1]".into(), "fork[1]".into(), "fork[2]".into()),
            ("phil[2]".into(), "fork[2]".into(), "fork[0]".into()),
        ]
    );
}

#[test]
fn the_reductions_see_the_same_lock_order_as_naive_enumeration() {
    let names: Vec<String> = toml_files(&root().join("tests/fixtures/detect"))
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for name in names.iter().map(String::as_str) {
        let prog = fixture(name);
        let naive = Config {
            reduction: Reduction::None,
            ..Config::default()
        };
        let states = Config {
            reduction: Reduction::States,
            ..Config::default()
        };
        let naive = explore(&prog, &naive).lock_order.edges;
        assert_eq!(
            explore(&prog, &Config::default()).lock_order.edges,
            naive,
            "{name}"
        );
        assert_eq!(explore(&prog, &states).lock_order.edges, naive, "{name}");
    }
}
