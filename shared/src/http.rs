//! The platform-neutral HTTP types: what the core reads of a request, and the response it
//! writes. Adapters translate their platform's request into a [`Request`] and a [`Response`]
//! back into their platform's response, byte for byte, deciding nothing.

use crate::api::ErrorBody;
use crate::audit::Audit;
use crate::error::ApiError;
use crate::fetch::FetchError;

/// Largest `/presign` body.
pub(crate) const MAX_SINGLE_BODY: usize = 16 * 1024;
/// Largest `/presign/batch` body; an adapter need never read more than one byte past this.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Largest answer body: Lambda refuses a synchronous response over 6 MB (the body is sent
/// JSON-escaped inside the invocation's answer, which adds at most a few percent here), so an
/// answer that would be larger is refused with 413 `answer_too_large` instead.
pub const MAX_ANSWER_BYTES: usize = 4_000_000;

/// What the core needs from an HTTP request. Header values are as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path without stage prefix or query, percent-encoded as on the wire.
    pub path: &'a str,
    pub origin: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub content_type: Option<&'a str>,
    /// `Range`, for object reads.
    pub range: Option<&'a str>,
    /// `If-None-Match`, for object reads.
    pub if_none_match: Option<&'a str>,
    /// At most [`MAX_BODY_BYTES`] + 1 bytes of the body (more tells nothing more).
    pub body: &'a [u8],
}

/// A complete HTTP response: send exactly this status, these headers and this body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// Empty for `HEAD`, a preflight, a 304 and an object answer whose bytes are streamed.
    pub body: String,
    /// For the request log: which route answered, the error code if any, and why a JWKS fetch
    /// made for this request failed.
    pub route: &'static str,
    pub error_code: Option<&'static str>,
    pub jwks_fetch: Option<FetchError>,
    /// For the request log: who signed what (presign routes, once the caller is known).
    pub audit: Option<Audit>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Builds this request's responses: the route name for the log and the CORS headers that apply
/// to every answer.
#[derive(Debug, Clone)]
pub(crate) struct Responder {
    pub route: &'static str,
    pub cors: Vec<(&'static str, String)>,
}

impl Responder {
    /// A response with `headers` first, then the CORS headers.
    pub fn with_headers(&self, status: u16, mut headers: Vec<(&'static str, String)>, body: String, error_code: Option<&'static str>) -> Response {
        headers.extend(self.cors.iter().cloned());
        Response { status, headers, body, route: self.route, error_code, jwks_fetch: None, audit: None }
    }

    pub fn json(&self, status: u16, body: String, error_code: Option<&'static str>) -> Response {
        let mut headers = Vec::with_capacity(self.cors.len() + 3);
        headers.push(("content-type", "application/json".to_owned()));
        headers.push(("cache-control", "no-store".to_owned()));
        self.with_headers(status, headers, body, error_code)
    }

    pub fn error(&self, err: &ApiError, index: Option<usize>) -> Response {
        let message = err.message();
        let body = serde_json::to_string(&ErrorBody { error: err.code(), message: &message, index }).unwrap_or_default();
        let mut resp = self.json(err.status(), body, Some(err.code()));
        match err {
            ApiError::Unauthorized(_) => resp.headers.push(("www-authenticate", "Bearer".to_owned())),
            ApiError::MethodNotAllowed { allow } => resp.headers.push(("allow", (*allow).to_owned())),
            ApiError::AuthUnavailable => resp.headers.push(("retry-after", crate::auth::jwks::RETRY_AFTER_FAILURE.to_string())),
            // Cloudflare's rate limiting counts over periods of 10 or 60 seconds.
            ApiError::RateLimited => resp.headers.push(("retry-after", "10".to_owned())),
            _ => {}
        }
        resp
    }
}
