//! The split search of `run --partition` against the single search, on generated
//! scenarios split from the first step: the shares together have the single search's
//! executions, findings and outcomes with their counts. The split leaves out each task
//! that it sees hold no execution of its own (threads sleep there that no other party can
//! wake: split.rs `holds_nothing`, machine/future.rs); a task left out that held one
//! would show here as executions, findings or outcomes missing.

use super::generate::{
    Generated, check, mixed, plain, scoped_locks, whole_language, whole_language_v2,
};
use proptest::prelude::*;
use simrace::{Config, Exploration, Program, explore, explore_share, merge_shares};
use std::collections::BTreeMap;

/// The seed of these cases.
const SPLIT: u64 = 21;

/// Findings by key and outcomes by values, each with its count.
fn counted(e: &Exploration) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let findings = e
        .findings
        .iter()
        .map(|f| (format!("{}|{}", f.kind, f.key), f.count))
        .collect();
    let outcomes = e
        .outcomes
        .iter()
        .map(|o| (format!("{:?}", o.values), o.count))
        .collect();
    (findings, outcomes)
}

/// The merged shares of `prog`'s search split from the first step against its single
/// search; `Ok(false)` when either stops at its limit (a split task can do far more than
/// its share of the work: explorer.md), or an execution is cut at `max_steps`.
fn split_is_single(prog: &Program) -> Result<bool, TestCaseError> {
    let cfg = Config {
        max_steps: prog.max_steps.unwrap_or(200),
        max_executions: Some(5_000),
        ..Config::default()
    };
    let single = explore(prog, &cfg);
    // An execution cut at `max_steps` is not maximal, and the split counts such
    // executions apart from the single search (explorer.md).
    let cut = single.stats.max_depth as u64 >= cfg.max_steps;
    if !single.stats.complete || cut {
        return Ok(false);
    }
    let split = Config {
        split_after: 0,
        step_budget: Some(single.stats.steps * 40 + 10_000),
        max_executions: None,
        ..cfg
    };
    let shares = (1..=3)
        .map(|i| explore_share(prog, &split, &|k, _| k % 3 == i - 1))
        .collect();
    let merged = merge_shares(prog, &split, shares).map_err(TestCaseError::fail)?;
    if !merged.stats.complete {
        return Ok(false);
    }
    prop_assert_eq!(merged.stats.executions, single.stats.executions);
    prop_assert_eq!(counted(&merged), counted(&single));
    Ok(true)
}

fn agree(cases: u32, seed: u64, strategy: impl Strategy<Value = Generated>) {
    let cases = crate::common::proptest_cases(cases);
    let compared = std::cell::Cell::new(0u32);
    check(cases, seed, strategy, |prog| {
        compared.set(compared.get() + u32::from(split_is_single(prog)?));
        Ok(())
    });
    assert!(
        compared.get() * 2 >= cases,
        "only {} of {cases} cases complete",
        compared.get()
    );
}

#[test]
fn split_search_has_the_single_searchs_executions() {
    agree(100, SPLIT, mixed(3, 3));
    agree(40, SPLIT + 1, plain(3, 4));
    agree(40, SPLIT + 2, scoped_locks(3, 3));
    agree(40, SPLIT + 3, whole_language());
    agree(40, SPLIT + 4, whole_language_v2());
}
