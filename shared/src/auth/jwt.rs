//! JSON Web Tokens (RFC 7519, JWS compact form), read and checked by the core itself.
//!
//! Why not a JWT library: the checks must stay in the core while the signature arithmetic may
//! happen elsewhere (the Worker verifies RSA, ECDSA and Ed25519 with WebCrypto, which keeps the
//! bignum and curve code out of its wasm). So reading a token, checking its claims and verifying
//! its signature are three separate steps here; [`super::jws`] does the third.
//!
//! The rules follow what `jwt-simple` (the library used before) enforced, which the tests pin
//! down with tokens it signs: `typ` must be JWT-ish, any `crit` header is refused, `exp` is
//! required, `iat` and `nbf` may not lie in the future beyond the clock skew, `iss`/`aud` must be
//! in the configured sets when those are set, and a repeated claim makes the token malformed.

use std::collections::HashSet;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::AuthFailure;
use crate::clock::UnixTime;

/// The signing algorithms the service knows (RFC 7518 names; EdDSA is Ed25519, RFC 8037).
/// HS256 is accepted with `AUTH_JWT_SECRET` only; the others with `AUTH_JWKS_URL` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    HS256,
    RS256,
    RS384,
    RS512,
    PS256,
    ES256,
    ES384,
    EdDSA,
}

impl Alg {
    fn parse(name: &str) -> Option<Alg> {
        Some(match name {
            "HS256" => Alg::HS256,
            "RS256" => Alg::RS256,
            "RS384" => Alg::RS384,
            "RS512" => Alg::RS512,
            "PS256" => Alg::PS256,
            "ES256" => Alg::ES256,
            "ES384" => Alg::ES384,
            "EdDSA" => Alg::EdDSA,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Alg::HS256 => "HS256",
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
        }
    }
}

/// The header fields that matter. `crit` is only looked at to refuse it.
#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<Vec<IgnoredAny>>,
}

/// A token split into its parts; the claims are read only once the signature is verified.
pub(crate) struct Token<'a> {
    pub alg: Alg,
    pub kid: Option<String>,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
    payload_b64: &'a str,
}

fn b64(part: &str) -> Result<Vec<u8>, AuthFailure> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| AuthFailure::Malformed)
}

impl<'a> Token<'a> {
    /// Splits and decodes `header.payload.signature`; an algorithm we do not know is refused
    /// here, before any key is looked for.
    pub fn parse(token: &'a str) -> Result<Token<'a>, AuthFailure> {
        #[cfg(test)]
        super::counters::count(&super::counters::PARSES);
        let (signing_input, signature_b64) = token.rsplit_once('.').ok_or(AuthFailure::Malformed)?;
        let (header_b64, payload_b64) = signing_input.split_once('.').ok_or(AuthFailure::Malformed)?;
        if payload_b64.contains('.') {
            return Err(AuthFailure::Malformed);
        }
        let header: Header = serde_json::from_slice(&b64(header_b64)?).map_err(|_| AuthFailure::Malformed)?;
        if header.crit.is_some_and(|c| !c.is_empty()) {
            return Err(AuthFailure::Malformed);
        }
        if let Some(typ) = &header.typ {
            let typ = typ.to_ascii_uppercase();
            if typ != "JWT" && !typ.ends_with("+JWT") {
                return Err(AuthFailure::Malformed);
            }
        }
        let alg = Alg::parse(&header.alg).ok_or(AuthFailure::AlgorithmNotAllowed)?;
        Ok(Token { alg, kid: header.kid, signing_input, signature: b64(signature_b64)?, payload_b64 })
    }

    /// The claims, read with `prefix_claim` (the `AUTH_KEY_PREFIX_CLAIM` name) kept.
    pub fn claims(&self, prefix_claim: Option<&str>) -> Result<Claims, AuthFailure> {
        let payload = b64(self.payload_b64)?;
        let mut de = serde_json::Deserializer::from_slice(&payload);
        let claims = ClaimsSeed { prefix_claim }.deserialize(&mut de).map_err(|_| AuthFailure::Malformed)?;
        de.end().map_err(|_| AuthFailure::Malformed)?;
        Ok(claims)
    }
}

/// The registered claims the rules use, and the prefix claim's raw value.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Claims {
    pub exp: Option<u64>,
    pub nbf: Option<u64>,
    pub iat: Option<u64>,
    pub iss: Option<String>,
    pub aud: Option<Vec<String>>,
    /// `sub`, when it is a string: who the caller is, for the audit log (not a rule).
    pub sub: Option<String>,
    pub prefix: Option<Value>,
}

/// A NumericDate: seconds since the epoch, a JSON number (a fraction is cut off).
struct NumericDate(u64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match f64::deserialize(d)? {
            t if t.is_finite() && t >= 0.0 => Ok(NumericDate(t as u64)),
            _ => Err(de::Error::custom("a NumericDate is a non-negative number")),
        }
    }
}

/// `aud` is one string or an array of strings (RFC 7519 section 4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Reads the claims object keeping only what the rules need, without building a map of every
/// claim; a repeated claim that we read is an error (a parser could take either value).
struct ClaimsSeed<'n> {
    prefix_claim: Option<&'n str>,
}

impl<'de> DeserializeSeed<'de> for ClaimsSeed<'_> {
    type Value = Claims;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Claims, D::Error> {
        d.deserialize_map(self)
    }
}

fn once<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), E> {
    if slot.replace(value).is_some() {
        return Err(E::custom(format_args!("the claim {name} appears twice")));
    }
    Ok(())
}

impl<'de> Visitor<'de> for ClaimsSeed<'_> {
    type Value = Claims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JWT claims object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Claims, A::Error> {
        let mut c = Claims::default();
        while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*name {
                "exp" => once(&mut c.exp, map.next_value::<NumericDate>()?.0, "exp")?,
                "nbf" => once(&mut c.nbf, map.next_value::<NumericDate>()?.0, "nbf")?,
                "iat" => once(&mut c.iat, map.next_value::<NumericDate>()?.0, "iat")?,
                "iss" => once(&mut c.iss, map.next_value::<String>()?, "iss")?,
                "aud" => {
                    let aud = match map.next_value::<Audience>()? {
                        Audience::One(a) => vec![a],
                        Audience::Many(list) => list,
                    };
                    once(&mut c.aud, aud, "aud")?
                }
                n if Some(n) == self.prefix_claim => once(&mut c.prefix, map.next_value::<Value>()?, n)?,
                // Read for the audit log only; a `sub` that is not a string names nobody.
                "sub" => {
                    if let Value::String(sub) = map.next_value::<Value>()? {
                        once(&mut c.sub, sub, "sub")?
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(c)
    }
}

/// What a verified token's claims must satisfy (from the `AUTH_*` configuration).
pub(crate) struct ClaimRules<'a> {
    pub issuers: Option<&'a HashSet<String>>,
    pub audiences: Option<&'a HashSet<String>>,
    pub clock_skew_seconds: u64,
    pub max_token_age_seconds: Option<u64>,
}

impl ClaimRules<'_> {
    pub fn check(&self, c: &Claims, now: UnixTime) -> Result<(), AuthFailure> {
        let (now, skew) = (now.0, self.clock_skew_seconds);
        if c.iat.is_some_and(|iat| iat > now.saturating_add(skew)) {
            return Err(AuthFailure::IssuedInFuture);
        }
        if c.nbf.is_some_and(|nbf| now.saturating_add(skew) < nbf) {
            return Err(AuthFailure::NotYetValid);
        }
        if c.exp.is_some_and(|exp| now.saturating_sub(skew) > exp) {
            return Err(AuthFailure::Expired);
        }
        if let Some(issuers) = self.issuers {
            if !c.iss.as_ref().is_some_and(|iss| issuers.contains(iss)) {
                return Err(AuthFailure::WrongIssuer);
            }
        }
        if let Some(audiences) = self.audiences {
            if !c.aud.as_ref().is_some_and(|aud| aud.iter().any(|a| audiences.contains(a))) {
                return Err(AuthFailure::WrongAudience);
            }
        }
        if c.exp.is_none() {
            return Err(AuthFailure::NoExpiry);
        }
        if let (Some(exp), Some(max_age)) = (c.exp, self.max_token_age_seconds) {
            if exp > now.saturating_add(max_age).saturating_add(skew) {
                return Err(AuthFailure::LivesTooLong);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
