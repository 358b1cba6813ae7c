//! One request, answered step by step: [`Exchange::step`] answers, or hands out the one piece
//! of I/O it needs first ([`Step::Fetch`] of the JWKS, [`Step::Verify`] of a signature,
//! [`Step::Admit`] of the caller), and resumes where it stopped once that I/O's result comes
//! back ([`Exchange::fetched`], [`Exchange::verified`], [`Exchange::admitted`]). Nothing is
//! computed twice: the route, the CORS headers and the parsed token are kept in the pending
//! state, a verified caller is never verified again, and the JWKS cache is locked only to look
//! a key up, never while URLs are signed.
//!
//! [`crate::Service::respond`] drives it with a platform; the unit tests, fuzz targets and
//! benches drive it synchronously.

use std::mem;
use std::sync::{Mutex, MutexGuard};

use crate::audit::Audit;
use crate::auth::jwt::Token;
use crate::auth::{AuthFailure, Caller, Credential, JwksCache, KeyFor};
use crate::clock::UnixTime;
use crate::config::{Config, ConfigError, PresignSettings};
use crate::error::ApiError;
use crate::fetch::FetchError;
use crate::http::{Request, Responder, Response};
use crate::platform::Capabilities;
use crate::presign::Kind;
use crate::routes::{self, Routed};
use crate::step::{Reply, Step};

/// What a failing rate limiter means: the request goes on. The limiter is a cost cap, not an
/// access rule (auth and the key rules still apply), and an outage of it must not stop uploads.
pub const ADMIT_WHEN_THE_LIMITER_FAILS: bool = true;

/// Where a presign request is once routed: its route, CORS headers and the configuration
/// that let it through.
struct Routing<'s> {
    kind: Kind,
    reply: Responder,
    config: &'s Config,
    settings: &'s PresignSettings,
}

/// What the exchange waits for.
enum State<'s, 'a> {
    /// Nothing done yet.
    Start,
    /// [`Step::Fetch`] was handed out; `fetched` once its result came back.
    Keys { routing: Routing<'s>, token: Token<'a>, fetched: bool },
    /// [`Step::Verify`] was handed out; `valid` once its result came back (only without
    /// `native-crypto`: with it, signatures are checked in Rust).
    #[cfg_attr(feature = "native-crypto", allow(dead_code))]
    Signature { routing: Routing<'s>, token: Token<'a>, valid: Option<bool> },
    /// [`Step::Admit`] was handed out; `allowed` once its result came back.
    Admission { routing: Routing<'s>, caller: Caller, allowed: Option<bool> },
    /// The reply was handed out.
    Finished,
}

/// One request being answered by a [`crate::Service`] (see the module documentation).
pub struct Exchange<'s, 'a> {
    config: &'s Result<Config, ConfigError>,
    jwks: &'s Mutex<JwksCache>,
    req: Request<'a>,
    caps: Capabilities,
    state: State<'s, 'a>,
    /// Why this request's JWKS fetch failed, for the request log.
    jwks_fetch: Option<FetchError>,
}

impl<'s, 'a> Exchange<'s, 'a> {
    pub(crate) fn new(config: &'s Result<Config, ConfigError>, jwks: &'s Mutex<JwksCache>, req: Request<'a>, caps: Capabilities) -> Exchange<'s, 'a> {
        Exchange { config, jwks, req, caps, state: State::Start, jwks_fetch: None }
    }

    /// The next step at `now`: the reply, or the I/O to perform first. Stepping again without
    /// handing back the I/O's result fails closed.
    pub fn step(&mut self, now: UnixTime) -> Step {
        match mem::replace(&mut self.state, State::Finished) {
            State::Start => match routes::route(self.config, self.caps.objects, &self.req) {
                Routed::Done(reply) => self.finish(reply),
                Routed::Presign { kind, reply, config, settings } => self.authenticate(Routing { kind, reply, config, settings }, now),
            },
            State::Keys { routing, token, fetched: true } => self.jwks(routing, token, now, false),
            State::Signature { routing, token, valid: Some(valid) } => {
                if valid {
                    self.accept(routing, &token, now)
                } else {
                    self.deny(&routing, AuthFailure::BadSignature)
                }
            }
            State::Admission { routing, caller, allowed: Some(allowed) } => {
                if allowed {
                    self.sign(&routing, &caller, now)
                } else {
                    let mut r = routing.reply.error(&ApiError::RateLimited, None);
                    r.audit = Some(Audit::refused(caller.subject.as_deref()));
                    self.respond(r)
                }
            }
            // Stepped again without the answer: the keys are unusable.
            State::Keys { routing, .. } | State::Signature { routing, .. } => self.respond(routing.reply.error(&ApiError::AuthUnavailable, None)),
            State::Admission { routing, .. } => self.respond(routing.reply.error(&ApiError::Internal, None)),
            State::Finished => {
                let reply = routes::responder(self.config, &self.req);
                self.respond(reply.error(&ApiError::Internal, None))
            }
        }
    }

    /// The result of the [`Step::Fetch`] just handed out, made at `now`: recorded in the
    /// service's JWKS cache (a failure keeps the keys already trusted).
    pub fn fetched(&mut self, now: UnixTime, result: Result<&[u8], FetchError>) {
        self.jwks_fetch = result.err();
        lock(self.jwks).record_fetch(now, result.ok());
        if let State::Keys { fetched, .. } = &mut self.state {
            *fetched = true;
        }
    }

    /// The result of the [`Step::Verify`] just handed out.
    pub fn verified(&mut self, valid: bool) {
        if let State::Signature { valid: slot, .. } = &mut self.state {
            *slot = Some(valid);
        }
    }

    /// The result of the [`Step::Admit`] just handed out: the limiter's answer, or `None` when
    /// the limiter failed. A failed limiter lets the request through
    /// ([`ADMIT_WHEN_THE_LIMITER_FAILS`]).
    pub fn admitted(&mut self, allowed: Option<bool>) {
        if let State::Admission { allowed: slot, .. } = &mut self.state {
            *slot = Some(allowed.unwrap_or(ADMIT_WHEN_THE_LIMITER_FAILS));
        }
    }

    /// Authentication, from the top: the credential is read once here.
    fn authenticate(&mut self, routing: Routing<'s>, now: UnixTime) -> Step {
        let auth = &routing.config.auth;
        match auth.credential(self.req.authorization) {
            Err(f) => self.deny(&routing, f),
            Ok(Credential::Anonymous(caller)) => self.admit(routing, caller, now),
            Ok(Credential::Hs256(token)) => match auth.hs256(&token, now) {
                Ok(caller) => self.admit(routing, caller, now),
                Err(f) => self.deny(&routing, f),
            },
            Ok(Credential::Jwks(token)) => self.jwks(routing, token, now, true),
        }
    }

    /// A JWKS-signed token: its key from the cache (the lock held for the lookup only).
    fn jwks(&mut self, routing: Routing<'s>, token: Token<'a>, now: UnixTime, may_fetch: bool) -> Step {
        let auth = &routing.config.auth;
        let key = auth.jwks_key(&token, &lock(self.jwks), now, may_fetch);
        match key {
            #[cfg(feature = "native-crypto")]
            KeyFor::Checked(true) => self.accept(routing, &token, now),
            #[cfg(feature = "native-crypto")]
            KeyFor::Checked(false) => self.deny(&routing, AuthFailure::BadSignature),
            #[cfg(not(feature = "native-crypto"))]
            KeyFor::Check(check) => {
                self.state = State::Signature { routing, token, valid: None };
                Step::Verify(check)
            }
            KeyFor::Fetch => match auth.jwks_fetch() {
                Some(fetch) => {
                    self.state = State::Keys { routing, token, fetched: false };
                    Step::Fetch(fetch)
                }
                None => self.respond(routing.reply.error(&ApiError::AuthUnavailable, None)),
            },
            KeyFor::Unknown => self.deny(&routing, AuthFailure::UnknownKey),
            KeyFor::Unavailable => self.respond(routing.reply.error(&ApiError::AuthUnavailable, None)),
        }
    }

    /// A token whose signature verified: its claims.
    fn accept(&mut self, routing: Routing<'s>, token: &Token<'_>, now: UnixTime) -> Step {
        match routing.config.auth.accept(token, now) {
            Ok(caller) => self.admit(routing, caller, now),
            Err(f) => self.deny(&routing, f),
        }
    }

    /// An authenticated caller: through the platform's rate limiter, if it has one.
    fn admit(&mut self, routing: Routing<'s>, caller: Caller, now: UnixTime) -> Step {
        if self.caps.rate_limiter {
            let key = caller.rate_limit_key();
            self.state = State::Admission { routing, caller, allowed: None };
            return Step::Admit(key);
        }
        self.sign(&routing, &caller, now)
    }

    fn sign(&mut self, routing: &Routing<'s>, caller: &Caller, now: UnixTime) -> Step {
        let answer = crate::presign::answer(routing.config, routing.settings, caller, routing.kind, &self.req, now, &routing.reply);
        self.respond(answer)
    }

    fn deny(&mut self, routing: &Routing<'s>, failure: AuthFailure) -> Step {
        self.respond(routing.reply.error(&ApiError::Unauthorized(failure), None))
    }

    fn respond(&mut self, response: Response) -> Step {
        self.finish(Reply::Response(response))
    }

    /// The reply, with what the log needs to know of this exchange; `HEAD` answers lose their
    /// body (RFC 9110 section 9.3.2).
    fn finish(&mut self, mut reply: Reply) -> Step {
        self.state = State::Finished;
        if let Reply::Response(r) = &mut reply {
            r.jwks_fetch = self.jwks_fetch;
            if self.req.method == "HEAD" {
                r.body.clear();
            }
        }
        Step::Done(reply)
    }
}

/// The JWKS cache, locked for as long as the guard lives: one lookup or one record, never
/// longer (a poisoned lock still holds a consistent cache: every update is one assignment).
pub(crate) fn lock(jwks: &Mutex<JwksCache>) -> MutexGuard<'_, JwksCache> {
    jwks.lock().unwrap_or_else(|p| p.into_inner())
}
