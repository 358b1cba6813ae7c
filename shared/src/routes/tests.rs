//! The JSON contract of docs/contract.md, route by route.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
#[cfg(not(feature = "native-crypto"))]
use crate::auth::AuthFailure;
use crate::auth::SignatureCheck;
use crate::clock::UnixTime;
use crate::config::Config;
use crate::fetch::{FetchError, FetchRequest};
use crate::fixtures::{claims, hs_token, oracle_verify, HS_SECRET_B64 as SECRET_B64, NOW};
use crate::http::{Response, MAX_SINGLE_BODY};
use crate::object_read::ObjectMeta;
use crate::platform::{Capabilities, Platform};
use crate::service::Service;
use crate::step::Step;

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

/// A platform with an object store and no rate limiter (the Worker without the binding).
const STORE: Capabilities = Capabilities { objects: ObjectStore::Present, rate_limiter: false };

fn post<'a>(path: &'a str, body: &'a str, auth: Option<&'a str>) -> Request<'a> {
    Request { method: "POST", path, authorization: auth, content_type: Some("application/json"), body: body.as_bytes(), ..Request::default() }
}

fn respond(s: &Service, req: &Request<'_>) -> Response {
    respond_on(s, req, STORE)
}

fn respond_on(s: &Service, req: &Request<'_>, caps: Capabilities) -> Response {
    match s.exchange(*req, caps).step(NOW) {
        Step::Done(Reply::Response(r)) => r,
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
    // Field order as in docs/contract.md.
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
        let req = Request { method: "POST", path, authorization: Some(&auth), content_type: Some("application/json"), body, ..Request::default() };
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
    let token = format!("Bearer {}", jwt_simple::prelude::ECDSAP256KeyPairLike::sign(&es, claims(json!({}), NOW.0, Some(NOW.0 + 60))).unwrap());
    let req = post("/presign", ONE, Some(&token));
    let mut exchange = s.exchange(req, STORE);
    let Step::Fetch(fetch) = exchange.step(NOW) else { panic!("the keys must be fetched first") };
    assert_eq!(fetch.url, "https://idp.test/jwks.json");
    assert_eq!((fetch.max_bytes, fetch.max_redirects, fetch.https_only_redirects), (256 * 1024, 3, true));
    assert_eq!(fetch.timeout, std::time::Duration::from_secs(3));
    exchange.fetched(NOW, Err(FetchError::Timeout));
    let Step::Done(Reply::Response(r)) = exchange.step(NOW) else { panic!("an answer after the fetch") };
    assert_eq!((r.status, json_of(&r)["error"].as_str(), r.jwks_fetch), (503, Some("auth_unavailable"), Some(FetchError::Timeout)));
    // The next request does not fetch again right away: 503 at once.
    let r = respond(&s, &req);
    assert_eq!((r.status, json_of(&r)["error"].as_str()), (503, Some("auth_unavailable")));
}

#[test]
fn object_reads_when_enabled() {
    let s = service(&[("SERVE_OBJECTS", "true"), ("CORS_ORIGINS", "*")]);
    let req = Request { method: "GET", path: "/content/vid%C3%A9o/seg%200.ts", origin: Some("https://x.test"), range: Some("bytes=0-9"), ..Request::default() };
    let Step::Done(Reply::ReadObject(read)) = s.exchange(req, STORE).step(NOW) else { panic!("an object read") };
    assert_eq!(read.key(), "content/vidéo/seg 0.ts");
    let meta = ObjectMeta { size: 100, etag: "\"e\"".into(), uploaded: NOW, content_type: None };
    let answer = read.answer(Some(&meta));
    assert_eq!((answer.response.status, answer.response.route), (206, "object"));
    assert_eq!(answer.response.header("access-control-expose-headers"), Some("Content-Length, Content-Range, ETag"));
    assert_eq!(answer.response.header("access-control-allow-origin"), Some("https://x.test"));
    assert_eq!(answer.response.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let playlist = Request { method: "HEAD", path: "/content/a/index.m3u8", ..Request::default() };
    let Step::Done(Reply::ReadObject(read)) = s.exchange(playlist, STORE).step(NOW) else { panic!("an object read") };
    let answer = read.answer(Some(&meta));
    assert_eq!((answer.response.status, answer.body, answer.response.header("cache-control")), (200, None, Some("no-cache")));
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
fn a_platform_without_an_object_store_never_gets_a_read() {
    let vars = [("SERVE_OBJECTS", "true"), ("AUTH_JWT_SECRET", SECRET_B64)];
    let s = Service::new(Config::from_pairs(vars));
    let absent = Capabilities { objects: ObjectStore::Absent, rate_limiter: false };
    let r = respond_on(&s, &Request { method: "GET", path: "/content/a.ts", ..Request::default() }, absent);
    assert_eq!((r.status, r.error_code), (404, Some("not_found")));
    assert!(s.startup_warnings(ObjectStore::Absent).iter().any(|w| w.contains("SERVE_OBJECTS")));
    assert!(s.startup_warnings(ObjectStore::Present).is_empty());
}

#[test]
fn a_configured_prefix_without_a_slash_is_named_in_a_warning() {
    let vars = [("AUTH_JWT_SECRET", SECRET_B64), ("PRESIGN_ALLOWED_PREFIXES", "content/,uploads/u1,media")];
    let warnings = Service::new(Config::from_pairs(vars)).startup_warnings(ObjectStore::Present);
    let named: Vec<_> = warnings.iter().filter(|w| w.contains("PRESIGN_ALLOWED_PREFIXES")).collect();
    assert_eq!(named.len(), 2, "{warnings:?}");
    assert!(named[0].contains("\"uploads/u1\"") && named[1].contains("\"media\""), "{named:?}");
}

#[test]
fn head_answers_carry_no_body() {
    let s = service(&[]);
    let get = respond(&s, &Request { method: "GET", path: "/health", ..Request::default() });
    let head = respond(&s, &Request { method: "HEAD", path: "/health", ..Request::default() });
    assert!(!get.body.is_empty());
    assert_eq!((head.status, head.body.as_str(), head.headers), (200, "", get.headers));
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
        let req = Request { method, path, authorization: authed.then_some(auth.as_str()), content_type: Some("application/json"), body, ..Request::default() };
        if let Step::Done(Reply::Response(r)) = s.exchange(req, STORE).step(NOW) {
            prop_assert!(!r.body.contains(AWS_SECRET) && !r.body.contains(SECRET_B64));
            if method == "HEAD" {
                prop_assert!(r.body.is_empty(), "a HEAD answer has no body");
            } else if r.status != 200 {
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

/// A platform for the driver tests: a fixed clock, a scripted JWKS server, jwt-simple as the
/// signature verifier; it counts what it is asked.
struct TestPlatform<'a> {
    now: UnixTime,
    jwks: Option<&'a str>,
    fetches: std::cell::Cell<u32>,
    verifies: std::cell::Cell<u32>,
    verdict: fn(&SignatureCheck) -> bool,
}

impl<'a> TestPlatform<'a> {
    fn new(now: UnixTime, jwks: Option<&'a str>) -> TestPlatform<'a> {
        TestPlatform { now, jwks, fetches: 0.into(), verifies: 0.into(), verdict: oracle_verify }
    }
}

impl Platform for TestPlatform<'_> {
    const OBJECT_STORE: ObjectStore = ObjectStore::Present;

    fn now(&self) -> UnixTime {
        self.now
    }

    async fn fetch(&self, request: &FetchRequest) -> Result<Vec<u8>, FetchError> {
        assert_eq!(request.url, "https://idp.test/jwks.json");
        self.fetches.set(self.fetches.get() + 1);
        self.jwks.map(|j| j.as_bytes().to_vec()).ok_or(FetchError::Connection)
    }

    async fn verify(&self, check: &SignatureCheck) -> bool {
        self.verifies.set(self.verifies.get() + 1);
        (self.verdict)(check)
    }
}

fn ok_response(reply: &Reply) -> &Response {
    match reply {
        Reply::Response(r) => r,
        other => panic!("expected a response, got {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn respond_fetches_at_most_once_and_never_asks_the_platform_again() {
    use jwt_simple::prelude::{ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair};
    let s = service(&[("AUTH_JWKS_URL", "https://idp.test/jwks.json")]);
    let es = ES256KeyPair::generate().with_key_id("k");
    let token = format!("Bearer {}", es.sign(claims(json!({}), NOW.0, Some(NOW.0 + 60))).unwrap());
    let req = post("/presign", ONE, Some(&token));
    let down = TestPlatform::new(NOW, None);
    let r = s.respond(&req, &down).await;
    let r = ok_response(&r);
    assert_eq!((r.status, r.jwks_fetch), (503, Some(FetchError::Connection)));
    assert_eq!(down.fetches.get(), 1);

    let set = json!({"keys": [crate::fixtures::jwk::ec("k", &es.public_key().public_key().to_bytes_uncompressed(), None)]}).to_string();
    let up = TestPlatform::new(UnixTime(NOW.0 + 5), Some(&set));
    let r = s.respond(&req, &up).await;
    assert_eq!((ok_response(&r).status, ok_response(&r).jwks_fetch), (200, None));
    assert_eq!(up.fetches.get(), 1);
    let cached = TestPlatform::new(UnixTime(NOW.0 + 5), None);
    assert_eq!(ok_response(&s.respond(&req, &cached).await).status, 200);
    assert_eq!(cached.fetches.get(), 0, "keys are cached");
    // Rust verifies with `native-crypto`; without it the platform is asked once per request.
    let asked = up.verifies.get() + cached.verifies.get();
    assert_eq!(asked, if cfg!(feature = "native-crypto") { 0 } else { 2 });
}

/// Without `native-crypto`: the platform's verdict decides, for the check of its own exchange.
#[cfg(not(feature = "native-crypto"))]
#[tokio::test(flavor = "current_thread")]
async fn platform_verdicts_decide_their_own_exchange() {
    use jwt_simple::prelude::{ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair};
    let s = service(&[("AUTH_JWKS_URL", "https://idp.test/jwks.json")]);
    let es = ES256KeyPair::generate().with_key_id("k");
    let b64 = |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b);
    let set = json!({"keys": [crate::fixtures::jwk::ec("k", &es.public_key().public_key().to_bytes_uncompressed(), None)]}).to_string();
    s.record_fetch(NOW, Ok(set.as_bytes()));
    let a = format!("Bearer {}", es.sign(claims(json!({}), NOW.0, Some(NOW.0 + 60))).unwrap());
    let req_a = post("/presign", ONE, Some(&a));
    let mut yes = s.exchange(req_a, STORE);
    let Step::Verify(check_a) = yes.step(NOW) else { panic!("the platform verifies") };
    assert_eq!(check_a.alg, crate::auth::Alg::ES256);
    assert_eq!(format!("Bearer {}.{}", check_a.signing_input, b64(&check_a.signature)), a);
    yes.verified(true);
    assert!(matches!(yes.step(NOW), Step::Done(Reply::Response(r)) if r.status == 200));
    let mut no = s.exchange(req_a, STORE);
    assert!(matches!(no.step(NOW), Step::Verify(c) if c == check_a));
    no.verified(false);
    let Step::Done(Reply::Response(r)) = no.step(NOW) else { panic!() };
    assert_eq!((r.status, json_of(&r)["message"].as_str()), (401, Some(AuthFailure::BadSignature.message())));
    // Stepped again without a verdict: closed.
    let mut silent = s.exchange(req_a, STORE);
    assert!(matches!(silent.step(NOW), Step::Verify(_)));
    assert!(matches!(silent.step(NOW), Step::Done(Reply::Response(r)) if r.status == 503));
    let lying = TestPlatform { verdict: |_| false, ..TestPlatform::new(NOW, None) };
    let r = s.respond(&req_a, &lying).await;
    assert_eq!(ok_response(&r).status, 401);
}

// ---- multipart, signRequest and the byte fields ----

const MIB: u64 = 1024 * 1024;

fn sign(s: &Service, path: &str, body: &Value) -> (u16, Value) {
    let auth = bearer();
    let text = body.to_string();
    let r = respond(s, &post(path, &text, Some(&auth)));
    (r.status, json_of(&r))
}

fn query_of(url: &str) -> Vec<(String, String)> {
    url.split_once('?').unwrap().1.split('&').map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).unwrap()).collect()
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn sign_request_covers_the_operation_table() {
    let s = service(&[("PRESIGN_ALLOW_DELETE", "true")]);
    let key = "content/v/big.mp4";
    let cases = [
        (json!({"method": "PUT", "key": key, "contentType": "video/mp4"}), "PutObject", "PUT", "content-type;host", None),
        (json!({"method": "POST", "key": key, "contentType": "video/mp4"}), "CreateMultipartUpload", "POST", "content-type;host", Some(("uploads", ""))),
        (json!({"method": "PUT", "key": key, "uploadId": "abc-1", "partNumber": 2}), "UploadPart", "PUT", "host", Some(("partNumber", "2"))),
        (json!({"method": "GET", "key": key, "uploadId": "abc-1"}), "ListParts", "GET", "host", Some(("uploadId", "abc-1"))),
        (json!({"method": "POST", "key": key, "uploadId": "abc-1"}), "CompleteMultipartUpload", "POST", "host", Some(("uploadId", "abc-1"))),
        (json!({"method": "DELETE", "key": key, "uploadId": "abc-1"}), "AbortMultipartUpload", "DELETE", "host", Some(("uploadId", "abc-1"))),
        (json!({"method": "DELETE", "key": key}), "DeleteObject", "DELETE", "host", None),
    ];
    for (body, operation, method, signed, query) in cases {
        let (status, v) = sign(&s, "/presign/request", &body);
        assert_eq!(status, 200, "{body} {v}");
        assert_eq!((v["operation"].as_str(), v["method"].as_str(), v["key"].as_str()), (Some(operation), Some(method), Some(key)));
        let url = v["url"].as_str().unwrap();
        assert!(url.starts_with("https://my-video-bucket.s3.us-east-1.amazonaws.com/content/v/big.mp4?"), "{url}");
        let q = query_of(url);
        assert_eq!(param(&q, "X-Amz-SignedHeaders"), Some(signed.replace(';', "%3B").as_str()), "{operation}");
        if let Some((name, value)) = query {
            assert_eq!(param(&q, name), Some(value), "{operation}");
        }
        // Only the operation's own parameters are signed: no listing, no other sub-resource.
        let own = ["uploads", "partNumber", "uploadId"];
        let extra: Vec<_> = q.iter().filter(|(k, _)| !k.starts_with("X-Amz-") && !own.contains(&k.as_str())).collect();
        assert!(extra.is_empty(), "{extra:?}");
    }
}

#[test]
fn sign_request_refuses_everything_else() {
    let s = service(&[]);
    let key = "content/v/a.ts";
    for body in [
        json!({"method": "GET", "key": key}),
        json!({"method": "HEAD", "key": key}),
        json!({"method": "HEAD", "key": key, "uploadId": "u"}),
        json!({"method": "PUT", "key": key, "partNumber": 1}),
        json!({"method": "GET", "key": key, "uploadId": "u", "partNumber": 1}),
        json!({"method": "put", "key": key}),
        json!({"method": "PATCH", "key": key}),
    ] {
        assert_eq!(sign(&s, "/presign/request", &body).1["error"], "invalid_operation", "{body}");
    }
    let cases = [
        (json!({"method": "DELETE", "key": key}), 403, "operation_not_allowed"),
        (json!({"method": "PUT", "key": key, "uploadId": "", "partNumber": 1}), 400, "invalid_upload_id"),
        (json!({"method": "PUT", "key": key, "uploadId": "a b", "partNumber": 1}), 400, "invalid_upload_id"),
        (json!({"method": "PUT", "key": key, "uploadId": "x".repeat(1025), "partNumber": 1}), 400, "invalid_upload_id"),
        (json!({"method": "PUT", "key": key, "uploadId": "u", "partNumber": 0}), 400, "invalid_part"),
        (json!({"method": "PUT", "key": key, "uploadId": "u", "partNumber": 10001}), 400, "invalid_part"),
        (json!({"method": "PUT", "key": key, "uploadId": "u", "partNumber": 1.5}), 400, "invalid_part"),
        (json!({"method": "PUT", "key": key, "uploadId": "u", "partNumber": "1"}), 400, "invalid_json"),
        (json!({"method": "PUT", "key": "private/a.ts"}), 403, "prefix_not_allowed"),
        (json!({"method": "GET", "key": "content/../a.ts", "uploadId": "u"}), 400, "invalid_key"),
        (json!({"method": "PUT", "key": key, "contentLength": -1}), 400, "invalid_length"),
        (json!({"method": "PUT", "key": key, "contentLength": 5_368_709_121u64}), 400, "invalid_length"),
        (json!({"method": "POST", "key": key, "contentLength": 0}), 400, "invalid_length"),
        (json!({"method": "PUT", "key": key, "contentMd5": "AAAA"}), 400, "invalid_checksum"),
        (json!({"method": "PUT", "key": key, "checksumSha256": "1B2M2Y8AsgTpgAmY7PhCfg=="}), 400, "invalid_checksum"),
        (
            json!({"method": "PUT", "key": key, "uploadId": "u", "partNumber": 1, "checksumSha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}),
            400,
            "invalid_checksum",
        ),
        (json!({"method": "PUT", "key": key, "uploadId": "u", "partNumber": 4, "contentLength": 12 * MIB}), 400, "invalid_part"),
    ];
    for (body, status, code) in cases {
        let (got, v) = sign(&s, "/presign/request", &body);
        assert_eq!((got, v["error"].as_str()), (status, Some(code)), "{body}: {v}");
        assert!(v.get("url").is_none());
    }
}

#[test]
fn byte_fields_are_signed_and_returned_as_headers() {
    let s = service(&[]);
    let md5 = "1B2M2Y8AsgTpgAmY7PhCfg==";
    let sha = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    let body = json!({"key": "content/a.ts", "contentType": "video/mp2t", "contentLength": 1_048_576, "contentMd5": md5, "checksumSha256": sha});
    let (status, v) = sign(&s, "/presign", &body);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["headers"], json!({"content-type": "video/mp2t", "content-length": "1048576", "content-md5": md5, "x-amz-checksum-sha256": sha}));
    let q = query_of(v["url"].as_str().unwrap());
    assert_eq!(param(&q, "X-Amz-SignedHeaders"), Some("content-length%3Bcontent-md5%3Bcontent-type%3Bhost%3Bx-amz-checksum-sha256"));
    assert!(v.get("operation").is_none(), "the /presign shape is unchanged");
    // The same through a batch and through signRequest.
    let (status, b) = sign(&s, "/presign/batch", &json!({"files": [body]}));
    assert_eq!((status, &b["uploads"][0]["headers"]), (200, &v["headers"]));
}

#[test]
fn the_part_plan_signs_each_parts_length() {
    let s = service(&[]);
    let upload = |n: u64| json!({"method": "PUT", "key": "content/big.mp4", "uploadId": "u-1", "partNumber": n, "contentLength": 12 * MIB});
    let lengths: Vec<_> = (1..=3).map(|n| sign(&s, "/presign/request", &upload(n)).1["headers"]["content-length"].clone()).collect();
    assert_eq!(lengths, [json!("5242880"), json!("5242880"), json!("2097152")]);
    // Without contentLength nothing bounds the part (no PRESIGN_MAX_BYTES).
    let (status, v) = sign(&s, "/presign/request", &json!({"method": "PUT", "key": "content/big.mp4", "uploadId": "u-1", "partNumber": 9999}));
    assert_eq!((status, &v["headers"]), (200, &json!({})));

    let body = json!({"key": "content/big.mp4", "uploadId": "u-1", "contentLength": 12 * MIB, "parts": [{"partNumber": 3}, {"partNumber": 1, "contentMd5": "1B2M2Y8AsgTpgAmY7PhCfg=="}]});
    let (status, v) = sign(&s, "/presign/parts", &body);
    assert_eq!(status, 200, "{v}");
    assert_eq!((v["parts"][0]["partNumber"].as_u64(), v["parts"][0]["headers"]["content-length"].as_str()), (Some(3), Some("2097152")));
    assert_eq!(v["parts"][1]["headers"], json!({"content-length": "5242880", "content-md5": "1B2M2Y8AsgTpgAmY7PhCfg=="}));
    assert_eq!(v["parts"][1]["operation"], "UploadPart");
    let bad = json!({"key": "content/big.mp4", "uploadId": "u-1", "contentLength": 12 * MIB, "parts": [{"partNumber": 1}, {"partNumber": 4}]});
    let (status, v) = sign(&s, "/presign/parts", &bad);
    assert_eq!((status, v["error"].as_str(), v["index"].as_u64()), (400, Some("invalid_part"), Some(1)));
    let sha = json!({"key": "content/big.mp4", "uploadId": "u-1", "parts": [{"partNumber": 1}, {"partNumber": 2, "checksumSha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}]});
    let (status, v) = sign(&s, "/presign/parts", &sha);
    assert_eq!((status, v["error"].as_str(), v["index"].as_u64()), (400, Some("invalid_checksum"), Some(1)));
    let (status, v) = sign(&s, "/presign/parts", &json!({"key": "content/big.mp4", "uploadId": "u-1", "parts": []}));
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_json")));
}

#[test]
fn max_bytes_requires_and_bounds_the_length() {
    let s = service(&[("PRESIGN_MAX_BYTES", "10485760")]);
    let key = "content/a.mp4";
    let cases = [
        (json!({"method": "PUT", "key": key}), 400, Some("length_required")),
        (json!({"method": "POST", "key": key}), 400, Some("length_required")),
        (json!({"method": "PUT", "key": key, "uploadId": "u", "partNumber": 1}), 400, Some("length_required")),
        (json!({"method": "PUT", "key": key, "contentLength": 10_485_761}), 403, Some("too_large")),
        (json!({"method": "POST", "key": key, "contentLength": 10_485_761}), 403, Some("too_large")),
        (json!({"method": "PUT", "key": key, "contentLength": 10_485_760}), 200, None),
        (json!({"method": "POST", "key": key, "contentLength": 10_485_760}), 200, None),
        // Operations that create nothing need no length.
        (json!({"method": "GET", "key": key, "uploadId": "u"}), 200, None),
        (json!({"method": "POST", "key": key, "uploadId": "u"}), 200, None),
        (json!({"method": "DELETE", "key": key, "uploadId": "u"}), 200, None),
    ];
    for (body, status, code) in cases {
        let (got, v) = sign(&s, "/presign/request", &body);
        assert_eq!((got, v["error"].as_str()), (status, code), "{body}: {v}");
    }
    let (status, v) = sign(&s, "/presign", &json!({"key": key, "contentType": "video/mp4"}));
    assert_eq!((status, v["error"].as_str()), (400, Some("length_required")));
    let (status, v) = sign(&s, "/presign", &json!({"key": key, "contentType": "video/mp4", "contentLength": 5}));
    assert_eq!((status, v["headers"]["content-length"].as_str()), (200, Some("5")));
}

#[test]
fn required_checksums_and_content_types() {
    let s = service(&[("PRESIGN_REQUIRE_CHECKSUM", "true"), ("PRESIGN_ALLOWED_CONTENT_TYPES", "video/*"), ("PRESIGN_SINGLE_USE", "true")]);
    let key = "content/a.mp4";
    let md5 = "1B2M2Y8AsgTpgAmY7PhCfg==";
    let cases = [
        (json!({"method": "PUT", "key": key, "contentType": "video/mp4"}), 400, Some("checksum_required")),
        (json!({"method": "PUT", "key": key, "contentType": "video/mp4", "contentMd5": md5}), 200, None),
        (json!({"method": "PUT", "key": key, "contentMd5": md5}), 400, Some("invalid_json")),
        (json!({"method": "POST", "key": key}), 400, Some("invalid_json")),
        (json!({"method": "POST", "key": key, "contentType": "text/html"}), 403, Some("content_type_not_allowed")),
        (json!({"method": "POST", "key": key, "contentType": "video/mp4"}), 200, None),
        (json!({"method": "PUT", "key": key, "uploadId": "u", "partNumber": 1}), 400, Some("checksum_required")),
        (json!({"method": "PUT", "key": key, "uploadId": "u", "partNumber": 1, "contentMd5": md5}), 200, None),
    ];
    for (body, status, code) in cases {
        let (got, v) = sign(&s, "/presign/request", &body);
        assert_eq!((got, v["error"].as_str()), (status, code), "{body}: {v}");
    }
    // Single-use signs If-None-Match on the requests that create the object, never on parts.
    let (_, v) = sign(&s, "/presign/request", &json!({"method": "POST", "key": key, "uploadId": "u"}));
    assert_eq!(v["headers"], json!({"if-none-match": "*"}));
    let (_, v) = sign(&s, "/presign/request", &json!({"method": "PUT", "key": key, "uploadId": "u", "partNumber": 1, "contentMd5": md5}));
    assert_eq!(v["headers"], json!({"content-md5": md5}));
}

#[test]
fn a_rate_limiter_admits_each_caller_before_anything_is_signed() {
    let s = service(&[]);
    let limited = Capabilities { rate_limiter: true, ..STORE };
    let token = format!("Bearer {}", hs_token(json!({"sub": "user-7"})));
    let req = post("/presign", ONE, Some(&token));
    let mut yes = s.exchange(req, limited);
    let Step::Admit(key) = yes.step(NOW) else { panic!("the caller is admitted first") };
    assert_eq!(key, "sub:user-7");
    yes.admitted(Some(true));
    assert!(matches!(yes.step(NOW), Step::Done(Reply::Response(r)) if r.status == 200));
    let mut no = s.exchange(req, limited);
    assert!(matches!(no.step(NOW), Step::Admit(_)));
    no.admitted(Some(false));
    let Step::Done(Reply::Response(r)) = no.step(NOW) else { panic!("an answer") };
    assert_eq!((r.status, r.error_code, r.header("retry-after")), (429, Some("rate_limited"), Some("10")));
    assert_eq!(r.audit.and_then(|a| a.caller).as_deref(), Some("user-7"));
    // A limiter that failed lets the caller through: the core's decision, not the platform's.
    let mut failed = s.exchange(req, limited);
    assert!(matches!(failed.step(NOW), Step::Admit(_)));
    failed.admitted(None);
    assert!(matches!(failed.step(NOW), Step::Done(Reply::Response(r)) if r.status == 200));
    // Unauthenticated requests are refused before any limiter is asked.
    assert!(matches!(s.exchange(post("/presign", ONE, None), limited).step(NOW), Step::Done(Reply::Response(r)) if r.status == 401));
    // Without a limiter nothing is asked.
    assert!(matches!(s.exchange(req, STORE).step(NOW), Step::Done(Reply::Response(r)) if r.status == 200));
}

/// One request parses its token once and verifies its signature once, whatever the platform
/// was asked in between (HS256 behind a rate limiter; a JWKS token whose keys are fetched).
#[test]
fn one_request_parses_and_verifies_once() {
    use crate::auth::counters;
    let s = service(&[]);
    let token = format!("Bearer {}", hs_token(json!({"sub": "user-7"})));
    let before = counters::read();
    let mut exchange = s.exchange(post("/presign", ONE, Some(&token)), Capabilities { rate_limiter: true, ..STORE });
    assert!(matches!(exchange.step(NOW), Step::Admit(_)));
    exchange.admitted(Some(true));
    assert!(matches!(exchange.step(NOW), Step::Done(Reply::Response(r)) if r.status == 200));
    let after = counters::read();
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1), "HS256 behind a limiter: (parses, verifications)");

    use jwt_simple::prelude::{ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair};
    let s = service(&[("AUTH_JWKS_URL", "https://idp.test/jwks.json")]);
    let es = ES256KeyPair::generate().with_key_id("k");
    let set = json!({"keys": [crate::fixtures::jwk::ec("k", &es.public_key().public_key().to_bytes_uncompressed(), None)]}).to_string();
    let token = format!("Bearer {}", es.sign(claims(json!({}), NOW.0, Some(NOW.0 + 60))).unwrap());
    let before = counters::read();
    let mut exchange = s.exchange(post("/presign", ONE, Some(&token)), Capabilities { rate_limiter: true, ..STORE });
    assert!(matches!(exchange.step(NOW), Step::Fetch(_)));
    exchange.fetched(NOW, Ok(set.as_bytes()));
    let mut platform_checks = 0;
    let done = loop {
        match exchange.step(NOW) {
            Step::Verify(check) => {
                platform_checks += 1;
                exchange.verified(oracle_verify(&check));
            }
            Step::Admit(_) => exchange.admitted(Some(true)),
            Step::Done(reply) => break reply,
            Step::Fetch(_) => panic!("fetched once already"),
        }
    };
    assert!(matches!(done, Reply::Response(r) if r.status == 200));
    let after = counters::read();
    let verifications = after.1 - before.1 + platform_checks;
    assert_eq!((after.0 - before.0, verifications), (1, 1), "JWKS with a fetch and a limiter: (parses, verifications)");
}

#[test]
fn the_audit_names_the_caller_and_what_was_signed() {
    let s = service(&[]);
    let token = format!("Bearer {}", hs_token(json!({"sub": "user-9"})));
    let body = json!({"key": "content/big.mp4", "uploadId": "u-1", "contentLength": 12 * MIB, "parts": [{"partNumber": 1}, {"partNumber": 3}]}).to_string();
    let r = respond(&s, &post("/presign/parts", &body, Some(&token)));
    let audit = r.audit.expect("an audit");
    assert_eq!((audit.caller.as_deref(), audit.operation, audit.count), (Some("user-9"), Some("UploadPart"), 2));
    assert_eq!((audit.keys, audit.upload_id.as_deref(), audit.part_numbers), (vec!["content/big.mp4".to_owned()], Some("u-1"), vec![1, 3]));
    assert_eq!(audit.lengths, Some(vec![Some(5 * MIB), Some(2 * MIB)]));
    assert_eq!(audit.expires_at.as_deref(), Some("2027-01-15T08:05:00Z"));
    // A refusal names the caller, and nothing signed.
    let r = respond(&s, &post("/presign", r#"{"key":"private/a.ts","contentType":"video/mp2t"}"#, Some(&token)));
    assert_eq!((r.status, r.audit.map(|a| (a.caller, a.count))), (403, Some((Some("user-9".to_owned()), 0))));
    // Keys are personal data in some deployments.
    let quiet = service(&[("LOG_OBJECT_KEYS", "false")]);
    let audit = respond(&quiet, &post("/presign", ONE, Some(&token))).audit.unwrap();
    assert!(audit.keys.is_empty() && audit.keys_omitted && audit.count == 1);
    // Auth off: the caller is anonymous.
    let open = Service::new(Config::from_pairs([("ENABLE_PRESIGN", "true"), ("S3_BUCKET", "b"), ("AWS_ACCESS_KEY_ID", "AK"), ("AWS_SECRET_ACCESS_KEY", "SK")]));
    assert_eq!(respond(&open, &post("/presign", ONE, None)).audit.unwrap().caller.as_deref(), Some("anonymous"));
}

// ---- the adversarial review (findings 2, 5, 6) ----

/// Upload ids as real stores write them pass; anything else is refused before signing.
#[test]
fn upload_ids_of_real_stores_pass_and_others_do_not() {
    let s = service(&[]);
    let key = "content/v/a.mp4";
    let real = [
        // AWS S3 (the API reference's examples).
        "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA",
        "exampleJ._cYm5KyA.0sUs4tPaUcQAVHk.x7Gv6ZuExg0j9D5aUbbTmKaMKxK8tVlxxxYTqMzBdzJH3QdbV9UAsbTQ.CsNaJJy4Cw--",
        // Ceph RGW (and DigitalOcean Spaces).
        "2~iCw_lDY8VoBhoRrIJbPMrUqnE3Z-3Qh",
        // MinIO (URL-safe base64 of deployment id and UUID).
        "ZDliMjNkMTgtMDg2Mi00YzE1LTk5ZmMtOTZjZTE1ZDJkMjM0LjNhYmUxZjQwLTVmZTktNGRiZS05ZjA4LWM2ZTU4ZjU2NzhiOXgxNzM0MDQ5NzU1MzA2NDY0MDAw",
        // R2 (base64).
        "AAGuFZ0sC3/1Yb+Vk8GRc9Q0Pm9Nnx0o3hbt2r4xZTLZ9n1v4zC7g==",
        // SeaweedFS (hex) and s3s-fs (a UUID).
        "3b64a80a6d6e4c0eb2f3f8d1c6a1e7a2",
        "67e55044-10b1-426f-9247-bb680e5fe0c8",
    ];
    for id in real {
        let (status, v) = sign(&s, "/presign/request", &json!({"method": "GET", "key": key, "uploadId": id}));
        assert_eq!(status, 200, "{id}: {v}");
    }
    for id in ["\"", "a\"b", "%41", "a&b=c", "a!b", "a b", "a#b", "a?b", "a;b", "é", "a\u{7f}"] {
        let (status, v) = sign(&s, "/presign/request", &json!({"method": "GET", "key": key, "uploadId": id}));
        assert_eq!((status, v["error"].as_str()), (400, Some("invalid_upload_id")), "{id:?}");
    }
}

/// A small request that would be answered with megabytes is refused (413), not failed by the
/// platform: a 1 KiB key of characters that are percent-encoded, a 1 KiB upload id of them
/// too, and 1000 parts.
#[test]
fn an_answer_over_the_bound_is_refused_up_front() {
    let s = service(&[("PRESIGN_MAX_BATCH", "1000")]);
    let key = format!("content/{}", "!".repeat(1016));
    let parts: Vec<Value> = (1..=1000).map(|n| json!({"partNumber": n})).collect();
    let body = json!({"key": key, "uploadId": "+".repeat(1024), "parts": parts});
    let (status, v) = sign(&s, "/presign/parts", &body);
    assert_eq!((status, v["error"].as_str()), (413, Some("answer_too_large")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("4000000"));
    // The same with ordinary keys and ids is answered, and well under the bound.
    let parts: Vec<Value> = (1..=1000).map(|n| json!({"partNumber": n})).collect();
    let auth = bearer();
    let text = json!({"key": "content/v/a.mp4", "uploadId": "abc-1", "parts": parts}).to_string();
    let r = respond(&s, &post("/presign/parts", &text, Some(&auth)));
    assert_eq!(r.status, 200);
    assert!(r.body.len() < crate::http::MAX_ANSWER_BYTES / 4, "{}", r.body.len());
}

/// `CORS_ORIGINS=*` echoes a well-formed origin only.
#[test]
fn a_wildcard_never_echoes_a_malformed_origin() {
    let s = service(&[("CORS_ORIGINS", "*")]);
    for origin in ["https://a.test\r\nset-cookie: x=1", "https://a.test\0", "null", "https://a.test/x"] {
        let r = respond(&s, &Request { method: "GET", path: "/health", origin: Some(origin), ..Request::default() });
        assert_eq!(r.status, 200);
        assert_eq!(r.header("access-control-allow-origin"), None, "{origin:?}");
        assert!(r.headers.iter().all(|(_, v)| !v.contains('\n') && !v.contains('\0')));
    }
    let r = respond(&s, &Request { method: "GET", path: "/health", origin: Some("https://a.test"), ..Request::default() });
    assert_eq!(r.header("access-control-allow-origin"), Some("https://a.test"));
}

/// A single-valued header sent twice (joined with commas by every platform) is 400, whatever
/// the values.
#[test]
fn a_repeated_single_valued_header_is_refused() {
    let s = service(&[("CORS_ORIGINS", "https://a.test")]);
    let good = bearer();
    let twice = format!("{good}, {good}");
    let r = respond(&s, &post("/presign", ONE, Some(&twice)));
    assert_eq!((r.status, r.error_code), (400, Some("repeated_header")));
    assert!(r.body.contains("Authorization"));
    let r = respond(&s, &Request { content_type: Some("application/json, application/json"), ..post("/presign", ONE, Some(&good)) });
    assert_eq!((r.status, r.error_code), (400, Some("repeated_header")));
    // A comma inside a quoted parameter is not a second header.
    let r = respond(&s, &Request { content_type: Some("application/json; x=\"a,b\""), ..post("/presign", ONE, Some(&good)) });
    assert_eq!(r.status, 200, "{}", r.body);
    // Two origins: not an allowed origin (403) with a list; no echo and 400 with `*`.
    let r = respond(&s, &Request { origin: Some("https://a.test,https://a.test"), ..post("/presign", ONE, Some(&good)) });
    assert_eq!(r.status, 403);
    let any = service(&[("CORS_ORIGINS", "*")]);
    let r = respond(&any, &Request { origin: Some("https://a.test, https://b.test"), ..post("/presign", ONE, Some(&good)) });
    assert_eq!((r.status, r.error_code, r.header("access-control-allow-origin")), (400, Some("repeated_header"), None));
}
