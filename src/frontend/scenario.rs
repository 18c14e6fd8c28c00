//! Reading a scenario file (SCENARIO.md, "Tables") into an [`ast::Scenario`].
//!
//! Everything the format says is checked here, each with the place in the file and what
//! was expected there; code strings are parsed by [`crate::frontend::parser`]. Names are
//! not resolved in code (that is lowering's job), but the tables' own cross-references
//! are: a Condition's `lock`, and `[final] observe`.
//!
//! Choices a user may notice:
//! - `expect = "pass"`, `["pass"]` and `[]` mean no kinds; `"pass"` may not be mixed with
//!   kinds. Kinds are sorted and deduplicated.
//! - Arrays of initial values are non-empty, flat, and all integers or all booleans.
//! - `count` is at most 64 for threads and processes, at most 1024 for objects.
//! - `[final] assert` and `[invariant] assert` also accept a single string.
//! - `[final] observe` names must be declared in [shared], [atomics] or [ghost], or be
//!   an Array object (`a`) or a Value object's `v.value`.
//! - `[[thread]]` and `[[process]]` tables keep their order in the file, across both.
//! - A file needs at least one `[[thread]]` (or `[[process]]`).
//! - Threads may also be written as an inline array of tables (`thread = [{...}]`); objects
//!   may be written as sub-tables (`[objects.m]`): TOML means the same by both.

// The API returns `Diagnostic` by value, as the rest of the crate does; it is built only on
// the error path.

use crate::frontend::ast::{
    self, Ident, InitValue, Limits, ObjectKind, Scenario, Span, ThreadDecl, VarClass, VarDecl,
};
use crate::frontend::diag::Diagnostic;
use crate::frontend::names::{is_identifier, is_keyword, is_reserved};
use crate::frontend::parser;
use crate::frontend::source::CodeSource;
use crate::ir::{FindingKind, StartMethod, Timing, Value};
use std::collections::HashMap;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

pub(crate) mod objects;

/// What `observe` may list.
const OBSERVE_HELP: &str = "`observe` lists names declared in [shared], [atomics] or [ghost], \
                            Arrays (`a`) and Values (`v.value`)";

/// The most instances one `[[thread]]` or `[[process]]` may have.
pub const MAX_THREAD_COUNT: i64 = 64;
/// The most elements one object array may have.
pub const MAX_OBJECT_COUNT: i64 = 1024;

const TABLES: &[&str] = &[
    "scenario",
    "shared",
    "atomics",
    "ghost",
    "objects",
    "functions",
    "thread",
    "process",
    "final",
    "invariant",
    "limits",
    "timing",
];

/// Reads and parses the scenario file at `path`.
pub fn load(path: &str) -> Result<Scenario, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::io(path, format!("cannot read the file: {e}"))
            .with_help("give the path of a scenario file (.toml)")
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        // Where the bad byte is: the text up to it is valid, and shows it replaced.
        let at = e.utf8_error().valid_up_to();
        let shown = String::from_utf8_lossy(e.as_bytes()).into_owned();
        let end = shown[at..].chars().next().map_or(at, |c| at + c.len_utf8());
        Diagnostic::new(
            path,
            &shown,
            Span::new(at, end),
            format!("the file is not valid UTF-8 (at byte {at})"),
        )
        .with_help("save the scenario as UTF-8 text")
    })?;
    parse_scenario(path, &text)
}

/// Parses a scenario file whose text is `text` (`path` names it in messages and gives
/// the default scenario name).
pub fn parse_scenario(path: &str, text: &str) -> Result<Scenario, Diagnostic> {
    let root = DeTable::parse(text).map_err(|e| {
        let span = e
            .span()
            .map_or(Span::new(0, 0), |r| Span::new(r.start, r.end));
        Diagnostic::new(path, text, span, format!("invalid TOML: {}", e.message()))
            .with_help("a scenario file is TOML: `key = value` lines under `[table]` headers")
    })?;
    let mut r = Reader {
        path,
        text,
        sc: Scenario {
            path: path.to_string(),
            source: text.to_string(),
            name: default_name(path),
            description: String::new(),
            expect: Vec::new(),
            vars: Vec::new(),
            objects: Vec::new(),
            parties: Vec::new(),
            functions: Vec::new(),
            start_method: StartMethod::Fork,
            final_asserts: Vec::new(),
            observe: None,
            invariants: Vec::new(),
            limits: Limits::default(),
            timing: Timing::default(),
        },
        names: Vec::new(),
    };
    for (key, value) in root.get_ref().iter() {
        let k: &str = key.get_ref();
        match k {
            "scenario" => r.scenario_table(value)?,
            "shared" => r.vars(value, VarClass::Shared, "shared")?,
            "atomics" => r.vars(value, VarClass::Atomic, "atomics")?,
            "ghost" => r.vars(value, VarClass::Ghost, "ghost")?,
            "objects" => r.objects(value)?,
            "functions" => r.functions_table(value)?,
            "thread" => r.threads(value, false)?,
            "process" => r.threads(value, true)?,
            "final" => r.final_table(value)?,
            "invariant" => r.invariant_table(value)?,
            "limits" => r.limits(value)?,
            "timing" => r.timing(value)?,
            _ if !is_table_like(value.get_ref()) => {
                // `x = 0` before any table header: a key, not a table.
                return Err(r
                    .diag(key.span(), format!("`{k}` is outside any table"))
                    .with_help(format!(
                        "a variable goes under a header: `[shared]` then `{k} = ...` (or \
                         [atomics], [ghost]); each table's keys follow its header"
                    )));
            }
            _ => {
                let help = match suggest(k, TABLES) {
                    Some(s) if s == "thread" || s == "process" => {
                        format!("did you mean `[[{s}]]`?")
                    }
                    Some(s) => format!("did you mean `[{s}]`?"),
                    None => "expected one of [scenario], [shared], [atomics], [ghost], [objects], [functions], [[thread]], [[process]], [final], [invariant], [limits], [timing]".to_string(),
                };
                return Err(r
                    .diag(key.span(), format!("unknown table `{k}`"))
                    .with_help(help));
            }
        }
    }
    // `[[thread]]` and `[[process]]` tables are two arrays: put them back in file order.
    r.sc.parties.sort_by_key(|t| t.span.start);
    r.check_unique_names()?;
    r.check_observe()?;
    if r.sc.parties.is_empty() {
        return Err(r
            .diag(0..0, "the scenario has no threads")
            .with_help("add a `[[thread]]` table with `name` and `code`"));
    }
    Ok(r.sc)
}

/// The file stem of `path`.
fn default_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| path.to_string())
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for &c in candidates {
        let cl = c.to_ascii_lowercase();
        let d = if cl == lower {
            0
        } else {
            levenshtein(&lower, &cl)
        };
        let limit = (c.len().max(word.len()) / 3).max(1);
        let plural = lower.strip_suffix('s') == Some(cl.as_str())
            || cl.strip_suffix('s') == Some(lower.as_str());
        if (d <= limit || plural) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Edit distance counting a swap of two neighbours as one edit.
fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// "an integer", "a string", ...: a TOML value's type for messages.
/// A `[table]` or an `[[array]]` of tables (not a key outside any table).
fn is_table_like(v: &DeValue) -> bool {
    match v {
        DeValue::Table(_) => true,
        DeValue::Array(a) => a.iter().all(|e| matches!(e.get_ref(), DeValue::Table(_))),
        _ => false,
    }
}

fn type_name(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

type Val<'i> = Spanned<DeValue<'i>>;
type Key<'i> = Spanned<std::borrow::Cow<'i, str>>;

struct Reader<'t> {
    path: &'t str,
    text: &'t str,
    sc: Scenario,
    /// Every declared name: (name, span, where it was declared).
    names: Vec<(String, Span, &'static str)>,
}

impl<'t> Reader<'t> {
    fn diag(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(
            self.path,
            self.text,
            Span::new(span.start, span.end),
            message,
        )
    }

    /// `value` as a table, or an error naming `what` it should have been.
    fn table<'v, 'i>(&self, value: &'v Val<'i>, what: &str) -> Result<&'v DeTable<'i>, Diagnostic> {
        match value.get_ref() {
            DeValue::Table(t) => Ok(t),
            DeValue::Array(_) => Err(self
                .diag(
                    value.span(),
                    format!("`{what}` must be a table, not an array of tables"),
                )
                .with_help(format!(
                    "write the header as `[{what}]`, with single brackets"
                ))),
            other => Err(self
                .diag(
                    value.span(),
                    format!("`{what}` must be a table, found {}", type_name(other)),
                )
                .with_help(format!(
                    "write a `[{what}]` header with `key = value` lines under it"
                ))),
        }
    }

    fn unknown_key(&self, key: &Key, table: &str, allowed: &[&str]) -> Diagnostic {
        let k: &str = key.get_ref();
        let help = match suggest(k, allowed) {
            Some(s) => format!("did you mean `{s}`?"),
            None if allowed.is_empty() => format!("{table} takes no keys"),
            None => format!("expected one of: {}", allowed.join(", ")),
        };
        self.diag(key.span(), format!("unknown key `{k}` in {table}"))
            .with_help(help)
    }

    fn string<'v>(&self, value: &'v Val, what: &str) -> Result<&'v str, Diagnostic> {
        match value.get_ref() {
            DeValue::String(s) => Ok(s),
            other => Err(self
                .diag(
                    value.span(),
                    format!("`{what}` must be a string, found {}", type_name(other)),
                )
                .with_help(format!("write `{what} = \"...\"`"))),
        }
    }

    fn bool(&self, value: &Val, what: &str) -> Result<bool, Diagnostic> {
        match value.get_ref() {
            DeValue::Boolean(b) => Ok(*b),
            DeValue::String(s) if matches!(s.as_ref(), "true" | "false" | "True" | "False") => {
                Err(self
                    .diag(
                        value.span(),
                        format!("`{what}` must be a boolean, found a string"),
                    )
                    .with_help(format!(
                        "write `{what} = {}` without quotes (TOML booleans are lowercase)",
                        s.to_ascii_lowercase()
                    )))
            }
            other => Err(self
                .diag(
                    value.span(),
                    format!("`{what}` must be a boolean, found {}", type_name(other)),
                )
                .with_help(format!("write `{what} = true` or `{what} = false`"))),
        }
    }

    /// An integer that fits in i64.
    fn int(&self, value: &Val, what: &str) -> Result<i64, Diagnostic> {
        match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).map_err(|_| {
                self.diag(
                    value.span(),
                    format!("`{what}` is out of the 64-bit integer range"),
                )
                .with_help("integers are from -9223372036854775808 to 9223372036854775807")
            }),
            other => Err(self
                .diag(
                    value.span(),
                    format!("`{what}` must be an integer, found {}", type_name(other)),
                )
                .with_help(format!("write `{what} = 1` (an integer, without quotes)"))),
        }
    }

    /// An integer in `min..=max`.
    fn int_in(&self, value: &Val, what: &str, min: i64, max: i64) -> Result<i64, Diagnostic> {
        let v = self.int(value, what)?;
        if v < min {
            return Err(self
                .diag(
                    value.span(),
                    format!("`{what}` must be at least {min}, not {v}"),
                )
                .with_help(format!("write an integer from {min} up")));
        }
        if v > max {
            return Err(self
                .diag(
                    value.span(),
                    format!("`{what}` must be at most {max}, not {v}"),
                )
                .with_help(format!("write an integer from {min} to {max}")));
        }
        Ok(v)
    }

    /// The span of a string value's text without its quotes, when it is written plainly.
    fn string_inner_span(&self, value: &Val, s: &str) -> Span {
        let r = value.span();
        let raw = self.text.get(r.clone()).unwrap_or("");
        if raw.len() == s.len() + 2
            && (raw.starts_with('"') || raw.starts_with('\''))
            && raw.get(1..raw.len() - 1) == Some(s)
        {
            Span::new(r.start + 1, r.end - 1)
        } else {
            Span::new(r.start, r.end)
        }
    }

    /// Checks that `name` may name a variable, object or thread.
    fn check_name(&self, name: &str, span: std::ops::Range<usize>) -> Result<(), Diagnostic> {
        if !is_identifier(name) {
            return Err(self
                .diag(span, format!("`{name}` is not a valid name"))
                .with_help("a name is ASCII letters, digits and `_`, not starting with a digit"));
        }
        if is_keyword(name) {
            return Err(self
                .diag(
                    span,
                    format!("`{name}` is a Python keyword and cannot be a name"),
                )
                .with_help("choose another name"));
        }
        if is_reserved(name) {
            return Err(self
                .diag(span, format!("`{name}` is a built-in and cannot be a name"))
                .with_help("choose another name"));
        }
        Ok(())
    }

    /// An identifier from a table key.
    fn key_ident(&mut self, key: &Key, declared_in: &'static str) -> Result<Ident, Diagnostic> {
        let name: &str = key.get_ref();
        self.check_name(name, key.span())?;
        let span = Span::new(key.span().start, key.span().end);
        self.names.push((name.to_string(), span, declared_in));
        Ok(Ident {
            name: name.to_string(),
            span,
        })
    }

    // -- [scenario] ----------------------------------------------------------------------

    fn scenario_table(&mut self, value: &Val) -> Result<(), Diagnostic> {
        let t = self.table(value, "scenario")?;
        for (k, v) in t.iter() {
            match k.get_ref().as_ref() {
                "name" => {
                    let s = self.string(v, "name")?;
                    if s.trim().is_empty() {
                        return Err(self
                            .diag(v.span(), "the scenario name is empty")
                            .with_help("write a name, or leave `name` out to use the file name"));
                    }
                    self.sc.name = s.to_string();
                }
                "description" => self.sc.description = self.string(v, "description")?.to_string(),
                "expect" => self.sc.expect = self.expect(v)?,
                "start_method" => self.sc.start_method = self.start_method(v)?,
                _ => {
                    return Err(self.unknown_key(
                        k,
                        "[scenario]",
                        &["name", "description", "expect", "start_method"],
                    ));
                }
            }
        }
        Ok(())
    }

    /// `start_method = "fork"` or `"spawn"`.
    fn start_method(&self, value: &Val) -> Result<StartMethod, Diagnostic> {
        let s = self.string(value, "start_method")?;
        match s {
            "fork" => return Ok(StartMethod::Fork),
            "spawn" => return Ok(StartMethod::Spawn),
            _ => {}
        }
        let help = match s {
            "forkserver" => "simrace has \"fork\" and \"spawn\"; a forkserver child starts from the file's values, as with \"spawn\"".to_string(),
            _ => match suggest(s, &["fork", "spawn"]) {
                Some(m) => format!("did you mean \"{m}\"?"),
                None => "write \"fork\" (the default: a process starts with a copy of its starter's memory) or \"spawn\" (from the file's values)".to_string(),
            },
        };
        Err(self
            .diag(value.span(), format!("unknown start method \"{s}\""))
            .with_help(help))
    }

    fn expect(&self, value: &Val) -> Result<Vec<FindingKind>, Diagnostic> {
        let kinds_help =
            "expected \"pass\" or verdict kinds: assertion, data_race, deadlock, error, livelock";
        let kind = |v: &Val| -> Result<Option<FindingKind>, Diagnostic> {
            let DeValue::String(s) = v.get_ref() else {
                return Err(self
                    .diag(
                        v.span(),
                        format!(
                            "a verdict kind must be a string, found {}",
                            type_name(v.get_ref())
                        ),
                    )
                    .with_help(kinds_help));
            };
            if s == "pass" {
                return Ok(None);
            }
            if let Some(k) = FindingKind::parse(s) {
                return Ok(Some(k));
            }
            let names: Vec<&str> = FindingKind::ALL
                .iter()
                .map(|k| k.as_str())
                .chain(["pass"])
                .collect();
            let lowered = s.to_ascii_lowercase().replace([' ', '-'], "_");
            let help = match suggest(&lowered, &names) {
                Some(n) => format!("did you mean \"{n}\"?"),
                None => kinds_help.to_string(),
            };
            Err(self
                .diag(v.span(), format!("unknown verdict kind \"{s}\""))
                .with_help(help))
        };
        let mut out = match value.get_ref() {
            DeValue::String(_) => kind(value)?.into_iter().collect(),
            DeValue::Array(items) => {
                let mut out = Vec::new();
                let mut pass = None;
                for item in items.iter() {
                    match kind(item)? {
                        Some(k) => out.push(k),
                        None => pass = Some(item.span()),
                    }
                }
                if let Some(span) = pass
                    && !out.is_empty()
                {
                    return Err(self
                        .diag(
                            span,
                            "\"pass\" cannot be listed together with verdict kinds",
                        )
                        .with_help("write `expect = \"pass\"` for none, or list only the kinds"));
                }
                out
            }
            other => {
                return Err(self
                    .diag(
                        value.span(),
                        format!(
                            "`expect` must be a string or an array of strings, found {}",
                            type_name(other)
                        ),
                    )
                    .with_help("write `expect = \"pass\"` or `expect = [\"data_race\"]`"));
            }
        };
        out.sort();
        out.dedup();
        Ok(out)
    }

    // -- [shared], [atomics], [ghost] ----------------------------------------------------

    fn vars(
        &mut self,
        value: &Val,
        class: VarClass,
        table: &'static str,
    ) -> Result<(), Diagnostic> {
        let t = self.table(value, table)?;
        for (k, v) in t.iter() {
            let name = self.key_ident(k, table_label(table))?;
            let init = self.init_value(v, &name.name)?;
            self.sc.vars.push(VarDecl { name, class, init });
        }
        Ok(())
    }

    fn scalar(&self, v: &Val, name: &str) -> Result<Value, Diagnostic> {
        match v.get_ref() {
            DeValue::Integer(_) => Ok(Value::Int(self.int(v, name)?)),
            DeValue::Boolean(b) => Ok(Value::Bool(*b)),
            DeValue::String(s) => {
                let help = match s.as_ref() {
                    "None" => "TOML has no None: start with an integer or a boolean, and assign None in code".to_string(),
                    "True" | "False" | "true" | "false" => format!("write `{}` without quotes", s.to_ascii_lowercase()),
                    _ => "values are integers or booleans (strings are not values)".to_string(),
                };
                Err(self
                    .diag(v.span(), format!("the initial value of `{name}` must be an integer or a boolean, found a string"))
                    .with_help(help))
            }
            DeValue::Float(_) => Err(self
                .diag(
                    v.span(),
                    format!("the initial value of `{name}` is a float; floats are not supported"),
                )
                .with_help("values are integers (64-bit) or booleans")),
            other => Err(self
                .diag(
                    v.span(),
                    format!(
                        "the initial value of `{name}` must be an integer or a boolean, found {}",
                        type_name(other)
                    ),
                )
                .with_help("values are integers, booleans, or flat arrays of them")),
        }
    }

    fn init_value(&self, v: &Val, name: &str) -> Result<InitValue, Diagnostic> {
        match v.get_ref() {
            DeValue::Array(items) => {
                if items.is_empty() {
                    return Err(self
                        .diag(v.span(), format!("the array `{name}` is empty"))
                        .with_help("arrays have a fixed length of at least 1, e.g. `[0, 0, 0]`"));
                }
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    if let DeValue::Array(_) = item.get_ref() {
                        return Err(self
                            .diag(item.span(), format!("nested arrays are not supported (in `{name}`)"))
                            .with_help("arrays are flat: a list of integers or of booleans"));
                    }
                    if let DeValue::Table(_) = item.get_ref() {
                        return Err(self
                            .diag(item.span(), format!("the elements of `{name}` must be integers or booleans, found a table"))
                            .with_help("arrays are flat: a list of integers or of booleans"));
                    }
                    out.push(self.scalar(item, name)?);
                }
                let first_bool = matches!(out[0], Value::Bool(_));
                if let Some((i, _)) = out
                    .iter()
                    .enumerate()
                    .find(|(_, x)| matches!(x, Value::Bool(_)) != first_bool)
                {
                    return Err(self
                        .diag(items[i].span(), format!("the array `{name}` mixes integers and booleans"))
                        .with_help("make every element an integer, or every element a boolean"));
                }
                Ok(InitValue::Array(out))
            }
            DeValue::Table(_) => Err(self
                .diag(v.span(), format!("the initial value of `{name}` must be an integer or a boolean, found a table"))
                .with_help("a name is one identifier (no dots); values are integers, booleans, or flat arrays of them")),
            _ => Ok(InitValue::Scalar(self.scalar(v, name)?)),
        }
    }

    // -- [functions] ---------------------------------------------------------------------

    fn functions_table(&mut self, value: &Val) -> Result<(), Diagnostic> {
        let t = self.table(value, "functions")?;
        for (k, v) in t.iter() {
            match k.get_ref().as_ref() {
                "code" => {
                    let s = self.string(v, "code")?;
                    let src = CodeSource::from_toml_string(self.path, self.text, v.span(), s);
                    let defs = parser::parse_functions(&src)?;
                    for d in &defs {
                        self.names
                            .push((d.name.name.clone(), d.name.span, "[functions]"));
                    }
                    self.sc.functions = defs;
                }
                _ => return Err(self.unknown_key(k, "[functions]", &["code"])),
            }
        }
        Ok(())
    }

    // -- [[thread]], [[process]] ---------------------------------------------------------

    fn threads(&mut self, value: &Val, process: bool) -> Result<(), Diagnostic> {
        let what = if process { "process" } else { "thread" };
        for item in self.thread_items(value, what)?.iter() {
            let decl = self.thread_decl(item, process)?;
            let label = if process { "[[process]]" } else { "[[thread]]" };
            self.names
                .push((decl.name.name.clone(), decl.name.span, label));
            self.sc.parties.push(decl);
        }
        Ok(())
    }

    /// The entries of `thread` (or `process`, as `what` says), which must be an array of
    /// tables.
    fn thread_items<'v, 'i>(
        &self,
        value: &'v Val<'i>,
        what: &str,
    ) -> Result<&'v DeArray<'i>, Diagnostic> {
        match value.get_ref() {
            DeValue::Array(a) => Ok(a),
            DeValue::Table(_) => Err(self
                .diag(
                    value.span(),
                    format!("`[{what}]` must be written `[[{what}]]`"),
                )
                .with_help(format!(
                    "each {what} is one entry of an array of tables: use double brackets"
                ))),
            other => Err(self
                .diag(
                    value.span(),
                    format!(
                        "`{what}` must be an array of tables, found {}",
                        type_name(other)
                    ),
                )
                .with_help(format!("write each {what} as a `[[{what}]]` table"))),
        }
    }

    /// One `[[thread]]` (or `[[process]]`) table, its code parsed.
    fn thread_decl(&self, item: &Val, process: bool) -> Result<ThreadDecl, Diagnostic> {
        let what = if process { "process" } else { "thread" };
        let header = format!("[[{what}]]");
        let DeValue::Table(t) = item.get_ref() else {
            return Err(self
                .diag(
                    item.span(),
                    format!(
                        "each {what} must be a table, found {}",
                        type_name(item.get_ref())
                    ),
                )
                .with_help(format!("write each {what} as a `[[{what}]]` table")));
        };
        let span = Span::new(item.span().start, item.span().end);
        let mut name = None;
        let mut count = None;
        let mut start = true;
        let mut daemon = false;
        let mut code = None;
        for (k, v) in t.iter() {
            match k.get_ref().as_ref() {
                "name" => {
                    let s = self.string(v, "name")?;
                    self.check_name(s, v.span())?;
                    let ispan = self.string_inner_span(v, s);
                    name = Some(Ident {
                        name: s.to_string(),
                        span: ispan,
                    });
                }
                "count" => count = Some(self.int_in(v, "count", 1, MAX_THREAD_COUNT)? as u32),
                "start" => start = self.bool(v, "start")?,
                "daemon" => daemon = self.bool(v, "daemon")?,
                "code" => {
                    let s = self.string(v, "code")?;
                    let src = CodeSource::from_toml_string(self.path, self.text, v.span(), s);
                    code = Some(parser::parse_block(&src)?);
                }
                _ => {
                    return Err(self.unknown_key(
                        k,
                        &header,
                        &["name", "count", "start", "daemon", "code"],
                    ));
                }
            }
        }
        let Some(name) = name else {
            return Err(self
                .diag(item.span(), format!("this {what} has no `name`"))
                .with_help(format!("add `name = \"worker\"` under `{header}`")));
        };
        let Some(code) = code else {
            return Err(self
                .diag(
                    item.span(),
                    format!("the {what} `{}` has no `code`", name.name),
                )
                .with_help("add `code = \"\"\"` with the statements, then `\"\"\"`"));
        };
        Ok(ThreadDecl {
            name,
            process,
            daemon,
            count,
            start,
            code,
            span,
        })
    }

    // -- [final], [invariant], [limits] --------------------------------------------------

    fn asserts(&self, value: &Val, table: &str) -> Result<Vec<ast::Expr>, Diagnostic> {
        let one = |v: &Val| -> Result<ast::Expr, Diagnostic> {
            let DeValue::String(s) = v.get_ref() else {
                return Err(self
                    .diag(
                        v.span(),
                        format!(
                            "each assertion must be a string, found {}",
                            type_name(v.get_ref())
                        ),
                    )
                    .with_help("write `assert = [\"counter == 2\"]`"));
            };
            let src = CodeSource::from_toml_string(self.path, self.text, v.span(), s);
            parser::parse_expr(&src)
        };
        match value.get_ref() {
            DeValue::String(_) => Ok(vec![one(value)?]),
            DeValue::Array(items) => items.iter().map(one).collect(),
            other => Err(self
                .diag(
                    value.span(),
                    format!(
                        "`assert` in {table} must be an array of strings, found {}",
                        type_name(other)
                    ),
                )
                .with_help("write `assert = [\"counter == 2\"]`")),
        }
    }

    fn final_table(&mut self, value: &Val) -> Result<(), Diagnostic> {
        let t = self.table(value, "final")?;
        for (k, v) in t.iter() {
            match k.get_ref().as_ref() {
                "assert" => self.sc.final_asserts = self.asserts(v, "[final]")?,
                "observe" => self.sc.observe = Some(self.observe_names(v)?),
                _ => return Err(self.unknown_key(k, "[final]", &["assert", "observe"])),
            }
        }
        Ok(())
    }

    /// `observe = [...]`: names of variables, `a` of an Array or `v.value` of a Value.
    fn observe_names(&self, v: &Val) -> Result<Vec<Ident>, Diagnostic> {
        let DeValue::Array(items) = v.get_ref() else {
            return Err(self
                .diag(
                    v.span(),
                    format!(
                        "`observe` must be an array of names, found {}",
                        type_name(v.get_ref())
                    ),
                )
                .with_help("write `observe = [\"counter\"]`"));
        };
        let mut names: Vec<Ident> = Vec::new();
        for item in items.iter() {
            let DeValue::String(s) = item.get_ref() else {
                return Err(self
                    .diag(
                        item.span(),
                        format!(
                            "`observe` lists names as strings, found {}",
                            type_name(item.get_ref())
                        ),
                    )
                    .with_help("write `observe = [\"counter\"]`"));
            };
            let base = s.strip_suffix(".value").unwrap_or(s);
            if !is_identifier(base) {
                return Err(self
                    .diag(item.span(), format!("`{s}` is not a valid name"))
                    .with_help(OBSERVE_HELP));
            }
            if names.iter().any(|n| n.name == **s) {
                return Err(self
                    .diag(item.span(), format!("`{s}` is listed twice in `observe`"))
                    .with_help("list each name once"));
            }
            names.push(Ident {
                name: s.to_string(),
                span: self.string_inner_span(item, s),
            });
        }
        Ok(names)
    }

    fn invariant_table(&mut self, value: &Val) -> Result<(), Diagnostic> {
        let t = self.table(value, "invariant")?;
        for (k, v) in t.iter() {
            match k.get_ref().as_ref() {
                "assert" => self.sc.invariants = self.asserts(v, "[invariant]")?,
                _ => return Err(self.unknown_key(k, "[invariant]", &["assert"])),
            }
        }
        Ok(())
    }

    fn limits(&mut self, value: &Val) -> Result<(), Diagnostic> {
        let t = self.table(value, "limits")?;
        for (k, v) in t.iter() {
            let key: &str = k.get_ref();
            let slot = match key {
                "max_steps" => &mut self.sc.limits.max_steps,
                "max_executions" => &mut self.sc.limits.max_executions,
                "timeout" => &mut self.sc.limits.timeout,
                _ => {
                    return Err(self.unknown_key(
                        k,
                        "[limits]",
                        &["max_steps", "max_executions", "timeout"],
                    ));
                }
            };
            let n = match v.get_ref() {
                DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
                _ => None,
            };
            match n {
                Some(n) if n >= 1 => *slot = Some(n as u64),
                _ => {
                    let found = match v.get_ref() {
                        DeValue::Integer(_) => format!("`{}`", &self.text[v.span()]),
                        other => type_name(other).to_string(),
                    };
                    let unit = if key == "timeout" { " (seconds)" } else { "" };
                    return Err(self
                        .diag(
                            v.span(),
                            format!("`{key}` must be a positive integer{unit}, found {found}"),
                        )
                        .with_help(format!(
                            "write `{key} = 1000`, or leave it out for the default"
                        )));
                }
            }
        }
        Ok(())
    }

    fn timing(&mut self, value: &Val) -> Result<(), Diagnostic> {
        const KEYS: &[&str] = &[
            "cores",
            "switch_interval_ms",
            "process_start_ms",
            "step_us",
            "gil",
        ];
        let t = self.table(value, "timing")?;
        for (k, v) in t.iter() {
            let key: &str = k.get_ref();
            match key {
                "gil" => self.sc.timing.gil = self.bool(v, "gil")?,
                "cores" | "step_us" => {
                    let n = match v.get_ref() {
                        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
                        _ => None,
                    };
                    let min = i64::from(key == "cores");
                    match n {
                        Some(n) if n >= min && n <= 1_000_000 => {
                            if key == "cores" {
                                self.sc.timing.cores = n as u32;
                            } else {
                                self.sc.timing.step_us = n as u64;
                            }
                        }
                        _ => {
                            let what = if min == 1 {
                                "a positive"
                            } else {
                                "a non-negative"
                            };
                            return Err(self
                                .diag(
                                    v.span(),
                                    format!(
                                        "`{key}` must be {what} integer, found {}",
                                        self.found(v)
                                    ),
                                )
                                .with_help(format!("write `{key} = 2`, or leave it out")));
                        }
                    }
                }
                "switch_interval_ms" | "process_start_ms" => {
                    let ms = match v.get_ref() {
                        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                            .ok()
                            .map(|n| n as f64),
                        DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
                        _ => None,
                    };
                    let positive = key == "switch_interval_ms";
                    match ms {
                        Some(ms)
                            if ms.is_finite()
                                && ms <= 600_000.0
                                && (ms > 0.0 || (!positive && ms == 0.0)) =>
                        {
                            let us = (ms * 1000.0).round() as u64;
                            if positive {
                                self.sc.timing.switch_interval_us = us.max(1);
                            } else {
                                self.sc.timing.process_start_us = us;
                            }
                        }
                        _ => {
                            let what = if positive { "positive" } else { "non-negative" };
                            return Err(self
                                .diag(
                                    v.span(),
                                    format!(
                                        "`{key}` must be a {what} number of milliseconds (at most 600000), found {}",
                                        self.found(v)
                                    ),
                                )
                                .with_help(format!("write `{key} = 5`, or leave it out")));
                        }
                    }
                }
                _ => return Err(self.unknown_key(k, "[timing]", KEYS)),
            }
        }
        Ok(())
    }

    /// A value as a message quotes it: its text when a number, else its type.
    fn found(&self, v: &Val) -> String {
        match v.get_ref() {
            DeValue::Integer(_) | DeValue::Float(_) => format!("`{}`", &self.text[v.span()]),
            other => type_name(other).to_string(),
        }
    }

    // -- cross-checks --------------------------------------------------------------------

    fn check_unique_names(&self) -> Result<(), Diagnostic> {
        let mut names = self.names.clone();
        names.sort_by_key(|(_, s, _)| s.start);
        let mut seen: HashMap<&str, &'static str> = HashMap::new();
        for (name, span, table) in &names {
            if let Some(first) = seen.get(name.as_str()) {
                return Err(self
                    .diag(span.start..span.end, format!("`{name}` is already declared in {first}"))
                    .with_help("names are unique across [shared], [atomics], [ghost], [objects], threads and processes"));
            }
            seen.insert(name, table);
        }
        Ok(())
    }

    fn check_observe(&self) -> Result<(), Diagnostic> {
        let Some(observe) = &self.sc.observe else {
            return Ok(());
        };
        for n in observe {
            let (base, dot_value) = match n.name.strip_suffix(".value") {
                Some(base) => (base, true),
                None => (n.name.as_str(), false),
            };
            let object = self.sc.objects.iter().find(|o| o.name.name == base);
            let what = match (object.map(|o| &o.kind), dot_value) {
                (Some(ObjectKind::Value { .. }), true)
                | (Some(ObjectKind::Array { .. }), false) => {
                    continue;
                }
                (Some(ObjectKind::Value { .. }), false) => {
                    format!("`{base}` is a Value: observe `{base}.value`")
                }
                (None, false) if self.sc.vars.iter().any(|v| v.name.name == base) => continue,
                (Some(_), false) => format!("`{base}` is an object; `observe` lists variables"),
                (_, true) => format!("`{}`: `{base}` is not a Value", n.name),
                (None, false) => {
                    format!("`{base}` is not declared in [shared], [atomics] or [ghost]")
                }
            };
            return Err(self
                .diag(n.span.start..n.span.end, what)
                .with_help(OBSERVE_HELP));
        }
        Ok(())
    }
}

fn table_label(table: &str) -> &'static str {
    match table {
        "shared" => "[shared]",
        "atomics" => "[atomics]",
        _ => "[ghost]",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::parser::tests::{Rng, sx_block, sx_expr};

    const EXAMPLE: &str = r#"[scenario]
name = "counter"                      # default: the file stem
description = "Two workers increment a shared counter without a lock."
expect = ["data_race", "assertion", "data_race"]

[shared]        # plain shared memory
counter = 0
done = false
slots = [0, 0, 0]

[atomics]
flag = [0, 0]

[ghost]
in_cs = 0

[objects]
m    = "Lock"
r    = "RLock"
cv   = { kind = "Condition", lock = "m" }
cv2  = "Condition"
sem  = { kind = "Semaphore", value = 2 }
bsem = { kind = "BoundedSemaphore", value = 1 }
ev   = "Event"
bar  = { kind = "Barrier", parties = 3 }
q    = { kind = "Queue", maxsize = 2 }
fork = { kind = "Lock", count = 5 }

[[thread]]
name = "worker"
count = 2
start = true
code = """
tmp = counter
counter = tmp + 1
"""

[[thread]]
name = "helper"
start = false
code = '''
    with m:
        while not done:
            cv.wait(timeout=1)
    worker[0].join()
'''

[[process]]
name = "proc"
code = "pass"

[final]
assert = ["counter == 2", "not done or slots[1] >= -1"]
observe = ["counter"]

[invariant]
assert = ["in_cs <= 1"]

[limits]
max_steps = 10000
max_executions = 500
timeout = 30
"#;

    fn parse(text: &str) -> Result<Scenario, Diagnostic> {
        parse_scenario("dir/example.toml", text)
    }

    #[test]
    fn example_parses_into_the_expected_tree() {
        let sc = parse(EXAMPLE).unwrap_or_else(|d| panic!("{}", d.render()));
        assert_eq!(sc.path, "dir/example.toml");
        assert_eq!(sc.source, EXAMPLE);
        assert_eq!(sc.name, "counter");
        assert_eq!(
            sc.description,
            "Two workers increment a shared counter without a lock."
        );
        assert_eq!(
            sc.expect,
            vec![FindingKind::Assertion, FindingKind::DataRace]
        );
        example_variables(&sc);
        example_objects(&sc);
        example_threads(&sc);
        example_checks_and_limits(&sc);
    }

    /// The example's [shared], [atomics] and [ghost] variables.
    fn example_variables(sc: &Scenario) {
        let vars: Vec<(&str, VarClass, &InitValue)> = sc
            .vars
            .iter()
            .map(|v| (v.name.name.as_str(), v.class, &v.init))
            .collect();
        {
            use InitValue::{Array, Scalar};
            use Value::{Bool, Int};
            assert_eq!(
                vars,
                vec![
                    ("counter", VarClass::Shared, &Scalar(Int(0))),
                    ("done", VarClass::Shared, &Scalar(Bool(false))),
                    (
                        "slots",
                        VarClass::Shared,
                        &Array(vec![Int(0), Int(0), Int(0)])
                    ),
                    ("flag", VarClass::Atomic, &Array(vec![Int(0), Int(0)])),
                    ("in_cs", VarClass::Ghost, &Scalar(Int(0))),
                ]
            );
        }
        // Spans: the name's key in the file.
        let counter = &sc.vars[0].name.span;
        assert_eq!(&EXAMPLE[counter.start..counter.end], "counter");
    }

    /// The example's [objects].
    fn example_objects(sc: &Scenario) {
        let objects: Vec<(&str, ObjectKind, Option<u32>)> = sc
            .objects
            .iter()
            .map(|o| (o.name.name.as_str(), o.kind.clone(), o.count))
            .collect();
        let cv = &sc.objects[2];
        let ObjectKind::Condition { lock: Some(lock) } = &cv.kind else {
            panic!("{:?}", cv.kind)
        };
        assert_eq!(&EXAMPLE[lock.span.start..lock.span.end], "m");
        assert_eq!(
            &EXAMPLE[cv.span.start..cv.span.end],
            r#"{ kind = "Condition", lock = "m" }"#
        );
        assert_eq!(
            objects
                .iter()
                .map(|(n, k, c)| format!("{n}:{}:{c:?}", k.name()))
                .collect::<Vec<_>>()
                .join(" "),
            "m:Lock:None r:RLock:None cv:Condition:None cv2:Condition:None sem:Semaphore:None \
             bsem:BoundedSemaphore:None ev:Event:None bar:Barrier:None q:Queue:None fork:Lock:Some(5)"
        );
        assert_eq!(objects[3].1, ObjectKind::Condition { lock: None });
        assert_eq!(objects[4].1, ObjectKind::Semaphore { value: 2 });
        assert_eq!(objects[5].1, ObjectKind::BoundedSemaphore { value: 1 });
        assert_eq!(objects[7].1, ObjectKind::Barrier { parties: 3 });
        assert_eq!(objects[8].1, ObjectKind::Queue { maxsize: 2 });
    }

    /// The example's [[thread]] and [[process]] tables, their code parsed.
    fn example_threads(sc: &Scenario) {
        assert_eq!(sc.parties.len(), 3);
        let w = &sc.parties[0];
        assert_eq!(
            (w.name.name.as_str(), w.count, w.start),
            ("worker", Some(2), true)
        );
        assert_eq!(&EXAMPLE[w.span.start..w.span.end], "[[thread]]");
        assert_eq!(&EXAMPLE[w.name.span.start..w.name.span.end], "worker");
        assert_eq!(sx_block(&w.code), "[(= tmp counter) (= counter (+ tmp 1))]");
        // Code spans are file offsets.
        let s0 = w.code[1].span;
        assert_eq!(&EXAMPLE[s0.start..s0.end], "counter = tmp + 1");
        let h = &sc.parties[1];
        assert_eq!(
            (h.name.name.as_str(), h.count, h.start),
            ("helper", None, false)
        );
        assert_eq!(
            sx_block(&h.code),
            "[(with m [(while (not done) [(method cv.wait timeout=1)])]) (method worker[0].join)]"
        );
        let wait = &h.code[0];
        assert_eq!(&EXAMPLE[wait.span.start..wait.span.end], "with m:");
        let p = &sc.parties[2];
        assert!(p.process && !w.process && !h.process);
        assert!(!p.daemon && !w.daemon);
        assert_eq!(sx_block(&p.code), "[pass]");
    }

    /// The example's [final], [invariant] and [limits].
    fn example_checks_and_limits(sc: &Scenario) {
        let finals: Vec<String> = sc.final_asserts.iter().map(sx_expr).collect();
        assert_eq!(
            finals,
            vec![
                "(cmp counter == 2)",
                "(or (not done) (cmp slots[1] >= (neg 1)))"
            ]
        );
        let f1 = sc.final_asserts[1].span;
        assert_eq!(&EXAMPLE[f1.start..f1.end], "not done or slots[1] >= -1");
        let observe: Vec<&str> = sc
            .observe
            .as_ref()
            .unwrap()
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        assert_eq!(observe, vec!["counter"]);
        assert_eq!(
            sc.invariants.iter().map(sx_expr).collect::<Vec<_>>(),
            vec!["(cmp in_cs <= 1)"]
        );
        assert_eq!(
            sc.limits,
            Limits {
                max_steps: Some(10000),
                max_executions: Some(500),
                timeout: Some(30)
            }
        );
    }

    #[test]
    fn defaults() {
        let sc = parse("[[thread]]\nname = \"t\"\ncode = \"pass\"\n").unwrap();
        assert_eq!(sc.name, "example");
        assert!(sc.expect.is_empty() && sc.vars.is_empty() && sc.objects.is_empty());
        assert_eq!((sc.parties[0].count, sc.parties[0].start), (None, true));
        assert_eq!(sc.start_method, StartMethod::Fork);
        assert!(sc.observe.is_none() && sc.final_asserts.is_empty() && sc.invariants.is_empty());
        assert_eq!(sc.limits, Limits::default());
        let sc =
            parse("[scenario]\nexpect = \"pass\"\n[[thread]]\nname = \"t\"\ncode = \"pass\"\n")
                .unwrap();
        assert!(sc.expect.is_empty());
        let sc =
            parse("[scenario]\nexpect = \"deadlock\"\n[[thread]]\nname = \"t\"\ncode = \"pass\"\n")
                .unwrap();
        assert_eq!(sc.expect, vec![FindingKind::Deadlock]);
        let sc =
            parse("[scenario]\nexpect = []\n[[thread]]\nname = \"t\"\ncode = \"pass\"\n").unwrap();
        assert!(sc.expect.is_empty());
        // The inline-table form of threads, and the sub-table form of objects.
        let sc =
            parse("thread = [{ name = \"t\", code = \"pass\" }]\n[objects.m]\nkind = \"RLock\"\n")
                .unwrap();
        assert_eq!(sc.parties[0].name.name, "t");
        assert_eq!(sc.objects[0].kind, ObjectKind::RLock);
        assert_eq!(default_name("a/b/c.toml"), "c");
    }

    /// A Queue's `maxsize` of 0 or less is unbounded, as Python reads it.
    #[test]
    fn a_negative_maxsize_is_unbounded() {
        let sc = parse(
            "[objects]\nq = { kind = \"Queue\", maxsize = -1 }\n[[thread]]\nname = \"t\"\ncode = \"pass\"\n",
        )
        .unwrap_or_else(|d| panic!("{}", d.render()));
        assert_eq!(sc.objects[0].kind, ObjectKind::Queue { maxsize: 0 });
    }

    /// Processes (version 2): `start_method`, `daemon`, the parties in file order, and
    /// the new object kinds with their defaults.
    #[test]
    fn process_tables() {
        let sc = parse(
            "[scenario]\nstart_method = \"spawn\"\n\
             [objects]\njq = { kind = \"JoinableQueue\", maxsize = 3, count = 2 }\nsq = \"SimpleQueue\"\n\
             v = \"Value\"\nw = { kind = \"Value\", value = true, lock = false }\n\
             a = { kind = \"Array\", value = [1, 2] }\np = \"Pipe\"\nr = { kind = \"Pipe\", duplex = false }\n\
             d = \"ManagerDict\"\ne = { kind = \"ManagerDict\", items = [[1, true]] }\n\
             l = \"ManagerList\"\nm = { kind = \"ManagerList\", value = [1, false] }\n\
             [[process]]\nname = \"first\"\ndaemon = true\ncode = \"pass\"\n\
             [[thread]]\nname = \"second\"\ncode = \"pass\"\n\
             [[process]]\nname = \"third\"\ncode = \"pass\"\n\
             [[thread]]\nname = \"fourth\"\ndaemon = false\ncode = \"pass\"\n",
        )
        .unwrap_or_else(|d| panic!("{}", d.render()));
        assert_eq!(sc.start_method, StartMethod::Spawn);
        let parties: Vec<(&str, bool, bool)> = sc
            .parties
            .iter()
            .map(|t| (t.name.name.as_str(), t.process, t.daemon))
            .collect();
        assert_eq!(
            parties,
            [
                ("first", true, true),
                ("second", false, false),
                ("third", true, false),
                ("fourth", false, false)
            ]
        );
        use Value::{Bool, Int};
        let kinds: Vec<(ObjectKind, Option<u32>)> = sc
            .objects
            .iter()
            .map(|o| (o.kind.clone(), o.count))
            .collect();
        assert_eq!(
            kinds,
            [
                (ObjectKind::JoinableQueue { maxsize: 3 }, Some(2)),
                (ObjectKind::SimpleQueue, None),
                (
                    ObjectKind::Value {
                        value: Int(0),
                        lock: true
                    },
                    None
                ),
                (
                    ObjectKind::Value {
                        value: Bool(true),
                        lock: false
                    },
                    None
                ),
                (
                    ObjectKind::Array {
                        values: vec![Int(1), Int(2)],
                        lock: true
                    },
                    None
                ),
                (ObjectKind::Pipe { duplex: true }, None),
                (ObjectKind::Pipe { duplex: false }, None),
                (ObjectKind::ManagerDict { items: vec![] }, None),
                (
                    ObjectKind::ManagerDict {
                        items: vec![(Int(1), Bool(true))]
                    },
                    None
                ),
                (ObjectKind::ManagerList { values: vec![] }, None),
                (
                    ObjectKind::ManagerList {
                        values: vec![Int(1), Bool(false)]
                    },
                    None
                ),
            ]
        );
    }

    /// (line, column) of the error `text` gives, after checking its message.
    #[track_caller]
    fn fails_at(text: &str, line: usize, column: usize, message: &str) {
        match parse(text) {
            Ok(_) => panic!("{text:?} parsed"),
            Err(d) => {
                assert!(
                    d.message.contains(message),
                    "{text:?}: message {:?} does not contain {message:?}",
                    d.message
                );
                assert!(d.help.is_some(), "no help: {d}");
                assert_eq!((d.line, d.column), (line, column), "{text:?}: {d}");
                // Rendering never fails either.
                assert!(d.render().contains(message));
            }
        }
    }

    #[test]
    fn code_errors_point_into_the_file() {
        // `"""` with a newline after the delimiter (trimmed by TOML).
        let t = "[[thread]]\nname = \"w\"\ncode = \"\"\"\nx = 1\nwhile x\n    pass\n\"\"\"\n";
        fails_at(t, 5, 8, "expected `:` after the `while` condition");
        // `"""` with code right after the delimiter.
        let t = "[[thread]]\nname = \"w\"\ncode = \"\"\"x = 1\nwhile x\n    pass\n\"\"\"\n";
        fails_at(t, 4, 8, "expected `:` after the `while` condition");
        let t = "[[thread]]\nname = \"w\"\ncode = \"\"\"x = 1 / 2\"\"\"\n";
        fails_at(t, 3, 17, "integer division is `//`");
        // `'''`, indented code (dedented first, columns mapped back).
        let t =
            "[[thread]]\nname = \"w\"\ncode = '''\n    x = 1\n    if x:\n        y = 2 ** 3\n'''\n";
        fails_at(t, 6, 15, "`**` (power) is not supported");
        let t = "[[thread]]\nname = \"w\"\ncode = '''  x = a.(b)'''\n";
        fails_at(t, 3, 19, "expected a method or attribute name after `.`");
        // A basic string with escapes.
        let t = "[[thread]]\nname = \"w\"\ncode = \"x = \\\"s\\\"\\nif x:\\n\\ty = 1 / 2\"\n";
        fails_at(t, 3, 35, "integer division");
        // CRLF line endings.
        let t = "[[thread]]\r\nname = \"w\"\r\ncode = \"\"\"\r\nx = 1\r\nwhile x\r\n    pass\r\n\"\"\"\r\n";
        fails_at(t, 5, 8, "expected `:` after the `while` condition");
        // Assertions in [final] and [invariant].
        let t = "[shared]\nx = 0\n[[thread]]\nname = \"w\"\ncode = \"pass\"\n[final]\nassert = [\"x == 0\", \"x => 1\"]\n";
        fails_at(t, 7, 24, "unexpected `=` after the expression");
        assert_eq!(
            parse(t).unwrap_err().help.as_deref(),
            Some("did you mean `>=`?")
        );
        let t =
            "[[thread]]\nname = \"w\"\ncode = \"pass\"\n[invariant]\nassert = ['''\nx = 1''']\n";
        fails_at(t, 6, 3, "unexpected `=` after the expression");
    }

    #[test]
    fn bad_timing_has_message_and_place() {
        fails_at(
            &with("[timing]\ncore = 2"),
            2,
            1,
            "unknown key `core` in [timing]",
        );
        fails_at(
            &with("[timing]\ncores = 0"),
            2,
            9,
            "`cores` must be a positive integer",
        );
        fails_at(&with("[timing]\ngil = 1"), 2, 7, "`gil` must be a boolean");
        fails_at(
            &with("[timing]\nswitch_interval_ms = 0"),
            2,
            22,
            "`switch_interval_ms` must be a positive number of milliseconds",
        );
        fails_at(
            &with("[timing]\nstep_us = 1.5"),
            2,
            11,
            "`step_us` must be a non-negative integer",
        );
    }

    /// A thread that is fine: appended to a table under test, so that its error is the
    /// file's only one.
    const ONE_THREAD: &str = "[[thread]]\nname = \"w\"\ncode = \"pass\"\n";

    /// `table`, then [`ONE_THREAD`].
    fn with(table: &str) -> String {
        format!("{table}\n{ONE_THREAD}")
    }

    #[test]
    fn bad_tables_have_message_and_place() {
        fails_at(&with("[shraed]\nx = 1"), 1, 2, "unknown table `shraed`");
        let d = parse(&with("[shraed]\nx = 1")).unwrap_err();
        assert_eq!(d.help.as_deref(), Some("did you mean `[shared]`?"));
        let d = parse(&with("[[threads]]\nname = \"a\"")).unwrap_err();
        assert_eq!(d.help.as_deref(), Some("did you mean `[[thread]]`?"));
        fails_at(
            &with("[scenario]\nnmae = \"x\""),
            2,
            1,
            "unknown key `nmae` in [scenario]",
        );
        assert_eq!(
            parse(&with("[scenario]\nnmae = \"x\""))
                .unwrap_err()
                .help
                .as_deref(),
            Some("did you mean `name`?")
        );
        fails_at(
            &with("[scenario]\nexpect = \"races\""),
            2,
            10,
            "unknown verdict kind \"races\"",
        );
        fails_at(
            &with("[scenario]\nexpect = [\"pass\", \"deadlock\"]"),
            2,
            11,
            "\"pass\" cannot be listed",
        );
        fails_at(
            &with("[scenario]\nexpect = [\"deadlok\"]"),
            2,
            11,
            "unknown verdict kind",
        );
        fails_at(&with("[shared\nx = 1"), 1, 8, "invalid TOML");
        fails_at(&with("shared = 1"), 1, 10, "`shared` must be a table");
        fails_at(
            &with("[[shared]]\nx = 1"),
            1,
            1,
            "`shared` must be a table, not an array of tables",
        );
        fails_at("[shared]\nx = 1\n", 1, 1, "the scenario has no threads");
    }

    #[test]
    fn bad_variables_have_message_and_place() {
        fails_at(&with("[shared]\nx = 1.5"), 2, 5, "floats are not supported");
        fails_at(&with("[shared]\nx = []"), 2, 5, "the array `x` is empty");
        fails_at(&with("[shared]\nx = [[1]]"), 2, 6, "nested arrays");
        fails_at(
            &with("[shared]\nx = [1, true]"),
            2,
            9,
            "mixes integers and booleans",
        );
        fails_at(
            &with("[shared]\nx = 9223372036854775808"),
            2,
            5,
            "out of the 64-bit integer range",
        );
        fails_at(&with("[shared]\nx = \"None\""), 2, 5, "found a string");
        fails_at(
            &with("[shared]\n\"my-var\" = 1"),
            2,
            1,
            "`my-var` is not a valid name",
        );
        fails_at(&with("[ghost]\nprint = 1"), 2, 1, "`print` is a built-in");
        fails_at(
            &with("[atomics]\nclass = 1"),
            2,
            1,
            "`class` is a Python keyword",
        );
        fails_at(
            &with("[shared]\nx = 1\n[objects]\nx = \"Lock\""),
            4,
            1,
            "`x` is already declared in [shared]",
        );
        fails_at(
            &with("[shared]\nw = 1"),
            4,
            9,
            "`w` is already declared in [shared]",
        );
    }

    #[test]
    fn bad_objects_have_message_and_place() {
        fails_at(
            &with("[objects]\nm = \"Lok\""),
            2,
            5,
            "unknown object kind \"Lok\"",
        );
        fails_at(
            &with("[objects]\nm = { kind = \"Semaphore\", value = -1 }"),
            2,
            35,
            "`value` must be at least 0",
        );
        fails_at(
            &with("[objects]\nm = { kind = \"Lock\", value = 1 }"),
            2,
            22,
            "unknown key `value` for a Lock",
        );
        fails_at(&with("[objects]\nm = { value = 1 }"), 2, 5, "has no `kind`");
        fails_at(
            &with("[objects]\nb = { kind = \"Barrier\" }"),
            2,
            5,
            "needs `parties`",
        );
        fails_at(
            &with("[objects]\nb = { kind = \"Barrier\", parties = 0 }"),
            2,
            35,
            "`parties` must be at least 1",
        );
        fails_at(
            &with("[objects]\nf = { kind = \"Lock\", count = 0 }"),
            2,
            30,
            "`count` must be at least 1",
        );
        fails_at(
            &with("[objects]\nc = { kind = \"Condition\", lock = \"s\" }\ns = \"Semaphore\""),
            2,
            34,
            "`s` is a Semaphore, not a Lock or RLock",
        );
        fails_at(
            &with("[objects]\nc = { kind = \"Condition\", lock = \"zz\" }"),
            2,
            34,
            "no object named `zz`",
        );
        fails_at(
            &with(
                "[objects]\nc = { kind = \"Condition\", lock = \"f\" }\nf = { kind = \"Lock\", count = 2 }",
            ),
            2,
            34,
            "is an array of Locks",
        );
    }

    #[test]
    fn bad_checks_and_limits_have_message_and_place() {
        fails_at(
            &with("[final]\nobserve = [\"x\"]"),
            2,
            13,
            "`x` is not declared",
        );
        fails_at(
            &with("[final]\nasert = []"),
            2,
            1,
            "unknown key `asert` in [final]",
        );
        fails_at(
            &with("[invariant]\nassert = [1]"),
            2,
            11,
            "each assertion must be a string",
        );
        fails_at(
            &with("[limits]\nmax_steps = 0"),
            2,
            13,
            "`max_steps` must be a positive integer",
        );
        fails_at(
            &with("[limits]\ntimeout = 1.5"),
            2,
            11,
            "`timeout` must be a positive integer",
        );
    }

    #[test]
    fn bad_threads_have_message_and_place() {
        fails_at(
            "[thread]\nname = \"x\"\ncode = \"pass\"",
            1,
            1,
            "`[thread]` must be written `[[thread]]`",
        );
        fails_at(
            "[[thread]]\nname = \"x\"",
            1,
            1,
            "the thread `x` has no `code`",
        );
        fails_at(
            "[[thread]]\ncode = \"pass\"",
            1,
            1,
            "this thread has no `name`",
        );
        fails_at(
            "[[thread]]\nname = \"w\"\ncount = 65\ncode = \"pass\"",
            3,
            9,
            "`count` must be at most 64",
        );
        fails_at(
            "[[thread]]\nname = \"w\"\nstart = \"false\"\ncode = \"pass\"",
            3,
            9,
            "`start` must be a boolean",
        );
        fails_at(
            "[[thread]]\nname = \"2w\"\ncode = \"pass\"",
            2,
            8,
            "`2w` is not a valid name",
        );
        fails_at(
            "[[thread]]\nname = \"tid\"\ncode = \"pass\"",
            2,
            8,
            "`tid` is a built-in",
        );
        fails_at(
            "[[thread]]\nname = \"w\"\ncode = \"pass\"\ncolor = 1",
            4,
            1,
            "unknown key `color` in [[thread]]",
        );
        fails_at(
            "[[thread]]\nname = \"w\"\ncode = 3",
            3,
            8,
            "`code` must be a string",
        );
        fails_at(
            &format!("{ONE_THREAD}[[thread]]\nname = \"w\"\ncode = \"pass\""),
            5,
            9,
            "`w` is already declared in [[thread]]",
        );
    }

    #[test]
    fn load_reads_files() {
        let d = load("/nonexistent/dir/x.toml").unwrap_err();
        assert!(d.message.contains("cannot read"), "{d}");
        let dir =
            std::env::temp_dir().join(format!("simrace-scenario-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("two_workers.toml");
        std::fs::write(&path, "[[thread]]\nname = \"t\"\ncode = \"pass\"\n").unwrap();
        let sc = load(path.to_str().unwrap()).unwrap();
        assert_eq!(sc.name, "two_workers");
        std::fs::write(&path, b"[[thread]]\nname = \"\xff\"\n").unwrap();
        assert!(
            load(path.to_str().unwrap())
                .unwrap_err()
                .message
                .contains("UTF-8")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn never_panics_on_mutations() {
        let pieces = [
            "[",
            "]",
            "[[",
            "]]",
            "\"",
            "'''",
            "\"\"\"",
            "=",
            "\n",
            "{",
            "}",
            ",",
            "#",
            "\\",
            "count = 0",
            "kind",
            "lock = \"zz\"",
            "-",
            "99999999999999999999",
            "    ",
            "\t",
            "é",
            "(",
            ")",
            ":",
            "\r\n",
            "true",
            "1.5",
        ];
        let mut rng = Rng(0x2545f4914f6cdd1d);
        for i in 0..3000 {
            let mut s: Vec<u8> = EXAMPLE.as_bytes().to_vec();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(s.len() + 1);
                match rng.below(5) {
                    0 => s.truncate(at),
                    1 if at < s.len() => {
                        let end = (at + 1 + rng.below(8)).min(s.len());
                        s.drain(at..end);
                    }
                    2 => {
                        let p = pieces[rng.below(pieces.len())];
                        s.splice(at..at, p.bytes());
                    }
                    3 => s.insert(at, rng.below(128) as u8),
                    _ => {
                        let end = (at + rng.below(40)).min(s.len());
                        let chunk: Vec<u8> = s[at..end].to_vec();
                        s.splice(at..at, chunk);
                    }
                }
            }
            let text = String::from_utf8_lossy(&s).into_owned();
            if let Err(d) = parse_scenario("f.toml", &text)
                && i % 50 == 0
            {
                let _ = d.render();
            }
        }
    }
}
