//! A step's trace text (`read counter = 0`, `notify_all cv wakes consumer[0]`) as the
//! rest of an English sentence whose subject is the thread (`reads counter and sees 0`,
//! `notifies every waiter of cv, which wakes consumer[0]`).
//!
//! The trace texts are the machine's (`say!` in `src/machine`); each form has one rule
//! here, tried in order. A text no rule knows is quoted as it is (`runs `...``), never
//! guessed at.

/// `a, b, c` (a trace's list of names) as `a, b and c`.
pub fn and_list(names: &str) -> String {
    let parts: Vec<&str> = names.split(", ").collect();
    match parts.as_slice() {
        [] => String::new(),
        [a] => (*a).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `text` split at the first `sep`, when both sides are not empty.
fn split<'a>(text: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    text.split_once(sep)
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
}

/// The phrase of one trace text.
pub fn phrase(op: &str) -> String {
    // A step inside a function call: the phrase of the step, then the call.
    if let Some(i) = op.rfind(" (in ")
        && op.ends_with(')')
    {
        return format!("{} (in {}", phrase(&op[..i]), &op[i + 5..]);
    }
    let rules: [fn(&str) -> Option<String>; 9] = [
        memory,
        locks,
        conditions,
        events,
        queues,
        parties,
        pools,
        misc,
        method_result,
    ];
    rules
        .iter()
        .find_map(|rule| rule(op))
        .unwrap_or_else(|| format!("runs `{op}`"))
}

/// Reads, writes, compare-and-swap, `choose`, atomic blocks.
fn memory(op: &str) -> Option<String> {
    if let Some((name, v)) = op.strip_prefix("read ").and_then(|r| split(r, " = ")) {
        return Some(format!("reads {name} and sees {v}"));
    }
    if let Some((name, v)) = op.strip_prefix("write ").and_then(|r| split(r, " = ")) {
        return Some(format!("writes {v} to {name}"));
    }
    if let Some(rest) = op.strip_prefix("cas ") {
        if let Some((name, change)) = split(rest, " = ")
            && let Some(change) = change.strip_suffix(" (True)")
            && let Some((old, new)) = split(change, " -> ")
        {
            return Some(format!(
                "compares and swaps {name}: it was {old}, so it becomes {new} (True)"
            ));
        }
        if let Some((name, old)) = split(rest, " = ")
            && let Some(old) = old.strip_suffix(", unchanged (False)")
        {
            return Some(format!(
                "compares and swaps {name}: it is {old}, not the expected value, so nothing changes (False)"
            ));
        }
    }
    if op.starts_with("choose(")
        && let Some((_, v)) = split(op, ") = ")
    {
        return Some(format!("picks the value {v} ({op})"));
    }
    let body = op.strip_prefix("atomic {")?;
    let body = body.trim_end_matches('}').trim();
    Some(if body.is_empty() {
        "runs its atomic block in one go".into()
    } else {
        format!("runs its atomic block in one go: {body}")
    })
}

/// Locks and semaphores: acquire and release, in all their forms.
fn locks(op: &str) -> Option<String> {
    if let Some(rest) = op.strip_prefix("acquire ") {
        if let Some((name, v)) = split(rest, " (value now ") {
            return Some(format!(
                "acquires {name} (its value is now {})",
                v.trim_end_matches(')')
            ));
        }
        if let Some(name) = rest.strip_suffix(" fails: value is 0") {
            return Some(format!(
                "tries to acquire {name} and gives up: its value is 0"
            ));
        }
        if let Some((name, who)) = split(rest, " fails: held by ") {
            return Some(format!("tries to take {name} and gives up: {who} holds it"));
        }
        if let Some((name, n)) = split(rest, " (again: held ") {
            let n = n.trim_end_matches(" times)");
            return Some(format!("takes {name} again (it now holds it {n} times)"));
        }
        return Some(format!("takes {rest}"));
    }
    let rest = op.strip_prefix("release ")?;
    if let Some((name, v)) = split(rest, " (value now ") {
        let v = v.trim_end_matches(')');
        return Some(match name.split_once(' ') {
            Some((name, n)) => format!("releases {name} {n} times (its value is now {v})"),
            None => format!("releases {name} (its value is now {v})"),
        });
    }
    if let Some((name, n)) = split(rest, " (still held ") {
        let n = n.trim_end_matches(" times)");
        return Some(format!(
            "releases {name} once (it still holds it {n} times)"
        ));
    }
    Some(format!("releases {rest}"))
}

/// Conditions and barriers: waits, wake-ups, notifies.
fn conditions(op: &str) -> Option<String> {
    if let Some(rest) = op.strip_prefix("wait ")
        && let Some((name, lock)) = split(rest, " (releases ")
    {
        let lock = lock.trim_end_matches(')');
        return Some(format!("waits on {name}, which releases {lock}"));
    }
    if let Some(rest) = op.strip_prefix("wait ")
        && let Some((name, more)) = split(rest, " returns ")
        && let Some((v, lock)) = split(more, " (reacquired ")
    {
        let lock = lock.trim_end_matches(')');
        return Some(format!(
            "gets {lock} back, and its wait on {name} returns {v}"
        ));
    }
    if let Some(name) = op.strip_prefix("woken from ") {
        return Some(format!(
            "is woken from its wait on {name}, and now waits to get the lock back"
        ));
    }
    if let Some(rest) = op.strip_prefix("notify_all ") {
        return Some(notify(rest, "notifies every waiter of"));
    }
    if let Some(rest) = op.strip_prefix("notify ") {
        return Some(notify(rest, "notifies"));
    }
    barrier(op)
}

/// `cv wakes a, b` / `cv may wake a` / `cv (no thread is waiting)` after a notify verb.
fn notify(rest: &str, verb: &str) -> String {
    if let Some(name) = rest.strip_suffix(" (no thread is waiting)") {
        return format!("{verb} {name}, but no thread is waiting");
    }
    if let Some((name, who)) = split(rest, " may wake ") {
        return format!("{verb} {name}, which may wake {}", and_list(who));
    }
    if let Some((name, who)) = split(rest, " wakes ") {
        return format!("{verb} {name}, which wakes {}", and_list(who));
    }
    format!("{verb} {rest}")
}

fn barrier(op: &str) -> Option<String> {
    let rest = op.strip_prefix("wait ")?;
    if let Some((name, more)) = split(rest, ": arrives ") {
        return Some(format!(
            "arrives at {name} ({more} parties) and waits for the others"
        ));
    }
    if let Some((name, more)) = split(rest, ": last of ") {
        let (n, more) = more.split_once(" to arrive, returns ")?;
        let (v, _) = more.split_once(' ')?;
        return Some(format!(
            "arrives at {name} last of {n}, which lets everyone through (wait returns {v})"
        ));
    }
    if let Some((name, more)) = split(rest, " returns ")
        && more.contains("(round ")
    {
        let (v, _) = more.split_once(' ')?;
        return Some(format!(
            "passes {name} now that every party has arrived (wait returns {v})"
        ));
    }
    None
}

/// Events.
fn events(op: &str) -> Option<String> {
    if let Some(name) = op.strip_prefix("set ") {
        return Some(format!("sets {name}"));
    }
    if let Some(name) = op.strip_prefix("clear ") {
        return Some(format!("clears {name}"));
    }
    let rest = op.strip_prefix("wait ")?;
    let forms = [
        (
            " returns True (already set)",
            "waits on {}, which is already set, so it returns True at once",
        ),
        (
            " (not set: blocks)",
            "waits on {}, which is not set, so it blocks",
        ),
        (
            " timed out, returns False",
            "gives up its wait on {}, which returns False",
        ),
        (" timed out", "gives up its wait on {}"),
        (" returns True", "is woken: its wait on {} returns True"),
    ];
    forms.iter().find_map(|(suffix, text)| {
        rest.strip_suffix(suffix)
            .map(|name| text.replace("{}", name))
    })
}

/// Queues and pipes.
fn queues(op: &str) -> Option<String> {
    if let Some(rest) = op.strip_prefix("put ") {
        if let Some((v, name)) = rest
            .strip_suffix(" fails: full")
            .and_then(|r| split(r, " into "))
        {
            return Some(format!(
                "tries to put {v} into {name} and gives up: it is full"
            ));
        }
        let (v, name) = split(rest, " into ")?;
        return Some(format!("puts {v} into {name}"));
    }
    if let Some(name) = op
        .strip_prefix("get from ")
        .and_then(|r| r.strip_suffix(" fails: empty, returns None"))
    {
        return Some(format!(
            "tries to get from {name} and gives up: it is empty (None)"
        ));
    }
    if let Some((v, name)) = op.strip_prefix("get ").and_then(|r| split(r, " from ")) {
        return Some(format!("gets {v} from {name}"));
    }
    if let Some((name, left)) = op.strip_prefix("task_done ").and_then(|r| split(r, " (")) {
        let left = left.trim_end_matches(" unfinished)");
        let left = match left {
            "1" => "1 unfinished task is".to_string(),
            n => format!("{n} unfinished tasks are"),
        };
        return Some(format!("calls {name}.task_done() ({left} left)"));
    }
    if let Some(name) = op
        .strip_prefix("join ")
        .and_then(|r| r.strip_suffix(" (every task done)"))
    {
        return Some(format!("returns from {name}.join(): every task is done"));
    }
    if let Some((v, name)) = op.strip_prefix("send ").and_then(|r| split(r, " through ")) {
        return Some(format!("sends {v} through {name}"));
    }
    if let Some((v, name)) = op.strip_prefix("recv ").and_then(|r| split(r, " from ")) {
        return Some(format!("receives {v} from {name}"));
    }
    None
}

/// Threads and processes: start, join, terminate, kill, end.
fn parties(op: &str) -> Option<String> {
    if op == "end" {
        return Some("finishes".into());
    }
    if let Some(who) = op.strip_prefix("start ") {
        return Some(format!("starts {}", and_list(who)));
    }
    if let Some(who) = op.strip_prefix("join ") {
        if let Some(who) = who.strip_suffix(" timed out") {
            return Some(format!(
                "stops waiting for {}: the join timed out",
                and_list(who)
            ));
        }
        let done = if who.contains(", ") {
            "they have finished"
        } else {
            "it has finished"
        };
        return Some(format!("joins {}: {done}", and_list(who)));
    }
    if let Some(who) = op.strip_prefix("terminate ") {
        return Some(format!("terminates {}", and_list(who)));
    }
    let who = op.strip_prefix("kill ")?;
    Some(format!("kills {}", and_list(who)))
}

/// A Pool's workers, tasks and methods.
fn pools(op: &str) -> Option<String> {
    if let Some((task, pool)) = op
        .strip_prefix("take task ")
        .and_then(|r| split(r, " from "))
    {
        return Some(format!("takes the task {task} from {pool}"));
    }
    if let Some(pool) = op.strip_suffix(": no more tasks, the worker ends") {
        return Some(format!("finds no more tasks in {pool}, so the worker ends"));
    }
    if let Some(rest) = op.strip_prefix("task ") {
        if let Some((task, v)) = split(rest, " returns ") {
            return Some(format!("finishes the task {task}, which returns {v}"));
        }
        let (task, e) = split(rest, " fails: ")?;
        return Some(format!("finishes the task {task}, which fails with {e}"));
    }
    if let Some((task, pool)) = op
        .strip_prefix("submit ")
        .and_then(|r| r.rsplit_once(" to "))
    {
        return Some(format!("submits {task} to {pool}"));
    }
    if let Some(pool) = op.strip_prefix("close ") {
        return Some(format!("closes {pool}"));
    }
    if let Some(pool) = op
        .strip_prefix("join ")
        .and_then(|r| r.strip_suffix(" (every worker has ended)"))
    {
        return Some(format!(
            "returns from {pool}.join(): every worker has ended"
        ));
    }
    if let Some((what, more)) = split(op, "() of ") {
        if let Some(what_of) = more.strip_suffix(" times out") {
            return Some(format!("gives up waiting in {what}() of {what_of}"));
        }
        if let Some(task) = more.strip_suffix(": done") {
            return Some(format!("returns from {what}() of {task}: it is done"));
        }
        let (task, v) = split(more, " = ")?;
        return Some(format!("calls {what}() of {task}, which returns {v}"));
    }
    None
}

/// `print`, `sleep`, `work`.
fn misc(op: &str) -> Option<String> {
    if let Some(line) = op.strip_prefix("print ") {
        return Some(format!("prints \"{line}\""));
    }
    match op {
        "sleep" => Some("sleeps".into()),
        "work" => Some("works".into()),
        _ => None,
    }
}

/// `q.qsize() = 2`, `ev.is_set() = True`, `p.exitcode = 0`: a call and what it returned.
fn method_result(op: &str) -> Option<String> {
    let (call, v) = split(op, " = ")?;
    if call.contains(' ') {
        return None;
    }
    Some(format!("calls {call}, which returns {v}"))
}

#[cfg(test)]
mod tests {
    use super::phrase;

    /// Every trace form the machine writes, as the sentence a student reads.
    #[test]
    fn each_trace_form_reads_as_a_sentence() {
        let cases = [
            (
                "write balance = 5 (in deposit(5) line 21)",
                "writes 5 to balance (in deposit(5) line 21)",
            ),
            ("write balance = 5", "writes 5 to balance"),
            (
                "notify_all cv wakes consumer[0], consumer[1]",
                "notifies every waiter of cv, which wakes consumer[0] and consumer[1]",
            ),
            (
                "notify cv (no thread is waiting)",
                "notifies cv, but no thread is waiting",
            ),
            (
                "wait cv (releases cv.lock)",
                "waits on cv, which releases cv.lock",
            ),
            (
                "wait cv returns True (reacquired cv.lock)",
                "gets cv.lock back, and its wait on cv returns True",
            ),
            (
                "start worker[0], worker[1]",
                "starts worker[0] and worker[1]",
            ),
            ("e.is_set() = True", "calls e.is_set(), which returns True"),
            (
                "acquire m fails: held by t2",
                "tries to take m and gives up: t2 holds it",
            ),
            ("release s (value now 1)", "releases s (its value is now 1)"),
            (
                "task_done q (0 unfinished)",
                "calls q.task_done() (0 unfinished tasks are left)",
            ),
            ("get 10 from q", "gets 10 from q"),
            (
                "wait b: arrives 1 of 2",
                "arrives at b (1 of 2 parties) and waits for the others",
            ),
            ("end", "finishes"),
            ("print Hello 1", "prints \"Hello 1\""),
            ("something new", "runs `something new`"),
        ];
        for (op, want) in cases {
            assert_eq!(phrase(op), want, "{op}");
        }
    }
}
