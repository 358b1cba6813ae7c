//! Who is asking: bearer tokens checked with `jwt-simple`, against an HS256 secret or a JWKS.
//!
//! Verification is sans-IO: the time comes in as an argument (`artificial_time`, so jwt-simple
//! never reads a clock) and the JWKS comes from [`JwksCache`], which the adapter fills.

use std::collections::HashSet;

use jwt_simple::prelude::*;
use serde_json::{Map, Value};

use crate::clock::UnixTime;
use crate::error::{ApiError, AuthFailure};
use crate::jwks::{Jwk, JwksCache, Lookup, VerifyKey};

/// Algorithms accepted from a JWKS (asymmetric only: an HS-signed token is refused there).
pub const JWKS_ALGORITHMS: &[&str] = &["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"];

/// Longest bearer token we look at.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// How tokens are verified.
pub enum Verifier {
    /// Neither `AUTH_JWT_SECRET` nor `AUTH_JWKS_URL`: every request is allowed.
    Off,
    Hs256(HS256Key),
    Jwks { url: String },
}

/// The `AUTH_*` part of the configuration.
pub struct AuthConfig {
    pub verifier: Verifier,
    pub issuers: Option<HashSet<String>>,
    pub audiences: Option<HashSet<String>>,
    pub clock_skew_seconds: u64,
    pub jwks_cache_seconds: u64,
    pub prefix_claim: Option<String>,
}

/// An authenticated caller: what its token lets it write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caller {
    /// With `AUTH_KEY_PREFIX_CLAIM`: the prefixes the token's claim grants (empty when the claim
    /// is absent, which grants nothing). `None` when no claim is configured.
    pub claimed_prefixes: Option<Vec<String>>,
}

impl Caller {
    /// True when no claim restricts the caller or the key starts with one of its prefixes.
    pub fn may_write(&self, key: &str) -> bool {
        self.claimed_prefixes.as_ref().is_none_or(|ps| ps.iter().any(|p| !p.is_empty() && key.starts_with(p.as_str())))
    }
}

/// The result of checking a request's credentials.
pub enum AuthOutcome {
    Allowed(Caller),
    Denied(ApiError),
    /// The JWKS must be fetched first (see [`JwksCache`]).
    FetchJwks,
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

fn failure_of(err: &jwt_simple::Error) -> AuthFailure {
    use jwt_simple::JWTError as E;
    match err.downcast_ref::<E>() {
        Some(E::InvalidSignature | E::InvalidAuthenticationTag) => AuthFailure::BadSignature,
        Some(E::TokenHasExpired) => AuthFailure::Expired,
        Some(E::TokenNotValidYet) => AuthFailure::NotYetValid,
        Some(E::ClockDrift) => AuthFailure::IssuedInFuture,
        Some(E::RequiredIssuerMismatch | E::RequiredIssuerMissing) => AuthFailure::WrongIssuer,
        Some(E::RequiredAudienceMismatch | E::RequiredAudienceMissing) => AuthFailure::WrongAudience,
        Some(E::AlgorithmMismatch) => AuthFailure::AlgorithmNotAllowed,
        _ => AuthFailure::Malformed,
    }
}

type Claims = JWTClaims<Map<String, Value>>;

impl AuthConfig {
    pub fn is_enabled(&self) -> bool {
        !matches!(self.verifier, Verifier::Off)
    }

    pub fn jwks_url(&self) -> Option<&str> {
        match &self.verifier {
            Verifier::Jwks { url } => Some(url),
            _ => None,
        }
    }

    fn options(&self, now: UnixTime) -> VerificationOptions {
        VerificationOptions {
            allowed_issuers: self.issuers.clone(),
            allowed_audiences: self.audiences.clone(),
            time_tolerance: Some(Duration::from_secs(self.clock_skew_seconds)),
            max_token_length: Some(MAX_TOKEN_BYTES),
            artificial_time: Some(UnixTimeStamp::from_secs(now.0)),
            ..VerificationOptions::default()
        }
    }

    /// Checks the `Authorization` header value at instant `now`.
    pub fn authenticate(&self, authorization: Option<&str>, now: UnixTime, cache: &JwksCache) -> AuthOutcome {
        let deny = |f| AuthOutcome::Denied(ApiError::Unauthorized(f));
        let token = match &self.verifier {
            Verifier::Off => return AuthOutcome::Allowed(Caller::default()),
            _ => match bearer_token(authorization) {
                Ok(t) => t,
                Err(f) => return deny(f),
            },
        };
        let Ok(meta) = Token::decode_metadata(token) else { return deny(AuthFailure::Malformed) };
        let alg = meta.algorithm();
        let claims = match &self.verifier {
            Verifier::Off => unreachable!("handled above"),
            Verifier::Hs256(key) => {
                if alg != "HS256" {
                    return deny(AuthFailure::AlgorithmNotAllowed);
                }
                key.verify_token::<Map<String, Value>>(token, Some(self.options(now)))
            }
            Verifier::Jwks { .. } => {
                if !JWKS_ALGORITHMS.contains(&alg) {
                    return deny(AuthFailure::AlgorithmNotAllowed);
                }
                match cache.lookup(meta.key_id(), alg, now, self.jwks_cache_seconds) {
                    Lookup::Found(jwk) => verify_with_jwk(jwk, alg, token, self.options(now)),
                    Lookup::Fetch => return AuthOutcome::FetchJwks,
                    Lookup::Unknown => return deny(AuthFailure::UnknownKey),
                    Lookup::Unavailable => return AuthOutcome::Denied(ApiError::AuthUnavailable),
                }
            }
        };
        match claims {
            Err(e) => deny(failure_of(&e)),
            Ok(c) if c.expires_at.is_none() => deny(AuthFailure::NoExpiry),
            Ok(c) => AuthOutcome::Allowed(self.caller(&c)),
        }
    }

    fn caller(&self, claims: &Claims) -> Caller {
        let claimed_prefixes = self.prefix_claim.as_ref().map(|name| match claims.custom.get(name) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        });
        Caller { claimed_prefixes }
    }
}

fn verify_with_jwk(jwk: &Jwk, alg: &str, token: &str, options: VerificationOptions) -> Result<Claims, jwt_simple::Error> {
    let o = Some(options);
    match (&jwk.key, alg) {
        (VerifyKey::Rsa { n, e }, "RS256") => RS256PublicKey::from_components(n, e)?.verify_token(token, o),
        (VerifyKey::Rsa { n, e }, "RS384") => RS384PublicKey::from_components(n, e)?.verify_token(token, o),
        (VerifyKey::Rsa { n, e }, "RS512") => RS512PublicKey::from_components(n, e)?.verify_token(token, o),
        (VerifyKey::Rsa { n, e }, "PS256") => PS256PublicKey::from_components(n, e)?.verify_token(token, o),
        (VerifyKey::Es256(k), "ES256") => k.verify_token(token, o),
        (VerifyKey::Es384(k), "ES384") => k.verify_token(token, o),
        (VerifyKey::Ed25519(k), "EdDSA") => k.verify_token(token, o),
        _ => Err(jwt_simple::JWTError::AlgorithmMismatch.into()),
    }
}

#[cfg(test)]
pub(crate) mod tests;
