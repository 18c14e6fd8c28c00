//! `print` is a step (SCENARIO.md's "every visible operation"): prints of different
//! threads are ordered with each other and with nothing else, so the explorer runs each
//! order of the prints once, and the output is part of an execution's outcome.

use crate::common::{explore_text, load, simrace, stdout};
use simrace::{Config, Exploration, explore};

fn run(text: &str) -> Exploration {
    explore_text(text, &Config::default())
}

/// Each outcome's output, joined with ` | `, sorted.
fn outputs(e: &Exploration) -> Vec<String> {
    let mut o: Vec<String> = e
        .outcomes
        .iter()
        .map(|o| {
            o.output
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect();
    o.sort();
    o
}

/// `n` threads that each print `k` lines: every interleaving of the lines is its own
/// execution and its own outcome, (n*k)! / (k!)^n of them.
fn printers(n: u32, k: u32) -> String {
    let body: Vec<String> = (0..k).map(|i| format!("print(\"line\", {i})")).collect();
    format!(
        "[[thread]]\nname = \"p\"\ncount = {n}\ncode = \"\"\"\n{}\n\"\"\"\n",
        body.join("\n")
    )
}

#[test]
fn every_order_of_the_prints_is_one_execution() {
    for (n, k, want) in [(1, 3, 1), (2, 1, 2), (2, 2, 6), (3, 1, 6), (2, 3, 20)] {
        let e = run(&printers(n, k));
        assert_eq!(e.stats.executions, want, "{n} threads x {k} prints");
        assert_eq!(e.outcomes.len() as u64, want, "{n} threads x {k} prints");
    }
}

/// A print is independent of other threads' reads and writes: it adds no execution.
#[test]
fn a_print_does_not_multiply_unrelated_interleavings() {
    let text = "[shared]\nx = 0\ny = 0\n[[thread]]\nname = \"a\"\ncode = \"\"\"\nx = 1\nprint(\"a done\")\n\"\"\"\n[[thread]]\nname = \"b\"\ncode = \"y = 1\"\n";
    let e = run(text);
    assert_eq!(e.stats.executions, 1);
    assert_eq!(outputs(&e), ["a: a done"]);
}

/// What a thread prints before it starts another comes first, always (it used to be
/// attached to the start, after the started thread's first lines).
#[test]
fn a_starter_prints_before_the_thread_it_starts() {
    let text = "[[thread]]\nname = \"main\"\ncode = \"\"\"\nprint(\"before\")\nt.start()\n\"\"\"\n[[thread]]\nname = \"t\"\nstart = false\ncode = \"print(\\\"hello\\\")\"\n";
    let e = run(text);
    assert_eq!(e.stats.executions, 1);
    assert_eq!(outputs(&e), ["main: before | t: hello"]);
}

/// A print inside `with atomic:` is part of that one step, and still ordered with the
/// other prints.
#[test]
fn a_print_in_an_atomic_block_is_ordered_with_other_prints() {
    let text = "[atomics]\nn = 0\n[[thread]]\nname = \"a\"\ncode = \"\"\"\nwith atomic:\n    n += 1\n    print(\"a\", n)\n\"\"\"\n[[thread]]\nname = \"b\"\ncode = \"print(\\\"b\\\")\"\n";
    let e = run(text);
    assert_eq!(e.stats.executions, 2);
    assert_eq!(outputs(&e), ["a: a 1 | b: b", "b: b | a: a 1"]);
}

/// The hello-thread lesson (seeds 003/004): both orders, each with its output, in the
/// outcome table of a passing run.
#[test]
fn hello_thread_shows_both_orders() {
    let prog = load("scenarios/seeds/hello_thread.toml");
    let e = explore(&prog, &Config::default());
    assert_eq!(e.stats.executions, 2);
    assert_eq!(
        outputs(&e),
        [
            "main: Main program continues to execute. | t: Hello from thread!",
            "t: Hello from thread! | main: Main program continues to execute.",
        ]
    );
    let out = stdout(&simrace(&[
        "run",
        "scenarios/seeds/hello_thread.toml",
        "--engine",
        "explore",
        "--no-timing",
    ]));
    assert!(out.contains("PASS"), "{out}");
    assert!(out.contains("    printed: t: Hello from thread!"), "{out}");
    assert!(
        out.contains("    printed: main: Main program continues to execute."),
        "{out}"
    );
}
