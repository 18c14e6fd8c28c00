//! `process_write_lost` warnings name a reader that never sees the write: not a process
//! that a fork start chain from the writer started after the write (its copy holds the
//! write), but one started before it, or the main program, or the `[final]` assertion.

use crate::common::program;
use simrace::report;
use simrace::{Config, Reduction, explore};

/// The `process_write_lost` messages of `text` under `cfg`.
fn lost_with(text: &str, cfg: &Config) -> Vec<String> {
    let prog = program("test.toml", text);
    let ex = explore(&prog, cfg);
    assert!(ex.stats.complete);
    let rep = report::build(&prog, &ex, "explore", false);
    let lost = rep.warnings.into_iter();
    let lost = lost.filter(|w| w.kind == "process_write_lost");
    lost.map(|w| w.message).collect()
}

/// The messages, the same under DPOR, state caching and a split search.
fn lost(text: &str) -> Vec<String> {
    let dpor = lost_with(text, &Config::default());
    let states = Config {
        reduction: Reduction::States,
        ..Config::default()
    };
    assert_eq!(dpor, lost_with(text, &states), "state caching");
    let split = Config {
        jobs: Some(2),
        split_after: 0,
        task_depth: 1,
        ..Config::default()
    };
    assert_eq!(dpor, lost_with(text, &split), "split search");
    dpor
}

/// The one message, which names `reader` as the reader of `x`.
fn names_reader(text: &str, writer: &str, reader: &str) {
    let m = lost(text);
    assert_eq!(m.len(), 1, "{m:#?}");
    assert!(m[0].starts_with(&format!("{writer} writes x")), "{}", m[0]);
    assert!(
        m[0].contains(&format!(", and {reader} reads x:")),
        "{}",
        m[0]
    );
}

const HEAD: &str = "[scenario]\nname = \"t\"\n\n[shared]\nx = 0\n";

/// `p` writes x, then starts `q`, which reads it (and sees it).
const P_WRITES_THEN_STARTS_Q: &str = r#"
[[process]]
name = "p"
start = false
code = """
x = 5
q.start()
q.join()
"""

[[process]]
name = "q"
start = false
code = """
assert x == 5
"""
"#;

/// The main program starts `p`, and reads x (line 28) after it ended.
const MAIN_READS: &str = r#"
[[thread]]
name = "main"
code = """
p.start()
p.join()
assert x == 0
"""
"#;

#[test]
fn a_process_forked_after_the_write_sees_it_and_is_not_named() {
    // p writes x and then starts q: q's copy holds the write; main never sees it.
    let text = format!("{HEAD}{P_WRITES_THEN_STARTS_Q}{MAIN_READS}");
    names_reader(&text, "p (line 11)", "main (line 28)");
    // With no main reader, the [final] assertion is the reader.
    let main = MAIN_READS.replace("assert x == 0\n", "");
    let fin = "\n[final]\nassert = [\"x == 0\"]\n";
    let text = format!("{HEAD}{P_WRITES_THEN_STARTS_Q}{main}{fin}");
    names_reader(&text, "p (line 11)", "the [final] assertion (line 31)");
    // q is the only reader: nobody misses the write.
    let text = format!("{HEAD}{P_WRITES_THEN_STARTS_Q}{main}");
    assert_eq!(lost(&text), Vec::<String>::new());
}

#[test]
fn the_write_reaches_a_process_down_a_fork_chain() {
    // p writes x and starts r, which starts q: q's copy is r's, taken after the write.
    let text = format!(
        "{HEAD}{}{}",
        P_WRITES_THEN_STARTS_Q.replace("q.start()\nq.join()", "r.start()\nr.join()"),
        r#"
[[process]]
name = "r"
start = false
code = """
q.start()
q.join()
"""

[[thread]]
name = "main"
code = """
p.start()
p.join()
"""
"#
    );
    assert_eq!(lost(&text), Vec::<String>::new());
}

#[test]
fn a_process_started_before_the_write_is_named() {
    // p starts q, then writes x: q's copy was taken before the write.
    let p = P_WRITES_THEN_STARTS_Q.replace("x = 5\nq.start()", "q.start()\nx = 5");
    let q = p.replace("assert x == 5", "assert x == 0");
    let text = format!("{HEAD}{q}{MAIN_READS}");
    names_reader(&text, "p (line 12)", "q (line 20)");
}

#[test]
fn with_spawn_a_process_started_after_the_write_is_named() {
    // spawn: q starts from the file's values, so it never sees p's write.
    let head = HEAD.replace("name = \"t\"", "name = \"t\"\nstart_method = \"spawn\"");
    let q = P_WRITES_THEN_STARTS_Q.replace("assert x == 5", "assert x == 0");
    let text = format!("{head}{q}{MAIN_READS}");
    names_reader(&text, "p (line 12)", "q (line 21)");
}

#[test]
fn a_reader_that_sees_the_write_in_one_execution_is_not_named() {
    // q reads x before or after p's write: in some executions its copy holds it (p
    // started it after the write), in others not (the main program started it first).
    let text = format!(
        "{HEAD}{}",
        r#"
[[process]]
name = "p"
start = false
code = """
x = 5
with started.get_lock():
    if not started.value:
        started.value = True
        q.start()
"""

[[process]]
name = "q"
start = false
code = """
y = x
"""

[[thread]]
name = "main"
code = """
p.start()
with started.get_lock():
    if not started.value:
        started.value = True
        q.start()
"""

[objects]
started = { kind = "Value", value = false }
"#
    );
    assert_eq!(lost(&text), Vec::<String>::new());
}

#[test]
fn a_write_on_another_branch_of_the_search_is_not_seen() {
    // p writes x or starts q, depending on whether main has set c yet: q never sees
    // the write, although the search went through it on the way to q's read (state
    // caching keeps what each copy holds along its path and forgets the branches it
    // leaves).
    let scenario = r#"
[[process]]
name = "p"
code = """
if c.value:
    x = 5
else:
    q.start()
    q.join()
"""

[[process]]
name = "q"
start = false
code = """
assert x == 0
"""

[[thread]]
name = "main"
code = """
c.value = True
"""

[objects]
c = { kind = "Value", value = false }
"#;
    // Either branch first.
    for first in ["c.value", "not c.value"] {
        let text = format!(
            "{HEAD}{}",
            scenario.replace("c.value:", &format!("{first}:"))
        );
        names_reader(&text, "p (line 11)", "q (line 21)");
    }
}
