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
