//! One JSON line per request on stdout, which CloudWatch stores as is (no colours, no
//! timestamps: CloudWatch adds its own), in Embedded Metric Format so CloudWatch also makes
//! metrics of it. The line is the core's (`presign_core::log::request_lines`; an audit too long for
//! one CloudWatch event is continued on further lines): request id, route,
//! method, status, latency, error code and the audit of what was signed for whom; never a
//! token, a URL, a signature or a secret.
//!
//! `RUST_LOG=off` silences request lines, `RUST_LOG=warn`/`error` keeps only problems (4xx/5xx
//! and warnings / 5xx only); anything else logs every request.

use std::sync::OnceLock;
use std::time::Duration;

use presign_core::log::{config_error_line, request_lines, warning_line, LineFormat, LogLevel};
use presign_core::{ConfigError, Response};

fn level() -> LogLevel {
    static LEVEL: OnceLock<LogLevel> = OnceLock::new();
    *LEVEL.get_or_init(|| LogLevel::parse(std::env::var("RUST_LOG").ok().as_deref()))
}

pub fn warn(message: &str) {
    if level().wants_warnings() {
        println!("{}", warning_line(message));
    }
}

pub fn init_failure(e: &ConfigError) {
    // Always printed: this is why the function did not start.
    println!("{}", config_error_line(e));
}

pub fn request(request_id: &str, method: &str, resp: &Response, latency: Duration) {
    if level().wants_request(resp.status) {
        let timestamp_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        for line in request_lines(request_id, method, resp, latency.as_secs_f64() * 1000.0, LineFormat::Emf { timestamp_ms }) {
            println!("{line}");
        }
    }
}
