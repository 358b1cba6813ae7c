//! Why a token was refused: the low-level vocabulary of the auth rules, below the HTTP errors
//! (`crate::error::ApiError::Unauthorized` wraps it).

use std::fmt;

/// Why a token was refused (401). Kept coarse on purpose: the caller learns what to fix, an
/// attacker learns nothing about the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    NotBearer,
    Malformed,
    BadSignature,
    Expired,
    NoExpiry,
    NotYetValid,
    IssuedInFuture,
    WrongIssuer,
    WrongAudience,
    AlgorithmNotAllowed,
    UnknownKey,
    /// `AUTH_MAX_TOKEN_AGE`: the token's `exp` is further ahead than this deployment allows.
    LivesTooLong,
}

impl AuthFailure {
    pub fn message(self) -> &'static str {
        match self {
            AuthFailure::Missing => "An Authorization: Bearer <token> header is required.",
            AuthFailure::NotBearer => "The Authorization header must use the Bearer scheme.",
            AuthFailure::Malformed => "The bearer token is not a well-formed JWT.",
            AuthFailure::BadSignature => "The token's signature does not verify.",
            AuthFailure::Expired => "The token has expired.",
            AuthFailure::NoExpiry => "The token must carry an exp claim.",
            AuthFailure::NotYetValid => "The token is not valid yet (nbf is in the future).",
            AuthFailure::IssuedInFuture => "The token's iat is in the future; check the issuer's clock.",
            AuthFailure::WrongIssuer => "The token's issuer is not accepted.",
            AuthFailure::WrongAudience => "The token's audience is not accepted.",
            AuthFailure::AlgorithmNotAllowed => "The token's signing algorithm is not allowed.",
            AuthFailure::UnknownKey => "The token was signed with a key this service does not know.",
            AuthFailure::LivesTooLong => "The token's exp is further ahead than this deployment accepts (AUTH_MAX_TOKEN_AGE).",
        }
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for AuthFailure {}
