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

/// The first data race of the replayed execution.
fn race_bug(prog: &Program, r: &Replay) -> Option<Bug> {
    let mut det = RaceDetector::new(prog);
    for (i, s) in r.steps.iter().enumerate() {
        det.step(s.thread, i, &s.events);
    }
    let race = det.races.first()?;
    let acc = |a: &crate::detect::races::Access| {
        format!(
            "{} by {} (line {}, step {})",
            if a.write { "write" } else { "read" },
            thread_name(prog, a.thread),
            a.line,
            a.step + 1
        )
    };
    Some(Bug {
        kind: FindingKind::DataRace,
        text: format!(
            "data race on {}: {} and {} are not ordered by happens-before",
            prog.cell_name(race.cell),
            acc(&race.first),
            acc(&race.second)
        ),
    })
}

/// Every failure on the way: the thread that fails stops, the others go on.
fn failure_bugs(prog: &Program, r: &Replay, schedule: &[Choice]) -> Vec<Bug> {
    let before = r.failure.iter().filter(|(at, _)| at.is_none());
    let during = crate::report::explain::step_failures(prog, schedule);
    before
        .map(|(_, f)| f)
        .chain(during.iter().flatten())
        .map(|f| {
            let who = f
                .thread
                .map(|t| format!("{} (line {})", thread_name(prog, t), f.line))
                .unwrap_or_else(|| format!("line {}", f.line));
            Bug {
                kind: f.kind,
                text: format!("{}: {who}: {}", f.kind, f.message),
            }
        })
        .collect()
}

/// When nothing can move (and nothing failed on the way): the final assertion that
/// does not hold, or the deadlock (a livelock when every unfinished thread spins).
fn end_bug(prog: &Program, r: &Replay) -> Option<Bug> {
    let s = &r.state;
    if r.failure.is_some() || !s.enabled(prog).is_empty() {
        return None;
    }
    if s.all_finished() {
        let f = s.check_final(prog)?;
        return Some(Bug {
            kind: f.kind,
            text: format!("{}: line {}: {}", f.kind, f.line, f.message),
        });
    }
    let wf = WaitFor::of(prog, s);
    let all_spin = s.unfinished().iter().all(|t| s.spinning(*t));
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
    Some(Bug {
        kind,
        text: format!("{kind}: {}", parts.join("; ")),
    })
}

/// One thread's row in the table of threads.
struct ThreadRow<'p> {
    name: &'p str,
    /// `line N: source`, or nothing before it starts and after it finishes.
    at: String,
    /// What its next step would do, or why it cannot move.
    what: String,
    /// `    locals: ...`, or nothing.
    locals: String,
}

/// Each shared variable with its value (`a = [1, 2]` for an array).
fn shared_values(prog: &Program, s: &State) -> Vec<String> {
    prog.vars
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
        .collect()
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
        let mut bugs: Vec<Bug> = race_bug(prog, r).into_iter().collect();
        bugs.extend(failure_bugs(prog, r, &self.schedule));
        bugs.extend(end_bug(prog, r));
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
        let rows: Vec<ThreadRow> = (0..prog.threads.len())
            .map(|i| self.thread_row(i))
            .collect();
        let at_width = rows.iter().map(|r| r.at.chars().count()).max().unwrap_or(0);
        for (i, r) in rows.iter().enumerate() {
            let (name, at, what, locals) = (r.name, &r.at, &r.what, &r.locals);
            let line = format!("  {i:>2}  {name:<width$}  {at:<at_width$}  {what}{locals}");
            writeln!(w, "{}", line.trim_end())?;
        }
        let vars = shared_values(prog, self.state());
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

    /// Thread `i`'s row: where it is, what it would do next, its locals.
    fn thread_row(&self, i: usize) -> ThreadRow<'p> {
        let (prog, s) = (self.prog, self.state());
        let info = &prog.threads[i];
        let t = i as ThreadId;
        let th = &s.threads[i];
        let alts = s.alternatives(prog, t);
        let line = info.code.lines.get(th.pc as usize).copied().unwrap_or(0);
        let at = match th.status {
            Status::NotStarted | Status::Finished => String::new(),
            _ if matches!(info.code.instrs.get(th.pc as usize), Some(Instr::End)) => {
                "at the end of its code".to_string()
            }
            _ => format!("line {line}: {}", prog.source_line(line)),
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
            .filter(|(_, n)| !n.is_empty())
            .filter_map(|(j, n)| th.locals.get(j).copied().flatten().map(|v| (n, v)))
            .map(|(n, v)| format!("{n} = {v}"))
            .collect();
        let locals = if locals.is_empty() || th.status == Status::Finished {
            String::new()
        } else {
            format!("    locals: {}", locals.join(", "))
        };
        ThreadRow {
            name: info.name.as_str(),
            at,
            what,
            locals,
        }
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
        crate::report::replay_command(&self.prog.path, &self.schedule_text(), None)
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
    let mut session = Session {
        game: Game::new(prog),
        input,
        out,
        echo,
        announced: vec![],
        redraw: true,
    };
    loop {
        if std::mem::replace(&mut session.redraw, false) {
            session.draw()?;
        }
        write!(session.out, "> ")?;
        let flow = match session.read()? {
            Some(cmd) => session.command(&cmd)?,
            None => session.end_of_input()?,
        };
        if flow == Flow::Stop {
            return Ok(());
        }
    }
}

/// Whether the game goes on after a line of input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

/// A game being played: the game, the terminal, and what has been said.
struct Session<'p, 'io> {
    game: Game<'p>,
    input: &'io mut dyn BufRead,
    out: &'io mut dyn Write,
    echo: bool,
    /// The bugs announced so far (an undo that leaves one lets it be won again).
    announced: Vec<Bug>,
    /// Show the state before the next prompt.
    redraw: bool,
}

impl Session<'_, '_> {
    fn read(&mut self) -> io::Result<Option<String>> {
        read_line(self.input, self.out, self.echo)
    }

    /// Announces the bugs not announced yet, then shows the state and who can move.
    fn draw(&mut self) -> io::Result<()> {
        let g = &self.game;
        for b in &g.bugs {
            if !self.announced.contains(b) {
                writeln!(self.out)?;
                writeln!(self.out, "*** You win! {} ***", b.text)?;
                writeln!(self.out, "Schedule: {}", g.schedule_text())?;
                writeln!(self.out, "Replay it: {}", g.replay_command())?;
                self.announced.push(b.clone());
            }
        }
        g.show(self.out)?;
        g.show_moves(self.out)
    }

    fn end_of_input(&mut self) -> io::Result<Flow> {
        writeln!(self.out)?;
        let schedule = self.game.schedule_text();
        writeln!(self.out, "(end of input) Schedule so far: {schedule}")?;
        Ok(Flow::Stop)
    }

    /// Carries out one line of input: a command, or a move.
    fn command(&mut self, cmd: &str) -> io::Result<Flow> {
        let g = &mut self.game;
        match cmd {
            "" => {}
            "q" | "quit" | "exit" => {
                writeln!(self.out, "Bye. Schedule so far: {}", g.schedule_text())?;
                return Ok(Flow::Stop);
            }
            "h" | "help" | "?" => write!(self.out, "{HELP}")?,
            "u" | "undo" => {
                if g.schedule.pop().is_none() {
                    writeln!(self.out, "Nothing to undo.")?;
                }
                g.rebuild();
                self.announced.retain(|b| g.bugs.contains(b));
                self.redraw = true;
            }
            "r" | "restart" => {
                g.schedule.clear();
                g.rebuild();
                self.announced.clear();
                writeln!(self.out, "Restarted.")?;
                self.redraw = true;
            }
            "s" | "schedule" => {
                writeln!(self.out, "Schedule so far: {}", g.schedule_text())?;
                if !g.schedule.is_empty() {
                    writeln!(self.out, "Replay it: {}", g.replay_command())?;
                }
            }
            _ => return self.make_move(cmd),
        }
        Ok(Flow::Go)
    }

    /// `thread` or `thread/alternative`: moves the thread if it can, or says why not.
    fn make_move(&mut self, cmd: &str) -> io::Result<Flow> {
        let prog = self.game.prog;
        let (word, alt) = match cmd.split_once('/') {
            Some((w, a)) => match a.trim().parse::<u32>() {
                Ok(a) => (w.trim(), Some(a)),
                Err(_) => {
                    writeln!(self.out, "`{a}` is not a number.")?;
                    return Ok(Flow::Go);
                }
            },
            None => (cmd, None),
        };
        let Some(t) = parse_thread(prog, word) else {
            if word.parse::<usize>().is_ok() {
                writeln!(
                    self.out,
                    "There is no thread {word}: they are numbered 0 to {}.",
                    prog.threads.len() - 1
                )?;
            } else {
                writeln!(
                    self.out,
                    "I don't know `{cmd}`: type a thread's number or name, or h for help."
                )?;
            }
            return Ok(Flow::Go);
        };
        let alts = self.game.state().alternatives(prog, t);
        if alts == 0 {
            let s = self.game.state();
            let why = match s.threads[t as usize].status {
                Status::NotStarted => "it has not been started".to_string(),
                Status::Finished => "it has finished".to_string(),
                _ => format!("it {}", s.waits_for(prog, t).0),
            };
            writeln!(self.out, "{} cannot move now: {why}.", thread_name(prog, t))?;
            return Ok(Flow::Go);
        }
        let alt = match self.alternative(t, alt, alts)? {
            Ok(a) => a,
            Err(flow) => return Ok(flow),
        };
        self.game.schedule.push(Choice { thread: t, alt });
        self.game.rebuild();
        self.redraw = true;
        Ok(Flow::Go)
    }

    /// Which of thread `t`'s `alts` ways to take: the one given, the only one, or the
    /// player's answer to a question. `Err`: no move (said why), or the input ended.
    fn alternative(
        &mut self,
        t: ThreadId,
        alt: Option<u32>,
        alts: u32,
    ) -> io::Result<Result<u32, Flow>> {
        let name = thread_name(self.game.prog, t);
        match alt {
            Some(a) if a < alts => Ok(Ok(a)),
            Some(a) => {
                writeln!(
                    self.out,
                    "{name} has {alts} way(s) to go, numbered 0 to {}; not {a}.",
                    alts - 1
                )?;
                Ok(Err(Flow::Go))
            }
            None if alts == 1 => Ok(Ok(0)),
            None => {
                writeln!(self.out, "{name} can go {alts} ways:")?;
                for a in 0..alts {
                    writeln!(self.out, "  {a}: {}", self.game.preview(t, a))?;
                }
                write!(self.out, "which? ")?;
                let Some(ans) = self.read()? else {
                    return self.end_of_input().map(Err);
                };
                match ans.parse::<u32>() {
                    Ok(a) if a < alts => Ok(Ok(a)),
                    _ => {
                        writeln!(self.out, "Not one of 0 to {}: no move made.", alts - 1)?;
                        Ok(Err(Flow::Go))
                    }
                }
            }
        }
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
