//! `simrace step`: a game in the terminal, like The Deadlock Empire. You are the
//! scheduler: at every turn you see each thread with its status and the source line it
//! is at, the shared variables and objects (who holds which lock, what is in a queue),
//! and the threads that can move; you pick one. You win when you reach a bug: a failed
//! assertion, an error, a deadlock or a data race (tracked with the happens-before
//! detector), and the game prints the schedule that replays it.
//!
//! Commands: a thread's number or name moves it (`2/1` or a second answer picks an
//! alternative where a step has several: a `choose` value, which waiter a `notify`
//! wakes), `u` undoes the last move, `r` restarts, `s` prints the schedule so far, `h`
//! shows help, `q` quits. Input is read line by line, so a script can be piped in;
//! the end of the input ends the game cleanly.
//!
//! Every state is rebuilt by replaying the schedule from the start (the schedule is
//! the whole truth, as everywhere in simrace), so undo is exact.

use super::args::StepArgs;
use super::load_or_print;
use crate::detect::races::RaceDetector;
use crate::detect::waitfor::WaitFor;
use crate::ir::{FindingKind, Value};
use crate::ir::{Instr, Program, ThreadId};
use crate::machine::{Choice, State, Status};
use crate::search::{Replay, format_schedule, replay};
use std::io::{self, BufRead, Write};

const HELP: &str = "\
Type a thread's number or name to move it by one step (for a step with several ways to go,
add /N, as in 1/2, or answer the question that follows). Other commands:
  u  undo the last move     r  restart       s  show the schedule so far
  h  this help              q  quit
";

/// One bug the current execution has reached.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Bug {
    kind: FindingKind,
    text: String,
}

struct Game<'p> {
    prog: &'p Program,
    schedule: Vec<Choice>,
    replay: Replay,
    bugs: Vec<Bug>,
}

fn thread_name(prog: &Program, t: ThreadId) -> &str {
    &prog.threads[t as usize].name
}

fn source_line(prog: &Program, line: u32) -> &str {
    (line as usize)
        .checked_sub(1)
        .and_then(|i| prog.source.lines().nth(i))
        .map(str::trim)
        .unwrap_or("")
}

impl<'p> Game<'p> {
    fn new(prog: &'p Program) -> Game<'p> {
        let mut g = Game {
            prog,
            schedule: vec![],
            replay: replay(prog, &[]).expect("the empty schedule replays"),
            bugs: vec![],
        };
        g.rebuild();
        g
    }

    /// Replays the schedule and finds the bugs it reaches.
    fn rebuild(&mut self) {
        let prog = self.prog;
        self.replay = replay(prog, &self.schedule).expect("moves are checked before they are made");
        let r = &self.replay;
        let mut bugs = vec![];
        let mut det = RaceDetector::new(prog);
        for (i, s) in r.steps.iter().enumerate() {
            det.step(s.thread, i, &s.events);
        }
        if let Some(race) = det.races.first() {
            let acc = |a: &crate::detect::races::Access| {
                format!(
                    "{} by {} (line {}, step {})",
                    if a.write { "write" } else { "read" },
                    thread_name(prog, a.thread),
                    a.line,
                    a.step + 1
                )
            };
            bugs.push(Bug {
                kind: FindingKind::DataRace,
                text: format!(
                    "data race on {}: {} and {} are not ordered by happens-before",
                    prog.cell_name(race.cell),
                    acc(&race.first),
                    acc(&race.second)
                ),
            });
        }
        // Every failure on the way: the thread that fails stops, the others go on.
        let before = r.failure.iter().filter(|(at, _)| at.is_none());
        let during = crate::report::explain::step_failures(prog, &self.schedule);
        for f in before.map(|(_, f)| f).chain(during.iter().flatten()) {
            let who = f
                .thread
                .map(|t| format!("{} (line {})", thread_name(prog, t), f.line))
                .unwrap_or_else(|| format!("line {}", f.line));
            bugs.push(Bug {
                kind: f.kind,
                text: format!("{}: {who}: {}", f.kind, f.message),
            });
        }
        let s = &r.state;
        if r.failure.is_none() && s.enabled(prog).is_empty() {
            if s.all_finished() {
                if let Some(f) = s.check_final(prog) {
                    bugs.push(Bug {
                        kind: f.kind,
                        text: format!("{}: line {}: {}", f.kind, f.line, f.message),
                    });
                }
            } else {
                let wf = WaitFor::of(prog, s);
                let all_spin = s
                    .unfinished()
                    .iter()
                    .all(|t| matches!(s.threads[*t as usize].status, Status::SpinBlocked { .. }));
                let parts: Vec<String> = wf
                    .threads
                    .iter()
                    .map(|w| {
                        format!(
                            "{} (line {}) {}",
                            thread_name(prog, w.thread),
                            w.line,
                            w.why
                        )
                    })
                    .collect();
                let kind = if all_spin {
                    FindingKind::Livelock
                } else {
                    FindingKind::Deadlock
                };
                bugs.push(Bug {
                    kind,
                    text: format!("{kind}: {}", parts.join("; ")),
                });
            }
        }
        self.bugs = bugs;
    }

    fn state(&self) -> &State {
        &self.replay.state
    }

    /// What thread `t`'s next step would do, taking alternative `alt`.
    fn preview(&self, t: ThreadId, alt: u32) -> String {
        let mut s = self.state().clone();
        let out = s.step(self.prog, Choice { thread: t, alt }, true);
        // Not whether it fails: that is for the player to find out.
        match out.text {
            Some(t) if !t.is_empty() => t,
            _ => "run this line".to_string(),
        }
    }

    fn show(&self, w: &mut dyn Write) -> io::Result<()> {
        let prog = self.prog;
        let s = self.state();
        writeln!(w)?;
        writeln!(w, "--- after {} step(s) ---", self.schedule.len())?;
        if let Some(last) = self.replay.steps.last() {
            let op = if last.op.is_empty() {
                "(raises)"
            } else {
                &last.op
            };
            writeln!(w, "last move: {} {op}", thread_name(prog, last.thread))?;
            for p in &last.output {
                writeln!(w, "  printed: {p}")?;
            }
        }
        writeln!(w, "threads:")?;
        let width = prog.threads.iter().map(|t| t.name.len()).max().unwrap_or(0);
        let mut rows = vec![];
        for (i, info) in prog.threads.iter().enumerate() {
            let t = i as ThreadId;
            let th = &s.threads[i];
            let alts = s.alternatives(prog, t);
            let line = info.code.lines.get(th.pc as usize).copied().unwrap_or(0);
            let at = match th.status {
                Status::NotStarted | Status::Finished => String::new(),
                _ if matches!(info.code.instrs.get(th.pc as usize), Some(Instr::End)) => {
                    "at the end of its code".to_string()
                }
                _ => format!("line {line}: {}", source_line(prog, line)),
            };
            let what = match &th.status {
                Status::NotStarted => "not started".to_string(),
                Status::Finished => "finished".to_string(),
                _ if alts == 1 => format!("next: {}", self.preview(t, 0)),
                _ if alts > 1 => format!("next: one of {alts} ways (you choose)"),
                _ => format!("blocked: {}", s.waits_for(prog, t).0),
            };
            let locals: Vec<String> = info
                .code
                .local_names
                .iter()
                .enumerate()
                .filter_map(|(j, n)| th.locals.get(j).copied().flatten().map(|v| (n, v)))
                .map(|(n, v)| format!("{n} = {v}"))
                .collect();
            let locals = if locals.is_empty() || th.status == Status::Finished {
                String::new()
            } else {
                format!("    locals: {}", locals.join(", "))
            };
            rows.push((info.name.as_str(), at, what, locals));
        }
        let at_width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
        for (i, (name, at, what, locals)) in rows.iter().enumerate() {
            let line = format!("  {i:>2}  {name:<width$}  {at:<at_width$}  {what}{locals}");
            writeln!(w, "{}", line.trim_end())?;
        }
        let vars: Vec<String> = prog
            .vars
            .iter()
            .map(|v| {
                let cells = &s.cells[v.first_cell as usize..][..v.init.len()];
                match v.len {
                    None => format!("{} = {}", v.name, cells[0]),
                    Some(_) => format!(
                        "{} = [{}]",
                        v.name,
                        cells
                            .iter()
                            .map(Value::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            })
            .collect();
        if !vars.is_empty() {
            writeln!(w, "shared: {}", vars.join(", "))?;
        }
        if !prog.objects.is_empty() {
            writeln!(w, "objects:")?;
            for (i, o) in prog.objects.iter().enumerate() {
                writeln!(w, "  {}: {}", o.name, self.object_text(i))?;
            }
        }
        Ok(())
    }

    fn object_text(&self, i: usize) -> String {
        self.state().describe_object(self.prog, i as u32)
    }

    /// Who can move, or why nobody can.
    fn show_moves(&self, w: &mut dyn Write) -> io::Result<()> {
        let prog = self.prog;
        let s = self.state();
        let movable = self.movable();
        if !movable.is_empty() {
            let list: Vec<String> = movable
                .iter()
                .map(|(t, _)| format!("{t} ({})", thread_name(prog, *t)))
                .collect();
            return writeln!(w, "can move: {}", list.join(", "));
        }
        if self.bugs.is_empty() && s.all_finished() {
            let vals: Vec<String> = prog
                .observe
                .iter()
                .map(|(n, c)| format!("{n} = {}", s.cells[*c as usize]))
                .collect();
            let with = if vals.is_empty() {
                String::new()
            } else {
                format!(" with {}", vals.join(", "))
            };
            writeln!(
                w,
                "Every thread has finished{with}. No bug this time: type u to undo or r to try again."
            )
        } else {
            writeln!(
                w,
                "No thread can move. Type u to undo, r to restart, s for the schedule, q to quit."
            )
        }
    }

    fn movable(&self) -> Vec<(ThreadId, u32)> {
        // After a failure the explorer's execution is over; the game lets the other
        // threads go on (the failing one has stopped), as the explorer does.
        self.state().enabled(self.prog)
    }

    fn schedule_text(&self) -> String {
        format_schedule(&self.schedule)
    }

    fn replay_command(&self) -> String {
        format!(
            "simrace replay {} --schedule {}",
            self.prog.path,
            self.schedule_text()
        )
    }
}

/// Reads one trimmed line; `None` at the end of the input.
fn read_line(
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    echo: bool,
) -> io::Result<Option<String>> {
    out.flush()?;
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let line = line.trim().to_string();
    if echo {
        writeln!(out, "{line}")?;
    }
    Ok(Some(line))
}

/// Which thread a word names: its number or its name (any case).
fn parse_thread(prog: &Program, word: &str) -> Option<ThreadId> {
    if let Ok(n) = word.parse::<usize>() {
        return (n < prog.threads.len()).then_some(n as ThreadId);
    }
    prog.threads
        .iter()
        .position(|t| t.name.eq_ignore_ascii_case(word))
        .map(|i| i as ThreadId)
}

/// Plays `prog` with moves read from `input`, writing the game to `out`. `echo` repeats
/// each input line after its prompt (for input that is not a terminal, so the
/// transcript reads like a session).
pub fn play(
    prog: &Program,
    mut input: impl BufRead,
    mut out: impl Write,
    echo: bool,
) -> io::Result<()> {
    let input: &mut dyn BufRead = &mut input;
    let out: &mut dyn Write = &mut out;
    writeln!(out, "simrace step: {} ({})", prog.name, prog.path)?;
    if !prog.description.trim().is_empty() {
        writeln!(out, "{}", prog.description.trim())?;
    }
    writeln!(
        out,
        "You are the scheduler: pick which thread moves next. You win when you make the program \
         fail: a failed assertion, an error, a deadlock or a data race."
    )?;
    write!(out, "{HELP}")?;
    let mut g = Game::new(prog);
    let mut announced: Vec<Bug> = vec![];
    let mut redraw = true;
    loop {
        if std::mem::replace(&mut redraw, false) {
            for b in &g.bugs {
                if !announced.contains(b) {
                    writeln!(out)?;
                    writeln!(out, "*** You win! {} ***", b.text)?;
                    writeln!(out, "Schedule: {}", g.schedule_text())?;
                    writeln!(out, "Replay it: {}", g.replay_command())?;
                    announced.push(b.clone());
                }
            }
            g.show(out)?;
            g.show_moves(out)?;
        }
        write!(out, "> ")?;
        let Some(cmd) = read_line(input, out, echo)? else {
            writeln!(out)?;
            writeln!(out, "(end of input) Schedule so far: {}", g.schedule_text())?;
            return Ok(());
        };
        match cmd.as_str() {
            "" => continue,
            "q" | "quit" | "exit" => {
                writeln!(out, "Bye. Schedule so far: {}", g.schedule_text())?;
                return Ok(());
            }
            "h" | "help" | "?" => {
                write!(out, "{HELP}")?;
                continue;
            }
            "u" | "undo" => {
                if g.schedule.pop().is_none() {
                    writeln!(out, "Nothing to undo.")?;
                }
                g.rebuild();
                announced.retain(|b| g.bugs.contains(b));
                redraw = true;
                continue;
            }
            "r" | "restart" => {
                g.schedule.clear();
                g.rebuild();
                announced.clear();
                writeln!(out, "Restarted.")?;
                redraw = true;
                continue;
            }
            "s" | "schedule" => {
                writeln!(out, "Schedule so far: {}", g.schedule_text())?;
                if !g.schedule.is_empty() {
                    writeln!(out, "Replay it: {}", g.replay_command())?;
                }
                continue;
            }
            _ => {}
        }
        let (word, alt) = match cmd.split_once('/') {
            Some((w, a)) => match a.trim().parse::<u32>() {
                Ok(a) => (w.trim(), Some(a)),
                Err(_) => {
                    writeln!(out, "`{a}` is not a number.")?;
                    continue;
                }
            },
            None => (cmd.as_str(), None),
        };
        let Some(t) = parse_thread(prog, word) else {
            if word.parse::<usize>().is_ok() {
                writeln!(
                    out,
                    "There is no thread {word}: they are numbered 0 to {}.",
                    prog.threads.len() - 1
                )?;
            } else {
                writeln!(
                    out,
                    "I don't know `{cmd}`: type a thread's number or name, or h for help."
                )?;
            }
            continue;
        };
        let alts = g.state().alternatives(prog, t);
        if alts == 0 {
            let s = g.state();
            let why = match s.threads[t as usize].status {
                Status::NotStarted => "it has not been started".to_string(),
                Status::Finished => "it has finished".to_string(),
                _ => format!("it {}", s.waits_for(prog, t).0),
            };
            writeln!(out, "{} cannot move now: {why}.", thread_name(prog, t))?;
            continue;
        }
        let alt = match alt {
            Some(a) if a < alts => a,
            Some(a) => {
                writeln!(
                    out,
                    "{} has {alts} way(s) to go, numbered 0 to {}; not {a}.",
                    thread_name(prog, t),
                    alts - 1
                )?;
                continue;
            }
            None if alts == 1 => 0,
            None => {
                writeln!(out, "{} can go {alts} ways:", thread_name(prog, t))?;
                for a in 0..alts {
                    writeln!(out, "  {a}: {}", g.preview(t, a))?;
                }
                write!(out, "which? ")?;
                let Some(ans) = read_line(input, out, echo)? else {
                    writeln!(out)?;
                    writeln!(out, "(end of input) Schedule so far: {}", g.schedule_text())?;
                    return Ok(());
                };
                match ans.parse::<u32>() {
                    Ok(a) if a < alts => a,
                    _ => {
                        writeln!(out, "Not one of 0 to {}: no move made.", alts - 1)?;
                        continue;
                    }
                }
            }
        };
        g.schedule.push(Choice { thread: t, alt });
        g.rebuild();
        redraw = true;
    }
}

/// `simrace step FILE`: plays on stdin and stdout, echoing the moves when stdin is not a
/// terminal.
pub(super) fn step(a: &StepArgs) -> u8 {
    let prog = match load_or_print(&a.file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    use std::io::IsTerminal;
    let stdin = std::io::stdin();
    let echo = !stdin.is_terminal();
    match play(&prog, stdin.lock(), std::io::stdout().lock(), echo) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("simrace: {e}");
            2
        }
    }
}
