//! Why the end of a finding's schedule is a bug, for every kind of finding, told with
//! the step numbers of the schedule (the full answer) or without them (hint 2).

use super::{Story, at_line, names_list};
use crate::detect::waitfor::WaitFor;
use crate::ir::{FindingKind, counted};
use crate::machine::{Event, Failure};
use crate::search::Replay;
use std::fmt::Write as _;

/// Writes why the finding is a bug; `steps`: cite the schedule's step numbers.
pub(super) fn why(out: &mut String, story: &Story, steps: bool) {
    match story.kind() {
        Some(FindingKind::DataRace) => race(out, story, steps),
        Some(FindingKind::Deadlock) | Some(FindingKind::Livelock) => stuck(out, story),
        _ => failure(out, story, steps),
    }
}

/// ` (step 5)` when steps are cited.
fn at_step(steps: bool, step: usize) -> String {
    if steps {
        format!(" (step {step})")
    } else {
        String::new()
    }
}

fn race(out: &mut String, story: &Story, steps: bool) {
    let (prog, f) = (story.prog, story.finding);
    let Some(race) = &f.race else {
        let _ = writeln!(out, "{}", f.message);
        return;
    };
    let (a, b) = (&race.first, &race.second);
    let verb = |acc: &str| if acc == "write" { "writes" } else { "reads" };
    let access = |x: &crate::report::AccessReport| {
        let when = if steps {
            format!("at step {}, ", x.step)
        } else {
            String::new()
        };
        format!(
            "{when}{} {} {}{}",
            x.thread,
            verb(x.access),
            race.variable,
            at_line(prog, x.line)
        )
    };
    let first = access(a);
    let mut first = first.chars();
    let capital: String = first
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    let _ = writeln!(out, "{capital}{}, and {}.", first.as_str(), access(b));
    let _ = writeln!(
        out,
        "Nothing orders these two accesses: no lock, event, queue, join or other \
         synchronization passes from {} to {} between them, and at least one of them is a \
         write. That is a data race: which one comes first is up to the scheduler, and the \
         result depends on it.",
        a.thread, b.thread
    );
    let _ = writeln!(
        out,
        "It is a race even under CPython's GIL. The GIL runs one thread at a time, but it \
         may switch threads between any two bytecodes, and it promises nothing about the \
         order of these two accesses; a free-threaded Python (3.13t and later) runs threads \
         in parallel, and there the two accesses can truly overlap."
    );
    let _ = writeln!(
        out,
        "To fix it, make every access to {} happen under one lock, or hand the value over \
         with an Event, a Queue or an atomic.",
        race.variable
    );
}

/// Every shared access of the replay: (step, thread, cell, write, value).
fn accesses(r: &Replay) -> Vec<(usize, u32, u32, bool, crate::ir::Value)> {
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
    acc
}

/// Writes that overwrote another thread's write to the same cell that the writer had not
/// seen (it read the cell before that write): the lost updates of the execution.
fn lost_updates(story: &Story, steps: bool) -> Vec<String> {
    let acc = accesses(&story.replay);
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
            let (an, bn) = (story.thread_name(a), story.thread_name(b));
            let name = story.prog.cell_name(cell);
            let line = if steps {
                format!(
                    "{bn}'s write of {v2} to {name} (step {sj}) overwrote {an}'s write of {v1} (step {sk}): \
                     {bn} had read {name} at step {}, before {an} wrote it, so {an}'s update is lost.",
                    acc[ri].0
                )
            } else {
                format!(
                    "{bn} reads {name} before {an} writes it, then writes its own result over \
                     {an}'s: {an}'s update is lost. Reading a shared value and writing it back \
                     are two steps, and another thread can run between them."
                )
            };
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out
}

/// The reads that could not see a process's write, because the process wrote its own
/// copy of memory (SCENARIO.md: a process works on a copy of `[shared]`, `[atomics]` and
/// `[ghost]`): each said once per writer, reader and variable. `final_reads`: a failed
/// `[final]` assertion read the main program's copy after the trace.
fn lost_to_copies(story: &Story, final_reads: bool, steps: bool) -> Vec<String> {
    let prog = story.prog;
    let acc = accesses(&story.replay);
    let why = "a process works on a copy of the [shared] and [atomics] variables, taken when it starts, and never sees another party's copy";
    let hand = "Hand the value back through a Queue, a Pipe, a Value or Array, or a Manager.";
    let mut out: Vec<String> = vec![];
    for (j, &(sw, a, addr, write, v)) in acc.iter().enumerate() {
        let (mem, cell) = prog.locate(addr);
        if !write || mem == 0 || mem == prog.memories || !prog.threads[a as usize].process {
            continue;
        }
        let (an, name) = (story.thread_name(a), prog.cell_name(addr));
        let wrote = if steps {
            format!(" at step {sw}")
        } else {
            String::new()
        };
        let reads = acc[j + 1..]
            .iter()
            .filter(|x| !x.3 && x.1 != a && prog.locate(x.2).1 == cell);
        let mut said = false;
        for &(sr, b, raddr, _, seen) in reads {
            if prog.locate(raddr).0 == mem {
                continue;
            }
            let bn = story.thread_name(b);
            let read = if steps {
                format!(" at step {sr}")
            } else {
                String::new()
            };
            let line = format!(
                "{bn} reads {name}{read} and sees {seen}, not the {v} that {an} wrote{wrote}: {an} is a process and wrote its own copy; {why}. {hand}"
            );
            said = true;
            if !out.contains(&line) {
                out.push(line);
            }
            break;
        }
        if !said && final_reads {
            let line = format!(
                "{an} wrote {v} to {name}{wrote}, but in its own copy: the [final] checks read the main program's copy; {why}. {hand}"
            );
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out
}

/// A thread that failed after a condition wait: its wait, the notify that woke it, and
/// what other threads changed before it got the lock back. `None` when the failing
/// thread's last wait on a condition is not what went before its failure.
fn changed_after_wakeup(story: &Story, thread: u32, steps: bool) -> Option<String> {
    let r = &story.replay;
    let name = story.thread_name(thread);
    let mine = |i: &usize| r.steps[*i].thread == thread;
    let back = (0..r.steps.len())
        .rev()
        .filter(mine)
        .find(|i| r.steps[*i].op.contains(" (reacquired "))?;
    let waited = (0..back)
        .rev()
        .filter(mine)
        .find(|i| r.steps[*i].op.contains(" (releases "))?;
    let cv = r.steps[waited]
        .op
        .strip_prefix("wait ")?
        .split(' ')
        .next()?;
    let woke = (waited..back).find(|i| {
        let op = &r.steps[*i].op;
        (op.contains(" wakes ") || op.contains(" may wake ")) && op.contains(name)
    });
    let lock = r.steps[back]
        .op
        .split(" (reacquired ")
        .nth(1)?
        .trim_end_matches(')');
    let after = woke.unwrap_or(waited);
    // Per other thread, the names it wrote between the wake-up and the lock's return.
    let mut writers: Vec<(u32, Vec<String>)> = vec![];
    for (s, t, cell, write, _) in accesses(r) {
        if write && t != thread && s > after + 1 && s <= back + 1 {
            let what = format!("{}{}", story.prog.cell_name(cell), at_step(steps, s));
            match writers.iter_mut().find(|(w, _)| *w == t) {
                Some((_, names)) if !names.contains(&what) => names.push(what),
                Some(_) => {}
                None => writers.push((t, vec![what])),
            }
        }
    }
    let changes: Vec<String> = writers
        .iter()
        .map(|(t, names)| format!("{} writes {}", story.thread_name(*t), names_list(names)))
        .collect();
    let wait_line = at_line(story.prog, r.steps[waited].line);
    let woken = match (woke, steps) {
        (Some(w), true) => format!(
            " and is woken by {}'s notify at step {}",
            story.thread_name(r.steps[w].thread),
            w + 1
        ),
        (Some(w), false) => format!(
            " and is woken by {}'s notify",
            story.thread_name(r.steps[w].thread)
        ),
        (None, _) => " and is woken".to_string(),
    };
    let back_at = at_step(steps, back + 1);
    let advice = "A woken thread must check its condition again once it holds the lock: wait in a loop (`while not condition: cv.wait()`), not under an `if`.";
    Some(if changes.is_empty() {
        format!(
            "{name} waits on {cv}{wait_line}{woken}, and gets {lock} back{back_at}. A notify only \
             says that something may have changed; nothing guarantees that the condition {name} \
             waited for holds when its wait returns. {advice}"
        )
    } else {
        format!(
            "{name} waits on {cv}{wait_line}{woken}, but before it gets {lock} back{back_at}, \
             another thread takes the lock first: {}. So the predicate changed before the woken \
             thread got the lock back: the condition {name} waited for no longer holds when its \
             wait returns, and it goes on as if it did. {advice}",
            names_list(&changes)
        )
    })
}

fn failure(out: &mut String, story: &Story, steps: bool) {
    let fl = story.failure();
    for l in lost_updates(story, steps) {
        let _ = writeln!(out, "{l}");
    }
    for l in lost_to_copies(story, fl.is_none(), steps) {
        let _ = writeln!(out, "{l}");
    }
    match &fl {
        Some(fl) => raised(out, story, fl, steps),
        None => final_check(out, story),
    }
}

/// A failure raised by a thread (an assertion or an exception), or by an `[invariant]`.
fn raised(out: &mut String, story: &Story, fl: &Failure, steps: bool) {
    let prog = story.prog;
    let Some(t) = fl.thread else {
        let _ = if fl.kind == FindingKind::Assertion {
            writeln!(
                out,
                "In this state the check at line {} fails: {}.",
                fl.line, fl.message
            )
        } else {
            writeln!(out, "{}.", fl.message)
        };
        return;
    };
    let who = story.thread_name(t);
    if fl.kind == FindingKind::Assertion {
        if let Some(l) = changed_after_wakeup(story, t, steps) {
            let _ = writeln!(out, "{l}");
        }
        let _ = writeln!(
            out,
            "Then {who}'s assertion{} fails: {}.",
            at_line(prog, fl.line),
            fl.message
        );
    } else {
        let _ = writeln!(
            out,
            "Then {who}{} fails with {}: Python would raise an exception here, and the \
             thread would stop.",
            at_line(prog, fl.line),
            fl.message
        );
    }
}

/// A failed `[final]` assertion: every thread has finished.
fn final_check(out: &mut String, story: &Story) {
    let (prog, s) = (story.prog, &story.replay.state);
    let vals: Vec<String> = prog
        .observe
        .iter()
        .map(|(n, c)| format!("{n} is {}", s.cells[*c as usize]))
        .collect();
    let end = match s.check_final(prog) {
        Some(fl) => fl.message,
        None => story.finding.message.clone(),
    };
    if vals.is_empty() {
        let _ = writeln!(out, "When every thread has finished, the {end}.");
    } else {
        let _ = writeln!(
            out,
            "When every thread has finished, {}; so the {end}.",
            names_list(&vals)
        );
    }
}

/// A queue whose `join()` never returns: the items it still holds that no thread will
/// take, or the `task_done()` calls that never come.
fn queue_story(story: &Story, q: &str) -> Option<String> {
    let o = story.prog.objects.iter().position(|x| x.name == q)?;
    let (items, unfinished) = story.replay.state.queue_contents(o as u32)?;
    Some(if items > 0 {
        format!(
            "{q} still holds {} that no worker will take: no thread that could get from {q} is \
             still running, so its {} never marked done, and {q}.join() waits forever.",
            counted(items, "item", "items"),
            counted(
                unfinished as usize,
                "unfinished task is",
                "unfinished tasks are"
            )
        )
    } else {
        format!(
            "Every item put into {q} was taken, but {} never marked done: \
             {q}.join() waits until every item put has had its task_done() call, and no thread \
             will make it. Every get() needs a matching task_done().",
            match unfinished {
                1 => "one of them was".to_string(),
                n => format!("{n} of them were"),
            }
        )
    })
}

fn stuck(out: &mut String, story: &Story) {
    let (prog, f) = (story.prog, story.finding);
    if too_long(story) {
        return ran_past_max_steps(out, story);
    }
    let wf = WaitFor::of(prog, &story.replay.state);
    if wf.threads.is_empty() {
        let _ = writeln!(out, "{}", f.message);
        return;
    }
    let livelock = f.kind == "livelock";
    if livelock {
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
            story.thread_name(s.thread),
            s.why,
            at_line(prog, s.line)
        );
    }
    if livelock {
        let _ = writeln!(
            out,
            "Every unfinished thread loops on values that no thread will change again: they \
             run forever without getting anywhere. That is a livelock."
        );
        return;
    }
    let mut queues: Vec<String> = vec![];
    for s in &wf.threads {
        if let Some(q) = &s.object
            && s.why.contains(".join()")
            && let Some(l) = queue_story(story, q)
            && !queues.contains(&l)
        {
            queues.push(l);
        }
    }
    for l in &queues {
        let _ = writeln!(out, "{l}");
    }
    for s in &wf.threads {
        if let Some(cv) = &s.object
            && s.why.contains("for a notify that never comes")
            && let Some(l) = notify_too_early(story, cv, s.thread)
        {
            let _ = writeln!(out, "{l}");
        }
    }
    cycle(out, story, &wf.cycle);
}

/// A livelock found at `max_steps` (SCENARIO.md: an execution that runs past it): some
/// thread can still move at the end, unlike the livelock of threads that all wait on
/// their spin loops' reads.
pub(super) fn too_long(story: &Story) -> bool {
    story.finding.kind == "livelock" && !story.replay.state.enabled(story.prog).is_empty()
}

/// Who took the steps of an execution cut at `max_steps`, who could still move, and why
/// that is a livelock: nothing made the threads that kept moving wait, and an order that
/// never runs the others is as possible as any.
fn ran_past_max_steps(out: &mut String, story: &Story) {
    let (prog, steps) = (story.prog, &story.replay.steps);
    let _ = writeln!(
        out,
        "The execution ran past max_steps = {} steps without finishing:",
        steps.len()
    );
    let waiting = WaitFor::of(prog, &story.replay.state).threads;
    let movable = story.replay.state.enabled(prog);
    for t in 0..prog.threads.len() as u32 {
        let taken: Vec<_> = steps.iter().filter(|s| s.thread == t).collect();
        let can_move = movable.iter().any(|e| e.0 == t);
        let name = story.thread_name(t);
        let still = if can_move { "; it can still move" } else { "" };
        match taken.last() {
            Some(last) => {
                let n = counted(taken.len(), "step", "steps");
                let at = at_line(prog, last.line);
                let _ = writeln!(out, "- {name} took {n}, the last one{at}{still}.");
            }
            None if can_move => {
                let here = waiting.iter().find(|w| w.thread == t);
                let at = here.map(|w| at_line(prog, w.line)).unwrap_or_default();
                let _ = writeln!(out, "- {name} took none, though it can move{at}.");
            }
            None => {}
        }
    }
    let _ = writeln!(
        out,
        "Nothing made the threads that kept moving wait: the spin-loop rule holds only a loop \
         whose turns change nothing but what they read, and here each turn changes \
         something (a variable it writes, or a local such as a counter). And any order of \
         the steps is possible, even one that never runs a thread that could move. So this \
         execution never ends: it is counted as a livelock. If a loop is meant to wait for \
         another thread, let its turns change nothing else; if threads back off from each \
         other in step, break the symmetry."
    );
}

/// A wait on `cv` that came after the notify meant for it: the notify found no waiter.
fn notify_too_early(story: &Story, cv: &str, waiter: u32) -> Option<String> {
    let early = format!("{cv} (no thread is waiting)");
    let step = story
        .replay
        .steps
        .iter()
        .find(|s| s.thread != waiter && s.op.starts_with("notify") && s.op.ends_with(&early))?;
    Some(format!(
        "{}'s notify of {cv}{} came before {} waited, when no thread was waiting, and a \
         Condition does not remember a notify: the wait that comes after it waits for the next \
         one, which never comes. Check the condition before waiting: \
         `while not condition: {cv}.wait()`.",
        story.thread_name(step.thread),
        at_line(story.prog, step.line),
        story.thread_name(waiter)
    ))
}

/// The last sentence of a deadlock: the cycle, a lock taken twice, or nobody left.
fn cycle(out: &mut String, story: &Story, ring: &[u32]) {
    match ring {
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
                story.thread_name(*t)
            );
        }
        ring => {
            let parts: Vec<String> = ring
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    format!(
                        "{} waits for {}",
                        story.thread_name(*t),
                        story.thread_name(ring[(i + 1) % ring.len()])
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "{}: each waits for the next in a circle, so none of them will ever move. \
                 That is a deadlock. Taking the locks in one global order breaks the circle.",
                names_list(&parts)
            );
        }
    }
}
