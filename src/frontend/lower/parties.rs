//! The operations on parties: a `[[thread]]`'s `start()`, `join()` and `is_alive()`; a
//! `[[process]]`'s also `join(timeout)` (or `join(t)`), `terminate()`, `kill()` and the
//! attribute `exitcode`.
//!
//! Rules checked when the file is loaded: a `[[thread]]` belongs to the main program, so
//! the code of a `[[process]]` may not start, join or ask it; `join(timeout)`,
//! `terminate()`, `kill()` and `exitcode` are a process's only; `is_alive()` and
//! `exitcode` ask one instance, not an array; a check cannot read `exitcode` (it is a
//! step).

use super::{Builder, Sym, close};
use crate::frontend::ast::{Arg, Ident, ObjRef, ObjectKind, Span, ThreadDecl};
use crate::frontend::diag::Diagnostic;
use crate::frontend::pipe_ends;
use crate::ir::{self, Instr, Operand, ThreadSel, Value};

impl Builder<'_, '_> {
    /// The method call `receiver.method(args)` on the party group `g`, at `span`.
    pub(super) fn party_method(
        &mut self,
        g: u32,
        receiver: &ObjRef,
        method: &Ident,
        args: &[Arg],
        span: Span,
    ) -> Result<Operand, Diagnostic> {
        let s = self.l.s;
        let decl = &s.parties[g as usize];
        let m = method.name.as_str();
        let timed = m == "join" && !args.is_empty();
        self.party_rules(decl, if timed { "join(timeout)" } else { m }, method.span)?;
        let index = self.party_index(g, receiver)?;
        let thread = ThreadSel { group: g, index };
        let timeout = match m {
            "start" | "terminate" | "kill" | "is_alive" => {
                self.args(args, &[], method)?;
                None
            }
            "join" => self.args(args, &["timeout"], method)?[0],
            _ => return Err(self.no_party_method(decl, method)),
        };
        self.in_atomic_check(method.span, &format!("`{m}()`"))?;
        match m {
            "start" => self.emit(Instr::Start { thread }, span),
            "join" => self.emit(Instr::Join { thread, timeout }, span),
            "is_alive" => {
                self.one_party(g, index, receiver, "is_alive()")?;
                let dst = self.temp();
                self.emit(Instr::IsAlive { dst, thread }, span);
                return Ok(Operand::Local(dst));
            }
            _ => self.emit(
                Instr::Terminate {
                    thread,
                    kill: m == "kill",
                },
                span,
            ),
        };
        Ok(Operand::Const(Value::None))
    }

    /// The attribute `receiver.attr` of the party group `g`: a process's `exitcode` (a
    /// step).
    pub(super) fn party_attr(
        &mut self,
        g: u32,
        receiver: &ObjRef,
        attr: &Ident,
        span: Span,
    ) -> Result<Operand, Diagnostic> {
        let s = self.l.s;
        let decl = &s.parties[g as usize];
        if attr.name != "exitcode" {
            let what = if decl.process {
                "a process"
            } else {
                "a thread"
            };
            let help = if close(&attr.name, "exitcode") {
                "did you mean `exitcode`?"
            } else {
                "the one attribute here is a process's `exitcode`"
            };
            return Err(self
                .err(
                    attr.span,
                    format!("{what} has no attribute `{}`", attr.name),
                )
                .with_help(help));
        }
        self.party_rules(decl, "exitcode", attr.span)?;
        if self.check {
            return Err(self
                .err(span, format!("a check cannot read `{}.exitcode`", decl.name.name))
                .with_help(
                    "reading it is a step: read it in a thread's code after `join()` and keep it in a [ghost] variable for the check",
                ));
        }
        let index = self.party_index(g, receiver)?;
        self.one_party(g, index, receiver, "exitcode")?;
        self.in_atomic_check(attr.span, "`exitcode`")?;
        let dst = self.temp();
        let thread = ThreadSel { group: g, index };
        self.emit(Instr::ExitCode { dst, thread }, span);
        Ok(Operand::Local(dst))
    }

    /// Refuses `what` (an operation, at `span`) where the party `decl` cannot have it: a
    /// process's own operation on a thread, or a thread used from a process's code.
    fn party_rules(&self, decl: &ThreadDecl, what: &str, span: Span) -> Result<(), Diagnostic> {
        if decl.process {
            return Ok(());
        }
        let n = &decl.name.name;
        let help = match what {
            "terminate" | "kill" => format!(
                "Python cannot stop a thread from outside: declare `{n}` as a [[process]], or have it watch an Event and return"
            ),
            "join(timeout)" => format!(
                "simrace has `join(timeout)` for processes only: write `{n}.join()`, or declare `{n}` as a [[process]]"
            ),
            "exitcode" => format!(
                "a thread has no exit code: declare `{n}` as a [[process]], or have it record its result in a variable"
            ),
            "start" | "join" | "is_alive" if self.in_process => {
                return Err(self
                    .err(
                        span,
                        format!(
                            "a [[thread]] belongs to the main program: a [[process]] cannot call `{n}.{what}()`"
                        ),
                    )
                    .with_help(format!(
                        "call it from the code of a [[thread]], or declare `{n}` as a [[process]]"
                    )));
            }
            _ => return Ok(()),
        };
        let shown = match what {
            "terminate" | "kill" => format!("{what}()"),
            _ => what.to_string(),
        };
        Err(self
            .err(
                span,
                format!("`{n}` is a [[thread]]: only a process has `{shown}`"),
            )
            .with_help(help))
    }

    /// The index of `receiver`, a reference to the party group `g`: `None` for the whole
    /// group (or its one instance).
    fn party_index(&mut self, g: u32, receiver: &ObjRef) -> Result<Option<Operand>, Diagnostic> {
        let group = &self.l.thread_groups[g as usize];
        match (&receiver.index, group.len) {
            (Some(i), Some(_)) => Ok(Some(self.expr(i)?)),
            (Some(_), None) => {
                let s = self.l.s;
                let what = if s.parties[g as usize].process {
                    "process"
                } else {
                    "thread"
                };
                Err(self
                    .err(
                        receiver.span,
                        format!("`{}` is a single {what}", group.name),
                    )
                    .with_help(format!("use `{}` without an index", group.name)))
            }
            (None, _) => Ok(None),
        }
    }

    /// Checks that `receiver` names one party, not an array, for `what`.
    fn one_party(
        &self,
        g: u32,
        index: Option<Operand>,
        receiver: &ObjRef,
        what: &str,
    ) -> Result<(), Diagnostic> {
        let group = &self.l.thread_groups[g as usize];
        if index.is_some() || group.len.is_none() {
            return Ok(());
        }
        let kind = if self.l.s.parties[g as usize].process {
            "processes"
        } else {
            "threads"
        };
        Err(self
            .err(
                receiver.span,
                format!("`{}` is an array of {kind}", group.name),
            )
            .with_help(format!("ask one: `{}[i].{what}`", group.name)))
    }

    /// The error for a method that the party `decl` does not have.
    fn no_party_method(&self, decl: &ThreadDecl, method: &Ident) -> Diagnostic {
        let m = &method.name;
        if decl.process {
            self.err(method.span, format!("a process has no method `{m}`"))
                .with_help("a process has start(), join(timeout), is_alive(), terminate(), kill() and the attribute exitcode")
        } else {
            self.err(method.span, format!("a thread has no method `{m}`"))
                .with_help("a thread has start(), join() and is_alive()")
        }
    }
}

impl super::Lowerer<'_> {
    /// The Pipe ends that only processes use, each with the instances that hold it
    /// (see [`ir::ClosesOnExit`]); none when there is a Pool.
    pub(super) fn closes_on_exit(&self) -> Vec<ir::ClosesOnExit> {
        let s = self.s;
        if s.objects
            .iter()
            .any(|o| matches!(o.kind, ObjectKind::Pool { .. }))
        {
            return vec![];
        }
        let mut out = vec![];
        for o in s
            .objects
            .iter()
            .filter(|o| matches!(o.kind, ObjectKind::Pipe { .. }))
        {
            let Some(Sym::Objects(g)) = self.syms.get(&o.name.name).copied() else {
                continue;
            };
            let first = self.object_groups[g as usize].first;
            let used = pipe_ends::by_party(s, &o.name.name);
            for end in 0..2 {
                let users: Vec<usize> = (0..s.parties.len())
                    .filter(|p| used[*p].contains(&(end as i64)))
                    .collect();
                if users.is_empty() || users.iter().any(|p| !s.parties[*p].process) {
                    continue;
                }
                let holders = users
                    .iter()
                    .flat_map(|p| {
                        let g = &self.thread_groups[*p];
                        g.first..g.first + g.count()
                    })
                    .collect();
                out.push(ir::ClosesOnExit {
                    end: first + end,
                    holders,
                });
            }
        }
        out
    }
}
