//! The wait-for graph of a stuck state: for every started, unfinished thread, the line it
//! is stuck at, what it waits for, who could end the wait (holds what it needs), what it
//! holds itself, and the cycle of threads waiting on each other, if there is one.
//!
//! It is what the HTML report draws, `simrace explain` tells and `simrace step` shows
//! when a deadlock is reached. [`WaitFor::to_json`] gives it in the shape of a finding's
//! `deadlock` field:
//!
//! ```json
//! {"threads": [{"thread": "t1", "line": 14, "waits_for": "lock b", "held_by": ["t2"],
//!               "holds": ["a"], "why": "waits to acquire b, held by t2"}],
//!  "cycle": ["t1", "t2"]}
//! ```

use crate::ast::Value;
use crate::ir::{Instr, ObjId, ObjKind, Op, Operand, Program, ThreadId};
use crate::machine::{Loc, State, Status};

/// One stuck thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stuck {
    pub thread: ThreadId,
    /// The scenario-file line it is stuck at.
    pub line: u32,
    /// What it waits for, in a few words: `lock b`, `event ev`, `thread t2`.
    pub waits_for: String,
    /// The object it waits for (`b`), when it waits for one object.
    pub object: Option<String>,
    /// The threads that hold what it waits for.
    pub held_by: Vec<ThreadId>,
    /// The locks it holds.
    pub holds: Vec<String>,
    /// The machine's sentence: `waits to acquire b, held by t2`.
    pub why: String,
}

/// The wait-for graph of one state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WaitFor {
    pub threads: Vec<Stuck>,
    /// Threads that wait on each other in a ring (each waits for the next, the last for
    /// the first), starting with the lowest-numbered; empty when there is no cycle.
    pub cycle: Vec<ThreadId>,
}

fn kind_word(k: ObjKind) -> &'static str {
    match k {
        ObjKind::Lock | ObjKind::RLock => "lock",
        ObjKind::Condition { .. } => "condition",
        ObjKind::Semaphore { .. } => "semaphore",
        ObjKind::Event => "event",
        ObjKind::Barrier { .. } => "barrier",
        ObjKind::Queue { .. } => "queue",
    }
}

fn lock_of(prog: &Program, o: ObjId) -> ObjId {
    match prog.objects[o as usize].kind {
        ObjKind::Condition { lock } => lock,
        _ => o,
    }
}

fn operand(prog: &Program, state: &State, t: ThreadId, o: Operand) -> Option<i64> {
    let v = match o {
        Operand::Const(v) => v,
        Operand::Tid => Value::Int(prog.threads[t as usize].tid),
        Operand::Local(id) => state.threads[t as usize].locals[id as usize]?,
    };
    match v {
        Value::Int(i) => Some(i),
        Value::Bool(b) => Some(b as i64),
        Value::None => None,
    }
}

fn element(len: Option<u32>, first: u32, index: Option<i64>) -> Option<u32> {
    match (len, index) {
        (None, _) => Some(first),
        (Some(len), Some(i)) => {
            let j = if i < 0 { i + len as i64 } else { i };
            (0..len as i64).contains(&j).then(|| first + j as u32)
        }
        (Some(_), None) => None,
    }
}

/// The object (and what the thread wants of it) that a stuck thread waits for.
fn waited_object(prog: &Program, state: &State, t: ThreadId) -> (Option<ObjId>, String) {
    let th = &state.threads[t as usize];
    let obj_word = |o: ObjId| {
        format!(
            "{} {}",
            kind_word(prog.objects[o as usize].kind),
            prog.objects[o as usize].name
        )
    };
    match &th.status {
        Status::CondWait { cv, .. } => (
            Some(*cv),
            format!("a notify of {}", prog.objects[*cv as usize].name),
        ),
        Status::CondReacquire { cv, .. } => {
            let l = lock_of(prog, *cv);
            (Some(l), obj_word(l))
        }
        Status::EventWait { ev, .. } => (Some(*ev), obj_word(*ev)),
        Status::BarrierWait { bar, .. } => (Some(*bar), obj_word(*bar)),
        Status::SpinBlocked { reads } => {
            let names: Vec<String> = reads
                .iter()
                .map(|l| match l {
                    Loc::Cell(c) => prog.cell_name(*c),
                    Loc::Obj(o) => prog.objects[*o as usize].name.clone(),
                    Loc::Thread(x) => prog.threads[*x as usize].name.clone(),
                })
                .collect();
            (None, format!("a change to {}", names.join(", ")))
        }
        Status::Ready => {
            let code = &prog.threads[t as usize].code;
            match &code.instrs[th.pc as usize] {
                Instr::Call { obj, op, .. } => {
                    let g = &prog.object_groups[obj.group as usize];
                    let idx = obj.index.and_then(|i| operand(prog, state, t, i));
                    let Some(o) = element(g.len, g.first, idx) else {
                        return (None, "an object".into());
                    };
                    let o = match op {
                        Op::Acquire { .. } => lock_of(prog, o),
                        _ => o,
                    };
                    (Some(o), obj_word(o))
                }
                Instr::Join { thread } => {
                    let g = &prog.thread_groups[thread.group as usize];
                    let idx = thread.index.and_then(|i| operand(prog, state, t, i));
                    match (thread.index, element(g.len, g.first, idx)) {
                        (Some(_), Some(x)) => {
                            (None, format!("thread {}", prog.threads[x as usize].name))
                        }
                        _ => (None, format!("thread {}", g.name)),
                    }
                }
                _ => (None, "something".into()),
            }
        }
        Status::NotStarted | Status::Finished => (None, String::new()),
    }
}

impl WaitFor {
    /// The wait-for graph of `state`: every started, unfinished thread, whether it can
    /// move or not (for a deadlock, none can).
    pub fn of(prog: &Program, state: &State) -> WaitFor {
        let mut threads = vec![];
        for t in state.unfinished() {
            let th = &state.threads[t as usize];
            let code = &prog.threads[t as usize].code;
            let line = code.lines.get(th.pc as usize).copied().unwrap_or(0);
            let (why, held_by) = state.waits_for(prog, t);
            let (obj, waits_for) = waited_object(prog, state, t);
            threads.push(Stuck {
                thread: t,
                line,
                waits_for,
                object: obj.map(|o| prog.objects[o as usize].name.clone()),
                held_by,
                holds: state.held_by(prog, t),
                why,
            });
        }
        let cycle = find_cycle(&threads);
        WaitFor { threads, cycle }
    }

    /// The stuck thread `t`, if it is one.
    pub fn get(&self, t: ThreadId) -> Option<&Stuck> {
        self.threads.iter().find(|s| s.thread == t)
    }

    /// The report's `deadlock` field.
    pub fn to_json(&self, prog: &Program) -> serde_json::Value {
        let name = |t: &ThreadId| prog.threads[*t as usize].name.clone();
        serde_json::json!({
            "threads": self.threads.iter().map(|s| serde_json::json!({
                "thread": name(&s.thread),
                "line": s.line,
                "waits_for": s.waits_for,
                "held_by": s.held_by.iter().map(name).collect::<Vec<_>>(),
                "holds": s.holds,
                "why": s.why,
            })).collect::<Vec<_>>(),
            "cycle": self.cycle.iter().map(name).collect::<Vec<_>>(),
        })
    }
}

/// The first cycle of the graph thread → the threads that hold what it waits for,
/// searching from each thread in order; rotated to start at its lowest thread.
fn find_cycle(threads: &[Stuck]) -> Vec<ThreadId> {
    fn dfs(threads: &[Stuck], t: ThreadId, path: &mut Vec<ThreadId>) -> Option<Vec<ThreadId>> {
        if let Some(i) = path.iter().position(|x| *x == t) {
            return Some(path[i..].to_vec());
        }
        let s = threads.iter().find(|s| s.thread == t)?;
        path.push(t);
        for h in &s.held_by {
            if let Some(c) = dfs(threads, *h, path) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    for s in threads {
        if let Some(mut c) = dfs(threads, s.thread, &mut vec![]) {
            let min = c
                .iter()
                .enumerate()
                .min_by_key(|(_, t)| **t)
                .map(|(i, _)| i);
            c.rotate_left(min.unwrap_or(0));
            return c;
        }
    }
    vec![]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stuck(t: ThreadId, held_by: &[ThreadId]) -> Stuck {
        Stuck {
            thread: t,
            line: 0,
            waits_for: String::new(),
            object: None,
            held_by: held_by.to_vec(),
            holds: vec![],
            why: String::new(),
        }
    }

    #[test]
    fn cycles_are_found_and_rotated() {
        let g = [
            stuck(0, &[]),
            stuck(1, &[2]),
            stuck(2, &[3]),
            stuck(3, &[1]),
        ];
        assert_eq!(find_cycle(&g), vec![1, 2, 3]);
        let g = [stuck(0, &[0])];
        assert_eq!(find_cycle(&g), vec![0]);
        let g = [stuck(0, &[1]), stuck(1, &[])];
        assert_eq!(find_cycle(&g), Vec::<ThreadId>::new());
    }
}
