//! Routing: which route a request is for, the CORS headers that apply, and the answers of the
//! routes that need nothing but the configuration (preflight, `/health`, object reads). The
//! presign routes are in [`crate::presign`].

use crate::api::HealthBody;
use crate::config::{Config, ConfigError, PresignSettings};
use crate::cors::{self, CorsPolicy, OriginDecision};
use crate::error::ApiError;
use crate::http::{Request, Responder, Response};
use crate::object_key::validate_key;
use crate::object_read::ObjectRead;
use crate::platform::ObjectStore;
use crate::presign::Kind;
use crate::step::Reply;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Presign,
    Batch,
    Request,
    Parts,
    Health,
    Other,
}

impl Route {
    fn of(path: &str) -> Route {
        match path {
            "/presign" => Route::Presign,
            "/presign/batch" => Route::Batch,
            "/presign/request" => Route::Request,
            "/presign/parts" => Route::Parts,
            "/health" => Route::Health,
            _ => Route::Other,
        }
    }

    /// The presign use case this route runs, if it is a presign route.
    fn presign(self) -> Option<Kind> {
        match self {
            Route::Presign => Some(Kind::One),
            Route::Batch => Some(Kind::Batch),
            Route::Request => Some(Kind::Request),
            Route::Parts => Some(Kind::Parts),
            Route::Health | Route::Other => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Route::Presign => "/presign",
            Route::Batch => "/presign/batch",
            Route::Request => "/presign/request",
            Route::Parts => "/presign/parts",
            Route::Health => "/health",
            Route::Other => "other",
        }
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

/// The CORS policy of a configuration (none when it is invalid).
fn cors_of(config: &Result<Config, ConfigError>) -> &CorsPolicy {
    config.as_ref().map_or(&CorsPolicy::Off, |c| &c.cors)
}

/// The responder for `req`: its route's name and the CORS headers its origin gets.
pub(crate) fn responder(config: &Result<Config, ConfigError>, req: &Request<'_>) -> Responder {
    Responder { route: Route::of(req.path).name(), cors: cors_headers(cors_of(config).decide(req.origin)) }
}

/// Where routing leaves a request. Returned once per request and moved straight into a
/// [`crate::Step`] of the same size: boxing the reply would add an allocation for nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Routed<'c> {
    /// Answered from the configuration alone.
    Done(Reply),
    /// A presign route that passed every check before authentication, on a valid
    /// configuration with presigning on.
    Presign { kind: Kind, reply: Responder, config: &'c Config, settings: &'c PresignSettings },
}

/// Routes `req`: CORS, repeated headers, preflight, the configuration, the method, and the
/// answers of the routes that need nothing but the configuration.
pub(crate) fn route<'c>(config: &'c Result<Config, ConfigError>, objects: ObjectStore, req: &Request<'_>) -> Routed<'c> {
    let decision = cors_of(config).decide(req.origin);
    let reply = Responder { route: Route::of(req.path).name(), cors: cors_headers(decision) };
    let done = |r: Response| Routed::Done(Reply::Response(r));
    if decision == OriginDecision::Denied {
        return done(reply.error(&ApiError::OriginNotAllowed, None));
    }
    if let Some(name) = repeated_header(req) {
        return done(reply.error(&ApiError::RepeatedHeader(name), None));
    }
    if req.method == "OPTIONS" {
        return done(preflight(&reply, decision));
    }
    let route = Route::of(req.path);
    let config = match (config, route) {
        (Err(e), Route::Health) => return done(misconfigured(&reply, e)),
        (Err(e), _) => return done(reply.error(&ApiError::ConfigInvalid(e.clone()), None)),
        (Ok(c), _) => c,
    };
    if let Some(kind) = route.presign() {
        if req.method != "POST" {
            return done(reply.error(&ApiError::MethodNotAllowed { allow: "POST, OPTIONS" }, None));
        }
        let Some(settings) = &config.presign else { return done(reply.error(&ApiError::PresignDisabled, None)) };
        return Routed::Presign { kind, reply, config, settings };
    }
    match (route, req.method) {
        (Route::Health, "GET" | "HEAD") => {
            let body = serde_json::to_string(&HealthBody { status: "ok", error: None, message: None }).unwrap_or_default();
            done(reply.json(200, body, None))
        }
        (Route::Health, _) => done(reply.error(&ApiError::MethodNotAllowed { allow: "GET, HEAD, OPTIONS" }, None)),
        (Route::Other, "GET" | "HEAD") if config.serve_objects && objects == ObjectStore::Present => Routed::Done(object_read(config, req, reply)),
        (Route::Other, _) => done(reply.error(&ApiError::NotFound, None)),
        // The presign routes answered above.
        (_, _) => done(reply.error(&ApiError::NotFound, None)),
    }
}

/// The first single-valued header the core reads that arrived more than once. Platforms join
/// repeated values with commas (API Gateway's HTTP API with `,`, the Workers runtime with `, `;
/// the Lambda adapter joins a REST API event's `multiValueHeaders` the same way), and none of
/// these headers has a comma of its own: a bearer token, an origin and `application/json`
/// never do (a comma inside a quoted media-type parameter does not count).
fn repeated_header(req: &Request<'_>) -> Option<&'static str> {
    let has_comma = |v: Option<&str>| v.is_some_and(|v| v.contains(','));
    if has_comma(req.authorization) {
        return Some("Authorization");
    }
    if has_comma(req.origin) {
        return Some("Origin");
    }
    let unquoted_comma = req.content_type.is_some_and(|v| {
        let mut quoted = false;
        let mut escaped = false;
        v.chars().any(|c| {
            let hit = c == ',' && !quoted;
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                _ => {}
            }
            hit
        })
    });
    unquoted_comma.then_some("Content-Type")
}

fn preflight(reply: &Responder, decision: OriginDecision<'_>) -> Response {
    let mut headers = Vec::new();
    if matches!(decision, OriginDecision::Allowed(_)) {
        headers.push(("access-control-allow-methods", cors::ALLOW_METHODS.to_owned()));
        headers.push(("access-control-allow-headers", cors::ALLOW_HEADERS.to_owned()));
        headers.push(("access-control-max-age", cors::MAX_AGE.to_owned()));
    }
    // The CORS headers first, as before the split: the preflight's own come after them.
    let mut resp = reply.with_headers(204, Vec::new(), String::new(), None);
    resp.headers.extend(headers);
    resp
}

fn misconfigured(reply: &Responder, e: &ConfigError) -> Response {
    let message = e.to_string();
    let body = serde_json::to_string(&HealthBody { status: "misconfigured", error: Some("config_invalid"), message: Some(&message) }).unwrap_or_default();
    reply.json(503, body, Some("config_invalid"))
}

/// `GET`/`HEAD /<key>` under the allowed prefixes, on a platform with an object store.
fn object_read(config: &Config, req: &Request<'_>, reply: Responder) -> Reply {
    let done = Reply::Response;
    let raw = req.path.strip_prefix('/').unwrap_or(req.path);
    let key = match percent_encoding::percent_decode_str(raw).decode_utf8() {
        Ok(k) if !k.is_empty() => k.into_owned(),
        _ => return done(reply.error(&ApiError::NotFound, None)),
    };
    if let Err(e) = validate_key(&key) {
        return done(reply.error(&ApiError::InvalidKey(e), None));
    }
    // Outside the prefixes is "nothing here" (404), not "forbidden": it reveals nothing.
    if !config.allowed_prefixes.allows(&key) {
        return done(reply.error(&ApiError::NotFound, None));
    }
    let mut responder = Responder { route: "object", cors: reply.cors };
    if responder.cors.iter().any(|(n, _)| *n == "access-control-allow-origin") {
        responder.cors.push(("access-control-expose-headers", cors::EXPOSE_HEADERS_OBJECTS.to_owned()));
    }
    Reply::ReadObject(ObjectRead::new(key, req.method == "HEAD", req.range, req.if_none_match, responder))
}

#[cfg(test)]
mod tests;
