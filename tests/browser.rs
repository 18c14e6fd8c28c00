//! The HTML report in a real browser: `simrace run --html` writes one page for a deadlock
//! and a racy counter, headless Chromium loads it, and the DOM it builds must show what
//! the report says: one lane per thread, the finding kinds, the source lines, the
//! wait-for graph of the deadlock, the outcome table.
//!
//! `simrace serve`'s page in the same browser: loaded from a running server, it checks,
//! runs, plays and grades through the server's calls, and the DOM must show the answers.
//!
//! Needs Debian's chromium (`.ci/run` installs it); without it this test fails, it does
//! not skip.

use crate::common::{count, simrace_command};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> PathBuf {
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.exists() {
        return fixed.to_path_buf();
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromium"))
            .find(|p| p.exists())
    });
    found.unwrap_or_else(|| {
        panic!(
            "chromium is not installed, and this test needs a real browser: \
             install it with `apt-get install -y chromium` (.ci/run does)"
        )
    })
}

/// Loads `page` in headless Chromium and returns the DOM it built.
fn dump_dom(page: &Path, profile: &Path) -> String {
    dump_url(&format!("file://{}", page.display()), profile)
}

/// Loads `url` in headless Chromium, lets its scripts and their requests run (virtual
/// time waits for pending fetches), and returns the DOM it built.
fn dump_url(url: &str, profile: &Path) -> String {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--virtual-time-budget=20000")
        .arg("--dump-dom")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let start = Instant::now();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).map(|_| s)
    });
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().unwrap().expect("read chromium's output")
}

#[test]
fn the_report_page_shows_lanes_graph_and_outcomes_in_chromium() {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("html-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("report.html");
    let status = simrace_command()
        .args([
            "run",
            "scenarios/locks/abba_deadlock.toml",
            "scenarios/counter.toml",
            "--no-timing",
            "--html",
        ])
        .arg(&page)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0), "both scenarios are as expected");

    let dom = dump_dom(&page, &dir.join("profile"));
    assert!(dom.contains("<title>simrace report</title>"), "{dom}");
    let sections: Vec<&str> = dom.split("<section class=\"scenario\"").skip(1).collect();
    assert_eq!(sections.len(), 2, "one section per scenario");
    let (abba, counter) = (sections[0], sections[1]);

    // The deadlock: two threads, so two lanes; its kind, its source lines, its graph.
    assert!(abba.contains("data-scenario=\"abba_deadlock\""));
    assert_eq!(count(abba, "<th class=\"lane\""), 2);
    assert!(abba.contains("data-thread=\"t1\""));
    assert!(abba.contains("data-thread=\"t2\""));
    assert_eq!(count(abba, "data-kind=\"deadlock\""), 1);
    assert!(abba.contains("<code class=\"src\">with a:</code>"));
    assert!(abba.contains("<code class=\"src\">with b:</code>"));
    assert!(abba.contains("waits to acquire b, held by t2"));
    assert_eq!(count(abba, "<svg class=\"waitfor\""), 1);
    assert_eq!(count(abba, "<ellipse"), 2, "two thread nodes");
    assert_eq!(
        count(abba, "class=\"edge in-cycle\""),
        4,
        "the cycle is highlighted"
    );
    assert!(
        !abba.contains("class=\"outcomes\""),
        "a deadlock with no completed run"
    );

    // The racy counter: the three findings each with two lanes, the races marked.
    assert!(counter.contains("data-scenario=\"counter\""));
    assert_eq!(count(counter, "<th class=\"lane\""), 3 * 2);
    assert_eq!(count(counter, "data-kind=\"assertion\""), 1);
    assert_eq!(count(counter, "data-kind=\"data_race\""), 2);
    assert!(counter.contains("<code class=\"src\">tmp = counter</code>"));
    assert!(counter.contains("<code class=\"src\">counter = tmp + 1</code>"));
    assert_eq!(count(counter, "class=\"cell race-access\""), 4);
    assert!(!counter.contains("<svg"));
    // The outcome table: counter 1 and counter 2, two executions each.
    assert_eq!(count(counter, "<tr class=\"outcome\">"), 2);
    assert!(counter.contains("<tr class=\"outcome\"><td>1</td><td class=\"count\">2</td>"));
    assert!(counter.contains("<tr class=\"outcome\"><td>2</td><td class=\"count\">2</td>"));

    let _ = std::fs::remove_dir_all(&dir);
}

/// A running `simrace serve --port 0`, stopped when dropped.
struct Server {
    child: std::process::Child,
    port: u16,
}

impl Server {
    fn start() -> Server {
        let mut child = simrace_command()
            .args(["serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start simrace serve");
        let mut line = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        let port = line
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Server { child, port }
    }

    /// The page's DOM once the action in `link` (`?file=...#run`) is done.
    fn page(&self, link: &str, profile: &Path) -> String {
        let dom = dump_url(&format!("http://127.0.0.1:{}/{link}", self.port), profile);
        let action = link.rsplit('#').next().unwrap().split('=').next().unwrap();
        assert!(
            dom.contains(&format!("data-done=\"{action}\"")),
            "the page did not finish {action}:\n{dom}"
        );
        dom
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_serve_page_checks_runs_plays_and_grades_in_chromium() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("serve-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("profile");
    let server = Server::start();

    // A syntax error is shown at its line, with the command line's message.
    let dom = server.page(
        "?file=tests%2Fbad%2Farray_without_index.toml#check",
        &profile,
    );
    assert!(
        dom.contains("<div class=\"diag\" data-line=\"6\">line 6, column 1: `slots` is an array"),
        "{dom}"
    );
    assert_eq!(count(&dom, "<div class=\"diag\" data-line=\"6\""), 1);
    assert!(!dom.contains("<div class=\"diag\" data-line=\"5\""));

    // The explorer's report: the verdict, and the lanes of each finding.
    let dom = server.page("?file=scenarios%2Fcounter.toml#run", &profile);
    assert!(dom.contains("id=\"verdict\">PASS</span>"), "{dom}");
    assert_eq!(count(&dom, "data-kind=\"data_race\""), 2);
    assert_eq!(count(&dom, "data-kind=\"assertion\""), 1);
    assert_eq!(count(&dom, "<th class=\"lane\""), 3 * 2);
    assert!(dom.contains("<code class=\"src\">tmp = counter</code>"));

    // The scheduler game: after t1 and t2 take their first locks, they deadlock.
    let dom = server.page(
        "?file=scenarios%2Flocks%2Fabba_deadlock.toml#step=t1",
        &profile,
    );
    assert!(dom.contains("<code id=\"schedule\">0</code>"), "{dom}");
    assert_eq!(
        (count(&dom, "data-choice=\"0\"") + count(&dom, "data-choice=\"1\"")),
        2,
        "both threads can still move"
    );
    assert!(!dom.contains("You win: deadlock"), "{dom}");
    let dom = server.page(
        "?file=scenarios%2Flocks%2Fabba_deadlock.toml#step=t1,t2",
        &profile,
    );
    assert!(dom.contains("id=\"finding\">You win: deadlock:"), "{dom}");
    assert_eq!(
        (count(&dom, "data-choice=\"0\"") + count(&dom, "data-choice=\"1\"")),
        0
    );

    // Grading: the fix passes, the unchanged file fails with its reason.
    let dom = server.page(
        "?file=exercises%2Flost_update%2Fsubmissions%2Ffixed_with_lock.toml#grade=lost_update",
        &profile,
    );
    assert!(
        dom.contains("id=\"grade-verdict\">PASS</span> 2/2"),
        "{dom}"
    );
    let dom = server.page(
        "?file=exercises%2Flost_update%2Fsubmissions%2Funchanged.toml#grade=lost_update",
        &profile,
    );
    assert!(
        dom.contains("id=\"grade-verdict\">FAIL</span> 1/2"),
        "{dom}"
    );
    assert!(
        dom.contains("the exercise expects no bug (pass), and the submission has"),
        "{dom}"
    );

    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The lanes of `simrace time --html` as the browser built them: per party, the states
/// of its stretches (`<rect data-state=...>` inside its `<g class="lane">`).
fn browser_lanes(dom: &str) -> Vec<(String, Vec<String>)> {
    let attr = |s: &str, name: &str| -> String {
        let from = s.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        s[from..from + s[from..].find('"').unwrap()].to_string()
    };
    dom.split("<g class=\"lane\"")
        .skip(1)
        .map(|g| {
            let g = &g[..g.find("</g>").unwrap()];
            let states = g
                .split("<rect ")
                .skip(1)
                .map(|r| attr(r, "data-state"))
                .collect();
            (attr(g, "data-party"), states)
        })
        .collect()
}

#[test]
fn the_timeline_page_shows_a_lane_per_party_with_its_states_in_chromium() {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("time-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("time.html");
    let status = simrace_command()
        .args([
            "time",
            "scenarios/timing/cpu_threads.toml",
            "scenarios/timing/io_processes.toml",
            "--html",
        ])
        .arg(&page)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));

    let dom = dump_dom(&page, &dir.join("profile"));
    assert!(dom.contains("<title>simrace time</title>"), "{dom}");
    let sections: Vec<&str> = dom
        .split("<section class=\"scenario timing\"")
        .skip(1)
        .collect();
    assert_eq!(sections.len(), 2, "one section per scenario");
    let (threads, processes) = (sections[0], sections[1]);
    assert!(threads.contains("data-scenario=\"cpu_threads\""));
    assert_eq!(count(threads, "<svg class=\"timeline\""), 1);

    // Two CPU-bound threads take turns with the GIL; main waits in join.
    let lanes = browser_lanes(threads);
    let names: Vec<&str> = lanes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["main", "task[0]", "task[1]"]);
    assert!(lanes[0].1.iter().any(|s| s == "blocked"), "{lanes:?}");
    assert!(
        lanes[0].1.iter().all(|s| s == "blocked" || s == "running"),
        "{lanes:?}"
    );
    for (name, states) in &lanes[1..] {
        assert!(states.iter().any(|s| s == "running"), "{name}");
        assert!(states.iter().any(|s| s == "gil_wait"), "{name}");
        assert!(
            states.iter().all(|s| s == "running" || s == "gil_wait"),
            "{name}"
        );
    }
    // Two processes: each starts, then sleeps; none waits for a GIL.
    let lanes = browser_lanes(processes);
    let names: Vec<&str> = lanes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["main", "task[0]", "task[1]"]);
    for (name, states) in &lanes[1..] {
        assert_eq!(
            states.first().map(String::as_str),
            Some("starting"),
            "{name}"
        );
        assert!(states.iter().any(|s| s == "sleeping"), "{name}");
        assert!(!states.iter().any(|s| s == "gil_wait"), "{name}");
    }
    // The legend names every state, with its colour.
    for state in [
        "running",
        "gil_wait",
        "core_wait",
        "blocked",
        "sleeping",
        "starting",
    ] {
        assert!(
            dom.contains(&format!("<span class=\"swatch state {state}\"></span>")),
            "{state}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
