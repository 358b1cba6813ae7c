//! The JSON contract of SPEC.md, route by route.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::auth::tests::{hs_token, NOW, SECRET_B64};

const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn service(extra: &[(&str, &str)]) -> Service {
    let mut vars = vec![
        ("ENABLE_PRESIGN", "true"),
        ("S3_BUCKET", "my-video-bucket"),
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        ("AUTH_JWT_SECRET", SECRET_B64),
    ];
    vars.extend_from_slice(extra);
    Service::new(Config::from_pairs(vars))
}

fn post<'a>(path: &'a str, body: &'a str, auth: Option<&'a str>) -> Request<'a> {
    Request { method: "POST", path, authorization: auth, content_type: Some("application/json"), body: body.as_bytes(), origin: None }
}

fn respond(s: &Service, req: &Request<'_>) -> Response {
    match s.handle(req, NOW) {
        Outcome::Respond(r) => r,
        other => panic!("expected a response, got {other:?}"),
    }
}

fn json_of(r: &Response) -> Value {
    serde_json::from_str(&r.body).unwrap()
}

fn bearer() -> String {
    format!("Bearer {}", hs_token(json!({})))
}

const ONE: &str = r#"{"key":"content/my-video-001/seg-0.ts","contentType":"video/mp2t"}"#;

#[test]
fn presign_ok() {
    let s = service(&[]);
    let auth = bearer();
    let r = respond(&s, &post("/presign", ONE, Some(&auth)));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_of(&r);
    let url = v["url"].as_str().unwrap();
    assert!(url.starts_with("https://my-video-bucket.s3.us-east-1.amazonaws.com/content/my-video-001/seg-0.ts?X-Amz-Algorithm=AWS4-HMAC-SHA256&"));
    assert!(url.contains("X-Amz-SignedHeaders=content-type%3Bhost&"));
    assert!(url.contains("X-Amz-Expires=300&"));
    assert_eq!(v["method"], "PUT");
    assert_eq!(v["headers"], json!({"content-type": "video/mp2t"}));
    assert_eq!(v["expiresAt"], "2027-01-15T08:05:00Z");
    assert_eq!(v["key"], "content/my-video-001/seg-0.ts");
    // Field order as in SPEC.md.
    assert!(r.body.starts_with(r#"{"url":""#));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(!r.body.contains(AWS_SECRET));
}

#[test]
fn single_use_signs_if_none_match() {
    let s = service(&[("PRESIGN_SINGLE_USE", "true")]);
    let auth = bearer();
    let v = json_of(&respond(&s, &post("/presign", ONE, Some(&auth))));
    assert_eq!(v["headers"], json!({"content-type": "video/mp2t", "if-none-match": "*"}));
    assert!(v["url"].as_str().unwrap().contains("X-Amz-SignedHeaders=content-type%3Bhost%3Bif-none-match&"));
}

#[test]
fn batch_ok_and_all_or_nothing() {
    let s = service(&[]);
    let auth = bearer();
    let body = r#"{"files":[{"key":"content/a/0.ts","contentType":"video/mp2t"},{"key":"content/a/1.ts","contentType":"video/mp2t"}]}"#;
    let r = respond(&s, &post("/presign/batch", body, Some(&auth)));
    assert_eq!(r.status, 200);
    let v = json_of(&r);
    assert_eq!(v["uploads"].as_array().unwrap().len(), 2);
    assert_eq!(v["uploads"][1]["key"], "content/a/1.ts");

    let bad = r#"{"files":[{"key":"content/a/0.ts","contentType":"video/mp2t"},{"key":"other/1.ts","contentType":"video/mp2t"},{"key":"content//x","contentType":"video/mp2t"}]}"#;
    let r = respond(&s, &post("/presign/batch", bad, Some(&auth)));
    assert_eq!(r.status, 403);
    assert_eq!(json_of(&r), json!({"error": "prefix_not_allowed", "message": "The key is outside the prefixes this caller may write to.", "index": 1}));
    assert!(!r.body.contains("http"));
}

#[test]
fn batch_size_limits() {
    let s = service(&[("PRESIGN_MAX_BATCH", "2")]);
    let auth = bearer();
    let file = r#"{"key":"content/a.ts","contentType":"video/mp2t"}"#;
    let three = format!(r#"{{"files":[{file},{file},{file}]}}"#);
    let r = respond(&s, &post("/presign/batch", &three, Some(&auth)));
    assert_eq!((r.status, json_of(&r)["error"].as_str()), (400, Some("invalid_json")));
    let r = respond(&s, &post("/presign/batch", r#"{"files":[]}"#, Some(&auth)));
    assert_eq!(r.status, 400);
}

#[test]
fn error_codes() {
    let s = service(&[("PRESIGN_ALLOWED_CONTENT_TYPES", "video/*")]);
    let auth = bearer();
    let cases: &[(&str, u16, &str)] = &[
        (r#"{"key":"content/a.ts"}"#, 400, "invalid_json"),
        (r#"{"key":1,"contentType":"video/mp2t"}"#, 400, "invalid_json"),
        (r#"{"key":"content/a.ts","key":"content/b.ts","contentType":"video/mp2t"}"#, 400, "invalid_json"),
        ("[]", 400, "invalid_json"),
        ("nope", 400, "invalid_json"),
        (r#"{"key":"content/../a.ts","contentType":"video/mp2t"}"#, 400, "invalid_key"),
        (r#"{"key":"content/a#.ts","contentType":"video/mp2t"}"#, 400, "invalid_key"),
        (r#"{"key":"contentx/a.ts","contentType":"video/mp2t"}"#, 403, "prefix_not_allowed"),
        (r#"{"key":"content/a.ts","contentType":"video"}"#, 400, "invalid_content_type"),
        (r#"{"key":"content/a.ts","contentType":"image/png"}"#, 403, "content_type_not_allowed"),
    ];
    for (body, status, code) in cases {
        let r = respond(&s, &post("/presign", body, Some(&auth)));
        assert_eq!((r.status, json_of(&r)["error"].as_str().unwrap()), (*status, *code), "{body}");
        assert!(json_of(&r)["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(!r.body.contains("https://") && !r.body.contains("X-Amz"), "{}", r.body);
    }
}

#[test]
fn unauthorized_has_www_authenticate() {
    let s = service(&[]);
    for auth in [None, Some("Basic abc"), Some("Bearer x.y.z")] {
        let r = respond(&s, &post("/presign", ONE, auth));
        assert_eq!(r.status, 401);
        assert_eq!(json_of(&r)["error"], "unauthorized");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
}

/// Found by the `handler` fuzz target: invalid UTF-8 inside a field the parser skips.
#[test]
fn bodies_that_are_not_utf8_are_invalid_json() {
    let s = service(&[]);
    let auth = bearer();
    for (path, body) in [
        ("/presign", &b"{\"key\":\"content/a.ts\",\"contentType\":\"video/mp2t\",\"x\":\"\xae\"}"[..]),
        ("/presign/batch", &b"{\"files\":[{\"key\":\"content/a.ts\",\"contentType\":\"video/mp2t\",\"c\x7fntentType\":\"v\xaets\"}]}"[..]),
    ] {
        let req = Request { method: "POST", path, authorization: Some(&auth), content_type: Some("application/json"), body, origin: None };
        let r = respond(&s, &req);
        assert_eq!((r.status, r.error_code), (400, Some("invalid_json")), "{path}: {}", r.body);
        assert_eq!(json_of(&r)["message"], "The request body is not valid UTF-8.");
    }
}

#[test]
fn auth_comes_before_body_checks() {
    let s = service(&[]);
    let r = respond(&s, &post("/presign", "garbage", None));
    assert_eq!(r.status, 401);
}

#[test]
fn media_type_and_size_limits() {
    let s = service(&[]);
    let auth = bearer();
    let mut req = post("/presign", ONE, Some(&auth));
    req.content_type = Some("text/plain");
    assert_eq!(respond(&s, &req).status, 415);
    req.content_type = None;
    assert_eq!(respond(&s, &req).status, 415);
    req.content_type = Some("Application/JSON; charset=utf-8");
    assert_eq!(respond(&s, &req).status, 200);

    let big = format!(r#"{{"key":"content/a.ts","contentType":"video/mp2t","pad":"{}"}}"#, "x".repeat(MAX_SINGLE_BODY));
    let r = respond(&s, &post("/presign", &big, Some(&auth)));
    assert_eq!((r.status, json_of(&r)["error"].as_str()), (413, Some("payload_too_large")));
    // The same body is fine for a batch route's larger limit (then fails as JSON without files).
    assert_eq!(respond(&s, &post("/presign/batch", &big, Some(&auth))).status, 400);
    let exact = format!(r#"{{"key":"content/a.ts","contentType":"video/mp2t","pad":"{}"}}"#, "x".repeat(MAX_SINGLE_BODY - 58));
    assert_eq!(exact.len(), MAX_SINGLE_BODY);
    assert_eq!(respond(&s, &post("/presign", &exact, Some(&auth))).status, 200);
}

#[test]
fn routes_and_methods() {
    let s = service(&[]);
    let get = |path| Request { method: "GET", path, ..Request::default() };
    let r = respond(&s, &get("/presign"));
    assert_eq!((r.status, r.header("allow")), (405, Some("POST, OPTIONS")));
    assert_eq!(json_of(&r)["error"], "method_not_allowed");
    let r = respond(&s, &get("/nope"));
    assert_eq!((r.status, json_of(&r)["error"].as_str()), (404, Some("not_found")));
    let r = respond(&s, &Request { method: "DELETE", path: "/health", ..Request::default() });
    assert_eq!(r.status, 405);
    let r = respond(&s, &get("/health"));
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"status":"ok"}"#));
}

#[test]
fn presign_disabled_is_404() {
    let s = Service::new(Config::from_pairs([("AUTH_JWT_SECRET", SECRET_B64)]));
    let auth = bearer();
    let r = respond(&s, &post("/presign", ONE, Some(&auth)));
    assert_eq!((r.status, json_of(&r)["error"].as_str()), (404, Some("presign_disabled")));
    assert_eq!(respond(&s, &Request { method: "GET", path: "/health", ..Request::default() }).status, 200);
}

#[test]
fn invalid_config_is_reported_without_values() {
    let s = service(&[("PRESIGN_EXPIRES_SECONDS", "ten")]);
    let r = respond(&s, &Request { method: "GET", path: "/health", ..Request::default() });
    assert_eq!(r.status, 503);
    let v = json_of(&r);
    assert_eq!((v["status"].as_str(), v["error"].as_str()), (Some("misconfigured"), Some("config_invalid")));
    assert!(v["message"].as_str().unwrap().contains("PRESIGN_EXPIRES_SECONDS"));
    assert!(!r.body.contains("ten\"") && !r.body.contains(AWS_SECRET));
    let r = respond(&s, &post("/presign", ONE, None));
    assert_eq!((r.status, json_of(&r)["error"].as_str()), (500, Some("config_invalid")));
}

#[test]
fn cors_allowed_denied_and_preflight() {
    let s = service(&[("CORS_ORIGINS", "https://app.example.com")]);
    let auth = bearer();
    let mut req = post("/presign", ONE, Some(&auth));
    req.origin = Some("https://app.example.com");
    let r = respond(&s, &req);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example.com"));
    assert_eq!(r.header("vary"), Some("Origin"));

    req.origin = Some("https://app.example.com.evil.test");
    let r = respond(&s, &req);
    assert_eq!((r.status, json_of(&r)["error"].as_str()), (403, Some("origin_not_allowed")));
    assert_eq!(r.header("access-control-allow-origin"), None);

    let pre = Request { method: "OPTIONS", path: "/presign", origin: Some("https://app.example.com"), ..Request::default() };
    let r = respond(&s, &pre);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-methods"), Some("GET, HEAD, POST, OPTIONS"));
    assert_eq!(r.header("access-control-allow-headers"), Some("authorization, content-type, range, if-none-match"));
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example.com"));
    assert!(r.body.is_empty());

    // Errors carry CORS headers too, so the browser can read them.
    let mut unauth = post("/presign", ONE, None);
    unauth.origin = Some("https://app.example.com");
    assert_eq!(respond(&s, &unauth).header("access-control-allow-origin"), Some("https://app.example.com"));

    // No Origin: server-to-server still works, with Vary.
    let r = respond(&s, &post("/presign", ONE, Some(&auth)));
    assert_eq!((r.status, r.header("access-control-allow-origin"), r.header("vary")), (200, None, Some("Origin")));
}

#[test]
fn cors_off_sends_no_cors_headers() {
    let s = service(&[]);
    let auth = bearer();
    let mut req = post("/presign", ONE, Some(&auth));
    req.origin = Some("https://anything.test");
    let r = respond(&s, &req);
    assert_eq!(r.status, 200);
    assert!(r.headers.iter().all(|(n, _)| !n.starts_with("access-control") && *n != "vary"));
}

#[test]
fn claimed_prefixes_restrict_keys() {
    let s = service(&[("AUTH_KEY_PREFIX_CLAIM", "prefixes")]);
    let token = format!("Bearer {}", hs_token(json!({"prefixes": ["content/user-1/"]})));
    let ok = r#"{"key":"content/user-1/a.ts","contentType":"video/mp2t"}"#;
    let other = r#"{"key":"content/user-2/a.ts","contentType":"video/mp2t"}"#;
    assert_eq!(respond(&s, &post("/presign", ok, Some(&token))).status, 200);
    assert_eq!(respond(&s, &post("/presign", other, Some(&token))).status, 403);
}

#[test]
fn jwks_fetch_is_requested_then_503_on_failure() {
    let s = service(&[("AUTH_JWKS_URL", "https://idp.test/jwks.json")]);
    let auth = bearer();
    let req = post("/presign", ONE, Some(&auth));
    // An HS256 token is refused before any fetch when JWKS is configured.
    assert_eq!(respond(&s, &req).status, 401);
    let es = jwt_simple::prelude::ES256KeyPair::generate();
    let token = format!("Bearer {}", jwt_simple::prelude::ECDSAP256KeyPairLike::sign(&es, crate::auth::tests::claims(json!({}), NOW.0, Some(NOW.0 + 60))).unwrap());
    let req = post("/presign", ONE, Some(&token));
    assert_eq!(s.handle(&req, NOW), Outcome::FetchJwks { url: "https://idp.test/jwks.json".into() });
    s.record_jwks_fetch(NOW, None);
    let r = respond(&s, &req);
    assert_eq!((r.status, json_of(&r)["error"].as_str()), (503, Some("auth_unavailable")));
}

#[test]
fn object_reads_when_enabled() {
    let s = service(&[("SERVE_OBJECTS", "true"), ("CORS_ORIGINS", "*")]);
    let req = Request { method: "GET", path: "/content/vid%C3%A9o/seg%200.ts", origin: Some("https://x.test"), ..Request::default() };
    match s.handle(&req, NOW) {
        Outcome::ReadObject(read) => {
            assert_eq!(read.key, "content/vidéo/seg 0.ts");
            assert_eq!(read.cache_control, "public, max-age=31536000, immutable");
            assert!(!read.head);
            assert!(read.cors_headers.contains(&("access-control-expose-headers", "Content-Length, Content-Range, ETag".to_owned())));
        }
        other => panic!("{other:?}"),
    }
    let playlist = Request { method: "HEAD", path: "/content/a/index.m3u8", ..Request::default() };
    assert!(matches!(s.handle(&playlist, NOW), Outcome::ReadObject(ObjectRead { cache_control: "no-cache", head: true, .. })));
    let outside = Request { method: "GET", path: "/private/a.ts", ..Request::default() };
    assert_eq!(respond(&s, &outside).status, 404);
    let traversal = Request { method: "GET", path: "/content/%2E%2E/a.ts", ..Request::default() };
    assert_eq!(respond(&s, &traversal).status, 400);
    assert_eq!(respond(&s, &Request { method: "GET", path: "/", ..Request::default() }).status, 404);
    assert_eq!(respond(&s, &Request { method: "GET", path: "/%FF", ..Request::default() }).status, 404);
    // Off by default: plain 404.
    assert_eq!(respond(&service(&[]), &Request { method: "GET", path: "/content/a.ts", ..Request::default() }).status, 404);
}

#[test]
fn cache_control_by_extension() {
    for (k, cc) in [("a.ts", "public, max-age=31536000, immutable"), ("a.M4S", "public, max-age=31536000, immutable"), ("a.mp4", "public, max-age=31536000, immutable"), ("a.aac", "public, max-age=31536000, immutable"), ("a.m3u8", "no-cache"), ("a", "no-cache")] {
        assert_eq!(cache_control_for(k), cc, "{k}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any request: no panic; any non-200 carries a JSON error without a URL or a secret.
    #[test]
    fn hostile_requests_never_leak(
        method in proptest::sample::select(vec!["GET", "POST", "PUT", "OPTIONS", "HEAD", "DELETE", ""]),
        path in proptest::sample::select(vec!["/presign", "/presign/batch", "/health", "/", "/content/a.ts", "/x%ZZ"]),
        body in proptest::collection::vec(any::<u8>(), 0..300),
        key in "\\PC{0,40}",
        content_type in "\\PC{0,20}",
        use_structured in any::<bool>(),
        authed in any::<bool>(),
    ) {
        let s = service(&[("CORS_ORIGINS", "https://a.test"), ("SERVE_OBJECTS", "true")]);
        let structured = json!({"key": key, "contentType": content_type}).to_string();
        let body: &[u8] = if use_structured { structured.as_bytes() } else { &body };
        let auth = bearer();
        let req = Request { method, path, origin: None, authorization: authed.then_some(auth.as_str()), content_type: Some("application/json"), body };
        if let Outcome::Respond(r) = s.handle(&req, NOW) {
            prop_assert!(!r.body.contains(AWS_SECRET) && !r.body.contains(SECRET_B64));
            if r.status != 200 {
                prop_assert!(!r.body.contains("X-Amz-") && !r.body.contains("amazonaws.com"), "{}", r.body);
                if r.status != 204 {
                    let v: Value = serde_json::from_str(&r.body).unwrap();
                    prop_assert!(v["error"].is_string() && v["message"].is_string());
                }
            } else if path == "/presign" {
                let v: Value = serde_json::from_str(&r.body).unwrap();
                // An accepted key is signed as given and starts with an allowed prefix.
                prop_assert_eq!(v["key"].as_str(), Some(key.as_str()));
                prop_assert!(key.starts_with("content/"));
            }
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn respond_fetches_at_most_once_and_never_asks_the_adapter_again() {
    use jwt_simple::prelude::{ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair};
    use std::cell::Cell;
    let s = service(&[("AUTH_JWKS_URL", "https://idp.test/jwks.json")]);
    let es = ES256KeyPair::generate().with_key_id("k");
    let token = format!("Bearer {}", es.sign(crate::auth::tests::claims(json!({}), NOW.0, Some(NOW.0 + 60))).unwrap());
    let req = post("/presign", ONE, Some(&token));
    let (calls, verifies) = (Cell::new(0), Cell::new(0));
    let verify = |c: SignatureCheck| {
        verifies.set(verifies.get() + 1);
        std::future::ready(crate::auth::tests::oracle_verify(&c))
    };
    let down = s.respond_verifying(&req, || NOW, |_url| { calls.set(calls.get() + 1); async { None } }, verify).await;
    assert!(matches!(&down, Answer::Respond(r) if r.status == 503), "{down:?}");
    assert_eq!(calls.get(), 1);

    let point = es.public_key().public_key().to_bytes_uncompressed();
    let b64 = |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b);
    let set = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k", "x": b64(&point[1..33]), "y": b64(&point[33..65])}]}).to_string();
    let later = UnixTime(NOW.0 + 5);
    let up = s.respond_verifying(&req, || later, |url| { assert_eq!(url, "https://idp.test/jwks.json"); calls.set(calls.get() + 1); async move { Some(set.into_bytes()) } }, verify).await;
    assert!(matches!(&up, Answer::Respond(r) if r.status == 200), "{up:?}");
    assert_eq!(calls.get(), 2);
    let cached = s.respond_verifying(&req, || later, |_| async { panic!("keys are cached") }, verify).await;
    assert!(matches!(&cached, Answer::Respond(r) if r.status == 200));
    // Rust verifies with `native-crypto`; without it the adapter is asked once per request.
    assert_eq!(verifies.get(), if cfg!(feature = "native-crypto") { 0 } else { 2 });
}

/// Without `native-crypto`: the adapter's verdict decides, and only for the check it answered.
#[cfg(not(feature = "native-crypto"))]
#[tokio::test(flavor = "current_thread")]
async fn adapter_verdicts_count_only_for_their_own_check() {
    use jwt_simple::prelude::{ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair};
    let s = service(&[("AUTH_JWKS_URL", "https://idp.test/jwks.json")]);
    let es = ES256KeyPair::generate().with_key_id("k");
    let point = es.public_key().public_key().to_bytes_uncompressed();
    let b64 = |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b);
    let set = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k", "x": b64(&point[1..33]), "y": b64(&point[33..65])}]}).to_string();
    s.record_jwks_fetch(NOW, Some(set.as_bytes()));
    let sign = |exp| format!("Bearer {}", es.sign(crate::auth::tests::claims(json!({}), NOW.0, Some(exp))).unwrap());
    let (a, b) = (sign(NOW.0 + 60), sign(NOW.0 + 61));
    let (req_a, req_b) = (post("/presign", ONE, Some(&a)), post("/presign", ONE, Some(&b)));
    let Outcome::VerifySignature(check_a) = s.handle(&req_a, NOW) else { panic!("the adapter verifies") };
    assert_eq!(check_a.alg, crate::jwt::Alg::ES256);
    assert_eq!(format!("Bearer {}.{}", check_a.signing_input, b64(&check_a.signature)), a);
    let yes_a = Verdict { check: check_a.clone(), valid: true };
    assert!(matches!(s.handle_with(&req_a, NOW, Some(&yes_a)), Outcome::Respond(r) if r.status == 200));
    assert!(matches!(s.handle_with(&req_b, NOW, Some(&yes_a)), Outcome::VerifySignature(c) if c != check_a), "a verdict for another token");
    let no_a = Verdict { check: check_a, valid: false };
    let Outcome::Respond(r) = s.handle_with(&req_a, NOW, Some(&no_a)) else { panic!() };
    assert_eq!((r.status, json_of(&r)["message"].as_str()), (401, Some(crate::error::AuthFailure::BadSignature.message())));
    let lying = s.respond_verifying(&req_b, || NOW, |_| async { None }, |_| async { false }).await;
    assert!(matches!(&lying, Answer::Respond(r) if r.status == 401));
}
