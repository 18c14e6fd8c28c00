//! Reading `[objects]` (SCENARIO.md, "Tables" and "Processes"): each entry's kind, its
//! settings and `count`, and the cross-check of a Condition's `lock`.
//!
//! Choices a user may notice:
//! - A Value's `value` defaults to 0, as `Value('i')` does; an Array needs `value`, the
//!   list of its elements (not a length), non-empty and all integers or all booleans.
//! - A ManagerList's `value` may be empty and may mix integers and booleans, as a Python
//!   list may; a ManagerDict's `items` are `[key, value]` pairs, each key given once.
//! - `count` is refused on Value, Array, Pipe, ManagerDict and ManagerList: declare one
//!   per name (the message says so).
//! - A module prefix (`"multiprocessing.Value"`) is refused with a help that names the
//!   kind to write, as for `"threading.Lock"`.

use super::{Key, MAX_OBJECT_COUNT, Reader, Val, suggest, type_name};
use crate::frontend::ast::{Ident, InitValue, ObjectDecl, ObjectKind, Span};
use crate::frontend::diag::Diagnostic;
use crate::frontend::names::is_identifier;
use crate::ir::Value;
use toml::de::{DeTable, DeValue};

/// The object kinds of `[objects]`, in the order messages list them.
pub(crate) const OBJECT_KINDS: &[&str] = &[
    "Lock",
    "RLock",
    "Condition",
    "Semaphore",
    "BoundedSemaphore",
    "Event",
    "Barrier",
    "Queue",
    "JoinableQueue",
    "SimpleQueue",
    "Value",
    "Array",
    "Pipe",
    "ManagerDict",
    "ManagerList",
    "Pool",
];

/// The most workers one Pool may have (a `[timing] cores` above it gives a Pool without
/// `processes` this many).
pub(crate) const MAX_POOL_PROCESSES: i64 = 16;

/// "a Lock", "an Event": a kind's name with its article.
pub(crate) fn a(kind: &str) -> String {
    let vowel = kind.starts_with(['A', 'E', 'I', 'O', 'U']) || kind.starts_with("RL");
    format!("{} {kind}", if vowel { "an" } else { "a" })
}

/// The key a kind cannot do without, with the help for a table that lacks it.
fn required_key(kind: &ObjectKind) -> Option<(&'static str, &'static str)> {
    match kind {
        ObjectKind::Barrier { .. } => Some((
            "parties",
            "add `parties = N`: how many threads meet at the barrier",
        )),
        ObjectKind::Array { .. } => Some((
            "value",
            "add `value = [0, 0, 0]`: its elements, which also give its length",
        )),
        _ => None,
    }
}

/// The keys a kind's table takes.
fn allowed_keys(kind: &ObjectKind) -> &'static [&'static str] {
    match kind {
        ObjectKind::Condition { .. } => &["kind", "count", "lock"],
        ObjectKind::Semaphore { .. } | ObjectKind::BoundedSemaphore { .. } => {
            &["kind", "count", "value"]
        }
        ObjectKind::Barrier { .. } => &["kind", "count", "parties"],
        ObjectKind::Queue { .. } | ObjectKind::JoinableQueue { .. } => {
            &["kind", "count", "maxsize"]
        }
        ObjectKind::Value { .. } | ObjectKind::Array { .. } => &["kind", "count", "value", "lock"],
        ObjectKind::Pipe { .. } => &["kind", "count", "duplex"],
        ObjectKind::ManagerDict { .. } => &["kind", "count", "items"],
        ObjectKind::ManagerList { .. } => &["kind", "count", "value"],
        ObjectKind::Pool { .. } => &["kind", "count", "processes"],
        _ => &["kind", "count"],
    }
}

/// Why a kind takes no `count`, and what to write instead; `None` when it takes one.
fn no_count_help(kind: &ObjectKind) -> Option<&'static str> {
    match kind {
        ObjectKind::Value { .. } => Some(
            "declare one Value per name (`v0 = ...`, `v1 = ...`), or use one Array for several cells",
        ),
        ObjectKind::Array { .. } => {
            Some("declare one Array per name; its `value` gives its length")
        }
        ObjectKind::Pipe { .. } => Some(
            "a Pipe is already two ends, `p[0]` and `p[1]`: declare one Pipe per name for more",
        ),
        ObjectKind::ManagerDict { .. } | ObjectKind::ManagerList { .. } => {
            Some("declare one proxy per name (`d0 = ...`, `d1 = ...`)")
        }
        ObjectKind::Pool { .. } => {
            Some("declare one Pool per name; `processes = N` gives its workers")
        }
        _ => None,
    }
}

impl Reader<'_> {
    pub(super) fn objects(&mut self, value: &Val) -> Result<(), Diagnostic> {
        let t = self.table(value, "objects")?;
        let mut locks: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
        for (k, v) in t.iter() {
            let name = self.key_ident(k, "[objects]")?;
            let span = Span::new(v.span().start, v.span().end);
            let (kind, count, lock_span) = match v.get_ref() {
                DeValue::String(s) => (self.object_kind(v, s)?, None, None),
                DeValue::Table(t) => self.object_table(v, t, &name.name)?,
                other => {
                    return Err(self
                        .diag(v.span(), format!("`{}` must be an object kind, found {}", name.name, type_name(other)))
                        .with_help("write `m = \"Lock\"` or a table such as `sem = { kind = \"Semaphore\", value = 2 }`"));
                }
            };
            if let Some(ls) = lock_span {
                locks.push((self.sc.objects.len(), ls));
            }
            self.sc.objects.push(ObjectDecl {
                name,
                kind,
                count,
                span,
            });
        }
        // A Condition's lock must be a single Lock or RLock of [objects].
        for (i, span) in locks {
            let ObjectKind::Condition { lock: Some(lock) } = &self.sc.objects[i].kind else {
                continue;
            };
            let help = "a Condition's `lock` names a Lock or RLock declared in [objects]";
            match self.sc.objects.iter().find(|o| o.name.name == lock.name) {
                None => {
                    return Err(self
                        .diag(
                            span,
                            format!("no object named `{}` in [objects]", lock.name),
                        )
                        .with_help(help));
                }
                Some(o) if !matches!(o.kind, ObjectKind::Lock | ObjectKind::RLock) => {
                    return Err(self
                        .diag(
                            span,
                            format!(
                                "`{}` is {}, not a Lock or RLock",
                                lock.name,
                                a(o.kind.name())
                            ),
                        )
                        .with_help(help));
                }
                Some(o) if o.count.is_some() => {
                    return Err(self
                        .diag(
                            span,
                            format!(
                                "`{}` is an array of {}s, not a single lock",
                                lock.name,
                                o.kind.name()
                            ),
                        )
                        .with_help(help));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// A kind name (`"Lock"`) with the default settings; the kinds that need a setting
    /// have a placeholder for it (see [`required_key`]).
    fn kind_by_name(s: &str) -> Option<ObjectKind> {
        Some(match s {
            "Lock" => ObjectKind::Lock,
            "RLock" => ObjectKind::RLock,
            "Condition" => ObjectKind::Condition { lock: None },
            "Semaphore" => ObjectKind::Semaphore { value: 1 },
            "BoundedSemaphore" => ObjectKind::BoundedSemaphore { value: 1 },
            "Event" => ObjectKind::Event,
            "Barrier" => ObjectKind::Barrier { parties: 0 },
            "Queue" => ObjectKind::Queue { maxsize: 0 },
            "JoinableQueue" => ObjectKind::JoinableQueue { maxsize: 0 },
            "SimpleQueue" => ObjectKind::SimpleQueue,
            "Value" => ObjectKind::Value {
                value: Value::Int(0),
                lock: true,
            },
            "Array" => ObjectKind::Array {
                values: vec![],
                lock: true,
            },
            "Pipe" => ObjectKind::Pipe { duplex: true },
            "ManagerDict" => ObjectKind::ManagerDict { items: vec![] },
            "ManagerList" => ObjectKind::ManagerList { values: vec![] },
            "Pool" => ObjectKind::Pool { processes: None },
            _ => return None,
        })
    }

    /// The kind named `s` (the value `v`), or an error that says which kinds there are.
    fn kind_named(&self, v: &Val, s: &str) -> Result<ObjectKind, Diagnostic> {
        if let Some(kind) = Self::kind_by_name(s) {
            return Ok(kind);
        }
        let stripped = s
            .strip_prefix("threading.")
            .or_else(|| s.strip_prefix("queue."))
            .or_else(|| s.strip_prefix("multiprocessing."));
        let help = match stripped.filter(|k| OBJECT_KINDS.contains(k)) {
            Some(k) => format!("write just \"{k}\""),
            None => match suggest(s, OBJECT_KINDS) {
                Some(k) => format!("did you mean \"{k}\"?"),
                None => format!("expected one of {}", OBJECT_KINDS.join(", ")),
            },
        };
        Err(self
            .diag(v.span(), format!("unknown object kind \"{s}\""))
            .with_help(help))
    }

    /// A kind name (`"Lock"`) alone: the kind with its default settings.
    fn object_kind(&self, v: &Val, s: &str) -> Result<ObjectKind, Diagnostic> {
        let kind = self.kind_named(v, s)?;
        if let Some((key, _)) = required_key(&kind) {
            let example = match kind {
                ObjectKind::Barrier { .. } => "parties = 3",
                _ => "value = [0, 0, 0]",
            };
            return Err(self
                .diag(v.span(), format!("{} needs `{key}`", a(s)))
                .with_help(format!("write `{{ kind = \"{s}\", {example} }}`")));
        }
        Ok(kind)
    }

    /// `{ kind = "...", ... }`: the kind, `count`, and the span of `lock` if any.
    #[allow(clippy::type_complexity)]
    fn object_table(
        &self,
        v: &Val,
        t: &DeTable,
        name: &str,
    ) -> Result<(ObjectKind, Option<u32>, Option<std::ops::Range<usize>>), Diagnostic> {
        let Some(kv) = t.get("kind") else {
            return Err(self
                .diag(v.span(), format!("the object `{name}` has no `kind`"))
                .with_help(format!(
                    "add `kind = \"Lock\"` (one of {})",
                    OBJECT_KINDS.join(", ")
                )));
        };
        let mut kind = self.kind_named(kv, self.string(kv, "kind")?)?;
        let allowed = allowed_keys(&kind);
        let mut count = None;
        let mut lock_span = None;
        for (k, val) in t.iter() {
            let key: &str = k.get_ref();
            if !allowed.contains(&key) {
                let help = match suggest(key, allowed) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("{} takes: {}", a(kind.name()), allowed.join(", ")),
                };
                return Err(self
                    .diag(
                        k.span(),
                        format!("unknown key `{key}` for {}", a(kind.name())),
                    )
                    .with_help(help));
            }
            match key {
                "kind" => {}
                "count" => count = Some(self.object_count(k, val, &kind)?),
                "lock" if matches!(kind, ObjectKind::Condition { .. }) => {
                    lock_span = Some(val.span());
                    self.setting(&mut kind, key, val, name)?;
                }
                _ => self.setting(&mut kind, key, val, name)?,
            }
        }
        if let Some((key, help)) = required_key(&kind)
            && !t.contains_key(key)
        {
            return Err(self
                .diag(
                    v.span(),
                    format!("the {} `{name}` needs `{key}`", kind.name()),
                )
                .with_help(help));
        }
        Ok((kind, count, lock_span))
    }

    /// `count = N` (the key `k`) for an object of kind `kind`.
    fn object_count(&self, k: &Key, val: &Val, kind: &ObjectKind) -> Result<u32, Diagnostic> {
        if let Some(help) = no_count_help(kind) {
            return Err(self
                .diag(
                    k.span(),
                    format!("{} cannot have `count` (no arrays of them)", a(kind.name())),
                )
                .with_help(help));
        }
        Ok(self.int_in(val, "count", 1, MAX_OBJECT_COUNT)? as u32)
    }

    /// Sets `key = val`, a key that `kind` takes other than `kind` and `count`.
    fn setting(
        &self,
        kind: &mut ObjectKind,
        key: &str,
        val: &Val,
        name: &str,
    ) -> Result<(), Diagnostic> {
        match (key, kind) {
            ("lock", ObjectKind::Condition { lock }) => *lock = Some(self.lock_name(val)?),
            ("lock", ObjectKind::Value { lock, .. } | ObjectKind::Array { lock, .. }) => {
                *lock = self.bool(val, "lock")?
            }
            ("value", ObjectKind::Semaphore { value } | ObjectKind::BoundedSemaphore { value }) => {
                *value = self.int_in(val, "value", 0, i64::MAX)?
            }
            ("value", ObjectKind::Value { value, .. }) => *value = self.value_scalar(val, name)?,
            ("value", ObjectKind::Array { values, .. }) => {
                *values = self.array_values(val, name)?
            }
            ("value", ObjectKind::ManagerList { values }) => {
                *values = self.list_values(val, name)?
            }
            ("items", ObjectKind::ManagerDict { items }) => *items = self.dict_items(val, name)?,
            ("parties", ObjectKind::Barrier { parties }) => {
                *parties = self.int_in(val, "parties", 1, i64::from(u32::MAX))?
            }
            ("maxsize", ObjectKind::Queue { maxsize } | ObjectKind::JoinableQueue { maxsize }) => {
                // As Python reads it: 0 or less is unbounded.
                *maxsize = self.int_in(val, "maxsize", i64::MIN, i64::MAX)?.max(0)
            }
            ("duplex", ObjectKind::Pipe { duplex }) => *duplex = self.bool(val, "duplex")?,
            ("processes", ObjectKind::Pool { processes }) => {
                *processes = Some(self.int_in(val, "processes", 1, MAX_POOL_PROCESSES)?)
            }
            _ => {}
        }
        Ok(())
    }

    /// A Condition's `lock`: the name of a lock.
    fn lock_name(&self, val: &Val) -> Result<Ident, Diagnostic> {
        let s = self.string(val, "lock")?;
        if !is_identifier(s) {
            return Err(self
                .diag(val.span(), format!("`{s}` is not a valid name"))
                .with_help("`lock` names a Lock or RLock declared in [objects]"));
        }
        Ok(Ident {
            name: s.to_string(),
            span: self.string_inner_span(val, s),
        })
    }

    /// A Value's `value`: one integer or boolean.
    fn value_scalar(&self, val: &Val, name: &str) -> Result<Value, Diagnostic> {
        match self.init_value(val, name)? {
            InitValue::Scalar(x) => Ok(x),
            InitValue::Array(_) => Err(self
                .diag(
                    val.span(),
                    format!("the Value `{name}` holds one value, not a list"),
                )
                .with_help("write `value = 0`; for several cells, declare an Array")),
        }
    }

    /// An Array's `value`: its elements.
    fn array_values(&self, val: &Val, name: &str) -> Result<Vec<Value>, Diagnostic> {
        match self.init_value(val, name)? {
            InitValue::Array(xs) => Ok(xs),
            InitValue::Scalar(_) => Err(self
                .diag(
                    val.span(),
                    format!("the `value` of the Array `{name}` must be a list of its elements"),
                )
                .with_help("write the elements, e.g. `value = [0, 0, 0]` (not the length)")),
        }
    }

    /// The elements of `val`, an array (possibly empty) of integers and booleans.
    fn scalars<'v, 'i>(
        &self,
        val: &'v Val<'i>,
        what: &str,
    ) -> Result<&'v toml::de::DeArray<'i>, Diagnostic> {
        match val.get_ref() {
            DeValue::Array(items) => Ok(items),
            other => Err(self
                .diag(
                    val.span(),
                    format!("{what} must be an array, found {}", type_name(other)),
                )
                .with_help("write a list in brackets, e.g. `[1, 2]`")),
        }
    }

    /// A ManagerList's `value`: a list, maybe empty, of integers and booleans.
    fn list_values(&self, val: &Val, name: &str) -> Result<Vec<Value>, Diagnostic> {
        let items = self.scalars(val, &format!("the `value` of `{name}`"))?;
        items.iter().map(|x| self.scalar(x, name)).collect()
    }

    /// A ManagerDict's `items`: `[key, value]` pairs of integers and booleans, each key
    /// once.
    fn dict_items(&self, val: &Val, name: &str) -> Result<Vec<(Value, Value)>, Diagnostic> {
        let pairs = self.scalars(val, &format!("the `items` of `{name}`"))?;
        let mut out: Vec<(Value, Value)> = Vec::new();
        for pair in pairs.iter() {
            let kv = match pair.get_ref() {
                DeValue::Array(kv) if kv.len() == 2 => kv,
                _ => {
                    return Err(self
                        .diag(
                            pair.span(),
                            format!("each item of `{name}` is a pair `[key, value]`"),
                        )
                        .with_help("write `items = [[1, 10], [2, 20]]`"));
                }
            };
            let key = self.scalar(&kv[0], name)?;
            if out.iter().any(|(k, _)| *k == key) {
                return Err(self
                    .diag(
                        kv[0].span(),
                        format!("the key {key} is given twice in `{name}`"),
                    )
                    .with_help("a dict holds one value per key: keep one pair"));
            }
            out.push((key, self.scalar(&kv[1], name)?));
        }
        Ok(out)
    }
}
