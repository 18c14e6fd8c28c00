//! Differential test: on many small generated scenarios, the reduced explorer (DPOR with
//! sleep sets) must find exactly the verdict kinds, the distinct findings and the set of
//! final outcomes that the naive enumeration of every interleaving finds.

use crate::common::{exact, library_files};
use simrace::search::{Config, Exploration, Reduction, explore};
use std::collections::BTreeSet;

/// A small deterministic PRNG (xorshift64*), so every run generates the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const VARS: [&str; 3] = ["x", "y", "a[tid]"];

/// One random statement (at most about two steps).
fn stmt(r: &mut Rng, depth: u32, out: &mut Vec<String>, indent: &str) {
    let v = r.pick(&VARS);
    let w = r.pick(&VARS);
    match r.below(if depth > 0 { 12 } else { 16 }) {
        0 => out.push(format!("{indent}{v} = {}", r.below(3))),
        1 => out.push(format!("{indent}{v} = {w} + 1")),
        2 => out.push(format!("{indent}{v} += 1")),
        3 => out.push(format!("{indent}t = {w}")),
        4 => out.push(format!("{indent}ev.set()")),
        5 => out.push(format!("{indent}ev.wait()")),
        6 => out.push(format!("{indent}assert {w} != 2")),
        7 => out.push(format!("{indent}sem.acquire()")),
        8 => out.push(format!("{indent}sem.release()")),
        9 => out.push(format!("{indent}q.put({})", r.below(3))),
        10 => out.push(format!("{indent}{v} = q.get(block=False)")),
        11 => out.push(format!("{indent}f = m.acquire(timeout=1)")),
        12 => {
            let lock = r.pick(&["m", "n"]);
            out.push(format!("{indent}with {lock}:"));
            let inner = format!("{indent}    ");
            stmt(r, depth + 1, out, &inner);
            if r.below(2) == 0 {
                stmt(r, depth + 1, out, &inner);
            }
        }
        13 => {
            out.push(format!("{indent}if {w} == 1:"));
            let inner = format!("{indent}    ");
            stmt(r, depth + 1, out, &inner);
        }
        14 => {
            // Dining philosophers: locks taken in a ring, a cycle of waits.
            out.push(format!("{indent}with fork[ME]:"));
            out.push(format!("{indent}    with fork[(ME + 1) % 3]:"));
            let inner = format!("{indent}        ");
            stmt(r, depth + 1, out, &inner);
        }
        _ => out.push(format!("{indent}c = choose(0, 1)\n{indent}x = c")),
    }
}

fn scenario(seed: u64) -> String {
    scenario_sized(seed, 2, 3)
}

/// A generated scenario with `min_threads` to `min_threads + 1` threads of up to
/// `max_stmts` statements each (fewer with three threads or more).
fn scenario_sized(seed: u64, min_threads: u64, max_stmts: u64) -> String {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let threads = min_threads + r.below(2);
    let mut text = String::from(
        "[shared]\nx = 0\ny = 0\na = [0, 0, 0]\n[objects]\nm = \"Lock\"\nn = \"Lock\"\nev = \"Event\"\nsem = { kind = \"Semaphore\", value = 1 }\nq = { kind = \"Queue\", maxsize = 1 }\nfork = { kind = \"Lock\", count = 3 }\n",
    );
    for i in 0..threads {
        let mut lines = vec![];
        let n = 1 + r.below(if threads >= 3 {
            max_stmts - 1
        } else {
            max_stmts
        });
        for _ in 0..n {
            stmt(&mut r, 0, &mut lines, "");
        }
        text.push_str(&format!(
            "[[thread]]\nname = \"t{i}\"\ncode = \"\"\"\n{}\n\"\"\"\n",
            lines.join("\n").replace("ME", &i.to_string())
        ));
    }
    text
}

fn summary(e: &Exploration) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let kinds = e.findings.iter().map(|f| f.kind.to_string()).collect();
    let keys = e
        .findings
        .iter()
        .map(|f| format!("{}|{}", f.kind, f.key))
        .collect();
    let outcomes = e
        .outcomes
        .iter()
        .map(|o| format!("{:?}", o.values))
        .collect();
    (kinds, keys, outcomes)
}

#[test]
fn dpor_agrees_with_naive_enumeration() {
    let cases = 1000;
    let mut compared = 0;
    let mut reduced_total = 0u64;
    let mut naive_total = 0u64;
    let mut redundant_total = 0u64;
    for seed in 0..cases {
        let text = scenario(seed);
        let s =
            simrace::frontend::scenario::parse_scenario("gen.toml", &text).unwrap_or_else(|d| {
                panic!(
                    "generated scenario {seed} does not parse: {}\n{text}",
                    d.render()
                )
            });
        let prog = simrace::frontend::lower::lower(&s).unwrap_or_else(|d| {
            panic!(
                "generated scenario {seed} does not lower: {}\n{text}",
                d.render()
            )
        });
        let naive_cfg = Config {
            reduction: Reduction::None,
            max_executions: Some(50_000),
            count_classes: true,
            ..Config::default()
        };
        let naive = explore(&prog, &naive_cfg);
        if !naive.stats.complete {
            continue;
        }
        let dpor = explore(&prog, &Config::default());
        assert!(dpor.stats.complete);
        assert!(
            dpor.stats.executions <= naive.stats.executions,
            "seed {seed}: the reduction explored more than the naive search\n{text}"
        );
        // One execution per class of equivalent interleavings: none missed, none twice.
        assert_eq!(
            dpor.stats.executions, naive.stats.classes,
            "seed {seed}: DPOR explored {} executions for {} classes\n{text}",
            dpor.stats.executions, naive.stats.classes
        );
        redundant_total += dpor.stats.redundant;
        let (nk, nkeys, no) = summary(&naive);
        let (dk, dkeys, d_o) = summary(&dpor);
        assert_eq!(nk, dk, "seed {seed}: verdict kinds differ\n{text}");
        assert_eq!(no, d_o, "seed {seed}: outcome sets differ\n{text}");
        assert_eq!(nkeys, dkeys, "seed {seed}: findings differ\n{text}");
        // The search split over workers explores the same classes.
        let split = explore(
            &prog,
            &Config {
                jobs: Some(2),
                split_after: 0,
                ..Config::default()
            },
        );
        assert_eq!(
            split.stats.executions, dpor.stats.executions,
            "seed {seed}: split search\n{text}"
        );
        assert_eq!(
            summary(&split),
            (dk, dkeys, d_o),
            "seed {seed}: split\n{text}"
        );
        compared += 1;
        reduced_total += dpor.stats.executions;
        naive_total += naive.stats.executions;
    }
    assert!(
        compared >= 900,
        "only {compared} of {cases} cases were small enough to compare"
    );
    // Wakeup trees keep the reduction from starting executions that its sleep sets then
    // block; blocking operations can still cause a few.
    eprintln!("dpor: {reduced_total} executions, {redundant_total} blocked; naive: {naive_total}");
    assert!(
        redundant_total * 100 <= reduced_total * 3,
        "{redundant_total} blocked executions for {reduced_total} explored"
    );
    // The reduction must actually reduce.
    assert!(
        reduced_total * 2 < naive_total,
        "dpor {reduced_total} vs naive {naive_total}"
    );
}

/// Scenarios made of nested lock acquisitions (rings of forks, as in the dining
/// philosophers), where the reduction meets blocked steps: a blocked acquisition races
/// with the one that took the lock, and its reversal may not be able to run.
fn lock_nest_scenario(seed: u64) -> String {
    let mut r = Rng(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
    let threads = 2 + r.below(2);
    let mut text =
        String::from("[shared]\nx = 0\n[objects]\nfork = { kind = \"Lock\", count = 3 }\n");
    for i in 0..threads {
        let mut lines = vec![];
        let nests = if r.below(3) == 0 { 2 } else { 1 };
        for _ in 0..nests {
            let a = r.below(3);
            let b = (a + 1 + r.below(2)) % 3;
            lines.push(format!("with fork[{a}]:"));
            lines.push(format!("    with fork[{b}]:"));
            lines.push(format!(
                "        {}",
                r.pick(&["x = 1", "t = x", "work(1)"])
            ));
        }
        text.push_str(&format!(
            "[[thread]]\nname = \"t{i}\"\ncode = \"\"\"\n{}\n\"\"\"\n",
            lines.join("\n")
        ));
    }
    text
}

#[test]
fn dpor_agrees_with_naive_enumeration_on_lock_nests() {
    let mut deadlocks = 0;
    let mut compared = 0;
    for seed in 0..400 {
        let text = lock_nest_scenario(seed);
        let s = simrace::frontend::scenario::parse_scenario("gen.toml", &text)
            .unwrap_or_else(|d| panic!("{}\n{text}", d.render()));
        let prog = simrace::frontend::lower::lower(&s)
            .unwrap_or_else(|d| panic!("{}\n{text}", d.render()));
        let naive = explore(
            &prog,
            &Config {
                reduction: Reduction::None,
                max_executions: Some(20_000),
                count_classes: true,
                ..Config::default()
            },
        );
        if !naive.stats.complete {
            continue;
        }
        compared += 1;
        let dpor = explore(
            &prog,
            &Config {
                max_executions: Some(20_000),
                ..Config::default()
            },
        );
        assert!(
            dpor.stats.complete,
            "seed {seed}: DPOR did not finish\n{text}"
        );
        assert_eq!(
            dpor.stats.executions, naive.stats.classes,
            "seed {seed}: executions vs classes\n{text}"
        );
        let (nk, nkeys, no) = summary(&naive);
        let (dk, dkeys, d_o) = summary(&dpor);
        assert_eq!(nk, dk, "seed {seed}: verdict kinds differ\n{text}");
        assert_eq!(no, d_o, "seed {seed}: outcome sets differ\n{text}");
        assert_eq!(nkeys, dkeys, "seed {seed}: findings differ\n{text}");
        deadlocks += u32::from(nk.contains("deadlock"));
    }
    eprintln!("lock nests: {compared} compared, {deadlocks} with a deadlock");
    // The generator makes real lock-order deadlocks, and often.
    assert!(compared >= 250, "only {compared} cases small enough");
    assert!(deadlocks >= 60, "only {deadlocks} deadlocking cases");
}

/// The library's scenarios (blocking operations of every kind, spin loops, invariants):
/// wherever the naive enumeration finishes, the reduction explores one execution per
/// class and finds the same verdicts, findings and outcomes.
#[test]
fn dpor_agrees_with_naive_enumeration_on_the_scenario_library() {
    let files = library_files();
    let mut compared = 0;
    for f in &files {
        let s = simrace::frontend::scenario::load(f).unwrap();
        let prog = simrace::frontend::lower::lower(&s).unwrap();
        let naive = explore(
            &prog,
            &Config {
                reduction: Reduction::None,
                max_executions: Some(30_000),
                count_classes: true,
                ..Config::default()
            },
        );
        if !naive.stats.complete {
            continue;
        }
        compared += 1;
        let dpor = explore(&prog, &Config::default());
        let name = f;
        assert_eq!(
            dpor.stats.executions, naive.stats.classes,
            "{name}: executions vs classes"
        );
        let (nk, nkeys, no) = summary(&naive);
        let (dk, dkeys, d_o) = summary(&dpor);
        assert_eq!(nk, dk, "{name}: verdict kinds differ");
        assert_eq!(no, d_o, "{name}: outcome sets differ");
        assert_eq!(nkeys, dkeys, "{name}: findings differ");
    }
    assert!(compared >= 35, "only {compared} scenarios compared");
}

/// Sleep sets alone explore one execution per class by a simple argument (a class is
/// explored from the first state where a thread of its could move first, and no sleeping
/// thread could), so they are the reference where the plain enumeration cannot finish:
/// bigger generated scenarios, with three or four threads of up to four statements.
#[test]
fn dpor_agrees_with_sleep_sets_on_bigger_scenarios() {
    let mut compared = 0;
    let mut total = 0;
    for seed in 0..1000 {
        let text = scenario_sized(10_000 + seed, 3, 5);
        let s = simrace::frontend::scenario::parse_scenario("gen.toml", &text)
            .unwrap_or_else(|d| panic!("{}\n{text}", d.render()));
        let prog = simrace::frontend::lower::lower(&s)
            .unwrap_or_else(|d| panic!("{}\n{text}", d.render()));
        let sleep = explore(
            &prog,
            &Config {
                reduction: Reduction::Sleep,
                max_executions: Some(5_000),
                ..Config::default()
            },
        );
        if !sleep.stats.complete {
            continue;
        }
        compared += 1;
        total += sleep.stats.executions;
        let dpor = explore(&prog, &Config::default());
        assert_eq!(
            exact(&dpor),
            exact(&sleep),
            "seed {seed}: DPOR vs sleep sets\n{text}"
        );
        let split = Config {
            jobs: Some(2),
            split_after: 0,
            ..Config::default()
        };
        assert_eq!(
            exact(&explore(&prog, &split)),
            exact(&sleep),
            "seed {seed}: split DPOR vs sleep sets\n{text}"
        );
    }
    eprintln!("{compared} bigger scenarios compared, {total} classes");
    assert!(compared >= 200, "only {compared} cases small enough");
}

/// The library against sleep sets alone: exact execution counts, and every finding and
/// outcome with its count. This caught DPOR missing classes (and a deadlock) where a
/// thread's acquisition can come before another thread's acquisition of the same
/// semaphore but not before its release (readers_writers_no_starvation: 204 of 232).
#[test]
fn dpor_agrees_with_sleep_sets_on_the_scenario_library() {
    let files = library_files();
    let mut compared = 0;
    for f in &files {
        let s = simrace::frontend::scenario::load(f).unwrap();
        let prog = simrace::frontend::lower::lower(&s).unwrap();
        let sleep = explore(
            &prog,
            &Config {
                reduction: Reduction::Sleep,
                max_executions: Some(5_000),
                count_classes: true,
                ..Config::default()
            },
        );
        if !sleep.stats.complete {
            continue;
        }
        compared += 1;
        assert_eq!(
            sleep.stats.executions, sleep.stats.classes,
            "{f}: sleep sets explored a class twice"
        );
        let dpor = explore(&prog, &Config::default());
        assert_eq!(exact(&dpor), exact(&sleep), "{f}: DPOR vs sleep sets");
    }
    assert!(compared >= 55, "only {compared} scenarios compared");
}

/// The smallest scenario of the missed classes above: the writer acquires the semaphore
/// before the first reader does (not merely before it releases it), and the reader that
/// holds the mutex is stuck with the writer's turnstile in the way of the other reader.
#[test]
fn an_acquisition_races_with_the_acquisition_before_a_release() {
    let text = r#"
[shared]
readers = 0
[objects]
mutex = "Lock"
room_empty = { kind = "Semaphore", value = 1 }
turnstile = "Lock"
[[thread]]
name = "reader"
count = 2
code = """
turnstile.acquire()
turnstile.release()
with mutex:
    readers += 1
    if readers == 1:
        room_empty.acquire()
    readers -= 1
    if readers == 0:
        room_empty.release()
"""
[[thread]]
name = "writer"
code = """
work(1)
turnstile.acquire()
room_empty.acquire()
"""
"#;
    let s = simrace::frontend::scenario::parse_scenario("readers.toml", text).unwrap();
    let prog = simrace::frontend::lower::lower(&s).unwrap();
    for jobs in [None, Some(2)] {
        let dpor = explore(
            &prog,
            &Config {
                jobs,
                split_after: 0,
                count_classes: true,
                ..Config::default()
            },
        );
        assert_eq!(dpor.stats.executions, 17, "jobs {jobs:?}");
        assert_eq!(dpor.stats.classes, 17, "jobs {jobs:?}");
        let stuck_on_room = dpor.findings.iter().any(|f| {
            f.message
                .contains("reader[0] (line 17) waits to acquire room_empty")
        });
        assert!(stuck_on_room, "jobs {jobs:?}: {:#?}", dpor.findings);
    }
}

/// State caching (`--reduction states`) explores each distinct state once instead of one
/// execution per class: the same verdict kinds, findings and outcome sets as DPOR, on the
/// generated scenarios and on the library (its counts are of states, not executions).
#[test]
fn state_caching_agrees_with_dpor() {
    let mut texts: Vec<(String, String)> = (0..1000)
        .map(|seed| (format!("seed {seed}"), scenario(seed)))
        .collect();
    texts.extend((0..300).map(|seed| {
        (
            format!("bigger seed {seed}"),
            scenario_sized(10_000 + seed, 3, 4),
        )
    }));
    let mut compared = 0;
    let mut check = |name: &str, prog: &simrace::ir::Program| {
        let states = explore(
            prog,
            &Config {
                reduction: Reduction::States,
                max_executions: Some(5_000),
                ..Config::default()
            },
        );
        let dpor = explore(
            prog,
            &Config {
                max_executions: Some(20_000),
                ..Config::default()
            },
        );
        if !states.stats.complete || !dpor.stats.complete {
            return;
        }
        compared += 1;
        let (sk, skeys, so) = summary(&states);
        let (dk, dkeys, d_o) = summary(&dpor);
        assert_eq!(sk, dk, "{name}: verdict kinds, states vs DPOR");
        assert_eq!(so, d_o, "{name}: outcomes, states vs DPOR");
        // Every finding but races by its key. A race is found at a state where both
        // accesses are next; a pair that happens-before leaves unordered only because an
        // earlier race orders them (one thread reads what the other wrote without
        // synchronization) is never next together, and is reported by that earlier race.
        let races = |k: &String| k.starts_with("data_race|");
        let (srace, sother): (BTreeSet<_>, BTreeSet<_>) = skeys.into_iter().partition(races);
        let (drace, dother): (BTreeSet<_>, BTreeSet<_>) = dkeys.into_iter().partition(races);
        assert_eq!(sother, dother, "{name}: findings, states vs DPOR");
        assert!(srace.is_subset(&drace), "{name}: races, states vs DPOR");
    };
    for (name, text) in &texts {
        let s = simrace::frontend::scenario::parse_scenario("gen.toml", text).unwrap();
        let prog = simrace::frontend::lower::lower(&s).unwrap();
        check(&format!("{name}\n{text}"), &prog);
    }
    for f in library_files() {
        let s = simrace::frontend::scenario::load(&f).unwrap();
        let prog = simrace::frontend::lower::lower(&s).unwrap();
        check(&f, &prog);
    }
    assert!(compared >= 1000, "only {compared} compared");
}
