//! `simrace step` driven through the binary with scripted input on a pipe: the game
//! must read moves line by line, announce the bug it reaches with a schedule that
//! replays it, and end cleanly at the end of the input.

use crate::common::simrace_command;
use std::io::Write;
use std::process::Stdio;

/// Runs `simrace step FILE` with `input` on stdin; returns (exit code, stdout).
fn play(file: &str, input: &str) -> (i32, String) {
    let mut child = simrace_command()
        .args(["step", file])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run simrace");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "stderr: {stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn abba_deadlock_is_won_and_the_transcript_is_pinned() {
    let (code, out) = play(
        "scenarios/locks/abba_deadlock.toml",
        "0\n0\nu\n1\n0\ns\nq\n",
    );
    assert_eq!(code, 0);
    assert!(out.contains("*** You win! deadlock: t1 (line 14) waits to acquire b, held by t2"));
    assert!(
        out.contains("Replay it: simrace replay scenarios/locks/abba_deadlock.toml --schedule 0,1")
    );
    // A blocked thread is refused with the reason.
    assert!(out.contains("t1 cannot move now: it waits to acquire b, held by t2."));
    assert!(out.ends_with("Bye. Schedule so far: 0,1\n"), "{out}");
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("step_abba_deadlock", out);
    });
}

#[test]
fn counter_reaches_the_race_then_the_lost_update_by_thread_names() {
    let (code, out) = play(
        "scenarios/counter.toml",
        "worker[0]\nworker[1]\n0\n0\n1\n1\n",
    );
    assert_eq!(code, 0);
    let race = out
        .find("*** You win! data race on counter")
        .expect("the race is announced");
    let assertion = out
        .find("*** You win! assertion: line 18: final assertion `counter == 2` does not hold")
        .expect("the failed assertion is announced");
    assert!(race < assertion);
    assert!(out.contains("--schedule 0,1,0*2,1*2"));
    assert!(out.contains("shared: counter = 1"));
    assert!(out.contains("locals: tmp = 0"));
    assert!(
        out.ends_with("(end of input) Schedule so far: 0,1,0*2,1*2\n"),
        "{out}"
    );
}

#[test]
fn restart_undo_and_bad_input_are_handled() {
    let (code, out) = play("scenarios/counter.toml", "7\nnobody\nu\n0\nr\n1\ns\n");
    assert_eq!(code, 0);
    assert!(out.contains("There is no thread 7: they are numbered 0 to 1."));
    assert!(out.contains("I don't know `nobody`"));
    assert!(out.contains("Nothing to undo."));
    assert!(out.contains("Restarted."));
    assert!(out.contains("Schedule so far: 1\n"));
    assert!(!out.contains("*** You win"));
}

#[test]
fn empty_input_ends_cleanly() {
    let (code, out) = play("scenarios/basics/locked_counter.toml", "");
    assert_eq!(code, 0);
    assert!(
        out.contains("can move: 0 (worker[0]), 1 (worker[1])"),
        "{out}"
    );
    assert!(out.ends_with("(end of input) Schedule so far: \n"));
}

#[test]
fn a_choice_with_alternatives_asks_which_and_failures_are_all_announced() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join(format!("step-choose-{}.toml", std::process::id()));
    std::fs::write(
        &file,
        r#"[shared]
x = 0
[objects]
q = "Queue"
m = "Lock"
[[thread]]
name = "a"
code = """
v = choose(0, 2)
q.put(v)
m.release()
"""
[[thread]]
name = "b"
code = """
y = q.get()
assert y != 2, "got two"
"""
"#,
    )
    .unwrap();
    let path = file.to_string_lossy().to_string();
    // b cannot move yet; a's choose asks which value (9 is refused, then 2); a raises; b
    // fails; then b has finished.
    let (code, out) = play(&path, "b\na\n9\na\n2\n0\n0\nb\nb\n");
    let _ = std::fs::remove_file(&file);
    assert_eq!(code, 0);
    assert!(out.contains("b cannot move now: it waits to get from q, which is empty."));
    assert!(out.contains("a can go 3 ways:\n  0: choose(0, 2) = 0\n  1: choose(0, 2) = 1\n  2: choose(0, 2) = 2\nwhich? 9\nNot one of 0 to 2: no move made."), "{out}");
    assert!(
        out.contains("objects:\n  q: Queue [2], 1 unfinished task(s)"),
        "{out}"
    );
    assert!(
        out.contains("*** You win! error: a (line 11): RuntimeError: release unlocked lock m ***"),
        "{out}"
    );
    assert!(
        out.contains("*** You win! assertion: b (line 17): AssertionError: got two ***"),
        "{out}"
    );
    assert!(out.contains("--schedule 0/2,0*2,1\n"), "{out}");
    assert!(out.contains("b cannot move now: it has finished."), "{out}");
    // The next step is shown, but not whether it fails: that is for the player to find.
    assert!(!out.contains("next: get 2 from q -> "), "{out}");
}
