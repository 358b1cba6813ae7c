//! Test fixtures, in one place for the unit tests, the benches, the fuzz crate and
//! `examples/jwt_fixture.rs` (the end-to-end suite's key sets and tokens). Built only for tests
//! or with the `fixtures` feature; never part of a deployed binary.
//!
//! Tokens are signed with jwt-simple, an implementation independent of the core's own JWT code,
//! so a fixture that passes the core's checks means two implementations agree.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jwt_simple::prelude::*;
use serde_json::{json, Map, Value};

use crate::auth::{Alg, PublicKey, SignatureCheck};
use crate::clock::UnixTime;

/// The instant unit tests, benches and fuzz targets run at (2027-01-15T08:00:00Z).
pub const NOW: UnixTime = UnixTime(1_800_000_000);
/// An `AUTH_JWT_SECRET` (base64 of 40 bytes).
pub const HS_SECRET_B64: &str = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0zMmJ5dGVz";

/// Claims issued at `iat`, expiring at `exp` (none: no `exp`), with `custom` merged in when it
/// is a JSON object.
pub fn claims(custom: Value, iat: u64, exp: Option<u64>) -> JWTClaims<Map<String, Value>> {
    let custom = match custom {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut c = Claims::with_custom_claims(custom, Duration::from_secs(1));
    c.issued_at = Some(UnixTimeStamp::from_secs(iat));
    c.expires_at = exp.map(UnixTimeStamp::from_secs);
    c.invalid_before = None;
    c
}

/// Claims valid at [`NOW`] for five minutes.
pub fn claims_at_now(custom: Value) -> JWTClaims<Map<String, Value>> {
    claims(custom, NOW.0, Some(NOW.0 + 300))
}

/// The HS256 key of a base64 `AUTH_JWT_SECRET`.
pub fn hs_key(secret_b64: &str) -> HS256Key {
    HS256Key::from_bytes(&STANDARD.decode(secret_b64).expect("fixture secrets are base64"))
}

/// An HS256 token signed with [`HS_SECRET_B64`], valid at [`NOW`].
pub fn hs_token(custom: Value) -> String {
    hs_key(HS_SECRET_B64).authenticate(claims_at_now(custom)).expect("HS256 signing cannot fail")
}

fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Public JWKs (RFC 7517) for jwt-simple's keys, as an identity provider publishes them.
pub mod jwk {
    use super::*;

    /// An RSA key (any of RS256/RS384/RS512/PS256 key pairs' public half).
    pub fn rsa(kid: &str, components: &jwt_simple::algorithms::RSAPublicKeyComponents) -> Value {
        json!({"kty": "RSA", "kid": kid, "use": "sig", "n": b64u(&components.n), "e": b64u(&components.e)})
    }

    /// An EC key from its uncompressed SEC1 point (`04 || x || y`); the curve follows from the
    /// length. `alg`, when given, is published with it.
    pub fn ec(kid: &str, point: &[u8], alg: Option<&str>) -> Value {
        let half = (point.len() - 1) / 2;
        let crv = if half == 48 { "P-384" } else { "P-256" };
        let mut key = json!({"kty": "EC", "crv": crv, "kid": kid, "x": b64u(&point[1..1 + half]), "y": b64u(&point[1 + half..])});
        if let Some(alg) = alg {
            key["alg"] = json!(alg);
            key["use"] = json!("sig");
        }
        key
    }

    /// An Ed25519 key.
    pub fn ed25519(kid: &str, public: &[u8]) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64u(public)})
    }
}

/// An independent verifier for the checks a core without `native-crypto` hands out: the token
/// is put back together and verified by jwt-simple with a key built from the check's
/// components. It answers for the signature only (a claim error after the signature step means
/// it verified).
pub fn oracle_verify(check: &SignatureCheck) -> bool {
    let token = format!("{}.{}", check.signing_input, URL_SAFE_NO_PAD.encode(&check.signature));
    let o = Some(VerificationOptions { accept_future: true, time_tolerance: Some(Duration::from_days(365 * 200)), ..Default::default() });
    type Custom = Map<String, Value>;
    let point = |x: &[u8], y: &[u8]| [&[4u8][..], x, y].concat();
    let result = match (&check.key, check.alg) {
        (PublicKey::Rsa { n, e }, Alg::RS256) => RS256PublicKey::from_components(n, e).and_then(|k| k.verify_token::<Custom>(&token, o)),
        (PublicKey::Rsa { n, e }, Alg::RS384) => RS384PublicKey::from_components(n, e).and_then(|k| k.verify_token::<Custom>(&token, o)),
        (PublicKey::Rsa { n, e }, Alg::RS512) => RS512PublicKey::from_components(n, e).and_then(|k| k.verify_token::<Custom>(&token, o)),
        (PublicKey::Rsa { n, e }, Alg::PS256) => PS256PublicKey::from_components(n, e).and_then(|k| k.verify_token::<Custom>(&token, o)),
        (PublicKey::P256 { x, y }, Alg::ES256) => ES256PublicKey::from_bytes(&point(x, y)).and_then(|k| k.verify_token::<Custom>(&token, o)),
        (PublicKey::P384 { x, y }, Alg::ES384) => ES384PublicKey::from_bytes(&point(x, y)).and_then(|k| k.verify_token::<Custom>(&token, o)),
        (PublicKey::Ed25519(x), Alg::EdDSA) => Ed25519PublicKey::from_bytes(x).and_then(|k| k.verify_token::<Custom>(&token, o)),
        _ => return false,
    };
    match result {
        Ok(_) => true,
        Err(e) => !matches!(e.downcast_ref::<jwt_simple::JWTError>(), Some(jwt_simple::JWTError::InvalidSignature) | None),
    }
}
