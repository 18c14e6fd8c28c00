//! The scenario as a Python program: a literal translation of its parsed code (the
//! frontend's syntax tree), one Python line per scenario line where the scenario has one,
//! with the same names and the same operations on the real `threading`, `queue` and
//! `multiprocessing` objects.
//!
//! The program has four parts: the settings (start method, which modules), the prelude
//! (`prelude.py`: the scenario's built-ins in Python, the `Party` of a `[[thread]]` or
//! `[[process]]` table, the run loop and its watchdog), the scenario (`memory()`,
//! `objects()`, one function per party, `make_parties()`, `final()`, `observe()`,
//! `invariant()`), and `main()`.
//!
//! With [`Options::stress`] (what `--engine cpython` runs) every statement is preceded by
//! `_switch()` and every shared read is wrapped as `_r(x)`: a seeded chance to switch
//! threads exactly where the model lets the scheduler switch; timeouts are shortened
//! (`_t(t)`) and `sleep`/`work` take no time.
//!
//! A new statement or object kind is one arm in [`Translator::stmt`] or [`object_ctor`].

use crate::frontend::ast::{
    Arg, BinOp, BoolOp, CmpOp, Expr, ExprKind, InitValue, ObjRef, ObjectDecl, ObjectKind, Scenario,
    Stmt, StmtKind, Target, UnOp, VarClass, WithItem,
};
use crate::frontend::pipe_ends;
use crate::ir::{Program, StartMethod, Value};
use std::collections::{BTreeSet, HashMap};

const PRELUDE: &str = include_str!("prelude.py");

/// How to translate.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Switch points before statements and after shared reads; short timeouts; no time.
    pub stress: bool,
}

/// What a line of the Python program is in the scenario.
#[derive(Clone, Debug, Default)]
pub struct LineInfo {
    /// The scenario file's line.
    pub line: u32,
    /// The line is an `assert` statement of the scenario.
    pub assert: bool,
    /// A `[final]` assertion: its text.
    pub final_check: Option<String>,
    /// An `[invariant]` assertion: its text.
    pub invariant: Option<String>,
}

/// The translated program.
#[derive(Clone, Debug)]
pub struct PyProgram {
    /// `counter.py` for `counter.toml`.
    pub file_name: String,
    pub text: String,
    /// Per Python line (index = line - 1): the scenario line it comes from, if any.
    pub lines: Vec<Option<LineInfo>>,
}

impl PyProgram {
    /// What Python line `n` (1-based) is in the scenario.
    pub fn info(&self, n: u32) -> Option<&LineInfo> {
        self.lines.get((n as usize).checked_sub(1)?)?.as_ref()
    }
}

/// What a name of the scenario is.
#[derive(Clone, Debug)]
enum Sym {
    Var(VarClass),
    Object,
    Party,
    /// A `def` of `[functions]`.
    Function,
}

/// Names the prelude or Python needs: a scenario name among them gets a `_` appended.
const TAKEN: &[&str] = &[
    "threading",
    "queue",
    "multiprocessing",
    "time",
    "random",
    "sys",
    "os",
    "json",
    "signal",
    "traceback",
    "faulthandler",
    "Queue",
    "JoinableQueue",
    "Pool",
    "AsyncResult",
    "Party",
    "choose",
    "sleep",
    "work",
    "atomic",
    "memory",
    "objects",
    "make_parties",
    "final",
    "observe",
    "invariant",
    "main",
    "range",
    "len",
    "print",
    "globals",
    "open",
    "any",
    "list",
    "dict",
    "int",
    "str",
    "zip",
    "isinstance",
    "getattr",
    "hasattr",
    "id",
    "type",
    "hash",
    "object",
    "super",
    "min",
    "max",
    "class",
    "def",
    "del",
    "except",
    "finally",
    "from",
    "import",
    "lambda",
    "nonlocal",
    "raise",
    "return",
    "try",
    "yield",
    "async",
    "await",
    "in",
    "is",
    "as",
    "tid",
];

/// The Python name of a scenario name.
fn py_name(n: &str) -> String {
    if TAKEN.contains(&n) || n.starts_with('_') && n.len() > 1 && n.as_bytes()[1] != b'_' {
        format!("{n}_")
    } else {
        n.to_string()
    }
}

/// A value as a Python literal.
fn literal(v: &Value) -> String {
    match v {
        // Lists and tasks are never initial values: only code makes them, and code is
        // translated from the syntax tree, not from values.
        Value::List(_) | Value::Task { .. } => "None".into(),
        Value::None => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(i) => i.to_string(),
    }
}

fn list(vs: &[Value]) -> String {
    let items: Vec<String> = vs.iter().map(literal).collect();
    format!("[{}]", items.join(", "))
}

/// A string as a Python string literal (JSON's escapes are Python's).
fn string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// The constructor of one object of `kind`; `mp`: the scenario has processes, so the
/// objects are `multiprocessing`'s.
fn object_ctor(s: &Scenario, kind: &ObjectKind, mp: bool) -> String {
    let m = if mp { "multiprocessing" } else { "threading" };
    match kind {
        ObjectKind::Lock => format!("{m}.Lock()"),
        ObjectKind::RLock => format!("{m}.RLock()"),
        ObjectKind::Condition { lock: Some(l) } => format!("{m}.Condition({})", py_name(&l.name)),
        ObjectKind::Condition { lock: None } => format!("{m}.Condition()"),
        ObjectKind::Semaphore { value } => format!("{m}.Semaphore({value})"),
        ObjectKind::BoundedSemaphore { value } => format!("{m}.BoundedSemaphore({value})"),
        ObjectKind::Event => format!("{m}.Event()"),
        ObjectKind::Barrier { parties } => format!("{m}.Barrier({parties})"),
        ObjectKind::Queue { maxsize } | ObjectKind::JoinableQueue { maxsize } if mp => {
            format!("JoinableQueue(maxsize={maxsize})")
        }
        ObjectKind::Queue { maxsize } | ObjectKind::JoinableQueue { maxsize } => {
            format!("Queue(maxsize={maxsize})")
        }
        ObjectKind::SimpleQueue if mp => "multiprocessing.SimpleQueue()".into(),
        ObjectKind::SimpleQueue => "queue.SimpleQueue()".into(),
        ObjectKind::Value { value, lock } => {
            let l = if *lock { "" } else { ", lock=False" };
            format!("multiprocessing.Value(\"q\", {}{l})", literal(value))
        }
        ObjectKind::Array { values, lock } => {
            let l = if *lock { "" } else { ", lock=False" };
            format!("multiprocessing.Array(\"q\", {}{l})", list(values))
        }
        ObjectKind::Pipe { duplex } => {
            let d = if *duplex { "True" } else { "False" };
            format!("multiprocessing.Pipe(duplex={d})")
        }
        ObjectKind::ManagerDict { items } => {
            let items: Vec<String> = items
                .iter()
                .map(|(k, v)| format!("{}: {}", literal(k), literal(v)))
                .collect();
            format!("_manager.dict({{{}}})", items.join(", "))
        }
        ObjectKind::ManagerList { values } => format!("_manager.list({})", list(values)),
        // The prelude's `Pool`: multiprocessing's, with the scenario's start method.
        ObjectKind::Pool { processes } => format!("Pool({})", s.pool_workers(*processes)),
    }
}

/// Whether an object of `kind` needs `multiprocessing` (and so a start method).
fn needs_mp(kind: &ObjectKind) -> bool {
    matches!(
        kind,
        ObjectKind::Value { .. }
            | ObjectKind::Array { .. }
            | ObjectKind::Pipe { .. }
            | ObjectKind::ManagerDict { .. }
            | ObjectKind::ManagerList { .. }
            | ObjectKind::JoinableQueue { .. }
            | ObjectKind::Pool { .. }
    )
}

// Python's precedence levels, lowest first.
const P_IFEXP: u8 = 1;
const P_OR: u8 = 2;
const P_AND: u8 = 3;
const P_NOT: u8 = 4;
const P_CMP: u8 = 5;
const P_ADD: u8 = 6;
const P_MUL: u8 = 7;
const P_UNARY: u8 = 8;
const P_ATOM: u8 = 10;

/// Translates `s` (whose lowered form is `prog`) to Python.
pub fn translate(s: &Scenario, prog: &Program, opts: Options) -> PyProgram {
    let mut t = Translator::new(s, opts);
    t.program(prog);
    let file_name = format!(
        "{}.py",
        std::path::Path::new(&s.path)
            .file_stem()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| s.name.clone())
    );
    let mut text = String::new();
    let mut lines = vec![];
    for (l, info) in t.out {
        text.push_str(&l);
        text.push('\n');
        lines.push(info);
    }
    PyProgram {
        file_name,
        text,
        lines,
    }
}

struct Translator<'a> {
    s: &'a Scenario,
    opts: Options,
    syms: HashMap<String, Sym>,
    mp: bool,
    out: Vec<(String, Option<LineInfo>)>,
}

impl<'a> Translator<'a> {
    fn new(s: &'a Scenario, opts: Options) -> Self {
        let mut syms = HashMap::new();
        for v in &s.vars {
            syms.insert(v.name.name.clone(), Sym::Var(v.class));
        }
        for o in &s.objects {
            syms.insert(o.name.name.clone(), Sym::Object);
        }
        for p in &s.parties {
            syms.insert(p.name.name.clone(), Sym::Party);
        }
        for f in &s.functions {
            syms.insert(f.name.name.clone(), Sym::Function);
        }
        let mp = s.parties.iter().any(|p| p.process) || s.objects.iter().any(|o| needs_mp(&o.kind));
        Translator {
            s,
            opts,
            syms,
            mp,
            out: vec![],
        }
    }

    /// The scenario file's line of byte offset `at`.
    fn line_of(&self, at: usize) -> u32 {
        let at = at.min(self.s.source.len());
        self.s.source.as_bytes()[..at]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u32
            + 1
    }

    fn emit(&mut self, indent: usize, text: impl AsRef<str>, info: Option<LineInfo>) {
        let pad = "    ".repeat(indent);
        for (i, l) in text.as_ref().lines().enumerate() {
            let line = if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            };
            self.out
                .push((line, if i == 0 { info.clone() } else { None }));
        }
        if text.as_ref().is_empty() {
            self.out.push((String::new(), None));
        }
    }

    fn at(&self, at: usize) -> Option<LineInfo> {
        Some(LineInfo {
            line: self.line_of(at),
            ..LineInfo::default()
        })
    }

    fn program(&mut self, prog: &Program) {
        let s = self.s;
        // The header.
        self.emit(0, "#!/usr/bin/env python3", None);
        let mut doc = format!(
            "{}: translated from {} by simrace export --python.",
            s.name, s.path
        );
        if !s.description.is_empty() {
            doc.push_str("\n\n");
            doc.push_str(&s.description.replace('\\', "\\\\").replace("\"\"\"", "'''"));
        }
        doc.push_str(
            "\n\nRun it: python3 THIS_FILE [--runs N] [--seed N]. Each run prints its failures, \
             where every thread is\nstuck when it does not finish, or the final values.",
        );
        self.emit(0, format!("\"\"\"{doc}\n\"\"\""), None);
        self.emit(0, "", None);
        let sm = match s.start_method {
            StartMethod::Fork => "fork",
            StartMethod::Spawn => "spawn",
        };
        let manager = s.objects.iter().any(|o| {
            matches!(
                o.kind,
                ObjectKind::ManagerDict { .. } | ObjectKind::ManagerList { .. }
            )
        });
        let py = |b: bool| if b { "True" } else { "False" };
        let objects: Vec<String> = s
            .objects
            .iter()
            .map(|o| string(&py_name(&o.name.name)))
            .collect();
        let observe: Vec<String> = prog.observe.iter().map(|(n, _)| string(n)).collect();
        let settings = format!(
            "START_METHOD = {}  # how a process gets its memory ([scenario] start_method)\n\
             USES_PROCESSES = {}\n\
             USES_MANAGER = {}\n\
             STRESS = {}  # switch points before statements and after shared reads\n\
             HAS_INVARIANT = {}\n\
             TIME_SCALE = {}  # sleep(t) and work(t) take t * TIME_SCALE seconds\n\
             TIMEOUT_SCALE = {}  # a timeout of t waits t * TIMEOUT_SCALE seconds\n\
             OBJECTS = [{}]\n\
             OBSERVE = [{}]\n\
             # The Pipe ends each [[process]] table uses, and the [[thread]] tables together.\n\
             PIPE_ENDS = {{{}}}\n\
             THREAD_PIPE_ENDS = {{{}}}\n",
            string(sm),
            py(self.mp),
            py(manager),
            py(self.opts.stress),
            py(self.opts.stress && !s.invariants.is_empty()),
            if self.opts.stress { "0.0" } else { "1.0" },
            if self.opts.stress { "0.01" } else { "1.0" },
            objects.join(", "),
            observe.join(", "),
            self.pipe_ends(true),
            self.pipe_ends(false),
        );
        self.emit(0, settings, None);
        self.emit(0, PRELUDE.trim_end(), None);
        self.emit(0, "", None);
        self.emit(0, "", None);
        self.emit(0, "# --- the scenario ---", None);
        self.emit(0, "", None);
        self.memory();
        self.objects();
        self.functions();
        for p in &s.parties {
            self.emit(0, "", None);
            self.emit(0, "", None);
            let table = if p.process {
                "[[process]]"
            } else {
                "[[thread]]"
            };
            let head = format!("# {table} {}", p.name.name);
            self.emit(0, head, self.at(p.span.start));
            let name = format!("{}_code", p.name.name);
            self.function(&name, &["tid".to_string()], &p.code, None);
        }
        self.emit(0, "", None);
        self.emit(0, "", None);
        self.parties();
        self.checks(prog);
        self.emit(0, "", None);
        self.emit(0, "", None);
        self.emit(0, "if __name__ == \"__main__\":\n    main()", None);
    }

    /// `"p": {"producer": [1], ...}` per Pipe (`processes`), or `"p": [0]` (the ends
    /// the `[[thread]]` tables use).
    fn pipe_ends(&self, processes: bool) -> String {
        let mut out = vec![];
        for o in &self.s.objects {
            if !matches!(o.kind, ObjectKind::Pipe { .. }) {
                continue;
            }
            let mut per_party = vec![];
            let mut threads = BTreeSet::new();
            let used = pipe_ends::by_party(self.s, &o.name.name);
            for (p, ends) in self.s.parties.iter().zip(used) {
                if p.process {
                    let ends: Vec<String> = ends.iter().map(|e| e.to_string()).collect();
                    per_party.push(format!("{}: [{}]", string(&p.name.name), ends.join(", ")));
                } else {
                    threads.extend(ends);
                }
            }
            let name = string(&py_name(&o.name.name));
            if processes {
                out.push(format!("{name}: {{{}}}", per_party.join(", ")));
            } else {
                let ends: Vec<String> = threads.iter().map(|e| e.to_string()).collect();
                out.push(format!("{name}: [{}]", ends.join(", ")));
            }
        }
        out.join(", ")
    }

    fn globals_line(&mut self, names: &[String]) {
        if !names.is_empty() {
            self.emit(1, format!("global {}", names.join(", ")), None);
        }
    }

    fn memory(&mut self) {
        let s = self.s;
        self.emit(0, "def memory():", None);
        self.emit(
            1,
            "\"\"\"[shared], [atomics] and [ghost]: every run starts from these values.\"\"\"",
            None,
        );
        let names: Vec<String> = s.vars.iter().map(|v| py_name(&v.name.name)).collect();
        self.globals_line(&names);
        for v in &s.vars {
            let val = match &v.init {
                InitValue::Scalar(x) => literal(x),
                InitValue::Array(xs) => list(xs),
            };
            let class = match v.class {
                VarClass::Shared => "[shared]",
                VarClass::Atomic => "[atomics]",
                VarClass::Ghost => "[ghost]",
            };
            let l = format!("{} = {val}  # {class}", py_name(&v.name.name));
            self.emit(1, l, self.at(v.name.span.start));
        }
        if s.vars.is_empty() {
            self.emit(1, "pass", None);
        }
        self.emit(0, "", None);
        self.emit(0, "", None);
    }

    fn objects(&mut self) {
        let s = self.s;
        self.emit(0, "def objects():", None);
        self.emit(1, "\"\"\"[objects]: new ones for every run.\"\"\"", None);
        let names: Vec<String> = s.objects.iter().map(|o| py_name(&o.name.name)).collect();
        self.globals_line(&names);
        // A Pool last: its workers are given the other objects when it starts them.
        let pool = |o: &&ObjectDecl| matches!(o.kind, ObjectKind::Pool { .. });
        let others = s.objects.iter().filter(|o| !pool(o));
        for o in others.chain(s.objects.iter().filter(pool)) {
            let ctor = object_ctor(self.s, &o.kind, self.mp);
            let rhs = match o.count {
                Some(n) => format!("[{ctor} for _ in range({n})]"),
                None => ctor,
            };
            let l = format!("{} = {rhs}", py_name(&o.name.name));
            self.emit(1, l, self.at(o.name.span.start));
        }
        if s.objects.is_empty() {
            self.emit(1, "pass", None);
        }
    }

    fn parties(&mut self) {
        let s = self.s;
        self.emit(0, "def make_parties():", None);
        self.emit(
            1,
            "\"\"\"The [[thread]] and [[process]] tables, in file order.\"\"\"",
            None,
        );
        let names: Vec<String> = s.parties.iter().map(|p| py_name(&p.name.name)).collect();
        self.globals_line(&names);
        for p in &s.parties {
            let mut args = vec![string(&p.name.name), format!("{}_code", p.name.name)];
            if let Some(n) = p.count {
                args.push(format!("count={n}"));
            }
            if p.process {
                args.push("process=True".into());
            }
            if p.daemon {
                args.push("daemon=True".into());
            }
            if !p.start {
                args.push("start=False".into());
            }
            let l = format!("{} = Party({})", py_name(&p.name.name), args.join(", "));
            self.emit(1, l, self.at(p.span.start));
        }
        self.emit(1, format!("return [{}]", names.join(", ")), None);
    }

    fn checks(&mut self, prog: &Program) {
        let s = self.s;
        self.emit(0, "", None);
        self.emit(0, "", None);
        self.emit(0, "def final():", None);
        self.emit(
            1,
            "\"\"\"[final]: checked once every thread has finished.\"\"\"",
            None,
        );
        for e in &s.final_asserts {
            let text = s.source[e.span.start..e.span.end].to_string();
            let l = format!("assert {}", self.expr(e, false));
            let mut info = self.at(e.span.start).unwrap();
            info.final_check = Some(text);
            self.emit(1, l, Some(info));
        }
        if s.final_asserts.is_empty() {
            self.emit(1, "pass", None);
        }
        self.emit(0, "", None);
        self.emit(0, "", None);
        self.emit(0, "def observe():", None);
        self.emit(
            1,
            "\"\"\"The final values the outcome table shows.\"\"\"",
            None,
        );
        let vals: Vec<String> = prog
            .observe
            .iter()
            .map(|(n, _)| {
                let cut = n.find(['[', '.']).unwrap_or(n.len());
                format!("{}{}", py_name(&n[..cut]), &n[cut..])
            })
            .collect();
        self.emit(1, format!("return [{}]", vals.join(", ")), None);
        self.emit(0, "", None);
        self.emit(0, "", None);
        self.emit(0, "def invariant():", None);
        self.emit(
            1,
            "\"\"\"[invariant]: checked at every switch point (with STRESS).\"\"\"",
            None,
        );
        for e in &s.invariants {
            let text = s.source[e.span.start..e.span.end].to_string();
            let l = format!("assert {}", self.expr(e, false));
            let mut info = self.at(e.span.start).unwrap();
            info.invariant = Some(text);
            self.emit(1, l, Some(info));
        }
        if s.invariants.is_empty() {
            self.emit(1, "pass", None);
        }
    }

    /// `[functions]`: each `def` as it is written, after the objects it may use.
    fn functions(&mut self) {
        let s = self.s;
        if s.functions.is_empty() {
            return;
        }
        self.emit(0, "", None);
        self.emit(0, "", None);
        self.emit(0, "# [functions]", None);
        for (i, f) in s.functions.iter().enumerate() {
            if i > 0 {
                self.emit(0, "", None);
                self.emit(0, "", None);
            }
            let params: Vec<String> = f.params.iter().map(|p| py_name(&p.name)).collect();
            let head = self.at(f.span.start);
            self.function(&py_name(&f.name.name), &params, &f.body, head);
        }
    }

    /// `def name(params):` with `global` for the variables the body assigns; `head`: what
    /// the `def` line is in the scenario.
    fn function(&mut self, name: &str, params: &[String], body: &[Stmt], head: Option<LineInfo>) {
        self.emit(0, format!("def {name}({}):", params.join(", ")), head);
        let mut assigned = BTreeSet::new();
        self.assigned(body, &mut assigned);
        let globals: Vec<String> = assigned.into_iter().collect();
        self.globals_line(&globals);
        self.block(1, body);
    }

    /// The variables that `body` assigns (Python needs `global` for them).
    fn assigned(&self, body: &[Stmt], out: &mut BTreeSet<String>) {
        for st in body {
            match &st.kind {
                StmtKind::Assign { target, .. } | StmtKind::AugAssign { target, .. }
                    if target.index.is_none() && target.attr.is_none() =>
                {
                    if matches!(self.syms.get(&target.name.name), Some(Sym::Var(_))) {
                        out.insert(py_name(&target.name.name));
                    }
                }
                StmtKind::For { var, body, .. } | StmtKind::ForEach { var, body, .. } => {
                    if matches!(self.syms.get(&var.name), Some(Sym::Var(_))) {
                        out.insert(py_name(&var.name));
                    }
                    self.assigned(body, out);
                }
                StmtKind::If { branches, orelse } => {
                    for (_, b) in branches {
                        self.assigned(b, out);
                    }
                    if let Some(b) = orelse {
                        self.assigned(b, out);
                    }
                }
                StmtKind::While { body, .. } | StmtKind::With { body, .. } => {
                    self.assigned(body, out)
                }
                _ => {}
            }
        }
    }

    fn block(&mut self, indent: usize, body: &[Stmt]) {
        let before = self.out.len();
        // With invariants, a run of [ghost] updates is marked (`_ghost(1)` .. `_ghost(0)`):
        // the model makes them at once, so no invariant is checked in between.
        let mark = self.opts.stress && !self.s.invariants.is_empty();
        let mut i = 0;
        while i < body.len() {
            let mut j = i;
            while mark && j < body.len() && self.ghost_only(&body[j]) {
                j += 1;
            }
            if j > i + 1 {
                let first = self.out.len();
                for st in &body[i..j] {
                    self.stmt(indent, st);
                }
                let l = &mut self.out[first].0;
                let at = l.len() - l.trim_start().len();
                l.insert_str(at, "_ghost(1); ");
                self.emit(indent, "_ghost(0)", None);
                i = j;
            } else {
                self.stmt(indent, &body[i]);
                i += 1;
            }
        }
        if self.out.len() == before {
            self.emit(indent, "pass", None);
        }
    }

    /// `_switch(); ` before a simple statement that takes a step (with stress): locals
    /// and `[ghost]` names are not steps, so nothing switches before them.
    fn switch(&self, st: &Stmt) -> &'static str {
        let step = match &st.kind {
            StmtKind::Assign { target, value } | StmtKind::AugAssign { target, value, .. } => {
                self.target_is_step(target)
                    || target.index.as_ref().is_some_and(|i| self.has_step(i))
                    || self.has_step(value)
            }
            StmtKind::Assert { cond, .. } => self.has_step(cond),
            StmtKind::Expr(e) => self.has_step(e),
            _ => false,
        };
        if self.opts.stress && step {
            "_switch(); "
        } else {
            ""
        }
    }

    /// Whether evaluating `e` takes a step (a shared read, an operation, a call).
    fn has_step(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Int(_)
            | ExprKind::Decimal(_)
            | ExprKind::Bool(_)
            | ExprKind::None
            | ExprKind::Str(_)
            | ExprKind::Tid => false,
            ExprKind::Name(n) => {
                matches!(self.syms.get(n), Some(Sym::Var(c)) if *c != VarClass::Ghost)
            }
            ExprKind::Index { name, index } => {
                matches!(self.syms.get(&name.name), Some(Sym::Var(c)) if *c != VarClass::Ghost)
                    || matches!(self.syms.get(&name.name), Some(Sym::Object))
                    || self.has_step(index)
            }
            ExprKind::Unary { operand, .. } => self.has_step(operand),
            ExprKind::Binary { lhs, rhs, .. } => self.has_step(lhs) || self.has_step(rhs),
            ExprKind::Compare { first, rest } => {
                self.has_step(first) || rest.iter().any(|(_, x)| self.has_step(x))
            }
            ExprKind::BoolOp { values, .. } => values.iter().any(|v| self.has_step(v)),
            ExprKind::IfExp { cond, then, orelse } => {
                self.has_step(cond) || self.has_step(then) || self.has_step(orelse)
            }
            ExprKind::Call { func, args } => {
                !matches!(func.name.as_str(), "print" | "len")
                    || args.iter().any(|a| self.has_step(&a.value))
            }
            ExprKind::Method { .. } | ExprKind::Attr { .. } => true,
            ExprKind::List(items) | ExprKind::Tuple(items) => {
                items.iter().any(|x| self.has_step(x))
            }
        }
    }

    fn stmt(&mut self, ind: usize, st: &Stmt) {
        let info = self.at(st.span.start);
        let sw = self.switch(st);
        match &st.kind {
            StmtKind::Pass => self.emit(ind, format!("{sw}pass"), info),
            StmtKind::Assign { target, value } => {
                let l = format!("{sw}{} = {}", self.target(target), self.expr(value, true));
                self.emit(ind, l, info);
            }
            StmtKind::AugAssign { target, op, value } => {
                let t = self.target(target);
                let l = if self.opts.stress && self.target_is_step(target) {
                    // Read, a chance to switch, then write: the two steps of `x += e`.
                    let rhs = self.paren(value, P_MUL.max(op_prec(*op) + 1), true);
                    format!("{sw}{t} = _r({t}) {} {rhs}", op.symbol())
                } else {
                    format!("{sw}{t} {}= {}", op.symbol(), self.expr(value, true))
                };
                self.emit(ind, l, info);
            }
            StmtKind::If { branches, orelse } => {
                if self.opts.stress && self.has_step(&branches[0].0) {
                    self.emit(ind, "_switch()", info.clone());
                }
                for (i, (cond, body)) in branches.iter().enumerate() {
                    let kw = if i == 0 { "if" } else { "elif" };
                    let l = format!("{kw} {}:", self.expr(cond, true));
                    self.emit(ind, l, self.at(cond.span.start));
                    self.block(ind + 1, body);
                }
                if let Some(b) = orelse {
                    self.emit(ind, "else:", None);
                    self.block(ind + 1, b);
                }
            }
            StmtKind::While { cond, body } => {
                let l = format!("while {}:", self.expr(cond, true));
                self.emit(ind, l, info);
                if self.opts.stress {
                    self.emit(ind + 1, "_switch()", self.at(st.span.start));
                }
                self.block(ind + 1, body);
            }
            StmtKind::For {
                var,
                start,
                end,
                step,
                body,
            } => {
                let mut args = vec![];
                if let Some(s) = start {
                    args.push(self.expr(s, true));
                }
                args.push(self.expr(end, true));
                if let Some(s) = step {
                    args.push(self.expr(s, true));
                }
                let l = format!("for {} in range({}):", py_name(&var.name), args.join(", "));
                self.emit(ind, l, info);
                self.block(ind + 1, body);
            }
            StmtKind::ForEach { var, iter, body } => {
                let l = format!("for {} in {}:", py_name(&var.name), self.expr(iter, true));
                self.emit(ind, l, info);
                self.block(ind + 1, body);
            }
            StmtKind::Return(value) => {
                let v = value
                    .as_ref()
                    .map(|v| format!(" {}", self.expr(v, true)))
                    .unwrap_or_default();
                self.emit(ind, format!("{sw}return{v}"), info);
            }
            StmtKind::Break => self.emit(ind, format!("{sw}break"), info),
            StmtKind::Continue => self.emit(ind, format!("{sw}continue"), info),
            StmtKind::With { item, body } => {
                if self.opts.stress {
                    self.emit(ind, "_switch()", info.clone());
                }
                let what = match item {
                    WithItem::Atomic(_) => "atomic".to_string(),
                    WithItem::Object(r) => self.objref(r),
                };
                self.emit(ind, format!("with {what}:"), info);
                // An atomic block is one step: nothing switches, and no invariant is
                // checked, inside it (a `_switch()` there let other threads run, and
                // checked the invariant, half-way through the block).
                let stress = self.opts.stress;
                self.opts.stress &= !matches!(item, WithItem::Atomic(_));
                self.block(ind + 1, body);
                // The release is a step of its own: a chance to switch before it, while
                // the lock is held (`with m: pass` never let another thread see m held).
                let jumps = matches!(
                    body.last().map(|s| &s.kind),
                    Some(StmtKind::Break | StmtKind::Continue | StmtKind::Return(_))
                );
                if self.opts.stress && !jumps {
                    self.emit(ind + 1, "_switch()", None);
                }
                self.opts.stress = stress;
            }
            StmtKind::Assert { cond, message } => {
                let mut l = format!("{sw}assert {}", self.expr(cond, true));
                if let Some(m) = message {
                    l.push_str(&format!(", {}", string(m)));
                }
                let mut info = info.unwrap();
                info.assert = true;
                self.emit(ind, l, Some(info));
            }
            StmtKind::Expr(e) => {
                let l = format!("{sw}{}", self.expr(e, true));
                self.emit(ind, l, info);
            }
            // `global` goes to the top of the function (Python wants it before any use).
            StmtKind::Global(_) => {}
        }
    }

    /// An assignment to a `[ghost]` name that takes no step.
    fn ghost_only(&self, st: &Stmt) -> bool {
        match &st.kind {
            StmtKind::Assign { target, value } | StmtKind::AugAssign { target, value, .. } => {
                matches!(
                    self.syms.get(&target.name.name),
                    Some(Sym::Var(VarClass::Ghost))
                ) && !target.index.as_ref().is_some_and(|i| self.has_step(i))
                    && !self.has_step(value)
            }
            _ => false,
        }
    }

    /// Whether reading `target` is a step (a shared or atomic variable, a `Value`, an
    /// `Array` element or a manager proxy's item).
    fn target_is_step(&self, t: &Target) -> bool {
        match self.syms.get(&t.name.name) {
            Some(Sym::Var(c)) => *c != VarClass::Ghost,
            Some(Sym::Object) => true,
            _ => false,
        }
    }

    fn target(&self, t: &Target) -> String {
        let mut s = py_name(&t.name.name);
        if let Some(i) = &t.index {
            s.push_str(&format!("[{}]", self.expr(i, true)));
        }
        if let Some(a) = &t.attr {
            s.push('.');
            s.push_str(&a.name);
        }
        s
    }

    fn objref(&self, r: &ObjRef) -> String {
        let mut s = py_name(&r.name.name);
        if let Some(i) = &r.index {
            s.push_str(&format!("[{}]", self.expr(i, true)));
        }
        if let Some(g) = &r.getter {
            s.push_str(&format!(".{}()", g.name));
        }
        s
    }

    /// `e` as Python; `reads`: wrap shared reads in `_r` (with stress).
    fn expr(&self, e: &Expr, reads: bool) -> String {
        self.prec(e, reads).0
    }

    /// `e`, parenthesized unless its precedence is at least `min`.
    fn paren(&self, e: &Expr, min: u8, reads: bool) -> String {
        let (s, p) = self.prec(e, reads);
        if p < min { format!("({s})") } else { s }
    }

    fn read(&self, s: String, reads: bool) -> (String, u8) {
        if reads && self.opts.stress {
            (format!("_r({s})"), P_ATOM)
        } else {
            (s, P_ATOM)
        }
    }

    /// A call's arguments; under stress a timeout, given by keyword or in its place
    /// (`timeout`: the place of the method's timeout parameter), is shortened.
    fn args(&self, args: &[Arg], reads: bool, timeout: Option<usize>) -> String {
        let parts: Vec<String> = args
            .iter()
            .enumerate()
            .map(|(i, a)| match &a.keyword {
                Some(k) if k.name == "timeout" && self.opts.stress => {
                    format!("timeout=_t({})", self.expr(&a.value, reads))
                }
                Some(k) => format!("{}={}", k.name, self.expr(&a.value, reads)),
                None if self.opts.stress && timeout == Some(i) => {
                    format!("_t({})", self.expr(&a.value, reads))
                }
                None => self.expr(&a.value, reads),
            })
            .collect();
        parts.join(", ")
    }

    /// Where `receiver.method(...)` takes its timeout when it is given in its place, as
    /// Python's signatures have it (`acquire(blocking, timeout)`, `get(block, timeout)`,
    /// `put(item, block, timeout)`, `wait(timeout)`, `join(timeout)`, `poll(timeout)`).
    fn timeout_place(&self, receiver: &ObjRef, method: &str) -> Option<usize> {
        use ObjectKind as K;
        if receiver.getter.is_some() {
            // `v.get_lock()`: an RLock.
            return (method == "acquire").then_some(1);
        }
        let name = &receiver.name.name;
        if let Some(o) = self.s.objects.iter().find(|o| o.name.name == *name) {
            return match (&o.kind, method) {
                (K::Lock | K::RLock | K::Semaphore { .. }, "acquire") => Some(1),
                (K::BoundedSemaphore { .. } | K::Condition { .. }, "acquire") => Some(1),
                (K::Condition { .. } | K::Event, "wait") => Some(0),
                (K::Condition { .. }, "wait_for") => Some(1),
                (K::Queue { .. } | K::JoinableQueue { .. }, "get") => Some(1),
                (K::Queue { .. } | K::JoinableQueue { .. }, "put") => Some(2),
                (K::Pipe { .. }, "poll") => Some(0),
                _ => None,
            };
        }
        // A party's `join(timeout)`; a Pool's result's `get(timeout)` and `wait(timeout)`.
        matches!(method, "join" | "get" | "wait").then_some(0)
    }

    fn prec(&self, e: &Expr, reads: bool) -> (String, u8) {
        match &e.kind {
            ExprKind::Int(i) if *i < 0 => (i.to_string(), P_UNARY),
            ExprKind::Int(i) => (i.to_string(), P_ATOM),
            // A time in seconds, kept as microseconds: written back as Python's float.
            ExprKind::Decimal(us) => (format!("{}", *us as f64 / 1e6), P_ATOM),
            ExprKind::Bool(b) => (if *b { "True" } else { "False" }.into(), P_ATOM),
            ExprKind::None => ("None".into(), P_ATOM),
            ExprKind::Str(s) => (string(s), P_ATOM),
            ExprKind::Tid => ("tid".into(), P_ATOM),
            ExprKind::List(items) => {
                let items: Vec<String> = items.iter().map(|x| self.expr(x, reads)).collect();
                (format!("[{}]", items.join(", ")), P_ATOM)
            }
            ExprKind::Tuple(items) => {
                let items: Vec<String> = items.iter().map(|x| self.expr(x, reads)).collect();
                let comma = if items.len() == 1 { "," } else { "" };
                (format!("({}{comma})", items.join(", ")), P_ATOM)
            }
            ExprKind::Name(n) => {
                let s = py_name(n);
                match self.syms.get(n) {
                    Some(Sym::Var(c)) if *c != VarClass::Ghost => self.read(s, reads),
                    _ => (s, P_ATOM),
                }
            }
            ExprKind::Index { name, index } => {
                let s = format!("{}[{}]", py_name(&name.name), self.expr(index, reads));
                match self.syms.get(&name.name) {
                    Some(Sym::Var(VarClass::Ghost)) => (s, P_ATOM),
                    Some(Sym::Var(_) | Sym::Object) => self.read(s, reads),
                    _ => (s, P_ATOM),
                }
            }
            ExprKind::Unary { op, operand } => match op {
                UnOp::Not => (format!("not {}", self.paren(operand, P_NOT, reads)), P_NOT),
                UnOp::Neg => (format!("-{}", self.paren(operand, P_UNARY, reads)), P_UNARY),
                UnOp::Pos => (format!("+{}", self.paren(operand, P_UNARY, reads)), P_UNARY),
            },
            ExprKind::Binary { op, lhs, rhs } => {
                let p = op_prec(*op);
                let s = format!(
                    "{} {} {}",
                    self.paren(lhs, p, reads),
                    op.symbol(),
                    self.paren(rhs, p + 1, reads)
                );
                (s, p)
            }
            ExprKind::Compare { first, rest } => {
                let mut s = self.paren(first, P_CMP + 1, reads);
                let mut prev: &Expr = first;
                for (op, x) in rest {
                    // `x is None` was read as `x == None`: written back as Python has it.
                    let none = |e: &Expr| matches!(e.kind, ExprKind::None);
                    let sym = match op {
                        CmpOp::Eq if none(prev) || none(x) => "is",
                        CmpOp::Ne if none(prev) || none(x) => "is not",
                        _ => cmp_symbol(*op),
                    };
                    s.push_str(&format!(" {sym} {}", self.paren(x, P_CMP + 1, reads)));
                    prev = x;
                }
                (s, P_CMP)
            }
            ExprKind::BoolOp { op, values } => {
                let (word, p) = match op {
                    BoolOp::And => ("and", P_AND),
                    BoolOp::Or => ("or", P_OR),
                };
                let parts: Vec<String> =
                    values.iter().map(|v| self.paren(v, p + 1, reads)).collect();
                (parts.join(&format!(" {word} ")), p)
            }
            ExprKind::IfExp { cond, then, orelse } => (
                format!(
                    "{} if {} else {}",
                    self.paren(then, P_IFEXP + 1, reads),
                    self.paren(cond, P_IFEXP + 1, reads),
                    self.paren(orelse, P_IFEXP, reads)
                ),
                P_IFEXP,
            ),
            ExprKind::Call { func, args } if func.name == "cas" && args.len() == 3 => {
                // cas(x, e, n) and cas(a[i], e, n): on the variable, not on its value.
                let (cells, key) = match &args[0].value.kind {
                    ExprKind::Index { name, index } => {
                        (py_name(&name.name), self.expr(index, reads))
                    }
                    ExprKind::Name(n) => ("globals()".to_string(), string(&py_name(n))),
                    _ => ("globals()".to_string(), "None".to_string()),
                };
                let s = format!(
                    "_cas({cells}, {key}, {}, {})",
                    self.expr(&args[1].value, reads),
                    self.expr(&args[2].value, reads)
                );
                (s, P_ATOM)
            }
            ExprKind::Call { func, args } => {
                let name = match self.syms.get(&func.name) {
                    Some(Sym::Function) => py_name(&func.name),
                    _ => func.name.clone(),
                };
                let s = format!("{name}({})", self.args(args, reads, None));
                (s, P_ATOM)
            }
            ExprKind::Method {
                receiver,
                method,
                args,
            } => {
                // `Lock.locked()` (the only `locked`): multiprocessing's Lock has none.
                if method.name == "locked" {
                    return (format!("_locked({})", self.objref(receiver)), P_ATOM);
                }
                let timeout = self.timeout_place(receiver, &method.name);
                let s = format!(
                    "{}.{}({})",
                    self.objref(receiver),
                    method.name,
                    self.args(args, reads, timeout)
                );
                (s, P_ATOM)
            }
            ExprKind::Attr { receiver, attr } => {
                let s = format!("{}.{}", self.objref(receiver), attr.name);
                self.read(s, reads)
            }
        }
    }
}

fn op_prec(op: BinOp) -> u8 {
    match op {
        BinOp::Add | BinOp::Sub => P_ADD,
        BinOp::Mul | BinOp::FloorDiv | BinOp::Mod => P_MUL,
    }
}

fn cmp_symbol(op: CmpOp) -> &'static str {
    op.symbol()
}
