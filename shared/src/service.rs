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

    /// Whether the caller `key` may go on now, from the platform's rate limiter. Only asked of
    /// a service built [`Service::with_rate_limiter`]; a platform without one allows all.
    fn admit(&self, key: &str) -> impl Future<Output = bool> {
        let _ = key;
        std::future::ready(true)
    }
}

/// The platform's answers to earlier steps, handed back to [`Service::step`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    /// The answer to a [`Step::Verify`].
    pub signature: Option<Verdict>,
    /// The answer to a [`Step::Admit`].
    pub admission: Option<Admission>,
}

impl Answers {
    /// No answers yet: the first step of every request.
    pub const NONE: Answers = Answers { signature: None, admission: None };
}

/// The rate limiter's answer for one caller key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub key: String,
    pub allowed: bool,
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
    /// Ask the rate limiter about this caller key, then step again with the [`Admission`].
    Admit(String),
}

/// The service: the configuration (or why it is invalid), the platform's object store, and
/// the JWKS cache of this process (Lambda sandbox, Worker isolate).
pub struct Service {
    config: Result<Config, ConfigError>,
    objects: ObjectStore,
    rate_limiter: bool,
    jwks: Mutex<JwksCache>,
}

impl Service {
    pub fn new(config: Result<Config, ConfigError>, objects: ObjectStore) -> Service {
        Service { config, objects, rate_limiter: false, jwks: Mutex::new(JwksCache::default()) }
    }

    /// The platform has a per-caller rate limiter: every authenticated presign request is
    /// first admitted by it ([`Step::Admit`]), and refused with 429 `rate_limited` when not.
    pub fn with_rate_limiter(mut self, present: bool) -> Service {
        self.rate_limiter = present;
        self
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
    pub fn startup_warnings(&self) -> Vec<std::borrow::Cow<'static, str>> {
        let Ok(config) = &self.config else {
            return Vec::new();
        };
        let mut warnings = Vec::new();
        if !config.auth.is_enabled() {
            warnings.push("Auth is off: neither AUTH_JWT_SECRET nor AUTH_JWKS_URL is set, so every request may presign.".into());
        }
        if config.serve_objects && self.objects == ObjectStore::Absent {
            warnings.push("SERVE_OBJECTS is true, but this platform has no object store: object paths answer 404.".into());
        }
        // A prefix is matched byte for byte: `uploads/u1` also admits `uploads/u10/x`.
        for prefix in config.allowed_prefixes.as_slice().iter().filter(|p| !p.ends_with('/')) {
            warnings.push(
                format!(
                    "PRESIGN_ALLOWED_PREFIXES entry \"{prefix}\" does not end in '/': it also admits every key that merely starts with it (\"{prefix}x/...\")."
                )
                .into(),
            );
        }
        warnings
    }

    /// Answers `req`, performing through `platform` the I/O the core asks for: at most one
    /// JWKS fetch and one signature check. If keys are still unusable after that, the answer
    /// is 503 `auth_unavailable`.
    pub async fn respond<P: Platform>(&self, req: &Request<'_>, platform: &P) -> Reply {
        debug_assert_eq!(P::OBJECT_STORE, self.objects, "the service was built for another platform");
        let mut fetched = None;
        let mut answers = Answers::NONE;
        // At most: fetch the keys, verify the signature, admit the caller, answer.
        for _ in 0..4 {
            match self.step(req, platform.now(), &answers) {
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
                Step::Verify(check) if answers.signature.is_none() => {
                    let valid = platform.verify(&check).await;
                    answers.signature = Some(Verdict { check, valid });
                }
                Step::Admit(key) if answers.admission.is_none() => {
                    let allowed = platform.admit(&key).await;
                    answers.admission = Some(Admission { key, allowed });
                }
                Step::Fetch(_) | Step::Verify(_) | Step::Admit(_) => break,
            }
        }
        // The cache guarantees one fetch is enough; this is the safe fallback.
        let mut r = self.error(req, &ApiError::AuthUnavailable);
        r.jwks_fetch = fetched.and_then(Result::err);
        Reply::Response(r)
    }

    /// One step of [`Service::respond`] at `now`: the answer, or the I/O the core needs first.
    /// `answers` holds the platform's answers to the earlier steps of this request.
    pub fn step(&self, req: &Request<'_>, now: UnixTime, answers: &Answers) -> Step {
        let jwks = self.jwks.lock().unwrap_or_else(|p| p.into_inner());
        let cx = Context { config: &self.config, jwks: &jwks, objects: self.objects, rate_limiter: self.rate_limiter };
        let mut step = routes::handle(&cx, req, now, answers);
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
        let cx = Context { config: &self.config, jwks: &jwks, objects: self.objects, rate_limiter: self.rate_limiter };
        let mut r = routes::responder(&cx, req).error(err, None);
        if req.method == "HEAD" {
            r.body.clear();
        }
        r
    }
}
