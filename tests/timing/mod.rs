//! `simrace time`: the timing scenarios under scenarios/timing/ show the shape that
//! seed 002 measures on CPython (CPU-bound threads are no faster than serial under the
//! GIL; processes, I/O-bound threads and free-threaded threads are about twice as fast on
//! two cores), a timeout really waits, a deadlock on the clock says where, and one JSON
//! report is pinned.

use crate::common::{load, simrace};
use simrace::{Problem, TimedRun, Timing, simulate};

fn timed(path: &str, cores: u32, gil: bool) -> TimedRun {
    let prog = load(path);
    let timing = Timing {
        cores,
        gil,
        ..prog.timing
    };
    let r = simulate(&prog, timing);
    assert_eq!(r.problem, None, "{path}");
    r
}

/// One timed run of the scenario `text`, named `name`, on its own `[timing]`.
fn on_the_clock(name: &str, text: &str) -> TimedRun {
    let prog = simrace::parse(name, text).unwrap();
    simulate(&prog, prog.timing)
}

fn speedup(name: &str, cores: u32, gil: bool) -> f64 {
    timed(&format!("scenarios/timing/{name}.toml"), cores, gil).speedup()
}

#[test]
fn cpu_bound_threads_are_no_faster_than_serial_under_the_gil() {
    let serial = speedup("cpu_serial", 2, true);
    assert!((0.95..=1.0).contains(&serial), "{serial}");
    for cores in [1, 2, 4] {
        let threads = speedup("cpu_threads", cores, true);
        assert!(threads <= 1.0 && threads > 0.9, "{cores} cores: {threads}");
    }
}

#[test]
fn cpu_bound_processes_are_about_twice_as_fast_on_two_cores() {
    for name in ["cpu_processes", "cpu_pool"] {
        let p = speedup(name, 2, true);
        assert!((1.8..=2.0).contains(&p), "{name}: {p}");
    }
    // One core: no faster than serial.
    let one = speedup("cpu_processes", 1, true);
    assert!(one <= 1.0, "{one}");
}

#[test]
fn free_threaded_cpu_bound_threads_are_about_twice_as_fast() {
    let t = speedup("cpu_threads", 2, false);
    assert!((1.9..=2.0).contains(&t), "{t}");
}

#[test]
fn io_bound_threads_and_processes_are_about_twice_as_fast() {
    let serial = speedup("io_serial", 2, true);
    assert!((0.95..=1.0).contains(&serial), "{serial}");
    for name in ["io_threads", "io_processes"] {
        for cores in [1, 2] {
            let s = speedup(name, cores, true);
            assert!((1.8..=2.0).contains(&s), "{name} on {cores} cores: {s}");
        }
    }
}

#[test]
fn a_convoy_makes_the_io_thread_wait_for_the_gil() {
    let r = timed("scenarios/timing/convoy.toml", 2, true);
    let io = r.parties.iter().find(|p| p.name == "io").unwrap();
    // Ten waits of 1 ms and 0.1 ms of CPU each, but the GIL comes back only after a
    // switch interval.
    assert!(io.gil_wait_us >= 40_000, "{io:?}");
    let free = timed("scenarios/timing/convoy.toml", 2, false);
    let io_free = free.parties.iter().find(|p| p.name == "io").unwrap();
    assert_eq!(io_free.gil_wait_us, 0);
    assert!(io_free.end_us.unwrap() < 12_000, "{io_free:?}");
}

#[test]
fn a_busy_wait_burns_the_gil_that_the_worker_needs() {
    let r = timed("scenarios/timing/busy_wait.toml", 2, true);
    // The worker's 100 ms take about twice as long; the spinner burns as much CPU.
    assert!((0.45..=0.55).contains(&r.speedup()), "{}", r.speedup());
    let main = r.parties.iter().find(|p| p.name == "main").unwrap();
    assert!(main.cpu_us >= 90_000, "{main:?}");
    let free = timed("scenarios/timing/busy_wait.toml", 2, false);
    assert!(free.speedup() > 0.95, "{}", free.speedup());
}

#[test]
fn every_party_accounts_for_its_whole_life() {
    for name in [
        "cpu_threads",
        "cpu_processes",
        "io_threads",
        "convoy",
        "busy_wait",
    ] {
        let r = timed(&format!("scenarios/timing/{name}.toml"), 2, true);
        for p in &r.parties {
            let (Some(start), Some(end)) = (p.start_us, p.end_us) else {
                panic!("{name}: {p:?} did not run")
            };
            let counted = p.cpu_us + p.gil_wait_us + p.core_wait_us + p.blocked_us + p.sleep_us;
            let starting: u64 = r
                .timeline
                .iter()
                .filter(|s| r.parties[s.party as usize].name == p.name)
                .filter(|s| s.state == simrace::PartyState::Starting)
                .map(|s| s.to_us - s.from_us)
                .sum();
            assert_eq!(counted + starting, end - start, "{name}: {p:?}");
        }
    }
}

const TIMED_WAIT: &str = r#"
[objects]
ev = "Event"
[[thread]]
name = "waiter"
code = """
ok = ev.wait(timeout=0.25)
assert not ok
"""
"#;

#[test]
fn a_timeout_really_waits_then_gives_up() {
    let r = on_the_clock("timed.toml", TIMED_WAIT);
    assert_eq!(r.problem, None);
    assert!((250_000..251_000).contains(&r.wall_us), "{}", r.wall_us);
    assert_eq!(r.parties[0].blocked_us, 250_000);
}

/// An AsyncResult's `wait(timeout=t)` and `get(timeout=t)` take seconds, decimals too, and
/// give up on the clock (they were rejected as decimals, and waited for the value).
#[test]
fn an_async_result_timeout_gives_up_on_the_clock() {
    let r = on_the_clock(
        "async.toml",
        r#"
[objects]
pool = { kind = "Pool", processes = 1 }
[functions]
code = """
def slow():
    sleep(2)
    return 7
"""
[[thread]]
name = "main"
code = """
r = pool.apply_async(slow, ())
r.wait(timeout=0.25)
v = r.get(timeout=0.5)
assert v is None
"""
"#,
    );
    assert_eq!(r.problem, None);
    // 250 + 500 ms of waiting, and a microsecond for each of main's four steps (before,
    // the waits ignored their timeouts on the clock and main ended at 2,020 ms).
    assert_eq!(r.wall_us, 750_004);
    assert_eq!(r.parties[0].blocked_us, 750_000);
}

/// A Pipe's `poll(timeout=t)` waits its `t` on the clock when nothing comes (before, it
/// gave up at once), and less when something does; and what a daemon stopped in the
/// middle of a `sleep` or a `work` did not do is not in `serial` (before, both were
/// counted whole).
#[test]
fn a_poll_waits_its_timeout_and_a_stopped_daemon_counts_what_it_did() {
    let r = on_the_clock(
        "poll.toml",
        r#"
[timing]
gil = false
[objects]
c = "Pipe"
[[process]]
name = "late"
start = false
daemon = true
code = """
sleep(1)
c[1].send(1)
"""
[[thread]]
name = "busy"
start = false
daemon = true
code = """
work(2)
"""
[[thread]]
name = "main"
code = """
late.start()
busy.start()
assert not c[0].poll(timeout=0.25)
assert c[0].poll(timeout=5)
"""
"#,
    );
    assert_eq!(r.problem, None);
    // Without the GIL, nobody waits for it. The process starts at 20 ms (its start
    // cost) and sends at 1,020 ms; main waits 250 ms, then until the send (the
    // microseconds are steps).
    let main = &r.parties[2];
    assert_eq!(main.blocked_us, 250_000 + 769_999, "{r:?}");
    assert_eq!(r.wall_us, 1_020_005, "{r:?}");
    // late slept its 1,000 ms whole; busy worked as long as the GIL let it, at most
    // the wall time, and not its 2,000 ms.
    let busy = r.parties[1].cpu_us;
    assert!(busy < r.wall_us, "{r:?}");
    assert_eq!(r.serial_us, 1_000_000 + busy, "{r:?}");
}

/// A negative timeout gives up at once on the clock too, but for a Lock's `-1`, which
/// waits as long as it takes.
#[test]
fn a_negative_timeout_gives_up_at_once_but_a_locks_minus_one_waits() {
    let r = on_the_clock(
        "negative.toml",
        r#"
[objects]
m = "Lock"
s = { kind = "Semaphore", value = 0 }
e = "Event"
[[thread]]
name = "main"
code = """
m.acquire()
assert not s.acquire(timeout=-1)
assert not e.wait(timeout=-0.5)
m.acquire(timeout=-1)
"""
"#,
    );
    assert!(
        matches!(&r.problem, Some(Problem::Stuck(why)) if why.contains("m")),
        "the second acquire of m waits for ever: {:?}",
        r.problem
    );
    assert!(r.wall_us < 10, "{}", r.wall_us);
}

const ABBA: &str = r#"
[objects]
a = "Lock"
b = "Lock"
[[thread]]
name = "t1"
code = """
with a:
    sleep(0.01)
    with b:
        pass
"""
[[thread]]
name = "t2"
code = """
with b:
    sleep(0.01)
    with a:
        pass
"""
"#;

#[test]
fn a_timed_wait_ends_early_when_what_it_waits_for_comes() {
    let r = on_the_clock(
        "queue.toml",
        r#"
[objects]
q = "Queue"
cv = "Condition"
[[thread]]
name = "consumer"
code = """
v = q.get(timeout=0.1)
assert v is None
v = q.get(timeout=0.5)
assert v == 7
with cv:
    ok = cv.wait(timeout=1)
assert ok
"""
[[thread]]
name = "producer"
code = """
sleep(0.2)
q.put(7)
sleep(0.3)
with cv:
    cv.notify()
"""
"#,
    );
    assert_eq!(r.problem, None);
    // The first get gives up at 100 ms, the second gets the item at 200 ms, the wait is
    // notified at 500 ms.
    assert!((500_000..501_000).contains(&r.wall_us), "{}", r.wall_us);
    assert!(r.parties[0].blocked_us >= 499_000, "{:?}", r.parties[0]);
}

#[test]
fn a_deadlock_on_the_clock_says_where_and_exits_1() {
    let r = on_the_clock("abba.toml", ABBA);
    let Some(Problem::Stuck(m)) = &r.problem else {
        panic!("{:?}", r.problem)
    };
    assert!(m.contains("t1 (line 10) waits to acquire b"), "{m}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("abba.toml");
    std::fs::write(&path, ABBA).unwrap();
    let out = simrace(&["time", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("deadlock"));
    let out = simrace(&["time", "tests/bad/duplicate_name.toml"]);
    assert_eq!(out.status.code(), Some(2));
    // A bad file among good ones: the good ones are still timed and reported (nothing
    // was), the bad one is an error object in the JSON, and the status is 2.
    let both = [
        "time",
        "tests/bad/duplicate_name.toml",
        "scenarios/counter.toml",
    ];
    let out = simrace(&both);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("time scenarios/counter.toml"));
    let out = simrace(&[&both[..], &["--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["file"], "tests/bad/duplicate_name.toml");
    assert!(v[0]["error"]["line"].is_u64());
    assert_eq!(v[1]["scenario"], "counter");
}

#[test]
fn a_run_stops_after_600_simulated_seconds() {
    let prog = simrace::parse(
        "long.toml",
        "[[thread]]\nname = \"t\"\ncode = \"sleep(700)\"\n",
    )
    .unwrap();
    let r = simulate(&prog, prog.timing);
    assert_eq!(r.problem, Some(Problem::TimeLimit));
    assert_eq!(r.wall_us, 600_000_000);
}

#[test]
fn the_json_report_is_pinned() {
    let out = simrace(&[
        "time",
        "scenarios/timing/cpu_processes.toml",
        "--cores",
        "1,2",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let again = simrace(&[
        "time",
        "scenarios/timing/cpu_processes.toml",
        "--cores",
        "1,2",
        "--format",
        "json",
    ]);
    assert_eq!(text, String::from_utf8(again.stdout).unwrap());
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("time_cpu_processes_json", text);
    });
}

/// A Pool's workers start with the scenario and pay the process start cost before their
/// first step, as SCENARIO.md says; so the main program's `map` waits for them.
#[test]
fn pool_workers_pay_the_process_start_cost() {
    let prog = load("scenarios/pool/seed_map.toml");
    let start = prog.timing.process_start_us;
    assert!(start > 0);
    let r = timed("scenarios/pool/seed_map.toml", 2, true);
    for p in r
        .parties
        .iter()
        .filter(|p| p.name.starts_with("pool.worker"))
    {
        assert_eq!(p.start_us, Some(0), "{}", p.name);
    }
    assert!(
        r.wall_us >= start,
        "wall {} before the workers began",
        r.wall_us
    );
}

/// `simrace time --html OUT`'s page for `file`, with the text report it printed.
fn timeline_page(file: &str, extra: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("time.html");
    let mut args = vec!["time", file, "--html", page.to_str().unwrap()];
    args.extend(extra);
    let out = simrace(&args);
    assert_eq!(out.status.code(), Some(0), "{file}");
    let html = std::fs::read_to_string(&page).unwrap();
    (html, String::from_utf8(out.stdout).unwrap())
}

/// The lanes of a page: per `<g class="lane">`, its party and the states of its stretches
/// with their widths, in order.
fn page_lanes(html: &str) -> Vec<(String, Vec<(String, f64)>)> {
    let attr = |s: &str, name: &str| -> String {
        let from = s.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        s[from..from + s[from..].find('"').unwrap()].to_string()
    };
    html.split("<g class=\"lane\" ")
        .skip(1)
        .map(|g| {
            let g = &g[..g.find("</g>").unwrap()];
            let rects = g
                .split("<rect ")
                .skip(1)
                .map(|r| (attr(r, "data-state"), attr(r, "width").parse().unwrap()))
                .collect();
            (attr(g, "data-party"), rects)
        })
        .collect()
}

#[test]
fn the_html_timeline_has_a_lane_per_party_coloured_by_state() {
    let (html, text) = timeline_page("scenarios/timing/cpu_threads.toml", &[]);
    // The page does not replace the text report.
    assert!(text.contains("speedup 1.00x"), "{text}");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>simrace time: cpu_threads</title>"));
    assert!(html.contains("wall 1000.0 ms, serial 1000.0 ms, speedup 1.00x"));
    let lanes = page_lanes(&html);
    let names: Vec<&str> = lanes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["main", "task[0]", "task[1]"]);
    let states = |i: usize| -> std::collections::BTreeSet<&str> {
        lanes[i].1.iter().map(|(s, _)| s.as_str()).collect()
    };
    // main starts the tasks, then waits in join; the tasks take turns with the GIL.
    assert_eq!(states(0), ["blocked", "running"].into());
    let blocked: f64 = lanes[0]
        .1
        .iter()
        .filter(|(s, _)| s == "blocked")
        .map(|(_, w)| w)
        .sum();
    assert!(blocked > 899.0, "{blocked}");
    assert_eq!(states(1), ["gil_wait", "running"].into());
    assert_eq!(states(2), ["gil_wait", "running"].into());
    // Each lane covers the whole run: its stretches add up to the plot's width (900).
    for (name, rects) in &lanes {
        let w: f64 = rects.iter().map(|(_, w)| w).sum();
        assert!((w - 900.0).abs() < 0.5, "{name}: {w}");
    }
    // Half of each task's time runs, half waits for the GIL.
    let running: f64 = lanes[1]
        .1
        .iter()
        .filter(|(s, _)| s == "running")
        .map(|(_, w)| w)
        .sum();
    assert!((running - 450.0).abs() < 10.0, "{running}");

    // Processes: a core each, after starting; I/O: asleep; one core: waiting for a core.
    let (html, _) = timeline_page("scenarios/timing/cpu_pool.toml", &["--cores", "1,2"]);
    assert_eq!(html.matches("<div class=\"run\"").count(), 2);
    let lanes_1 = page_lanes(html.split("data-cores=\"2\"").next().unwrap());
    // On one core the second worker waits for the core the first one keeps.
    assert_eq!(lanes_1[2].0, "pool.worker[1]");
    assert_eq!(lanes_1[2].1[0].0, "starting");
    let core_wait: f64 = lanes_1[2]
        .1
        .iter()
        .filter(|(s, _)| s == "core_wait")
        .map(|(_, w)| w)
        .sum();
    assert!(core_wait > 850.0, "{:?}", lanes_1[2]);
    let (html, _) = timeline_page("scenarios/timing/io_threads.toml", &[]);
    let lanes = page_lanes(&html);
    assert!(lanes[1].1.iter().any(|(s, _)| s == "sleeping"), "{lanes:?}");
}

#[test]
fn the_html_timeline_page_is_pinned() {
    let (html, _) = timeline_page("scenarios/timing/io_processes.toml", &[]);
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("time_io_processes_html", html);
    });
}

/// The text timeline draws a process's start-up as `s`, and says so: it was a `.`, which
/// the legend calls blocked or asleep.
#[test]
fn the_text_timeline_shows_a_process_starting() {
    let out = simrace(&["time", "scenarios/timing/cpu_processes.toml"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("s starts, . blocked or asleep"), "{text}");
    let lane = text.lines().find(|l| l.contains("task[0] |")).unwrap();
    assert!(lane.contains("|ss#"), "{lane}");
}

/// `--gil on,off` gives a run of each setting for every `--cores` value, in that order,
/// each the run its single flags give (the settings compared side by side, as `--cores
/// 1,2` does).
#[test]
fn several_gil_settings_give_a_run_each() {
    let file = "scenarios/timing/cpu_threads.toml";
    let json = |flags: &[&str]| -> serde_json::Value {
        let out = simrace(&[&["time", file, "--format", "json"], flags].concat());
        assert_eq!(out.status.code(), Some(0));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let both = json(&["--cores", "1,2", "--gil", "on,off"]);
    let runs = both["runs"].as_array().unwrap();
    let settings: Vec<(u64, bool)> = runs
        .iter()
        .map(|r| (r["cores"].as_u64().unwrap(), r["gil"].as_bool().unwrap()))
        .collect();
    assert_eq!(settings, [(1, true), (1, false), (2, true), (2, false)]);
    for r in runs {
        let gil = if r["gil"].as_bool().unwrap() {
            "on"
        } else {
            "off"
        };
        let cores = r["cores"].to_string();
        let one = json(&["--cores", &cores, "--gil", gil]);
        assert_eq!(one["runs"][0], *r, "{cores} cores, GIL {gil}");
    }
    // The GIL makes CPU-bound threads on two cores no faster; without it they are.
    let wall = |i: usize| runs[i]["wall_ms"].as_f64().unwrap();
    assert!(wall(3) < wall(2), "{} {}", wall(3), wall(2));
}

/// A loop that sleeps at every turn polls: the spin-loop rule blocks it until another
/// party writes what it reads, and on the clock it sleeps turn after turn, holding no
/// core nor the GIL, and sees the write at the end of the turn it is in. It was taken
/// for a loop that never sleeps: 805 ms of CPU of its 1,005 (CPython: under 1 ms).
#[test]
fn a_loop_that_sleeps_polls_without_burning_a_core() {
    let text = |busy: &str| {
        format!(
            r#"
[atomics]
ready = false
[[thread]]
name = "poller"
code = """
while not ready:
    sleep(0.1)
"""
[[thread]]
name = "setter"
code = """
sleep(1)
ready = True
"""
[[thread]]
name = "busy"
code = """
work({busy})
"""
"#
        )
    };
    let r = on_the_clock("poll_loop.toml", &text("0"));
    assert_eq!(r.problem, None);
    let poller = &r.parties[0];
    assert!(poller.cpu_us < 1_000, "{poller:?}");
    assert!(poller.sleep_us >= 990_000, "{poller:?}");
    assert!((1_000_000..1_100_000).contains(&r.wall_us), "{r:?}");
    // Beside a thread that needs the GIL for 1 s, the poller takes it only to look.
    let r = on_the_clock("poll_loop.toml", &text("1"));
    let busy = &r.parties[2];
    assert!(busy.gil_wait_us < 10_000, "{busy:?}");
    assert!(r.parties[0].cpu_us < 1_000, "{r:?}");
}

/// What a process stopped by `terminate()` in the middle of its `work` (or `sleep`) did
/// not do is not in `serial`: it was counted whole (`work(5)` stopped after 80 ms gave a
/// speedup of 51 on 2 cores).
#[test]
fn a_terminated_process_counts_what_it_did() {
    for (op, busy) in [("work(5)", true), ("sleep(5)", false)] {
        let r = on_the_clock(
            "terminated.toml",
            &format!(
                r#"
[[process]]
name = "p"
code = """
{op}
"""
[[thread]]
name = "main"
code = """
sleep(0.1)
p.terminate()
p.join()
"""
"#
            ),
        );
        assert_eq!(r.problem, None);
        let p = &r.parties[0];
        let done = if busy { p.cpu_us } else { p.sleep_us };
        assert!(done > 0 && done < 100_000, "{op}: {r:?}");
        assert_eq!(r.serial_us, 100_000 + done, "{op}: {r:?}");
        assert!(r.speedup() < 2.0, "{op}: {}", r.speedup());
    }
}
