//! `simrace serve`: a local web page for students. One page (`page.html`) edits a
//! scenario, checks it (the same diagnostics the command line prints, shown at their
//! line), runs the explorer (the HTML report's sections, lanes and all), plays the
//! scheduler as `simrace step` does, and grades an exercise of `exercises/`.
//!
//! The server is a plain HTTP/1.1 loop over `std::net` (no framework: one request per
//! connection, answered in turn), bound to 127.0.0.1. Every request is bounded: its body
//! is at most [`MAX_BODY`] bytes, it must arrive within [`READ_TIMEOUT`], and every
//! exploration runs with [`limits`] (counted executions and steps, and a wall-clock
//! timeout), so no request can hold the server for long.

mod api;
mod http;

pub use http::serve;

/// The largest request body accepted (a scenario file is a few kilobytes).
pub const MAX_BODY: usize = 256 * 1024;

/// How long a client may take to send its request.
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The limits every exploration of the server runs with.
pub fn limits() -> crate::search::Config {
    crate::search::Config {
        max_executions: Some(20_000),
        step_budget: Some(1_000_000),
        timeout: Some(std::time::Duration::from_secs(10)),
        ..crate::search::Config::default()
    }
}

/// An answer: status, content type and body.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Response {
    fn json(v: serde_json::Value) -> Response {
        Response {
            status: 200,
            content_type: "application/json",
            body: v.to_string(),
        }
    }

    fn error(status: u16, message: &str) -> Response {
        Response {
            status,
            content_type: "application/json",
            body: serde_json::json!({ "error": message }).to_string(),
        }
    }
}

/// Answers one request: the page, or one of the JSON calls the page makes.
pub fn handle(method: &str, path: &str, body: &str) -> Response {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    match (method, route) {
        ("GET", "/") => Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: include_str!("page.html").to_string(),
        },
        ("GET", "/api/file") => api::file(query),
        ("GET", "/api/exercises") => api::exercises(),
        ("POST", "/api/check") => api::with_body(body, api::check),
        ("POST", "/api/run") => api::with_body(body, api::run),
        ("POST", "/api/step") => api::with_body(body, api::step),
        ("POST", "/api/grade") => api::with_body(body, api::grade),
        _ => Response::error(404, "no such page"),
    }
}
