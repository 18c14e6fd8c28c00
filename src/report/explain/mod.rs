//! `simrace explain`: one finding told step by step in plain words, for a student.
//!
//! The finding's schedule is replayed; each step becomes a numbered sentence with the
//! line it runs (`1. worker[0] reads counter and sees 0 (line 13: tmp = counter).`), and
//! the story ends with why the last state is a bug (`why.rs`): the accesses of a data
//! race and why nothing orders them (even under CPython's GIL), who holds what and who
//! waits for whom in a deadlock, what a queue still holds when its `join()` never
//! returns, and for a failed assertion the values it saw, any update that another
//! thread's write overwrote (a lost update), and a condition that changed between a
//! wake-up and the lock's return.
//!
//! `explain --hint N` tells the same in steps, for a student who wants to find it
//! alone: 1. where to look (`look.rs`: the lines and names involved), 2. what goes wrong
//! (the why, without the schedule), 3. the schedule, step by step (the full answer).

mod look;
mod phrase;
mod why;

pub use phrase::phrase;

use crate::frontend::ast::VarClass;
use crate::ir::FindingKind;
use crate::ir::Program;
use crate::machine::{Choice, Failure, State};
use crate::report::{FindingReport, RunReport};
use crate::search::{Replay, parse_schedule, replay};
use std::fmt::Write as _;

/// How many hints `explain --hint N` has: where to look, what goes wrong, the schedule.
pub const HINTS: u8 = 3;

/// ` (line 13: tmp = counter)`, or nothing for a line that is not code. The padding
/// before a trailing comment is cut to two spaces; a step at an object's declaration
/// (a Pool's worker taking a task) says so.
fn at_line(prog: &Program, line: u32) -> String {
    let src = prog.source_line(line);
    if line == 0 || src.is_empty() || src.contains("\"\"\"") {
        return String::new();
    }
    if let Some((name, value)) = src.split_once(" = ")
        && value.starts_with('{')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return format!(" (line {line}, where {name} is declared)");
    }
    let src = match src.split_once("  #") {
        Some((code, comment)) => format!("{}  #{comment}", code.trim_end()),
        None => src.to_string(),
    };
    format!(" (line {line}: {src})")
}

fn names_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [a] => a.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// One finding with its replayed schedule: what every part of the explanation reads.
struct Story<'a> {
    prog: &'a Program,
    file: &'a str,
    /// The run's step limit where it is not the scenario's own.
    max_steps: Option<u64>,
    finding: &'a FindingReport,
    replay: Replay,
    /// The failure each step caused, if any.
    failures: Vec<Option<Failure>>,
}

impl<'a> Story<'a> {
    fn of(prog: &'a Program, rep: &'a RunReport, index: usize) -> Result<Story<'a>, String> {
        let Some(finding) = rep.findings.get(index) else {
            return Err(no_such_finding(prog, rep, index));
        };
        let schedule = parse_schedule(&finding.schedule)?;
        Ok(Story {
            prog,
            file: &rep.file,
            max_steps: rep.max_steps,
            finding,
            replay: replay(prog, &schedule)?,
            failures: step_failures(prog, &schedule),
        })
    }

    fn kind(&self) -> Option<FindingKind> {
        FindingKind::parse(self.finding.kind)
    }

    /// The finding's own failure: the last step's (another thread may have failed
    /// before), or the one before the first step; none for a `[final]` assertion, a
    /// race, a deadlock or a livelock.
    fn failure(&self) -> Option<Failure> {
        match self.failures.iter().rev().flatten().next() {
            Some(f) => Some(f.clone()),
            None => self.replay.failure.as_ref().map(|(_, f)| f.clone()),
        }
    }

    fn thread_name(&self, t: u32) -> &str {
        &self.prog.threads[t as usize].name
    }
}

/// Explains finding number `index` (0-based, in report order) of `rep`, a report of
/// `prog`: the whole story. Fails when there is no such finding or its schedule does not
/// replay.
pub fn explain(prog: &Program, rep: &RunReport, index: usize) -> Result<String, String> {
    let story = Story::of(prog, rep, index)?;
    let mut out = String::new();
    headline(&mut out, &story, ", step by step");
    let _ = writeln!(out);
    full_answer(&mut out, &story);
    Ok(out)
}

/// The first `level` hints (1 to [`HINTS`]) for finding number `index`: where to look,
/// then what goes wrong, then the schedule. Each ends by naming the next.
pub fn hints(prog: &Program, rep: &RunReport, index: usize, level: u8) -> Result<String, String> {
    if level == 0 || level > HINTS {
        return Err(format!("--hint is 1 to {HINTS}, not {level}"));
    }
    let story = Story::of(prog, rep, index)?;
    let mut out = String::new();
    headline(&mut out, &story, ", in hints");
    let _ = writeln!(out);
    let _ = writeln!(out, "Hint 1 of {HINTS}: where to look.");
    for l in look::where_to_look(&story) {
        let _ = writeln!(out, "{l}");
    }
    if level >= 2 {
        let _ = writeln!(out);
        let _ = writeln!(out, "Hint 2 of {HINTS}: what goes wrong.");
        why::why(&mut out, &story, false);
    }
    if level >= 3 {
        let _ = writeln!(out);
        let _ = writeln!(out, "Hint 3 of {HINTS}: the schedule, step by step.");
        full_answer(&mut out, &story);
    } else {
        let _ = writeln!(out);
        let next = ["", "what goes wrong", "the schedule that shows it"][level as usize];
        let _ = writeln!(
            out,
            "Next hint ({next}): simrace explain {} --finding {} --hint {}",
            story.file,
            index + 1,
            level + 1
        );
    }
    Ok(out)
}

/// The schedule told step by step, why it is a bug, and how to replay it.
fn full_answer(out: &mut String, story: &Story) {
    intro(out, story.prog);
    let _ = writeln!(out);
    steps(out, story);
    let _ = writeln!(out);
    let _ = writeln!(out, "Why this is a bug:");
    why::why(out, story, true);
    let _ = writeln!(out);
    let replay =
        crate::report::replay_command(story.file, &story.finding.schedule, story.max_steps);
    let _ = writeln!(out, "Replay it: {replay}");
    let _ = writeln!(out, "Play it yourself: simrace step {}", story.file);
    if !story.prog.description.trim().is_empty() {
        let _ = writeln!(
            out,
            "About this scenario: {}",
            story.prog.description.trim()
        );
    }
}

/// Why finding number `index` (0-based) cannot be explained.
fn no_such_finding(prog: &Program, rep: &RunReport, index: usize) -> String {
    if rep.findings.is_empty() {
        format!(
            "{}: nothing to explain: no explored execution fails",
            prog.name
        )
    } else {
        format!(
            "{}: there is no finding {} (there are {})",
            prog.name,
            index + 1,
            rep.findings.len()
        )
    }
}

/// The first two lines: the scenario, what kind of bug, and what simrace found.
fn headline(out: &mut String, story: &Story, how: &str) {
    let (prog, f) = (story.prog, story.finding);
    let what = match FindingKind::parse(f.kind) {
        Some(FindingKind::Assertion) => "an assertion fails",
        Some(FindingKind::DataRace) => "a data race",
        Some(FindingKind::Deadlock) => "a deadlock",
        Some(FindingKind::Error) => "an error",
        Some(FindingKind::Livelock) => "a livelock",
        None => "a finding",
    };
    let _ = writeln!(out, "{} ({}): {what}{how}", prog.name, prog.path);
    if f.message.starts_with(&format!("{}:", f.kind)) {
        let _ = writeln!(out, "simrace found: {}", f.message);
    } else {
        let _ = writeln!(out, "simrace found: {}: {}", f.kind, f.message);
    }
}

/// The replayed steps, numbered, each in words with where it is and what it printed.
fn steps(out: &mut String, story: &Story) {
    let (prog, r, failures) = (story.prog, &story.replay, &story.failures);
    for (i, s) in r.steps.iter().enumerate() {
        let who = &prog.threads[s.thread as usize].name;
        let ctx = if s.op == "end" {
            String::new()
        } else {
            at_line(prog, s.line)
        };
        let failed = failures.get(i).cloned().flatten();
        let what = match (&failed, s.op.is_empty()) {
            (Some(f), true) => format!("fails with {}", f.message),
            (Some(f), false) => format!("{}, and fails with {}", phrase(&s.op), f.message),
            (None, _) => phrase(&s.op),
        };
        let _ = writeln!(out, "{}. {who} {what}{ctx}.", i + 1);
    }
    if r.steps.is_empty() {
        let _ = writeln!(out, "(It goes wrong before any thread takes a step.)");
    }
}

/// Who takes part and what the shared state is at the start.
fn intro(out: &mut String, prog: &Program) {
    let started: Vec<String> = prog
        .threads
        .iter()
        .filter(|t| t.start)
        .map(|t| t.name.clone())
        .collect();
    let later: Vec<String> = prog
        .threads
        .iter()
        .filter(|t| !t.start)
        .map(|t| t.name.clone())
        .collect();
    if started.len() == 1 {
        let _ = write!(out, "The thread {} runs", names_list(&started));
    } else {
        let _ = write!(out, "The threads {} run side by side", names_list(&started));
    }
    match later.len() {
        0 => {}
        1 => {
            let _ = write!(out, " ({} starts later)", names_list(&later));
        }
        _ => {
            let _ = write!(out, " ({} start later)", names_list(&later));
        }
    }
    let _ = writeln!(out, ".");
    let vals: Vec<String> = prog
        .vars
        .iter()
        .filter(|v| v.class != VarClass::Ghost)
        .map(|v| match v.len {
            None => format!("{} = {}", v.name, v.init[0]),
            Some(_) => format!(
                "{} = [{}]",
                v.name,
                v.init
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
        .collect();
    if !vals.is_empty() {
        let _ = writeln!(out, "At the start, {}.", names_list(&vals));
    }
    let objs: Vec<String> = prog
        .objects
        .iter()
        .filter(|o| !o.name.ends_with(".lock"))
        .map(|o| o.name.clone())
        .collect();
    if !objs.is_empty() {
        let _ = writeln!(
            out,
            "They share {} {}.",
            if objs.len() == 1 {
                "the object"
            } else {
                "the objects"
            },
            names_list(&objs)
        );
    }
    let _ = writeln!(
        out,
        "A step is one read or write of a shared variable, or one operation on an object; \
         the scheduler may switch threads between any two steps. Here is one order that goes wrong:"
    );
}

/// The failure each step of `schedule` causes, if any (as [`replay`] runs it: a thread
/// that fails stops, the others go on).
pub fn step_failures(prog: &Program, schedule: &[Choice]) -> Vec<Option<Failure>> {
    let (mut state, _) = State::initial(prog);
    let mut out = vec![];
    for c in schedule {
        if state.alternatives(prog, c.thread) <= c.alt {
            break;
        }
        let f = state.step(prog, *c, false).failure;
        out.push(f);
    }
    out
}
