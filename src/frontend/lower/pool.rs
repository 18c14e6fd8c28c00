//! `multiprocessing.Pool`: its methods (`apply_async`, `apply`, `map`, `close`, `join`,
//! `terminate`, `with pool:`), the AsyncResult methods of a local that holds one (`get`,
//! `wait`, `ready`, `successful`), and the workers' code.
//!
//! A worker is a generated party (a process, a daemon, started with the scenario) whose
//! code is a loop: take a task (a step), dispatch on its function to that function's
//! inlined body, finish the task (a step); a failure in the body is caught
//! ([`ir::CatchBlock`]) and fails the task instead of the worker. Its locals are cleared
//! before each take, so idle workers with the same memory are in the same state (the
//! machine lets only the first of them take a task).

use super::{Builder, Sym};
use crate::frontend::ast::CmpOp;
use crate::frontend::ast::{Arg, Expr, ExprKind, Ident, Span};
use crate::frontend::diag::Diagnostic;
use crate::ir::{CatchBlock, Code, Instr, ObjSel, Op, Operand, ResultOp, TaskField, Value};

const POOL_HELP: &str =
    "a Pool has apply_async(f, (a, b)), apply(f, (a,)), map(f, xs), close(), join(), terminate()";
const RESULT_HELP: &str =
    "an AsyncResult has get(), get(timeout=t), wait(), wait(timeout=t), ready(), successful()";

impl Builder<'_, '_> {
    /// `pool.m(args)` on the pool `sel`; its value.
    pub(super) fn pool_method(
        &mut self,
        sel: ObjSel,
        method: &Ident,
        args: &[Arg],
        span: Span,
    ) -> Result<Operand, Diagnostic> {
        let m = method.name.as_str();
        match m {
            "apply_async" | "apply" => {
                let (func, params) = self.target_function(args, method, span)?;
                let fargs = self.task_args(args, params, func, span)?;
                let t = self.temp();
                self.emit(
                    Instr::Call {
                        dst: Some(t),
                        obj: sel,
                        op: Op::Submit { func, args: fargs },
                    },
                    span,
                );
                if m == "apply" {
                    self.in_atomic_check(method.span, "`apply()`")?;
                    return Ok(self.result_instr(
                        Operand::Local(t),
                        ResultOp::Get { timeout: None },
                        span,
                    ));
                }
                Ok(Operand::Local(t))
            }
            "map" => {
                self.in_atomic_check(method.span, "`map()`")?;
                let (func, params) = self.target_function(args, method, span)?;
                if params != 1 {
                    return Err(self
                        .err(
                            span,
                            format!(
                                "map() calls its function with one argument; it takes {params}"
                            ),
                        )
                        .with_help("give map a function of one parameter"));
                }
                let Some(xs) = args.get(1).filter(|a| a.keyword.is_none()) else {
                    return Err(self
                        .err(span, "map() needs the items: `pool.map(f, xs)`")
                        .with_help(POOL_HELP));
                };
                let items = self.items_list(&xs.value)?;
                let t = self.temp();
                self.emit(
                    Instr::Call {
                        dst: Some(t),
                        obj: sel,
                        op: Op::SubmitEach { func, items },
                    },
                    span,
                );
                Ok(self.result_instr(Operand::Local(t), ResultOp::GetAll, span))
            }
            "close" | "join" | "terminate" => {
                if !args.is_empty() {
                    return Err(self
                        .err(span, format!("`{m}()` takes no arguments"))
                        .with_help(POOL_HELP));
                }
                let op = match m {
                    "close" => Op::PoolClose,
                    "join" => {
                        self.in_atomic_check(method.span, "`join()`")?;
                        Op::PoolJoin
                    }
                    _ => Op::PoolTerminate,
                };
                self.emit(
                    Instr::Call {
                        dst: None,
                        obj: sel,
                        op,
                    },
                    span,
                );
                Ok(Operand::Const(Value::None))
            }
            _ => Err(self
                .err(method.span, format!("a Pool has no method `{m}`"))
                .with_help(POOL_HELP)),
        }
    }

    /// The function a Pool method is given first: its id and its number of parameters.
    fn target_function(
        &self,
        args: &[Arg],
        method: &Ident,
        span: Span,
    ) -> Result<(u32, usize), Diagnostic> {
        let first = args.first().filter(|a| a.keyword.is_none());
        if let Some(Arg {
            value:
                Expr {
                    kind: ExprKind::Name(n),
                    span: nspan,
                },
            ..
        }) = first
        {
            return match self.l.syms.get(n) {
                Some(Sym::Function(f)) => Ok((*f, self.l.s.functions[*f as usize].params.len())),
                _ => Err(self
                    .err(*nspan, format!("`{n}` is not a function of [functions]"))
                    .with_help(
                        "a Pool runs functions defined in [functions]: `pool.apply_async(f, (a,))`",
                    )),
            };
        }
        Err(self
            .err(span, format!("`{}` takes a function first", method.name))
            .with_help("name a function of [functions]: `pool.apply_async(f, (a, b))`"))
    }

    /// The argument tuple of `apply_async` / `apply` (second, or `args=`).
    fn task_args(
        &mut self,
        args: &[Arg],
        params: usize,
        func: u32,
        span: Span,
    ) -> Result<Vec<Operand>, Diagnostic> {
        let given = args
            .iter()
            .skip(1)
            .find(|a| a.keyword.as_ref().is_none_or(|k| k.name == "args"));
        if let Some(a) = args
            .iter()
            .skip(1)
            .find(|a| a.keyword.as_ref().is_some_and(|k| k.name != "args"))
        {
            let k = a.keyword.as_ref().map_or(span, |k| k.span);
            return Err(self
                .err(k, "only `args` is supported here")
                .with_help("write `pool.apply_async(f, (a, b))`"));
        }
        let items: Vec<Expr> = match given.map(|a| &a.value.kind) {
            None => vec![],
            Some(ExprKind::Tuple(items) | ExprKind::List(items)) => items.clone(),
            Some(_) => {
                let at = given.map_or(span, |a| a.value.span);
                return Err(self
                    .err(at, "the arguments of a task are a tuple")
                    .with_help("write them as `(a, b)`, or `(a,)` for one"));
            }
        };
        let name = &self.l.s.functions[func as usize].name.name;
        if items.len() != params {
            return Err(self
                .err(
                    span,
                    format!("`{name}` takes {params} argument(s), not {}", items.len()),
                )
                .with_help("give the task's arguments as a tuple: `(a, b)`, or `(a,)` for one"));
        }
        let mut out = vec![];
        for e in &items {
            out.push(self.expr(e)?);
        }
        Ok(out)
    }

    /// `map`'s items as a list value: `range(...)`, an array (each element read), or a
    /// list.
    fn items_list(&mut self, e: &Expr) -> Result<Operand, Diagnostic> {
        if let ExprKind::Call { func, args } = &e.kind
            && func.name == "range"
            && !self.l.syms.contains_key("range")
        {
            if args.is_empty() || args.len() > 3 || args.iter().any(|a| a.keyword.is_some()) {
                return Err(self
                    .err(e.span, "range() takes 1 to 3 arguments")
                    .with_help(
                        "write `range(stop)`, `range(start, stop)` or `range(start, stop, step)`",
                    ));
            }
            let mut ops = vec![];
            for a in args {
                ops.push(self.expr(&a.value)?);
            }
            let (start, stop, step) = match ops.as_slice() {
                [stop] => (
                    Operand::Const(Value::Int(0)),
                    *stop,
                    Operand::Const(Value::Int(1)),
                ),
                [start, stop] => (*start, *stop, Operand::Const(Value::Int(1))),
                [start, stop, step] => (*start, *stop, *step),
                _ => unreachable!("checked above"),
            };
            let dst = self.temp();
            self.emit(
                Instr::RangeList {
                    dst,
                    start,
                    stop,
                    step,
                },
                e.span,
            );
            return Ok(Operand::Local(dst));
        }
        if let ExprKind::Name(n) = &e.kind
            && let Some(Sym::Var(v) | Sym::Memory { var: v, .. }) = self.l.syms.get(n).copied()
            && let Some(len) = self.l.vars[v as usize].len
        {
            let mut items = vec![];
            for i in 0..len {
                items.push(self.read_var(
                    v,
                    Some(Operand::Const(Value::Int(i64::from(i)))),
                    e.span,
                ));
            }
            let dst = self.temp();
            self.emit(Instr::MakeList { dst, items }, e.span);
            return Ok(Operand::Local(dst));
        }
        self.expr(e)
    }

    fn result_instr(&mut self, handle: Operand, op: ResultOp, span: Span) -> Operand {
        let dst = self.temp();
        self.emit(
            Instr::Result {
                dst: Some(dst),
                handle,
                op,
            },
            span,
        );
        Operand::Local(dst)
    }

    /// `r.m(args)` where the local `r` (or `rs[i]`) holds an AsyncResult.
    pub(super) fn result_method(
        &mut self,
        handle: Operand,
        method: &Ident,
        args: &[Arg],
        span: Span,
    ) -> Result<Operand, Diagnostic> {
        let m = method.name.as_str();
        let timeout = |b: &mut Self| -> Result<Option<Operand>, Diagnostic> {
            match args {
                [] => Ok(None),
                [a] if a.keyword.as_ref().is_none_or(|k| k.name == "timeout") => {
                    Ok(Some(b.seconds(&a.value)?))
                }
                _ => Err(b
                    .err(span, format!("`{m}()` takes only a timeout"))
                    .with_help(RESULT_HELP)),
            }
        };
        let op = match m {
            "get" => ResultOp::Get {
                timeout: timeout(self)?,
            },
            "wait" => ResultOp::Wait {
                timeout: timeout(self)?,
            },
            "ready" | "successful" if args.is_empty() => {
                if m == "ready" {
                    ResultOp::Ready
                } else {
                    ResultOp::Successful
                }
            }
            "ready" | "successful" => {
                return Err(self
                    .err(span, format!("`{m}()` takes no arguments"))
                    .with_help(RESULT_HELP));
            }
            _ => {
                return Err(self
                    .err(method.span, format!("an AsyncResult has no method `{m}`"))
                    .with_help(RESULT_HELP));
            }
        };
        if matches!(op, ResultOp::Get { .. } | ResultOp::Wait { .. }) {
            self.in_atomic_check(method.span, &format!("`{m}()`"))?;
        }
        Ok(self.result_instr(handle, op, span))
    }
}

impl super::Lowerer<'_> {
    /// The code of the workers of pool object `obj` (group `group`), declared at `span`.
    pub(super) fn worker_code(&self, group: u32, span: Span) -> Result<Code, Diagnostic> {
        let sel = ObjSel { group, index: None };
        let mut b = Builder::new(self, false);
        b.in_process = true;
        let top = b.here();
        let clear = b.emit(Instr::ClearLocals { from: 0, to: 0 }, span);
        let t = b.temp();
        b.emit(
            Instr::Call {
                dst: Some(t),
                obj: sel,
                op: Op::TakeTask,
            },
            span,
        );
        let to_end = b.emit(
            Instr::Branch {
                cond: Operand::Local(t),
                when: false,
                target: 0,
            },
            span,
        );
        let f = b.temp();
        b.emit(
            Instr::TaskField {
                dst: f,
                task: Operand::Local(t),
                field: TaskField::Func,
            },
            span,
        );
        let mut bodies = vec![];
        for (i, def) in self.s.functions.iter().enumerate() {
            let c = b.temp();
            b.emit(
                Instr::Compare {
                    dst: c,
                    op: CmpOp::Eq,
                    a: Operand::Local(f),
                    b: Operand::Const(Value::Int(i as i64)),
                },
                span,
            );
            let next = b.emit(
                Instr::Branch {
                    cond: Operand::Local(c),
                    when: false,
                    target: 0,
                },
                span,
            );
            let start = b.here();
            let mut args = vec![];
            for k in 0..def.params.len() {
                let a = b.temp();
                b.emit(
                    Instr::TaskField {
                        dst: a,
                        task: Operand::Local(t),
                        field: TaskField::Arg(k as u32),
                    },
                    def.span,
                );
                args.push(Operand::Local(a));
            }
            let r = b.inline(i as u32, args, def.span)?;
            bodies.push(start..b.here());
            b.emit(
                Instr::Call {
                    dst: None,
                    obj: sel,
                    op: Op::FinishTask {
                        task: Operand::Local(t),
                        value: r,
                    },
                },
                def.span,
            );
            b.emit(Instr::Jump { target: top }, span);
            let here = b.here();
            b.patch(next, here);
        }
        b.emit(Instr::Jump { target: top }, span);
        let handler = b.here();
        b.emit(
            Instr::Call {
                dst: None,
                obj: sel,
                op: Op::FailTask {
                    task: Operand::Local(t),
                },
            },
            span,
        );
        b.emit(Instr::Jump { target: top }, span);
        let end = b.here();
        b.patch(to_end, end);
        b.emit(Instr::End, span);
        let locals = b.next_local;
        b.instrs[clear] = Instr::ClearLocals {
            from: 0,
            to: locals,
        };
        b.catches = bodies
            .into_iter()
            .map(|body| CatchBlock { body, handler })
            .collect();
        Ok(b.finish())
    }
}

/// The name of worker `i` of pool `pool`.
pub(super) fn worker_name(pool: &str, i: u32) -> String {
    format!("{pool}.worker[{i}]")
}
