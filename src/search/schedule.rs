//! Schedule strings: how a schedule (the choices of an execution) is written in reports
//! and read back from the command line (`--schedule`). Comma-separated thread indices,
//! `t/a` for alternative `a`, and `t*n` for `n` repeats of the same choice.
//!
//! Pinned by `schedule_round_trip` below and tests/scenarios.rs.

use crate::machine::Choice;

/// Formats a schedule: comma-separated thread indices, `t/a` for alternative `a`, and
/// `t*n` for `n` repeats of the same choice.
pub fn format_schedule(s: &[Choice]) -> String {
    let mut out: Vec<String> = vec![];
    let mut i = 0;
    while i < s.len() {
        let mut j = i + 1;
        while j < s.len() && s[j] == s[i] {
            j += 1;
        }
        let mut tok = s[i].thread.to_string();
        if s[i].alt != 0 {
            tok.push_str(&format!("/{}", s[i].alt));
        }
        if j - i > 1 {
            tok.push_str(&format!("*{}", j - i));
        }
        out.push(tok);
        i = j;
    }
    out.join(",")
}

/// Parses a schedule written by [`format_schedule`].
pub fn parse_schedule(text: &str) -> Result<Vec<Choice>, String> {
    parse_schedule_with(text, |t| t.parse::<u32>().ok())
}

/// Parses a schedule whose threads may also be written by name (`worker[1]*2,main`):
/// `thread` turns a token into a thread number, or says it names none.
pub fn parse_schedule_with(
    text: &str,
    thread: impl Fn(&str) -> Option<u32>,
) -> Result<Vec<Choice>, String> {
    let mut out = vec![];
    for tok in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (choice, rep) = match tok.split_once('*') {
            Some((c, n)) => (
                c,
                n.parse::<usize>()
                    .map_err(|_| format!("bad repeat count in `{tok}`"))?,
            ),
            None => (tok, 1),
        };
        let (t, a) = match choice.split_once('/') {
            Some((t, a)) => (
                t,
                a.parse::<u32>()
                    .map_err(|_| format!("bad alternative in `{tok}`"))?,
            ),
            None => (choice, 0),
        };
        let thread =
            thread(t.trim()).ok_or_else(|| format!("no thread `{}` in `{tok}`", t.trim()))?;
        if rep > 1_000_000 {
            return Err(format!("repeat count too large in `{tok}`"));
        }
        out.extend(std::iter::repeat_n(Choice { thread, alt: a }, rep));
    }
    Ok(out)
}

/// Parses a schedule of `prog` whose threads are numbers or names (`worker[1]*2,main`).
pub fn parse_schedule_named(prog: &crate::ir::Program, text: &str) -> Result<Vec<Choice>, String> {
    parse_schedule_with(text, |t| {
        t.parse::<u32>().ok().or_else(|| {
            let i = prog.threads.iter().position(|th| th.name == t)?;
            Some(i as u32)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_round_trip() {
        let s = vec![
            Choice { thread: 0, alt: 0 },
            Choice { thread: 0, alt: 0 },
            Choice { thread: 1, alt: 2 },
            Choice { thread: 2, alt: 0 },
        ];
        let text = format_schedule(&s);
        assert_eq!(text, "0*2,1/2,2");
        assert_eq!(parse_schedule(&text).unwrap(), s);
        assert!(parse_schedule("x").is_err());
        assert_eq!(parse_schedule("").unwrap(), vec![]);
    }
}
