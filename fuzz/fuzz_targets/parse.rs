//! The front end on arbitrary bytes: loading a scenario (TOML, the code language, the
//! lowering) and rendering its diagnostic never panic, whatever the input. A file that
//! loads is explored a little too (a few short executions), with its report: the
//! mutations of the library's scenarios reach the machine with programs no generator
//! writes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match simrace::parse("fuzz.toml", text) {
        Ok(prog) => {
            let cfg = simrace::Config {
                max_steps: prog.max_steps.unwrap_or(200).min(200),
                max_executions: Some(20),
                step_budget: Some(simrace::DEFAULT_STEP_BUDGET / 10),
                ..simrace::Config::default()
            };
            let ex = simrace::explore(&prog, &cfg);
            let report = simrace::report::build(&prog, &ex, "explore", false);
            let _ = serde_json::to_string(&report).expect("the report serializes");
        }
        Err(d) => {
            let _ = d.render();
        }
    }
});
