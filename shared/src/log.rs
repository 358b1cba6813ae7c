//! What the adapters log, decided once: the `RUST_LOG` level and the one JSON line per request
//! (request id, method, route, status, latency, error code; never a token, key, URL or signature).

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

/// The request log line.
pub fn request_line(request_id: &str, method: &str, route: &str, status: u16, error_code: Option<&str>, latency_ms: f64) -> String {
    serde_json::json!({
        "level": if status >= 500 { "error" } else { "info" },
        "requestId": request_id,
        "method": method,
        "route": route,
        "status": status,
        "latencyMs": (latency_ms * 1000.0).round() / 1000.0,
        "error": error_code,
    })
    .to_string()
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

    #[test]
    fn line_has_the_fields_and_nothing_else() {
        let line = request_line("id-1", "POST", "/presign", 401, Some("unauthorized"), 0.1234);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["latencyMs"], 0.123);
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["error", "latencyMs", "level", "method", "requestId", "route", "status"]);
    }
}
