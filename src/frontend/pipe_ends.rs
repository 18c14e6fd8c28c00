//! Which Pipe ends each party's code may use, read from the syntax tree: a Pipe end is
//! one end for the whole program, as SCENARIO.md has it, and Python closes a process's
//! copies when it ends. The lowering closes an end that only processes use when the last
//! of them ends (end of file for its peer), and the CPython translation closes in each
//! process, and in the main program, the copies nobody there uses: both read it here.

use crate::frontend::ast::{Expr, ExprKind, ObjRef, Scenario, Stmt, StmtKind, WithItem};
use std::collections::BTreeSet;

/// The ends (0, 1) of Pipe `pipe` that each party may use, in the order of
/// `s.parties`: its own code's and, since any party may call any function, every
/// function's.
pub fn by_party(s: &Scenario, pipe: &str) -> Vec<BTreeSet<i64>> {
    let mut called = BTreeSet::new();
    for f in &s.functions {
        pipe_ends_in(pipe, &f.body, &mut called);
    }
    s.parties
        .iter()
        .map(|p| {
            let mut ends = called.clone();
            pipe_ends_in(pipe, &p.code, &mut ends);
            ends
        })
        .collect()
}

/// The ends of Pipe `pipe` that `body` uses (`p[0]`, `p[1]`; both for `p[i]`).
fn pipe_ends_in(pipe: &str, body: &[Stmt], out: &mut BTreeSet<i64>) {
    fn objref(pipe: &str, r: &ObjRef, out: &mut BTreeSet<i64>) {
        if r.name.name == pipe {
            match r.index.as_deref().map(|e| &e.kind) {
                Some(ExprKind::Int(i)) => {
                    out.insert(*i);
                }
                _ => {
                    out.insert(0);
                    out.insert(1);
                }
            }
        }
    }
    fn expr(pipe: &str, e: &Expr, out: &mut BTreeSet<i64>) {
        match &e.kind {
            ExprKind::Method { receiver, args, .. } => {
                objref(pipe, receiver, out);
                for a in args {
                    expr(pipe, &a.value, out);
                }
            }
            ExprKind::Attr { receiver, .. } => objref(pipe, receiver, out),
            ExprKind::Call { args, .. } => args.iter().for_each(|a| expr(pipe, &a.value, out)),
            ExprKind::Index { index, .. } => expr(pipe, index, out),
            ExprKind::Unary { operand, .. } => expr(pipe, operand, out),
            ExprKind::Binary { lhs, rhs, .. } => {
                expr(pipe, lhs, out);
                expr(pipe, rhs, out);
            }
            ExprKind::Compare { first, rest } => {
                expr(pipe, first, out);
                rest.iter().for_each(|(_, x)| expr(pipe, x, out));
            }
            ExprKind::BoolOp { values, .. } => values.iter().for_each(|v| expr(pipe, v, out)),
            ExprKind::IfExp { cond, then, orelse } => {
                expr(pipe, cond, out);
                expr(pipe, then, out);
                expr(pipe, orelse, out);
            }
            _ => {}
        }
    }
    for st in body {
        match &st.kind {
            StmtKind::Assign { target, value } | StmtKind::AugAssign { target, value, .. } => {
                if let Some(i) = &target.index {
                    expr(pipe, i, out);
                }
                expr(pipe, value, out);
            }
            StmtKind::If { branches, orelse } => {
                for (c, b) in branches {
                    expr(pipe, c, out);
                    pipe_ends_in(pipe, b, out);
                }
                if let Some(b) = orelse {
                    pipe_ends_in(pipe, b, out);
                }
            }
            StmtKind::While { cond, body } => {
                expr(pipe, cond, out);
                pipe_ends_in(pipe, body, out);
            }
            StmtKind::For { body, .. } => pipe_ends_in(pipe, body, out),
            StmtKind::ForEach { iter, body, .. } => {
                expr(pipe, iter, out);
                pipe_ends_in(pipe, body, out);
            }
            StmtKind::Return(Some(e)) => expr(pipe, e, out),
            StmtKind::With { item, body } => {
                if let WithItem::Object(r) = item {
                    objref(pipe, r, out);
                }
                pipe_ends_in(pipe, body, out);
            }
            StmtKind::Assert { cond, .. } => expr(pipe, cond, out),
            StmtKind::Expr(e) => expr(pipe, e, out),
            _ => {}
        }
    }
}
