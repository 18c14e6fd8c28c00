//! `simrace check`: every scenario under the paths through [`crate::check`], one line per
//! scenario as it finishes (or one JSON document at the end), the summary, and the JUnit
//! XML on request. The exit status is the summary's.

use super::args::{CheckArgs, Format};
use super::config::checker;
use super::print_out;
use crate::check::{self, CheckResult, Outcome, Summary};

pub(super) fn check(a: &CheckArgs) -> u8 {
    let inputs = check::collect(&a.paths);
    let results = checker(a).run(&inputs, |_, r| {
        if let Outcome::Invalid(d) = &r.outcome {
            eprint!("{}", d.render());
        }
        if a.format == Format::Text {
            print_out(&format!("{}\n", r.line(a.timing)));
        }
    });
    let summary = Summary::of(&results);
    match a.format {
        Format::Text => print_out(&format!("{}\n", summary.line())),
        Format::Json => print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&check::json(&results)).expect("json")
        )),
    }
    if let Some(path) = &a.junit
        && let Err(e) = write_junit(path, &results, a.timing)
    {
        eprintln!("simrace: cannot write the JUnit report {path}: {e}");
        return 2;
    }
    summary.exit_code()
}

fn write_junit(path: &str, results: &[CheckResult], timing: bool) -> std::io::Result<()> {
    let f = std::fs::File::create(path)?;
    check::write_junit(results, timing, std::io::BufWriter::new(f))
}
