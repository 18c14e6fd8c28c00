//! Differential test: on many small generated scenarios, the reduced explorer (DPOR with
//! sleep sets) must find exactly the verdict kinds, the distinct findings and the set of
//! final outcomes that the naive enumeration of every interleaving finds.

use simrace::explore::{Config, Exploration, Reduction, explore};
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
    match r.below(if depth > 0 { 12 } else { 15 }) {
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
        _ => out.push(format!("{indent}c = choose(0, 1)\n{indent}x = c")),
    }
}

fn scenario(seed: u64) -> String {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let threads = 2 + r.below(2);
    let mut text = String::from(
        "[shared]\nx = 0\ny = 0\na = [0, 0, 0]\n[objects]\nm = \"Lock\"\nn = \"Lock\"\nev = \"Event\"\nsem = { kind = \"Semaphore\", value = 1 }\nq = { kind = \"Queue\", maxsize = 1 }\n",
    );
    for i in 0..threads {
        let mut lines = vec![];
        let n = 1 + r.below(if threads == 3 { 2 } else { 3 });
        for _ in 0..n {
            stmt(&mut r, 0, &mut lines, "");
        }
        text.push_str(&format!(
            "[[thread]]\nname = \"t{i}\"\ncode = \"\"\"\n{}\n\"\"\"\n",
            lines.join("\n")
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
        let s = simrace::scenario::parse_scenario("gen.toml", &text).unwrap_or_else(|d| {
            panic!(
                "generated scenario {seed} does not parse: {}\n{text}",
                d.render()
            )
        });
        let prog = simrace::lower::lower(&s).unwrap_or_else(|d| {
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
        compared += 1;
        reduced_total += dpor.stats.executions;
        naive_total += naive.stats.executions;
    }
    assert!(
        compared >= 950,
        "only {compared} of {cases} cases were small enough to compare"
    );
    // Wakeup trees keep the reduction from starting executions that its sleep sets then
    // block; blocking operations can still cause a few.
    eprintln!("dpor: {reduced_total} executions, {redundant_total} blocked; naive: {naive_total}");
    assert!(
        redundant_total * 100 <= reduced_total,
        "{redundant_total} blocked executions for {reduced_total} explored"
    );
    // The reduction must actually reduce.
    assert!(
        reduced_total * 2 < naive_total,
        "dpor {reduced_total} vs naive {naive_total}"
    );
}
