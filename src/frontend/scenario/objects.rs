//! Reading `[objects]` (SCENARIO.md, "Tables" and "Processes"): each entry's kind, its
//! settings and `count`, and the cross-check of a Condition's `lock`.

use super::{MAX_OBJECT_COUNT, Reader, Val, suggest, type_name};
use crate::frontend::ast::{Ident, ObjectDecl, ObjectKind, Span};
use crate::frontend::diag::Diagnostic;
use crate::frontend::names::is_identifier;
use toml::de::{DeTable, DeValue};

pub(super) const OBJECT_KINDS: &[&str] = &[
    "Lock",
    "RLock",
    "Condition",
    "Semaphore",
    "BoundedSemaphore",
    "Event",
    "Barrier",
    "Queue",
];

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
                                "`{}` is a {}, not a Lock or RLock",
                                lock.name,
                                o.kind.name()
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

    /// A kind name (`"Lock"`) with the default settings.
    fn object_kind(&self, v: &Val, s: &str) -> Result<ObjectKind, Diagnostic> {
        Ok(match s {
            "Lock" => ObjectKind::Lock,
            "RLock" => ObjectKind::RLock,
            "Condition" => ObjectKind::Condition { lock: None },
            "Semaphore" => ObjectKind::Semaphore { value: 1 },
            "BoundedSemaphore" => ObjectKind::BoundedSemaphore { value: 1 },
            "Event" => ObjectKind::Event,
            "Barrier" => {
                return Err(self
                    .diag(v.span(), "a Barrier needs `parties`")
                    .with_help("write `{ kind = \"Barrier\", parties = 3 }`"));
            }
            "Queue" => ObjectKind::Queue { maxsize: 0 },
            _ => {
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
                return Err(self
                    .diag(v.span(), format!("unknown object kind \"{s}\""))
                    .with_help(help));
            }
        })
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
        let ks = self.string(kv, "kind")?;
        let mut kind = if ks == "Barrier" {
            ObjectKind::Barrier { parties: 0 }
        } else {
            self.object_kind(kv, ks)?
        };
        let allowed: &[&str] = match kind {
            ObjectKind::Condition { .. } => &["kind", "count", "lock"],
            ObjectKind::Semaphore { .. } | ObjectKind::BoundedSemaphore { .. } => {
                &["kind", "count", "value"]
            }
            ObjectKind::Barrier { .. } => &["kind", "count", "parties"],
            ObjectKind::Queue { .. } => &["kind", "count", "maxsize"],
            _ => &["kind", "count"],
        };
        let mut count = None;
        let mut lock_span = None;
        let mut has_parties = false;
        for (k, val) in t.iter() {
            let key: &str = k.get_ref();
            if !allowed.contains(&key) {
                let help = match suggest(key, allowed) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("a {} takes: {}", kind.name(), allowed.join(", ")),
                };
                return Err(self
                    .diag(
                        k.span(),
                        format!("unknown key `{key}` for a {}", kind.name()),
                    )
                    .with_help(help));
            }
            match (key, &mut kind) {
                ("kind", _) => {}
                ("count", _) => {
                    count = Some(self.int_in(val, "count", 1, MAX_OBJECT_COUNT)? as u32)
                }
                ("lock", ObjectKind::Condition { lock }) => {
                    let s = self.string(val, "lock")?;
                    let span = self.string_inner_span(val, s);
                    if !is_identifier(s) {
                        return Err(self
                            .diag(val.span(), format!("`{s}` is not a valid name"))
                            .with_help("`lock` names a Lock or RLock declared in [objects]"));
                    }
                    *lock = Some(Ident {
                        name: s.to_string(),
                        span,
                    });
                    lock_span = Some(val.span());
                }
                (
                    "value",
                    ObjectKind::Semaphore { value } | ObjectKind::BoundedSemaphore { value },
                ) => {
                    *value = self.int_in(val, "value", 0, i64::MAX)?;
                }
                ("parties", ObjectKind::Barrier { parties }) => {
                    *parties = self.int_in(val, "parties", 1, i64::MAX)?;
                    has_parties = true;
                }
                ("maxsize", ObjectKind::Queue { maxsize }) => {
                    *maxsize = self.int_in(val, "maxsize", 0, i64::MAX)?;
                }
                _ => {}
            }
        }
        if matches!(kind, ObjectKind::Barrier { .. }) && !has_parties {
            return Err(self
                .diag(v.span(), format!("the Barrier `{name}` needs `parties`"))
                .with_help("add `parties = N`: how many threads meet at the barrier"));
        }
        Ok((kind, count, lock_span))
    }
}
