//! `simrace explain`: one finding told step by step in plain words, for a student.
//!
//! The finding's schedule is replayed; each step becomes a numbered sentence with the
//! line it runs (`1. worker[0] reads counter and sees 0 (line 13: tmp = counter).`), and
//! the story ends with why the last state is a bug: the accesses of a data race and why
//! nothing orders them, who holds what and who waits for whom in a deadlock, and for a
//! failed assertion the values it saw and any update that another thread's write
//! overwrote (a lost update).

use crate::detect::waitfor::WaitFor;
use crate::frontend::ast::VarClass;
use crate::ir::FindingKind;
use crate::ir::Program;
use crate::machine::{Choice, Event, Failure, State};
use crate::report::{FindingReport, RunReport};
use crate::search::{Replay, parse_schedule, replay};
use std::fmt::Write as _;

/// The text of line `line` of the scenario file, trimmed.
fn source_line(prog: &Program, line: u32) -> &str {
    (line as usize)
        .checked_sub(1)
        .and_then(|i| prog.source.lines().nth(i))
        .map(str::trim)
        .unwrap_or("")
}

/// ` (line 13: tmp = counter)`, or nothing for a line that is not code.
fn at_line(prog: &Program, line: u32) -> String {
    let src = source_line(prog, line);
    if line == 0 || src.is_empty() || src.contains("\"\"\"") {
        String::new()
    } else {
        format!(" (line {line}: {src})")
    }
}

/// A step's trace text (`read counter = 0`) as a phrase (`reads counter and sees 0`).
pub fn phrase(op: &str) -> String {
    // A step inside a function call: the phrase of the step, then the call.
    if let Some(i) = op.rfind(" (in ")
        && op.ends_with(')')
    {
        return format!("{} (in {}", phrase(&op[..i]), &op[i + 5..]);
    }
    if let Some(rest) = op.strip_prefix("read ")
        && let Some((name, v)) = rest.split_once(" = ")
    {
        return format!("reads {name} and sees {v}");
    }
    if let Some(rest) = op.strip_prefix("write ")
        && let Some((name, v)) = rest.split_once(" = ")
    {
        return format!("writes {v} to {name}");
    }
    if op == "end" {
        return "finishes".into();
    }
    if let Some(rest) = op.strip_prefix("acquire ")
        && !rest.contains(' ')
    {
        return format!("takes {rest}");
    }
    if let Some(rest) = op.strip_prefix("choose(")
        && let Some((_, v)) = rest.split_once(") = ")
    {
        return format!("picks the value {v} ({op})");
    }
    if let Some(rest) = op.strip_prefix("atomic {") {
        return format!(
            "runs its atomic block in one go: {}",
            rest.trim_end_matches('}').trim()
        );
    }
    let (verb, rest) = op.split_once(' ').unwrap_or((op, ""));
    let verb3 = match verb {
        "acquire" => "acquires",
        "release" => "releases",
        "wait" => "waits on",
        "notify" => "notifies",
        "notify_all" => "notifies all of",
        "set" => "sets",
        "clear" => "clears",
        "put" => "puts",
        "get" => "gets",
        "join" => "joins",
        "start" => "starts",
        "task_done" => "marks a task done on",
        "sleep" => "sleeps",
        "work" => "works",
        _ => return format!("does `{op}`"),
    };
    if rest.is_empty() {
        verb3.to_string()
    } else {
        format!("{verb3} {rest}")
    }
}

fn names_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [a] => a.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Explains finding number `index` (0-based, in report order) of `rep`, a report of
/// `prog`. Fails when there is no such finding or its schedule does not replay.
pub fn explain(prog: &Program, rep: &RunReport, index: usize) -> Result<String, String> {
    let Some(f) = rep.findings.get(index) else {
        return Err(no_such_finding(prog, rep, index));
    };
    let schedule = parse_schedule(&f.schedule)?;
    let r = replay(prog, &schedule)?;
    let mut out = String::new();
    headline(&mut out, prog, f);
    let _ = writeln!(out);
    intro(&mut out, prog);
    let _ = writeln!(out);
    let failures = step_failures(prog, &schedule);
    steps(&mut out, prog, &r, &failures);
    let _ = writeln!(out);
    let _ = writeln!(out, "Why this is a bug:");
    match FindingKind::parse(f.kind) {
        Some(FindingKind::DataRace) => why_race(&mut out, prog, f),
        Some(FindingKind::Deadlock) | Some(FindingKind::Livelock) => {
            why_stuck(&mut out, prog, f, &r)
        }
        _ => {
            // A finding's schedule ends where it was found: its failure is the last
            // step's (another thread may have failed before), or the one before the
            // first step; none for a `[final]` assertion.
            let failure = match failures.last() {
                Some(f) => f.clone(),
                None => r.failure.as_ref().map(|(_, f)| f.clone()),
            };
            why_failure(&mut out, prog, f, &r, failure)
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Replay it: simrace replay {} --schedule {}",
        rep.file, f.schedule
    );
    let _ = writeln!(out, "Play it yourself: simrace step {}", rep.file);
    if !prog.description.trim().is_empty() {
        let _ = writeln!(out, "About this scenario: {}", prog.description.trim());
    }
    Ok(out)
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
fn headline(out: &mut String, prog: &Program, f: &FindingReport) {
    let what = match FindingKind::parse(f.kind) {
        Some(FindingKind::Assertion) => "an assertion fails",
        Some(FindingKind::DataRace) => "a data race",
        Some(FindingKind::Deadlock) => "a deadlock",
        Some(FindingKind::Error) => "an error",
        Some(FindingKind::Livelock) => "a livelock",
        None => "a finding",
    };
    let _ = writeln!(out, "{} ({}): {what}, step by step", prog.name, prog.path);
    if f.message.starts_with(&format!("{}:", f.kind)) {
        let _ = writeln!(out, "simrace found: {}", f.message);
    } else {
        let _ = writeln!(out, "simrace found: {}: {}", f.kind, f.message);
    }
}

/// The replayed steps, numbered, each in words with where it is and what it printed.
fn steps(out: &mut String, prog: &Program, r: &Replay, failures: &[Option<Failure>]) {
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
        for p in &s.output {
            let _ = writeln!(out, "   It prints: {p}");
        }
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
    if !later.is_empty() {
        let _ = write!(out, " ({} start later)", names_list(&later));
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

fn why_race(out: &mut String, prog: &Program, f: &FindingReport) {
    let Some(race) = &f.race else {
        let _ = writeln!(out, "{}", f.message);
        return;
    };
    let (a, b) = (&race.first, &race.second);
    let verb = |acc: &str| if acc == "write" { "writes" } else { "reads" };
    let _ = writeln!(
        out,
        "At step {}, {} {} {}{}; at step {}, {} {} {}{}.",
        a.step,
        a.thread,
        verb(a.access),
        race.variable,
        at_line(prog, a.line),
        b.step,
        b.thread,
        verb(b.access),
        race.variable,
        at_line(prog, b.line)
    );
    let _ = writeln!(
        out,
        "Nothing orders these two accesses: between them, no lock, event, queue, join or other \
         synchronization passes from {} to {}. So they could just as well happen the other way \
         round, or at the same time on a real machine, and at least one of them is a write. \
         That is a data race: the result depends on timing.",
        a.thread, b.thread
    );
    let _ = writeln!(
        out,
        "To fix it, make every access to {} happen under one lock, or hand the value over \
         with an Event, a Queue or an atomic.",
        race.variable
    );
}

/// Writes that overwrote another thread's write to the same cell that the writer had not
/// seen (it read the cell before that write): the lost updates of the execution.
fn lost_updates(prog: &Program, r: &Replay) -> Vec<String> {
    // (step, thread, cell, write, value)
    let mut acc = vec![];
    for (i, s) in r.steps.iter().enumerate() {
        for e in &s.events {
            if let Event::Access {
                cell, write, value, ..
            } = e
            {
                acc.push((i + 1, s.thread, *cell, *write, *value));
            }
        }
    }
    let mut out = vec![];
    for (j, &(sj, b, cell, w, v2)) in acc.iter().enumerate() {
        if !w {
            continue;
        }
        // b's last read of the cell before this write.
        let Some(ri) = acc[..j]
            .iter()
            .rposition(|x| x.1 == b && x.2 == cell && !x.3)
        else {
            continue;
        };
        // b must not have written the cell since that read.
        if acc[ri + 1..j]
            .iter()
            .any(|x| x.1 == b && x.2 == cell && x.3)
        {
            continue;
        }
        if let Some(&(sk, a, _, _, v1)) = acc[ri + 1..j]
            .iter()
            .rev()
            .find(|x| x.1 != b && x.2 == cell && x.3)
        {
            let (an, bn) = (
                &prog.threads[a as usize].name,
                &prog.threads[b as usize].name,
            );
            let name = prog.cell_name(cell);
            out.push(format!(
                "{bn}'s write of {v2} to {name} (step {sj}) overwrote {an}'s write of {v1} (step {sk}): \
                 {bn} had read {name} at step {}, before {an} wrote it, so {an}'s update is lost.",
                acc[ri].0
            ));
        }
    }
    out
}

/// The reads that could not see a process's write, because the process wrote its own
/// copy of memory (SCENARIO.md: a process works on a copy of `[shared]`, `[atomics]` and
/// `[ghost]`): each said once per writer, reader and variable. `final_reads`: a failed
/// `[final]` assertion read the main program's copy after the trace.
fn lost_to_copies(prog: &Program, r: &Replay, final_reads: bool) -> Vec<String> {
    // (step, thread, address, write, value)
    let mut acc = vec![];
    for (i, s) in r.steps.iter().enumerate() {
        for e in &s.events {
            if let Event::Access {
                cell, write, value, ..
            } = e
            {
                acc.push((i + 1, s.thread, *cell, *write, *value));
            }
        }
    }
    let why = "a process works on a copy of the [shared] and [atomics] variables, taken when it starts, and never sees another party's copy";
    let mut out: Vec<String> = vec![];
    for (j, &(sw, a, addr, write, v)) in acc.iter().enumerate() {
        let (mem, cell) = prog.locate(addr);
        if !write || mem == 0 || mem == prog.memories || !prog.threads[a as usize].process {
            continue;
        }
        let (an, name) = (&prog.threads[a as usize].name, prog.cell_name(addr));
        let reads = acc[j + 1..]
            .iter()
            .filter(|x| !x.3 && x.1 != a && prog.locate(x.2).1 == cell);
        let mut said = false;
        for &(sr, b, raddr, _, seen) in reads {
            if prog.locate(raddr).0 == mem {
                continue;
            }
            let bn = &prog.threads[b as usize].name;
            let line = format!(
                "{bn} reads {name} at step {sr} and sees {seen}, not the {v} that {an} wrote at step {sw}: {an} is a process and wrote its own copy; {why}. Hand the value back through a Queue, a Pipe, a Value or Array, or a Manager."
            );
            said = true;
            if !out.contains(&line) {
                out.push(line);
            }
            break;
        }
        if !said && final_reads {
            let line = format!(
                "{an} wrote {v} to {name} at step {sw}, but in its own copy: the [final] checks read the main program's copy; {why}. Hand the value back through a Queue, a Pipe, a Value or Array, or a Manager."
            );
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out
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

fn why_failure(
    out: &mut String,
    prog: &Program,
    f: &FindingReport,
    r: &Replay,
    failure: Option<Failure>,
) {
    for l in lost_updates(prog, r) {
        let _ = writeln!(out, "{l}");
    }
    for l in lost_to_copies(prog, r, failure.is_none()) {
        let _ = writeln!(out, "{l}");
    }
    match &failure {
        Some(fl) => {
            let who = fl
                .thread
                .map(|t| prog.threads[t as usize].name.clone())
                .unwrap_or_default();
            if fl.kind == FindingKind::Assertion && !who.is_empty() {
                let _ = writeln!(
                    out,
                    "Then {who}'s assertion{} fails: {}.",
                    at_line(prog, fl.line),
                    fl.message
                );
            } else if fl.kind == FindingKind::Assertion {
                let _ = writeln!(
                    out,
                    "In this state the check at line {} fails: {}.",
                    fl.line, fl.message
                );
            } else if !who.is_empty() {
                let _ = writeln!(
                    out,
                    "Then {who}{} fails with {}: Python would raise an exception here, \
                     and the thread would stop.",
                    at_line(prog, fl.line),
                    fl.message
                );
            } else {
                let _ = writeln!(out, "{}.", fl.message);
            }
        }
        None => {
            // A [final] assertion: every thread has finished.
            let s = &r.state;
            let vals: Vec<String> = prog
                .observe
                .iter()
                .map(|(n, c)| format!("{n} is {}", s.cells[*c as usize]))
                .collect();
            let end = match s.check_final(prog) {
                Some(fl) => fl.message,
                None => f.message.clone(),
            };
            if vals.is_empty() {
                let _ = writeln!(out, "When every thread has finished, {end}.");
            } else {
                let _ = writeln!(
                    out,
                    "When every thread has finished, {}; so the {end}.",
                    names_list(&vals)
                );
            }
        }
    }
}

fn why_stuck(out: &mut String, prog: &Program, f: &FindingReport, r: &Replay) {
    let wf = WaitFor::of(prog, &r.state);
    if wf.threads.is_empty() {
        let _ = writeln!(out, "{}", f.message);
        return;
    }
    let name = |t: u32| prog.threads[t as usize].name.clone();
    if f.kind == "livelock" {
        let _ = writeln!(out, "Now no thread can make progress:");
    } else {
        let _ = writeln!(out, "Now no thread can move:");
    }
    for s in &wf.threads {
        let holds = if s.holds.is_empty() {
            String::new()
        } else {
            format!(", holding {},", names_list(&s.holds))
        };
        let _ = writeln!(
            out,
            "- {}{holds} {}{}.",
            name(s.thread),
            s.why,
            at_line(prog, s.line)
        );
    }
    if f.kind == "livelock" {
        let _ = writeln!(
            out,
            "Every unfinished thread loops on values that no thread will change again: they \
             run forever without getting anywhere. That is a livelock."
        );
        return;
    }
    match wf.cycle.as_slice() {
        [] => {
            let _ = writeln!(
                out,
                "No thread is left that could end these waits, so they wait forever. That is a deadlock."
            );
        }
        [t] => {
            let _ = writeln!(
                out,
                "{} waits for a lock that it holds itself: a Lock is not re-entrant, so it waits \
                 forever. That is a deadlock (an RLock, or not taking the lock twice, avoids it).",
                name(*t)
            );
        }
        ring => {
            let mut parts = vec![];
            for (i, t) in ring.iter().enumerate() {
                parts.push(format!(
                    "{} waits for {}",
                    name(*t),
                    name(ring[(i + 1) % ring.len()])
                ));
            }
            let _ = writeln!(
                out,
                "{}: each waits for the next in a circle, so none of them will ever move. \
                 That is a deadlock. Taking the locks in one global order breaks the circle.",
                names_list(&parts)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::phrase;

    /// A step inside a function call keeps its phrase, and names the call after it.
    #[test]
    fn a_step_in_a_call_names_the_call() {
        assert_eq!(
            phrase("write balance = 5 (in deposit(5) line 21)"),
            "writes 5 to balance (in deposit(5) line 21)"
        );
        assert_eq!(phrase("write balance = 5"), "writes 5 to balance");
    }
}
