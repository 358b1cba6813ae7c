//! Routing: one platform-neutral request in, one response (or a request for I/O) out.
//!
//! Both adapters call [`Service::respond`] (or [`Service::respond_verifying`]) with the same
//! [`Request`] shape and the current time. When the answer needs the JWKS and the cache says it
//! must be fetched, the core answers [`Outcome::FetchJwks`]; the adapter fetches, the core
//! records it and asks again (the cache guarantees the second call does not ask for another
//! fetch). Built without `native-crypto`, the core may also answer
//! [`Outcome::VerifySignature`]: the adapter verifies that one signature and the core goes on
//! with its [`Verdict`].

use std::sync::Mutex;

use crate::api::{self, BatchRequest, BatchResponse, ErrorBody, FileRequest, HealthBody, SignedUpload, UploadHeaders};
use crate::auth::{AuthOutcome, Caller};
use crate::clock::UnixTime;
use crate::config::{Config, ConfigError, PresignSettings};
use crate::content_type::parse_media_type;
use crate::cors::{self, CorsPolicy, OriginDecision};
use crate::error::ApiError;
use crate::jwks::JwksCache;
use crate::key::validate_key;
use crate::signature::{SignatureCheck, Verdict};
use crate::sigv4::{PresignParams, SignedHeader};

/// Largest `/presign` body.
pub const MAX_SINGLE_BODY: usize = 16 * 1024;
/// Largest `/presign/batch` body; adapters need not read more than this.
pub const MAX_BATCH_BODY: usize = 1024 * 1024;

/// What the core needs from an HTTP request. Header values are as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path without stage prefix or query, percent-encoded as on the wire.
    pub path: &'a str,
    pub origin: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// A complete HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    /// For the adapters' request log: which route answered and the error code, if any.
    pub route: &'static str,
    pub error_code: Option<&'static str>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Worker only: an object read the adapter must perform against its R2 binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRead {
    /// The decoded key, checked against the key rules and allowed prefixes.
    pub key: String,
    pub head: bool,
    pub cache_control: &'static str,
    /// CORS headers to add to whatever the read answers (200, 206, 304, 404...).
    pub cors_headers: Vec<(&'static str, String)>,
}

/// What [`Service::respond`] hands back: the JWKS step is already done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Respond(Response),
    ReadObject(ObjectRead),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Respond(Response),
    FetchJwks { url: String },
    /// Only without `native-crypto`: verify this signature (see [`Service::respond_verifying`]).
    VerifySignature(SignatureCheck),
    ReadObject(ObjectRead),
}

/// The service: configuration (or why it is invalid) plus the JWKS cache.
pub struct Service {
    config: Result<Config, ConfigError>,
    jwks: Mutex<JwksCache>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Presign,
    Batch,
    Health,
    Other,
}

impl Route {
    fn of(path: &str) -> Route {
        match path {
            "/presign" => Route::Presign,
            "/presign/batch" => Route::Batch,
            "/health" => Route::Health,
            _ => Route::Other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Route::Presign => "/presign",
            Route::Batch => "/presign/batch",
            Route::Health => "/health",
            Route::Other => "other",
        }
    }
}

/// Builds error and success responses with the CORS headers that apply to this request.
struct Reply {
    route: &'static str,
    cors: Vec<(&'static str, String)>,
}

impl Reply {
    fn json(&self, status: u16, body: String, error_code: Option<&'static str>) -> Response {
        let mut headers = Vec::with_capacity(self.cors.len() + 3);
        headers.push(("content-type", "application/json".to_owned()));
        headers.push(("cache-control", "no-store".to_owned()));
        headers.extend(self.cors.iter().cloned());
        Response { status, headers, body, route: self.route, error_code }
    }

    fn error(&self, err: &ApiError, index: Option<usize>) -> Response {
        let message = err.message();
        let body = serde_json::to_string(&ErrorBody { error: err.code(), message: &message, index }).unwrap_or_default();
        let mut resp = self.json(err.status(), body, Some(err.code()));
        match err {
            ApiError::Unauthorized(_) => resp.headers.push(("www-authenticate", "Bearer".to_owned())),
            ApiError::MethodNotAllowed { allow } => resp.headers.push(("allow", (*allow).to_owned())),
            ApiError::AuthUnavailable => resp.headers.push(("retry-after", crate::jwks::RETRY_AFTER_FAILURE.to_string())),
            _ => {}
        }
        resp
    }
}

/// CORS headers for a decision (none when CORS is off or the origin was refused).
fn cors_headers(decision: OriginDecision<'_>) -> Vec<(&'static str, String)> {
    match decision {
        OriginDecision::Allowed(origin) => vec![("access-control-allow-origin", origin.to_owned()), ("vary", "Origin".to_owned())],
        OriginDecision::NotCors { vary: true } => vec![("vary", "Origin".to_owned())],
        OriginDecision::NotCors { vary: false } | OriginDecision::Denied => Vec::new(),
    }
}

/// `application/json`, with or without parameters, any case.
fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

impl Service {
    pub fn new(config: Result<Config, ConfigError>) -> Service {
        Service { config, jwks: Mutex::new(JwksCache::default()) }
    }

    /// Parses the configuration from a variable lookup and builds the service. An invalid
    /// configuration is kept as such: `/health` reports it and every other route answers 500.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Service {
        Service::new(Config::from_lookup(lookup))
    }

    pub fn config(&self) -> Result<&Config, &ConfigError> {
        self.config.as_ref()
    }

    /// Handles a request to the end: runs [`Service::handle`], performs at most one JWKS fetch
    /// through `fetch_jwks` when the core asks for it (the adapter's HTTP client; the core does
    /// no I/O itself); if keys are still unusable after that, the answer is 503. Signatures are
    /// verified in Rust.
    #[cfg(feature = "native-crypto")]
    pub async fn respond<F, Fut>(&self, req: &Request<'_>, now: impl Fn() -> UnixTime, fetch_jwks: F) -> Answer
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Option<Vec<u8>>>,
    {
        // The core verifies in Rust and never asks; were it to, the answer fails closed.
        let never_asked = |_: SignatureCheck| std::future::ready(false);
        self.respond_verifying(req, now, fetch_jwks, never_asked).await
    }

    /// [`Service::respond`] for a core built without `native-crypto`: `verify` checks the one
    /// signature the request needs (the Worker: WebCrypto) and answers whether it is valid.
    pub async fn respond_verifying<F, Fut, V, VFut>(&self, req: &Request<'_>, now: impl Fn() -> UnixTime, fetch_jwks: F, verify: V) -> Answer
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Option<Vec<u8>>>,
        V: FnOnce(SignatureCheck) -> VFut,
        VFut: std::future::Future<Output = bool>,
    {
        let (mut fetch_jwks, mut verify) = (Some(fetch_jwks), Some(verify));
        let mut verdict = None;
        // At most: fetch the keys, verify the signature, answer.
        for _ in 0..3 {
            match self.handle_with(req, now(), verdict.as_ref()) {
                Outcome::FetchJwks { url } if fetch_jwks.is_some() => {
                    let body = fetch_jwks.take().expect("checked")(url).await;
                    self.record_jwks_fetch(now(), body.as_deref());
                }
                Outcome::VerifySignature(check) if verify.is_some() => {
                    let valid = verify.take().expect("checked")(check.clone()).await;
                    verdict = Some(Verdict { check, valid });
                }
                Outcome::Respond(r) => return Answer::Respond(r),
                Outcome::ReadObject(read) => return Answer::ReadObject(read),
                Outcome::FetchJwks { .. } | Outcome::VerifySignature(_) => break,
            }
        }
        Answer::Respond(self.auth_unavailable(req))
    }

    /// Records the result of a JWKS fetch the core asked for (`None`: the fetch failed).
    pub fn record_jwks_fetch(&self, now: UnixTime, body: Option<&[u8]>) -> bool {
        self.jwks.lock().unwrap_or_else(|p| p.into_inner()).record_fetch(now, body)
    }

    /// One step of [`Service::respond`]: the answer, or the I/O the core needs first.
    pub fn handle(&self, req: &Request<'_>, now: UnixTime) -> Outcome {
        self.handle_with(req, now, None)
    }

    /// [`Service::handle`] with the adapter's answer to an earlier [`Outcome::VerifySignature`].
    pub fn handle_with(&self, req: &Request<'_>, now: UnixTime, verdict: Option<&Verdict>) -> Outcome {
        let route = Route::of(req.path);
        let decision = self.cors_policy().decide(req.origin);
        let reply = Reply { route: route.name(), cors: cors_headers(decision) };
        if decision == OriginDecision::Denied {
            return Outcome::Respond(reply.error(&ApiError::OriginNotAllowed, None));
        }
        if req.method == "OPTIONS" {
            return Outcome::Respond(preflight(&reply, decision));
        }
        let config = match (&self.config, route) {
            (Err(e), Route::Health) => return Outcome::Respond(misconfigured(&reply, e)),
            (Err(e), _) => return Outcome::Respond(reply.error(&ApiError::ConfigInvalid(e.clone()), None)),
            (Ok(c), _) => c,
        };
        match (route, req.method) {
            (Route::Health, "GET" | "HEAD") => {
                let body = serde_json::to_string(&HealthBody { status: "ok", error: None, message: None }).unwrap_or_default();
                Outcome::Respond(reply.json(200, body, None))
            }
            (Route::Health, _) => Outcome::Respond(reply.error(&ApiError::MethodNotAllowed { allow: "GET, HEAD, OPTIONS" }, None)),
            (Route::Presign | Route::Batch, "POST") => self.presign_route(config, route, req, now, verdict, &reply),
            (Route::Presign | Route::Batch, _) => Outcome::Respond(reply.error(&ApiError::MethodNotAllowed { allow: "POST, OPTIONS" }, None)),
            (Route::Other, "GET" | "HEAD") if config.serve_objects => object_read(config, req, reply),
            (Route::Other, _) => Outcome::Respond(reply.error(&ApiError::NotFound, None)),
        }
    }

    fn presign_route(&self, config: &Config, route: Route, req: &Request<'_>, now: UnixTime, verdict: Option<&Verdict>, reply: &Reply) -> Outcome {
        let Some(settings) = &config.presign else {
            return Outcome::Respond(reply.error(&ApiError::PresignDisabled, None));
        };
        let caller = {
            let cache = self.jwks.lock().unwrap_or_else(|p| p.into_inner());
            match config.auth.authenticate(req.authorization, now, &cache, verdict) {
                AuthOutcome::Allowed(caller) => caller,
                AuthOutcome::VerifySignature(check) => return Outcome::VerifySignature(check),
                AuthOutcome::Denied(e) => return Outcome::Respond(reply.error(&e, None)),
                AuthOutcome::FetchJwks => {
                    return Outcome::FetchJwks { url: config.auth.jwks_url().unwrap_or_default().to_owned() };
                }
            }
        };
        if !is_json(req.content_type) {
            return Outcome::Respond(reply.error(&ApiError::UnsupportedMediaType, None));
        }
        let limit = if route == Route::Batch { MAX_BATCH_BODY } else { MAX_SINGLE_BODY };
        if req.body.len() > limit {
            return Outcome::Respond(reply.error(&ApiError::PayloadTooLarge { limit }, None));
        }
        let answer = if route == Route::Batch {
            presign_batch(config, settings, &caller, req.body, now)
        } else {
            presign_one(config, settings, &caller, req.body, now)
        };
        Outcome::Respond(match answer {
            Ok(body) => reply.json(200, body, None),
            Err((e, index)) => reply.error(&e, index),
        })
    }
}

fn preflight(reply: &Reply, decision: OriginDecision<'_>) -> Response {
    let mut resp = Response { status: 204, headers: reply.cors.clone(), body: String::new(), route: reply.route, error_code: None };
    if matches!(decision, OriginDecision::Allowed(_)) {
        resp.headers.push(("access-control-allow-methods", cors::ALLOW_METHODS.to_owned()));
        resp.headers.push(("access-control-allow-headers", cors::ALLOW_HEADERS.to_owned()));
        resp.headers.push(("access-control-max-age", cors::MAX_AGE.to_owned()));
    }
    resp
}

fn misconfigured(reply: &Reply, e: &ConfigError) -> Response {
    let message = e.to_string();
    let body = serde_json::to_string(&HealthBody { status: "misconfigured", error: Some("config_invalid"), message: Some(&message) })
        .unwrap_or_default();
    reply.json(503, body, Some("config_invalid"))
}

/// Checks one file against every rule, then signs it.
fn sign_file<'a>(config: &Config, settings: &PresignSettings, caller: &Caller, file: &'a FileRequest<'a>, now: UnixTime) -> Result<SignedUpload<'a>, ApiError> {
    let key: &str = &file.key;
    validate_key(key).map_err(ApiError::InvalidKey)?;
    if !config.allowed_prefixes.allows(key) || !caller.may_write(key) {
        return Err(ApiError::PrefixNotAllowed);
    }
    let content_type: &str = &file.content_type;
    let media = parse_media_type(content_type).map_err(ApiError::InvalidContentType)?;
    if settings.allowed_content_types.as_ref().is_some_and(|list| !list.allows(&media)) {
        return Err(ApiError::ContentTypeNotAllowed);
    }
    let if_none_match = settings.single_use.then_some("*");
    let signed = [SignedHeader { name: "content-type", value: content_type }, SignedHeader { name: "if-none-match", value: "*" }];
    let headers = if if_none_match.is_some() { &signed[..] } else { &signed[..1] };
    let url = settings.presigner.presign(
        &PresignParams { method: "PUT", key, headers, expires_seconds: settings.expires_seconds, extra_query: &[] },
        now,
    );
    Ok(SignedUpload {
        url,
        method: "PUT",
        headers: UploadHeaders { content_type, if_none_match },
        expires_at: now.plus_seconds(settings.expires_seconds.into()).to_utc().rfc3339(),
        key,
    })
}

type Failure = (ApiError, Option<usize>);

/// JSON text is UTF-8 (RFC 8259 section 8.1). serde_json checks that only in the strings it
/// keeps, so without this a body with invalid bytes in an ignored field would be accepted
/// (found by the `handler` fuzz target).
fn json_text(body: &[u8]) -> Result<&str, Failure> {
    std::str::from_utf8(body).map_err(|_| (ApiError::InvalidJson("The request body is not valid UTF-8.".into()), None))
}

fn presign_one(config: &Config, settings: &PresignSettings, caller: &Caller, body: &[u8], now: UnixTime) -> Result<String, Failure> {
    let file: FileRequest<'_> = serde_json::from_str(json_text(body)?).map_err(|e| (api::json_error(&e), None))?;
    let signed = sign_file(config, settings, caller, &file, now).map_err(|e| (e, None))?;
    serde_json::to_string(&signed).map_err(|_| (ApiError::Internal, None))
}

fn presign_batch(config: &Config, settings: &PresignSettings, caller: &Caller, body: &[u8], now: UnixTime) -> Result<String, Failure> {
    let batch: BatchRequest<'_> = serde_json::from_str(json_text(body)?).map_err(|e| (api::json_error(&e), None))?;
    if batch.files.is_empty() || batch.files.len() > settings.max_batch {
        let message = format!("A batch holds 1 to {} files.", settings.max_batch);
        return Err((ApiError::InvalidJson(message.into()), None));
    }
    let uploads = batch
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| sign_file(config, settings, caller, f, now).map_err(|e| (e, Some(i))))
        .collect::<Result<Vec<_>, _>>()?;
    serde_json::to_string(&BatchResponse { uploads }).map_err(|_| (ApiError::Internal, None))
}

/// Worker only: `GET`/`HEAD /<key>` under the allowed prefixes.
fn object_read(config: &Config, req: &Request<'_>, reply: Reply) -> Outcome {
    let raw = req.path.strip_prefix('/').unwrap_or(req.path);
    let key = match percent_encoding::percent_decode_str(raw).decode_utf8() {
        Ok(k) if !k.is_empty() => k.into_owned(),
        _ => return Outcome::Respond(reply.error(&ApiError::NotFound, None)),
    };
    if let Err(e) = validate_key(&key) {
        return Outcome::Respond(reply.error(&ApiError::InvalidKey(e), None));
    }
    // Outside the prefixes is "nothing here" (404), not "forbidden": it reveals nothing.
    if !config.allowed_prefixes.allows(&key) {
        return Outcome::Respond(reply.error(&ApiError::NotFound, None));
    }
    let mut cors_headers = reply.cors;
    if cors_headers.iter().any(|(n, _)| *n == "access-control-allow-origin") {
        cors_headers.push(("access-control-expose-headers", cors::EXPOSE_HEADERS_OBJECTS.to_owned()));
    }
    Outcome::ReadObject(ObjectRead { cache_control: cache_control_for(&key), key, head: req.method == "HEAD", cors_headers })
}

/// Segments never change once written; playlists do.
pub fn cache_control_for(key: &str) -> &'static str {
    let ext = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("ts" | "m4s" | "mp4" | "aac") => "public, max-age=31536000, immutable",
        _ => "no-cache",
    }
}

impl Service {
    /// The JSON 404 for an object read that found nothing, with the read's CORS headers.
    pub fn object_not_found(read: &ObjectRead) -> Response {
        Reply { route: "object", cors: read.cors_headers.clone() }.error(&ApiError::NotFound, None)
    }

    fn cors_policy(&self) -> &CorsPolicy {
        self.config.as_ref().map_or(&CorsPolicy::Off, |c| &c.cors)
    }

    /// An error response for `req` decided by an adapter, with the CORS headers that apply.
    fn adapter_error(&self, req: &Request<'_>, err: &ApiError) -> Response {
        let cors = cors_headers(self.cors_policy().decide(req.origin));
        Reply { route: Route::of(req.path).name(), cors }.error(err, None)
    }

    /// The JSON 500 an adapter answers when something unexpected fails on its side.
    pub fn internal_error(&self, req: &Request<'_>) -> Response {
        self.adapter_error(req, &ApiError::Internal)
    }

    /// The 503 when the JWKS fetch the core asked for left no usable keys and the core still
    /// asks for one (it should not; this is the safe fallback).
    fn auth_unavailable(&self, req: &Request<'_>) -> Response {
        self.adapter_error(req, &ApiError::AuthUnavailable)
    }
}

#[cfg(test)]
mod tests;

