//! The one way in: [`Service::respond`] answers a [`Request`] using only what a [`Platform`]
//! offers (the clock, a fetch under the core's rules, a signature check, a rate limiter).
//!
//! Underneath, each request is an [`Exchange`]: a synchronous state machine that answers or
//! hands out the one piece of I/O it needs first, and resumes where it stopped once the result
//! comes back. `respond` performs those steps through the platform; the fuzz targets, unit tests
//! and benches drive the exchange directly. Both adapters run the same loop, with no decision
//! of their own: parity by construction.

use std::sync::Mutex;

use crate::auth::JwksCache;
use crate::clock::UnixTime;
use crate::config::{Config, ConfigError};
use crate::exchange::Exchange;
use crate::fetch::FetchError;
use crate::http::Request;
use crate::platform::{Capabilities, ObjectStore, Platform};
use crate::step::{Reply, Step};

/// The service: the configuration (or why it is invalid) and the JWKS cache of this process
/// (Lambda sandbox, Worker isolate). What the platform can do comes from the platform itself,
/// with each request ([`Capabilities`]).
pub struct Service {
    config: Result<Config, ConfigError>,
    jwks: Mutex<JwksCache>,
}

impl Service {
    /// The service of a configuration (or of the reason it is invalid).
    pub fn new(config: Result<Config, ConfigError>) -> Service {
        Service { config, jwks: Mutex::new(JwksCache::default()) }
    }

    /// Parses the configuration from a variable lookup and builds the service. An invalid
    /// configuration is kept as such: `/health` reports it and every other route answers 500.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Service {
        Service::new(Config::from_lookup(lookup))
    }

    /// The configuration, or why it is invalid.
    pub fn config(&self) -> Option<&Config> {
        self.config.as_ref().ok()
    }

    /// Why the configuration is invalid, if it is.
    pub fn config_error(&self) -> Option<&ConfigError> {
        self.config.as_ref().err()
    }

    /// What an operator should hear once at start-up, besides an invalid configuration.
    /// `objects`: the object store of the platform it runs on.
    pub fn startup_warnings(&self, objects: ObjectStore) -> Vec<std::borrow::Cow<'static, str>> {
        let Ok(config) = &self.config else {
            return Vec::new();
        };
        let mut warnings = Vec::new();
        if !config.auth.is_enabled() {
            warnings.push("Auth is off: neither AUTH_JWT_SECRET nor AUTH_JWKS_URL is set, so every request may presign.".into());
        }
        if config.serve_objects && objects == ObjectStore::Absent {
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
    /// JWKS fetch, one signature check and one admission. If keys are still unusable after
    /// that, the answer is 503 `auth_unavailable`.
    pub async fn respond<P: Platform>(&self, req: &Request<'_>, platform: &P) -> Reply {
        let mut exchange = self.exchange(*req, Capabilities::of(platform));
        loop {
            match exchange.step(platform.now()) {
                Step::Done(reply) => return reply,
                Step::Fetch(request) => {
                    let result = platform.fetch(&request).await;
                    exchange.fetched(platform.now(), result.as_deref().map_err(|e| *e));
                }
                Step::Verify(check) => {
                    let valid = platform.verify(&check).await;
                    exchange.verified(valid);
                }
                Step::Admit(key) => {
                    let allowed = platform.admit(&key).await;
                    exchange.admitted(allowed);
                }
            }
        }
    }

    /// Starts answering `req` on a platform with `caps`; see [`Exchange`].
    pub fn exchange<'a>(&self, req: Request<'a>, caps: Capabilities) -> Exchange<'_, 'a> {
        Exchange::new(&self.config, &self.jwks, req, caps)
    }

    /// Records the result of a JWKS fetch made at `now` (what [`Exchange::fetched`] does; also
    /// fills the cache ahead of requests in tests and fuzz targets).
    pub fn record_fetch(&self, now: UnixTime, result: Result<&[u8], FetchError>) {
        crate::exchange::lock(&self.jwks).record_fetch(now, result.ok());
    }
}
