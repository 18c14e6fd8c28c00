//! The operations on objects: which method of which kind lowers to which instruction,
//! and how its arguments match its signature. A Value's or an Array's lock is the object
//! `v.get_lock()`; a SimpleQueue has only `put`, `get` and `empty`.

use super::{Builder, Sym, close};
use crate::frontend::ast::{Arg, Expr, Ident, ObjRef, ObjectKind, Span};
use crate::frontend::diag::Diagnostic;
use crate::ir::{Group, Instr, ObjKind, ObjSel, Op, Operand, Value};

impl Builder<'_, '_> {
    /// The object `r` names, and its kind: `m`, `fork[i]`, or a Value's or Array's
    /// `v.get_lock()`.
    pub(super) fn obj_sel(&mut self, r: &ObjRef) -> Result<(ObjSel, ObjKind), Diagnostic> {
        let g = match self.l.syms.get(&r.name.name).copied() {
            Some(Sym::Memory { var, lock }) => return self.memory_lock(r, var, lock),
            Some(Sym::Objects(g)) if r.getter.is_none() => g,
            Some(_) if r.getter.is_some() => {
                let getter = r.getter.as_ref().map_or("", |g| g.name.as_str());
                return Err(self
                    .err(
                        r.span,
                        format!("`{}.{getter}()` does not give an object", r.name.name),
                    )
                    .with_help(
                        "only a Value's or an Array's `get_lock()` does: `v.get_lock().acquire()`",
                    ));
            }
            Some(_) => {
                return Err(self
                    .err(r.name.span, format!("`{}` is not an object", r.name.name))
                    .with_help("declare it in [objects]"));
            }
            None => return Err(self.unknown_name(&r.name.name, r.name.span)),
        };
        let kind = self.l.group_kinds[g as usize];
        if r.index.is_none() && matches!(kind, ObjKind::Connection { .. }) {
            let n = &r.name.name;
            return Err(self
                .err(r.span, format!("`{n}` is a Pipe: two connections"))
                .with_help(format!("use one end: `{n}[0]` or `{n}[1]`")));
        }
        let index = self.group_index(&self.l.object_groups[g as usize].clone(), r)?;
        Ok((ObjSel { group: g, index }, kind))
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

    /// `v.get_lock()`, the RLock of the Value or Array `r` names (its variable `var`, its
    /// lock's group `lock`).
    fn memory_lock(
        &self,
        r: &ObjRef,
        var: u32,
        lock: Option<u32>,
    ) -> Result<(ObjSel, ObjKind), Diagnostic> {
        let n = &r.name.name;
        let what = self.memory_kind(var);
        let Some(getter) = &r.getter else {
            return Err(self
                .err(
                    r.span,
                    format!("`{n}` is {what}: its lock is `{n}.get_lock()`"),
                )
                .with_help(format!(
                    "write `with {n}.get_lock():` or `{n}.get_lock().acquire()`"
                )));
        };
        if getter.name != "get_lock" {
            return Err(self.no_memory_method(n, what, getter));
        }
        if r.index.is_some() {
            return Err(self
                .err(
                    r.span,
                    format!("`get_lock()` is the whole Array's: `{n}` has one lock"),
                )
                .with_help(format!("write `{n}.get_lock()`")));
        }
        let Some(group) = lock else {
            return Err(self
                .err(
                    getter.span,
                    format!("`{n}` has no lock: it is declared with `lock = false`"),
                )
                .with_help(format!(
                    "remove `lock = false` from `{n}` in [objects], or use a Lock object"
                )));
        };
        Ok((ObjSel { group, index: None }, ObjKind::RLock))
    }

    /// "a Value" or "an Array": the kind of the object whose variable is `var`.
    fn memory_kind(&self, var: u32) -> &'static str {
        match self.l.vars[var as usize].len {
            Some(_) => "an Array",
            None => "a Value",
        }
    }

    /// `what` (a Value or an Array) `n` has no method `m`.
    fn no_memory_method(&self, n: &str, what: &str, m: &Ident) -> Diagnostic {
        let help = if close(&m.name, "get_lock") {
            "did you mean `get_lock`?".to_string()
        } else {
            format!("{what} has `get_lock()`, its RLock: `{n}.get_lock().acquire()`")
        };
        self.err(m.span, format!("{what} has no method `{}`", m.name))
            .with_help(help)
    }

    /// `v.method(...)` on the Value or Array `receiver` (variable `var`): only
    /// `get_lock()` exists, and it gives the lock, to use.
    fn memory_method(&self, receiver: &ObjRef, var: u32, method: &Ident) -> Diagnostic {
        let n = &receiver.name.name;
        let what = self.memory_kind(var);
        if method.name != "get_lock" {
            return self.no_memory_method(n, what, method);
        }
        let with_getter = ObjRef {
            getter: Some(method.clone()),
            ..receiver.clone()
        };
        let lock = match self.l.syms.get(n) {
            Some(Sym::Memory { lock, .. }) => *lock,
            _ => None,
        };
        match self.memory_lock(&with_getter, var, lock) {
            Err(d) => d,
            Ok(_) => self
                .err(method.span, format!("`{n}.get_lock()` is a lock: use it"))
                .with_help(format!(
                    "write `with {n}.get_lock():`, or call `{n}.get_lock().acquire()` and `.release()`"
                )),
        }
    }

    /// Lowers the method call `receiver.method(args)` at `span`; its value (None when the
    /// method gives none, or when `want_value` is false).
    pub(super) fn method(
        &mut self,
        receiver: &ObjRef,
        method: &Ident,
        args: &[Arg],
        span: Span,
        want_value: bool,
    ) -> Result<Operand, Diagnostic> {
        if self.check {
            return Err(self
                .err(span, "a check cannot call methods")
                .with_help("a check only reads variables"));
        }
        match self.l.syms.get(&receiver.name.name).copied() {
            Some(Sym::Threads(g)) if receiver.getter.is_none() => {
                return self.party_method(g, receiver, method, args, span);
            }
            Some(Sym::Memory { var, .. }) if receiver.getter.is_none() => {
                return Err(self.memory_method(receiver, var, method));
            }
            _ => {}
        }
        let m = method.name.as_str();
        if receiver.getter.is_none()
            && !self.l.syms.contains_key(&receiver.name.name)
            && let Some(id) = self.local_ids.get(&receiver.name.name).copied()
        {
            let handle = match &receiver.index {
                None => Operand::Local(id),
                Some(i) => {
                    let index = self.expr(i)?;
                    let dst = self.temp();
                    self.emit(
                        Instr::ListItem {
                            dst,
                            list: Operand::Local(id),
                            index,
                        },
                        receiver.span,
                    );
                    Operand::Local(dst)
                }
            };
            return self.result_method(handle, method, args, span);
        }
        let (sel, kind) = self.obj_sel(receiver)?;
        if matches!(kind, ObjKind::Pool { .. }) {
            return self.pool_method(sel, method, args, span);
        }
        let op = match kind {
            ObjKind::Queue { .. } if self.is_simple_queue(sel.group) => {
                self.simple_queue_op(m, args, method, span)?
            }
            ObjKind::Queue { .. } => self.queue_op(m, args, method, span)?,
            ObjKind::Connection { .. } => self.pipe_op(m, args, method, span)?,
            ObjKind::ManagerDict | ObjKind::ManagerList => {
                self.proxy_op(kind, m, args, method, span)?
            }
            _ => self.sync_op(kind, m, args, method)?,
        };
        let Some(op) = op else {
            let label = self.group_label(sel.group);
            return Err(self
                .err(method.span, format!("{label} has no method `{m}`"))
                .with_help(format!("{label} has {}", self.group_methods(sel.group))));
        };
        // `blocking=False` (or `block=False`) without a timeout never blocks, and is
        // allowed in an atomic block; a timeout is a choice, which is not.
        let never = |block: &Option<Operand>, timeout: &Option<Operand>| {
            let falsy = matches!(
                block,
                Some(Operand::Const(Value::Bool(false) | Value::Int(0)))
            );
            falsy && timeout.is_none()
        };
        let may_block = match &op {
            Op::Acquire { blocking, timeout } => !never(blocking, timeout),
            Op::Put { block, timeout, .. } | Op::Get { block, timeout } => !never(block, timeout),
            Op::Wait { .. } | Op::QJoin | Op::Recv | Op::Poll { timeout: Some(_) } => true,
            _ => false,
        };
        if may_block {
            self.in_atomic_check(method.span, &format!("`{m}()`"))?;
        }
        let dst = want_value.then(|| self.temp());
        self.emit(Instr::Call { dst, obj: sel, op }, span);
        Ok(dst.map_or(Operand::Const(Value::None), Operand::Local))
    }

    /// Is the object group `g` a SimpleQueue?
    fn is_simple_queue(&self, g: u32) -> bool {
        let s = self.l.s;
        matches!(
            s.objects[self.l.group_decls[g as usize]].kind,
            ObjectKind::SimpleQueue
        )
    }

    /// "a Lock", "a SimpleQueue": the kind of group `g`'s objects, for messages.
    pub(super) fn group_label(&self, g: u32) -> &'static str {
        let s = self.l.s;
        match s.objects[self.l.group_decls[g as usize]].kind {
            ObjectKind::SimpleQueue => "a SimpleQueue",
            ObjectKind::JoinableQueue { .. } => "a JoinableQueue",
            _ => kind_name(self.l.group_kinds[g as usize]),
        }
    }

    /// The methods of group `g`'s objects, for messages.
    pub(super) fn group_methods(&self, g: u32) -> &'static str {
        if self.is_simple_queue(g) {
            return "put(item), get(), empty()";
        }
        methods_of(self.l.group_kinds[g as usize])
    }

    /// The argument `a`, which the call at `span` cannot do without: else the error
    /// `message` with the help `help`.
    fn required(
        &self,
        a: Option<Operand>,
        span: Span,
        message: &str,
        help: &str,
    ) -> Result<Operand, Diagnostic> {
        a.ok_or_else(|| self.err(span, message).with_help(help))
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
                let value = self.required(
                    a[0],
                    span,
                    "put() needs the item to put",
                    "write `q.put(value)`",
                )?;
                Op::Put {
                    value,
                    block: a[1],
                    timeout: a[2],
                }
            }
            "put_nowait" => {
                let a = self.args(args, &["item"], method)?;
                let value = self.required(
                    a[0],
                    span,
                    "put_nowait() needs the item to put",
                    "write `q.put_nowait(value)`",
                )?;
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

    /// The operation of method `m` on a SimpleQueue (`put(item)`, `get()`, `empty()`);
    /// `None` if it has no such method.
    fn simple_queue_op(
        &mut self,
        m: &str,
        args: &[Arg],
        method: &Ident,
        span: Span,
    ) -> Result<Option<Op>, Diagnostic> {
        Ok(Some(match m {
            "put" => {
                let a = self.args(args, &["item"], method)?;
                let value = self.required(
                    a[0],
                    span,
                    "put() needs the item to put",
                    "write `q.put(value)`",
                )?;
                Op::Put {
                    value,
                    block: None,
                    timeout: None,
                }
            }
            "get" | "empty" => {
                self.args(args, &[], method)?;
                match m {
                    "get" => Op::Get {
                        block: None,
                        timeout: None,
                    },
                    _ => Op::Empty,
                }
            }
            _ => return Ok(None),
        }))
    }

    /// The operation of method `m` on a Pipe's end: `send(v)`, `recv()`, `poll()`,
    /// `poll(timeout)`, `close()`; `None` if it has no such method.
    fn pipe_op(
        &mut self,
        m: &str,
        args: &[Arg],
        method: &Ident,
        span: Span,
    ) -> Result<Option<Op>, Diagnostic> {
        Ok(Some(match m {
            "send" => {
                let a = self.args(args, &["obj"], method)?;
                let value = self.required(
                    a[0],
                    span,
                    "send() needs the value to send",
                    "write `p[0].send(value)`",
                )?;
                Op::Send { value }
            }
            "poll" => Op::Poll {
                timeout: self.args(args, &["timeout"], method)?[0],
            },
            "recv" | "close" => {
                self.args(args, &[], method)?;
                if m == "recv" { Op::Recv } else { Op::Close }
            }
            _ => return Ok(None),
        }))
    }

    /// The operation of method `m` on a Manager dict or list proxy (its `kind`):
    /// `d.get(k[, default])`, `d.pop(k[, default])`, `l.append(v)`, `l.pop()`; `None` if
    /// it has no such method.
    fn proxy_op(
        &mut self,
        kind: ObjKind,
        m: &str,
        args: &[Arg],
        method: &Ident,
        span: Span,
    ) -> Result<Option<Op>, Diagnostic> {
        let dict = kind == ObjKind::ManagerDict;
        Ok(Some(match (dict, m) {
            (true, "get" | "pop") => {
                let a = self.args(args, &["key", "default"], method)?;
                let key = self.required(
                    a[0],
                    span,
                    &format!("{m}() needs the key"),
                    &format!("write `d.{m}(key)` or `d.{m}(key, default)`"),
                )?;
                match m {
                    "get" => Op::DictGet { key, default: a[1] },
                    _ => Op::Pop {
                        key: Some(key),
                        default: a[1],
                    },
                }
            }
            (false, "append") => {
                let a = self.args(args, &["object"], method)?;
                let value = self.required(
                    a[0],
                    span,
                    "append() needs the value to append",
                    "write `l.append(value)`",
                )?;
                Op::Append { value }
            }
            (false, "pop") => {
                self.args(args, &[], method)?;
                Op::Pop {
                    key: None,
                    default: None,
                }
            }
            _ => return Ok(None),
        }))
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
        for (s, name) in slots.into_iter().zip(names) {
            out.push(match s {
                Some(e) if *name == "timeout" => Some(self.seconds(e)?),
                Some(e) => Some(self.expr(e)?),
                None => None,
            });
        }
        Ok(out)
    }
}

fn kind_name(k: ObjKind) -> &'static str {
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
        ObjKind::Pool { .. } => "a Pool",
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
        ObjKind::Pool { .. } => {
            "apply_async(f, args), apply(f, args), map(f, xs), close(), join(), terminate()"
        }
    }
}
