//! `simrace check`: every scenario under the paths through [`crate::check`], one line per
//! scenario as it finishes (or one JSON document at the end), the summary, and the JUnit
//! XML on request. The exit status is the summary's. With `--partition`, only this
//! share's scenarios, and the share's JSON result for `simrace merge` (docs/scale.md).

use super::args::{CheckArgs, Format};
use super::config::{checker, limit_flags};
use super::print_out;
use crate::check::{self, CheckResult, Input, Outcome, Summary};
use crate::share::{CheckShare, Header, InputId, Partition, SharedResult, file_fingerprint};
use std::collections::BTreeMap;

pub(super) fn check(a: &CheckArgs) -> u8 {
    let inputs = check::collect(&a.paths);
    if let Some(p) = a.partition {
        return check_share(a, &inputs, p);
    }
    let results = checker(a).run(&inputs, |_, r| {
        if let Outcome::Invalid(d) = &r.outcome {
            eprint!("{}", d.render());
        }
        if a.format == Format::Text {
            print_out(&format!("{}\n", r.line(a.timing)));
        }
    });
    let code = finish(&results, a.format, a.junit.as_deref(), a.timing);
    if results.len() < inputs.len() {
        let left = crate::ir::counted(inputs.len() - results.len(), "scenario", "scenarios");
        eprintln!("simrace: interrupted: {left} after it not run");
    }
    code
}

/// What a check prints once every result is in (the summary line or the JSON document),
/// the JUnit XML, and the exit status: the end of `check` and of `merge`.
pub(super) fn finish(
    results: &[CheckResult],
    format: Format,
    junit: Option<&str>,
    timing: bool,
) -> u8 {
    let summary = Summary::of(results);
    match format {
        Format::Text => print_out(&format!("{}\n", summary.line())),
        Format::Json => print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&check::json(results)).expect("json")
        )),
    }
    if let Some(path) = junit
        && let Err(e) = write_junit(path, results, timing)
    {
        eprintln!("simrace: cannot write the JUnit report {path}: {e}");
        return 2;
    }
    summary.exit_code()
}

/// One share of a partitioned check: its scenarios checked, and its JSON result printed
/// (exit status 0: the verdict is the merge's).
fn check_share(a: &CheckArgs, inputs: &[Input], p: Partition) -> u8 {
    let mine: Vec<(usize, Input)> = inputs
        .iter()
        .enumerate()
        .filter(|(k, i)| p.selects(*k, i.path()))
        .map(|(k, i)| (k, i.clone()))
        .collect();
    let subset: Vec<Input> = mine.iter().map(|(_, i)| i.clone()).collect();
    let results = checker(a).run(&subset, |_, _| {});
    let share = CheckShare {
        share: Header::new("check", p, check_flags(a), input_ids(inputs)),
        results: mine
            .iter()
            .zip(&results)
            .map(|((k, _), r)| SharedResult::from_result(*k, r))
            .collect(),
    };
    print_out(&format!(
        "{}\n",
        serde_json::to_string(&share).expect("shares serialize")
    ));
    0
}

/// Every input with its fingerprint (a path that names no scenario, by its message).
fn input_ids(inputs: &[Input]) -> Vec<InputId> {
    inputs
        .iter()
        .map(|i| InputId {
            file: i.path().to_string(),
            fingerprint: match i {
                Input::File(f) => file_fingerprint(f),
                Input::Bad(d) => format!("not a scenario: {}", d.message),
            },
        })
        .collect()
}

/// The flags that change a check's results (the paths, the limits, the reduction,
/// timing); `--jobs` and `--format` do not.
fn check_flags(a: &CheckArgs) -> BTreeMap<String, String> {
    let mut flags = limit_flags(&a.limits);
    flags.insert("paths".to_string(), a.paths.join(" "));
    flags.insert("timing".to_string(), a.timing.to_string());
    flags
}

fn write_junit(path: &str, results: &[CheckResult], timing: bool) -> std::io::Result<()> {
    let f = std::fs::File::create(path)?;
    check::write_junit(results, timing, std::io::BufWriter::new(f))
}
