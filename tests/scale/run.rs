//! `simrace run FILE --partition` and its merge: the same report whatever the partition
//! (the one that one share holding every task gives), and the exit status of one run, on
//! library and generated scenarios (split from the first step with the hidden
//! `--split-after 0`, so that the tasks are many) and on a published benchmark.

use super::{generated, refused, simrace_to};
use crate::common::{library_files, stderr};
use crate::differential::generate::mixed;

/// `run FILE` with `flags` in `kind` shares of `n` merged: the same stdout (text and
/// JSON) and exit status as one share holding every task (`count:1/1`), and the exit
/// status of `run FILE --jobs 2`.
fn merge_is_one_run(file: &str, flags: &[&str], kind: &str, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = [&["run", file, "--engine", "explore", "--no-timing"], flags].concat();
    let shares = |kind: &str, n: usize| -> Vec<String> {
        (1..=n)
            .map(|i| {
                let out = d.join(format!("{kind}{i}of{n}.json"));
                let p = format!("{kind}:{i}/{n}");
                let o = simrace_to(&[&base[..], &["--partition", &p]].concat(), Some(&out));
                assert_eq!(o.status.code(), Some(0), "{file} share {p}: {}", stderr(&o));
                out.to_string_lossy().into_owned()
            })
            .collect()
    };
    let (all, many) = (shares("count", 1), shares(kind, n));
    let merge = |shares: &[String], format: &str| {
        let shares: Vec<&str> = shares.iter().map(String::as_str).collect();
        simrace_to(
            &[&["merge"], &shares[..], &["--format", format]].concat(),
            None,
        )
    };
    for format in ["text", "json"] {
        let one = merge(&all, format);
        let merged = merge(&many, format);
        let run = simrace_to(
            &[&base[..], &["--jobs", "2", "--format", format]].concat(),
            None,
        );
        assert_eq!(merged.status.code(), run.status.code(), "{file}");
        assert_eq!(
            merged.status.code(),
            one.status.code(),
            "{file}: {}",
            stderr(&merged)
        );
        assert_eq!(
            String::from_utf8_lossy(&merged.stdout),
            String::from_utf8_lossy(&one.stdout),
            "{file}"
        );
    }
}

#[test]
fn library_explorations_in_shares_merge_to_one_run() {
    for file in library_files() {
        merge_is_one_run(&file, &["--split-after", "0"], "count", 2);
    }
}

#[test]
fn generated_explorations_in_shares_merge_to_one_run() {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 20, 12, mixed(3, 3));
    for k in 0..20 {
        let file = dir.path().join(format!("gen{k:02}.toml"));
        merge_is_one_run(&file.to_string_lossy(), &["--split-after", "0"], "hash", 3);
    }
}

#[test]
fn a_published_benchmark_in_shares_merges_to_one_run() {
    // lastzero(10): 3328 executions, split (over 500) at its default.
    merge_is_one_run("benches/scenarios/lastzero10.toml", &[], "count", 3);
}

#[test]
fn merge_refuses_run_shares_of_another_file_or_flags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let share = |file: &str, i: usize, flags: &[&str]| {
        let out = d.join(format!("{i}{}.json", flags.len()));
        let p = format!("count:{i}/2");
        let base = ["run", file, "--engine", "explore", "--partition", &p];
        simrace_to(&[&base[..], flags].concat(), Some(&out));
        out.to_string_lossy().into_owned()
    };
    let a = share("benches/scenarios/lockinc3.toml", 1, &[]);
    let b = share("benches/scenarios/readers3.toml", 2, &["--max-steps", "99"]);
    let merge = |files: &[&str]| simrace_to(&[&["merge"], files].concat(), None);
    refused(&merge(&[&a, &b]), "different flags");
    let c = share("benches/scenarios/readers3.toml", 2, &[]);
    refused(&merge(&[&a, &c]), "shares of different inputs");
    // --partition shares one exploration.
    let o = simrace_to(
        &[
            "run",
            "benches/scenarios/lockinc3.toml",
            "--partition",
            "count:1/2",
        ],
        None,
    );
    refused(&o, "give one FILE and --engine explore");
}
