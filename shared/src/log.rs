//! What the adapters log, decided once: the `RUST_LOG` level, the one JSON line per request
//! (request id, method, route, status, latency, error code, why a JWKS fetch failed; never a
//! token, key, URL or signature) and the start-up lines.

use crate::config::ConfigError;
use crate::http::Response;

/// `RUST_LOG`: `off`, `error` (5xx only), `warn` (4xx, 5xx and warnings), anything else: all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Off,
    Error,
    Warn,
    Info,
}

impl LogLevel {
    pub fn parse(value: Option<&str>) -> LogLevel {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            Some("off") => LogLevel::Off,
            Some("error") => LogLevel::Error,
            Some("warn") => LogLevel::Warn,
            _ => LogLevel::Info,
        }
    }

    pub fn wants_warnings(self) -> bool {
        self >= LogLevel::Warn
    }

    /// Should the line for a response with this status be written?
    pub fn wants_request(self, status: u16) -> bool {
        let needed = match status {
            500.. => LogLevel::Error,
            400..=499 => LogLevel::Warn,
            _ => LogLevel::Info,
        };
        self != LogLevel::Off && self >= needed
    }
}

/// The request log line for `resp`.
pub fn request_line(request_id: &str, method: &str, resp: &Response, latency_ms: f64) -> String {
    let mut line = serde_json::json!({
        "level": if resp.status >= 500 { "error" } else { "info" },
        "requestId": request_id,
        "method": method,
        "route": resp.route,
        "status": resp.status,
        "latencyMs": (latency_ms * 1000.0).round() / 1000.0,
        "error": resp.error_code,
    });
    if let Some(failure) = resp.jwks_fetch {
        line["jwksFetch"] = serde_json::Value::String(failure.to_string());
    }
    line.to_string()
}

/// A warning line (see `Service::startup_warnings`).
pub fn warning_line(message: &str) -> String {
    serde_json::json!({"level": "warn", "message": message}).to_string()
}

/// The line that says why the configuration is invalid: the variable, never its value.
pub fn config_error_line(e: &ConfigError) -> String {
    serde_json::json!({"level": "error", "error": "config_invalid", "variable": e.variable, "message": e.to_string()}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(LogLevel::parse(None), LogLevel::Info);
        assert_eq!(LogLevel::parse(Some("OFF")), LogLevel::Off);
        assert!(!LogLevel::Off.wants_request(500));
        assert!(LogLevel::Error.wants_request(503) && !LogLevel::Error.wants_request(404));
        assert!(LogLevel::Warn.wants_request(404) && !LogLevel::Warn.wants_request(200));
        assert!(LogLevel::Info.wants_request(200));
    }

    fn response(status: u16, error_code: Option<&'static str>, jwks_fetch: Option<crate::fetch::FetchError>) -> Response {
        Response { status, headers: Vec::new(), body: String::new(), route: "/presign", error_code, jwks_fetch }
    }

    #[test]
    fn line_has_the_fields_and_nothing_else() {
        let line = request_line("id-1", "POST", &response(401, Some("unauthorized"), None), 0.1234);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["latencyMs"], 0.123);
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["error", "latencyMs", "level", "method", "requestId", "route", "status"]);
    }

    #[test]
    fn a_failed_jwks_fetch_says_why() {
        let line = request_line("id-2", "POST", &response(503, Some("auth_unavailable"), Some(crate::fetch::FetchError::InsecureRedirect)), 1.0);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!((v["level"].as_str(), v["status"].as_u64()), (Some("error"), Some(503)));
        assert_eq!(v["jwksFetch"], "redirect to a URL that is not https:// refused");
    }

    #[test]
    fn start_up_lines() {
        let e = ConfigError { variable: "S3_BUCKET", problem: "is required".into() };
        let v: serde_json::Value = serde_json::from_str(&config_error_line(&e)).unwrap();
        assert_eq!((v["variable"].as_str(), v["error"].as_str()), (Some("S3_BUCKET"), Some("config_invalid")));
        let v: serde_json::Value = serde_json::from_str(&warning_line("careful")).unwrap();
        assert_eq!((v["level"].as_str(), v["message"].as_str()), (Some("warn"), Some("careful")));
    }
}
