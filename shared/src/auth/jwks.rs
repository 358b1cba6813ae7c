//! The JWKS cache as a state machine: it decides when the adapter must fetch `AUTH_JWKS_URL`
//! and which fetched keys are still trusted. The adapters only perform the fetch it asks for,
//! under the limits of [`fetch_request`].
//!
//! Rules:
//! - keys are trusted for `AUTH_JWKS_CACHE_SECONDS` after the fetch that brought them;
//! - no trusted keys: fetch, but after a failed attempt wait [`RETRY_AFTER_FAILURE`] before
//!   trying again (meanwhile: 503 `auth_unavailable`, never an open door);
//! - a token whose `kid` is unknown triggers at most one refetch per [`UNKNOWN_KID_REFETCH`];
//! - never two attempts within the same second, so one request causes at most one fetch.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::time::Duration;

use serde::Deserialize;

use crate::auth::jws::PublicKey;
use crate::auth::jwt::Alg;
use crate::clock::UnixTime;
use crate::fetch::FetchRequest;

/// A `kid` we do not know causes at most one refetch per this many seconds.
pub const UNKNOWN_KID_REFETCH: u64 = 30;
/// After a failed fetch, wait this long before the next attempt.
pub const RETRY_AFTER_FAILURE: u64 = 5;
/// The most JWKS bytes an adapter may read.
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// The whole JWKS fetch, redirects and body included. The core answers 503 rather than wait.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// Redirects an identity provider may send before the key set.
const MAX_REDIRECTS: u8 = 3;

/// The GET of `AUTH_JWKS_URL` with the limits of the contract: 3 s in all, 256 KiB, at most 3
/// redirects and only to `https://`.
pub(crate) fn fetch_request(url: &str) -> FetchRequest {
    FetchRequest { url: url.to_owned(), timeout: FETCH_TIMEOUT, max_bytes: MAX_JWKS_BYTES, max_redirects: MAX_REDIRECTS, https_only_redirects: true }
}

pub(crate) struct Jwk {
    pub kid: Option<String>,
    pub alg: Option<String>,
    pub key: PublicKey,
}

impl Jwk {
    /// Can this key verify a token signed with `alg`?
    pub fn fits(&self, alg: Alg) -> bool {
        self.alg.as_deref().is_none_or(|a| a == alg.name()) && self.key.fits(alg)
    }
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

fn b64(s: &Option<String>) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.as_deref()?.trim_end_matches('=')).ok()
}

fn parse_jwk(raw: RawJwk) -> Option<Jwk> {
    if raw.use_.as_deref().is_some_and(|u| u != "sig") {
        return None;
    }
    let key = match (raw.kty.as_str(), raw.crv.as_deref()) {
        ("RSA", _) => PublicKey::rsa(b64(&raw.n)?, b64(&raw.e)?)?,
        ("EC", Some(curve)) => PublicKey::ec(curve, b64(&raw.x)?, b64(&raw.y)?)?,
        ("OKP", Some("Ed25519")) => PublicKey::ed25519(&b64(&raw.x)?)?,
        _ => return None,
    };
    Some(Jwk { kid: raw.kid, alg: raw.alg, key })
}

/// Parses a JWKS document. Keys of unsupported types or shapes are skipped; a document that is
/// not a JWKS at all is an error, so that garbage does not replace good cached keys.
pub(crate) fn parse_jwks(body: &[u8]) -> Result<Vec<Jwk>, ()> {
    let set: RawSet = serde_json::from_slice(body).map_err(|_| ())?;
    Ok(set.keys.into_iter().filter_map(|v| serde_json::from_value::<RawJwk>(v).ok()).filter_map(parse_jwk).collect())
}

/// What the cache says about a token's key.
pub(crate) enum Lookup<'a> {
    Found(&'a Jwk),
    /// Fetch the JWKS, record the result, then ask again.
    Fetch,
    /// Keys are trusted but none matches: 401.
    Unknown,
    /// No trusted keys and no fetch allowed now: 503.
    Unavailable,
}

/// The cache's state. One per process (Lambda sandbox, Worker isolate).
#[derive(Default)]
pub struct JwksCache {
    keys: Vec<Jwk>,
    fetched_at: Option<UnixTime>,
    last_attempt: Option<UnixTime>,
    last_attempt_failed: bool,
}

impl JwksCache {
    fn trusted(&self, now: UnixTime, ttl: u64) -> bool {
        self.fetched_at.is_some_and(|t| now.0.saturating_sub(t.0) < ttl)
    }

    fn may_fetch(&self, now: UnixTime, min_interval: u64) -> bool {
        match self.last_attempt {
            None => true,
            Some(t) if t.0 >= now.0 => false,
            Some(t) => now.0 - t.0 >= min_interval,
        }
    }

    /// Whether a fetch is due right now regardless of any token (e.g. to warm the cache).
    pub fn fetch_due(&self, now: UnixTime, ttl: u64) -> bool {
        !self.trusted(now, ttl) && self.may_fetch(now, if self.last_attempt_failed { RETRY_AFTER_FAILURE } else { 1 })
    }

    pub(crate) fn lookup(&self, kid: Option<&str>, alg: Alg, now: UnixTime, ttl: u64) -> Lookup<'_> {
        if !self.trusted(now, ttl) {
            return if self.fetch_due(now, ttl) { Lookup::Fetch } else { Lookup::Unavailable };
        }
        let found = self.keys.iter().find(|k| match kid {
            Some(kid) => k.kid.as_deref() == Some(kid) && k.fits(alg),
            None => k.fits(alg),
        });
        match found {
            Some(k) => Lookup::Found(k),
            None if self.may_fetch(now, UNKNOWN_KID_REFETCH) => Lookup::Fetch,
            None => Lookup::Unknown,
        }
    }

    /// Records the outcome of a fetch the cache asked for: the body on HTTP 200, `None` on any
    /// failure (network, timeout, status, oversize). A body that does not parse is a failure
    /// too; in every failure case previously fetched keys stay until their time runs out.
    pub fn record_fetch(&mut self, now: UnixTime, body: Option<&[u8]>) -> bool {
        self.last_attempt = Some(now);
        match body.map(parse_jwks) {
            Some(Ok(keys)) => {
                self.keys = keys;
                self.fetched_at = Some(now);
                self.last_attempt_failed = false;
                true
            }
            _ => {
                self.last_attempt_failed = true;
                false
            }
        }
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }
}
