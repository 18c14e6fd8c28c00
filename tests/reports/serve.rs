//! `simrace serve` over plain HTTP, without a browser (tests/browser.rs drives the page):
//! every request is bounded (an oversized body is refused, an exploration stops at the
//! server's limits and says so), unknown pages are 404, and a file outside the working
//! directory cannot be read.

use crate::common::simrace_command;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start() -> Server {
    let mut child = simrace_command()
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .split("127.0.0.1:")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let port = port.parse().unwrap();
    Server(child, port)
}

/// Sends `head` (the request line and headers, without the blank line) and `body`;
/// returns the status code and the body of the answer.
fn request(s: &Server, head: &str, body: &str) -> (u16, String) {
    let mut c = TcpStream::connect(("127.0.0.1", s.1)).unwrap();
    write!(c, "{head}\r\n\r\n{body}").unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

fn post(s: &Server, path: &str, json: &serde_json::Value) -> serde_json::Value {
    let body = json.to_string();
    let head = format!("POST {path} HTTP/1.1\r\nContent-Length: {}", body.len());
    let (status, answer) = request(s, &head, &body);
    assert_eq!(status, 200, "{answer}");
    serde_json::from_str(&answer).unwrap()
}

#[test]
fn every_request_is_bounded() {
    let s = start();
    let (status, body) = request(&s, "POST /api/run HTTP/1.1\r\nContent-Length: 99999999", "");
    assert_eq!(status, 400);
    assert!(body.contains("the request is over 262144 bytes"), "{body}");
    assert_eq!(request(&s, "GET /nothing HTTP/1.1", "").0, 404);
    assert_eq!(
        request(&s, "GET /api/file?path=..%2FCargo.toml HTTP/1.1", "").0,
        400
    );
    assert_eq!(
        request(&s, "GET /api/file?path=Cargo.toml HTTP/1.1", "").0,
        200
    );
    // Three threads of four unlocked increments: far more executions than the server's
    // 20,000, so the run stops there and says it is incomplete.
    let source = "[shared]\nx = 0\n[[thread]]\nname = \"w\"\ncount = 3\ncode = \"\"\"\nfor i in range(4):\n    x += 1\n\"\"\"\n";
    let started = std::time::Instant::now();
    let v = post(&s, "/api/run", &serde_json::json!({ "source": source }));
    assert_eq!(v["complete"], false, "{v}");
    let html = v["report_html"].as_str().unwrap();
    assert!(
        html.contains("<dt>limit</dt>") && html.contains("20000"),
        "{html}"
    );
    assert!(started.elapsed().as_secs() < 60);
}

#[test]
fn check_step_and_grade_answer_as_the_commands_do() {
    let s = start();
    let bad = "[shared]\nx = 0\n[[thread]]\nname = \"a\"\ncode = \"x = 1 / 2\"\n";
    let v = post(&s, "/api/check", &serde_json::json!({ "source": bad }));
    assert_eq!(v["ok"], false);
    assert_eq!(v["diagnostic"]["line"], 5);
    assert!(
        v["diagnostic"]["rendered"]
            .as_str()
            .unwrap()
            .starts_with("scenario.toml:5:")
    );
    let abba = std::fs::read_to_string("scenarios/locks/abba_deadlock.toml").unwrap();
    let v = post(
        &s,
        "/api/step",
        &serde_json::json!({ "source": abba, "schedule": "t1,t2" }),
    );
    assert_eq!(v["finding"]["kind"], "deadlock", "{v}");
    assert_eq!(v["schedule"], "0,1");
    let v = post(
        &s,
        "/api/step",
        &serde_json::json!({ "source": abba, "schedule": "t1" }),
    );
    assert!(v["finding"].is_null(), "{v}");
    assert_eq!(v["threads"][1]["status"], "ready");
    let answer = "philosopher[0],philosopher[1],philosopher[2]\n";
    let v = post(
        &s,
        "/api/grade",
        &serde_json::json!({ "exercise": "philosophers_deadlock", "source": answer }),
    );
    assert_eq!(
        (v["passed"].as_bool(), v["score"].as_u64()),
        (Some(true), Some(2)),
        "{v}"
    );
}
