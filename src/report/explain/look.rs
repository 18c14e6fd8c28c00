//! Hint 1: where to look. The lines and names a finding involves, and a question that
//! points at the bug without giving it away.

use super::{Story, names_list};
use crate::detect::waitfor::WaitFor;
use crate::ir::FindingKind;
use crate::machine::Event;

/// `line 13 (tmp = counter)`.
fn line_ref(story: &Story, line: u32) -> String {
    let src = story.prog.source_line(line);
    if src.is_empty() || src.contains("\"\"\"") {
        format!("line {line}")
    } else {
        format!("line {line} (`{src}`)")
    }
}

/// The sentences of hint 1.
pub(super) fn where_to_look(story: &Story) -> Vec<String> {
    match story.kind() {
        Some(FindingKind::DataRace) => race(story),
        Some(FindingKind::Deadlock) | Some(FindingKind::Livelock) => stuck(story),
        _ => failure(story),
    }
}

fn race(story: &Story) -> Vec<String> {
    let Some(race) = &story.finding.race else {
        return vec![story.finding.message.clone()];
    };
    let (a, b) = (&race.first, &race.second);
    vec![
        format!(
            "Look at {}: {} {} it at {}, and {} {} it at {}.",
            race.variable,
            a.thread,
            if a.access == "write" {
                "writes"
            } else {
                "reads"
            },
            line_ref(story, a.line),
            b.thread,
            if b.access == "write" {
                "writes"
            } else {
                "reads"
            },
            line_ref(story, b.line)
        ),
        "Ask yourself: what makes one of these two accesses wait for the other?".into(),
    ]
}

fn stuck(story: &Story) -> Vec<String> {
    if super::why::too_long(story) {
        return vec![
            "Look at the loop that takes the steps at the end of the schedule, and at the \
             threads that could still move."
                .into(),
            "Ask yourself: does each turn of that loop change something, so that nothing \
             makes it wait?"
                .into(),
        ];
    }
    let wf = WaitFor::of(story.prog, &story.replay.state);
    let places: Vec<String> = wf
        .threads
        .iter()
        .map(|s| {
            format!(
                "{} at {}",
                story.thread_name(s.thread),
                line_ref(story, s.line)
            )
        })
        .collect();
    let question = if story.finding.kind == "livelock" {
        "Ask yourself: which thread would have to change what the others loop on?"
    } else {
        "Ask yourself: who would have to act to let each of them go on, and can it still?"
    };
    vec![
        format!("Look at where the threads stop: {}.", names_list(&places)),
        question.into(),
    ]
}

/// The shared names the schedule writes, each with the lines that write it.
fn written(story: &Story) -> Vec<String> {
    let mut names: Vec<(String, Vec<u32>)> = vec![];
    for s in &story.replay.steps {
        for e in &s.events {
            if let Event::Access {
                cell,
                write: true,
                line,
                ..
            } = e
            {
                let name = story.prog.cell_name(*cell);
                let name = name.split('[').next().unwrap_or(&name).to_string();
                match names.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, lines)) if !lines.contains(line) => lines.push(*line),
                    Some(_) => {}
                    None => names.push((name, vec![*line])),
                }
            }
        }
    }
    names
        .into_iter()
        .map(|(n, mut lines)| {
            lines.sort_unstable();
            let lines: Vec<String> = lines.iter().map(u32::to_string).collect();
            let s = if lines.len() == 1 { "" } else { "s" };
            format!("{n} (line{s} {})", names_list(&lines))
        })
        .collect()
}

fn failure(story: &Story) -> Vec<String> {
    let mut out = vec![];
    match story.failure() {
        Some(fl) if fl.thread.is_some() => {
            out.push(if fl.kind == FindingKind::Assertion {
                format!("Look at the assertion at {}.", line_ref(story, fl.line))
            } else {
                format!("Look at {}, which raises.", line_ref(story, fl.line))
            });
        }
        Some(fl) => out.push(format!(
            "Look at the check at {}.",
            line_ref(story, fl.line)
        )),
        None => out.push(format!(
            "Look at the [final] check: {}.",
            story.finding.message
        )),
    }
    let written = written(story);
    if !written.is_empty() {
        out.push(format!(
            "The shared names written on the way there: {}.",
            names_list(&written)
        ));
    }
    out.push(
        "Ask yourself: what could another thread do between two steps of the failing one?".into(),
    );
    out
}
