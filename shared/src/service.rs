//! The one way in: [`Service::respond`] answers a [`Request`] using only what a [`Platform`]
//! offers (the clock, a fetch under the core's rules, a signature check).
//!
//! Underneath it is a synchronous state machine, [`Service::step`]: it answers, or says which
//! I/O it needs first ([`Step::Fetch`] of the JWKS, [`Step::Verify`] of a signature when the
//! core is built without `native-crypto`). `respond` performs those steps through the platform
//! and asks again; the fuzz targets and unit tests drive `step` directly. So both adapters run
//! the same loop, with no decision of their own: parity by construction.

use std::future::Future;
use std::sync::Mutex;

use crate::auth::{JwksCache, SignatureCheck, Verdict};
use crate::clock::UnixTime;
use crate::config::{Config, ConfigError};
use crate::error::ApiError;
use crate::fetch::{FetchError, FetchRequest};
use crate::http::{Request, Response};
use crate::object_read::ObjectRead;
use crate::routes::{self, Context};

/// Whether the platform has an object store to serve `SERVE_OBJECTS` reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectStore {
    /// No store (the Lambda): object paths are 404 whatever `SERVE_OBJECTS` says.
    Absent,
    /// A store binding (the Worker's R2 `BUCKET`).
    Present,
}

/// What a platform does for the core. Everything else an adapter does is translation.
pub trait Platform {
    /// Whether [`Reply::ReadObject`] can be performed here.
    const OBJECT_STORE: ObjectStore;

    /// Seconds since the epoch, now.
    fn now(&self) -> UnixTime;

    /// Performs `request` exactly under its rules (timeout, byte cap, redirects walked with
    /// [`FetchRequest::redirects`]) and returns the body of the final 200.
    fn fetch(&self, request: &FetchRequest) -> impl Future<Output = Result<Vec<u8>, FetchError>>;

    /// Whether the signature of `check` verifies. Never called on a core built with
    /// `native-crypto`, which verifies in Rust.
    fn verify(&self, check: &SignatureCheck) -> impl Future<Output = bool>;
}

/// The final answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Send this response.
    Response(Response),
    /// Look the object up in the platform's store and send what [`ObjectRead::answer`] says.
    /// Only on a platform whose [`Platform::OBJECT_STORE`] is [`ObjectStore::Present`].
    ReadObject(ObjectRead),
}

/// One step of [`Service::step`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Done(Reply),
    /// Fetch this, hand the result to [`Service::record_fetch`], then step again.
    Fetch(FetchRequest),
    /// Verify this signature, then step again with the [`Verdict`].
    Verify(SignatureCheck),
}

/// The service: the configuration (or why it is invalid), the platform's object store, and
/// the JWKS cache of this process (Lambda sandbox, Worker isolate).
pub struct Service {
    config: Result<Config, ConfigError>,
    objects: ObjectStore,
    jwks: Mutex<JwksCache>,
}

impl Service {
    pub fn new(config: Result<Config, ConfigError>, objects: ObjectStore) -> Service {
        Service { config, objects, jwks: Mutex::new(JwksCache::default()) }
    }

    /// Parses the configuration from a variable lookup and builds the service. An invalid
    /// configuration is kept as such: `/health` reports it and every other route answers 500.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>, objects: ObjectStore) -> Service {
        Service::new(Config::from_lookup(lookup), objects)
    }

    pub fn config(&self) -> Result<&Config, &ConfigError> {
        self.config.as_ref()
    }

    /// What an operator should hear once at start-up, besides an invalid configuration.
    pub fn startup_warnings(&self) -> Vec<&'static str> {
        let Ok(config) = &self.config else {
            return Vec::new();
        };
        let mut warnings = Vec::new();
        if !config.auth.is_enabled() {
            warnings.push("Auth is off: neither AUTH_JWT_SECRET nor AUTH_JWKS_URL is set, so every request may presign.");
        }
        if config.serve_objects && self.objects == ObjectStore::Absent {
            warnings.push("SERVE_OBJECTS is true, but this platform has no object store: object paths answer 404.");
        }
        warnings
    }

    /// Answers `req`, performing through `platform` the I/O the core asks for: at most one
    /// JWKS fetch and one signature check. If keys are still unusable after that, the answer
    /// is 503 `auth_unavailable`.
    pub async fn respond<P: Platform>(&self, req: &Request<'_>, platform: &P) -> Reply {
        debug_assert_eq!(P::OBJECT_STORE, self.objects, "the service was built for another platform");
        let (mut fetched, mut verdict) = (None, None);
        // At most: fetch the keys, verify the signature, answer.
        for _ in 0..3 {
            match self.step(req, platform.now(), verdict.as_ref()) {
                Step::Done(Reply::Response(mut r)) => {
                    r.jwks_fetch = fetched.and_then(Result::err);
                    return Reply::Response(r);
                }
                Step::Done(reply) => return reply,
                Step::Fetch(request) if fetched.is_none() => {
                    let result = platform.fetch(&request).await;
                    self.record_fetch(platform.now(), result.as_deref().map_err(|e| *e));
                    fetched = Some(result.map(drop));
                }
                Step::Verify(check) if verdict.is_none() => {
                    let valid = platform.verify(&check).await;
                    verdict = Some(Verdict { check, valid });
                }
                Step::Fetch(_) | Step::Verify(_) => break,
            }
        }
        // The cache guarantees one fetch is enough; this is the safe fallback.
        let mut r = self.error(req, &ApiError::AuthUnavailable);
        r.jwks_fetch = fetched.and_then(Result::err);
        Reply::Response(r)
    }

    /// One step of [`Service::respond`] at `now`: the answer, or the I/O the core needs first.
    /// `verdict` is the platform's answer to an earlier [`Step::Verify`].
    pub fn step(&self, req: &Request<'_>, now: UnixTime, verdict: Option<&Verdict>) -> Step {
        let jwks = self.jwks.lock().unwrap_or_else(|p| p.into_inner());
        let cx = Context { config: &self.config, jwks: &jwks, objects: self.objects };
        let mut step = routes::handle(&cx, req, now, verdict);
        if req.method == "HEAD" {
            // The headers of the GET, no body (RFC 9110 section 9.3.2).
            if let Step::Done(Reply::Response(r)) = &mut step {
                r.body.clear();
            }
        }
        step
    }

    /// Records the result of a [`Step::Fetch`] made at `now`.
    pub fn record_fetch(&self, now: UnixTime, result: Result<&[u8], FetchError>) {
        self.jwks.lock().unwrap_or_else(|p| p.into_inner()).record_fetch(now, result.ok());
    }

    /// An error for `req`, with the CORS headers that apply.
    fn error(&self, req: &Request<'_>, err: &ApiError) -> Response {
        let jwks = self.jwks.lock().unwrap_or_else(|p| p.into_inner());
        let cx = Context { config: &self.config, jwks: &jwks, objects: self.objects };
        let mut r = routes::responder(&cx, req).error(err, None);
        if req.method == "HEAD" {
            r.body.clear();
        }
        r
    }
}
