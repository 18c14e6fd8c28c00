//! The whole scenario language as material for generators: one set of declarations (a
//! variable of every table, an object of every threading kind) and statement templates
//! that use every statement form, every object operation, the misuses that Python would
//! raise for, and the limits (spin loops, unbounded loops under a small `max_steps`).
//!
//! A generated scenario is a tree of [`Node`]s per thread, rendered by [`render`]. Both
//! the property tests (`generate.rs`, proptest) and the fuzz targets (`fuzz/`, from
//! arbitrary bytes) build their scenarios here, so they cover the same language. Every
//! rendering of every tree is a valid scenario: the generators never produce a file that
//! does not load (the property tests check it).

// The fuzz targets include this file too and use only part of it.
#![allow(dead_code)]

/// The declarations every generated scenario starts with.
pub const HEADER: &str = r#"[shared]
x = 0
y = 0
a = [0, 0, 0]
[atomics]
flag = 0
[ghost]
g = 0
[objects]
m = "Lock"
r = "RLock"
cv = { kind = "Condition", lock = "m" }
sem = { kind = "Semaphore", value = 1 }
bs = { kind = "BoundedSemaphore", value = 1 }
ev = "Event"
bar = { kind = "Barrier", parties = 2 }
q = { kind = "Queue", maxsize = 1 }
fork = { kind = "Lock", count = 3 }
"#;

/// Statements on memory only: allowed in `with atomic:` too.
pub const MEMORY: &[&str] = &[
    "x = 1",
    "y = x + 1",
    "x += 1",
    "y -= 1",
    "a[tid] = y",
    "t = a[x % 3]",
    "flag = 1",
    "t = flag",
    "g += 1",
    "g -= 1",
    "assert x != 2",
    "assert y < 2, \"y too big\"",
    "t = 1 // x",
    "t = a[x]",
    "x = x * 4611686018427387904",
    "if x == 7:\n    u = 1\nt = u",
    "pass",
];

/// Every other simple statement: time, output, choices and the operations of every
/// object and of a thread, misuses included (releasing what is not held, waiting on a
/// condition without its lock, `task_done` too often, starting a thread twice, ...).
pub const OPERATIONS: &[&str] = &[
    "print(x, tid)",
    "sleep(1)",
    "sleep(0.25)",
    "work(1)",
    "work(0.5)",
    "x = choose(0, 2)",
    "m.acquire()",
    "m.release()",
    "f = m.acquire(blocking=False)",
    "f = m.acquire(timeout=1)",
    "f = m.locked()",
    "r.acquire()",
    "r.release()",
    "fork[tid % 3].acquire()",
    "fork[(tid + 1) % 3].release()",
    "cv.wait()",
    "f = cv.wait(timeout=1)",
    "cv.notify()",
    "cv.notify(2)",
    "cv.notify_all()",
    "sem.acquire()",
    "sem.release()",
    "sem.release(2)",
    "f = sem.acquire(blocking=False)",
    "bs.acquire()",
    "bs.release()",
    "ev.set()",
    "ev.clear()",
    "ev.wait()",
    "f = ev.wait(timeout=1)",
    "f = ev.is_set()",
    "t = bar.wait()",
    "q.put(tid)",
    "f = q.put(1, block=False)",
    "x = q.get()",
    "t = q.get(timeout=1)",
    "y = q.get(block=False)",
    "q.task_done()",
    "q.join()",
    "t = q.qsize()",
    "f = q.empty()",
    "f = q.full()",
    "late.start()",
    "late.join()",
    "f = late.is_alive()",
];

/// Version 2 of the format (`Options::version2`): functions, a Pool, shared memory, a
/// pipe, a manager dict, a joinable queue, and a process `p`. Objects join `[objects]`,
/// which [`HEADER`] ends with.
pub const HEADER_V2: &str = r#"pool = { kind = "Pool", processes = 1 }
sv = { kind = "Value", value = 0 }
pp = "Pipe"
d = { kind = "ManagerDict", items = [[0, 0]] }
jq = "JoinableQueue"
[functions]
code = """
def bump(n):
    global x
    x = x + n
    return x

def square(v):
    work(0.5)
    return v * v

def fails(v):
    assert v != 1, "task failed"
    return v
"""
"#;

/// Version 2 statements that threads and processes may both hold: calls, the Pool and
/// its results, shared memory, the pipe, the manager, the joinable queue, lists.
pub const OPERATIONS_V2: &[&str] = &[
    "bump(1)",
    "t = square(x)",
    "t = pool.apply(square, (x,))",
    "res = pool.map(square, [1, 2])",
    "ar = pool.apply_async(square, (2,))\nt = ar.get()",
    "ar = pool.apply_async(fails, (x,))\nf = ar.ready()",
    "ar = pool.apply_async(fails, (1,))\nt = ar.get()",
    "ar = pool.apply_async(square, (1,))\nt = ar.get(timeout=1)",
    "pool.close()",
    "pool.join()",
    "pool.terminate()",
    "sv.value += 1",
    "t = sv.value",
    "with sv.get_lock():\n    sv.value = 2",
    "pp[0].send(x)",
    "t = pp[1].recv()",
    "f = pp[1].poll()",
    "f = pp[1].poll(timeout=1)",
    "pp[0].close()",
    "d[0] = x",
    "t = d.get(0)",
    "t = d[1]",
    "d[0] += 1",
    "t = len(d)",
    "jq.put(1)",
    "t = jq.get(timeout=1)",
    "jq.task_done()",
    "jq.join()",
    "for e in [1, 2]:\n    x += e",
    "t = len(a)",
];

/// Version 2 statements for threads only: what a thread may do to the process `p`.
pub const THREAD_OPERATIONS_V2: &[&str] = &[
    "p.join()",
    "f = p.join(timeout=1)",
    "f = p.is_alive()",
    "t = p.exitcode",
    "p.terminate()",
    "p.kill()",
];

/// Which statements a generated party's code is made of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// Version 1: a thread of the first format.
    #[default]
    V1,
    /// A thread of version 2.
    Thread2,
    /// The process `p` of version 2 (it cannot start the thread `late`).
    Process2,
}

/// Block headers, each with what its body may hold.
pub const BLOCKS: &[(&str, Body)] = &[
    ("with m:", Body::Any),
    ("with r:", Body::Any),
    ("with cv:", Body::Any),
    ("with sem:", Body::Any),
    ("with bs:", Body::Any),
    ("with fork[tid % 3]:", Body::Any),
    ("with atomic:", Body::Memory),
    ("if x == 1:", Body::Any),
    ("if y != 0 and not ev.is_set():", Body::Any),
    ("while x < 2:", Body::Loop),
    ("while flag == 0:", Body::Loop),
    ("while not ev.is_set():", Body::Loop),
    ("for i in range(2):", Body::Loop),
];

/// What a block's body may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// Anything.
    Any,
    /// Statements on memory only (an atomic block may not block, choose or wait).
    Memory,
    /// Anything, and `break` and `continue`.
    Loop,
}

/// Statements only a loop body may hold.
pub const IN_LOOPS: &[&str] = &["break", "continue", "if x > 0:\n    break"];

/// One generated statement: an index into the templates (taken modulo their number, so
/// any index is valid), or a block with its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Simple(usize),
    Block(usize, Vec<Node>),
}

/// The parts of a generated scenario besides the threads' code.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Instances of each generated thread (1 when 0).
    pub counts: Vec<u8>,
    /// `max_steps` in `[limits]` (none when 0).
    pub max_steps: u16,
    /// A `[final]` and an `[invariant]` assertion.
    pub checks: bool,
    /// Version 2 ([`HEADER_V2`]): the process `p` with this code (rendered with
    /// [`Lang::Process2`]); the threads' code should be rendered with [`Lang::Thread2`].
    pub process: Option<String>,
}

/// The statements of `nodes` at `indent`, in a body of kind `body`.
pub fn statements(nodes: &[Node], body: Body, indent: usize, out: &mut String) {
    statements_in(Lang::V1, nodes, body, indent, out)
}

/// [`statements`] in language `lang`.
pub fn statements_in(lang: Lang, nodes: &[Node], body: Body, indent: usize, out: &mut String) {
    if nodes.is_empty() {
        line(out, indent, "pass");
    }
    for n in nodes {
        match n {
            Node::Simple(k) => {
                let all = templates(lang, body);
                line(out, indent, all[k % all.len()]);
            }
            Node::Block(k, inner) if body != Body::Memory && indent < 12 => {
                let (head, kind) = BLOCKS[k % BLOCKS.len()];
                line(out, indent, head);
                // A loop's body stays a loop body down its nested blocks.
                let kind = if body == Body::Loop && kind == Body::Any {
                    Body::Loop
                } else {
                    kind
                };
                statements_in(lang, inner, kind, indent + 4, out);
            }
            Node::Block(k, _) => {
                let all = templates(lang, body);
                line(out, indent, all[k % all.len()]);
            }
        }
    }
}

/// The simple statements a body of kind `body` may hold in language `lang`.
fn templates(lang: Lang, body: Body) -> Vec<&'static str> {
    let operations: Vec<&str> = match lang {
        Lang::V1 => OPERATIONS.to_vec(),
        Lang::Thread2 => [OPERATIONS, OPERATIONS_V2, THREAD_OPERATIONS_V2].concat(),
        // A process cannot start the main program's thread `late`.
        Lang::Process2 => OPERATIONS
            .iter()
            .chain(OPERATIONS_V2)
            .filter(|s| !s.contains("late."))
            .copied()
            .collect(),
    };
    match body {
        Body::Memory => MEMORY.to_vec(),
        Body::Any => [MEMORY, &operations].concat(),
        Body::Loop => [MEMORY, &operations, IN_LOOPS].concat(),
    }
}

fn line(out: &mut String, indent: usize, text: &str) {
    for l in text.lines() {
        out.push_str(&" ".repeat(indent));
        out.push_str(l);
        out.push('\n');
    }
}

/// The code of one thread.
pub fn code(nodes: &[Node]) -> String {
    code_in(Lang::V1, nodes)
}

/// The code of one party in language `lang`.
pub fn code_in(lang: Lang, nodes: &[Node]) -> String {
    let mut out = String::new();
    statements_in(lang, nodes, Body::Any, 0, &mut out);
    out
}

/// A whole scenario: [`HEADER`], the threads `t0`, `t1`, ... (a `None` is left out, its
/// number kept), the thread `late` that is not started at first (others start and join
/// it), and the options.
pub fn render(threads: &[Option<String>], late: &str, o: &Options) -> String {
    let mut out = String::from(HEADER);
    if let Some(code) = &o.process {
        out.push_str(HEADER_V2);
        out.push_str(&format!(
            "[[process]]\nname = \"p\"\ncode = \"\"\"\n{code}\"\"\"\n"
        ));
    }
    for (i, code) in threads.iter().enumerate() {
        if let Some(code) = code {
            let count = o.counts.get(i).copied().unwrap_or(1).clamp(1, 3);
            out.push_str(&format!(
                "[[thread]]\nname = \"t{i}\"\ncount = {count}\ncode = \"\"\"\n{code}\"\"\"\n"
            ));
        }
    }
    out.push_str(&format!(
        "[[thread]]\nname = \"late\"\nstart = false\ncode = \"\"\"\n{late}\"\"\"\n"
    ));
    if o.checks {
        out.push_str("[final]\nassert = [\"x <= 2\"]\n[invariant]\nassert = [\"g <= 1\"]\n");
    }
    if o.max_steps > 0 {
        out.push_str(&format!("[limits]\nmax_steps = {}\n", o.max_steps));
    }
    out
}
