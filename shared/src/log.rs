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

/// How the request line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFormat {
    /// Plain JSON (the Worker: Workers Logs indexes every field).
    Plain,
    /// With CloudWatch Embedded Metric Format metadata (the Lambda): CloudWatch turns the line
    /// into metrics with no agent and no API call. `timestamp_ms` is now, in milliseconds.
    Emf { timestamp_ms: u64 },
}

/// The CloudWatch namespace of the Lambda's metrics.
pub const METRICS_NAMESPACE: &str = "PresignService";

/// The longest line written: a CloudWatch Logs event holds at most 256 KB, and Workers Logs
/// cuts long lines too; 200,000 bytes leaves room for what the platform adds.
pub const MAX_LINE_BYTES: usize = 200_000;

/// The request log lines for `resp`: request id, method, route, status, latency, error code,
/// why a JWKS fetch failed, and the audit of what was signed for whom. With
/// [`LineFormat::Emf`], also the metrics `requests` (count) and `latencyMs` by route, by route
/// and status, and by error code.
///
/// Usually one line. When the audit of a large signing would make it longer than
/// [`MAX_LINE_BYTES`], the lists of the audit (`keys`, `partNumbers`, `lengths`) move to as
/// many further lines as they need, each under the limit: every line names the request id and
/// its place (`"logPart": "2/5"`), each list slice says where it starts (`keysFrom`, ...), and
/// only the first line carries the metrics, so they are counted once.
pub fn request_lines(request_id: &str, method: &str, resp: &Response, latency_ms: f64, format: LineFormat) -> Vec<String> {
    let line = request_value(request_id, method, resp, latency_ms, format);
    let text = line.to_string();
    match &resp.audit {
        Some(audit) if text.len() > MAX_LINE_BYTES => split(line, request_id, resp.route, audit),
        _ => vec![text],
    }
}

/// The one request line (see [`request_lines`]), whatever its length.
pub fn request_line(request_id: &str, method: &str, resp: &Response, latency_ms: f64, format: LineFormat) -> String {
    request_value(request_id, method, resp, latency_ms, format).to_string()
}

fn request_value(request_id: &str, method: &str, resp: &Response, latency_ms: f64, format: LineFormat) -> serde_json::Value {
    let latency_ms = (latency_ms * 1000.0).round() / 1000.0;
    let mut line = serde_json::json!({
        "level": if resp.status >= 500 { "error" } else { "info" },
        "requestId": request_id,
        "method": method,
        "route": resp.route,
        "status": resp.status,
        "latencyMs": latency_ms,
        "error": resp.error_code,
    });
    if let Some(failure) = resp.jwks_fetch {
        line["jwksFetch"] = serde_json::Value::String(failure.to_string());
    }
    if let Some(audit) = &resp.audit {
        line["audit"] = serde_json::to_value(audit).unwrap_or_default();
    }
    if let LineFormat::Emf { timestamp_ms } = format {
        // EMF dimension values must be strings: the status and error code again, as strings.
        line["statusCode"] = serde_json::Value::String(resp.status.to_string());
        line["errorCode"] = serde_json::Value::String(resp.error_code.unwrap_or("none").to_owned());
        line["requests"] = 1.into();
        line["_aws"] = serde_json::json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [["route"], ["route", "statusCode"], ["errorCode"]],
                "Metrics": [{"Name": "requests", "Unit": "Count"}, {"Name": "latencyMs", "Unit": "Milliseconds"}],
            }],
        });
    }
    line
}

/// One slice of an audit list, for a continuation line.
struct Slice {
    list: &'static str,
    from: usize,
    items: Vec<serde_json::Value>,
}

/// The first line without the audit's lists, then the lists in slices of lines under
/// [`MAX_LINE_BYTES`].
fn split(mut first: serde_json::Value, request_id: &str, route: &str, audit: &crate::audit::Audit) -> Vec<String> {
    use serde_json::Value;
    if let Some(a) = first.get_mut("audit").and_then(Value::as_object_mut) {
        for list in ["keys", "partNumbers", "lengths"] {
            a.remove(list);
        }
    }
    let lists: [(&'static str, Vec<Value>); 3] = [
        ("keys", audit.keys.iter().map(|k| Value::String(k.clone())).collect()),
        ("partNumbers", audit.part_numbers.iter().map(|&n| n.into()).collect()),
        ("lengths", audit.lengths.iter().flatten().map(|l| l.map_or(Value::Null, Value::from)).collect()),
    ];
    // A continuation line's own fields, a margin for the place ("12/34"), the list names and
    // their offsets.
    let budget = MAX_LINE_BYTES - 400 - request_id.len() - route.len();
    let mut chunks: Vec<Vec<Slice>> = vec![Vec::new()];
    let mut used = 0;
    for (list, items) in lists {
        for (i, item) in items.into_iter().enumerate() {
            let size = item.to_string().len() + 1;
            if used + size > budget {
                chunks.push(Vec::new());
                used = 0;
            }
            let chunk = chunks.last_mut().expect("never empty");
            match chunk.last_mut() {
                Some(slice) if slice.list == list => slice.items.push(item),
                _ => chunk.push(Slice { list, from: i, items: vec![item] }),
            }
            used += size;
        }
    }
    chunks.retain(|c| !c.is_empty());
    let total = chunks.len() + 1;
    first["logPart"] = Value::String(format!("1/{total}"));
    let mut lines = vec![first.to_string()];
    for (n, chunk) in chunks.into_iter().enumerate() {
        let mut part = serde_json::Map::new();
        for slice in chunk {
            part.insert(format!("{}From", slice.list), slice.from.into());
            part.insert(slice.list.to_owned(), Value::Array(slice.items));
        }
        let line = serde_json::json!({
            "level": "info",
            "requestId": request_id,
            "route": route,
            "logPart": format!("{}/{total}", n + 2),
            "audit": part,
        });
        lines.push(line.to_string());
    }
    lines
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
        Response { status, headers: Vec::new(), body: String::new(), route: "/presign", error_code, jwks_fetch, audit: None }
    }

    /// The rules of the Embedded Metric Format specification (AWS CloudWatch User Guide,
    /// "Specification: Embedded metric format"), checked on a line.
    fn check_emf(line: &str) {
        let v: serde_json::Value = serde_json::from_str(line).expect("one JSON object");
        let root = v.as_object().expect("the root is an object");
        let aws = root["_aws"].as_object().expect("_aws is an object");
        assert!(aws["Timestamp"].as_u64().is_some_and(|t| t > 1_000_000_000_000), "Timestamp: epoch milliseconds");
        let directives = aws["CloudWatchMetrics"].as_array().expect("CloudWatchMetrics is an array");
        assert!(!directives.is_empty());
        for d in directives {
            let ns = d["Namespace"].as_str().expect("Namespace is a string");
            assert!((1..=255).contains(&ns.len()));
            let sets = d["Dimensions"].as_array().expect("Dimensions is an array of dimension sets");
            for set in sets {
                let set = set.as_array().expect("a dimension set is an array");
                assert!((1..=30).contains(&set.len()), "1 to 30 dimensions per set");
                for name in set {
                    let name = name.as_str().expect("a dimension is a member name");
                    let value = root.get(name).unwrap_or_else(|| panic!("dimension {name} is a root member"));
                    assert!(value.as_str().is_some_and(|s| !s.is_empty() && s.len() <= 1024), "dimension {name} has a non-empty string value");
                }
            }
            let metrics = d["Metrics"].as_array().expect("Metrics is an array");
            assert!((1..=100).contains(&metrics.len()));
            for m in metrics {
                let name = m["Name"].as_str().expect("a metric has a Name");
                assert!((1..=255).contains(&name.len()));
                let value = root.get(name).unwrap_or_else(|| panic!("metric {name} is a root member"));
                assert!(value.is_number() || value.as_array().is_some_and(|a| a.iter().all(|x| x.is_number())), "metric {name} is a number");
                if let Some(unit) = m.get("Unit") {
                    let units = ["Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Count", "Percent", "None"];
                    assert!(units.contains(&unit.as_str().unwrap_or_default()), "a CloudWatch unit");
                }
            }
        }
    }

    #[test]
    fn emf_lines_follow_the_format() {
        for (status, error) in [(200, None), (401, Some("unauthorized")), (503, Some("auth_unavailable"))] {
            let line = request_line("id-3", "POST", &response(status, error, None), 0.07, LineFormat::Emf { timestamp_ms: 1_800_000_000_000 });
            check_emf(&line);
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!((v["statusCode"].as_str(), v["requests"].as_u64()), (Some(status.to_string().as_str()), Some(1)));
            assert_eq!(v["errorCode"].as_str(), Some(error.unwrap_or("none")));
        }
    }

    #[test]
    #[should_panic(expected = "dimension")]
    fn the_emf_check_refuses_a_number_as_a_dimension() {
        check_emf(
            r#"{"_aws":{"Timestamp":1800000000000,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["status"]],"Metrics":[{"Name":"requests"}]}]},"status":200,"requests":1}"#,
        );
    }

    #[test]
    fn the_audit_is_in_the_line() {
        let mut resp = response(200, None, None);
        let mut audit = crate::audit::Audit::refused(Some("user-1"));
        audit.signed("PutObject", "content/a.ts", true, None, Some(10));
        resp.audit = Some(audit);
        let v: serde_json::Value = serde_json::from_str(&request_line("id-4", "POST", &resp, 1.0, LineFormat::Plain)).unwrap();
        assert_eq!(v["audit"], serde_json::json!({"caller": "user-1", "operation": "PutObject", "count": 1, "keys": ["content/a.ts"], "lengths": [10]}));
        assert!(v.get("_aws").is_none());
    }

    #[test]
    fn line_has_the_fields_and_nothing_else() {
        let line = request_line("id-1", "POST", &response(401, Some("unauthorized"), None), 0.1234, LineFormat::Plain);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["latencyMs"], 0.123);
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["error", "latencyMs", "level", "method", "requestId", "route", "status"]);
    }

    #[test]
    fn a_failed_jwks_fetch_says_why() {
        let line =
            request_line("id-2", "POST", &response(503, Some("auth_unavailable"), Some(crate::fetch::FetchError::InsecureRedirect)), 1.0, LineFormat::Plain);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!((v["level"].as_str(), v["status"].as_u64()), (Some("error"), Some(503)));
        assert_eq!(v["jwksFetch"], "redirect to a URL that is not https:// refused");
    }

    /// Finding 3 of the adversarial review: the audit of a 990-file batch of distinct 1 KiB keys
    /// was one line of a megabyte, cut by CloudWatch and Workers Logs.
    #[test]
    fn a_large_audit_is_written_in_lines_under_the_limit() {
        let mut audit = crate::audit::Audit::refused(Some("user-1"));
        let keys: Vec<String> = (0..990).map(|i| format!("content/{i:04}/{}", "k".repeat(1010))).collect();
        for (i, key) in keys.iter().enumerate() {
            audit.signed("UploadPart", key, true, Some(i as u16 + 1), Some(5_242_880));
        }
        let mut resp = response(200, None, None);
        resp.audit = Some(audit);
        let lines = request_lines("id-9", "POST", &resp, 1.0, LineFormat::Emf { timestamp_ms: 1_800_000_000_000 });
        assert!(lines.len() >= 5, "{}", lines.len());
        let (mut got_keys, mut got_parts, mut got_lengths, mut metrics) = (Vec::new(), Vec::new(), Vec::new(), 0);
        for (i, line) in lines.iter().enumerate() {
            assert!(line.len() < MAX_LINE_BYTES, "line {i}: {} bytes", line.len());
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["requestId"], "id-9");
            assert_eq!(v["logPart"], format!("{}/{}", i + 1, lines.len()));
            metrics += usize::from(v.get("_aws").is_some());
            let a = &v["audit"];
            for (list, into) in [("keys", &mut got_keys), ("partNumbers", &mut got_parts), ("lengths", &mut got_lengths)] {
                if let Some(items) = a[list].as_array() {
                    assert_eq!(a[format!("{list}From")].as_u64(), Some(into.len() as u64), "{list} continue where they stopped");
                    into.extend(items.iter().cloned());
                }
            }
        }
        check_emf(&lines[0]);
        assert_eq!(metrics, 1, "the metrics are counted once");
        let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!((first["audit"]["count"].as_u64(), first["audit"]["caller"].as_str()), (Some(990), Some("user-1")));
        assert_eq!(got_keys, keys.iter().map(|k| serde_json::Value::from(k.as_str())).collect::<Vec<_>>(), "every signed key is recorded");
        assert_eq!(got_parts, (1..=990).map(serde_json::Value::from).collect::<Vec<_>>());
        assert_eq!(got_lengths.len(), 990);
        // A small audit stays one line, without a place.
        let small = request_lines("id-1", "POST", &response(200, None, None), 1.0, LineFormat::Plain);
        assert_eq!(small.len(), 1);
        assert!(!small[0].contains("logPart"));
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
