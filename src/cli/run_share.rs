//! `simrace run FILE --engine explore --partition count:I/N`: one share of the split
//! search's tasks, printed as JSON; and the merge of such shares into the report that
//! `simrace run FILE --engine explore --jobs J` gives (docs/scale.md).

use super::args::{Cli, Command, Engine, Format, MergeArgs, RunArgs};
use super::config::{explorer_config, limit_flags};
use super::{load_or_print, print_out};
use crate::check::{CheckResult, Outcome};
use crate::report;
use crate::search::{self, ShareResult};
use crate::share::{Header, InputId, Partition, file_fingerprint};
use clap::Parser;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A share of a partitioned `run`.
#[derive(Serialize, Deserialize)]
struct RunShare {
    share: Header,
    search: ShareResult,
}

/// One share of `run --partition`: its tasks explored, its JSON result printed (exit
/// status 0; the verdict is the merge's), or 2 for wrong flags or an invalid file.
pub(super) fn run_share(a: &RunArgs, p: Partition) -> u8 {
    if a.engine != Some(Engine::Explore) || a.files.len() != 1 {
        eprintln!(
            "simrace: --partition shares one exploration: give one FILE and --engine explore"
        );
        return 2;
    }
    let path = &a.files[0];
    let prog = match load_or_print(path) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let cfg = explorer_config(&prog, &a.limits, a.engine, &a.engine_opts);
    let result = search::explore_share(&prog, &cfg, &|k, name| p.selects(k, name));
    let inputs = vec![InputId {
        file: path.clone(),
        fingerprint: file_fingerprint(path),
    }];
    let share = RunShare {
        share: Header::new("run", p, run_flags(a), inputs),
        search: result,
    };
    print_out(&format!(
        "{}\n",
        serde_json::to_string(&share).expect("shares serialize")
    ));
    0
}

/// The flags that change an exploration's result (`--jobs` does not).
fn run_flags(a: &RunArgs) -> BTreeMap<String, String> {
    let l = &a.limits;
    let opt = |v: Option<u64>| v.map_or("none".to_string(), |v| v.to_string());
    let mut flags = limit_flags(l);
    flags.extend([
        ("engine".to_string(), "explore".to_string()),
        (
            "preemption-bound".to_string(),
            opt(l.preemption_bound.map(u64::from)),
        ),
        ("timing".to_string(), (!l.no_timing).to_string()),
        ("split-after".to_string(), opt(a.engine_opts.split_after)),
    ]);
    flags
}

/// The `run` command line that made the shares with header `h` (of `file`), back from
/// the flags the header records ([`run_flags`]), read by the command line's own parser:
/// the merge runs again the part of the search that the whole search's limits cut short.
fn run_args_of(h: &Header, file: &str) -> Result<RunArgs, String> {
    let mut argv = vec!["simrace".to_string(), "run".into(), file.into()];
    for (name, value) in &h.flags {
        match (name.as_str(), value.as_str()) {
            (_, "none") | ("timing", "true") => {}
            ("timing", _) => argv.push("--no-timing".into()),
            ("reduction", v) => argv.extend(["--reduction".into(), v.to_lowercase()]),
            (name, v) => argv.extend([format!("--{name}"), v.into()]),
        }
    }
    match Cli::try_parse_from(&argv).map(|c| c.command) {
        Ok(Command::Run(a)) => Ok(a),
        _ => Err(format!(
            "the shares' flags are not a run's: {}",
            argv[3..].join(" ")
        )),
    }
}

/// The merge of `run` shares (already checked to be one run's, once each): the report of
/// the file, which must not have changed since.
pub(super) fn merge_run(
    headers: &[(String, Header)],
    docs: Vec<serde_json::Value>,
    a: &MergeArgs,
) -> Result<u8, String> {
    let h = &headers[0].1;
    let input = h.inputs.first().ok_or("the shares name no file")?;
    if file_fingerprint(&input.file) != input.fingerprint {
        return Err(format!(
            "{} has changed (or cannot be read) since the shares were made: merge where they were made",
            input.file
        ));
    }
    let mut results = vec![];
    for ((path, _), doc) in headers.iter().zip(docs) {
        let share: RunShare =
            serde_json::from_value(doc).map_err(|e| format!("{path} is malformed ({e})"))?;
        results.push(share.search);
    }
    let prog = load_or_print(&input.file).map_err(|_| format!("{} is invalid", input.file))?;
    let run = run_args_of(h, &input.file)?;
    let cfg = explorer_config(&prog, &run.limits, run.engine, &run.engine_opts);
    let ex = search::merge_shares(&prog, &cfg, results)?;
    let timing = h.flags.get("timing").is_some_and(|t| t == "true");
    let rep = report::build(&prog, &ex, "explore", timing);
    match a.format {
        Format::Text => print_out(&report::render_text(&rep)),
        Format::Json => print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&rep).expect("json")
        )),
    }
    // A share that was interrupted makes the merge the report of an interrupted run.
    let code = if ex.stats.interrupted {
        130
    } else {
        u8::from(!rep.matches_expectation)
    };
    if let Some(out) = &a.junit {
        let results = [CheckResult {
            file: input.file.clone(),
            outcome: Outcome::Ran(Box::new(rep)),
        }];
        let written = std::fs::File::create(out)
            .and_then(|f| crate::check::write_junit(&results, timing, std::io::BufWriter::new(f)));
        if let Err(e) = written {
            eprintln!("simrace: cannot write the JUnit report {out}: {e}");
            return Ok(2);
        }
    }
    Ok(code)
}
