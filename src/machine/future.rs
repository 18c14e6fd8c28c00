//! What a party can still do: every place that a step it may still take can touch, and
//! at most how many steps that is, from its state (an over-approximation). The split
//! search (search/split.rs) uses it to see that a task holds no execution of its own: a
//! thread sleeps in it because an earlier task starts with it, and no other party can
//! still take a step that depends on that thread's next step, so the thread never wakes
//! and every execution of the task is an earlier task's (the "blocked" executions of
//! source-DPOR, Abdulla et al., POPL 2014, known ahead instead of met at the end).
//!
//! The party's code is run abstractly from its program counter, with its locals as they
//! are: a value read from shared memory, an object or another party is unknown, a branch
//! on an unknown value goes both ways, and an unknown index touches the whole variable or
//! group. Local instructions are evaluated by the machine's own rules (`eval::pure`). The
//! run visits (pc, locals) pairs: a pair met again on its own path is a loop that may not
//! end (no bound on the steps), and beyond [`MAX_PAIRS`] pairs the future is unknown.
//! What it does not follow (starting or stopping a party, an AsyncResult, a Pool, a Pipe
//! end, a caught failure) may touch anything.

use super::eval::{Ctx, Flow, cell_of, pure, select};
use super::exception::{ExcKind, Res, raise};
use super::footprint::{Footprint, Touch, cell_touch, ends_closed_by, place, static_touch};
use super::objects;
use super::state::{State, Status};
use crate::ir::{
    Group, Instr, ObjId, ObjKind, ObjSel, Operand, Pc, Program, ThreadId, ThreadSel, Value,
};
use std::cell::Cell;
use std::collections::HashMap;
use std::ops::Range;

/// How many (pc, locals) pairs one party's run may visit before its future is unknown.
pub const MAX_PAIRS: usize = 1024;

/// What a party may still touch ([`State::future`]).
#[derive(Debug, Default)]
pub struct Future {
    /// Each place a step may touch, and whether one may write it ([`place`]).
    places: HashMap<Touch, bool>,
    /// A step the run does not follow: it may touch anything.
    anything: bool,
    /// The most steps the party may still take; `None`: no bound known.
    steps: Option<u64>,
}

impl Future {
    /// Whether one of these steps may depend on a step with footprint `fp`.
    pub fn may_touch(&self, fp: &[Touch]) -> bool {
        self.anything
            || fp.iter().any(|x| match x {
                // Not followed: a party's life, a barrier's round, a Pool task.
                Touch::Life { .. } | Touch::Round { .. } | Touch::Task { .. } => true,
                _ => {
                    let (p, w) = place(x);
                    self.places.get(&p).is_some_and(|pw| w || *pw)
                }
            })
    }

    /// At most how many steps the party may still take (`None`: no bound known).
    pub fn steps(&self) -> Option<u64> {
        self.steps
    }

    /// Whether a step may read a cell that `pick` picks.
    pub fn reads_any(&self, pick: &dyn Fn(u32) -> bool) -> bool {
        self.places
            .keys()
            .any(|p| matches!(p, Touch::Cell { cell, .. } if pick(*cell)))
    }

    /// The cells a step may write (`None`: any).
    pub fn writes(&self) -> Option<impl Iterator<Item = u32> + '_> {
        let cells = self.places.iter().filter_map(|(p, w)| match p {
            Touch::Cell { cell, .. } if *w => Some(*cell),
            _ => None,
        });
        (!self.anything).then_some(cells)
    }
}

/// A local in the abstract run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Local {
    Unset,
    Is(Value),
    Unknown,
}

impl State {
    /// What party `t` may still touch, from this state, where the cells that `frozen`
    /// says keep their values (no party that may move can write them) read as they are.
    pub fn future(&self, prog: &Program, t: ThreadId, frozen: &dyn Fn(u32) -> bool) -> Future {
        let th = &self.threads[t as usize];
        let mut future = Future {
            steps: Some(0),
            ..Future::default()
        };
        if matches!(th.status, Status::NotStarted | Status::Finished) {
            // Started only by a `start` step, which a future does not follow.
            return future;
        }
        let c = self.ctx(prog, t);
        if th.dying || th.caught.is_some() || !c.code.catches.is_empty() {
            future.anything = true;
            future.steps = None;
            return future;
        }
        let mut run = Run {
            c,
            known: &|cell| frozen(cell).then(|| self.cells[cell as usize]),
            future: &mut future,
            memo: HashMap::new(),
        };
        let mut fp = Footprint::new();
        // Every way out of the party, a failure too, is its end.
        self.end_touches(prog, t, &mut fp);
        run.add(&fp);
        let locals = th.locals.iter().map(|l| l.map_or(Local::Unset, Local::Is));
        let steps = run.walk(th.pc, locals.collect());
        future.steps = if future.anything { None } else { steps };
        future
    }
}

struct Run<'a, 'f> {
    c: Ctx<'a>,
    /// The value of a cell that keeps its value.
    known: &'f dyn Fn(u32) -> Option<Value>,
    future: &'f mut Future,
    /// The pairs visited: the most steps from each, `None` while on the path (a loop).
    memo: HashMap<(Pc, Vec<Local>), Option<u64>>,
}

/// What an unknown operand gives: an error that is not the party's failure.
fn unknown<T>() -> Res<T> {
    raise(ExcKind::RuntimeError, "unknown in the abstract run")
}

impl Run<'_, '_> {
    fn add(&mut self, fp: &[Touch]) {
        for x in fp {
            let (p, w) = place(x);
            *self.future.places.entry(p).or_insert(false) |= w;
        }
    }

    /// The most steps from `pc` with `locals` (`None`: no bound).
    fn walk(&mut self, pc: Pc, locals: Vec<Local>) -> Option<u64> {
        let key = (pc, locals);
        if let Some(s) = self.memo.get(&key) {
            return *s;
        }
        if self.memo.len() >= MAX_PAIRS {
            self.future.anything = true;
            return None;
        }
        self.memo.insert(key.clone(), None);
        let (pc, mut locals) = key.clone();
        self.failure_exits(pc, &locals);
        let steps = self.visit(pc, &mut locals);
        self.memo.insert(key, steps);
        steps
    }

    /// A failure at `pc` leaves the `with` blocks around it: their releases are steps.
    fn failure_exits(&mut self, pc: Pc, locals: &[Local]) {
        let code = self.c.code;
        for w in code.withs.iter().filter(|w| w.body.contains(&pc)) {
            let mut scratch = locals.to_vec();
            // The exit's step, without going on from it.
            let _ = self.visible(w.exit, &code.instrs[w.exit as usize], &mut scratch);
        }
    }

    /// The value of an operand, `Err` when the party fails there; `known` is cleared
    /// when the operand is unknown.
    fn get(&self, locals: &[Local], o: Operand, known: &Cell<bool>) -> Res<Value> {
        match o {
            Operand::Const(v) => Ok(v),
            Operand::Tid => Ok(Value::Int(self.c.tid)),
            Operand::Local(id) => match locals[id as usize] {
                Local::Is(v) => Ok(v),
                Local::Unset => raise(ExcKind::UnboundLocalError, "unset"),
                Local::Unknown => {
                    known.set(false);
                    unknown()
                }
            },
        }
    }

    fn visit(&mut self, pc: Pc, locals: &mut [Local]) -> Option<u64> {
        let Some(instr) = self.c.code.instrs.get(pc as usize) else {
            return Some(0);
        };
        if instr.is_visible() {
            return match self.visible(pc, instr, locals) {
                Some(next) => Some(1 + self.walk(next, locals.to_vec())?),
                None => Some(1), // its end, or a failure
            };
        }
        let known = Cell::new(true);
        let flow = pure(instr, &|o| self.get(locals, o, &known));
        match flow {
            Some(Ok(Flow::Next(set))) => {
                if let Some((dst, v)) = set {
                    locals[dst as usize] = Local::Is(v);
                }
                self.walk(pc + 1, locals.to_vec())
            }
            Some(Ok(Flow::Jump(to))) => self.walk(to, locals.to_vec()),
            Some(Err(_)) if known.get() => Some(1), // the party fails here (a process dies at a step)
            Some(Err(_)) => self.unknown_local(pc, instr, locals),
            None => self.other_local(pc, instr, locals),
        }
    }

    /// A pure instruction with an unknown operand: a branch goes both ways, a result is
    /// unknown, a check may pass.
    fn unknown_local(&mut self, pc: Pc, instr: &Instr, locals: &mut [Local]) -> Option<u64> {
        match instr {
            Instr::Branch { target, .. } => {
                let taken = self.walk(*target, locals.to_vec());
                let not = self.walk(pc + 1, locals.to_vec());
                Some(taken?.max(not?))
            }
            Instr::Move { dst, .. }
            | Instr::Unary { dst, .. }
            | Instr::Binary { dst, .. }
            | Instr::Compare { dst, .. } => {
                locals[*dst as usize] = Local::Unknown;
                self.walk(pc + 1, locals.to_vec())
            }
            _ => self.walk(pc + 1, locals.to_vec()),
        }
    }

    /// The local instructions that `eval::pure` does not evaluate.
    fn other_local(&mut self, pc: Pc, instr: &Instr, locals: &mut [Local]) -> Option<u64> {
        match instr {
            Instr::GhostRead { dst, .. }
            | Instr::MakeList { dst, .. }
            | Instr::ListItem { dst, .. }
            | Instr::RangeList { dst, .. }
            | Instr::ListLen { dst, .. }
            | Instr::TaskField { dst, .. } => locals[*dst as usize] = Local::Unknown,
            Instr::ClearLocals { from, to } => {
                locals[*from as usize..*to as usize].fill(Local::Unset);
            }
            _ => {} // a ghost write, a loop head, the end of an atomic block
        }
        self.walk(pc + 1, locals.to_vec())
    }

    /// Adds what the step at `pc` touches and sets the locals it assigns; the pc the
    /// party goes on from, or `None` where it ends or fails.
    fn visible(&mut self, pc: Pc, instr: &Instr, locals: &mut [Local]) -> Option<Pc> {
        let c = &self.c;
        let mut fp = Footprint::new();
        for st in &c.code.extra_touches[pc as usize] {
            static_touch(c.prog, c.mem, *st, &mut fp);
        }
        let known = Cell::new(true);
        let index = |i: Option<Operand>| i.map(|o| self.get(locals, o, &known)).transpose();
        let mut next = Some(pc + 1);
        let mut dst = None;
        let fails = match instr {
            Instr::Read {
                dst: d,
                var,
                index: i,
            }
            | Instr::Cas {
                dst: d,
                var,
                index: i,
                ..
            } => {
                let write = matches!(instr, Instr::Cas { .. });
                let (fails, value) = self.cells(*var, index(*i), &known, write, &mut fp);
                match value {
                    Some(v) if !write => locals[*d as usize] = Local::Is(v),
                    _ => dst = Some(*d),
                }
                fails
            }
            Instr::Write { var, index: i, .. } => {
                self.cells(*var, index(*i), &known, true, &mut fp).0
            }
            Instr::Call { dst: d, obj, .. } => {
                dst = *d;
                self.objects(*obj, index(obj.index), &known, &mut fp)
            }
            Instr::Join { thread, .. } => {
                self.threads(*thread, index(thread.index), &known, &mut fp)
            }
            Instr::IsAlive { dst: d, thread } | Instr::ExitCode { dst: d, thread } => {
                dst = Some(*d);
                self.threads(*thread, index(thread.index), &known, &mut fp)
            }
            Instr::Start { .. } | Instr::Terminate { .. } | Instr::Result { .. } => {
                self.future.anything = true;
                false
            }
            Instr::Choose { dst: d, .. } => {
                dst = Some(*d);
                false
            }
            Instr::AtomicBegin { end } => {
                fp.push(Touch::AtomicBlock);
                let body = &c.code.instrs[pc as usize..*end as usize];
                if body.iter().any(|i| matches!(i, Instr::Print { .. })) {
                    fp.push(Touch::Output);
                }
                if body.iter().any(|i| self.unfollowed(i)) {
                    self.future.anything = true;
                }
                // The block runs as one step: what it leaves in the locals is unknown.
                locals.fill(Local::Unknown);
                next = Some(*end);
                false
            }
            Instr::Print { .. } => {
                fp.push(Touch::Output);
                false
            }
            Instr::End => {
                next = None;
                false
            }
            Instr::Sleep { .. } | Instr::Work { .. } => false,
            Instr::Move { .. }
            | Instr::Unary { .. }
            | Instr::Binary { .. }
            | Instr::Compare { .. }
            | Instr::Jump { .. }
            | Instr::Branch { .. }
            | Instr::Assert { .. }
            | Instr::GhostRead { .. }
            | Instr::GhostWrite { .. }
            | Instr::LoopHead { .. }
            | Instr::CheckStep { .. }
            | Instr::MakeList { .. }
            | Instr::ListItem { .. }
            | Instr::RangeList { .. }
            | Instr::ListLen { .. }
            | Instr::TaskField { .. }
            | Instr::ClearLocals { .. }
            | Instr::AtomicEnd => false, // local: not a step
        };
        self.add(&fp);
        if let Some(d) = dst {
            locals[d as usize] = Local::Unknown;
        }
        if fails { None } else { next }
    }

    /// Whether a step of `instr` does what the run does not follow: it starts or stops
    /// a party, or acts on an AsyncResult, a Pipe end or a Pool.
    fn unfollowed(&self, instr: &Instr) -> bool {
        let prog = self.c.prog;
        match instr {
            Instr::Start { .. } | Instr::Terminate { .. } | Instr::Result { .. } => true,
            Instr::Call { obj, .. } => {
                let g = &prog.object_groups[obj.group as usize];
                (g.first..g.first + g.count()).any(|o| unfollowed_object(prog, o))
            }
            _ => false,
        }
    }

    /// Touches `var[index]` (every element when the index is unknown); whether the step
    /// surely fails (a bad index), and the cell's value if it keeps it.
    fn cells(
        &self,
        var: u32,
        index: Res<Option<Value>>,
        known: &Cell<bool>,
        write: bool,
        fp: &mut Footprint,
    ) -> (bool, Option<Value>) {
        let c = &self.c;
        let info = &c.prog.vars[var as usize];
        match index.and_then(|i| cell_of(info, i)) {
            Ok(cell) => {
                let address = c.prog.address(c.mem, cell);
                if write {
                    cell_touch(c.prog, fp, address, false);
                }
                cell_touch(c.prog, fp, address, write);
                (false, (self.known)(address))
            }
            Err(_) if known.get() => (true, None),
            Err(_) => {
                let st = crate::ir::StaticTouch::Var { var, write };
                static_touch(c.prog, c.mem, st, fp);
                (false, None)
            }
        }
    }

    /// Touches the object `sel` names (every one of the group when the index is unknown);
    /// whether the step surely fails.
    fn objects(
        &mut self,
        sel: ObjSel,
        index: Res<Option<Value>>,
        known: &Cell<bool>,
        fp: &mut Footprint,
    ) -> bool {
        let prog = self.c.prog;
        let Some(range) = members(&prog.object_groups[sel.group as usize], index, known) else {
            return true;
        };
        for o in range {
            if unfollowed_object(prog, o) {
                self.future.anything = true;
            } else {
                objects::touch_object(prog, fp, o);
            }
        }
        false
    }

    /// Touches the parties `sel` names; whether the step surely fails.
    fn threads(
        &self,
        sel: ThreadSel,
        index: Res<Option<Value>>,
        known: &Cell<bool>,
        fp: &mut Footprint,
    ) -> bool {
        let g = &self.c.prog.thread_groups[sel.group as usize];
        let Some(range) = members(g, index, known) else {
            return true;
        };
        fp.extend(range.map(Touch::Thread));
        false
    }
}

/// The members of group `g` that `index` names: one, or every one when the index is
/// unknown; `None` when the step surely fails (a bad index).
fn members(g: &Group, index: Res<Option<Value>>, known: &Cell<bool>) -> Option<Range<u32>> {
    match index.and_then(|i| select(&g.name, g.first, g.len, i)) {
        Ok((from, to)) => Some(from..to),
        Err(_) if known.get() => None,
        Err(_) => Some(g.first..g.first + g.count()),
    }
}

/// Whether the run does not follow what an operation on object `o` does (a Pipe end's
/// peer, a Pool's tasks and workers).
fn unfollowed_object(prog: &Program, o: ObjId) -> bool {
    matches!(
        prog.objects[o as usize].kind,
        ObjKind::Connection { .. } | ObjKind::Pool { .. }
    )
}

impl State {
    /// What the end of party `t` touches (its `End` step, or its failure).
    fn end_touches(&self, prog: &Program, t: ThreadId, fp: &mut Footprint) {
        fp.push(Touch::Thread(t));
        ends_closed_by(prog, t, fp);
        self.daemon_stops(t, fp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(text: &str) -> Program {
        let sc = crate::frontend::scenario::parse_scenario("future.toml", text).unwrap();
        crate::frontend::lower::lower(&sc).unwrap()
    }

    fn cell(p: &Program, var: usize, i: u32, write: bool) -> Touch {
        Touch::Cell {
            cell: p.vars[var].first_cell + i,
            write,
        }
    }

    /// A thread's future follows its own `tid` and locals: lastzero's `a[tid + 1] =
    /// a[tid] + 1` reads one cell and writes the next, in three steps with its end.
    #[test]
    fn a_future_knows_the_cells_its_indices_name() {
        let p = program(
            "[atomics]\na = [0, 0, 0]\n[[thread]]\nname = \"w\"\ncount = 2\ncode = \"a[tid + 1] = a[tid] + 1\"\n",
        );
        let (s, _) = State::initial(&p);
        let f = s.future(&p, 1, &|_| false);
        assert_eq!(f.steps(), Some(3));
        assert!(f.may_touch(&[cell(&p, 0, 1, true)]), "it reads a[1]");
        assert!(f.may_touch(&[cell(&p, 0, 2, false)]), "it writes a[2]");
        assert!(!f.may_touch(&[cell(&p, 0, 1, false)]), "it only reads a[1]");
        assert!(!f.may_touch(&[cell(&p, 0, 0, true)]), "a[0] is the other's");
        assert!(f.may_touch(&[Touch::Thread(1)]), "its end");
        assert!(!f.may_touch(&[Touch::Thread(0)]));
    }

    /// A loop over a range is bounded; one that may turn forever is not; an index read
    /// from memory may name any element.
    #[test]
    fn a_future_bounds_loops_that_end_and_no_others() {
        let text = |code: &str| {
            format!(
                "[shared]\nx = 0\na = [0, 0, 0]\n[[thread]]\nname = \"t\"\ncode = \"\"\"\n{code}\n\"\"\"\n"
            )
        };
        let steps = |code: &str| {
            let p = program(&text(code));
            State::initial(&p).0.future(&p, 0, &|_| false).steps()
        };
        assert_eq!(steps("for i in range(3):\n    x += 1"), Some(7));
        assert_eq!(steps("while True:\n    x += 1"), None);
        assert_eq!(steps("while x == 0:\n    pass"), None);
        let p = program(&text("i = x\na[i] = 1"));
        let f = State::initial(&p).0.future(&p, 0, &|_| false);
        assert!(f.may_touch(&[cell(&p, 1, 2, false)]));
        assert_eq!(f.steps(), Some(3));
    }

    /// A cell that keeps its value reads as it is: a scan down to the last zero stops at
    /// the first one; without it, the scan may read every element, down to the
    /// IndexError below the first.
    #[test]
    fn a_frozen_cell_reads_as_it_is() {
        let p = program(
            "[atomics]\na = [0, 0, 1]\n[[thread]]\nname = \"scan\"\ncode = \"\"\"\ni = 2\nwhile a[i] != 0:\n    i -= 1\n\"\"\"\n",
        );
        let s = State::initial(&p).0;
        let frozen = s.future(&p, 0, &|_| true);
        assert_eq!(frozen.steps(), Some(3), "a[2], a[1], the end");
        assert!(!frozen.may_touch(&[cell(&p, 0, 0, true)]));
        let free = s.future(&p, 0, &|_| false);
        assert!(free.may_touch(&[cell(&p, 0, 0, true)]));
        assert_eq!(
            free.steps(),
            Some(7),
            "a[2] down to a[-3], the IndexError at a[-4]"
        );
    }

    /// A run longer than [`MAX_PAIRS`] pairs gives up (the future may touch anything), in
    /// a test thread's stack: the run recurses once per pair.
    #[test]
    fn a_long_run_gives_up() {
        let p = program(
            "[shared]\nx = 0\ny = 0\n[[thread]]\nname = \"t\"\ncode = \"\"\"\nfor i in range(5000):\n    x += 1\n\"\"\"\n",
        );
        let f = State::initial(&p).0.future(&p, 0, &|_| false);
        assert_eq!(f.steps(), None);
        assert!(f.may_touch(&[cell(&p, 1, 0, false)]));
    }

    /// What the run does not follow may touch anything: starting a party.
    #[test]
    fn a_start_may_touch_anything() {
        let p = program(
            "[shared]\nx = 0\ny = 0\n[[thread]]\nname = \"main\"\ncode = \"w.start()\"\n[[thread]]\nname = \"w\"\nstart = false\ncode = \"x = 1\"\n",
        );
        let f = State::initial(&p).0.future(&p, 0, &|_| false);
        assert!(f.may_touch(&[cell(&p, 1, 0, false)]));
        assert_eq!(f.steps(), None);
        assert!(f.writes().is_none());
    }
}
