//! Real tokens, signed with generated HS256, RS256, ES256 and EdDSA keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_simple::prelude::*;
use serde_json::json;

use super::*;
use crate::config::Config;

use crate::error::ApiError;
use crate::fixtures::{claims, hs_key as hs_key_of, hs_token, jwk, oracle_verify, HS_SECRET_B64 as SECRET_B64, NOW};

fn hs_key() -> HS256Key {
    hs_key_of(SECRET_B64)
}

fn config(vars: &[(&str, &str)]) -> Config {
    Config::from_pairs(vars.iter().copied()).unwrap()
}

fn check(cfg: &Config, token: &str, now: UnixTime, cache: &JwksCache) -> Result<Caller, String> {
    let header = format!("Bearer {token}");
    let mut verdict = None;
    loop {
        return match cfg.auth.authenticate(Some(&header), now, cache, verdict.as_ref()) {
            AuthOutcome::Allowed(c) => Ok(c),
            AuthOutcome::Denied(e) => Err(e.message().to_owned()),
            AuthOutcome::Unavailable => Err(ApiError::AuthUnavailable.message().into_owned()),
            AuthOutcome::FetchJwks => Err("fetch".into()),
            AuthOutcome::VerifySignature(check) if verdict.is_none() => {
                verdict = Some(Verdict { valid: oracle_verify(&check), check });
                continue;
            }
            AuthOutcome::VerifySignature(_) => Err("asked twice for the same signature".into()),
        };
    }
}

#[test]
fn bearer_scheme_is_case_insensitive() {
    assert_eq!(bearer_token(Some("bearer abc")), Ok("abc"));
    assert_eq!(bearer_token(Some("BEARER   abc")), Ok("abc"));
    assert_eq!(bearer_token(Some("Basic abc")), Err(AuthFailure::NotBearer));
    assert_eq!(bearer_token(Some("Bearer")), Err(AuthFailure::NotBearer));
    assert_eq!(bearer_token(Some("Bearer a b")), Err(AuthFailure::Malformed));
    assert_eq!(bearer_token(None), Err(AuthFailure::Missing));
}

#[test]
fn hs256_accepts_valid_and_rejects_tampered() {
    let cfg = config(&[("AUTH_JWT_SECRET", SECRET_B64)]);
    let cache = JwksCache::default();
    let token = hs_token(json!({}));
    assert!(check(&cfg, &token, NOW, &cache).is_ok());
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert!(check(&cfg, &tampered, NOW, &cache).is_err());
    let other = HS256Key::from_bytes(&[7u8; 32]).authenticate(claims(json!({}), NOW.0, Some(NOW.0 + 60))).unwrap();
    assert_eq!(check(&cfg, &other, NOW, &cache).unwrap_err(), AuthFailure::BadSignature.message());
}

#[test]
fn expiry_skew_and_required_exp() {
    let cfg = config(&[("AUTH_JWT_SECRET", SECRET_B64), ("AUTH_CLOCK_SKEW_SECONDS", "60")]);
    let cache = JwksCache::default();
    let token = hs_token(json!({})); // exp = NOW + 300
    assert!(check(&cfg, &token, UnixTime(NOW.0 + 360), &cache).is_ok(), "within skew");
    assert_eq!(check(&cfg, &token, UnixTime(NOW.0 + 361), &cache).unwrap_err(), AuthFailure::Expired.message());
    let key = hs_key();
    let no_exp = key.authenticate(claims(json!({}), NOW.0, None)).unwrap();
    assert_eq!(check(&cfg, &no_exp, NOW, &cache).unwrap_err(), AuthFailure::NoExpiry.message());
    let future_iat = key.authenticate(claims(json!({}), NOW.0 + 120, Some(NOW.0 + 600))).unwrap();
    assert_eq!(check(&cfg, &future_iat, NOW, &cache).unwrap_err(), AuthFailure::IssuedInFuture.message());
    let mut nbf = claims(json!({}), NOW.0, Some(NOW.0 + 600));
    nbf.invalid_before = Some(UnixTimeStamp::from_secs(NOW.0 + 120));
    let nbf = key.authenticate(nbf).unwrap();
    assert_eq!(check(&cfg, &nbf, NOW, &cache).unwrap_err(), AuthFailure::NotYetValid.message());
    assert!(check(&cfg, &nbf, UnixTime(NOW.0 + 60), &cache).is_ok(), "nbf within skew");
}

#[test]
fn issuer_and_audience() {
    let cfg = config(&[("AUTH_JWT_SECRET", SECRET_B64), ("AUTH_JWT_ISSUER", "https://idp.test, other"), ("AUTH_JWT_AUDIENCE", "presign")]);
    let cache = JwksCache::default();
    let key = hs_key();
    let sign = |iss: Option<&str>, aud: Option<&str>| {
        let mut c = claims(json!({}), NOW.0, Some(NOW.0 + 60));
        c.issuer = iss.map(str::to_owned);
        if let Some(a) = aud {
            c = c.with_audience(a);
        }
        key.authenticate(c).unwrap()
    };
    assert!(check(&cfg, &sign(Some("other"), Some("presign")), NOW, &cache).is_ok());
    assert_eq!(check(&cfg, &sign(Some("evil"), Some("presign")), NOW, &cache).unwrap_err(), AuthFailure::WrongIssuer.message());
    assert_eq!(check(&cfg, &sign(None, Some("presign")), NOW, &cache).unwrap_err(), AuthFailure::WrongIssuer.message());
    assert_eq!(check(&cfg, &sign(Some("other"), Some("x")), NOW, &cache).unwrap_err(), AuthFailure::WrongAudience.message());
    assert_eq!(check(&cfg, &sign(Some("other"), None), NOW, &cache).unwrap_err(), AuthFailure::WrongAudience.message());
}

#[test]
fn alg_none_and_malformed_tokens_are_refused() {
    let cfg = config(&[("AUTH_JWT_SECRET", SECRET_B64)]);
    let cache = JwksCache::default();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{}}}"#, NOW.0 + 60));
    assert!(check(&cfg, &format!("{header}.{payload}."), NOW, &cache).is_err());
    assert!(check(&cfg, "not-a-jwt", NOW, &cache).is_err());
    assert!(check(&cfg, "a.b.c", NOW, &cache).is_err());
    assert!(check(&cfg, "", NOW, &cache).is_err());
}

#[test]
fn prefix_claim_string_or_array() {
    let cfg = config(&[("AUTH_JWT_SECRET", SECRET_B64), ("AUTH_KEY_PREFIX_CLAIM", "prefixes")]);
    let cache = JwksCache::default();
    let one = check(&cfg, &hs_token(json!({"prefixes": "content/u1/"})), NOW, &cache).unwrap();
    assert!(one.may_write("content/u1/a.ts"));
    assert!(!one.may_write("content/u2/a.ts"));
    let many = check(&cfg, &hs_token(json!({"prefixes": ["content/a/", "content/b/", 5, ""]})), NOW, &cache).unwrap();
    assert!(many.may_write("content/b/x"));
    assert!(!many.may_write("content/c/x"));
    let none = check(&cfg, &hs_token(json!({})), NOW, &cache).unwrap();
    assert!(!none.may_write("content/a/x"), "a missing claim grants nothing");
    // A claimed prefix without a trailing '/' ends at a segment boundary.
    let bare = check(&cfg, &hs_token(json!({"prefixes": "uploads/u1"})), NOW, &cache).unwrap();
    assert!(bare.may_write("uploads/u1/x") && bare.may_write("uploads/u1"));
    for other in ["uploads/u10/x", "uploads/u1-admin/x", "uploads/u1x", "uploads/u"] {
        assert!(!bare.may_write(other), "{other}");
    }
}

// ---- JWKS ----

fn b64u(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

struct Keys {
    rs: RS256KeyPair,
    es: ES256KeyPair,
    ed: Ed25519KeyPair,
}

fn keys() -> Keys {
    Keys {
        rs: RS256KeyPair::generate(2048).unwrap().with_key_id("rsa-1"),
        es: ES256KeyPair::generate().with_key_id("ec-1"),
        ed: Ed25519KeyPair::generate().with_key_id("ed-1"),
    }
}

fn jwks_json(k: &Keys) -> String {
    json!({"keys": [
        jwk::rsa("rsa-1", &k.rs.public_key().to_components()),
        jwk::ec("ec-1", &k.es.public_key().public_key().to_bytes_uncompressed(), Some("ES256")),
        jwk::ed25519("ed-1", &k.ed.public_key().to_bytes()),
        {"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},
    ]})
    .to_string()
}

fn jwks_config() -> Config {
    config(&[("AUTH_JWKS_URL", "https://idp.test/.well-known/jwks.json"), ("AUTH_JWT_SECRET", SECRET_B64)])
}

#[test]
fn jwks_verifies_rs256_es256_eddsa() {
    let k = keys();
    let cfg = jwks_config();
    let mut cache = JwksCache::default();
    let token = k.rs.sign(claims(json!({}), NOW.0, Some(NOW.0 + 60))).unwrap();
    assert_eq!(check(&cfg, &token, NOW, &cache), Err("fetch".into()), "empty cache asks for a fetch");
    assert!(cache.record_fetch(NOW, Some(jwks_json(&k).as_bytes())));
    assert_eq!(cache.key_count(), 3, "the symmetric key is skipped");
    assert!(check(&cfg, &token, NOW, &cache).is_ok());
    let es = k.es.sign(claims(json!({}), NOW.0, Some(NOW.0 + 60))).unwrap();
    assert!(check(&cfg, &es, NOW, &cache).is_ok());
    let ed = k.ed.sign(claims(json!({}), NOW.0, Some(NOW.0 + 60))).unwrap();
    assert!(check(&cfg, &ed, NOW, &cache).is_ok());
}

#[test]
fn jwks_refuses_hs_tokens_and_forged_keys() {
    let k = keys();
    let cfg = jwks_config();
    let mut cache = JwksCache::default();
    cache.record_fetch(NOW, Some(jwks_json(&k).as_bytes()));
    // An HS256 token, even one made with the configured secret, is refused when JWKS wins.
    assert_eq!(check(&cfg, &hs_token(json!({})), NOW, &cache).unwrap_err(), AuthFailure::AlgorithmNotAllowed.message());
    // A token signed by a different key that claims a known kid.
    let forged = ES256KeyPair::generate().with_key_id("ec-1").sign(claims(json!({}), NOW.0, Some(NOW.0 + 60))).unwrap();
    assert_eq!(check(&cfg, &forged, NOW, &cache).unwrap_err(), AuthFailure::BadSignature.message());
}

#[test]
fn jwks_unknown_kid_refetches_at_most_every_30s() {
    let k = keys();
    let cfg = jwks_config();
    let mut cache = JwksCache::default();
    cache.record_fetch(NOW, Some(jwks_json(&k).as_bytes()));
    let rotated = ES256KeyPair::generate().with_key_id("ec-2");
    let token = rotated.sign(claims(json!({}), NOW.0, Some(NOW.0 + 600))).unwrap();
    assert_eq!(check(&cfg, &token, UnixTime(NOW.0 + 10), &cache).unwrap_err(), AuthFailure::UnknownKey.message());
    assert_eq!(check(&cfg, &token, UnixTime(NOW.0 + 30), &cache), Err("fetch".into()));
    // The issuer rotated: the new set has ec-2 only.
    let set = json!({"keys": [jwk::ec("ec-2", &rotated.public_key().public_key().to_bytes_uncompressed(), None)]}).to_string();
    cache.record_fetch(UnixTime(NOW.0 + 30), Some(set.as_bytes()));
    assert!(check(&cfg, &token, UnixTime(NOW.0 + 30), &cache).is_ok());
    let old = k.es.sign(claims(json!({}), NOW.0 + 30, Some(NOW.0 + 600))).unwrap();
    assert_eq!(check(&cfg, &old, UnixTime(NOW.0 + 31), &cache).unwrap_err(), AuthFailure::UnknownKey.message());
}

#[test]
fn jwks_outage_is_503_never_open() {
    let k = keys();
    let cfg = jwks_config();
    let mut cache = JwksCache::default();
    let token = k.ed.sign(claims(json!({}), NOW.0, Some(NOW.0 + 6000))).unwrap();
    assert_eq!(check(&cfg, &token, NOW, &cache), Err("fetch".into()));
    assert!(!cache.record_fetch(NOW, None));
    assert_eq!(check(&cfg, &token, NOW, &cache).unwrap_err(), ApiError::AuthUnavailable.message());
    assert_eq!(check(&cfg, &token, UnixTime(NOW.0 + 4), &cache).unwrap_err(), ApiError::AuthUnavailable.message());
    assert_eq!(check(&cfg, &token, UnixTime(NOW.0 + 5), &cache), Err("fetch".into()), "retries after 5 s");
    // Garbage does not count as keys.
    assert!(!cache.record_fetch(UnixTime(NOW.0 + 5), Some(b"<html>oops</html>")));
    assert!(cache.record_fetch(UnixTime(NOW.0 + 10), Some(jwks_json(&k).as_bytes())));
    assert!(check(&cfg, &token, UnixTime(NOW.0 + 10), &cache).is_ok(), "recovers");
    // Keys older than AUTH_JWKS_CACHE_SECONDS (600) are not trusted; a failed refresh leaves none.
    let later = UnixTime(NOW.0 + 10 + 600);
    assert_eq!(check(&cfg, &token, later, &cache), Err("fetch".into()));
    cache.record_fetch(later, None);
    assert_eq!(check(&cfg, &token, later, &cache).unwrap_err(), ApiError::AuthUnavailable.message());
}

#[test]
fn auth_off_allows_everyone() {
    let cfg = config(&[]);
    assert!(!cfg.auth.is_enabled());
    assert!(matches!(cfg.auth.authenticate(None, NOW, &JwksCache::default(), None), AuthOutcome::Allowed(_)));
}

#[test]
fn jwks_verifies_every_algorithm_and_refuses_tampering() {
    let rs = RS256KeyPair::generate(2048).unwrap();
    let der = rs.to_der().unwrap();
    let es384 = ES384KeyPair::generate();
    let k = keys();
    let set = json!({"keys": [
        jwk::rsa("rsa", &rs.public_key().to_components()),
        jwk::ec("p384", &es384.public_key().public_key().to_bytes_uncompressed(), None),
        jwk::ec("ec-1", &k.es.public_key().public_key().to_bytes_uncompressed(), None),
        jwk::ed25519("ed-1", &k.ed.public_key().to_bytes()),
    ]})
    .to_string();
    let cfg = jwks_config();
    let mut cache = JwksCache::default();
    assert!(cache.record_fetch(NOW, Some(set.as_bytes())));
    let c = || claims(json!({}), NOW.0, Some(NOW.0 + 60));
    let tokens = [
        ("RS256", RS256KeyPair::from_der(&der).unwrap().with_key_id("rsa").sign(c()).unwrap()),
        ("RS384", RS384KeyPair::from_der(&der).unwrap().with_key_id("rsa").sign(c()).unwrap()),
        ("RS512", RS512KeyPair::from_der(&der).unwrap().with_key_id("rsa").sign(c()).unwrap()),
        ("PS256", PS256KeyPair::from_der(&der).unwrap().with_key_id("rsa").sign(c()).unwrap()),
        ("ES256", k.es.sign(c()).unwrap()),
        ("ES384", es384.with_key_id("p384").sign(c()).unwrap()),
        ("EdDSA", k.ed.sign(c()).unwrap()),
    ];
    for (alg, token) in &tokens {
        assert_eq!(check(&cfg, token, NOW, &cache), Ok(Caller::default()), "{alg}");
        // Flip one bit in the middle of the signature.
        let (input, sig) = token.rsplit_once('.').unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
        raw[sig.len() / 3] ^= 1;
        let forged = format!("{input}.{}", b64u(&raw));
        assert_eq!(check(&cfg, &forged, NOW, &cache).unwrap_err(), AuthFailure::BadSignature.message(), "{alg}");
        // The same signature over other claims.
        let (header, _) = input.split_once('.').unwrap();
        let other = format!("{header}.{}.{sig}", b64u(format!(r#"{{"exp":{}}}"#, NOW.0 + 9999).as_bytes()));
        assert_eq!(check(&cfg, &other, NOW, &cache).unwrap_err(), AuthFailure::BadSignature.message(), "{alg}");
    }
}
