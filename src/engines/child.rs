//! The child-process protocol of the model-checking engines (loom, shuttle): the parent
//! re-invokes the current executable as `simrace __engine-child ENGINE FILE SETTINGS`,
//! the child runs the engine and prints its [`Tally`] as one JSON line, and the parent
//! reads it back. A child that dies instead (loom aborts the process on some failures)
//! is explained from its standard error: a deadlock panic becomes a `deadlock` finding,
//! anything else an engine failure.

use crate::engines::tally::Tally;
use crate::ir::{FindingKind, Value};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The settings of a model-checking run (from the command line and `[limits]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelSettings {
    pub max_steps: u64,
    pub max_executions: Option<u64>,
    /// Seconds.
    pub timeout: Option<u64>,
    pub seed: u64,
    /// shuttle: random, pct or dfs.
    pub scheduler: String,
    /// loom: the preemption bound.
    pub max_preemptions: Option<usize>,
}

/// A kind, the executions that saw it, and its messages with their counts.
type WireKind = (String, u64, Vec<(String, u64)>);

#[derive(Serialize, Deserialize)]
struct Wire {
    executions: u64,
    complete: bool,
    elapsed_ms: f64,
    notes: Vec<String>,
    kinds: Vec<WireKind>,
    outcomes: Vec<(Vec<serde_json::Value>, u64)>,
    schedules: Vec<(String, String)>,
}

fn to_json(v: Value) -> serde_json::Value {
    crate::report::json_value(v)
}

fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Int(n.as_i64().unwrap_or(0)),
        _ => Value::None,
    }
}

/// The one JSON line a child prints.
pub fn encode(t: &Tally) -> String {
    let w = Wire {
        executions: t.executions,
        complete: t.complete,
        elapsed_ms: t.elapsed.as_secs_f64() * 1e3,
        notes: t.notes.clone(),
        kinds: t
            .kinds
            .iter()
            .map(|(k, (n, m))| {
                (
                    k.as_str().to_string(),
                    *n,
                    m.iter().map(|(a, b)| (a.clone(), *b)).collect(),
                )
            })
            .collect(),
        outcomes: t
            .outcomes
            .iter()
            .map(|(v, n)| (v.iter().map(|x| to_json(*x)).collect(), *n))
            .collect(),
        schedules: t
            .schedules
            .iter()
            .map(|(k, s)| (k.as_str().to_string(), s.clone()))
            .collect(),
    };
    serde_json::to_string(&w).unwrap_or_default()
}

fn decode(line: &str) -> Option<Tally> {
    let w: Wire = serde_json::from_str(line).ok()?;
    let mut t = Tally {
        executions: w.executions,
        complete: w.complete,
        elapsed: Duration::from_secs_f64(w.elapsed_ms.max(0.0) / 1e3),
        notes: w.notes,
        ..Tally::default()
    };
    for (k, n, m) in w.kinds {
        t.kinds
            .insert(FindingKind::parse(&k)?, (n, m.into_iter().collect()));
    }
    for (v, n) in w.outcomes {
        t.outcomes.insert(v.iter().map(from_json).collect(), n);
    }
    for (k, s) in w.schedules {
        t.schedules.insert(FindingKind::parse(&k)?, s);
    }
    Some(t)
}

/// Runs `engine` on `path` in a child process, for at most `limit`.
/// Returns the tally and the child's standard error.
pub fn run(
    engine: &str,
    path: &str,
    s: &ModelSettings,
    limit: Duration,
) -> Result<(Tally, String), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find simrace itself: {e}"))?;
    let settings = serde_json::to_string(s).unwrap_or_default();
    let start = Instant::now();
    let mut child = Command::new(exe)
        .args(["__engine-child", engine, path, &settings])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the {engine} child process: {e}"))?;
    // Read both pipes on threads so that a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let mut killed = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) => {
                if start.elapsed() > limit {
                    let _ = child.kill();
                    let _ = child.wait();
                    killed = true;
                    break None;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(format!("lost the {engine} child process: {e}")),
        }
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    if killed {
        let mut t = Tally::default();
        t.notes.push(format!(
            "{engine} was stopped after {} s without finishing",
            limit.as_secs()
        ));
        return Ok((t, stderr));
    }
    if let Some(t) = stdout.lines().rev().find_map(decode) {
        return Ok((t, stderr));
    }
    // The child died: loom aborts on a deadlock it finds itself.
    if stderr.contains("deadlock") {
        let mut t = Tally {
            executions: 1,
            ..Tally::default()
        };
        let line = stderr
            .lines()
            .find(|l| l.contains("deadlock"))
            .unwrap_or("deadlock")
            .trim()
            .to_string();
        t.kinds.insert(
            FindingKind::Deadlock,
            (
                1,
                [(format!("{engine} reports: {line}"), 1)]
                    .into_iter()
                    .collect(),
            ),
        );
        t.notes.push(format!(
            "{engine} stopped at its first deadlock (the process aborted)"
        ));
        return Ok((t, stderr));
    }
    let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "the {engine} engine failed ({}): {}",
        status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "killed".into()),
        tail.join(" | ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_survives_the_wire() {
        let mut t = Tally {
            executions: 7,
            complete: true,
            elapsed: Duration::from_millis(12),
            notes: vec!["a note".into()],
            ..Tally::default()
        };
        t.kinds.insert(
            FindingKind::Deadlock,
            (3, [("deadlock: x".to_string(), 3)].into_iter().collect()),
        );
        t.outcomes
            .insert(vec![Value::Int(-4), Value::Bool(true), Value::None], 4);
        t.schedules.insert(FindingKind::Deadlock, "91011".into());
        let back = decode(&encode(&t)).unwrap();
        assert_eq!(back.executions, 7);
        assert!(back.complete);
        assert_eq!(back.kinds, t.kinds);
        assert_eq!(back.outcomes, t.outcomes);
        assert_eq!(back.schedules, t.schedules);
        assert_eq!(back.notes, t.notes);
        assert_eq!(back.elapsed, Duration::from_millis(12));
    }
}
