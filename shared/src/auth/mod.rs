//! Who is asking: bearer tokens checked against an HS256 secret or a JWKS.
//!
//! Verification is sans-IO: the time comes in as an argument, the JWKS comes from
//! [`JwksCache`] (which the adapter fills), and an asymmetric signature is verified either in
//! Rust (`native-crypto`) or by the adapter, which answers a [`SignatureCheck`] with a
//! [`Verdict`]. The rules (which algorithm, which key, which claims) are all here.

use std::collections::HashSet;

use serde_json::Value;

mod failure;
pub(crate) mod jwks;
pub(crate) mod jws;
pub(crate) mod jwt;

pub use failure::AuthFailure;
pub use jwks::JwksCache;
pub use jws::{PublicKey, SignatureCheck, Verdict};
pub use jwt::Alg;

use crate::clock::UnixTime;
use jwks::Lookup;
use jws::Hs256Key;
use jwt::{ClaimRules, Claims, Token};

/// Test-only counters of the expensive steps of authentication, so that a test can show that
/// one request parses its token once and verifies its signature once.
#[cfg(test)]
pub(crate) mod counters {
    use std::cell::Cell;

    thread_local! {
        pub(crate) static PARSES: Cell<usize> = const { Cell::new(0) };
        pub(crate) static VERIFICATIONS: Cell<usize> = const { Cell::new(0) };
    }

    /// (parses, verifications) so far on this thread.
    pub(crate) fn read() -> (usize, usize) {
        (PARSES.with(Cell::get), VERIFICATIONS.with(Cell::get))
    }

    pub(crate) fn count(counter: &'static std::thread::LocalKey<Cell<usize>>) {
        counter.with(|c| c.set(c.get() + 1));
    }
}

/// A bearer credential, read once: what the rest of authentication works on.
pub(crate) enum Credential<'a> {
    /// Auth is off: the caller is [`Caller::ANONYMOUS`].
    Anonymous(Caller),
    /// A token to verify with the HS256 secret.
    Hs256(Token<'a>),
    /// A token to verify with a key from the JWKS.
    Jwks(Token<'a>),
}

/// Where a JWKS-signed token's key is.
pub(crate) enum KeyFor {
    /// The key, in the cache: the signature was checked here (`native-crypto`).
    #[cfg(feature = "native-crypto")]
    Checked(bool),
    /// The key, in the cache: the platform must check this signature.
    #[cfg(not(feature = "native-crypto"))]
    Check(SignatureCheck),
    /// The key set must be fetched first.
    Fetch,
    /// Keys are trusted but none matches: 401.
    Unknown,
    /// No trusted keys and no fetch allowed now: 503.
    Unavailable,
}

/// Longest bearer token we look at.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// How tokens are verified.
pub enum Verifier {
    /// Neither `AUTH_JWT_SECRET` nor `AUTH_JWKS_URL`: every request is allowed.
    Off,
    Hs256(Hs256Key),
    Jwks {
        url: String,
    },
}

/// The `AUTH_*` part of the configuration.
pub struct AuthConfig {
    pub verifier: Verifier,
    pub issuers: Option<HashSet<String>>,
    pub audiences: Option<HashSet<String>>,
    pub clock_skew_seconds: u64,
    pub jwks_cache_seconds: u64,
    pub prefix_claim: Option<String>,
    /// `AUTH_MAX_TOKEN_AGE`: a token whose `exp` lies further ahead than this (plus the clock
    /// skew) is refused, so that no token lives for ever.
    pub max_token_age_seconds: Option<u64>,
}

/// An authenticated caller: what its token lets it write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caller {
    /// Who: the token's `sub` (`None` without one), or [`Caller::ANONYMOUS`] with auth off.
    pub subject: Option<String>,
    /// With `AUTH_KEY_PREFIX_CLAIM`: the prefixes the token's claim grants (empty when the claim
    /// is absent, which grants nothing). `None` when no claim is configured.
    pub claimed_prefixes: Option<Vec<String>>,
}

impl Caller {
    /// The subject logged when auth is off.
    pub const ANONYMOUS: &'static str = "anonymous";

    /// The key the platform's rate limiter counts this caller under: its `sub` (or
    /// `anonymous`); callers whose token has no `sub` share one key.
    pub fn rate_limit_key(&self) -> String {
        match &self.subject {
            Some(sub) => format!("sub:{sub}"),
            None => "no-sub".to_owned(),
        }
    }

    /// True when no claim restricts the caller or the key lies under one of its prefixes. A
    /// claimed prefix that does not end in `/` matches at a segment boundary only: `uploads/u1`
    /// admits `uploads/u1` and `uploads/u1/x`, never `uploads/u10/x` or `uploads/u1-admin/x`.
    pub fn may_write(&self, key: &str) -> bool {
        self.claimed_prefixes.as_ref().is_none_or(|ps| ps.iter().any(|p| under_claimed_prefix(key, p)))
    }
}

/// `key` is `prefix` itself or lies below it: a prefix ending in `/` matches as a string
/// prefix, any other only where a segment ends.
fn under_claimed_prefix(key: &str, prefix: &str) -> bool {
    if prefix.is_empty() {
        return false;
    }
    match key.strip_prefix(prefix) {
        None => false,
        Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
    }
}

/// The result of checking a request's credentials (the one-call form of tests and benches).
#[cfg(any(test, feature = "fixtures"))]
pub enum AuthOutcome {
    Allowed(Caller),
    /// 401 for this reason.
    Denied(AuthFailure),
    /// No trusted keys and no fetch allowed right now: 503, never an open door.
    Unavailable,
    /// The JWKS must be fetched first (see [`JwksCache`]).
    FetchJwks,
    /// Without `native-crypto`: the adapter must verify this signature, then ask again with
    /// its [`Verdict`].
    VerifySignature(SignatureCheck),
}

/// Extracts the token from `Authorization: Bearer <token>` (scheme case-insensitive).
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, AuthFailure> {
    let value = authorization.ok_or(AuthFailure::Missing)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(AuthFailure::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthFailure::NotBearer);
    }
    let token = token.trim_start();
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES || token.contains(char::is_whitespace) {
        return Err(AuthFailure::Malformed);
    }
    Ok(token)
}

impl AuthConfig {
    pub fn is_enabled(&self) -> bool {
        !matches!(self.verifier, Verifier::Off)
    }

    /// The fetch of `AUTH_JWKS_URL`, with the contract's limits (`None` without a JWKS).
    pub fn jwks_fetch(&self) -> Option<crate::fetch::FetchRequest> {
        match &self.verifier {
            Verifier::Jwks { url } => Some(jwks::fetch_request(url)),
            _ => None,
        }
    }

    /// Reads the `Authorization` header value into the credential to check: parsed once, the
    /// algorithm checked against the verifier.
    pub(crate) fn credential<'a>(&self, authorization: Option<&'a str>) -> Result<Credential<'a>, AuthFailure> {
        if matches!(self.verifier, Verifier::Off) {
            return Ok(Credential::Anonymous(Caller { subject: Some(Caller::ANONYMOUS.to_owned()), claimed_prefixes: None }));
        }
        let token = bearer_token(authorization).and_then(Token::parse)?;
        match &self.verifier {
            Verifier::Hs256(_) if token.alg == Alg::HS256 => Ok(Credential::Hs256(token)),
            Verifier::Jwks { .. } if token.alg != Alg::HS256 => Ok(Credential::Jwks(token)),
            _ => Err(AuthFailure::AlgorithmNotAllowed),
        }
    }

    /// The caller of an HS256 token: its signature, then its claims.
    pub(crate) fn hs256(&self, token: &Token<'_>, now: UnixTime) -> Result<Caller, AuthFailure> {
        let Verifier::Hs256(key) = &self.verifier else { return Err(AuthFailure::AlgorithmNotAllowed) };
        if !key.verify(token.signing_input.as_bytes(), &token.signature) {
            return Err(AuthFailure::BadSignature);
        }
        self.accept(token, now)
    }

    /// The key of a JWKS-signed token, from `cache` at `now`; with `native-crypto` the
    /// signature is checked at once, while the key is at hand. `may_fetch` is false once this
    /// request has had its fetch.
    pub(crate) fn jwks_key(&self, token: &Token<'_>, cache: &JwksCache, now: UnixTime, may_fetch: bool) -> KeyFor {
        match cache.lookup(token.kid.as_deref(), token.alg, now, self.jwks_cache_seconds) {
            #[cfg(feature = "native-crypto")]
            Lookup::Found(jwk) => KeyFor::Checked(jwk.key.verify(token.alg, token.signing_input.as_bytes(), &token.signature)),
            #[cfg(not(feature = "native-crypto"))]
            Lookup::Found(jwk) => KeyFor::Check(SignatureCheck {
                alg: token.alg,
                key: jwk.key.clone(),
                signing_input: token.signing_input.to_owned(),
                signature: token.signature.clone(),
            }),
            Lookup::Fetch if may_fetch => KeyFor::Fetch,
            Lookup::Fetch | Lookup::Unavailable => KeyFor::Unavailable,
            Lookup::Unknown => KeyFor::Unknown,
        }
    }

    /// The caller of a token whose signature verified: its claims, checked at `now`.
    pub(crate) fn accept(&self, token: &Token<'_>, now: UnixTime) -> Result<Caller, AuthFailure> {
        let claims = token.claims(self.prefix_claim.as_deref())?;
        let rules = ClaimRules {
            issuers: self.issuers.as_ref(),
            audiences: self.audiences.as_ref(),
            clock_skew_seconds: self.clock_skew_seconds,
            max_token_age_seconds: self.max_token_age_seconds,
        };
        rules.check(&claims, now)?;
        Ok(self.caller(claims))
    }

    /// Checks the `Authorization` header value at instant `now`. `verdict` is the adapter's
    /// answer to an earlier [`AuthOutcome::VerifySignature`]; it counts only if it is for the
    /// very check this token needs now (the key set may have changed in between). The whole of
    /// authentication in one call, for tests; a request goes through [`crate::Exchange`],
    /// which resumes instead of starting over.
    #[cfg(any(test, feature = "fixtures"))]
    pub fn authenticate(&self, authorization: Option<&str>, now: UnixTime, cache: &JwksCache, verdict: Option<&Verdict>) -> AuthOutcome {
        let outcome = |result: Result<Caller, AuthFailure>| result.map_or_else(AuthOutcome::Denied, AuthOutcome::Allowed);
        let token = match self.credential(authorization) {
            Err(f) => return AuthOutcome::Denied(f),
            Ok(Credential::Anonymous(caller)) => return AuthOutcome::Allowed(caller),
            Ok(Credential::Hs256(token)) => return outcome(self.hs256(&token, now)),
            Ok(Credential::Jwks(token)) => token,
        };
        let signed = match self.jwks_key(&token, cache, now, true) {
            #[cfg(feature = "native-crypto")]
            KeyFor::Checked(signed) => {
                let _ = verdict;
                signed
            }
            #[cfg(not(feature = "native-crypto"))]
            KeyFor::Check(check) => match verdict {
                Some(v) if v.check == check => v.valid,
                _ => return AuthOutcome::VerifySignature(check),
            },
            KeyFor::Fetch => return AuthOutcome::FetchJwks,
            KeyFor::Unknown => return AuthOutcome::Denied(AuthFailure::UnknownKey),
            KeyFor::Unavailable => return AuthOutcome::Unavailable,
        };
        if !signed {
            return AuthOutcome::Denied(AuthFailure::BadSignature);
        }
        outcome(self.accept(&token, now))
    }

    fn caller(&self, claims: Claims) -> Caller {
        let claimed_prefixes = self.prefix_claim.as_ref().map(|_| match claims.prefix {
            Some(Value::String(s)) => vec![s],
            Some(Value::Array(items)) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        });
        Caller { subject: claims.sub, claimed_prefixes }
    }
}

#[cfg(test)]
pub(crate) mod tests;
