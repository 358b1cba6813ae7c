//! JWT and JWKS parsing: the first line is a token (`$ES256` becomes a valid ES256 token of the
//! fixture key, `$HS256` a valid HS256 one), the rest a JWKS document the identity provider
//! "served" (`$JWKS` becomes the fixture's key set). The token goes through a JWKS-configured
//! service (fetch requested, document recorded, asked again) and the HS256 service.
//! A valid token with the real key set must be accepted; nothing may panic or leak.
#![no_main]

use std::sync::OnceLock;

use jwt_simple::prelude::*;
use libfuzzer_sys::fuzz_target;
use presign_core::{Config, Reply, Request, Service, Step};
use presign_fuzz::{check_response, claims_at_now, hs_service, hs_token, hs_vars, NOW, PREFIX_CLAIM};
use serde_json::json;

struct Fixture {
    jwks: String,
    es256_token: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let pair = ES256KeyPair::from_bytes(&[7u8; 32]).expect("a valid P-256 scalar").with_key_id("fuzz-1");
        let point = pair.public_key().public_key().to_bytes_uncompressed();
        let jwks = json!({"keys": [presign_core::fixtures::jwk::ec("fuzz-1", &point, Some("ES256"))]});
        let es256_token = pair.sign(claims_at_now(json!({ PREFIX_CLAIM: "content/" }))).expect("ES256 signing");
        Fixture { jwks: jwks.to_string(), es256_token }
    })
}

fn jwks_vars() -> Vec<(&'static str, &'static str)> {
    let mut vars: Vec<_> = hs_vars().into_iter().filter(|(name, _)| *name != "AUTH_JWT_SECRET").collect();
    vars.push(("AUTH_JWKS_URL", "https://idp.test/.well-known/jwks.json"));
    vars
}

/// The answer to `req`, with `doc` as the JWKS server's answer when the keys are fetched.
fn respond(service: &Service, req: &Request<'_>, doc: &[u8]) -> presign_core::Response {
    let mut exchange = service.exchange(*req, presign_fuzz::STORE);
    let mut fetches = 0;
    loop {
        match exchange.step(NOW) {
            Step::Done(Reply::Response(r)) => return r,
            Step::Fetch(_) => {
                fetches += 1;
                assert_eq!(fetches, 1, "one fetch per request at most");
                exchange.fetched(NOW, Ok(doc));
            }
            Step::Verify(_) => panic!("with native-crypto the core verifies every signature itself"),
            Step::Admit(_) => panic!("the fuzzed service has no rate limiter"),
            Step::Done(Reply::ReadObject(_)) => panic!("POST /presign never reads an object"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let (line, doc) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let line = String::from_utf8_lossy(line);
    let valid_es256 = line == "$ES256";
    let token = line.replace("$ES256", &f.es256_token).replace("$HS256", &hs_token(json!({ PREFIX_CLAIM: "content/" })));
    let doc_text = String::from_utf8_lossy(doc);
    // JSON's whitespace, not Rust's: a form feed around the set makes it invalid JSON.
    let real_jwks = doc_text.trim_matches([' ', '\t', '\n', '\r']) == "$JWKS";
    let doc: Vec<u8> = if doc_text.contains("$JWKS") { doc_text.replace("$JWKS", &f.jwks).into_bytes() } else { doc.to_vec() };

    let auth = format!("Bearer {token}");
    let body = br#"{"key":"content/fuzz.ts","contentType":"video/mp2t"}"#;
    let req = Request { method: "POST", path: "/presign", authorization: Some(&auth), content_type: Some("application/json"), body, ..Request::default() };

    let service = Service::new(Config::from_pairs(jwks_vars()));
    let resp = respond(&service, &req, &doc);
    check_response(&req, &resp);
    if valid_es256 && real_jwks {
        assert_eq!(resp.status, 200, "a valid token with the real key set is accepted: {}", resp.body);
    }
    // The HS256 service never fetches a key set: the empty document is never used.
    check_response(&req, &respond(hs_service(), &req, &[]));
});
