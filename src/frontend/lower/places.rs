//! What a name, an element or an attribute stands for, read or assigned: the cells of a
//! variable (a `[shared]`, `[atomics]` or `[ghost]` name, or a Value's `v.value` and an
//! Array's `a[i]`), an item of a Manager dict or list (`d[k]`, `l[i]`: one operation of
//! the proxy each), or a local; and `len(x)`.
//!
//! `d[k] += 1` reads the item, then sets it: two operations, as in Python.

use super::{Builder, Sym, close};
use crate::frontend::ast::{Arg, Expr, ExprKind, Ident, ObjRef, Span, Target, VarClass};
use crate::frontend::diag::Diagnostic;
use crate::ir::{Instr, ObjKind, ObjSel, Op, Operand, Value};

/// What an assignment target names.
#[derive(Clone, Copy)]
enum Place {
    /// A variable's cells (the index, if any, evaluated by the caller).
    Var(u32),
    /// The items of the manager proxy group.
    Item(u32),
    Local(u32),
}

/// Which attributes there are, for messages.
const ATTR_HELP: &str = "attributes here are a process's `exitcode` and a Value's `value`";

/// What `len(x)` takes, for its messages.
const LEN_HELP: &str = "`len(x)` takes an array of [shared], [atomics] or [ghost], an Array, a ManagerDict or ManagerList, or a list";

impl Builder<'_, '_> {
    /// What the target `t` names, checked against the way it is written.
    fn place(&mut self, t: &Target) -> Result<Place, Diagnostic> {
        let indexed = t.index.is_some();
        match self.l.syms.get(&t.name.name).copied() {
            Some(Sym::Var(var)) => {
                self.no_attribute(&t.name, t.attr.as_ref())?;
                self.check_indexing(var, indexed, t.span)?;
                Ok(Place::Var(var))
            }
            Some(Sym::Memory { var, .. }) => {
                self.memory_access(var, &t.name, indexed, t.attr.as_ref(), t.span)?;
                Ok(Place::Var(var))
            }
            Some(Sym::Objects(g)) if indexed && t.attr.is_none() && self.is_manager(g) => {
                Ok(Place::Item(g))
            }
            Some(_) => Err(self.not_assignable(&t.name)),
            None if t.attr.is_some() && !self.local_ids.contains_key(&t.name.name) => {
                Err(self.unknown_name(&t.name.name, t.name.span))
            }
            None => {
                self.no_attribute(&t.name, t.attr.as_ref())?;
                if indexed && self.local_ids.contains_key(&t.name.name) {
                    // Reading `xs[i]` works; a Python programmer expects this to as well.
                    let name = &t.name.name;
                    return Err(self
                        .err(
                            t.name.span,
                            format!("`{name}` is a local value, not an array: it cannot be assigned into"),
                        )
                        .with_help(format!(
                            "a local list is a value here (docs/semantics.md, Lists): build a new one \
                             (`{name} = [{name}[0], v, {name}[2]]`), or declare an array in \
                             [shared] to assign its elements"
                        )));
                }
                if indexed {
                    return Err(self
                        .err(t.name.span, format!("`{}` is not an array", t.name.name))
                        .with_help(
                            "index only arrays declared in [shared], [atomics] or [ghost], Arrays and Manager proxies",
                        ));
                }
                Ok(Place::Local(self.local_slot(&t.name.name)))
            }
        }
    }

    /// The current value of the target `t`, whose index (if any) is `index`.
    pub(super) fn load_target(
        &mut self,
        t: &Target,
        index: Option<Operand>,
    ) -> Result<Operand, Diagnostic> {
        match (self.place(t)?, index) {
            (Place::Var(var), index) => Ok(self.read_var(var, index, t.span)),
            (Place::Item(g), Some(key)) => self.proxy_call(g, Op::Item { key }, t.span),
            (Place::Local(id), _) => Ok(Operand::Local(id)),
            // `place` checks that an item has its index.
            (Place::Item(_), None) => Err(self.not_assignable(&t.name)),
        }
    }

    pub(super) fn not_assignable(&self, name: &Ident) -> Diagnostic {
        self.err(
            name.span,
            format!(
                "cannot assign to `{}`: it is an object or a thread",
                name.name
            ),
        )
        .with_help("assign to a variable, a local, `v.value`, `a[i]` or a Manager proxy's `d[k]`")
    }

    pub(super) fn store(&mut self, t: &Target, v: Operand, span: Span) -> Result<(), Diagnostic> {
        let index = match &t.index {
            Some(i) => Some(self.expr(i)?),
            None => None,
        };
        self.store_with_index(t, index, v, span)
    }

    pub(super) fn store_with_index(
        &mut self,
        t: &Target,
        index: Option<Operand>,
        value: Operand,
        span: Span,
    ) -> Result<(), Diagnostic> {
        if self.check {
            return Err(self.err(span, "a check cannot assign"));
        }
        match (self.place(t)?, index) {
            (Place::Var(var), index) => {
                let instr = if self.l.vars[var as usize].class == VarClass::Ghost {
                    Instr::GhostWrite { var, index, value }
                } else {
                    Instr::Write { var, index, value }
                };
                self.emit(instr, span);
            }
            (Place::Item(g), Some(key)) => {
                self.proxy_call(g, Op::SetItem { key, value }, span)?;
            }
            (Place::Local(dst), _) => {
                self.emit(Instr::Move { dst, src: value }, span);
            }
            (Place::Item(_), None) => return Err(self.not_assignable(&t.name)),
        }
        Ok(())
    }

    pub(super) fn check_indexing(
        &self,
        var: u32,
        indexed: bool,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let info = &self.l.vars[var as usize];
        match (info.len.is_some(), indexed) {
            (true, false) => Err(self
                .err(span, format!("`{}` is an array", info.name))
                .with_help(format!("index it: `{}[i]`", info.name))),
            (false, true) => Err(self
                .err(span, format!("`{}` is not an array", info.name))
                .with_help(format!("use `{}` without an index", info.name))),
            _ => Ok(()),
        }
    }

    /// Checks an access to the cells of the Value or Array `name` (variable `var`): a
    /// Value's is `v.value`, an Array's `a[i]`.
    fn memory_access(
        &self,
        var: u32,
        name: &Ident,
        indexed: bool,
        attr: Option<&Ident>,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let n = &name.name;
        let array = self.l.vars[var as usize].len.is_some();
        let (what, has) = if array {
            (
                "an Array",
                format!("index it: `{n}[i]`; its length is `len({n})`"),
            )
        } else {
            ("a Value", format!("its contents are `{n}.value`"))
        };
        match attr {
            Some(a) if array || a.name != "value" => {
                let help = if !array && close(&a.name, "value") {
                    "did you mean `value`?".to_string()
                } else {
                    has
                };
                Err(self
                    .err(a.span, format!("{what} has no attribute `{}`", a.name))
                    .with_help(help))
            }
            None if array && indexed => Ok(()),
            Some(_) if !indexed => Ok(()),
            _ => Err(self.err(span, format!("`{n}` is {what}")).with_help(has)),
        }
    }

    /// Refuses an attribute `attr` of `name`, a variable or a local.
    fn no_attribute(&self, name: &Ident, attr: Option<&Ident>) -> Result<(), Diagnostic> {
        match attr {
            Some(a) => Err(self.attribute_error(name, a)),
            None => Ok(()),
        }
    }

    /// `name` (a variable or a local) has no attribute `a`.
    fn attribute_error(&self, name: &Ident, a: &Ident) -> Diagnostic {
        self.err(
            a.span,
            format!("`{}` has no attribute `{}`", name.name, a.name),
        )
        .with_help(ATTR_HELP)
    }

    pub(super) fn read_var(&mut self, var: u32, index: Option<Operand>, span: Span) -> Operand {
        let dst = self.temp();
        let class = self.l.vars[var as usize].class;
        if self.check || class == VarClass::Ghost {
            self.emit(Instr::GhostRead { dst, var, index }, span);
        } else {
            self.emit(Instr::Read { dst, var, index }, span);
        }
        Operand::Local(dst)
    }

    /// Is the object group `g` a Manager dict or list?
    pub(super) fn is_manager(&self, g: u32) -> bool {
        matches!(
            self.l.group_kinds[g as usize],
            ObjKind::ManagerDict | ObjKind::ManagerList
        )
    }

    /// The operation `op` on the manager proxy of group `g` (one step), and its value.
    fn proxy_call(&mut self, g: u32, op: Op, span: Span) -> Result<Operand, Diagnostic> {
        if self.check {
            let name = &self.l.object_groups[g as usize].name;
            return Err(self
                .err(span, format!("a check cannot read the Manager proxy `{name}`"))
                .with_help(
                    "each use of a proxy is a step of a party: read it in a thread's code and keep what you need in a [ghost] variable for the check",
                ));
        }
        let dst = self.temp();
        let obj = ObjSel {
            group: g,
            index: None,
        };
        self.emit(
            Instr::Call {
                dst: Some(dst),
                obj,
                op,
            },
            span,
        );
        Ok(Operand::Local(dst))
    }

    /// The value of the name `n`: a variable's (a step, unless it is a ghost) or a
    /// local's.
    pub(super) fn name_value(&mut self, n: &Ident) -> Result<Operand, Diagnostic> {
        let span = n.span;
        match self.l.syms.get(&n.name).copied() {
            Some(Sym::Var(v)) => {
                self.check_indexing(v, false, span)?;
                Ok(self.read_var(v, None, span))
            }
            Some(Sym::Memory { var, .. }) => {
                self.memory_access(var, n, false, None, span)?;
                Ok(self.read_var(var, None, span))
            }
            Some(Sym::Function(_)) => Err(self
                .err(span, format!("`{}` is a function, not a value", n.name))
                .with_help(format!("call it: `{}(...)`", n.name))),
            Some(Sym::Objects(_)) | Some(Sym::Threads(_)) => Err(self
                .err(
                    span,
                    format!("`{}` is an object or a thread, not a value", n.name),
                )
                .with_help(format!(
                    "call one of its methods, for example `{}.locked()`",
                    n.name
                ))),
            None => match self.local_ids.get(&n.name) {
                Some(id) if !self.check => Ok(Operand::Local(*id)),
                _ => Err(self.unknown_name(&n.name, span)),
            },
        }
    }

    /// The value of the element `name[index]`: of an array, an Array, or a Manager proxy.
    pub(super) fn element_value(
        &mut self,
        name: &Ident,
        index: &Expr,
        span: Span,
    ) -> Result<Operand, Diagnostic> {
        match self.l.syms.get(&name.name).copied() {
            Some(Sym::Var(var)) => {
                self.check_indexing(var, true, span)?;
                let i = self.expr(index)?;
                Ok(self.read_var(var, Some(i), span))
            }
            Some(Sym::Memory { var, .. }) => {
                self.memory_access(var, name, true, None, span)?;
                let i = self.expr(index)?;
                Ok(self.read_var(var, Some(i), span))
            }
            Some(Sym::Objects(g)) if self.is_manager(g) => {
                let key = self.expr(index)?;
                self.proxy_call(g, Op::Item { key }, span)
            }
            Some(_) => Err(self
                .err(
                    span,
                    format!(
                        "`{}` is an array of objects or threads, not of values",
                        name.name
                    ),
                )
                .with_help(format!(
                    "call a method on an element: `{}[i].method()`",
                    name.name
                ))),
            None if !self.check && self.local_ids.contains_key(&name.name) => {
                let list = Operand::Local(self.local_ids[&name.name]);
                let index = self.expr(index)?;
                let dst = self.temp();
                self.emit(Instr::ListItem { dst, list, index }, span);
                Ok(Operand::Local(dst))
            }
            None => Err(self.unknown_name(&name.name, name.span)),
        }
    }

    /// The value of the attribute `receiver.attr`: a Value's `v.value` or a process's
    /// `exitcode`.
    pub(super) fn attr_value(
        &mut self,
        receiver: &ObjRef,
        attr: &Ident,
        span: Span,
    ) -> Result<Operand, Diagnostic> {
        let name = &receiver.name;
        if let Some(getter) = &receiver.getter {
            return Err(self
                .err(
                    span,
                    format!(
                        "`{}.{}()` has no attribute `{}`",
                        name.name, getter.name, attr.name
                    ),
                )
                .with_help(ATTR_HELP));
        }
        match self.l.syms.get(&name.name).copied() {
            Some(Sym::Memory { var, .. }) => {
                let indexed = receiver.index.is_some();
                self.memory_access(var, name, indexed, Some(attr), span)?;
                Ok(self.read_var(var, None, span))
            }
            Some(Sym::Threads(g)) => self.party_attr(g, receiver, attr, span),
            Some(Sym::Objects(g)) => {
                let label = self.group_label(g);
                Err(self
                    .err(
                        attr.span,
                        format!("{label} has no attribute `{}`", attr.name),
                    )
                    .with_help(format!("{label} has {}", self.group_methods(g))))
            }
            Some(Sym::Var(_) | Sym::Function(_)) => Err(self.attribute_error(name, attr)),
            None if self.local_ids.contains_key(&name.name) => {
                Err(self.attribute_error(name, attr))
            }
            None => Err(self.unknown_name(&name.name, name.span)),
        }
    }

    /// `len(xs)` of a list value.
    fn list_len(&mut self, e: &Expr) -> Result<Operand, Diagnostic> {
        let list = self.expr(e)?;
        let dst = self.temp();
        self.emit(Instr::ListLen { dst, list }, e.span);
        Ok(Operand::Local(dst))
    }

    /// `len(x)` (the call `e`): an array's or Array's length (a constant), or a Manager
    /// proxy's (one operation of the proxy).
    pub(super) fn len_value(&mut self, e: &Expr, args: &[Arg]) -> Result<Operand, Diagnostic> {
        let [arg] = args else {
            return Err(self
                .err(
                    e.span,
                    format!("`len` takes one argument, not {}", args.len()),
                )
                .with_help(LEN_HELP));
        };
        if arg.keyword.is_some() {
            return Err(self
                .err(arg.value.span, "`len` takes no keyword arguments")
                .with_help(LEN_HELP));
        }
        let ExprKind::Name(n) = &arg.value.kind else {
            return self.list_len(&arg.value);
        };
        let span = arg.value.span;
        let sym = self.l.syms.get(n).copied();
        if let Some(Sym::Var(var) | Sym::Memory { var, .. }) = sym
            && let Some(len) = self.l.vars[var as usize].len
        {
            return Ok(Operand::Const(Value::Int(i64::from(len))));
        }
        match sym {
            Some(Sym::Objects(g)) if self.is_manager(g) => self.proxy_call(g, Op::Len, e.span),
            None if !self.local_ids.contains_key(n) => Err(self.unknown_name(n, span)),
            None => self.list_len(&arg.value),
            _ => Err(self
                .err(span, format!("`{n}` has no length"))
                .with_help(LEN_HELP)),
        }
    }
}
