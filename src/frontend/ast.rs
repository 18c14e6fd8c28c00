//! The syntax tree of a scenario file, as read by [`crate::frontend::scenario`] and
//! [`crate::frontend::parser`].
//!
//! Every node carries a [`Span`]: byte offsets into the *scenario file* (not into the
//! `code` string it came from), so that any later stage can point at the exact place in
//! the file a user wrote. Nothing here is checked beyond syntax: names are not resolved
//! and methods are not matched to object kinds; [`crate::frontend::lower`] does that.

use crate::ir::{FindingKind, StartMethod, Timing, Value};

/// Byte offsets `start..end` into the scenario file's text.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A name with the place it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A whole scenario file.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The path as given on the command line (used in messages).
    pub path: String,
    /// The whole file text; spans index into it.
    pub source: String,
    /// `[scenario] name`, or the file stem.
    pub name: String,
    pub description: String,
    /// `[scenario] expect`, sorted and deduplicated; empty for "pass" or absent.
    pub expect: Vec<FindingKind>,
    /// `[shared]`, `[atomics]` and `[ghost]` in file order.
    pub vars: Vec<VarDecl>,
    /// `[objects]` in file order.
    pub objects: Vec<ObjectDecl>,
    /// Every `[[thread]]` and `[[process]]` table, in file order across both (the order
    /// of the thread numbering, which the timing model's tie-break follows).
    pub parties: Vec<ThreadDecl>,
    /// The `def`s of `[functions]`, in file order.
    pub functions: Vec<FuncDef>,
    /// `[scenario] start_method`: how a started process gets its memory.
    pub start_method: StartMethod,
    /// `[final] assert`.
    pub final_asserts: Vec<Expr>,
    /// `[final] observe`; `None` when absent (default: every shared and atomic name).
    pub observe: Option<Vec<Ident>>,
    /// `[invariant] assert`.
    pub invariants: Vec<Expr>,
    pub limits: Limits,
    /// `[timing]`.
    pub timing: Timing,
}

impl Scenario {
    /// How many workers a Pool with `processes` has: that many, or without it one per
    /// core of `[timing]` (at most the 16 a Pool may have), as Python's `Pool()` starts
    /// `os.cpu_count()`.
    pub fn pool_workers(&self, processes: Option<i64>) -> u32 {
        let cores = i64::from(self.timing.cores);
        let max = crate::frontend::scenario::objects::MAX_POOL_PROCESSES;
        processes.unwrap_or(cores.min(max)).clamp(1, max) as u32
    }

    /// Whether some Pool's size follows `[timing] cores` (it has no `processes`).
    pub fn pool_follows_cores(&self) -> bool {
        (self.objects.iter()).any(|o| matches!(o.kind, ObjectKind::Pool { processes: None }))
    }
}

/// `[limits]`: defaults for this scenario that command-line flags override.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_steps: Option<u64>,
    pub max_executions: Option<u64>,
    /// Seconds.
    pub timeout: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VarClass {
    /// `[shared]`: every access is a step, checked for races.
    Shared,
    /// `[atomics]`: every access is a step, never a race; writes synchronize with reads.
    Atomic,
    /// `[ghost]`: instrumentation; not a step, never a race.
    Ghost,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InitValue {
    Scalar(Value),
    /// A fixed-length array of ints or bools (or None).
    Array(Vec<Value>),
}

#[derive(Clone, Debug)]
pub struct VarDecl {
    pub name: Ident,
    pub class: VarClass,
    pub init: InitValue,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    Lock,
    RLock,
    /// `lock`: the name of the Lock or RLock it uses; `None`: its own RLock.
    Condition {
        lock: Option<Ident>,
    },
    Semaphore {
        value: i64,
    },
    BoundedSemaphore {
        value: i64,
    },
    Event,
    Barrier {
        parties: i64,
    },
    /// `maxsize` 0: unbounded.
    Queue {
        maxsize: i64,
    },
    /// `multiprocessing.JoinableQueue`: a Queue.
    JoinableQueue {
        maxsize: i64,
    },
    /// `multiprocessing.SimpleQueue`: `put`, `get` and `empty` only.
    SimpleQueue,
    /// `multiprocessing.Value`: one cell of memory shared by every party; `lock`: it
    /// comes with an RLock (`get_lock()`).
    Value {
        value: Value,
        lock: bool,
    },
    /// `multiprocessing.Array`: cells shared by every party, with an RLock unless `lock`
    /// is false.
    Array {
        values: Vec<Value>,
        lock: bool,
    },
    /// `multiprocessing.Pipe(duplex)`: two connections, `p[0]` and `p[1]`.
    Pipe {
        duplex: bool,
    },
    /// `Manager().dict()` with its initial items.
    ManagerDict {
        items: Vec<(Value, Value)>,
    },
    /// `Manager().list()` with its initial values.
    ManagerList {
        values: Vec<Value>,
    },
    /// `multiprocessing.Pool(processes)`; `None`: as many as the machine has cores
    /// (`[timing] cores`, see [`Scenario::pool_workers`]), as `Pool()` takes
    /// `os.cpu_count()`.
    Pool {
        processes: Option<i64>,
    },
}

impl ObjectKind {
    pub fn name(&self) -> &'static str {
        match self {
            ObjectKind::Lock => "Lock",
            ObjectKind::RLock => "RLock",
            ObjectKind::Condition { .. } => "Condition",
            ObjectKind::Semaphore { .. } => "Semaphore",
            ObjectKind::BoundedSemaphore { .. } => "BoundedSemaphore",
            ObjectKind::Event => "Event",
            ObjectKind::Barrier { .. } => "Barrier",
            ObjectKind::Queue { .. } => "Queue",
            ObjectKind::JoinableQueue { .. } => "JoinableQueue",
            ObjectKind::SimpleQueue => "SimpleQueue",
            ObjectKind::Value { .. } => "Value",
            ObjectKind::Array { .. } => "Array",
            ObjectKind::Pipe { .. } => "Pipe",
            ObjectKind::ManagerDict { .. } => "ManagerDict",
            ObjectKind::ManagerList { .. } => "ManagerList",
            ObjectKind::Pool { .. } => "Pool",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ObjectDecl {
    pub name: Ident,
    pub kind: ObjectKind,
    /// `count = N`: an array of N objects; `None`: a single object.
    pub count: Option<u32>,
    /// The span of the whole value (`"Lock"` or the inline table), for messages.
    #[allow(dead_code)] // kept with the tree for the messages about object declarations
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct ThreadDecl {
    pub name: Ident,
    /// A `[[process]]` (its own memory), not a `[[thread]]` of the main program.
    pub process: bool,
    /// `daemon = true`: stopped, not waited for, once every non-daemon party has finished.
    pub daemon: bool,
    /// `count = N`: instances name[0]..name[N-1]; `None`: one instance called `name`.
    pub count: Option<u32>,
    pub start: bool,
    pub code: Vec<Stmt>,
    /// The span of the `[[thread]]` table header, for messages.
    pub span: Span,
}

/// `def name(params):` of `[functions]`.
#[derive(Clone, Debug)]
pub struct FuncDef {
    pub name: Ident,
    pub params: Vec<Ident>,
    pub body: Vec<Stmt>,
    /// The header line, up to the `:`.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    /// The statement's first line (for compound statements: the header line only).
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum StmtKind {
    Pass,
    /// `x = e`, `a[i] = e`.
    Assign {
        target: Target,
        value: Expr,
    },
    /// `x += e` and friends: `op` is the arithmetic operator.
    AugAssign {
        target: Target,
        op: BinOp,
        value: Expr,
    },
    /// `if`/`elif` branches in order, then the optional `else`.
    If {
        branches: Vec<(Expr, Vec<Stmt>)>,
        orelse: Option<Vec<Stmt>>,
    },
    While {
        cond: Expr,
        body: Vec<Stmt>,
    },
    /// `for var in range(start, end, step)`; `range(n)` has start `None`.
    For {
        var: Ident,
        start: Option<Expr>,
        end: Expr,
        step: Option<Expr>,
        body: Vec<Stmt>,
    },
    /// `for var in iter:` over an array or a list value (not `range`).
    ForEach {
        var: Ident,
        iter: Expr,
        body: Vec<Stmt>,
    },
    Break,
    Continue,
    /// `return` or `return e`, in a function.
    Return(Option<Expr>),
    /// `with m:` / `with fork[i]:` / `with atomic:`. `with a, b:` is parsed as nested withs.
    With {
        item: WithItem,
        body: Vec<Stmt>,
    },
    Assert {
        cond: Expr,
        message: Option<String>,
    },
    /// An expression used as a statement: a method call, `sleep(n)`, `print(...)`, ...
    Expr(Expr),
    /// `global a, b`: in a function, the variables it may assign; elsewhere accepted for
    /// Python programmers, and means nothing.
    Global(Vec<Ident>),
}

#[derive(Clone, Debug)]
pub enum WithItem {
    Atomic(Span),
    /// An object (`m`) or an element of an object array (`fork[i]`).
    Object(ObjRef),
}

/// A reference to an object or thread: `m` or `fork[i]`; or the object that a method
/// without arguments gives, `v.get_lock()`.
#[derive(Clone, Debug)]
pub struct ObjRef {
    pub name: Ident,
    pub index: Option<Box<Expr>>,
    /// `v.get_lock()`: the method (called without arguments) whose result is the object.
    pub getter: Option<Ident>,
    pub span: Span,
}

/// The left side of an assignment: `x`, `a[i]` or `v.value`.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: Ident,
    pub index: Option<Expr>,
    /// `v.value`: the attribute assigned.
    pub attr: Option<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    FloorDiv,
    Mod,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Pos,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoolOp {
    And,
    Or,
}

#[derive(Clone, Debug)]
pub struct Arg {
    /// `Some` for a keyword argument (`blocking=False`).
    pub keyword: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Int(i64),
    /// A decimal literal, in millionths (`0.5` is 500000): only a time in seconds
    /// (`work(t)`, `sleep(t)`, `timeout=t`) may be one.
    Decimal(i64),
    Bool(bool),
    None,
    /// A string literal: only meaningful as a `print` argument (lowering rejects it elsewhere).
    Str(String),
    Name(String),
    /// `tid`: this instance's index.
    Tid,
    /// `[a, b]`: a list value.
    List(Vec<Expr>),
    /// `(a, b)` or `(a,)`: only the argument list of `apply_async` and `apply`.
    Tuple(Vec<Expr>),
    /// `a[i]`: an element of an array, of an `Array` object or of a manager proxy.
    Index {
        name: Ident,
        index: Box<Expr>,
    },
    Unary {
        op: UnOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `a < b <= c`: Python's chained comparison.
    Compare {
        first: Box<Expr>,
        rest: Vec<(CmpOp, Expr)>,
    },
    /// `a and b and c`: short-circuit, returns an operand as Python does.
    BoolOp {
        op: BoolOp,
        values: Vec<Expr>,
    },
    /// `a if cond else b`.
    IfExp {
        cond: Box<Expr>,
        then: Box<Expr>,
        orelse: Box<Expr>,
    },
    /// A call of a built-in function: `choose(lo, hi)`, `sleep(n)`, `work(n)`, `print(...)`.
    Call {
        func: Ident,
        args: Vec<Arg>,
    },
    /// `obj.method(args)`, `fork[i].acquire()`, `worker.start()`,
    /// `v.get_lock().acquire()`.
    Method {
        receiver: ObjRef,
        method: Ident,
        args: Vec<Arg>,
    },
    /// An attribute: `p.exitcode`, `p[i].exitcode`, `v.value`.
    Attr {
        receiver: ObjRef,
        attr: Ident,
    },
}
