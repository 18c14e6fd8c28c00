//! The lowered program: one instruction list per thread declaration, in which every
//! *visible* instruction is exactly one step as SCENARIO.md defines it (a read or write
//! of a shared or atomic cell, an object operation, start, join, sleep, work, choose,
//! a whole `with atomic:` block, and a thread's end), and every other instruction is
//! thread-local work that the machine runs eagerly between steps.
//!
//! Built by [`crate::frontend::lower`] from the syntax tree; executed by [`crate::machine`].

use crate::frontend::ast::{BinOp, CmpOp, Span, UnOp, VarClass};
use std::sync::Arc;

/// The most values one `choose` may offer.
pub const MAX_CHOOSE: i64 = 4096;

/// What is wrong with the bounds of `choose(lo, hi)`, if anything: an empty range, or
/// more than [`MAX_CHOOSE`] values. Checked at load where both bounds are literals, else
/// when it runs (a ValueError).
pub fn choose_range_error(lo: i64, hi: i64) -> Option<String> {
    if lo > hi {
        Some(format!("empty range for choose({lo}, {hi})"))
    } else if hi.saturating_sub(lo) >= MAX_CHOOSE {
        Some(format!(
            "choose({lo}, {hi}) offers more than {MAX_CHOOSE} values"
        ))
    } else {
        None
    }
}
/// A value: what variables, locals and expressions hold. Cells hold the scalars; lists
/// and AsyncResults are local values (and may travel through queues, pipes and tasks).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// A list, by its place in the execution's list arena (equal lists share a place, so
    /// equality of places is equality of lists).
    List(u32),
    /// An AsyncResult: task `id` (its submission number) of the Pool object `pool`.
    Task {
        pool: ObjId,
        id: u32,
    },
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::None => write!(f, "None"),
            Value::Bool(true) => write!(f, "True"),
            Value::Bool(false) => write!(f, "False"),
            Value::Int(i) => write!(f, "{i}"),
            // Lists are shown with their contents by the machine, which has the arena.
            Value::List(i) => write!(f, "<list {i}>"),
            Value::Task { id, .. } => write!(f, "<AsyncResult {id}>"),
        }
    }
}

/// The verdict kinds of SCENARIO.md, in the order reports list them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum FindingKind {
    Assertion,
    DataRace,
    Deadlock,
    Error,
    Livelock,
}

impl FindingKind {
    pub const ALL: [FindingKind; 5] = [
        FindingKind::Assertion,
        FindingKind::DataRace,
        FindingKind::Deadlock,
        FindingKind::Error,
        FindingKind::Livelock,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Assertion => "assertion",
            FindingKind::DataRace => "data_race",
            FindingKind::Deadlock => "deadlock",
            FindingKind::Error => "error",
            FindingKind::Livelock => "livelock",
        }
    }
    pub fn parse(s: &str) -> Option<FindingKind> {
        FindingKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Index of a variable declaration in [`Program::vars`].
pub type VarId = u32;
/// Index of one object (an array element is an object of its own) in [`Program::objects`].
pub type ObjId = u32;
/// Index of one thread instance in [`Program::threads`].
pub type ThreadId = u32;
/// Index of a thread-local slot (a named local or a temporary).
pub type LocalId = u32;
/// Index of an instruction in a [`Code`].
pub type Pc = u32;

/// A Pipe end that only processes use: Python closes a process's copy of it when the
/// process ends, so the end closes when the last of `holders` has ended (its peer then
/// reads end of file). An end a thread uses stays open (the main program holds it), and
/// so does every end when there is a Pool (its workers hold copies of all of them).
#[derive(Debug, Clone)]
pub struct ClosesOnExit {
    pub end: ObjId,
    pub holders: Vec<ThreadId>,
}

/// A whole scenario, ready to run.
#[derive(Debug)]
pub struct Program {
    pub name: String,
    pub path: String,
    pub description: String,
    pub source: String,
    pub expect: Vec<FindingKind>,
    pub vars: Vec<VarInfo>,
    /// The cells of one memory (a scalar is one cell, an array one per element): every
    /// variable has its cells here, numbered `first_cell ..`.
    pub cells: u32,
    /// How many private memories there are: 0 is the main program's, then one per
    /// process instance. A `[shared]`, `[atomics]` or `[ghost]` variable has a copy of its
    /// cells in each; a global variable (the cells of a `Value` or `Array` object) has
    /// one copy after all of them. See [`Program::address`].
    pub memories: u32,
    /// How a process gets its memory when it starts.
    pub start_method: StartMethod,
    /// The `[functions]`, for reports and tasks (their code is inlined where called).
    pub functions: Vec<FunctionInfo>,
    pub objects: Vec<ObjInfo>,
    pub object_groups: Vec<Group>,
    /// The Pipe ends that close when the processes that use them have ended.
    pub closes_on_exit: Vec<ClosesOnExit>,
    pub threads: Vec<ThreadInfo>,
    pub thread_groups: Vec<Group>,
    pub final_asserts: Vec<Check>,
    pub invariants: Vec<Check>,
    /// The observed cells in display order: (display name, the cell's address in the
    /// main program's view, [`Program::address`]`(0, cell)`; the cell itself but for
    /// the cells of `Value` and `Array` objects).
    pub observe: Vec<(String, u32)>,
    /// True for every cell that an invariant reads.
    pub invariant_cells: Vec<bool>,
    /// The groups of interchangeable threads ([`Program::symmetric_groups`]), each with
    /// at least two threads, in id order.
    pub symmetric: Vec<Vec<ThreadId>>,
    pub max_steps: Option<u64>,
    pub max_executions: Option<u64>,
    pub timeout: Option<u64>,
    /// `[timing]`: the simulated machine of `simrace time`.
    pub timing: Timing,
}

/// `[timing]`: the machine that `simrace time` simulates. Times in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// CPUs of the machine.
    pub cores: u32,
    /// CPython's `sys.getswitchinterval()`.
    pub switch_interval_us: u64,
    /// The cost of starting a process.
    pub process_start_us: u64,
    /// The CPU time of every step other than `work` and `sleep`.
    pub step_us: u64,
    /// One GIL per process (false: a free-threaded CPython).
    pub gil: bool,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            cores: 2,
            switch_interval_us: 5_000,
            process_start_us: 20_000,
            step_us: 1,
            gil: true,
        }
    }
}

/// Index of a function in [`Program::functions`].
pub type FuncId = u32;

/// A `def` of `[functions]`.
#[derive(Debug, Clone)]
pub struct FunctionInfo {
    pub name: String,
    pub params: Vec<String>,
    /// The line of its `def`.
    pub line: u32,
}

/// `[scenario] start_method`: where a started process's copy of memory comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartMethod {
    /// The starting party's values at the moment of `start()`.
    #[default]
    Fork,
    /// The file's initial values.
    Spawn,
}

impl Program {
    /// The text of line `line` (from 1) of the scenario file, trimmed; empty when there
    /// is no such line.
    pub fn source_line(&self, line: u32) -> &str {
        (line as usize)
            .checked_sub(1)
            .and_then(|i| self.source.lines().nth(i))
            .map(str::trim)
            .unwrap_or("")
    }

    /// The instances of a `[[thread]]` array that nothing tells apart: their code does
    /// not read `tid` nor print, and no code names them (`start`, `join`, `is_alive`, ...), so that
    /// exchanging two of them, wherever the state names them, maps the executions of the
    /// program onto executions of the program. Processes are left out (each has a memory
    /// of its own). State caching explores one state of each such class
    /// (`search/symmetry.rs`).
    pub fn symmetric_groups(&self) -> Vec<Vec<ThreadId>> {
        let mut named = vec![false; self.thread_groups.len()];
        let codes = self.threads.iter().map(|t| &*t.code);
        let checks = self.final_asserts.iter().chain(&self.invariants);
        for code in codes.chain(checks.map(|c| &c.code)) {
            for i in &code.instrs {
                if let Some(sel) = i.thread_sel() {
                    named[sel.group as usize] = true;
                }
            }
        }
        let mut groups = vec![];
        for (g, group) in self.thread_groups.iter().enumerate() {
            let members: Vec<ThreadId> = (group.first..group.first + group.count()).collect();
            // A printed line names its thread, so threads that print are told apart.
            let alike = members.iter().all(|&t| {
                let t = &self.threads[t as usize];
                let prints = t
                    .code
                    .instrs
                    .iter()
                    .any(|i| matches!(i, Instr::Print { .. }));
                !t.process && !t.code.uses_tid && !prints
            });
            if members.len() >= 2 && alike && !named[g] {
                groups.push(members);
            }
        }
        groups
    }

    /// Where cell `cell` (a variable's cell number) of memory `mem` lives in the machine's
    /// cells: private cells have one copy per memory, global ones a single copy. Cells of
    /// memory 0 (the main program's) keep their own numbers.
    pub fn address(&self, mem: u32, cell: u32) -> u32 {
        if self.cell_is_global(cell) {
            self.memories * self.cells + cell
        } else {
            mem * self.cells + cell
        }
    }
    /// The memory and the cell number of an address (memory `memories` holds the
    /// global cells).
    pub fn locate(&self, address: u32) -> (u32, u32) {
        (address / self.cells.max(1), address % self.cells.max(1))
    }
    /// All the machine's cells: every memory's, then the global ones (a memory's worth,
    /// only when there are global cells).
    pub fn addresses(&self) -> u32 {
        let global = self.vars.iter().any(|v| v.global);
        (self.memories + u32::from(global)) * self.cells
    }
    pub fn cell_is_global(&self, cell: u32) -> bool {
        self.vars[self.var_of_cell(cell) as usize].global
    }
    /// 1-based line of a byte offset in the scenario file.
    pub fn line_of(&self, span: Span) -> u32 {
        crate::frontend::diag::line_col(&self.source, span.start).0 as u32
    }
    /// The display name of an address: `x` or `slots[2]`, and `v.value` or `a[1]` for a
    /// shared-memory object.
    pub fn cell_name(&self, address: u32) -> String {
        let cell = self.locate(address).1;
        let var = self.var_of_cell(cell);
        let info = &self.vars[var as usize];
        match info.len {
            None => info.name.clone(),
            Some(_) => format!("{}[{}]", info.name, cell - info.first_cell),
        }
    }
    pub fn var_of_cell(&self, cell: u32) -> VarId {
        match self.vars.binary_search_by(|v| v.first_cell.cmp(&cell)) {
            Ok(i) => i as VarId,
            Err(i) => (i - 1) as VarId,
        }
    }
    pub fn cell_class(&self, address: u32) -> VarClass {
        self.vars[self.var_of_cell(self.locate(address).1) as usize].class
    }
}

#[derive(Debug, Clone)]
pub struct VarInfo {
    pub name: String,
    pub class: VarClass,
    /// `Some(n)` for an array of n cells.
    pub len: Option<u32>,
    pub first_cell: u32,
    pub init: Vec<Value>,
    /// The cells of a `Value` or `Array` object: one memory for every party (checked for
    /// races across processes), not a copy per process.
    pub global: bool,
}

/// What kind of object, with its fixed parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjKind {
    Lock,
    RLock,
    /// A condition variable over the lock object `lock` (a Lock or RLock).
    Condition {
        lock: ObjId,
    },
    Semaphore {
        initial: i64,
        bounded: bool,
    },
    Event,
    Barrier {
        parties: u32,
    },
    /// `Queue`, `JoinableQueue` and `SimpleQueue` (the front end allows only `put`,
    /// `get` and `empty` on a SimpleQueue).
    Queue {
        maxsize: u32,
    },
    /// One end of a `Pipe`: what it sends goes to `peer`'s inbox; a one-way pipe's first
    /// end only receives and its second only sends.
    Connection {
        peer: ObjId,
        send: bool,
        recv: bool,
    },
    /// A `Manager().dict()` proxy (its initial items in [`ObjInfo::items`]).
    ManagerDict,
    /// A `Manager().list()` proxy (its initial values in [`ObjInfo::items`], as keys).
    ManagerList,
    /// A `Pool(processes=N)`: its workers are the `workers` parties from `first_worker`
    /// (processes, daemons, started with the scenario, whose code is the task loop).
    Pool {
        first_worker: ThreadId,
        workers: u32,
    },
}

#[derive(Debug, Clone)]
pub struct ObjInfo {
    /// `m` or `fork[2]` (a Condition's own lock is `cv.lock`).
    pub name: String,
    pub kind: ObjKind,
    /// A manager's initial contents: a dict's (key, value) items, a list's values (as
    /// `(value, None)`).
    pub items: Vec<(Value, Value)>,
}

/// A declaration that may stand for an array: objects `first .. first + len`.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub first: u32,
    /// `Some(n)` for an array.
    pub len: Option<u32>,
}

impl Group {
    pub fn count(&self) -> u32 {
        self.len.unwrap_or(1)
    }
}

#[derive(Debug, Clone)]
pub struct ThreadInfo {
    /// `worker[0]` or `main`.
    pub name: String,
    /// This instance's `tid`.
    pub tid: i64,
    /// Started at the beginning (`start = true`), or by another thread.
    pub start: bool,
    pub code: Arc<Code>,
    /// Is this a `[[process]]`?
    pub process: bool,
    /// Stopped, not waited for, once every non-daemon party has finished.
    pub daemon: bool,
    /// Its memory: 0 for the main program's threads, its own for a process.
    pub memory: u32,
}

/// The instructions of one thread declaration (shared by its instances).
#[derive(Debug)]
pub struct Code {
    pub instrs: Vec<Instr>,
    /// The span of each instruction's source (parallel to `instrs`).
    pub spans: Vec<Span>,
    /// 1-based source line of each instruction.
    pub lines: Vec<u32>,
    /// Number of local slots (named locals first, then temporaries).
    pub locals: u32,
    /// Names of the named locals (`local_names.len() <= locals`).
    pub local_names: Vec<String>,
    /// For each visible instruction: what else its step may touch beyond the operation
    /// itself (ghost accesses in the local code run after it; for `AtomicBegin`, every
    /// variable and object in the block). Used for the explorer's dependency relation.
    pub extra_touches: Vec<Vec<StaticTouch>>,
    /// What the local code before the first step may touch (it runs when the thread starts).
    pub prelude_touches: Vec<StaticTouch>,
    /// The `with` blocks on objects, for unwinding a failure as Python does.
    pub withs: Vec<WithBlock>,
    /// The acquisitions and releases that `with` blocks on objects emit (at the block's
    /// end, and where a jump leaves it early), in increasing order: the thread that
    /// acquires there is the one that releases.
    pub scoped: Vec<Pc>,
    /// The calls inlined into this code (a call is not a step: a function's body is
    /// lowered where it is called), for traces: `deposit(5) line 4`.
    pub calls: Vec<InlinedCall>,
    /// For each instruction, the innermost inlined call it belongs to.
    pub call_of: Vec<Option<u32>>,
    /// Where a failure is caught instead of ending the party (a Pool task's body).
    pub catches: Vec<CatchBlock>,
    /// Does the code read `tid`? If not, the instances of its declaration behave alike
    /// (state caching's symmetry reduction, `search/symmetry.rs`).
    pub uses_tid: bool,
}

/// One call of a function, inlined into a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlinedCall {
    pub func: FuncId,
    /// The locals holding the arguments (read when a trace names the call).
    pub args: Vec<LocalId>,
    /// The line of the call.
    pub line: u32,
    /// The call this one is inside, if any.
    pub parent: Option<u32>,
}

/// A failure at an instruction of `body` leaves the `with` blocks inside it and goes to
/// `handler` with the exception kept in the party (a Pool worker reports it as the
/// task's failure), instead of ending the party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatchBlock {
    pub body: std::ops::Range<Pc>,
    pub handler: Pc,
}

/// A `with obj:` block: while the thread is at `body` (the instructions after the
/// acquisition, up to the exit), a failure leaves the block by running `exit` (the
/// release instruction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithBlock {
    pub body: std::ops::Range<Pc>,
    pub exit: Pc,
}

/// A statically known access, for dependency over-approximation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaticTouch {
    /// Any element of a variable.
    Var { var: VarId, write: bool },
    /// Any element of an object group.
    Objects { group: u32 },
    /// Any element of a thread group.
    Threads { group: u32 },
}

/// An assertion checked outside any thread (`[final]`, `[invariant]`): code that ends in
/// an `Assert`; it only reads (shared, atomic and ghost reads are all local here).
#[derive(Debug)]
pub struct Check {
    pub text: String,
    pub line: u32,
    pub code: Code,
}

/// An operand: a constant, a local slot or this instance's `tid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operand {
    Const(Value),
    Local(LocalId),
    Tid,
}

/// Which object an operation acts on: one object, or an element chosen at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjSel {
    pub group: u32,
    pub index: Option<Operand>,
}

/// Which thread instance(s) `start`/`join`/`is_alive` act on: all instances of the group
/// (`worker.join()` on an array), or one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThreadSel {
    pub group: u32,
    pub index: Option<Operand>,
}

/// An object operation, its arguments already evaluated into operands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    /// Lock/RLock/Semaphore/Condition acquire. `blocking` defaults to True,
    /// `timeout` to None (wait forever).
    Acquire {
        blocking: Option<Operand>,
        timeout: Option<Operand>,
    },
    /// `release()` or, for semaphores, `release(n)`.
    Release {
        n: Option<Operand>,
    },
    Locked,
    /// Condition, Event, Barrier `wait`.
    Wait {
        timeout: Option<Operand>,
    },
    Notify {
        n: Option<Operand>,
    },
    NotifyAll,
    Set,
    Clear,
    IsSet,
    Put {
        value: Operand,
        block: Option<Operand>,
        timeout: Option<Operand>,
    },
    Get {
        block: Option<Operand>,
        timeout: Option<Operand>,
    },
    TaskDone,
    /// `Queue.join()`.
    QJoin,
    QSize,
    Empty,
    Full,
    /// A pipe end's `send(v)`, `recv()`, `poll()`, `poll(timeout)`, `close()`.
    Send {
        value: Operand,
    },
    Recv,
    Poll {
        timeout: Option<Operand>,
    },
    Close,
    /// A manager proxy's `d[k]`, `l[i]`.
    Item {
        key: Operand,
    },
    /// `d[k] = v`, `l[i] = v`.
    SetItem {
        key: Operand,
        value: Operand,
    },
    /// `d.get(k)`, `d.get(k, default)`.
    DictGet {
        key: Operand,
        default: Option<Operand>,
    },
    /// `d.pop(k)`, `d.pop(k, default)`; a list's `l.pop()` has no key.
    Pop {
        key: Option<Operand>,
        default: Option<Operand>,
    },
    /// `l.append(v)`.
    Append {
        value: Operand,
    },
    /// `len(d)`, `len(l)`.
    Len,
    /// `pool.apply_async(f, args)`: a new task; gives its AsyncResult.
    Submit {
        func: FuncId,
        args: Vec<Operand>,
    },
    /// `pool.map(f, xs)`'s submission: one task per element of the list or array `items`
    /// (a list operand); gives the list of their AsyncResults.
    SubmitEach {
        func: FuncId,
        items: Operand,
    },
    /// `pool.close()`, `pool.join()`, `pool.terminate()`.
    PoolClose,
    PoolJoin,
    PoolTerminate,
    /// A worker takes the next task (its AsyncResult), waiting while there is none; None
    /// once the pool is closed and empty, or terminated: the worker ends.
    TakeTask,
    /// A worker's task `task` returned `value`.
    FinishTask {
        task: Operand,
        value: Operand,
    },
    /// A worker's task `task` failed with the exception the worker caught.
    FailTask {
        task: Operand,
    },
}

/// An operation on an AsyncResult (the object is the pool the handle names).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResultOp {
    /// `r.get()`, `r.get(timeout=t)`: the value, the task's failure raised again, or None
    /// when it times out.
    Get {
        timeout: Option<Operand>,
    },
    /// `r.wait()`, `r.wait(timeout=t)`.
    Wait {
        timeout: Option<Operand>,
    },
    Ready,
    Successful,
    /// `pool.map`'s gathering: a list of AsyncResults to the list of their values.
    GetAll,
}

/// What a worker reads of the task it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskField {
    /// The function's id, as an int.
    Func,
    /// Argument `i`.
    Arg(u32),
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Acquire { .. } => "acquire",
            Op::Release { .. } => "release",
            Op::Locked => "locked",
            Op::Wait { .. } => "wait",
            Op::Notify { .. } => "notify",
            Op::NotifyAll => "notify_all",
            Op::Set => "set",
            Op::Clear => "clear",
            Op::IsSet => "is_set",
            Op::Put { .. } => "put",
            Op::Get { .. } => "get",
            Op::TaskDone => "task_done",
            Op::QJoin => "join",
            Op::QSize => "qsize",
            Op::Empty => "empty",
            Op::Full => "full",
            Op::Send { .. } => "send",
            Op::Recv => "recv",
            Op::Poll { .. } => "poll",
            Op::Close => "close",
            Op::Item { .. } => "__getitem__",
            Op::SetItem { .. } => "__setitem__",
            Op::DictGet { .. } => "get",
            Op::Pop { .. } => "pop",
            Op::Append { .. } => "append",
            Op::Len => "__len__",
            Op::Submit { .. } => "apply_async",
            Op::SubmitEach { .. } => "map",
            Op::PoolClose => "close",
            Op::PoolJoin => "join",
            Op::PoolTerminate => "terminate",
            Op::TakeTask => "get_task",
            Op::FinishTask { .. } => "task_done",
            Op::FailTask { .. } => "task_failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PrintArg {
    Str(String),
    Value(Operand),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Instr {
    // ---- local: not steps ----
    Move {
        dst: LocalId,
        src: Operand,
    },
    Unary {
        dst: LocalId,
        op: UnOp,
        a: Operand,
    },
    Binary {
        dst: LocalId,
        op: BinOp,
        a: Operand,
        b: Operand,
    },
    Compare {
        dst: LocalId,
        op: CmpOp,
        a: Operand,
        b: Operand,
    },
    Jump {
        target: Pc,
    },
    /// Jump when the truth of `cond` equals `when`.
    Branch {
        cond: Operand,
        when: bool,
        target: Pc,
    },
    Assert {
        cond: Operand,
        message: String,
    },
    Print {
        args: Vec<PrintArg>,
    },
    GhostRead {
        dst: LocalId,
        var: VarId,
        index: Option<Operand>,
    },
    GhostWrite {
        var: VarId,
        index: Option<Operand>,
        value: Operand,
    },
    /// The head of a loop iteration (for the spin-loop rule). `may_spin` is false for a
    /// loop whose every turn moves a counter (a `for` loop, or a `while` loop whose body
    /// always changes a local, as `i -= 1` does: `Builder::counts_every_turn`): no turn
    /// leaves the locals as they were, so the rule never blocks the thread there (the
    /// explorer reads it, explorer.rs `leaf_covers`).
    LoopHead {
        may_spin: bool,
    },
    /// Checks a `range()` step: zero is an error, as in Python.
    CheckStep {
        step: Operand,
    },
    /// `[a, b, c]`: a list value.
    MakeList {
        dst: LocalId,
        items: Vec<Operand>,
    },
    /// `xs[i]` of a list value (or an AsyncResult list), with Python's negative indices.
    ListItem {
        dst: LocalId,
        list: Operand,
        index: Operand,
    },
    /// `range(start, stop, step)` as a list value (for `pool.map`).
    RangeList {
        dst: LocalId,
        start: Operand,
        stop: Operand,
        step: Operand,
    },
    /// `len(xs)` of a list value.
    ListLen {
        dst: LocalId,
        list: Operand,
    },
    /// A worker reads the function or an argument of the task it took.
    TaskField {
        dst: LocalId,
        task: Operand,
        field: TaskField,
    },
    /// A worker starts a task: these locals (the inlined bodies') are unassigned again,
    /// as a new call's are.
    ClearLocals {
        from: LocalId,
        to: LocalId,
    },
    // ---- visible: each one step ----
    Read {
        dst: LocalId,
        var: VarId,
        index: Option<Operand>,
    },
    Write {
        var: VarId,
        index: Option<Operand>,
        value: Operand,
    },
    /// `cas(var[index], expected, new)`: one atomic step that reads the cell and, when it
    /// equals `expected`, writes `new`; `dst` gets True when it wrote, else False.
    Cas {
        dst: LocalId,
        var: VarId,
        index: Option<Operand>,
        expected: Operand,
        new: Operand,
    },
    Call {
        dst: Option<LocalId>,
        obj: ObjSel,
        op: Op,
    },
    Start {
        thread: ThreadSel,
    },
    /// `join()`, or for a process `join(timeout)`, which may return before it ends.
    Join {
        thread: ThreadSel,
        timeout: Option<Operand>,
    },
    /// A process's `terminate()` (SIGTERM) or `kill()` (SIGKILL).
    Terminate {
        thread: ThreadSel,
        kill: bool,
    },
    /// `p.exitcode`: None while it runs, then 0, 1, -15 or -9.
    ExitCode {
        dst: LocalId,
        thread: ThreadSel,
    },
    IsAlive {
        dst: LocalId,
        thread: ThreadSel,
    },
    /// `sleep(t)`: `us` is the time in microseconds.
    Sleep {
        us: Operand,
    },
    /// `work(t)`: `us` is the CPU time in microseconds.
    Work {
        us: Operand,
    },
    /// `choose(lo, hi)`: any integer from `lo` to `hi`, at most [`MAX_CHOOSE`] of them.
    Choose {
        dst: LocalId,
        lo: Operand,
        hi: Operand,
    },
    /// An operation on the AsyncResult `handle`.
    Result {
        dst: Option<LocalId>,
        handle: Operand,
        op: ResultOp,
    },
    /// `with atomic:` up to the matching `AtomicEnd` runs as one step.
    AtomicBegin {
        end: Pc,
    },
    AtomicEnd,
    /// The thread's last step.
    End,
}

impl Instr {
    /// Whether the step may wait for another party or give up, depending on the state
    /// it meets: an object operation (an acquire, get, put, wait, recv, poll, or their
    /// non-blocking and timed forms), a `join` or an AsyncResult's `get` or `wait`. An
    /// over-approximation (a `release` is an object operation too), for the explorer's
    /// reduction, which treats programs with such steps with more care (dpor.rs
    /// `explored_elsewhere`).
    pub fn may_wait_or_give_up(&self) -> bool {
        matches!(
            self,
            Instr::Call { .. } | Instr::Join { .. } | Instr::Result { .. }
        )
    }

    /// The threads this instruction acts on, if it names some.
    pub fn thread_sel(&self) -> Option<ThreadSel> {
        match self {
            Instr::Start { thread }
            | Instr::Join { thread, .. }
            | Instr::Terminate { thread, .. }
            | Instr::ExitCode { thread, .. }
            | Instr::IsAlive { thread, .. } => Some(*thread),
            _ => None,
        }
    }

    /// Is this instruction a step (a scheduling point)?
    pub fn is_visible(&self) -> bool {
        matches!(
            self,
            Instr::Read { .. }
                | Instr::Write { .. }
                | Instr::Cas { .. }
                | Instr::Call { .. }
                | Instr::Start { .. }
                | Instr::Join { .. }
                | Instr::Terminate { .. }
                | Instr::ExitCode { .. }
                | Instr::Result { .. }
                | Instr::IsAlive { .. }
                | Instr::Sleep { .. }
                | Instr::Work { .. }
                | Instr::Choose { .. }
                | Instr::AtomicBegin { .. }
                | Instr::Print { .. }
                | Instr::End
        )
    }
}

/// `1 item`, `2 items`: a count with its noun in the right number, for messages.
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
