//! Generated scenarios, as proptest strategies, and the runner that checks a property on
//! them: a fixed seed (every run checks the same cases), no regression files, and a
//! failure shrunk to a minimal scenario that is printed as scenario text, ready to save
//! as a file and run with `simrace run`.
//!
//! Shrinking drops whole threads and statements, and turns a statement into an earlier
//! kind of the lists below (a block into a simple statement; `x = 0` is the simplest).
//! The scenarios generated are not affected: every one has all its threads.

use super::language::{self, Node, Options};
use crate::common::{proptest_cases, proptest_seed};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{NewTree, ValueTree};
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};
use simrace::Program;
use std::fmt;

/// A generated scenario: its declarations, and each thread's code (`None` for a thread
/// that shrinking dropped). Displayed as the scenario file.
#[derive(Clone, Debug)]
pub struct Generated {
    header: &'static str,
    threads: Vec<Option<Vec<String>>>,
    /// For the scenarios over the whole language: the code of the thread `late` and the
    /// rest of the file (rendered by [`language::render`]).
    whole: Option<(String, Options)>,
}

impl fmt::Display for Generated {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if let Some((late, options)) = &self.whole {
            let threads: Vec<Option<String>> = self
                .threads
                .iter()
                .map(|t| t.as_ref().map(|stmts| stmts.concat()))
                .collect();
            return f.write_str(&language::render(&threads, late, options));
        }
        f.write_str(self.header)?;
        for (i, code) in self.threads.iter().enumerate() {
            // A thread keeps its number (its name, and its forks in a ring) when another
            // is dropped.
            if let Some(code) = code {
                let code = code.join("\n").replace("ME", &i.to_string());
                write!(
                    f,
                    "[[thread]]\nname = \"t{i}\"\ncode = \"\"\"\n{code}\n\"\"\"\n"
                )?;
            }
        }
        Ok(())
    }
}

/// The declarations of the generated scenarios with statements of every kind.
const MIXED: &str = "[shared]\nx = 0\ny = 0\na = [0, 0, 0]\n[objects]\nm = \"Lock\"\nn = \"Lock\"\nev = \"Event\"\nsem = { kind = \"Semaphore\", value = 1 }\nq = { kind = \"Queue\", maxsize = 1 }\nfork = { kind = \"Lock\", count = 3 }\n";

/// The declarations of the generated rings of nested locks.
const FORKS: &str = "[shared]\nx = 0\n[objects]\nfork = { kind = \"Lock\", count = 3 }\n";

const VARS: [&str; 3] = ["x", "y", "a[tid]"];

fn var() -> impl Strategy<Value = &'static str> {
    select(&VARS[..])
}

/// One of the thirteen simple statements (a step, or two), equally likely.
fn simple() -> BoxedStrategy<String> {
    prop_oneof![
        (var(), 0..3u32).prop_map(|(v, k)| format!("{v} = {k}")),
        (var(), var()).prop_map(|(v, w)| format!("{v} = {w} + 1")),
        var().prop_map(|v| format!("{v} += 1")),
        var().prop_map(|w| format!("t = {w}")),
        Just("ev.set()".to_string()),
        Just("ev.wait()".to_string()),
        var().prop_map(|w| format!("assert {w} != 2")),
        Just("sem.acquire()".to_string()),
        Just("sem.release()".to_string()),
        (0..3u32).prop_map(|k| format!("q.put({k})")),
        var().prop_map(|v| format!("{v} = q.get(block=False)")),
        Just("f = m.acquire(timeout=1)".to_string()),
        (var(), 0..2u32, 1..3u32).prop_map(|(v, a, b)| format!("c = cas({v}, {a}, {b})")),
    ]
    .boxed()
}

/// One statement (at most about two steps): of 17 equally likely kinds, the 13 simple
/// ones, a `with` block of one or two simple statements, an `if`, two forks taken in a
/// ring (as the dining philosophers do, so cycles of waits) and a `choose`.
fn statement() -> BoxedStrategy<String> {
    prop_oneof![
        12 => simple(),
        1 => (select(&["m", "n"][..]), vec(simple(), 1..=2))
            .prop_map(|(lock, body)| format!("with {lock}:\n    {}", body.join("\n    "))),
        1 => (var(), simple()).prop_map(|(w, s)| format!("if {w} == 1:\n    {s}")),
        1 => simple().prop_map(|s| format!("with fork[ME]:\n    with fork[(ME + 1) % 3]:\n        {s}")),
        1 => Just("c = choose(0, 1)\nx = c".to_string()),
    ]
    .boxed()
}

/// Scenarios of `min_threads` or `min_threads + 1` threads (equally likely), each of 1 to
/// `max_statements` statements (one fewer with three threads or more), over [`MIXED`].
pub fn mixed(min_threads: usize, max_statements: usize) -> impl Strategy<Value = Generated> {
    // Not `prop_flat_map` from the number of threads: to shrink to fewer threads, it
    // would generate new ones and run the property on them, up to once per case. Threads
    // are dropped one by one instead.
    let threads = move |n: usize| {
        let most = if n >= 3 {
            max_statements - 1
        } else {
            max_statements
        };
        vec(droppable(vec(statement(), 1..=most)), n).prop_map(|threads| Generated {
            header: MIXED,
            threads,
            whole: None,
        })
    };
    prop_oneof![threads(min_threads), threads(min_threads + 1)]
}

/// The declarations of the generated scenarios of plain memory steps; `max_steps` cuts a
/// loop that others keep from ending.
const PLAIN: &str = "[shared]\nx = 0\ny = 0\na = [0, 0, 0]\n[limits]\nmax_steps = 40\n";

/// One simple statement on memory: a write, a read, an assertion or a compare-and-swap.
fn memory_step() -> impl Strategy<Value = String> {
    prop_oneof![
        (var(), 0..3u32).prop_map(|(v, k)| format!("{v} = {k}")),
        (var(), var()).prop_map(|(v, w)| format!("{v} = {w} + 1")),
        var().prop_map(|v| format!("{v} += 1")),
        var().prop_map(|w| format!("t = {w}")),
        var().prop_map(|w| format!("assert {w} != 2")),
        (var(), 0..2u32, 1..3u32).prop_map(|(v, a, b)| format!("c = cas({v}, {a}, {b})")),
    ]
}

/// Scenarios over `header` of `min_threads` or one more threads, each of 1 to
/// `max_statements` statements from `statement`.
fn threads_of(
    header: &'static str,
    statement: fn() -> BoxedStrategy<String>,
    min_threads: usize,
    max_statements: usize,
) -> impl Strategy<Value = Generated> {
    let threads = move |n: usize| {
        vec(droppable(vec(statement(), 1..=max_statements)), n).prop_map(move |threads| Generated {
            header,
            threads,
            whole: None,
        })
    };
    prop_oneof![threads(min_threads), threads(min_threads + 1)]
}

/// One statement on memory alone (no step that may wait or give up; where no loop can
/// spin either, the search takes a wakeup leaf to stand for the sequences it weakly
/// prefixes, as the paper does): a simple one, an `if`, a `with atomic:` block, a `choose`, or a loop that spins (the
/// spin-loop rule blocks it), that counts up to a value (which another thread may keep
/// it from reaching: cut at `max_steps`), or that reads a variable while it counts down
/// a local (a loop that cannot spin, where the paper's leaf rule holds).
fn plain_statement() -> BoxedStrategy<String> {
    prop_oneof![
        8 => memory_step(),
        1 => (var(), memory_step()).prop_map(|(w, s)| format!("if {w} == 1:\n    {s}")),
        1 => vec(memory_step(), 1..=2)
            .prop_map(|body| format!("with atomic:\n    {}", body.join("\n    "))),
        1 => Just("c = choose(0, 1)\nx = c".to_string()),
        1 => var().prop_map(|w| format!("while {w} == 0:\n    pass")),
        1 => var().prop_map(|w| format!("while {w} < 2:\n    {w} += 1")),
        1 => var().prop_map(|w| format!("i = 2\nwhile i > 0 and {w} != 2:\n    i -= 1")),
    ]
    .boxed()
}

/// Scenarios of plain memory steps ([`plain_statement`]): `min_threads` or one more
/// threads, each of 1 to `max_statements` statements.
pub fn plain(min_threads: usize, max_statements: usize) -> impl Strategy<Value = Generated> {
    threads_of(PLAIN, plain_statement, min_threads, max_statements)
}

/// The declarations of the generated scenarios of memory steps and `with` blocks on locks.
const SCOPED: &str = "[shared]\nx = 0\ny = 0\na = [0, 0, 0]\n[objects]\nm = \"Lock\"\nn = \"Lock\"\nl = { kind = \"Lock\", count = 2 }\n[limits]\nmax_steps = 40\n";

/// One statement of memory steps and locks taken by `with` blocks alone, the programs
/// in which a wakeup leaf stands for the sequences it weakly prefixes although a thread
/// can wait (every lock is released by the thread that took it): a memory step, a loop
/// that cannot spin, a `with` block on `m`, `n` or an element of `l` chosen at run time,
/// two nested in either order (so lock-order deadlocks), and a `with` inside a loop that
/// `break` leaves early.
fn scoped_lock_statement() -> BoxedStrategy<String> {
    let lock = || select(&["m", "n", "l[0]", "l[x % 2]"][..]);
    prop_oneof![
        6 => memory_step(),
        1 => (var(), memory_step()).prop_map(|(w, s)| format!("if {w} == 1:\n    {s}")),
        1 => Just("c = choose(0, 1)\nx = c".to_string()),
        1 => var().prop_map(|w| format!("i = 2\nwhile i > 0 and {w} != 2:\n    i -= 1")),
        4 => (lock(), vec(memory_step(), 1..=2))
            .prop_map(|(k, body)| format!("with {k}:\n    {}", body.join("\n    "))),
        2 => (lock(), lock(), memory_step())
            .prop_map(|(j, k, s)| format!("with {j}:\n    with {k}:\n        {s}")),
        1 => (lock(), var(), memory_step()).prop_map(|(k, w, s)| format!(
            "for r in range(2):\n    with {k}:\n        if {w} == r:\n            break\n        {s}"
        )),
    ]
    .boxed()
}

/// Scenarios of memory steps and locks taken by `with` blocks alone
/// ([`scoped_lock_statement`]): `min_threads` or one more threads, each of 1 to
/// `max_statements` statements.
pub fn scoped_locks(min_threads: usize, max_statements: usize) -> impl Strategy<Value = Generated> {
    threads_of(SCOPED, scoped_lock_statement, min_threads, max_statements)
}

/// One nest: `with fork[a]:` then `with fork[b]:` (b one or two after a, in the ring of
/// three forks) around a write, a read or some work.
fn nest() -> impl Strategy<Value = String> {
    (
        0..3u32,
        1..=2u32,
        select(&["x = 1", "t = x", "work(1)"][..]),
    )
        .prop_map(|(a, step, body)| {
            let b = (a + step) % 3;
            format!("with fork[{a}]:\n    with fork[{b}]:\n        {body}")
        })
}

/// Rings of nested lock acquisitions: two or three threads, each of one nest or (one time
/// in three) two, over [`FORKS`].
pub fn lock_nests() -> impl Strategy<Value = Generated> {
    let thread = (nest(), option::weighted(1.0 / 3.0, nest()))
        .prop_map(|(first, second)| std::iter::once(first).chain(second).collect());
    vec(droppable(thread), 2..=3).prop_map(|threads| Generated {
        header: FORKS,
        threads,
        whole: None,
    })
}

/// One statement over the whole language: a simple statement, or (one time in four) a
/// block of one or two statements, nested at most `depth` deep. Shrinks towards the first
/// templates (`x = 1`) and simple statements.
fn node(depth: u32) -> BoxedStrategy<Node> {
    let simple = (0..1000usize).prop_map(Node::Simple);
    if depth == 0 {
        return simple.boxed();
    }
    prop_oneof![
        3 => simple,
        1 => (0..1000usize, vec(node(depth - 1), 1..=2)).prop_map(|(k, body)| Node::Block(k, body)),
    ]
    .boxed()
}

/// Scenarios over the whole language ([`language`]): two or three threads (one or two
/// instances each) of one to four statements, the thread `late` that they may start and
/// join, a `[final]` and an `[invariant]` check or none, and a small `max_steps` (20 to
/// 120) or the default.
pub fn whole_language() -> impl Strategy<Value = Generated> {
    let stmt = || node(2).prop_map(|n| language::code(&[n]));
    (
        vec(droppable(vec(stmt(), 1..=4)), 2..=3),
        vec(node(2), 0..=2),
        vec(1..=2u8, 3),
        prop_oneof![Just(0u16), 20..=120u16],
        any::<bool>(),
    )
        .prop_map(|(threads, late, counts, max_steps, checks)| Generated {
            header: "",
            threads,
            whole: Some((
                language::code(&late),
                Options {
                    counts,
                    max_steps,
                    checks,
                    process: None,
                },
            )),
        })
}

/// [`whole_language`] in version 2 of the format: the threads also call functions, use
/// the Pool and its results, shared memory, a pipe, a manager dict and a joinable queue,
/// and join, poll, terminate or kill the process `p`, whose code is generated too.
pub fn whole_language_v2() -> impl Strategy<Value = Generated> {
    use language::Lang;
    let stmt = || node(2).prop_map(|n| language::code_in(Lang::Thread2, &[n]));
    (
        vec(droppable(vec(stmt(), 1..=3)), 1..=2),
        vec(node(2), 0..=2),
        vec(node(1), 0..=3),
        vec(1..=2u8, 2),
        prop_oneof![Just(0u16), 20..=120u16],
        any::<bool>(),
    )
        .prop_map(
            |(threads, late, process, counts, max_steps, checks)| Generated {
                header: "",
                threads,
                whole: Some((
                    language::code_in(Lang::Thread2, &late),
                    Options {
                        counts,
                        max_steps,
                        checks,
                        process: Some(language::code_in(Lang::Process2, &process)),
                    },
                )),
            },
        )
}

/// Always `Some` of the inner value, but shrinking tries `None` first: a thread that the
/// failure does not need is dropped, though the generated scenarios are not changed.
fn droppable<S: Strategy>(inner: S) -> Droppable<S> {
    Droppable(inner)
}

#[derive(Debug)]
struct Droppable<S>(S);

impl<S: Strategy> Strategy for Droppable<S> {
    type Tree = DroppableTree<S::Tree>;
    type Value = Option<S::Value>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        Ok(DroppableTree {
            inner: self.0.new_tree(runner)?,
            state: Dropping::Untried,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Dropping {
    /// Not tried yet: the value is the inner one.
    Untried,
    /// The value is `None`, for one try.
    Dropped,
    /// Needed: the value is the inner one, shrunk by the inner tree.
    Kept,
}

#[derive(Clone, Debug)]
struct DroppableTree<T> {
    inner: T,
    state: Dropping,
}

impl<T: ValueTree> ValueTree for DroppableTree<T> {
    type Value = Option<T::Value>;

    fn current(&self) -> Option<T::Value> {
        (self.state != Dropping::Dropped).then(|| self.inner.current())
    }

    fn simplify(&mut self) -> bool {
        match self.state {
            Dropping::Untried => {
                self.state = Dropping::Dropped;
                true
            }
            Dropping::Dropped => false,
            Dropping::Kept => self.inner.simplify(),
        }
    }

    fn complicate(&mut self) -> bool {
        match self.state {
            Dropping::Untried => false,
            Dropping::Dropped => {
                self.state = Dropping::Kept;
                true
            }
            Dropping::Kept => self.inner.complicate(),
        }
    }
}

/// Checks `property` on `cases` scenarios from `strategy`, drawn from the fixed `seed`;
/// a failing case is shrunk, and the test panics with its message and the minimal
/// scenario. A scenario that does not parse or lower fails too (the generator is wrong).
pub fn check<S: Strategy<Value = Generated>>(
    cases: u32,
    seed: u64,
    strategy: S,
    property: impl Fn(&Program) -> Result<(), TestCaseError>,
) {
    check_text(cases, seed, strategy, |prog, _| property(prog));
}

/// [`check`] with a property that also gets the scenario's text.
pub fn check_text<S: Strategy<Value = Generated>>(
    cases: u32,
    seed: u64,
    strategy: S,
    property: impl Fn(&Program, &str) -> Result<(), TestCaseError>,
) {
    let (cases, seed) = (proptest_cases(cases), proptest_seed(seed));
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    };
    // The text of the last case that failed: the one whose failure is reported. The
    // runner reports the value tree's current value after shrinking, which can be
    // another case (it printed a scenario without a thread that the failure's lines
    // were in). A case that panics (the runner counts it as failed) never returns: its text is
    // still in `trying` when the next case starts, or when the run ends.
    let last_failure = std::cell::RefCell::new(None::<String>);
    let trying = std::cell::RefCell::new(None::<String>);
    let result = TestRunner::new(config).run(&strategy, |g| {
        if let Some(panicked) = trying.borrow_mut().take() {
            *last_failure.borrow_mut() = Some(panicked);
        }
        if g.threads.iter().all(Option::is_none) {
            // Shrinking went too far: a scenario needs a thread.
            return Err(TestCaseError::reject("no thread left"));
        }
        let text = g.to_string();
        *trying.borrow_mut() = Some(text.clone());
        let outcome = match simrace::parse("gen.toml", &text) {
            Ok(prog) => property(&prog, &text),
            Err(d) => Err(TestCaseError::fail(format!(
                "does not load: {}",
                d.render()
            ))),
        };
        let text = trying.borrow_mut().take();
        if let Err(TestCaseError::Fail(_)) = &outcome {
            *last_failure.borrow_mut() = text;
        }
        outcome
    });
    if let Some(panicked) = trying.into_inner() {
        *last_failure.borrow_mut() = Some(panicked);
    }
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, minimal)) => {
            let text = last_failure
                .into_inner()
                .unwrap_or_else(|| minimal.to_string());
            panic!("{why}\nminimal failing scenario (seed {seed}):\n{text}")
        }
        Err(TestError::Abort(why)) => panic!("aborted: {why}"),
    }
}
