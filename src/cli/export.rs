//! `simrace export --python FILE`: the scenario as a runnable Python program (see
//! [`crate::engines::cpython::translate`]).

use super::args::ExportArgs;
use super::print_out;
use crate::engines::cpython::translate::{self, Options};
use crate::frontend::{lower, scenario};

pub(super) fn export(a: &ExportArgs) -> u8 {
    let s = match scenario::load(&a.file) {
        Ok(s) => s,
        Err(d) => {
            eprint!("{}", d.render());
            return 2;
        }
    };
    let prog = match lower::lower(&s) {
        Ok(p) => p,
        Err(d) => {
            eprint!("{}", d.render());
            return 2;
        }
    };
    let py = translate::translate(&s, &prog, Options { stress: a.stress });
    match &a.output {
        None => print_out(&py.text),
        Some(out) => {
            if let Err(e) = std::fs::write(out, &py.text) {
                eprintln!("simrace: cannot write {out}: {e}");
                return 2;
            }
        }
    }
    0
}
