//! Translation between `lambda_http` events and the core's request and response types.

use std::time::{SystemTime, UNIX_EPOCH};

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, RequestExt};
use presign_core::{Request, Response, UnixTime};

/// The clock the core is given.
pub fn now() -> UnixTime {
    UnixTime(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0))
}

pub fn request_id(req: &lambda_http::Request) -> String {
    req.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default()
}

fn header<'a>(req: &'a lambda_http::Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The core's view of an event. `raw_http_path` is the path without the REST API stage
/// (`/prod/presign` arrives as `/presign`); bodies sent base64-encoded (`isBase64Encoded`)
/// were already decoded by `lambda_http`.
pub fn to_core(req: &lambda_http::Request) -> Request<'_> {
    let path = req.raw_http_path();
    Request {
        method: req.method().as_str(),
        path: if path.is_empty() { req.uri().path() } else { path },
        origin: header(req, "origin"),
        authorization: header(req, "authorization"),
        content_type: header(req, "content-type"),
        body: match req.body() {
            Body::Empty => &[],
            Body::Text(t) => t.as_bytes(),
            Body::Binary(b) => b,
            _ => &[],
        },
    }
}

pub fn from_core(resp: Response, head: bool) -> lambda_http::Response<Body> {
    let body = if head || resp.body.is_empty() { Body::Empty } else { Body::Text(resp.body) };
    let mut out = lambda_http::Response::new(body);
    *out.status_mut() = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in resp.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            out.headers_mut().append(name, v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1(path: &str, stage: &str, body: &str, b64: bool) -> String {
        serde_json::json!({
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

    #[test]
    fn rest_api_event_strips_the_stage_and_decodes_base64() {
        let req = lambda_http::request::from_str(&v1("/presign", "prod", "eyJhIjoxfQ==", true)).unwrap();
        let core = to_core(&req);
        assert_eq!(core.method, "POST");
        assert_eq!(core.path, "/presign");
        assert_eq!(core.body, br#"{"a":1}"#);
        assert_eq!(core.origin, Some("https://a.test"));
        assert_eq!(core.authorization, Some("Bearer t"));
        assert_eq!(core.content_type, Some("application/json"));
    }

    #[test]
    fn http_api_v2_event() {
        let event = serde_json::json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/presign/batch", "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {"accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d", "requestId": "id",
                               "routeKey": "$default", "stage": "$default", "time": "t", "timeEpoch": 0,
                               "http": {"method": "POST", "path": "/presign/batch", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "u"}},
            "body": "{}", "isBase64Encoded": false
        });
        let req = lambda_http::request::from_str(&event.to_string()).unwrap();
        let core = to_core(&req);
        assert_eq!((core.method, core.path, core.body), ("POST", "/presign/batch", &b"{}"[..]));
    }

    #[test]
    fn responses_keep_status_headers_and_drop_head_bodies() {
        let resp = Response {
            status: 405,
            headers: vec![("allow", "POST, OPTIONS".into()), ("content-type", "application/json".into())],
            body: "{}".into(),
            route: "/presign",
            error_code: Some("method_not_allowed"),
        };
        let out = from_core(resp.clone(), false);
        assert_eq!(out.status(), 405);
        assert_eq!(out.headers()["allow"], "POST, OPTIONS");
        assert!(matches!(out.body(), Body::Text(t) if t == "{}"));
        assert!(matches!(from_core(resp, true).body(), Body::Empty));
    }
}
