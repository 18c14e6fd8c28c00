//! `simrace check --partition` and its merge, on the library and on generated scenarios.

use super::{generated, refused, simrace_to};
use crate::common::stderr;
use crate::differential::generate::mixed;
use std::path::Path;

/// One check of `paths` with `flags`, and the same check in the shares of `partition`
/// kind (`count` or `hash`) of `n`, each a process of its own, merged: the same stdout
/// (text and JSON), stderr, JUnit XML and exit status.
fn merge_is_one_run(paths: &[&str], flags: &[&str], kind: &str, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut shares = vec![];
    for i in 1..=n {
        let out = d.join(format!("share{i}.json"));
        let p = format!("{kind}:{i}/{n}");
        let args = [&["check"], paths, flags, &["--partition", &p]].concat();
        let o = simrace_to(&args, Some(&out));
        assert_eq!(o.status.code(), Some(0), "share {p}: {}", stderr(&o));
        shares.push(out.to_string_lossy().into_owned());
    }
    // The shares in another order than they were made: the order does not matter.
    shares.reverse();
    for format in ["text", "json"] {
        let junit1 = d.join(format!("one-{format}.xml"));
        let junit2 = d.join(format!("merged-{format}.xml"));
        let j1 = junit1.to_string_lossy().into_owned();
        let j2 = junit2.to_string_lossy().into_owned();
        let one_args = [
            &["check"],
            paths,
            flags,
            &["--format", format, "--junit", &j1],
        ]
        .concat();
        let one = simrace_to(&one_args, None);
        let shares: Vec<&str> = shares.iter().map(String::as_str).collect();
        let merge_args = [
            &["merge"],
            &shares[..],
            &["--format", format, "--junit", &j2],
        ]
        .concat();
        let merged = simrace_to(&merge_args, None);
        assert_eq!(
            merged.status.code(),
            one.status.code(),
            "{}",
            stderr(&merged)
        );
        assert_eq!(
            String::from_utf8_lossy(&merged.stdout),
            String::from_utf8_lossy(&one.stdout)
        );
        assert_eq!(stderr(&merged), stderr(&one));
        assert_eq!(
            std::fs::read(&junit2).unwrap(),
            std::fs::read(&junit1).unwrap()
        );
    }
}

#[test]
fn the_library_in_shares_merges_to_one_check() {
    merge_is_one_run(&["scenarios"], &[], "count", 3);
    merge_is_one_run(&["scenarios"], &[], "hash", 2);
}

#[test]
fn generated_scenarios_in_shares_merge_to_one_check() {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 24, 11, mixed(2, 3));
    // An invalid file among them: an error result, exit status 2, its diagnostic on stderr.
    std::fs::write(dir.path().join("gen_bad.toml"), "[[thread]]\nname = 1\n").unwrap();
    let p = dir.path().to_string_lossy().into_owned();
    merge_is_one_run(&[&p], &[], "count", 4);
    merge_is_one_run(&[&p], &["--max-executions", "3"], "hash", 3);
}

/// Three shares of `flags`' check of the bench folder, written to `d`.
fn shares(d: &Path, flags: &[&str]) -> Vec<String> {
    (1..=3)
        .map(|i| {
            let out = d.join(format!("s{i}{}.json", flags.join("")));
            let p = format!("count:{i}/3");
            simrace_to(
                &[
                    &[
                        "check",
                        "benches/scenarios/lockinc3.toml",
                        "benches/scenarios/readers3.toml",
                        "--partition",
                        &p,
                    ],
                    flags,
                ]
                .concat(),
                Some(&out),
            );
            out.to_string_lossy().into_owned()
        })
        .collect()
}

#[test]
fn merge_refuses_shares_of_different_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = shares(d, &[]);
    let other = shares(d, &["--max-steps", "50"]);
    let merge = |files: &[&str]| simrace_to(&[&["merge"], files].concat(), None);
    refused(&merge(&[&s[0], &s[1]]), "missing shares: count:3/3");
    refused(
        &merge(&[&s[0], &s[1], &s[2], &s[1]]),
        "share count:2/3 is given twice",
    );
    refused(
        &merge(&[&s[0], &s[1], &other[2]]),
        "different flags (max-steps: none and 50)",
    );
    // A share made when an input was different.
    let text = std::fs::read_to_string(&s[2]).unwrap();
    let changed = d.join("changed.json");
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["share"]["inputs"][0]["fingerprint"] = "fnv1a128:0".into();
    std::fs::write(&changed, v.to_string()).unwrap();
    let c = changed.to_string_lossy().into_owned();
    refused(&merge(&[&s[0], &s[1], &c]), "has changed between them");
    v["share"]["version"] = "0.0.0".into();
    std::fs::write(&changed, v.to_string()).unwrap();
    refused(&merge(&[&s[0], &s[1], &c]), "different simrace versions");
    refused(&merge(&["Cargo.toml"]), "is not JSON");
    refused(&merge(&["tests/fixtures/nonexistent.json"]), "cannot read");
}
