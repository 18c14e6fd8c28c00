//! Partitions and shares: one deterministic share of a check's scenarios (or of one
//! exploration's tasks) run on a machine of its own, and what `simrace merge` needs to
//! combine the shares into the report one run gives.
//!
//! The partitions are cargo-nextest's (`--partition count:I/N` and `hash:I/N`, I from 1):
//! `count` deals the items round-robin by position, `hash` by a hash of the item's name, so
//! that a share keeps its items when others are added. Every share computes the whole
//! list of items and keeps its own, so the shares need not talk to each other.
//!
//! A share is a JSON document whose `share` [`Header`] says what it is a share of: the
//! command, simrace's version, the flags that change results, each input file with a
//! fingerprint of its bytes, and the partition. `simrace merge` refuses shares whose
//! headers differ in anything but the partition index, and a set of shares in which an
//! index is missing or given twice ([`check_set`]).

use crate::check::CheckResult;
use crate::frontend::diag::Diagnostic;
use crate::report::RunReport;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The `format` of every share document.
pub const SHARE_FORMAT: &str = "simrace-share/1";

/// How the items are dealt to the shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionKind {
    /// Round-robin by position: item k goes to share k mod N + 1.
    Count,
    /// By a hash of the item's name (a scenario's path, an exploration task's schedule).
    Hash,
}

/// `count:I/N` or `hash:I/N`: share I (from 1) of N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    pub kind: PartitionKind,
    pub index: usize,
    pub total: usize,
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Partition, String> {
        let bad = || format!("`{s}` is not a partition: give count:I/N or hash:I/N, 1 <= I <= N");
        let (kind, share) = s.split_once(':').ok_or_else(bad)?;
        let kind = match kind {
            "count" => PartitionKind::Count,
            "hash" => PartitionKind::Hash,
            _ => return Err(bad()),
        };
        let (i, n) = share.split_once('/').ok_or_else(bad)?;
        let (index, total) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if index == 0 || total == 0 || index > total {
            return Err(bad());
        }
        Ok(Partition { kind, index, total })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            PartitionKind::Count => "count",
            PartitionKind::Hash => "hash",
        };
        write!(f, "{kind}:{}/{}", self.index, self.total)
    }
}

impl Partition {
    /// Whether the item at `position` (from 0) named `name` is this share's.
    pub fn selects(&self, position: usize, name: &str) -> bool {
        let bucket = match self.kind {
            PartitionKind::Count => position % self.total,
            PartitionKind::Hash => (fnv1a(name.as_bytes()) % self.total as u128) as usize,
        };
        bucket == self.index - 1
    }
}

/// FNV-1a, 128 bits: the same on every machine and version of Rust (std's hashers are
/// not). An identity check against mistakes, not against forgery.
fn fnv1a(bytes: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013b;
    bytes
        .iter()
        .fold(OFFSET, |h, b| (h ^ u128::from(*b)).wrapping_mul(PRIME))
}

/// The fingerprint of a file's bytes (`fnv1a128:` and 32 hex digits), or why it could
/// not be read.
pub fn file_fingerprint(path: &str) -> String {
    match std::fs::read(path) {
        Ok(bytes) => format!("fnv1a128:{:032x}", fnv1a(&bytes)),
        Err(e) => format!("unreadable: {}", e.kind()),
    }
}

/// One input of a share: its path as given and its fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputId {
    pub file: String,
    pub fingerprint: String,
}

/// What a share is a share of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// [`SHARE_FORMAT`].
    pub format: String,
    /// simrace's version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// `check` or `run`.
    pub command: String,
    /// `count:I/N` or `hash:I/N`.
    pub partition: String,
    /// The flags that change results, by name (`none` when not given).
    pub flags: BTreeMap<String, String>,
    /// Every input of the whole run (not only this share's), in order.
    pub inputs: Vec<InputId>,
}

impl Header {
    pub fn new(
        command: &str,
        partition: Partition,
        flags: BTreeMap<String, String>,
        inputs: Vec<InputId>,
    ) -> Header {
        Header {
            format: SHARE_FORMAT.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            command: command.to_string(),
            partition: partition.to_string(),
            flags,
            inputs,
        }
    }
}

/// A share of `simrace check`: the results of its scenarios, each with its position in
/// the whole list of inputs.
#[derive(Debug, Serialize, Deserialize)]
pub struct CheckShare {
    pub share: Header,
    pub results: Vec<SharedResult>,
}

/// One scenario's result in a check share: its report, or why it could not be checked.
#[derive(Debug, Serialize, Deserialize)]
pub struct SharedResult {
    pub index: usize,
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Box<RunReport>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<Diagnostic>,
}

impl SharedResult {
    pub fn from_result(index: usize, r: &CheckResult) -> SharedResult {
        let (report, invalid) = match &r.outcome {
            crate::check::Outcome::Ran(rep) => (Some(rep.clone()), None),
            crate::check::Outcome::Invalid(d) => (None, Some(d.clone())),
        };
        SharedResult {
            index,
            file: r.file.clone(),
            report,
            invalid,
        }
    }

    pub fn into_result(self) -> Result<CheckResult, String> {
        let outcome = match (self.report, self.invalid) {
            (Some(rep), None) => crate::check::Outcome::Ran(rep),
            (None, Some(d)) => crate::check::Outcome::Invalid(d),
            _ => return Err(format!("the result for {} is malformed", self.file)),
        };
        Ok(CheckResult {
            file: self.file,
            outcome,
        })
    }
}

/// Checks that `shares` (each with the file it came from) are every share of one run,
/// once each; returns the partition's size. `Err`: what is wrong, in one message.
pub fn check_set(shares: &[(String, Header)]) -> Result<usize, String> {
    let Some((first_file, first)) = shares.first() else {
        return Err("no shares given".into());
    };
    let first_p: Partition = parse_partition(first_file, first)?;
    let mut seen: BTreeMap<usize, &str> = BTreeMap::new();
    for (file, h) in shares {
        if h.format != SHARE_FORMAT {
            return Err(format!(
                "{file} is a share of another format ({}; this simrace reads {SHARE_FORMAT})",
                h.format
            ));
        }
        differ(
            file,
            first_file,
            "simrace versions",
            &h.version,
            &first.version,
        )?;
        differ(file, first_file, "commands", &h.command, &first.command)?;
        if h.flags != first.flags {
            let why = first_difference(&h.flags, &first.flags);
            return Err(format!(
                "{first_file} and {file} were run with different flags ({why})"
            ));
        }
        if h.inputs != first.inputs {
            return Err(format!(
                "{first_file} and {file} are shares of different inputs ({})",
                input_difference(&h.inputs, &first.inputs)
            ));
        }
        let p = parse_partition(file, h)?;
        if (p.kind, p.total) != (first_p.kind, first_p.total) {
            return Err(format!(
                "{first_file} and {file} are shares of different partitions ({} and {p})",
                first.partition
            ));
        }
        if let Some(other) = seen.insert(p.index, file) {
            return Err(format!("share {p} is given twice: {other} and {file}"));
        }
    }
    let own = env!("CARGO_PKG_VERSION");
    if first.version != own {
        return Err(format!(
            "the shares were made by simrace {}, and this is simrace {own}: merge with the same version",
            first.version
        ));
    }
    let missing: Vec<String> = (1..=first_p.total)
        .filter(|i| !seen.contains_key(i))
        .map(|i| {
            Partition {
                index: i,
                ..first_p
            }
            .to_string()
        })
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing shares: {}", missing.join(", ")));
    }
    Ok(first_p.total)
}

fn parse_partition(file: &str, h: &Header) -> Result<Partition, String> {
    h.partition
        .parse()
        .map_err(|e| format!("{file}: its partition: {e}"))
}

fn differ(file: &str, first: &str, what: &str, a: &str, b: &str) -> Result<(), String> {
    if a == b {
        return Ok(());
    }
    Err(format!(
        "{first} and {file} come from different {what} ({b} and {a})"
    ))
}

fn first_difference(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> String {
    let none = "none".to_string();
    let keys = a.keys().chain(b.keys());
    for k in keys {
        let (x, y) = (a.get(k).unwrap_or(&none), b.get(k).unwrap_or(&none));
        if x != y {
            return format!("{k}: {y} and {x}");
        }
    }
    String::new()
}

fn input_difference(a: &[InputId], b: &[InputId]) -> String {
    for (x, y) in a.iter().zip(b) {
        if x.file != y.file {
            return format!("{} against {}", y.file, x.file);
        }
        if x.fingerprint != y.fingerprint {
            return format!("{} has changed between them", x.file);
        }
    }
    format!("{} inputs against {}", b.len(), a.len())
}

/// A map with keys that JSON cannot have (tuples) as a list of pairs, for
/// `#[serde(with = "crate::share::as_pairs")]`.
pub mod as_pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer, K: Serialize, V: Serialize>(
        m: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter())
    }

    pub fn deserialize<'de, D, K, V>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        D: Deserializer<'de>,
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
    {
        Vec::<(K, V)>::deserialize(d).map(|v| v.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_parse_and_deal_every_item_once() {
        for s in ["count:1/1", "count:2/3", "hash:3/3"] {
            assert_eq!(s.parse::<Partition>().unwrap().to_string(), s);
        }
        for s in [
            "count:0/3",
            "count:4/3",
            "hash:1/0",
            "mod:1/2",
            "count:1",
            "count:a/2",
        ] {
            assert!(s.parse::<Partition>().is_err(), "{s}");
        }
        let names: Vec<String> = (0..50).map(|k| format!("scenarios/s{k}.toml")).collect();
        for kind in ["count", "hash"] {
            for (k, name) in names.iter().enumerate() {
                let owners = (1..=4)
                    .filter(|i| {
                        let p: Partition = format!("{kind}:{i}/4").parse().unwrap();
                        p.selects(k, name)
                    })
                    .count();
                assert_eq!(owners, 1, "{kind}: {name}");
            }
        }
    }

    fn header(partition: &str) -> Header {
        let p = partition.parse().unwrap();
        let inputs = vec![InputId {
            file: "a.toml".into(),
            fingerprint: "x".into(),
        }];
        Header::new("check", p, BTreeMap::new(), inputs)
    }

    #[test]
    fn a_set_of_shares_is_whole_and_alike() {
        let set = |ps: &[&str]| {
            let v: Vec<(String, Header)> = ps.iter().map(|p| (p.to_string(), header(p))).collect();
            check_set(&v)
        };
        assert_eq!(set(&["count:2/2", "count:1/2"]), Ok(2));
        assert!(
            set(&["count:1/2"])
                .unwrap_err()
                .contains("missing shares: count:2/2")
        );
        assert!(
            set(&["count:1/2", "count:1/2"])
                .unwrap_err()
                .contains("given twice")
        );
        assert!(
            set(&["count:1/2", "hash:2/2"])
                .unwrap_err()
                .contains("partitions")
        );
        let mut other = header("count:2/2");
        other.inputs[0].fingerprint = "y".into();
        let v = vec![
            ("a".to_string(), header("count:1/2")),
            ("b".to_string(), other),
        ];
        assert!(check_set(&v).unwrap_err().contains("has changed"));
        let mut other = header("count:2/2");
        other.flags.insert("max-steps".into(), "5".into());
        let v = vec![
            ("a".to_string(), header("count:1/2")),
            ("b".to_string(), other),
        ];
        assert!(check_set(&v).unwrap_err().contains("different flags"));
        let mut other = header("count:2/2");
        other.version = "0.0.0".into();
        let v = vec![
            ("a".to_string(), header("count:1/2")),
            ("b".to_string(), other),
        ];
        assert!(check_set(&v).unwrap_err().contains("versions"));
    }
}
