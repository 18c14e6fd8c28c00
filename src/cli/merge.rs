//! `simrace merge`: the shares of a partitioned `check` (or `run`) combined into the
//! report, JUnit XML and exit status that one run gives. Every share of one run must be
//! given, once; shares of different inputs, flags, versions or partitions are refused
//! (exit status 2), as [`crate::share::check_set`] says.

use super::args::{Format, MergeArgs};
use super::check::finish;
use super::print_out;
use crate::check::{CheckResult, Outcome};
use crate::share::{CheckShare, Header, check_set};

pub(super) fn merge(a: &MergeArgs) -> u8 {
    match merge_checks(a) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("simrace merge: {e}");
            2
        }
    }
}

/// Reads one share: its header, and the whole document.
fn read_share(path: &str) -> Result<(Header, serde_json::Value), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{path} is not JSON ({e}): give the output of a --partition run"))?;
    let header = doc.get("share").cloned().ok_or_else(|| {
        format!("{path} is not a share (no `share` header): give the output of a --partition run")
    })?;
    let header: Header = serde_json::from_value(header)
        .map_err(|e| format!("{path}: its `share` header is malformed ({e})"))?;
    Ok((header, doc))
}

fn merge_checks(a: &MergeArgs) -> Result<u8, String> {
    let mut headers = vec![];
    let mut docs = vec![];
    for path in &a.shares {
        let (h, doc) = read_share(path)?;
        headers.push((path.clone(), h));
        docs.push(doc);
    }
    check_set(&headers)?;
    let first = &headers[0].1;
    match first.command.as_str() {
        "check" => {
            let results = check_results(&headers, docs)?;
            Ok(present_check(&results, a, first))
        }
        "run" => super::run_share::merge_run(&headers, docs, a),
        other => Err(format!(
            "{}: shares of `{other}` cannot be merged",
            headers[0].0
        )),
    }
}

/// The check results of every share, in the inputs' order.
fn check_results(
    headers: &[(String, Header)],
    docs: Vec<serde_json::Value>,
) -> Result<Vec<CheckResult>, String> {
    let n = headers[0].1.inputs.len();
    let mut slots: Vec<Option<CheckResult>> = (0..n).map(|_| None).collect();
    for ((path, _), doc) in headers.iter().zip(docs) {
        let share: CheckShare =
            serde_json::from_value(doc).map_err(|e| format!("{path} is malformed ({e})"))?;
        for r in share.results {
            let k = r.index;
            if k >= n || slots[k].is_some() {
                return Err(format!("{path}: result {k} ({}) is out of place", r.file));
            }
            slots[k] = Some(r.into_result()?);
        }
    }
    slots
        .into_iter()
        .enumerate()
        .map(|(k, r)| r.ok_or_else(|| format!("no share holds {}", headers[0].1.inputs[k].file)))
        .collect()
}

/// Prints the merged check as `simrace check` prints it.
fn present_check(results: &[CheckResult], a: &MergeArgs, h: &Header) -> u8 {
    let timing = h.flags.get("timing").is_some_and(|t| t == "true");
    for r in results {
        if let Outcome::Invalid(d) = &r.outcome {
            eprint!("{}", d.render());
        }
        if a.format == Format::Text {
            print_out(&format!("{}\n", r.line(timing)));
        }
    }
    finish(results, a.format, a.junit.as_deref(), timing)
}
