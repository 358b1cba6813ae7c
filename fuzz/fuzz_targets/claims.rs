//! Claims, differentially: the input is a token's claims JSON, which is signed with the HS256
//! secret so every input reaches the claim rules. The core's verdict (accepted, or which
//! failure) must be jwt-simple's, the library whose rules `presign_core::jwt` took over, with the
//! same issuers, audiences, clock skew and instant.
//!
//! Inputs where the two are known to differ on purpose, or where jwt-simple itself is wrong,
//! are not compared (they still run for the no-panic and no-leak checks):
//! - a claim name that appears twice (the core refuses the token; serde keeps one value);
//! - `sub`, `jti` or `nonce` that is not a string (the core does not read them);
//! - a time claim that is negative or at least 2^32 (jwt-simple accepts negative fractions as 0
//!   and its fixed-point timestamps wrap after the year 2106);
//! - well-formed JSON with a number beyond f64 in a claim the core skips (jwt-simple reads every
//!   claim into a map and fails on it; the core never looks at that value).
#![no_main]

use std::collections::HashSet;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_simple::prelude::*;
use libfuzzer_sys::fuzz_target;
use presign_core::auth::{AuthOutcome, JwksCache};
use presign_core::AuthFailure;
use presign_core::Config;
use presign_fuzz::{hs_key, JWT_SECRET_B64, NOW, PREFIX_CLAIM};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

/// `AUTH_JWT_ISSUER`: two accepted issuers, comma-separated.
const ISSUERS: &str = "https://idp.test, other";
const AUDIENCE: &str = "presign";
const SKEW: u64 = 60;

fn config() -> &'static Config {
    static C: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        Config::from_pairs([
            ("AUTH_JWT_SECRET", JWT_SECRET_B64),
            ("AUTH_JWT_ISSUER", ISSUERS),
            ("AUTH_JWT_AUDIENCE", AUDIENCE),
            ("AUTH_CLOCK_SKEW_SECONDS", "60"),
            ("AUTH_KEY_PREFIX_CLAIM", PREFIX_CLAIM),
        ])
        .expect("a valid configuration")
    })
}

/// True when the top-level object names some member twice.
fn repeats_a_name(payload: &str) -> bool {
    struct Names;
    impl<'de> Visitor<'de> for Names {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let mut seen = HashSet::new();
            let mut repeated = false;
            while let Some(name) = map.next_key::<String>()? {
                repeated |= !seen.insert(name);
                map.next_value::<IgnoredAny>()?;
            }
            Ok(repeated)
        }
    }
    serde_json::Deserializer::from_str(payload).deserialize_map(Names).unwrap_or(false)
}

fn comparable(payload: &str) -> bool {
    let claims = match serde_json::from_str::<Value>(payload) {
        Ok(Value::Object(claims)) => claims,
        Ok(_) => return true,
        Err(_) => return serde_json::from_str::<IgnoredAny>(payload).is_err(),
    };
    let odd_time = |v: &Value| v.as_f64().is_some_and(|t| !(0.0..4_294_967_296.0).contains(&t));
    !repeats_a_name(payload)
        && ["sub", "jti", "nonce"].iter().all(|n| claims.get(*n).is_none_or(Value::is_string))
        && ["exp", "nbf", "iat"].iter().all(|n| !claims.get(*n).is_some_and(odd_time))
}

/// jwt-simple's error as the failure the core reported for it before it had its own rules.
fn failure_of(err: &jwt_simple::Error) -> AuthFailure {
    use jwt_simple::JWTError as E;
    match err.downcast_ref::<E>() {
        Some(E::InvalidSignature | E::InvalidAuthenticationTag) => AuthFailure::BadSignature,
        Some(E::TokenHasExpired) => AuthFailure::Expired,
        Some(E::TokenNotValidYet) => AuthFailure::NotYetValid,
        Some(E::ClockDrift) => AuthFailure::IssuedInFuture,
        Some(E::RequiredIssuerMismatch | E::RequiredIssuerMissing) => AuthFailure::WrongIssuer,
        Some(E::RequiredAudienceMismatch | E::RequiredAudienceMissing) => AuthFailure::WrongAudience,
        _ => AuthFailure::Malformed,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = std::str::from_utf8(data) else { return };
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
    let tag = hmac_sha256::HMAC::mac(signing_input.as_bytes(), hs_key().to_bytes());
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag));
    if token.len() > 8 * 1024 {
        return;
    }
    let ours = match config().auth.authenticate(Some(&format!("Bearer {token}")), NOW, &JwksCache::default(), None) {
        AuthOutcome::Allowed(_) => Ok(()),
        AuthOutcome::Denied(f) => Err(f),
        AuthOutcome::Unavailable => panic!("an HS256 token is allowed or unauthorized, never unavailable"),
        AuthOutcome::FetchJwks | AuthOutcome::VerifySignature(_) => panic!("HS256 needs no I/O"),
    };
    if !comparable(payload) {
        return;
    }
    let options = VerificationOptions {
        allowed_issuers: Some(ISSUERS.split(',').map(|s| s.trim().to_string()).collect()),
        allowed_audiences: Some([AUDIENCE.to_string()].into()),
        time_tolerance: Some(Duration::from_secs(SKEW)),
        artificial_time: Some(UnixTimeStamp::from_secs(NOW.0)),
        max_token_length: Some(8 * 1024),
        ..VerificationOptions::default()
    };
    let theirs = match hs_key().verify_token::<Map<String, Value>>(&token, Some(options)) {
        Err(e) => Err(failure_of(&e)),
        Ok(c) if c.expires_at.is_none() => Err(AuthFailure::NoExpiry),
        Ok(_) => Ok(()),
    };
    assert_eq!(ours, theirs, "claims {payload}");
});
