//! Test fixture for the end-to-end suite: prints a JSON object with a fresh key set and tokens
//! signed by it, so the Python tests (standard library only, no RSA/EC crypto) can run a real
//! JWKS server and present real asymmetric tokens to both adapters.
//!
//! `cargo run -p presign-core --example jwt_fixture` prints
//! `{"jwks": {...}, "token": "...", "rotated_jwks": {...}, "rotated_token": "...",
//!   "algorithms": {"RS256": "...", ..., "EdDSA": "..."}}`: `jwks` holds the ES256 key of
//! `token` plus one RSA, one P-384 and one Ed25519 key, which sign a token per algorithm.

use std::time::{SystemTime, UNIX_EPOCH};

use jwt_simple::prelude::*;
use presign_core::fixtures::jwk;
use serde_json::json;

fn key_set(pair: &ES256KeyPair, kid: &str) -> serde_json::Value {
    json!({"keys": [jwk::ec(kid, &pair.public_key().public_key().to_bytes_uncompressed(), Some("ES256"))]})
}

fn claims() -> JWTClaims<NoCustomClaims> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut claims = Claims::create(Duration::from_secs(3600));
    claims.issued_at = Some(UnixTimeStamp::from_secs(now));
    claims.expires_at = Some(UnixTimeStamp::from_secs(now + 3600));
    claims.invalid_before = None;
    claims
}

fn token(pair: &ES256KeyPair) -> String {
    pair.sign(claims()).expect("signing with a fresh key")
}

/// One key per remaining key type, added to `set`, and a token for every JWKS algorithm.
fn every_algorithm(set: &mut serde_json::Value, es256: &ES256KeyPair) -> serde_json::Value {
    let rsa = RS256KeyPair::generate(2048).expect("RSA key generation");
    let der = rsa.to_der().expect("RSA key export");
    let parts = rsa.public_key().to_components();
    let p384 = ES384KeyPair::generate().with_key_id("e2e-p384");
    let point = p384.public_key().public_key().to_bytes_uncompressed();
    let ed = Ed25519KeyPair::generate().with_key_id("e2e-ed");
    let keys = set["keys"].as_array_mut().expect("a key set");
    keys.push(jwk::rsa("e2e-rsa", &parts));
    keys.push(jwk::ec("e2e-p384", &point, None));
    keys.push(jwk::ed25519("e2e-ed", &ed.public_key().to_bytes()));
    let sign = "signing with a fresh key";
    json!({
        "RS256": RS256KeyPair::from_der(&der).expect(sign).with_key_id("e2e-rsa").sign(claims()).expect(sign),
        "RS384": RS384KeyPair::from_der(&der).expect(sign).with_key_id("e2e-rsa").sign(claims()).expect(sign),
        "RS512": RS512KeyPair::from_der(&der).expect(sign).with_key_id("e2e-rsa").sign(claims()).expect(sign),
        "PS256": PS256KeyPair::from_der(&der).expect(sign).with_key_id("e2e-rsa").sign(claims()).expect(sign),
        "ES256": token(es256),
        "ES384": p384.sign(claims()).expect(sign),
        "EdDSA": ed.sign(claims()).expect(sign),
    })
}

fn main() {
    let first = ES256KeyPair::generate().with_key_id("e2e-1");
    let rotated = ES256KeyPair::generate().with_key_id("e2e-2");
    let mut jwks = key_set(&first, "e2e-1");
    let algorithms = every_algorithm(&mut jwks, &first);
    let out = json!({
        "jwks": jwks,
        "algorithms": algorithms,
        "token": token(&first),
        "rotated_jwks": key_set(&rotated, "e2e-2"),
        "rotated_token": token(&rotated),
    });
    println!("{out}");
}
