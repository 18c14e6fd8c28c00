//! Lowering: resolves the names of a parsed [`Scenario`], checks every operation against
//! its object's kind, and compiles each thread's code into [`ir::Code`], in which every
//! step is exactly one visible instruction.
//!
//! Evaluation order follows CPython: operands left to right, `and`/`or` and chained
//! comparisons short-circuit (a skipped read is not a step), `x += e` reads `x` before
//! it evaluates `e`, and `a[i] += e` (or `d[k] += e`) evaluates `i` once.
//!
//! The parts: `declare` lays out variables, objects and locks; `places` resolves what a
//! name, element or attribute stands for; `ops` lowers the methods of objects, and
//! `parties` those of threads and processes. The `[[thread]]` and `[[process]]` tables
//! are numbered in file order; each process instance gets a memory of its own.

use crate::frontend::ast::*;
use crate::frontend::diag::Diagnostic;
use crate::ir::{
    self, Check, Code, Group, Instr, MAX_CHOOSE, ObjKind, ObjSel, Op, Operand, Pc, PrintArg,
    StaticTouch, Value,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

mod declare;
mod functions;
mod ops;
mod parties;
mod places;
mod pool;
#[cfg(test)]
mod tests;

/// Lowers a scenario to a program, or says what in it is wrong.
pub fn lower(s: &Scenario) -> Result<ir::Program, Diagnostic> {
    Lowerer::new(s).run()
}

/// What a declared name stands for.
#[derive(Clone, Copy)]
enum Sym {
    /// A `[shared]`, `[atomics]` or `[ghost]` variable.
    Var(u32),
    /// An object group of `[objects]`.
    Objects(u32),
    /// A `[[thread]]` or `[[process]]` (its group; the declaration has the same index).
    Threads(u32),
    /// A `Value` or `Array` object: its variable (cells shared by every party), and the
    /// group of its lock (`None` with `lock = false`).
    Memory { var: u32, lock: Option<u32> },
    /// A `def` of `[functions]`.
    Function(u32),
}

struct Lowerer<'a> {
    s: &'a Scenario,
    /// The line of a place in the file (`Lowerer::line`).
    lines: crate::frontend::diag::Lines,
    syms: HashMap<String, Sym>,
    vars: Vec<ir::VarInfo>,
    /// The cells of one memory, so far.
    cells: u32,
    objects: Vec<ir::ObjInfo>,
    object_groups: Vec<Group>,
    /// The object kind of each group (all elements share it, but for a Pipe's two ends).
    group_kinds: Vec<ObjKind>,
    /// The `[objects]` declaration of each group (a Value's lock: the Value's).
    group_decls: Vec<usize>,
    thread_groups: Vec<Group>,
}

impl<'a> Lowerer<'a> {
    fn new(s: &'a Scenario) -> Self {
        Lowerer {
            s,
            lines: crate::frontend::diag::Lines::new(&s.source),
            syms: HashMap::new(),
            vars: vec![],
            cells: 0,
            objects: vec![],
            object_groups: vec![],
            group_kinds: vec![],
            group_decls: vec![],
            thread_groups: vec![],
        }
    }

    fn err(&self, span: Span, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.s.path, &self.s.source, span, msg)
    }

    /// The 1-based file line of `span`'s start.
    fn line(&self, span: Span) -> u32 {
        self.lines.line(span.start) as u32
    }

    fn declare(&mut self, id: &Ident, sym: Sym) -> Result<(), Diagnostic> {
        if self.syms.insert(id.name.clone(), sym).is_some() {
            return Err(self
                .err(id.span, format!("`{}` is declared twice", id.name))
                .with_help(
                    "names are unique across [shared], [atomics], [ghost], [objects], threads and processes",
                ));
        }
        Ok(())
    }

    fn run(mut self) -> Result<ir::Program, Diagnostic> {
        let s = self.s;
        self.declare_vars()?;
        self.declare_objects()?;
        let cells = self.cells;
        self.resolve_condition_locks()?;
        self.check_functions()?;
        let threads = self.lower_threads()?;
        let closes_on_exit = self.closes_on_exit();
        let mut final_asserts = vec![];
        for e in &s.final_asserts {
            final_asserts.push(self.lower_check(e)?);
        }
        let (invariants, invariant_cells) = self.lower_invariants(cells)?;
        let observe = self.observed()?;
        let memories = 1 + threads.iter().filter(|t| t.process).count() as u32;
        let mut program = ir::Program {
            name: s.name.clone(),
            path: s.path.clone(),
            description: s.description.clone(),
            source: s.source.clone(),
            expect: s.expect.clone(),
            vars: self.vars,
            cells,
            memories,
            start_method: s.start_method,
            functions: s
                .functions
                .iter()
                .map(|f| ir::FunctionInfo {
                    name: f.name.name.clone(),
                    params: f.params.iter().map(|p| p.name.clone()).collect(),
                    line: self.lines.line(f.span.start) as u32,
                })
                .collect(),
            objects: self.objects,
            object_groups: self.object_groups,
            closes_on_exit,
            threads,
            thread_groups: self.thread_groups,
            final_asserts,
            invariants,
            observe: vec![],
            invariant_cells,
            symmetric: vec![],
            max_steps: s.limits.max_steps,
            max_executions: s.limits.max_executions,
            timeout: s.limits.timeout,
            timing: s.timing,
        };
        // The outcome shows the main program's view: a Value's or Array's cells are
        // read where every party shares them.
        program.observe = observe
            .into_iter()
            .map(|(name, cell)| (name, program.address(0, cell)))
            .collect();
        program.symmetric = program.symmetric_groups();
        Ok(program)
    }

    /// Declares the thread groups (the `[[thread]]` and `[[process]]` tables, in file
    /// order), then lowers each group's code (once) and makes its instances; each process
    /// instance gets a memory of its own.
    fn lower_threads(&mut self) -> Result<Vec<ir::ThreadInfo>, Diagnostic> {
        let s = self.s;
        let mut threads: Vec<ir::ThreadInfo> = vec![];
        for t in &s.parties {
            let g = self.thread_groups.len() as u32;
            self.declare(&t.name, Sym::Threads(g))?;
            self.thread_groups.push(Group {
                name: t.name.name.clone(),
                first: 0,
                len: t.count,
            });
        }
        let mut memories = 1;
        for (g, t) in s.parties.iter().enumerate() {
            let code = Arc::new(self.lower_thread(t)?);
            self.thread_groups[g].first = threads.len() as u32;
            for i in 0..t.count.unwrap_or(1) {
                let name = match t.count {
                    None => t.name.name.clone(),
                    Some(_) => format!("{}[{}]", t.name.name, i),
                };
                let memory = if t.process { memories } else { 0 };
                memories += u32::from(t.process);
                threads.push(ir::ThreadInfo {
                    name,
                    tid: i as i64,
                    start: t.start,
                    code: code.clone(),
                    process: t.process,
                    daemon: t.daemon,
                    memory,
                });
            }
        }
        // Each Pool's workers: processes of their own, after every declared party.
        for g in 0..self.object_groups.len() {
            let ObjKind::Pool { workers, .. } = self.group_kinds[g] else {
                continue;
            };
            let decl = &s.objects[self.group_decls[g]];
            let code = Arc::new(self.worker_code(g as u32, decl.span)?);
            let first_worker = threads.len() as u32;
            for i in 0..workers {
                threads.push(ir::ThreadInfo {
                    name: pool::worker_name(&decl.name.name, i),
                    tid: i as i64,
                    start: true,
                    code: code.clone(),
                    process: true,
                    daemon: true,
                    memory: memories,
                });
                memories += 1;
            }
            let kind = ObjKind::Pool {
                first_worker,
                workers,
            };
            self.group_kinds[g] = kind;
            let o = self.object_groups[g].first as usize;
            self.objects[o].kind = kind;
        }
        if threads.is_empty() {
            return Err(self
                .err(Span::new(0, 0), "the scenario has no threads")
                .with_help("add a [[thread]] table"));
        }
        Ok(threads)
    }

    /// The invariants, and which of the `cells` they read.
    fn lower_invariants(&self, cells: u32) -> Result<(Vec<Check>, Vec<bool>), Diagnostic> {
        let mut invariants = vec![];
        let mut invariant_cells = vec![false; cells as usize];
        for e in &self.s.invariants {
            let check = self.lower_check(e)?;
            for var in check_vars(&check.code) {
                let v = &self.vars[var as usize];
                for c in v.first_cell..v.first_cell + v.len.unwrap_or(1) {
                    invariant_cells[c as usize] = true;
                }
            }
            invariants.push(check);
        }
        Ok((invariants, invariant_cells))
    }

    /// The cells that `[final] observe` names (`x`, an Array `a`, a Value's `v.value`); by
    /// default every variable but ghosts, Values' and Arrays' included.
    fn observed(&self) -> Result<Vec<(String, u32)>, Diagnostic> {
        let mut observe = vec![];
        match &self.s.observe {
            None => {
                for v in &self.vars {
                    if v.class != VarClass::Ghost {
                        observed_cells(v, &mut observe);
                    }
                }
            }
            Some(names) => {
                for n in names {
                    let base = n.name.strip_suffix(".value").unwrap_or(&n.name);
                    match self.syms.get(base) {
                        Some(Sym::Var(var) | Sym::Memory { var, .. })
                            if self.vars[*var as usize].name == n.name =>
                        {
                            observed_cells(&self.vars[*var as usize], &mut observe)
                        }
                        _ => {
                            return Err(self
                                .err(n.span, format!("`{}` is not a variable", n.name))
                                .with_help("observe names from [shared], [atomics] or [ghost], an Array `a` or a Value's `v.value`"));
                        }
                    }
                }
            }
        }
        Ok(observe)
    }

    fn lower_thread(&self, t: &ThreadDecl) -> Result<Code, Diagnostic> {
        let mut locals = BTreeSet::new();
        collect_locals(&t.code, &self.syms, &mut locals);
        let mut b = Builder::new(self, false);
        b.in_process = t.process;
        for name in &locals {
            b.local_slot(name);
        }
        b.block(&t.code)?;
        b.emit(Instr::End, t.span);
        Ok(b.finish())
    }

    fn lower_check(&self, e: &Expr) -> Result<Check, Diagnostic> {
        let mut b = Builder::new(self, true);
        let cond = b.expr(e)?;
        let text = self
            .s
            .source
            .get(e.span.start..e.span.end)
            .unwrap_or("")
            .to_string();
        b.emit(
            Instr::Assert {
                cond,
                message: text.clone(),
            },
            e.span,
        );
        let line = self.line(e.span);
        Ok(Check {
            text,
            line,
            code: b.finish(),
        })
    }
}

/// Ghost accesses reachable from `from` through local instructions only.
fn ghost_run(instrs: &[Instr], from: usize) -> Vec<StaticTouch> {
    let mut out = BTreeSet::new();
    let mut seen = vec![false; instrs.len() + 1];
    let mut work = vec![from];
    while let Some(pc) = work.pop() {
        if pc >= instrs.len() || seen[pc] {
            continue;
        }
        seen[pc] = true;
        let i = &instrs[pc];
        if i.is_visible() {
            continue;
        }
        match i {
            Instr::GhostRead { var, .. } => {
                out.insert((*var, false));
            }
            Instr::GhostWrite { var, .. } => {
                out.insert((*var, true));
            }
            _ => {}
        }
        match i {
            Instr::Jump { target } => work.push(*target as usize),
            Instr::Branch { target, .. } => {
                work.push(*target as usize);
                work.push(pc + 1);
            }
            _ => work.push(pc + 1),
        }
    }
    out.into_iter()
        .map(|(var, write)| StaticTouch::Var { var, write })
        .collect()
}

/// Per visible instruction, what its step touches beyond the operation (see
/// [`Code::extra_touches`]); and what a thread's prelude touches.
fn static_touches(instrs: &[Instr]) -> (Vec<Vec<StaticTouch>>, Vec<StaticTouch>) {
    let mut extra = vec![vec![]; instrs.len()];
    for (pc, i) in instrs.iter().enumerate() {
        if !i.is_visible() {
            continue;
        }
        let mut t = ghost_run(instrs, pc + 1);
        if let Instr::AtomicBegin { end } = i {
            for j in &instrs[pc..*end as usize] {
                match j {
                    Instr::Read { var, .. } | Instr::GhostRead { var, .. } => {
                        t.push(StaticTouch::Var {
                            var: *var,
                            write: false,
                        })
                    }
                    Instr::Write { var, .. } | Instr::GhostWrite { var, .. } => {
                        t.push(StaticTouch::Var {
                            var: *var,
                            write: true,
                        })
                    }
                    Instr::Cas { var, .. } => t.push(StaticTouch::Var {
                        var: *var,
                        write: true,
                    }),
                    Instr::Call { obj, .. } => t.push(StaticTouch::Objects { group: obj.group }),
                    _ => {}
                }
            }
            t.extend(ghost_run(instrs, *end as usize + 1));
        }
        t.sort_by_key(|x| format!("{x:?}"));
        t.dedup();
        extra[pc] = t;
    }
    (extra, ghost_run(instrs, 0))
}

/// Variables read by a check's code.
fn check_vars(code: &Code) -> Vec<u32> {
    code.instrs
        .iter()
        .filter_map(|i| match i {
            Instr::GhostRead { var, .. } => Some(*var),
            _ => None,
        })
        .collect()
}

/// Appends the observed names and cells of the variable `v`: one, or one per element.
fn observed_cells(v: &ir::VarInfo, out: &mut Vec<(String, u32)>) {
    match v.len {
        None => out.push((v.name.clone(), v.first_cell)),
        Some(n) => {
            for i in 0..n {
                out.push((format!("{}[{}]", v.name, i), v.first_cell + i));
            }
        }
    }
}

/// Names assigned in the code that are not declared globally: the thread's locals.
fn collect_locals(stmts: &[Stmt], syms: &HashMap<String, Sym>, out: &mut BTreeSet<String>) {
    for s in stmts {
        match &s.kind {
            StmtKind::Assign { target, .. } | StmtKind::AugAssign { target, .. }
                if target.index.is_none()
                    && target.attr.is_none()
                    && !syms.contains_key(&target.name.name) =>
            {
                out.insert(target.name.name.clone());
            }
            StmtKind::For { var, body, .. } | StmtKind::ForEach { var, body, .. } => {
                if !syms.contains_key(&var.name) {
                    out.insert(var.name.clone());
                }
                collect_locals(body, syms, out);
            }
            StmtKind::If { branches, orelse } => {
                for (_, b) in branches {
                    collect_locals(b, syms, out);
                }
                if let Some(b) = orelse {
                    collect_locals(b, syms, out);
                }
            }
            StmtKind::While { body, .. } | StmtKind::With { body, .. } => {
                collect_locals(body, syms, out)
            }
            _ => {}
        }
    }
}

/// A nonzero integer literal's value.
fn nonzero(e: &Expr) -> Option<i64> {
    match e.kind {
        ExprKind::Int(c) if c != 0 => Some(c),
        _ => None,
    }
}

/// Whether `value`, assigned to `name`, differs from what `name` held, whatever that was:
/// `name + c`, `c + name` or `name - c` (c a nonzero integer), or one of these `% m` where
/// `c` is not a multiple of `m` (the result is in m's range, where it equals `name` only
/// when `c` is).
fn moves(name: &str, value: &Expr) -> bool {
    let step = |e: &Expr| match &e.kind {
        ExprKind::Binary { op, lhs, rhs } => match (op, &lhs.kind, &rhs.kind) {
            (BinOp::Add | BinOp::Sub, ExprKind::Name(n), _) if n == name => nonzero(rhs),
            (BinOp::Add, _, ExprKind::Name(n)) if n == name => nonzero(lhs),
            _ => None,
        },
        _ => None,
    };
    match &value.kind {
        ExprKind::Binary {
            op: BinOp::Mod,
            lhs,
            rhs,
        } => match (step(lhs), nonzero(rhs)) {
            (Some(c), Some(m)) => c % m != 0,
            _ => false,
        },
        _ => step(value).is_some(),
    }
}

/// Whether `s` is or holds a `continue` (of any loop: an over-approximation).
fn continues(s: &Stmt) -> bool {
    match &s.kind {
        StmtKind::Continue => true,
        _ => sub_blocks(s).any(|b| b.iter().any(continues)),
    }
}

/// Whether `s` assigns the name `name`, itself or in a block it holds.
fn assigns(s: &Stmt, name: &str) -> bool {
    let here = match &s.kind {
        StmtKind::Assign { target, .. } | StmtKind::AugAssign { target, .. } => {
            target.name.name == name
        }
        StmtKind::For { var, .. } | StmtKind::ForEach { var, .. } => var.name == name,
        _ => false,
    };
    here || sub_blocks(s).any(|b| b.iter().any(|t| assigns(t, name)))
}

/// The blocks of statements that `s` holds.
fn sub_blocks(s: &Stmt) -> Box<dyn Iterator<Item = &[Stmt]> + '_> {
    match &s.kind {
        StmtKind::If { branches, orelse } => Box::new(
            branches
                .iter()
                .map(|(_, b)| b.as_slice())
                .chain(orelse.as_deref()),
        ),
        StmtKind::While { body, .. }
        | StmtKind::For { body, .. }
        | StmtKind::ForEach { body, .. }
        | StmtKind::With { body, .. } => Box::new(std::iter::once(body.as_slice())),
        _ => Box::new(std::iter::empty()),
    }
}

/// What must be undone when control leaves a `with` block early (`break`, `continue`).
#[derive(Clone, Copy)]
enum Exit {
    Release(ObjSel),
    /// `with pool:` ends with `pool.terminate()`.
    Terminate(ObjSel),
    AtomicEnd,
}

/// The operands of a `for` loop's `range(start, end, step)`.
struct RangeOperands {
    start: Operand,
    end: Operand,
    step: Operand,
}

struct LoopCtx {
    continue_target: Option<Pc>,
    /// Jumps to patch to the loop's end.
    breaks: Vec<usize>,
    /// Continue jumps to patch (for `for`, whose increment comes after the body).
    continues: Vec<usize>,
    /// Depth of `exits` when the loop began.
    exit_depth: usize,
}

struct Builder<'l, 'a> {
    l: &'l Lowerer<'a>,
    /// Lowering a `[final]`/`[invariant]` check: every read is local, no steps, no locals.
    check: bool,
    /// Lowering the code of a `[[process]]`.
    in_process: bool,
    instrs: Vec<Instr>,
    spans: Vec<Span>,
    local_ids: HashMap<String, u32>,
    local_names: Vec<String>,
    next_local: u32,
    exits: Vec<Exit>,
    loops: Vec<LoopCtx>,
    atomic_depth: u32,
    withs: Vec<ir::WithBlock>,
    /// `Code::scoped`.
    scoped: Vec<Pc>,
    /// The functions being inlined, innermost last.
    frames: Vec<functions::Frame>,
    calls: Vec<ir::InlinedCall>,
    /// The inlined call that the instructions emitted now belong to.
    cur_call: Option<u32>,
    call_of: Vec<Option<u32>>,
    catches: Vec<ir::CatchBlock>,
    /// Some code reads `tid` (see [`Code::uses_tid`]).
    uses_tid: bool,
}

impl<'l, 'a> Builder<'l, 'a> {
    fn new(l: &'l Lowerer<'a>, check: bool) -> Self {
        Builder {
            l,
            check,
            in_process: false,
            instrs: vec![],
            spans: vec![],
            local_ids: HashMap::new(),
            local_names: vec![],
            next_local: 0,
            exits: vec![],
            loops: vec![],
            atomic_depth: 0,
            withs: vec![],
            scoped: vec![],
            frames: vec![],
            calls: vec![],
            cur_call: None,
            call_of: vec![],
            catches: vec![],
            uses_tid: false,
        }
    }

    fn finish(self) -> Code {
        let lines = self.spans.iter().map(|sp| self.l.line(*sp)).collect();
        let (extra_touches, prelude_touches) = static_touches(&self.instrs);
        Code {
            instrs: self.instrs,
            spans: self.spans,
            lines,
            locals: self.next_local,
            local_names: self.local_names,
            extra_touches,
            prelude_touches,
            withs: self.withs,
            scoped: self.scoped,
            calls: self.calls,
            call_of: self.call_of,
            catches: self.catches,
            uses_tid: self.uses_tid,
        }
    }

    fn err(&self, span: Span, msg: impl Into<String>) -> Diagnostic {
        self.l.err(span, msg)
    }

    fn local_slot(&mut self, name: &str) -> u32 {
        if let Some(id) = self.local_ids.get(name) {
            return *id;
        }
        let id = self.next_local;
        self.next_local += 1;
        self.local_ids.insert(name.to_string(), id);
        self.local_names.push(name.to_string());
        id
    }

    fn temp(&mut self) -> u32 {
        let id = self.next_local;
        self.next_local += 1;
        id
    }

    /// A new local named `name` (for messages) that no name of the current scope maps to
    /// yet (an inlined call's).
    fn named_temp(&mut self, name: &str) -> u32 {
        let id = self.temp();
        self.local_names.resize(id as usize, String::new());
        self.local_names.push(name.to_string());
        id
    }

    fn emit(&mut self, i: Instr, span: Span) -> usize {
        self.instrs.push(i);
        self.spans.push(span);
        self.call_of.push(self.cur_call);
        self.instrs.len() - 1
    }

    fn here(&self) -> Pc {
        self.instrs.len() as Pc
    }

    fn patch(&mut self, at: usize, target: Pc) {
        match &mut self.instrs[at] {
            Instr::Jump { target: t }
            | Instr::Branch { target: t, .. }
            | Instr::AtomicBegin { end: t } => *t = target,
            _ => unreachable!("patching a non-jump"),
        }
    }

    fn block(&mut self, stmts: &[Stmt]) -> Result<(), Diagnostic> {
        for s in stmts {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn in_atomic_check(&self, span: Span, what: &str) -> Result<(), Diagnostic> {
        if self.atomic_depth > 0 {
            return Err(self
                .err(span, format!("{what} inside `with atomic:`"))
                .with_help(
                    "an atomic block runs as one step: it cannot choose, start, join or wait",
                ));
        }
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), Diagnostic> {
        match &s.kind {
            StmtKind::Pass => {}
            StmtKind::Global(names) => self.global(names)?,
            StmtKind::Assign { target, value } => {
                // Python evaluates the right side first, then the target's index.
                let v = self.expr(value)?;
                self.store(target, v, s.span)?;
            }
            StmtKind::AugAssign { target, op, value } => {
                self.aug_assign(target, *op, value, s.span)?;
            }
            StmtKind::If { branches, orelse } => {
                self.if_stmt(branches, orelse.as_deref(), s.span)?;
            }
            StmtKind::While { cond, body } => self.while_loop(cond, body, s.span)?,
            StmtKind::For {
                var,
                start,
                end,
                step,
                body,
            } => {
                let range = self.range_operands(start.as_ref(), end, step.as_ref())?;
                self.for_loop(var, range, body, s.span)?;
            }
            StmtKind::ForEach { var, iter, body } => self.for_each(var, iter, body, s.span)?,
            StmtKind::Return(value) => self.return_stmt(value.as_ref(), s.span)?,
            StmtKind::Break => self.loop_exit(true, s.span)?,
            StmtKind::Continue => self.loop_exit(false, s.span)?,
            StmtKind::With { item, body } => match item {
                WithItem::Atomic(span) => self.with_atomic(*span, body, s.span)?,
                WithItem::Object(r) => self.with_object(r, body, s.span)?,
            },
            StmtKind::Assert { cond, message } => {
                self.assert_stmt(cond, message.as_deref(), s.span)?;
            }
            StmtKind::Expr(e) => {
                self.expr_stmt(e)?;
            }
        }
        Ok(())
    }

    /// `global a, b`: each name must be a declared variable. (Assignments to a declared
    /// variable write it anyway, so `global` emits nothing.)
    fn global(&self, names: &[Ident]) -> Result<(), Diagnostic> {
        for n in names {
            if !matches!(self.l.syms.get(&n.name), Some(Sym::Var(_))) {
                return Err(self
                    .err(n.span, format!("`{}` is not a shared, atomic or ghost variable", n.name))
                    .with_help("`global` may only name variables declared in [shared], [atomics] or [ghost]"));
            }
        }
        Ok(())
    }

    /// `target op= value`: reads the target (evaluating its index once), then `value`,
    /// then writes.
    fn aug_assign(
        &mut self,
        target: &Target,
        op: BinOp,
        value: &Expr,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let index = match &target.index {
            Some(i) => Some(self.expr(i)?),
            None => None,
        };
        let cur = self.load_target(target, index)?;
        let rhs = self.expr(value)?;
        let dst = self.temp();
        self.emit(
            Instr::Binary {
                dst,
                op,
                a: cur,
                b: rhs,
            },
            span,
        );
        self.store_with_index(target, index, Operand::Local(dst), span)
    }

    fn if_stmt(
        &mut self,
        branches: &[(Expr, Vec<Stmt>)],
        orelse: Option<&[Stmt]>,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let mut to_end = vec![];
        for (cond, body) in branches {
            let c = self.expr(cond)?;
            let br = self.emit(
                Instr::Branch {
                    cond: c,
                    when: false,
                    target: 0,
                },
                cond.span,
            );
            self.block(body)?;
            to_end.push(self.emit(Instr::Jump { target: 0 }, span));
            let next = self.here();
            self.patch(br, next);
        }
        if let Some(body) = orelse {
            self.block(body)?;
        }
        let end = self.here();
        for j in to_end {
            self.patch(j, end);
        }
        Ok(())
    }

    fn while_loop(&mut self, cond: &Expr, body: &[Stmt], span: Span) -> Result<(), Diagnostic> {
        let head = self.here();
        let may_spin = !self.counts_every_turn(body);
        self.emit(Instr::LoopHead { may_spin }, span);
        let c = self.expr(cond)?;
        let br = self.emit(
            Instr::Branch {
                cond: c,
                when: false,
                target: 0,
            },
            cond.span,
        );
        self.loops.push(LoopCtx {
            continue_target: Some(head),
            breaks: vec![br],
            continues: vec![],
            exit_depth: self.exits.len(),
        });
        self.block(body)?;
        self.emit(Instr::Jump { target: head }, span);
        let ctx = self.loops.pop().unwrap();
        let end = self.here();
        for b in ctx.breaks {
            self.patch(b, end);
        }
        Ok(())
    }

    /// Whether every turn of a `while` loop with this body moves a counter, so that the
    /// spin-loop rule can never block it: a statement of the body itself (not inside an
    /// `if`) changes a local `i` whatever it holds ([`moves`]: `i += c`, `i -= c`,
    /// `i = i + c`, `i = (i + c) % m`), no `continue` comes before it, and nothing else in
    /// the body assigns `i`. Then `i` differs at every pass of the head. An
    /// under-approximation: `false` only costs the explorer its smaller wakeup trees
    /// (explorer.rs `leaf_covers`).
    fn counts_every_turn<'b>(&self, body: &'b [Stmt]) -> bool {
        let counter = |s: &'b Stmt| -> Option<&'b str> {
            let (target, moved) = match &s.kind {
                StmtKind::AugAssign { target, op, value } => (
                    target,
                    matches!(op, BinOp::Add | BinOp::Sub) && nonzero(value).is_some(),
                ),
                StmtKind::Assign { target, value } => (target, moves(&target.name.name, value)),
                _ => return None,
            };
            let local = target.index.is_none()
                && target.attr.is_none()
                && !self.l.syms.contains_key(&target.name.name);
            (moved && local).then_some(target.name.name.as_str())
        };
        body.iter().enumerate().any(|(j, s)| {
            counter(s).is_some_and(|name| {
                !body[..j].iter().any(continues)
                    && body
                        .iter()
                        .enumerate()
                        .all(|(k, t)| k == j || !assigns(t, name))
            })
        })
    }

    /// The operands of `range(start, end, step)`, each evaluated once, before the loop;
    /// a step is checked to be nonzero.
    fn range_operands(
        &mut self,
        start: Option<&Expr>,
        end: &Expr,
        step: Option<&Expr>,
    ) -> Result<RangeOperands, Diagnostic> {
        let start = match start {
            Some(e) => self.expr(e)?,
            None => Operand::Const(Value::Int(0)),
        };
        let endv = self.expr(end)?;
        let endv = self.pin(endv, end.span);
        let stepv = match step {
            Some(e) => {
                let v = self.expr(e)?;
                let v = self.pin(v, e.span);
                self.emit(Instr::CheckStep { step: v }, e.span);
                v
            }
            None => Operand::Const(Value::Int(1)),
        };
        Ok(RangeOperands {
            start,
            end: endv,
            step: stepv,
        })
    }

    /// `for var in range(...)`, whose operands are `range`.
    fn for_loop(
        &mut self,
        var: &Ident,
        range: RangeOperands,
        body: &[Stmt],
        span: Span,
    ) -> Result<(), Diagnostic> {
        let RangeOperands {
            start,
            end: endv,
            step: stepv,
        } = range;
        let k = self.temp();
        self.emit(Instr::Move { dst: k, src: start }, span);
        let head = self.here();
        self.emit(Instr::LoopHead { may_spin: false }, span);
        let br = self.range_test(k, endv, stepv, span);
        let target = Target {
            name: var.clone(),
            index: None,
            attr: None,
            span: var.span,
        };
        self.store(&target, Operand::Local(k), var.span)?;
        self.counted_body(body, br, head, (k, stepv), span)
    }

    /// The body of a counted loop whose test at `head` leaves by the branch `br`; then
    /// counter `k` moves by its step, and back to the head.
    fn counted_body(
        &mut self,
        body: &[Stmt],
        br: usize,
        head: Pc,
        (k, stepv): (u32, Operand),
        span: Span,
    ) -> Result<(), Diagnostic> {
        self.loops.push(LoopCtx {
            continue_target: None,
            breaks: vec![br],
            continues: vec![],
            exit_depth: self.exits.len(),
        });
        self.block(body)?;
        let ctx = self.loops.pop().unwrap();
        let incr = self.here();
        for c in ctx.continues {
            self.patch(c, incr);
        }
        self.emit(
            Instr::Binary {
                dst: k,
                op: BinOp::Add,
                a: Operand::Local(k),
                b: stepv,
            },
            span,
        );
        self.emit(Instr::Jump { target: head }, span);
        let end = self.here();
        for b in ctx.breaks {
            self.patch(b, end);
        }
        Ok(())
    }

    /// Emits the test of a `for` loop's counter `k`, and returns the branch that leaves
    /// the loop (to patch to its end).
    fn range_test(&mut self, k: u32, endv: Operand, stepv: Operand, span: Span) -> usize {
        // Continue while (step > 0 and k < end) or (step < 0 and k > end).
        let pos = self.temp();
        self.emit(
            Instr::Compare {
                dst: pos,
                op: CmpOp::Gt,
                a: stepv,
                b: Operand::Const(Value::Int(0)),
            },
            span,
        );
        let cmp = self.temp();
        let neg_branch = self.emit(
            Instr::Branch {
                cond: Operand::Local(pos),
                when: false,
                target: 0,
            },
            span,
        );
        self.emit(
            Instr::Compare {
                dst: cmp,
                op: CmpOp::Lt,
                a: Operand::Local(k),
                b: endv,
            },
            span,
        );
        let to_test = self.emit(Instr::Jump { target: 0 }, span);
        let neg = self.here();
        self.patch(neg_branch, neg);
        self.emit(
            Instr::Compare {
                dst: cmp,
                op: CmpOp::Gt,
                a: Operand::Local(k),
                b: endv,
            },
            span,
        );
        let test = self.here();
        self.patch(to_test, test);
        self.emit(
            Instr::Branch {
                cond: Operand::Local(cmp),
                when: false,
                target: 0,
            },
            span,
        )
    }

    /// `break` (or `continue`): undoes the `with` blocks it leaves, innermost first, then
    /// jumps.
    fn loop_exit(&mut self, is_break: bool, span: Span) -> Result<(), Diagnostic> {
        let Some(ctx) = self.loops.last() else {
            let what = if is_break { "break" } else { "continue" };
            return Err(self
                .err(span, format!("`{what}` outside a loop"))
                .with_help("use it inside `while` or `for`"));
        };
        let depth = ctx.exit_depth;
        self.leave_blocks(depth, span);
        let j = self.emit(Instr::Jump { target: 0 }, span);
        let ctx = self.loops.last_mut().unwrap();
        if is_break {
            ctx.breaks.push(j);
        } else if let Some(t) = ctx.continue_target {
            self.patch(j, t);
        } else {
            ctx.continues.push(j);
        }
        Ok(())
    }

    /// Undoes the `with` blocks opened since `self.exits` was `depth` long, innermost
    /// first (before a jump out of them).
    fn leave_blocks(&mut self, depth: usize, span: Span) {
        let exits: Vec<Exit> = self.exits[depth..].iter().rev().copied().collect();
        for e in exits {
            match e {
                Exit::Release(obj) => {
                    self.scoped.push(self.here());
                    self.emit(
                        Instr::Call {
                            dst: None,
                            obj,
                            op: Op::Release { n: None },
                        },
                        span,
                    );
                }
                Exit::Terminate(obj) => {
                    self.emit(
                        Instr::Call {
                            dst: None,
                            obj,
                            op: Op::PoolTerminate,
                        },
                        span,
                    );
                }
                Exit::AtomicEnd => {
                    self.emit(Instr::AtomicEnd, span);
                }
            }
        }
    }

    /// `with atomic:`, whose `atomic` is at `at`.
    fn with_atomic(&mut self, at: Span, body: &[Stmt], span: Span) -> Result<(), Diagnostic> {
        let begin = self.emit(Instr::AtomicBegin { end: 0 }, at);
        self.atomic_depth += 1;
        self.exits.push(Exit::AtomicEnd);
        self.block(body)?;
        self.exits.pop();
        self.atomic_depth -= 1;
        let end = self.emit(Instr::AtomicEnd, span) as Pc;
        self.patch(begin, end);
        Ok(())
    }

    /// `with m:` or `with m[i]:`: acquire, the body, release.
    fn with_object(&mut self, r: &ObjRef, body: &[Stmt], span: Span) -> Result<(), Diagnostic> {
        if r.getter.is_some() && !matches!(self.l.syms.get(&r.name.name), Some(Sym::Memory { .. }))
        {
            return Err(self
                .err(r.span, "`with` takes an object, not a call")
                .with_help("write `with m:` (it acquires and releases `m`)"));
        }
        let (sel, kind) = self.obj_sel(r)?;
        if matches!(kind, ObjKind::Pool { .. }) {
            return self.with_pool(sel, body, span);
        }
        if !matches!(
            kind,
            ObjKind::Lock | ObjKind::RLock | ObjKind::Condition { .. } | ObjKind::Semaphore { .. }
        ) {
            return Err(self
                .err(
                    r.span,
                    format!(
                        "`with` needs a lock, condition or semaphore; `{}` is {}",
                        r.name.name,
                        self.group_label(sel.group)
                    ),
                )
                .with_help(
                    "`with` works on Lock, RLock, Condition, Semaphore, BoundedSemaphore and a Value's or Array's `get_lock()`",
                ));
        }
        self.in_atomic_check(r.span, "`with` on an object")?;
        // Pin the index so that release acts on the element acquired.
        let sel = ObjSel {
            group: sel.group,
            index: sel.index.map(|i| self.pin(i, r.span)),
        };
        self.scoped.push(self.here());
        self.emit(
            Instr::Call {
                dst: None,
                obj: sel,
                op: Op::Acquire {
                    blocking: None,
                    timeout: None,
                },
            },
            r.span,
        );
        self.exits.push(Exit::Release(sel));
        let from = self.here();
        self.block(body)?;
        self.exits.pop();
        let exit = self.here();
        self.scoped.push(exit);
        self.emit(
            Instr::Call {
                dst: None,
                obj: sel,
                op: Op::Release { n: None },
            },
            span,
        );
        self.withs.push(ir::WithBlock {
            body: from..exit,
            exit,
        });
        Ok(())
    }

    /// `with pool:`: the body, then `pool.terminate()`, as Python's `Pool.__exit__` does
    /// (also when the body is left early or fails).
    fn with_pool(&mut self, sel: ObjSel, body: &[Stmt], span: Span) -> Result<(), Diagnostic> {
        self.exits.push(Exit::Terminate(sel));
        let from = self.here();
        self.block(body)?;
        self.exits.pop();
        let exit = self.here();
        self.emit(
            Instr::Call {
                dst: None,
                obj: sel,
                op: Op::PoolTerminate,
            },
            span,
        );
        self.withs.push(ir::WithBlock {
            body: from..exit,
            exit,
        });
        Ok(())
    }

    /// `assert cond` or `assert cond, "message"`; without a message, the condition's text
    /// is the message.
    fn assert_stmt(
        &mut self,
        cond: &Expr,
        message: Option<&str>,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let c = self.expr(cond)?;
        let text = match message {
            Some(m) => m.to_string(),
            None => self
                .l
                .s
                .source
                .get(cond.span.start..cond.span.end)
                .unwrap_or("")
                .to_string(),
        };
        self.emit(
            Instr::Assert {
                cond: c,
                message: text,
            },
            span,
        );
        Ok(())
    }

    /// Copies a local operand into a fresh temporary, so that later assignments to the
    /// local cannot change it (Python evaluates `range()` bounds and `with` targets once).
    fn pin(&mut self, o: Operand, span: Span) -> Operand {
        match o {
            Operand::Local(_) => {
                let t = self.temp();
                self.emit(Instr::Move { dst: t, src: o }, span);
                Operand::Local(t)
            }
            _ => o,
        }
    }

    fn expr_stmt(&mut self, e: &Expr) -> Result<(), Diagnostic> {
        match &e.kind {
            ExprKind::Call { func, args } if matches!(func.name.as_str(), "sleep" | "work") => {
                self.in_atomic_check(func.span, &format!("`{}()`", func.name))?;
                if args.len() != 1 || args[0].keyword.is_some() {
                    return Err(self
                        .err(e.span, format!("`{}` takes one argument", func.name))
                        .with_help(format!("write `{}(1)`", func.name)));
                }
                let us = self.seconds(&args[0].value)?;
                let instr = if func.name == "sleep" {
                    Instr::Sleep { us }
                } else {
                    Instr::Work { us }
                };
                self.emit(instr, e.span);
            }
            ExprKind::Call { func, args } if func.name == "print" => {
                let mut out = vec![];
                for a in args {
                    if let Some(k) = &a.keyword {
                        return Err(self
                            .err(k.span, "print() takes no keyword arguments here")
                            .with_help("write print(a, b)"));
                    }
                    match &a.value.kind {
                        ExprKind::Str(s) => out.push(PrintArg::Str(s.clone())),
                        _ => out.push(PrintArg::Value(self.expr(&a.value)?)),
                    }
                }
                self.emit(Instr::Print { args: out }, e.span);
            }
            ExprKind::Method {
                receiver,
                method,
                args,
            } => {
                self.method(receiver, method, args, e.span, false)?;
            }
            _ => {
                // Any other expression is evaluated for its steps and discarded, as Python does.
                self.expr(e)?;
            }
        }
        Ok(())
    }

    fn unknown_name(&self, name: &str, span: Span) -> Diagnostic {
        if let Some(p) = self.l.s.parties.iter().find(|p| p.name.name == name) {
            // Only functions get here: they are checked before the parties exist.
            let what = if p.process { "a process" } else { "a thread" };
            return self
                .err(span, format!("a function cannot name `{name}`, {what}"))
                .with_help(
                    "functions see the declared variables and objects, not threads or \
                     processes: start, join or stop it in a thread's code",
                );
        }
        let help = match name {
            "true" | "false" => format!(
                "Python spells it `{}`",
                if name == "true" { "True" } else { "False" }
            ),
            "none" | "null" => "Python spells it `None`".to_string(),
            _ => {
                let mut known: Vec<&String> =
                    self.l.syms.keys().chain(self.local_ids.keys()).collect();
                known.sort();
                match known.iter().find(|k| close(k, name)) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => "declare it in [shared], [atomics] or [ghost], or assign it first"
                        .to_string(),
                }
            }
        };
        self.err(span, format!("unknown name `{name}`"))
            .with_help(help)
    }

    /// A time in seconds (`work(t)`, `sleep(t)`, `timeout=t`), lowered to microseconds:
    /// a literal (an integer or a decimal) at once, anything else by multiplying at run
    /// time. `None` stays `None` (a timeout that waits forever).
    pub(super) fn seconds(&mut self, e: &Expr) -> Result<Operand, Diagnostic> {
        let literal = match &e.kind {
            ExprKind::None => return Ok(Operand::Const(Value::None)),
            ExprKind::Decimal(us) => Some(*us),
            ExprKind::Int(i) => i.checked_mul(1_000_000),
            ExprKind::Unary {
                op: UnOp::Neg,
                operand,
            } => match &operand.kind {
                ExprKind::Decimal(us) => Some(-us),
                ExprKind::Int(i) => i.checked_mul(-1_000_000),
                _ => return self.seconds_at_run_time(e),
            },
            _ => return self.seconds_at_run_time(e),
        };
        match literal {
            Some(us) => Ok(Operand::Const(Value::Int(us))),
            None => Err(self
                .err(e.span, "time out of range")
                .with_help("a time is at most 9223372036854 seconds")),
        }
    }

    fn seconds_at_run_time(&mut self, e: &Expr) -> Result<Operand, Diagnostic> {
        let s = self.expr(e)?;
        let dst = self.temp();
        self.emit(
            Instr::Binary {
                dst,
                op: BinOp::Mul,
                a: s,
                b: Operand::Const(Value::Int(1_000_000)),
            },
            e.span,
        );
        Ok(Operand::Local(dst))
    }

    fn expr(&mut self, e: &Expr) -> Result<Operand, Diagnostic> {
        Ok(match &e.kind {
            ExprKind::Int(i) => Operand::Const(Value::Int(*i)),
            ExprKind::Decimal(_) => {
                return Err(self
                    .err(e.span, "a decimal number is only allowed as a time")
                    .with_help(
                        "values are integers, booleans or None; a time in seconds may be a decimal: `work(0.5)`, `sleep(0.1)`, `timeout=0.5`",
                    ));
            }
            ExprKind::Bool(b) => Operand::Const(Value::Bool(*b)),
            ExprKind::None => Operand::Const(Value::None),
            ExprKind::Tid => {
                if self.check {
                    return Err(self
                        .err(e.span, "`tid` has no meaning outside a thread")
                        .with_help("use it in a thread's code"));
                }
                self.uses_tid = true;
                Operand::Tid
            }
            ExprKind::Str(_) => {
                return Err(self
                    .err(
                        e.span,
                        "a string can only be printed or be an assert message",
                    )
                    .with_help("values are integers, booleans and None"));
            }
            ExprKind::Name(n) => self.name_value(&Ident {
                name: n.clone(),
                span: e.span,
            })?,
            ExprKind::Index { name, index } => self.element_value(name, index, e.span)?,
            ExprKind::Unary { op, operand } => {
                let a = self.expr(operand)?;
                let dst = self.temp();
                self.emit(Instr::Unary { dst, op: *op, a }, e.span);
                Operand::Local(dst)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let a = self.expr(lhs)?;
                let b = self.expr(rhs)?;
                let dst = self.temp();
                self.emit(Instr::Binary { dst, op: *op, a, b }, e.span);
                Operand::Local(dst)
            }
            ExprKind::Compare { first, rest } => self.compare(first, rest, e.span)?,
            ExprKind::BoolOp { op, values } => self.bool_op(*op, values)?,
            ExprKind::IfExp { cond, then, orelse } => self.if_exp(cond, then, orelse, e.span)?,
            ExprKind::Call { func, args } => self.call_value(e, func, args)?,
            ExprKind::Method {
                receiver,
                method,
                args,
            } => self.method(receiver, method, args, e.span, true)?,
            ExprKind::Attr { receiver, attr } => self.attr_value(receiver, attr, e.span)?,
            ExprKind::List(items) => self.list_value(items, e.span)?,
            ExprKind::Tuple(_) => {
                return Err(self
                    .err(
                        e.span,
                        "a tuple is only the argument list of `apply_async` and `apply`",
                    )
                    .with_help("use a list `[a, b]` for a value"));
            }
        })
    }

    /// A comparison chain `a < b <= c`: it stops at the first false link, and evaluates
    /// each middle operand once.
    fn compare(
        &mut self,
        first: &Expr,
        rest: &[(CmpOp, Expr)],
        span: Span,
    ) -> Result<Operand, Diagnostic> {
        let dst = self.temp();
        let mut a = self.expr(first)?;
        let mut exits = vec![];
        for (k, (op, rhs)) in rest.iter().enumerate() {
            let b = self.expr(rhs)?;
            self.emit(Instr::Compare { dst, op: *op, a, b }, span);
            if k + 1 < rest.len() {
                exits.push(self.emit(
                    Instr::Branch {
                        cond: Operand::Local(dst),
                        when: false,
                        target: 0,
                    },
                    span,
                ));
                a = self.pin(b, rhs.span);
            }
        }
        let end = self.here();
        for x in exits {
            self.patch(x, end);
        }
        Ok(Operand::Local(dst))
    }

    /// `a and b and ...` or `a or b or ...`, short-circuit: the value is the last operand
    /// evaluated.
    fn bool_op(&mut self, op: BoolOp, values: &[Expr]) -> Result<Operand, Diagnostic> {
        let dst = self.temp();
        let mut exits = vec![];
        for (k, v) in values.iter().enumerate() {
            let x = self.expr(v)?;
            self.emit(Instr::Move { dst, src: x }, v.span);
            if k + 1 < values.len() {
                // `a and b`: stop at a falsy a; `a or b`: stop at a truthy a.
                let when = matches!(op, BoolOp::Or);
                exits.push(self.emit(
                    Instr::Branch {
                        cond: Operand::Local(dst),
                        when,
                        target: 0,
                    },
                    v.span,
                ));
            }
        }
        let end = self.here();
        for x in exits {
            self.patch(x, end);
        }
        Ok(Operand::Local(dst))
    }

    /// `then if cond else orelse`.
    fn if_exp(
        &mut self,
        cond: &Expr,
        then: &Expr,
        orelse: &Expr,
        span: Span,
    ) -> Result<Operand, Diagnostic> {
        let dst = self.temp();
        let c = self.expr(cond)?;
        let br = self.emit(
            Instr::Branch {
                cond: c,
                when: false,
                target: 0,
            },
            cond.span,
        );
        let t = self.expr(then)?;
        self.emit(Instr::Move { dst, src: t }, then.span);
        let j = self.emit(Instr::Jump { target: 0 }, span);
        let else_at = self.here();
        self.patch(br, else_at);
        let f = self.expr(orelse)?;
        self.emit(Instr::Move { dst, src: f }, orelse.span);
        let end = self.here();
        self.patch(j, end);
        Ok(Operand::Local(dst))
    }

    /// Literal bounds of `choose(lo, hi)` are checked here, at load: an empty range, or
    /// more than [`MAX_CHOOSE`] values (other bounds raise ValueError when it runs).
    fn choose_bounds(&self, lo: &Expr, hi: &Expr, span: Span) -> Result<(), Diagnostic> {
        let literal = |e: &Expr| match &e.kind {
            ExprKind::Int(i) => Some(*i),
            ExprKind::Unary {
                op: UnOp::Neg,
                operand,
            } => match operand.kind {
                ExprKind::Int(i) => i.checked_neg(),
                _ => None,
            },
            _ => None,
        };
        let (Some(l), Some(h)) = (literal(lo), literal(hi)) else {
            return Ok(());
        };
        match ir::choose_range_error(l, h) {
            Some(why) if l > h => Err(self
                .err(span, why)
                .with_help("`choose(lo, hi)` is any integer from lo to hi inclusive: lo <= hi")),
            Some(why) => Err(self.err(span, why).with_help(format!(
                "the explorer tries every value: choose from at most {MAX_CHOOSE}"
            ))),
            None => Ok(()),
        }
    }

    /// The value of the function call `e`: `choose(lo, hi)` or `cas(...)`.
    fn call_value(&mut self, e: &Expr, func: &Ident, args: &[Arg]) -> Result<Operand, Diagnostic> {
        if let Some(Sym::Function(f)) = self.l.syms.get(&func.name).copied() {
            return self.call_function(f, args, e.span);
        }
        match func.name.as_str() {
            "choose" => {
                if self.check {
                    return Err(self
                        .err(e.span, "choose() cannot be used in a check")
                        .with_help("a check only reads"));
                }
                self.in_atomic_check(func.span, "`choose()`")?;
                if args.len() != 2 || args.iter().any(|a| a.keyword.is_some()) {
                    return Err(self.err(e.span, "choose takes two arguments").with_help(
                        "write `choose(lo, hi)`: any integer from lo to hi inclusive",
                    ));
                }
                self.choose_bounds(&args[0].value, &args[1].value, e.span)?;
                let lo = self.expr(&args[0].value)?;
                let hi = self.expr(&args[1].value)?;
                let dst = self.temp();
                self.emit(Instr::Choose { dst, lo, hi }, e.span);
                Ok(Operand::Local(dst))
            }
            // An extension of SCENARIO.md (see README.md). `cas` is not reserved:
            // it means compare-and-swap only where it is called.
            "cas" => self.cas(e, args),
            "len" => self.len_value(e, args),
            "sleep" | "work" | "print" => Err(self
                .err(
                    func.span,
                    format!("`{}()` is a statement, not a value", func.name),
                )
                .with_help(format!("write `{}(...)` on a line of its own", func.name))),
            other => Err(self
                .err(func.span, format!("unknown function `{other}`"))
                .with_help(
                    "the built-in functions are choose(lo, hi), cas(x, expected, new), len(x), sleep(n), work(n) and print(...); define others in [functions]",
                )),
        }
    }

    /// `cas(x, expected, new)` / `cas(a[i], expected, new)`: one step on a `[shared]` or
    /// `[atomics]` cell that writes `new` when the cell equals `expected`; True if it wrote.
    fn cas(&mut self, e: &Expr, args: &[Arg]) -> Result<Operand, Diagnostic> {
        let usage = "write `cas(x, expected, new)` or `cas(a[i], expected, new)`: True and \
                     x = new when x == expected, else False";
        if self.check {
            return Err(self
                .err(e.span, "cas() cannot be used in a check")
                .with_help("a check only reads"));
        }
        if args.len() != 3 || args.iter().any(|a| a.keyword.is_some()) {
            return Err(self
                .err(e.span, "cas takes three arguments")
                .with_help(usage));
        }
        let target = &args[0].value;
        let (name, index_expr) = match &target.kind {
            ExprKind::Name(n) => (n.as_str(), None),
            ExprKind::Index { name, index } => (name.name.as_str(), Some(&**index)),
            _ => {
                return Err(self
                    .err(
                        target.span,
                        "the first argument of cas() must be a variable or an array element",
                    )
                    .with_help(usage));
            }
        };
        let var = match self.l.syms.get(name).copied() {
            Some(Sym::Var(v)) if self.l.vars[v as usize].class != VarClass::Ghost => v,
            Some(Sym::Var(_)) => {
                return Err(self
                    .err(
                        target.span,
                        format!("cas() on `{name}`, a [ghost] variable"),
                    )
                    .with_help("cas() is a step: use a [shared] or [atomics] variable"));
            }
            Some(_) => {
                return Err(self
                    .err(
                        target.span,
                        format!("`{name}` is an object or a thread, not a variable"),
                    )
                    .with_help("cas() works on [shared] and [atomics] variables"));
            }
            None => {
                let is_local = self.local_ids.contains_key(name);
                let d = self.err(
                    target.span,
                    if is_local {
                        format!("cas() on `{name}`, a thread-local")
                    } else {
                        format!("unknown name `{name}`")
                    },
                );
                return Err(
                    d.with_help("cas() works on variables declared in [shared] or [atomics]")
                );
            }
        };
        self.check_indexing(var, index_expr.is_some(), target.span)?;
        let index = match index_expr {
            Some(i) => Some(self.expr(i)?),
            None => None,
        };
        let expected = self.expr(&args[1].value)?;
        let new = self.expr(&args[2].value)?;
        let dst = self.temp();
        self.emit(
            Instr::Cas {
                dst,
                var,
                index,
                expected,
                new,
            },
            e.span,
        );
        Ok(Operand::Local(dst))
    }
}

/// Is `a` a likely misspelling of `b`? (edit distance at most 2, for names of 3 or more)
pub fn close(a: &str, b: &str) -> bool {
    if a == b || b.len() < 3 {
        return false;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}
