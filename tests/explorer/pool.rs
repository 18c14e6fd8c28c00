//! The Pool's operations and their Python errors, and functions' edge cases, on small
//! inline scenarios (the library's scenarios/pool/ and scenarios/functions/ hold the
//! lessons).

use crate::common::explore_text;
use simrace::{Config, Exploration, FindingKind};

fn pool_scenario(main: &str) -> String {
    format!(
        r#"
[objects]
pool = {{ kind = "Pool", processes = 2 }}
[functions]
code = """
def double(x):
    return 2 * x

def fail(x):
    assert x > 100, "too small"
"""
[[thread]]
name = "main"
code = """
{main}
"""
"#
    )
}

fn run(main: &str) -> Exploration {
    explore_text(&pool_scenario(main), &Config::default())
}

fn only_error(e: &Exploration, text: &str) {
    let kinds: Vec<FindingKind> = e.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, vec![FindingKind::Error], "{:?}", e.findings);
    assert!(
        e.findings[0].message.contains(text),
        "{text:?} not in {}",
        e.findings[0].message
    );
}

#[test]
fn submitting_after_close_is_a_value_error() {
    only_error(
        &run("pool.close()\npool.apply_async(double, (1,))"),
        "ValueError: Pool not running",
    );
}

#[test]
fn apply_and_map_wait_for_their_values() {
    let e = run(
        "assert pool.apply(double, (4,)) == 8\nassert pool.map(double, range(1, 4)) == [2, 4, 6]",
    );
    assert!(e.findings.is_empty(), "{:?}", e.findings);
}

#[test]
fn a_timed_get_may_give_up_and_ready_says_so() {
    // A get that gave up says nothing of later: the task may end before `ready()`.
    let e = run(
        "r = pool.apply_async(double, (1,))\nv = r.get(timeout=1)\nassert v == 2 or (v is None and not r.ready())",
    );
    assert_eq!(e.findings.len(), 1, "{:?}", e.findings);
    assert_eq!(e.findings[0].kind, FindingKind::Assertion);
    assert_eq!(
        e.stats.executions, 5,
        "as many as the sleep-set search's classes"
    );
    let e = run(
        "r = pool.apply_async(double, (1,))\nv = r.get(timeout=1)\nif v is None:\n    v = r.get()\nassert v == 2 and r.ready()",
    );
    assert!(e.findings.is_empty(), "{:?}", e.findings);
    let e = run("r = pool.apply_async(double, (1,))\nv = r.get(timeout=1)\nassert v == 2");
    assert_eq!(e.findings[0].kind, FindingKind::Assertion);
}

#[test]
fn successful_before_ready_is_a_value_error() {
    only_error(
        &run("r = pool.apply_async(double, (1,))\nok = r.successful()"),
        "not ready",
    );
}

#[test]
fn a_task_assertion_comes_back_as_an_error_at_get() {
    let e = run("r = pool.apply_async(fail, (1,))\nr.wait()\nassert not r.successful()\nr.get()");
    only_error(
        &e,
        "the task fail(1) failed at line 10: AssertionError: too small",
    );
}

#[test]
fn map_raises_the_first_failure() {
    only_error(&run("pool.map(fail, [1, 200])"), "the task fail(1) failed");
}
