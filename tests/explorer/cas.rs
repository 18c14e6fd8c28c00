//! `cas(target, expected, new)`, simrace's compare-and-swap (an extension of SCENARIO.md,
//! see README.md): its result and effect, its footprint for the reduction (a read, plus a
//! write only when it succeeds), and its happens-before on `[atomics]` and `[shared]`.

use crate::common::{explore_text, kinds};
use simrace::{Config, Exploration, Reduction, explore, replay};
use simrace::{FindingKind, Program, Value};

fn program(text: &str) -> Program {
    crate::common::program("cas.toml", text)
}

fn run_with(text: &str, reduction: Reduction) -> Exploration {
    let cfg = Config {
        reduction,
        ..Config::default()
    };
    explore_text(text, &cfg)
}

fn run(text: &str) -> Exploration {
    run_with(text, Reduction::Dpor)
}

fn outcomes(e: &Exploration) -> Vec<Vec<Value>> {
    e.outcomes.iter().map(|o| o.values.clone()).collect()
}

#[test]
fn cas_writes_only_when_the_value_matches() {
    let text = r#"
[atomics]
x = 5
y = 0
[shared]
r1 = 0
r2 = 0
[[thread]]
name = "t"
code = """
r1 = cas(x, 0, 1)
r2 = cas(y, 0, 7)
"""
[final]
assert = ["x == 5", "y == 7", "r1 == False", "r2 == True"]
"#;
    let e = run(text);
    assert!(e.findings.is_empty(), "{:?}", e.findings);
    assert_eq!(e.stats.executions, 1);
}

#[test]
fn cas_compares_as_python_does() {
    // True == 1 and None == None, as Python's `==`.
    let text = r#"
[atomics]
flag = true
slot = [0, 0]
[[thread]]
name = "t"
code = """
assert cas(flag, 1, False)
assert not cas(flag, None, True)
assert cas(slot[-1], 0, None)
assert cas(slot[1], None, 3)
"""
[final]
assert = ["flag == False", "slot[1] == 3"]
"#;
    let e = run(text);
    assert!(e.findings.is_empty(), "{:?}", e.findings);
}

#[test]
fn exactly_one_of_two_racing_cas_wins() {
    let text = r#"
[atomics]
x = 0
wins = 0
[[thread]]
name = "t"
count = 2
code = """
if cas(x, 0, tid + 1):
    wins += 1
"""
[final]
assert = ["wins == 1"]
observe = ["x"]
"#;
    let e = run(text);
    assert!(e.findings.is_empty(), "{:?}", e.findings);
    assert_eq!(outcomes(&e), vec![vec![Value::Int(1)], vec![Value::Int(2)]]);
    // The two CAS conflict (the first writes): two classes.
    assert_eq!(e.stats.executions, 2);
    assert_eq!(run_with(text, Reduction::None).outcomes.len(), 2);
}

#[test]
fn cas_on_different_slots_is_independent() {
    let text = r#"
[atomics]
table = [0, 0, 0, 0]
[[thread]]
name = "t"
count = 4
code = "cas(table[tid], 0, tid + 1)"
[final]
assert = ["table[0] == 1", "table[3] == 4"]
"#;
    let e = run(text);
    assert!(e.findings.is_empty(), "{:?}", e.findings);
    assert_eq!(e.stats.executions, 1);
}

#[test]
fn failing_cas_is_a_read() {
    // Both fail whatever the order: two reads, one class.
    let text = r#"
[atomics]
x = 9
[[thread]]
name = "t"
count = 3
code = "ok = cas(x, 0, tid)"
"#;
    assert_eq!(run(text).stats.executions, 1);
    // A failing CAS still conflicts with a write of the same cell: 2 orders (the CAS
    // sees 9 or 0, and fails or succeeds).
    let text = r#"
[atomics]
x = 9
[[thread]]
name = "w"
code = "x = 0"
[[thread]]
name = "c"
code = "cas(x, 0, 1)"
[final]
observe = ["x"]
"#;
    let e = run(text);
    assert_eq!(e.stats.executions, 2);
    assert_eq!(outcomes(&e), vec![vec![Value::Int(0)], vec![Value::Int(1)]]);
}

const ATOMIC_LOCK: &str = "[atomics]\nlock = 0\n[shared]\ncounter = 0";

#[test]
fn a_cas_spin_lock_on_atomics_orders_the_critical_section() {
    let lock = |decl: &str| {
        format!(
            r#"
{decl}
[[thread]]
name = "t"
count = 2
code = """
while not cas(lock, 0, 1):
    pass
counter += 1
lock = 0
"""
[final]
assert = ["counter == 2"]
"#
        )
    };
    // On [atomics]: a successful CAS acquires the unlock it saw; no race, no lost update.
    let e = run(&lock(ATOMIC_LOCK));
    assert_eq!(kinds(&e), vec![], "{:?}", e.findings);
    // On [shared]: the CAS is an ordinary read and write, so nothing orders the two
    // critical sections for happens-before: data races (the lock still excludes).
    let e = run(&lock("[shared]\nlock = 0\ncounter = 0"));
    assert_eq!(kinds(&e), vec![FindingKind::DataRace], "{:?}", e.findings);
    let naive = run_with(&lock(ATOMIC_LOCK), Reduction::None);
    assert_eq!(kinds(&naive), vec![]);
}

#[test]
fn cas_in_an_atomic_block_and_its_trace() {
    let text = r#"
[atomics]
x = 0
[shared]
seen = 0
[[thread]]
name = "t"
code = """
with atomic:
    ok = cas(x, 0, 3)
    seen = x
won = cas(x, 3, 4)
lost = cas(x, 3, 5)
"""
[final]
assert = ["x == 4", "seen == 3"]
"#;
    let p = program(text);
    let e = explore(&p, &Config::default());
    assert!(e.findings.is_empty(), "{:?}", e.findings);
    let r = replay(&p, &e.outcomes[0].schedule).unwrap();
    let ops: Vec<&str> = r.steps.iter().map(|s| s.op.as_str()).collect();
    assert!(ops[0].contains("cas x = 0: True"), "{ops:?}");
    assert_eq!(ops[1], "cas x = 3 -> 4 (True)");
    assert_eq!(ops[2], "cas x = 4, unchanged (False)");
}

#[test]
fn cas_errors_are_raised_in_the_scenario() {
    let text = r#"
[atomics]
a = [0, 0]
[[thread]]
name = "t"
code = "cas(a[2], 0, 1)"
"#;
    let e = run(text);
    assert_eq!(kinds(&e), vec![FindingKind::Error]);
    assert!(e.findings[0].message.contains("IndexError"));
}

#[test]
fn cas_is_rejected_where_it_cannot_mean_anything() {
    let bad = |code: &str, decl: &str| {
        let text = format!("{decl}\n[[thread]]\nname = \"t\"\ncode = \"{code}\"\n");
        simrace::parse("cas.toml", &text).err().unwrap().render()
    };
    assert!(bad("cas(g, 0, 1)", "[ghost]\ng = 0").contains("[ghost]"));
    assert!(bad("cas(x, 0)", "[atomics]\nx = 0").contains("three arguments"));
    assert!(bad("cas(m, 0, 1)", "[objects]\nm = \"Lock\"").contains("not a variable"));
    assert!(bad("cas(a, 0, 1)", "[atomics]\na = [0, 0]").contains("is an array"));
    assert!(bad("cas(nope, 0, 1)", "[atomics]\nx = 0").contains("unknown name"));
    // A name that is not a function elsewhere stays free: `cas` may still name a variable.
    let text = "[shared]\ncas = 1\n[[thread]]\nname = \"t\"\ncode = \"cas = 2\"\n";
    assert!(simrace::parse("cas.toml", text).is_ok());
}

#[test]
fn reduction_agrees_with_naive_enumeration_on_cas_probing() {
    // A small indexer: 3 threads insert 2 values each into an 8-slot table by CAS
    // probing, with collisions (w = 3, 7 and 4, 8 hash alike); and a CAS spin lock around
    // a shared counter, on [atomics] (no race) and on [shared] (races).
    let indexer = r#"
[atomics]
table = [0, 0, 0, 0, 0, 0, 0, 0]
[[thread]]
name = "t"
count = 3
code = """
for m in range(1, 3):
    w = m * 3 + tid
    h = w % 4
    while not cas(table[h], 0, w):
        h = (h + 1) % 8
"""
"#;
    let spin = |decl: &str| {
        format!(
            r#"{decl}
[[thread]]
name = "t"
count = 2
code = """
while not cas(lock, 0, tid + 1):
    pass
counter += 1
assert cas(lock, tid + 1, 0)
"""
[final]
assert = ["counter == 2"]
"#
        )
    };
    let texts = [
        indexer.to_string(),
        spin(ATOMIC_LOCK),
        spin("[shared]\nlock = 0\ncounter = 0"),
    ];
    for text in &texts {
        let dpor = run(text);
        let naive = run_with(text, Reduction::None);
        assert_eq!(outcomes(&dpor), outcomes(&naive));
        assert_eq!(kinds(&dpor), kinds(&naive));
        assert!(dpor.stats.executions < naive.stats.executions);
    }
}
