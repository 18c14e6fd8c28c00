//! `simrace run`: each file through the explorer (and by default the native engine and,
//! when a python3 is found, briefly the cpython engine), or
//! through the one engine named; its report printed as text or gathered into one JSON
//! document; optionally an HTML page and the deadlocks' wait-for graphs in DOT.

use super::args::{Engine, Format, RunArgs};
use super::config::{
    cpython_config, explorer_config, explorer_name, is_explorer, model_settings, native_config,
};
use super::{load, print_out};
use crate::detect::waitfor::{self, DeadlockReport};
use crate::engines::{cpython, loom, native, shuttle};
use crate::frontend::diag::Diagnostic;
use crate::ir::Program;
use crate::report::html::{self, ScenarioPage, Section};
use crate::report::{self, EngineReport, RunReport};
use crate::search;
use std::sync::Arc;

/// What the files gave so far: the exit status and what is written once all have run.
#[derive(Default)]
struct Run {
    status: u8,
    /// One value per file, for `--format json`.
    json: Vec<serde_json::Value>,
    /// One section per file, for `--html`.
    pages: Vec<Section>,
    /// Every deadlock's wait-for graph with its title, for `--dot`.
    graphs: Vec<(String, DeadlockReport)>,
}

pub(super) fn run(a: &RunArgs) -> u8 {
    if a.engine_opts.shuttle_schedule.is_some() && a.engine != Some(Engine::Shuttle) {
        eprintln!("simrace: --shuttle-schedule replays with shuttle: add --engine shuttle");
        return 2;
    }
    if let Some(p) = a.partition {
        return super::run_share::run_share(a, p);
    }
    let mut run = Run::default();
    for (i, path) in a.files.iter().enumerate() {
        if super::interrupted() {
            break; // Ctrl-C: the files after the interrupted one are not run
        }
        run_file(a, &mut run, i, path);
    }
    finish(a, run)
}

/// Runs file number `i` and adds what it gave to `run`.
fn run_file(a: &RunArgs, run: &mut Run, i: usize, path: &str) {
    let prog = match load(path) {
        Ok(p) => Arc::new(p),
        Err(d) => return invalid(a, run, path, &d),
    };
    let explorer = is_explorer(a.engine);
    let rep = if explorer {
        explore(a, run, path, &prog)
    } else {
        match engine_only(a, run, path, &prog) {
            Some(rep) => rep,
            None => return,
        }
    };
    if !rep.matches_expectation && run.status == 0 {
        run.status = 1;
    }
    if a.html.is_some() {
        run.pages
            .push(Section::Scenario(ScenarioPage::from_report(&prog, &rep)));
    }
    add_deadlock_graphs(run, &rep);
    match a.format {
        Format::Text => {
            if i > 0 {
                print_out("\n");
            }
            if explorer {
                print_out(&report::render_text(&rep));
            } else {
                print_out(&report::render_engine_text(&rep));
            }
        }
        Format::Json => run
            .json
            .push(serde_json::to_value(&rep).expect("reports serialize")),
    }
}

/// A file that does not load: its diagnostic on stderr, in the HTML page and the JSON.
fn invalid(a: &RunArgs, run: &mut Run, path: &str, d: &Diagnostic) {
    eprint!("{}", d.render());
    run.pages.push(Section::Error {
        file: path.to_string(),
        message: d.render(),
    });
    if a.format == Format::Json {
        run.json.push(d.json_for(path));
    }
    run.status = 2;
}

/// The explorer's report, with the native engine's result when no engine was named.
fn explore(a: &RunArgs, run: &mut Run, path: &str, prog: &Arc<Program>) -> RunReport {
    let cfg = explorer_config(prog, &a.limits, a.engine, &a.engine_opts);
    let ex = search::explore(prog, &cfg);
    let mut rep = report::build(prog, &ex, explorer_name(a.engine), !a.limits.no_timing);
    if a.engine.is_none() && !ex.stats.interrupted {
        match run_engine(a, Engine::Native, path, prog) {
            Ok(e) => rep.engines.push(e),
            Err(e) => {
                eprintln!("simrace: {path}: the native engine cannot run it: {e}");
                run.status = 2;
            }
        }
        // CPython too, briefly, when there is one.
        if !a.engine_opts.no_python
            && let Some(py) = default_python(a)
        {
            match run_cpython(a, path, prog, &py, true) {
                Ok(e) => rep.engines.push(e),
                Err(e) => eprintln!("simrace: {path}: the cpython engine cannot run it: {e}"),
            }
        }
    }
    rep
}

/// The report of the one (non-explorer) engine named; `None` when it cannot run the file
/// (said on stderr and in the JSON).
fn engine_only(a: &RunArgs, run: &mut Run, path: &str, prog: &Arc<Program>) -> Option<RunReport> {
    let engine = a.engine.expect("the explorer runs when no engine is named");
    match run_engine(a, engine, path, prog) {
        Ok(r) => Some(report::from_engine(prog, r)),
        Err(e) => {
            eprintln!("simrace: {path}: {e}");
            if a.format == Format::Json {
                run.json.push(serde_json::json!({
                    "file": path,
                    "error": {"message": e},
                }));
            }
            run.status = 2;
            None
        }
    }
}

/// Runs one non-explorer engine; `Err`: it cannot run this scenario.
fn run_engine(
    a: &RunArgs,
    engine: Engine,
    path: &str,
    prog: &Arc<Program>,
) -> Result<EngineReport, String> {
    let (limits, opts) = (&a.limits, &a.engine_opts);
    let timing = !limits.no_timing;
    match engine {
        Engine::Native => {
            let t = native::run(prog, &native_config(prog, limits, opts))?;
            Ok(report::engine_report(prog, &t, "native", None, timing))
        }
        Engine::Loom => {
            let s = model_settings(prog, limits, opts);
            let t = loom::run_in_child(path, prog, &s)?;
            Ok(report::engine_report(prog, &t, "loom", None, timing))
        }
        Engine::Shuttle => {
            let s = model_settings(prog, limits, opts);
            let t = match &opts.shuttle_schedule {
                Some(sched) => shuttle::replay(prog, &s, sched),
                None => shuttle::run_in_child(path, &s)?,
            };
            let scheduler = Some(s.scheduler);
            Ok(report::engine_report(
                prog, &t, "shuttle", scheduler, timing,
            ))
        }
        Engine::Cpython => {
            let py = cpython::find_python(opts.python.as_deref())?;
            run_cpython(a, path, prog, &py, false)
        }
        Engine::Explore | Engine::Random | Engine::Pct => {
            Err("this engine is not available yet; use --engine explore".into())
        }
    }
}

/// The Python of the default run: `--python`, else python3 on PATH, found once; `None`
/// when there is none (the default run then goes without it).
fn default_python(a: &RunArgs) -> Option<cpython::Python> {
    static FOUND: std::sync::OnceLock<Option<cpython::Python>> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| cpython::find_python(a.engine_opts.python.as_deref()).ok())
        .clone()
}

/// Runs the scenario at `path` on CPython; `default_run`: briefly, within the default run.
fn run_cpython(
    a: &RunArgs,
    path: &str,
    prog: &Arc<Program>,
    py: &cpython::Python,
    default_run: bool,
) -> Result<EngineReport, String> {
    let s = crate::frontend::scenario::load(path).map_err(|d| d.render())?;
    let cfg = cpython_config(prog, &a.limits, &a.engine_opts, default_run);
    let t = cpython::run(&s, prog, py, &cfg)?;
    Ok(report::engine_report(
        prog,
        &t,
        "cpython",
        None,
        !a.limits.no_timing,
    ))
}

/// Keeps the wait-for graph of every deadlock in `rep`, titled by scenario and file (and
/// numbered when there are several).
fn add_deadlock_graphs(run: &mut Run, rep: &RunReport) {
    let deadlocks: Vec<_> = rep
        .findings
        .iter()
        .filter_map(|f| f.deadlock.as_ref())
        .collect();
    for (k, d) in deadlocks.iter().enumerate() {
        let mut title = format!("{} ({}): deadlock", rep.scenario, rep.file);
        if deadlocks.len() > 1 {
            title.push_str(&format!(" {}", k + 1));
        }
        run.graphs.push((title, (*d).clone()));
    }
}

/// Writes what is written once every file has run (the DOT file, the JSON document, the
/// HTML page) and gives the exit status.
fn finish(a: &RunArgs, mut run: Run) -> u8 {
    if let Some(file) = &a.dot {
        let refs: Vec<(String, &DeadlockReport)> =
            run.graphs.iter().map(|(t, d)| (t.clone(), d)).collect();
        if let Err(e) = std::fs::write(file, waitfor::dot(&refs)) {
            eprintln!("simrace: cannot write {file}: {e}");
            run.status = 2;
        }
    }
    if a.format == Format::Json {
        let v = if a.files.len() == 1 && run.json.len() == 1 {
            run.json.pop().unwrap()
        } else {
            serde_json::Value::Array(run.json)
        };
        print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&v).expect("json")
        ));
    }
    if let Some(out) = &a.html
        && let Err(e) = std::fs::write(out, html::render(&run.pages))
    {
        eprintln!("simrace: cannot write {out}: {e}");
        return 2;
    }
    run.status
}
