//! The declarations of a scenario in the IR: variables and their cells, object groups
//! and their objects, and each Condition's lock.
//!
//! A `Value` or `Array` object is a variable whose cells every party shares
//! ([`ir::VarInfo::global`]), named `v.value` or `a` so that its cells read `v.value` and
//! `a[2]`, plus (unless `lock = false`) a group of one RLock, `v.get_lock()`. A `Pipe` is
//! a group of two Connection objects, `p[0]` and `p[1]`, each the other's peer.

use super::{Lowerer, Sym};
use crate::frontend::ast::{Ident, InitValue, ObjectDecl, ObjectKind, Scenario, VarClass};
use crate::frontend::diag::Diagnostic;
use crate::ir::{self, Group, ObjKind, Value};

impl Lowerer<'_> {
    /// Declares the variables of `[shared]`, `[atomics]` and `[ghost]` and lays out their
    /// cells.
    pub(super) fn declare_vars(&mut self) -> Result<(), Diagnostic> {
        for v in &self.s.vars {
            let init = match &v.init {
                InitValue::Scalar(x) => vec![*x],
                InitValue::Array(xs) => xs.clone(),
            };
            let array = matches!(v.init, InitValue::Array(_));
            let var = self.new_var(v.name.name.clone(), v.class, init, array, false);
            self.declare(&v.name, Sym::Var(var))?;
        }
        Ok(())
    }

    /// A new variable whose cells follow the others'.
    fn new_var(
        &mut self,
        name: String,
        class: VarClass,
        init: Vec<Value>,
        array: bool,
        global: bool,
    ) -> u32 {
        let len = array.then_some(init.len() as u32);
        self.vars.push(ir::VarInfo {
            name,
            class,
            len,
            first_cell: self.cells,
            init,
            global,
        });
        self.cells += len.unwrap_or(1);
        self.vars.len() as u32 - 1
    }

    /// Declares the objects: a first pass gives every group an id, so that conditions can
    /// name their locks whatever the order; the second makes each group's objects.
    pub(super) fn declare_objects(&mut self) -> Result<(), Diagnostic> {
        let s = self.s;
        for (d, o) in s.objects.iter().enumerate() {
            let sym = match &o.kind {
                ObjectKind::Value { value, lock } => {
                    self.shared_memory(d, vec![*value], false, *lock)
                }
                ObjectKind::Array { values, lock } => {
                    self.shared_memory(d, values.clone(), true, *lock)
                }
                ObjectKind::Pipe { .. } => Sym::Objects(self.new_group(d, &o.name.name, Some(2))),
                _ => Sym::Objects(self.new_group(d, &o.name.name, o.count)),
            };
            self.declare(&o.name, sym)?;
        }
        for g in 0..self.object_groups.len() {
            let first = self.objects.len() as u32;
            self.object_groups[g].first = first;
            let decl = &s.objects[self.group_decls[g]];
            for (i, name) in self.element_names(g).into_iter().enumerate() {
                let (kind, items) = element(s, decl, first, i as u32);
                self.objects.push(ir::ObjInfo { name, kind, items });
            }
            self.group_kinds[g] = self.objects[first as usize].kind;
        }
        Ok(())
    }

    /// A new object group for declaration `d`, its objects made later.
    fn new_group(&mut self, d: usize, name: &str, len: Option<u32>) -> u32 {
        self.object_groups.push(Group {
            name: name.to_string(),
            first: 0,
            len,
        });
        self.group_kinds.push(ObjKind::Lock);
        self.group_decls.push(d);
        self.object_groups.len() as u32 - 1
    }

    /// The names of group `g`'s objects: `m`, or `fork[0]` .. for an array.
    fn element_names(&self, g: usize) -> Vec<String> {
        let group = &self.object_groups[g];
        match group.len {
            None => vec![group.name.clone()],
            Some(n) => (0..n).map(|i| format!("{}[{i}]", group.name)).collect(),
        }
    }

    /// A `Value` (`array` false) or `Array` object, declaration `d`: its global variable
    /// and, with `lock`, the group of its RLock.
    fn shared_memory(&mut self, d: usize, init: Vec<Value>, array: bool, lock: bool) -> Sym {
        let name = &self.s.objects[d].name.name;
        let var_name = if array {
            name.clone()
        } else {
            format!("{name}.value")
        };
        let var = self.new_var(var_name, VarClass::Shared, init, array, true);
        let lock = lock.then(|| self.new_group(d, &format!("{name}.get_lock()"), None));
        Sym::Memory { var, lock }
    }

    /// Gives each condition its lock, now that every group has its objects; a condition
    /// without a lock gets a hidden RLock of its own.
    pub(super) fn resolve_condition_locks(&mut self) -> Result<(), Diagnostic> {
        let s = self.s;
        for g in 0..self.object_groups.len() {
            let o = &s.objects[self.group_decls[g]];
            let ObjectKind::Condition { lock } = &o.kind else {
                continue;
            };
            let group = &self.object_groups[g];
            let (first, count, len) = (group.first, group.count(), group.len);
            for i in 0..count {
                let lock_obj = match lock {
                    Some(l) => self.condition_lock(l, &o.name, len, i)?,
                    None => self.hidden_lock(first + i),
                };
                self.objects[(first + i) as usize].kind = ObjKind::Condition { lock: lock_obj };
            }
            self.group_kinds[g] = ObjKind::Condition { lock: 0 };
        }
        Ok(())
    }

    /// The lock `l` that element `i` of the condition group `cond` (of length `cond_len`)
    /// names.
    fn condition_lock(
        &self,
        l: &Ident,
        cond: &Ident,
        cond_len: Option<u32>,
        i: u32,
    ) -> Result<u32, Diagnostic> {
        let Some(Sym::Objects(lg)) = self.syms.get(&l.name).copied() else {
            return Err(self
                .err(
                    l.span,
                    format!(
                        "the lock `{}` of condition `{}` is not an object",
                        l.name, cond.name
                    ),
                )
                .with_help("expected the name of a Lock or RLock in [objects]"));
        };
        let lgroup = &self.object_groups[lg as usize];
        if !matches!(
            self.group_kinds[lg as usize],
            ObjKind::Lock | ObjKind::RLock
        ) {
            return Err(self
                .err(l.span, format!("`{}` is not a Lock or RLock", l.name))
                .with_help("a Condition's lock is a Lock or an RLock"));
        }
        // An array of conditions over an array of locks pairs them up.
        match lgroup.len {
            None => Ok(lgroup.first),
            Some(n) if Some(n) == cond_len => Ok(lgroup.first + i),
            Some(_) => Err(self
                .err(l.span, format!("`{}` is an array of locks", l.name))
                .with_help("name a single lock, or give the condition the same count")),
        }
    }

    /// A new RLock for the condition object `cond`, which names no lock.
    fn hidden_lock(&mut self, cond: u32) -> u32 {
        let id = self.objects.len() as u32;
        let name = format!("{}.lock", self.objects[cond as usize].name);
        self.objects.push(ir::ObjInfo {
            name,
            kind: ObjKind::RLock,
            items: vec![],
        });
        id
    }
}

/// Element `i` of a group of declaration `decl` whose objects start at `first`: its kind
/// (a condition's lock is resolved later) and a manager's initial contents.
fn element(s: &Scenario, decl: &ObjectDecl, first: u32, i: u32) -> (ObjKind, Vec<(Value, Value)>) {
    let kind = match &decl.kind {
        ObjectKind::Lock => ObjKind::Lock,
        // A Value's or an Array's group is its lock.
        ObjectKind::RLock | ObjectKind::Value { .. } | ObjectKind::Array { .. } => ObjKind::RLock,
        ObjectKind::Condition { .. } => ObjKind::Condition { lock: 0 },
        ObjectKind::Semaphore { value } => ObjKind::Semaphore {
            initial: *value,
            bounded: false,
        },
        ObjectKind::BoundedSemaphore { value } => ObjKind::Semaphore {
            initial: *value,
            bounded: true,
        },
        ObjectKind::Event => ObjKind::Event,
        ObjectKind::Barrier { parties } => ObjKind::Barrier {
            parties: (*parties).clamp(1, u32::MAX as i64) as u32,
        },
        ObjectKind::Queue { maxsize } | ObjectKind::JoinableQueue { maxsize } => ObjKind::Queue {
            maxsize: (*maxsize).clamp(0, u32::MAX as i64) as u32,
        },
        ObjectKind::SimpleQueue => ObjKind::Queue { maxsize: 0 },
        // `p[0]` and `p[1]`: one way, `p[0]` only receives and `p[1]` only sends.
        ObjectKind::Pipe { duplex } => ObjKind::Connection {
            peer: first + 1 - i,
            send: *duplex || i == 1,
            recv: *duplex || i == 0,
        },
        ObjectKind::ManagerDict { items } => return (ObjKind::ManagerDict, items.clone()),
        ObjectKind::ManagerList { values } => {
            let items = values.iter().map(|v| (*v, Value::None)).collect();
            return (ObjKind::ManagerList, items);
        }
        // Its workers are made with the parties (see `lower_threads`).
        ObjectKind::Pool { processes } => ObjKind::Pool {
            first_worker: 0,
            workers: s.pool_workers(*processes),
        },
    };
    (kind, vec![])
}
