//! `simrace explain`: explore a scenario and tell one of its findings in plain words
//! (the telling is [`crate::report::explain`]'s), whole or, with `--hint N`, in hints.

use super::args::ExplainArgs;
use super::config::config;
use super::{load_or_print, print_out};
use crate::report;
use crate::search;

pub(super) fn explain(a: &ExplainArgs) -> u8 {
    if a.finding == 0 {
        eprintln!("simrace: --finding counts from 1");
        return 2;
    }
    let prog = match load_or_print(&a.file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let ex = search::explore(&prog, &config(&prog, &a.limits, None));
    let rep = report::build(&prog, &ex, "explore", false);
    if rep.findings.is_empty() {
        print_out(&format!(
            "{} ({}): no explored execution goes wrong; nothing to explain.\n",
            prog.name, prog.path
        ));
        return 0;
    }
    let index = a.finding.saturating_sub(1);
    let told = match a.hint {
        Some(level) => report::explain::hints(&prog, &rep, index, level),
        None => report::explain::explain(&prog, &rep, index),
    };
    match told {
        Ok(text) => {
            print_out(&text);
            0
        }
        Err(e) => {
            eprintln!("simrace: {e}");
            2
        }
    }
}
