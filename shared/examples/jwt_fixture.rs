//! Test fixture for the end-to-end suite: prints a JSON object with a fresh ES256 key set and
//! tokens signed by it, so the Python tests (standard library only, no EC crypto) can run a
//! real JWKS server and present real asymmetric tokens to both adapters.
//!
//! `cargo run -p presign-core --example jwt_fixture` prints
//! `{"jwks": {...}, "token": "...", "rotated_jwks": {...}, "rotated_token": "..."}`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_simple::prelude::*;
use serde_json::json;

fn key_set(pair: &ES256KeyPair, kid: &str) -> serde_json::Value {
    let point = pair.public_key().public_key().to_bytes_uncompressed();
    json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
                     "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65])}]})
}

fn token(pair: &ES256KeyPair) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut claims = Claims::create(Duration::from_secs(3600));
    claims.issued_at = Some(UnixTimeStamp::from_secs(now));
    claims.expires_at = Some(UnixTimeStamp::from_secs(now + 3600));
    claims.invalid_before = None;
    pair.sign(claims).expect("signing with a fresh key")
}

fn main() {
    let first = ES256KeyPair::generate().with_key_id("e2e-1");
    let rotated = ES256KeyPair::generate().with_key_id("e2e-2");
    let out = json!({
        "jwks": key_set(&first, "e2e-1"),
        "token": token(&first),
        "rotated_jwks": key_set(&rotated, "e2e-2"),
        "rotated_token": token(&rotated),
    });
    println!("{out}");
}
