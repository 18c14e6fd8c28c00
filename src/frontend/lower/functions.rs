//! `[functions]`: a call is inlined where it is written, so it is not a step and the
//! steps of its body are the caller's. Each inlined call gets locals of its own (its
//! parameters and the names its body assigns), made unassigned again each time the call
//! runs, as a new Python frame's are; `return` leaves the `with` blocks it is in, as
//! `break` does. [`Code::calls`](crate::ir::Code::calls) records every inlined call, so a
//! trace names the call a step is in (`deposit(5) line 4`).
//!
//! Checked when the file is loaded, for every function, called or not: recursion (which
//! inlining could not end), and assignments to a `[shared]`, `[atomics]` or `[ghost]`
//! name without `global` (Python would make the name a local and the program would not
//! do what it says). Also lists (`[a, b]`, `len(xs)`, `xs[i]`) and `for x in ...:`.

use super::{Builder, Sym, collect_locals};
use crate::frontend::ast::{Arg, Expr, ExprKind, FuncDef, Ident, Span, Stmt, StmtKind, Target};
use crate::frontend::diag::Diagnostic;
use crate::ir::{InlinedCall, Instr, Operand, Value};
use std::collections::{BTreeSet, HashMap};

/// One function being inlined: where its value goes and where its `return`s jump.
pub(super) struct Frame {
    func: u32,
    ret: u32,
    returns: Vec<usize>,
    exit_depth: usize,
}

/// The names a function's body may assign with `global`.
fn globals_of(stmts: &[Stmt], out: &mut BTreeSet<String>) {
    for s in stmts {
        match &s.kind {
            StmtKind::Global(names) => out.extend(names.iter().map(|n| n.name.clone())),
            StmtKind::If { branches, orelse } => {
                for (_, b) in branches {
                    globals_of(b, out);
                }
                if let Some(b) = orelse {
                    globals_of(b, out);
                }
            }
            StmtKind::While { body, .. }
            | StmtKind::For { body, .. }
            | StmtKind::ForEach { body, .. }
            | StmtKind::With { body, .. } => globals_of(body, out),
            _ => {}
        }
    }
}

/// The names a body binds (`x = `, `x += `, `for x in`), each with its first place.
fn bound_names(stmts: &[Stmt], out: &mut Vec<Ident>) {
    let push = |id: &Ident, out: &mut Vec<Ident>| {
        if !out.iter().any(|n| n.name == id.name) {
            out.push(id.clone());
        }
    };
    for s in stmts {
        match &s.kind {
            StmtKind::Assign { target, .. } | StmtKind::AugAssign { target, .. }
                if target.index.is_none() && target.attr.is_none() =>
            {
                push(&target.name, out)
            }
            StmtKind::For { var, body, .. } | StmtKind::ForEach { var, body, .. } => {
                push(var, out);
                bound_names(body, out);
            }
            StmtKind::If { branches, orelse } => {
                for (_, b) in branches {
                    bound_names(b, out);
                }
                if let Some(b) = orelse {
                    bound_names(b, out);
                }
            }
            StmtKind::While { body, .. } | StmtKind::With { body, .. } => bound_names(body, out),
            _ => {}
        }
    }
}

impl<'a> super::Lowerer<'a> {
    /// Declares the functions, and checks each (its names, and by lowering it once on its
    /// own, its body and that it does not recurse).
    pub(super) fn check_functions(&mut self) -> Result<(), Diagnostic> {
        for (i, f) in self.s.functions.iter().enumerate() {
            self.declare(&f.name, Sym::Function(i as u32))?;
        }
        for f in &self.s.functions {
            self.check_scope(f)?;
        }
        for (i, f) in self.s.functions.iter().enumerate() {
            let mut b = Builder::new(self, false);
            let args = vec![Operand::Const(Value::None); f.params.len()];
            b.inline(i as u32, args, f.span)?;
        }
        Ok(())
    }

    /// A parameter may not be named like a variable, and a variable is assigned only
    /// where `global` names it.
    fn check_scope(&self, f: &FuncDef) -> Result<(), Diagnostic> {
        for p in &f.params {
            if self.syms.contains_key(&p.name) {
                return Err(self
                    .err(
                        p.span,
                        format!("the parameter `{}` has the name of a declared name", p.name),
                    )
                    .with_help(format!(
                        "rename the parameter: inside `{}`, `{}` would hide the one declared",
                        f.name.name, p.name
                    )));
            }
        }
        let mut globals = BTreeSet::new();
        globals_of(&f.body, &mut globals);
        let mut bound = vec![];
        bound_names(&f.body, &mut bound);
        for n in bound {
            if let Some(Sym::Var(v)) = self.syms.get(&n.name)
                && !globals.contains(&n.name)
            {
                let table = match self.vars[*v as usize].class {
                    crate::frontend::ast::VarClass::Shared => "[shared]",
                    crate::frontend::ast::VarClass::Atomic => "[atomics]",
                    crate::frontend::ast::VarClass::Ghost => "[ghost]",
                };
                return Err(self
                    .err(
                        n.span,
                        format!(
                            "`{}` is a {table} variable, assigned in `{}` without `global {}`",
                            n.name, f.name.name, n.name
                        ),
                    )
                    .with_help(format!(
                        "add \"global {}\" to {} (without it, Python makes `{}` a local of the function)",
                        n.name, f.name.name, n.name
                    )));
            }
        }
        Ok(())
    }
}

impl Builder<'_, '_> {
    /// The call `f(args)` of function `func`, at `span`: inlined here; its value.
    pub(super) fn call_function(
        &mut self,
        func: u32,
        args: &[Arg],
        span: Span,
    ) -> Result<Operand, Diagnostic> {
        let f = &self.l.s.functions[func as usize];
        if self.check {
            return Err(self
                .err(span, format!("a check cannot call `{}`", f.name.name))
                .with_help("a check only reads: write the expression out"));
        }
        if let Some(k) = args.iter().find_map(|a| a.keyword.as_ref()) {
            return Err(self
                .err(k.span, "keyword arguments to a function are not supported")
                .with_help(format!("pass them in order: `{}`", signature(f))));
        }
        if args.len() != f.params.len() {
            return Err(self
                .err(
                    span,
                    format!(
                        "`{}` takes {} argument(s), not {}",
                        f.name.name,
                        f.params.len(),
                        args.len()
                    ),
                )
                .with_help(format!("call it as `{}`", signature(f))));
        }
        let mut ops = vec![];
        for a in args {
            ops.push(self.expr(&a.value)?);
        }
        self.inline(func, ops, span)
    }

    /// Inlines function `func` with the argument values `args`, called at `span`.
    pub(super) fn inline(
        &mut self,
        func: u32,
        args: Vec<Operand>,
        span: Span,
    ) -> Result<Operand, Diagnostic> {
        let f = &self.l.s.functions[func as usize];
        if let Some(pos) = self.frames.iter().position(|fr| fr.func == func) {
            let mut chain: Vec<&str> = self.frames[pos..]
                .iter()
                .map(|fr| self.l.s.functions[fr.func as usize].name.name.as_str())
                .collect();
            chain.push(&f.name.name);
            let msg = if chain.len() == 2 {
                format!("`{}` calls itself: recursion is not supported", f.name.name)
            } else {
                format!(
                    "recursion is not supported: {}",
                    chain
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(" calls ")
                )
            };
            return Err(self
                .err(span, msg)
                .with_help("every call is inlined where it is written: use a loop instead"));
        }
        // The arguments, kept where the body cannot change them (traces show them).
        let mut arg_locals = vec![];
        for a in args {
            let t = self.temp();
            self.emit(Instr::Move { dst: t, src: a }, span);
            arg_locals.push(t);
        }
        // The frame's locals: parameters first, then the names the body binds.
        let mut names: Vec<String> = f.params.iter().map(|p| p.name.clone()).collect();
        let mut bound = BTreeSet::new();
        collect_locals(&f.body, &self.l.syms, &mut bound);
        for n in bound {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let first = self.next_local;
        let mut scope = HashMap::new();
        for n in &names {
            let id = self.named_temp(n);
            scope.insert(n.clone(), id);
        }
        let end = self.next_local;
        let ret = self.temp();
        let line = self.l.line(span);
        self.calls.push(InlinedCall {
            func,
            args: arg_locals.clone(),
            line,
            parent: self.cur_call,
        });
        let saved_call = self.cur_call;
        self.cur_call = Some(self.calls.len() as u32 - 1);
        self.emit(
            Instr::ClearLocals {
                from: first,
                to: end,
            },
            f.span,
        );
        for (k, a) in arg_locals.iter().enumerate() {
            self.emit(
                Instr::Move {
                    dst: first + k as u32,
                    src: Operand::Local(*a),
                },
                f.params[k].span,
            );
        }
        self.emit(
            Instr::Move {
                dst: ret,
                src: Operand::Const(Value::None),
            },
            f.span,
        );
        let saved_ids = std::mem::replace(&mut self.local_ids, scope);
        let saved_loops = std::mem::take(&mut self.loops);
        self.frames.push(Frame {
            func,
            ret,
            returns: vec![],
            exit_depth: self.exits.len(),
        });
        let body = self.block(&f.body);
        let frame = self.frames.pop().expect("the frame pushed above");
        self.loops = saved_loops;
        self.local_ids = saved_ids;
        body?;
        let after = self.here();
        for j in frame.returns {
            self.patch(j, after);
        }
        self.cur_call = saved_call;
        Ok(Operand::Local(ret))
    }

    /// `return` or `return e`: the value, the `with` blocks left, the jump to the end.
    pub(super) fn return_stmt(
        &mut self,
        value: Option<&Expr>,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let Some(frame) = self.frames.last() else {
            return Err(self
                .err(span, "`return` outside a function")
                .with_help("functions are defined in [functions]"));
        };
        let ret = frame.ret;
        let v = match value {
            Some(e) => self.expr(e)?,
            None => Operand::Const(Value::None),
        };
        self.emit(Instr::Move { dst: ret, src: v }, span);
        let depth = self.frames.last().map_or(0, |f| f.exit_depth);
        self.leave_blocks(depth, span);
        let j = self.emit(Instr::Jump { target: 0 }, span);
        if let Some(f) = self.frames.last_mut() {
            f.returns.push(j);
        }
        Ok(())
    }

    /// `[a, b, c]`.
    pub(super) fn list_value(&mut self, items: &[Expr], span: Span) -> Result<Operand, Diagnostic> {
        let mut ops = vec![];
        for e in items {
            ops.push(self.expr(e)?);
        }
        let dst = self.temp();
        self.emit(Instr::MakeList { dst, items: ops }, span);
        Ok(Operand::Local(dst))
    }

    /// `for var in iter:` over an array (each element read is a step, as the array's
    /// reads are) or a list value.
    pub(super) fn for_each(
        &mut self,
        var: &Ident,
        iter: &Expr,
        body: &[Stmt],
        span: Span,
    ) -> Result<(), Diagnostic> {
        let array = match &iter.kind {
            ExprKind::Name(n) => match self.l.syms.get(n).copied() {
                Some(Sym::Var(v) | Sym::Memory { var: v, .. })
                    if self.l.vars[v as usize].len.is_some() =>
                {
                    Some(v)
                }
                Some(Sym::Var(_) | Sym::Memory { .. } | Sym::Objects(_) | Sym::Threads(_)) => {
                    return Err(self
                        .err(iter.span, format!("cannot loop over `{n}`"))
                        .with_help(
                            "`for x in ...` takes an array of [shared], [atomics] or [ghost], an Array, or a list",
                        ));
                }
                _ => None,
            },
            _ => None,
        };
        let (len, list) = match array {
            Some(v) => {
                let n = self.l.vars[v as usize].len.unwrap_or(0);
                (Operand::Const(Value::Int(i64::from(n))), None)
            }
            None => {
                let l = self.expr(iter)?;
                let l = self.pin(l, iter.span);
                let n = self.temp();
                self.emit(Instr::ListLen { dst: n, list: l }, iter.span);
                (Operand::Local(n), Some(l))
            }
        };
        let k = self.temp();
        self.emit(
            Instr::Move {
                dst: k,
                src: Operand::Const(Value::Int(0)),
            },
            span,
        );
        let head = self.here();
        self.emit(Instr::LoopHead { may_spin: false }, span);
        let br = self.range_test(k, len, Operand::Const(Value::Int(1)), span);
        let item = match (array, list) {
            (Some(v), _) => self.read_var(v, Some(Operand::Local(k)), iter.span),
            (None, Some(l)) => {
                let dst = self.temp();
                self.emit(
                    Instr::ListItem {
                        dst,
                        list: l,
                        index: Operand::Local(k),
                    },
                    iter.span,
                );
                Operand::Local(dst)
            }
            (None, None) => Operand::Const(Value::None),
        };
        let target = Target {
            name: var.clone(),
            index: None,
            attr: None,
            span: var.span,
        };
        self.store(&target, item, var.span)?;
        self.counted_body(body, br, head, (k, Operand::Const(Value::Int(1))), span)
    }
}

/// `name(a, b)`, for messages.
fn signature(f: &FuncDef) -> String {
    let p: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
    format!("{}({})", f.name.name, p.join(", "))
}
