//! One JSON line per request on stdout, which CloudWatch stores as is (no colours, no
//! timestamps: CloudWatch adds its own). Lines carry the request id, route, method, status,
//! latency and error code; never a token, a key, a URL or a signature.
//!
//! `RUST_LOG=off` silences request lines, `RUST_LOG=warn`/`error` keeps only problems (4xx/5xx
//! and warnings / 5xx only); anything else logs every request.

use std::sync::OnceLock;
use std::time::Duration;

use presign_core::log::{request_line, LogLevel};
use presign_core::{ConfigError, Response};
use serde_json::json;

fn level() -> LogLevel {
    static LEVEL: OnceLock<LogLevel> = OnceLock::new();
    *LEVEL.get_or_init(|| LogLevel::parse(std::env::var("RUST_LOG").ok().as_deref()))
}

fn emit(line: serde_json::Value) {
    println!("{line}");
}

pub fn warn(message: &str) {
    if level().wants_warnings() {
        emit(json!({"level": "warn", "message": message}));
    }
}

pub fn init_failure(e: &ConfigError) {
    // Always printed: this is why the function did not start.
    emit(json!({"level": "error", "error": "config_invalid", "variable": e.variable, "message": e.to_string()}));
}

pub fn request(request_id: &str, method: &str, resp: &Response, latency: Duration) {
    if level().wants_request(resp.status) {
        println!("{}", request_line(request_id, method, resp.route, resp.status, resp.error_code, latency.as_secs_f64() * 1000.0));
    }
}
