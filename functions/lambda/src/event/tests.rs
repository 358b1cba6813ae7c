use serde_json::{json, Value};

use super::*;

fn v1(path: &str, stage: &str, body: &str, b64: bool) -> String {
    json!({
        "resource": "/{proxy+}", "path": path, "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "Origin": "https://a.test", "Authorization": "Bearer t"},
        "multiValueHeaders": {"Content-Type": ["application/json"], "Origin": ["https://a.test"], "Authorization": ["Bearer t"]},
        "queryStringParameters": null, "multiValueQueryStringParameters": null, "pathParameters": null, "stageVariables": null,
        "requestContext": {"accountId": "1", "resourceId": "r", "stage": stage, "requestId": "id", "identity": {"sourceIp": "127.0.0.1"},
                           "resourcePath": "/{proxy+}", "httpMethod": "POST", "apiId": "a", "path": format!("/{stage}{path}")},
        "body": body, "isBase64Encoded": b64
    })
    .to_string()
}

fn v2(method: &str, raw_path: &str, stage: &str, headers: Value, body: Value, b64: bool) -> String {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": raw_path, "rawQueryString": "a=%7B", "cookies": ["c=1"],
        "headers": headers,
        "requestContext": {"accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d", "requestId": "id",
                           "routeKey": "$default", "stage": stage, "time": "t", "timeEpoch": 0,
                           "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "u"}},
        "body": body, "isBase64Encoded": b64
    })
    .to_string()
}

#[test]
fn rest_api_event_keeps_the_path_without_stage_and_decodes_base64() {
    let payload = v1("/presign", "prod", "eyJhIjoxfQ==", true);
    let incoming = Incoming::parse(&payload).unwrap();
    let core = incoming.request();
    assert_eq!(incoming.format, Format::V1);
    assert_eq!((core.method, core.path, core.body), ("POST", "/presign", &br#"{"a":1}"#[..]));
    assert_eq!(core.origin, Some("https://a.test"));
    assert_eq!(core.authorization, Some("Bearer t"));
    assert_eq!(core.content_type, Some("application/json"));
}

#[test]
fn http_api_event_strips_a_named_stage_and_reads_lowercase_headers() {
    let headers =
        json!({"content-type": "application/json", "authorization": "Bearer x", "host": "not a host", "range": "bytes=0-9", "if-none-match": "\"e\""});
    for (raw, stage, path) in [
        ("/presign/batch", "$default", "/presign/batch"),
        ("/prod/presign", "prod", "/presign"),
        ("/prod", "prod", "/"),
        ("/production/x", "prod", "/production/x"),
    ] {
        let payload = v2("POST", raw, stage, headers.clone(), json!("{}"), false);
        let incoming = Incoming::parse(&payload).unwrap();
        let core = incoming.request();
        assert_eq!(incoming.format, Format::V2);
        assert_eq!((core.method, core.path, core.body, core.authorization), ("POST", path, &b"{}"[..], Some("Bearer x")));
        assert_eq!((core.range, core.if_none_match), (Some("bytes=0-9"), Some("\"e\"")));
    }
}

#[test]
fn missing_headers_and_body_are_none() {
    let payload = v2("GET", "/health", "$default", Value::Null, Value::Null, false);
    let incoming = Incoming::parse(&payload).unwrap();
    let core = incoming.request();
    assert_eq!((core.origin, core.authorization, core.content_type, core.body), (None, None, None, &b""[..]));
}

#[test]
fn multi_value_headers_are_read_when_headers_lack_them() {
    let payload = json!({"httpMethod": "POST", "path": "/presign", "headers": null,
                         "multiValueHeaders": {"AUTHORIZATION": ["Bearer m", "Bearer n"], "Origin": []}, "body": null})
    .to_string();
    let incoming = Incoming::parse(&payload).unwrap();
    assert_eq!((incoming.request().authorization, incoming.request().origin), (Some("Bearer m,Bearer n"), None));
}

/// Finding 6 of the adversarial review: a REST API event's `headers` keeps the last of two
/// `Authorization` headers, so the function used to take it; every event shape now hands the
/// core both values, joined, as an HTTP API event does, and the core refuses them.
#[test]
fn a_repeated_header_reaches_the_core_joined_from_every_shape() {
    let v1 = json!({"httpMethod": "POST", "path": "/presign",
                    "headers": {"Authorization": "Bearer second"},
                    "multiValueHeaders": {"Authorization": ["Bearer first", "Bearer second"]}, "body": null})
    .to_string();
    assert_eq!(Incoming::parse(&v1).unwrap().request().authorization, Some("Bearer first,Bearer second"));
    let two_spellings = v2("POST", "/presign", "$default", json!({"authorization": "Bearer a", "Authorization": "Bearer b"}), Value::Null, false);
    let joined_spellings = Incoming::parse(&two_spellings).unwrap().request().authorization.map(str::to_owned);
    assert!(matches!(joined_spellings.as_deref(), Some("Bearer a,Bearer b" | "Bearer b,Bearer a")), "{joined_spellings:?}");
    let joined = v2("POST", "/presign", "$default", json!({"origin": "https://a.test,https://b.test"}), Value::Null, false);
    assert_eq!(Incoming::parse(&joined).unwrap().request().origin, Some("https://a.test,https://b.test"));
}

/// Finding 7 of the adversarial review: the error for a payload that is not an HTTP event
/// quoted the value it choked on, a bearer token included.
#[test]
fn an_event_error_never_quotes_the_payload() {
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2lnbmF0dXJl";
    let payload = json!({"httpMethod": "POST", "path": "/presign", "headers": {"authorization": format!("Bearer {token}")},
                         "isBase64Encoded": format!("yes {token}")})
    .to_string();
    let err = Incoming::parse(&payload).err().expect("not an event").to_string();
    assert!(!err.contains(token) && !err.contains("yes"), "{err}");
    assert!(err.contains("Data error at line 1 column"), "{err}");
}

/// Found by the `lambda_event` fuzz target: `lambda_http` panicked on these.
#[test]
fn payloads_that_made_lambda_http_panic_translate() {
    let bad_base64 = v1("/presign", "prod", "eyJr%0L2E=", true);
    let incoming = Incoming::parse(&bad_base64).unwrap();
    assert_eq!(incoming.request().body, b"", "an undecodable body is no body");
    let bad_host = v2("GET", "/health", "$default", json!({"host": "a b{}", "x-forwarded-proto": "::"}), Value::Null, false);
    assert_eq!(Incoming::parse(&bad_host).unwrap().request().path, "/health");
}

#[test]
fn payloads_that_are_not_http_events_are_errors() {
    for payload in ["", "[]", "{}", r#"{"version":"2.0","rawPath":"/x"}"#, r#"{"httpMethod":"GET"}"#, r#"{"httpMethod":1,"path":"/"}"#] {
        let err = Incoming::parse(payload).err().unwrap_or_else(|| panic!("accepted {payload:?}"));
        assert!(err.to_string().starts_with("not an API Gateway or Function URL event"));
    }
}

fn response() -> Response {
    Response {
        status: 405,
        headers: vec![
            ("allow", "POST, OPTIONS".into()),
            ("vary", "Origin".into()),
            ("content-type", "application/json".into()),
            ("vary", "Access-Control-Request-Method".into()),
        ],
        body: r#"{"error":"method_not_allowed"}"#.into(),
        route: "/presign",
        error_code: Some("method_not_allowed"),
        jwks_fetch: None,
        audit: None,
    }
}

#[test]
fn responses_take_the_shape_of_their_event() {
    let v2 = serde_json::to_value(Outgoing::new(Format::V2, response())).unwrap();
    assert_eq!(
        v2,
        json!({"statusCode": 405, "headers": {"allow": "POST, OPTIONS", "vary": "Origin, Access-Control-Request-Method", "content-type": "application/json"},
               "body": r#"{"error":"method_not_allowed"}"#, "isBase64Encoded": false, "cookies": []})
    );
    let v1 = serde_json::to_value(Outgoing::new(Format::V1, Response { body: String::new(), ..response() })).unwrap();
    assert_eq!(
        v1,
        json!({"statusCode": 405, "multiValueHeaders": {"allow": ["POST, OPTIONS"], "vary": ["Origin", "Access-Control-Request-Method"], "content-type": ["application/json"]},
               "body": "", "isBase64Encoded": false})
    );
}
