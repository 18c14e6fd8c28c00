//! The operations on objects, threads and processes: which method of which kind lowers
//! to which instruction, and how its arguments match its signature.

use super::{Builder, Sym};
use crate::frontend::ast::*;
use crate::frontend::diag::Diagnostic;
use crate::ir::{self, Group, Instr, ObjKind, ObjSel, Op, Operand, Value};

impl Builder<'_, '_> {
    pub(super) fn obj_sel(&mut self, r: &ObjRef) -> Result<(ObjSel, ObjKind), Diagnostic> {
        let g = match self.l.syms.get(&r.name.name).copied() {
            Some(Sym::Objects(g)) => g,
            Some(_) => {
                return Err(self
                    .err(r.name.span, format!("`{}` is not an object", r.name.name))
                    .with_help("declare it in [objects]"));
            }
            None => return Err(self.unknown_name(&r.name.name, r.name.span)),
        };
        let index = self.group_index(&self.l.object_groups[g as usize].clone(), r)?;
        Ok((ObjSel { group: g, index }, self.l.group_kinds[g as usize]))
    }

    pub(super) fn group_index(
        &mut self,
        group: &Group,
        r: &ObjRef,
    ) -> Result<Option<Operand>, Diagnostic> {
        match (&r.index, group.len) {
            (Some(i), Some(_)) => Ok(Some(self.expr(i)?)),
            (None, None) => Ok(None),
            (Some(_), None) => Err(self
                .err(r.span, format!("`{}` is not an array", group.name))
                .with_help(format!("use `{}` without an index", group.name))),
            (None, Some(_)) => Err(self
                .err(r.span, format!("`{}` is an array", group.name))
                .with_help(format!("pick an element: `{}[i]`", group.name))),
        }
    }

    /// Lowers a method call; returns its value when `want_value`.
    pub(super) fn method(
        &mut self,
        e: &Expr,
        want_value: bool,
    ) -> Result<Option<Operand>, Diagnostic> {
        let ExprKind::Method {
            receiver,
            method,
            args,
        } = &e.kind
        else {
            unreachable!()
        };
        if self.check {
            return Err(self
                .err(e.span, "a check cannot call methods")
                .with_help("a check only reads variables"));
        }
        if let Some(Sym::Threads(g)) = self.l.syms.get(&receiver.name.name).copied() {
            return self.thread_method(g, receiver, method, args, e.span, want_value);
        }
        let m = method.name.as_str();
        let (sel, kind) = self.obj_sel(receiver)?;
        let op = match kind {
            ObjKind::Queue { .. } => self.queue_op(m, args, method, e.span)?,
            _ => self.sync_op(kind, m, args, method)?,
        };
        let Some(op) = op else {
            let kname = kind_name(kind);
            return Err(self
                .err(method.span, format!("{kname} has no method `{m}`"))
                .with_help(format!("{kname} has {}", methods_of(kind))));
        };
        let blocking_kind = matches!(
            op,
            Op::Acquire { .. } | Op::Wait { .. } | Op::Put { .. } | Op::Get { .. } | Op::QJoin
        );
        if blocking_kind {
            self.in_atomic_check(method.span, &format!("`{m}()`"))?;
        }
        let dst = if want_value { Some(self.temp()) } else { None };
        self.emit(Instr::Call { dst, obj: sel, op }, e.span);
        Ok(dst.map(Operand::Local))
    }

    /// A method call on the thread group `g` (or one of its threads): `start()`, `join()`
    /// or `is_alive()`.
    pub(super) fn thread_method(
        &mut self,
        g: u32,
        receiver: &ObjRef,
        method: &Ident,
        args: &[Arg],
        span: Span,
        want_value: bool,
    ) -> Result<Option<Operand>, Diagnostic> {
        let m = method.name.as_str();
        let group = self.l.thread_groups[g as usize].clone();
        let index = match (&receiver.index, group.len) {
            (Some(i), Some(_)) => Some(self.expr(i)?),
            (Some(_), None) => {
                return Err(self
                    .err(
                        receiver.span,
                        format!("`{}` is a single thread", group.name),
                    )
                    .with_help(format!("use `{}` without an index", group.name)));
            }
            (None, _) => None,
        };
        let sel = ir::ThreadSel { group: g, index };
        self.expect_args(args, &[], method)?;
        self.in_atomic_check(method.span, &format!("`{m}()`"))?;
        let dst = if want_value { Some(self.temp()) } else { None };
        match m {
            "start" => self.emit(Instr::Start { thread: sel }, span),
            "join" => self.emit(
                Instr::Join {
                    thread: sel,
                    timeout: None,
                },
                span,
            ),
            "is_alive" => {
                if index.is_none() && group.len.is_some() {
                    return Err(self
                        .err(
                            receiver.span,
                            format!("`{}` is an array of threads", group.name),
                        )
                        .with_help(format!("ask one: `{}[i].is_alive()`", group.name)));
                }
                let d = dst.unwrap_or_else(|| self.temp());
                self.emit(
                    Instr::IsAlive {
                        dst: d,
                        thread: sel,
                    },
                    span,
                );
                return Ok(Some(Operand::Local(d)));
            }
            _ => {
                return Err(self
                    .err(method.span, format!("a thread has no method `{m}`"))
                    .with_help("a thread has start(), join() and is_alive()"));
            }
        };
        if let Some(d) = dst {
            self.emit(
                Instr::Move {
                    dst: d,
                    src: Operand::Const(Value::None),
                },
                span,
            );
        }
        Ok(dst.map(Operand::Local))
    }

    /// The operation of method `m` on a lock, condition, semaphore, event or barrier of
    /// kind `kind`; `None` if it has no such method.
    pub(super) fn sync_op(
        &mut self,
        kind: ObjKind,
        m: &str,
        args: &[Arg],
        method: &Ident,
    ) -> Result<Option<Op>, Diagnostic> {
        Ok(Some(match (kind, m) {
            (
                ObjKind::Lock
                | ObjKind::RLock
                | ObjKind::Semaphore { .. }
                | ObjKind::Condition { .. },
                "acquire",
            ) => {
                let a = self.args(args, &["blocking", "timeout"], method)?;
                Op::Acquire {
                    blocking: a[0],
                    timeout: a[1],
                }
            }
            (ObjKind::Lock | ObjKind::RLock | ObjKind::Condition { .. }, "release") => {
                self.args(args, &[], method)?;
                Op::Release { n: None }
            }
            (ObjKind::Semaphore { .. }, "release") => {
                let a = self.args(args, &["n"], method)?;
                Op::Release { n: a[0] }
            }
            (ObjKind::Lock, "locked") => {
                self.args(args, &[], method)?;
                Op::Locked
            }
            (ObjKind::Condition { .. }, "wait") | (ObjKind::Event, "wait") => {
                let a = self.args(args, &["timeout"], method)?;
                Op::Wait { timeout: a[0] }
            }
            (ObjKind::Barrier { .. }, "wait") => {
                self.args(args, &[], method)?;
                Op::Wait { timeout: None }
            }
            (ObjKind::Condition { .. }, "notify") => {
                let a = self.args(args, &["n"], method)?;
                Op::Notify { n: a[0] }
            }
            (ObjKind::Condition { .. }, "notify_all" | "notifyAll") => {
                self.args(args, &[], method)?;
                Op::NotifyAll
            }
            (ObjKind::Event, "set") => {
                self.args(args, &[], method)?;
                Op::Set
            }
            (ObjKind::Event, "clear") => {
                self.args(args, &[], method)?;
                Op::Clear
            }
            (ObjKind::Event, "is_set" | "isSet") => {
                self.args(args, &[], method)?;
                Op::IsSet
            }
            _ => return Ok(None),
        }))
    }

    /// The operation of method `m` on a queue (the call is at `span`); `None` if a queue
    /// has no such method.
    pub(super) fn queue_op(
        &mut self,
        m: &str,
        args: &[Arg],
        method: &Ident,
        span: Span,
    ) -> Result<Option<Op>, Diagnostic> {
        Ok(Some(match m {
            "put" => {
                let a = self.args(args, &["item", "block", "timeout"], method)?;
                let Some(value) = a[0] else {
                    return Err(self
                        .err(span, "put() needs the item to put")
                        .with_help("write `q.put(value)`"));
                };
                Op::Put {
                    value,
                    block: a[1],
                    timeout: a[2],
                }
            }
            "put_nowait" => {
                let a = self.args(args, &["item"], method)?;
                let Some(value) = a[0] else {
                    return Err(self
                        .err(span, "put_nowait() needs the item to put")
                        .with_help("write `q.put_nowait(value)`"));
                };
                Op::Put {
                    value,
                    block: Some(Operand::Const(Value::Bool(false))),
                    timeout: None,
                }
            }
            "get" => {
                let a = self.args(args, &["block", "timeout"], method)?;
                Op::Get {
                    block: a[0],
                    timeout: a[1],
                }
            }
            "get_nowait" => {
                self.args(args, &[], method)?;
                Op::Get {
                    block: Some(Operand::Const(Value::Bool(false))),
                    timeout: None,
                }
            }
            "task_done" => {
                self.args(args, &[], method)?;
                Op::TaskDone
            }
            "join" => {
                self.args(args, &[], method)?;
                Op::QJoin
            }
            "qsize" => {
                self.args(args, &[], method)?;
                Op::QSize
            }
            "empty" => {
                self.args(args, &[], method)?;
                Op::Empty
            }
            "full" => {
                self.args(args, &[], method)?;
                Op::Full
            }
            _ => return Ok(None),
        }))
    }

    pub(super) fn expect_args(
        &mut self,
        args: &[Arg],
        names: &[&str],
        method: &Ident,
    ) -> Result<(), Diagnostic> {
        self.args(args, names, method).map(|_| ())
    }

    /// Matches positional and keyword arguments to `names`, as Python would.
    pub(super) fn args(
        &mut self,
        args: &[Arg],
        names: &[&str],
        method: &Ident,
    ) -> Result<Vec<Option<Operand>>, Diagnostic> {
        let sig = if names.is_empty() {
            format!("{}()", method.name)
        } else {
            format!("{}({})", method.name, names.join(", "))
        };
        let mut slots: Vec<Option<&Expr>> = vec![None; names.len()];
        let mut seen_kw = false;
        for (i, a) in args.iter().enumerate() {
            match &a.keyword {
                None => {
                    if seen_kw {
                        return Err(self
                            .err(a.value.span, "positional argument after a keyword argument")
                            .with_help(format!("the signature is {sig}")));
                    }
                    if i >= names.len() {
                        return Err(self
                            .err(
                                a.value.span,
                                format!("too many arguments to `{}`", method.name),
                            )
                            .with_help(format!("the signature is {sig}")));
                    }
                    slots[i] = Some(&a.value);
                }
                Some(k) => {
                    seen_kw = true;
                    let Some(pos) = names.iter().position(|n| *n == k.name) else {
                        return Err(self
                            .err(
                                k.span,
                                format!("`{}` has no argument `{}`", method.name, k.name),
                            )
                            .with_help(format!("the signature is {sig}")));
                    };
                    if slots[pos].is_some() {
                        return Err(self
                            .err(k.span, format!("argument `{}` given twice", k.name))
                            .with_help(format!("the signature is {sig}")));
                    }
                    slots[pos] = Some(&a.value);
                }
            }
        }
        let mut out = vec![];
        for s in slots {
            out.push(match s {
                Some(e) => Some(self.expr(e)?),
                None => None,
            });
        }
        Ok(out)
    }
}

pub(super) fn kind_name(k: ObjKind) -> &'static str {
    match k {
        ObjKind::Lock => "a Lock",
        ObjKind::RLock => "an RLock",
        ObjKind::Condition { .. } => "a Condition",
        ObjKind::Semaphore { .. } => "a Semaphore",
        ObjKind::Event => "an Event",
        ObjKind::Barrier { .. } => "a Barrier",
        ObjKind::Queue { .. } => "a Queue",
        ObjKind::Connection { .. } => "a Pipe connection",
        ObjKind::ManagerDict => "a Manager dict",
        ObjKind::ManagerList => "a Manager list",
    }
}

fn methods_of(k: ObjKind) -> &'static str {
    match k {
        ObjKind::Lock => "acquire(blocking, timeout), release(), locked()",
        ObjKind::RLock => "acquire(blocking, timeout), release()",
        ObjKind::Condition { .. } => "acquire(), release(), wait(timeout), notify(n), notify_all()",
        ObjKind::Semaphore { .. } => "acquire(blocking, timeout), release(n)",
        ObjKind::Event => "set(), clear(), is_set(), wait(timeout)",
        ObjKind::Barrier { .. } => "wait()",
        ObjKind::Queue { .. } => {
            "put(item, block, timeout), get(block, timeout), task_done(), join(), qsize(), empty(), full()"
        }
        ObjKind::Connection { .. } => "send(v), recv(), poll(timeout), close()",
        ObjKind::ManagerDict => "d[k], d[k] = v, get(k, default), pop(k, default), len(d)",
        ObjKind::ManagerList => "l[i], l[i] = v, append(v), pop(), len(l)",
    }
}
