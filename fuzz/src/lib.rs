//! What the fuzz targets share: fixed configurations, tokens signed at a fixed instant, the
//! plain-text request format of the seed corpora, and the invariants every response must keep.
//!
//! The invariants are the product's promises, checked on every input the fuzzer makes up:
//! - no panic, and no 5xx but 503 `auth_unavailable` (a 500 means a bug for a valid config);
//! - every body is one JSON object; every refusal is `{"error", "message"}` and has no URL;
//! - no configured secret (AWS secret key, JWT secret) appears in a body or header;
//! - every signed URL's path decodes to the requested key byte for byte, and that key passes
//!   the key rules and starts with an allowed prefix.

use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jwt_simple::prelude::*;
use percent_encoding::percent_decode_str;
use presign_core::object_key::validate_key;
use presign_core::{Capabilities, Config, ObjectMeta, ObjectStore, Reply, Request, Response, Service, Step};
use serde_json::Value;

/// The instant every target runs at (2027-01-15), so tokens and URLs are reproducible.
pub use presign_core::fixtures::{claims_at_now, NOW};
pub const AWS_SECRET: &str = "fuzzSecretAccessKey/0123456789+abcdefghijk";
pub const JWT_SECRET_B64: &str = "ZnV6ei1qd3Qtc2VjcmV0LWZ1enotand0LXNlY3JldC0zMmJ5dGVzIQ==";
pub const ALLOWED_PREFIXES: [&str; 2] = ["content/", "uploads/user-1/"];
/// The claim that carries a caller's prefixes in the fuzzed configuration.
pub const PREFIX_CLAIM: &str = "prefixes";

/// The configuration of the `handler`, `key` and `lambda_event` targets: presign on, HS256
/// auth with a prefix claim, CORS for one origin, objects served.
pub fn hs_vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ENABLE_PRESIGN", "true"),
        ("S3_BUCKET", "fuzz-bucket"),
        ("S3_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIAFUZZFUZZFUZZFUZZ"),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        ("AUTH_JWT_SECRET", JWT_SECRET_B64),
        ("AUTH_KEY_PREFIX_CLAIM", PREFIX_CLAIM),
        ("PRESIGN_ALLOWED_PREFIXES", "content/,uploads/user-1/"),
        ("PRESIGN_ALLOWED_CONTENT_TYPES", "video/*,application/octet-stream"),
        ("CORS_ORIGINS", "https://app.test"),
        ("SERVE_OBJECTS", "true"),
        ("PRESIGN_MAX_BATCH", "20"),
    ]
}

pub fn hs_service() -> &'static Service {
    static S: OnceLock<Service> = OnceLock::new();
    S.get_or_init(|| Service::new(Config::from_pairs(hs_vars())))
}

/// The fuzzed platform: an object store, no rate limiter.
pub const STORE: Capabilities = Capabilities { objects: ObjectStore::Present, rate_limiter: false };

/// The first step of answering `req` on [`STORE`] at [`NOW`].
pub fn first_step(service: &Service, req: &Request<'_>) -> Step {
    service.exchange(*req, STORE).step(NOW)
}

/// The `AUTH_JWT_SECRET` of [`hs_vars`] as a jwt-simple key, to sign and verify test tokens.
pub fn hs_key() -> &'static HS256Key {
    static K: OnceLock<HS256Key> = OnceLock::new();
    K.get_or_init(|| presign_core::fixtures::hs_key(JWT_SECRET_B64))
}

/// An HS256 token for the `handler` configuration. `$TOKEN` in a seed becomes the default
/// (prefix claim `content/`); `$TOKEN{...}` signs the given JSON claims instead.
pub fn hs_token(custom: Value) -> String {
    hs_key().authenticate(claims_at_now(custom)).expect("HS256 signing cannot fail")
}

/// Replaces the `$TOKEN` placeholders of a seed's `Authorization` line with a real token.
pub fn expand_token(line: &str) -> String {
    let Some(at) = line.find("$TOKEN") else { return line.to_owned() };
    let rest = &line[at + "$TOKEN".len()..];
    let claims = if rest.starts_with('{') { serde_json::from_str(rest).unwrap_or(Value::Null) } else { serde_json::json!({ PREFIX_CLAIM: "content/" }) };
    let tail = if rest.starts_with('{') { "" } else { rest };
    format!("{}{}{}", &line[..at], hs_token(claims), tail)
}

/// A request in the seeds' text format: five header lines, then the body.
///
/// ```text
/// POST                      method
/// /presign                  path
/// https://app.test          Origin (empty line: none)
/// Bearer $TOKEN             Authorization (empty: none; $TOKEN is replaced by a real token)
/// application/json          Content-Type (empty: none)
/// {"key":"content/a.ts","contentType":"video/mp2t"}
/// ```
pub struct TextRequest {
    pub method: String,
    pub path: String,
    pub origin: Option<String>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl TextRequest {
    pub fn parse(data: &[u8]) -> TextRequest {
        let mut parts = data.splitn(6, |&b| b == b'\n');
        let mut line = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
        let (method, path, origin, authorization, content_type) = (line(), line(), line(), line(), line());
        let body = parts.next().unwrap_or_default().to_vec();
        let some = |s: String| if s.is_empty() { None } else { Some(s) };
        TextRequest { method, path, origin: some(origin), authorization: some(authorization).map(|a| expand_token(&a)), content_type: some(content_type), body }
    }

    pub fn as_core(&self) -> Request<'_> {
        Request {
            method: &self.method,
            path: &self.path,
            origin: self.origin.as_deref(),
            authorization: self.authorization.as_deref(),
            content_type: self.content_type.as_deref(),
            body: &self.body,
            ..Request::default()
        }
    }
}

/// The final response of an HS256 configuration to `req`, with object reads answered for a
/// missing object and for a small stored one (both must keep the invariants too).
pub fn responses(service: &Service, req: &Request<'_>) -> Vec<Response> {
    match first_step(service, req) {
        Step::Done(Reply::Response(resp)) => vec![resp],
        Step::Done(Reply::ReadObject(read)) => {
            assert!(validate_key(read.key()).is_ok(), "object read of an invalid key {:?}", read.key());
            let meta = ObjectMeta { size: 10, etag: "\"e\"".into(), uploaded: NOW, content_type: Some("video/mp2t".into()) };
            vec![read.answer(None).response, read.answer(Some(&meta)).response]
        }
        Step::Fetch(_) => panic!("the HS256 configuration never fetches a JWKS"),
        Step::Verify(_) => panic!("HS256 is verified by the core itself"),
        Step::Admit(_) => panic!("the fuzzed service has no rate limiter"),
    }
}

/// Runs a request through the `handler` configuration and checks every invariant.
pub fn handle_and_check(service: &Service, req: &Request<'_>) {
    for resp in responses(service, req) {
        check_response(req, &resp);
    }
}

/// The invariants of module doc, for one response to `req`.
pub fn check_response(req: &Request<'_>, resp: &Response) {
    assert!((200..600).contains(&resp.status), "status {}", resp.status);
    assert!(resp.status < 500 || resp.error_code == Some("auth_unavailable"), "server error {} {}", resp.status, resp.body);
    let secret_bytes = STANDARD.decode(JWT_SECRET_B64).expect("fixture secret is base64");
    let jwt_secret = String::from_utf8_lossy(&secret_bytes);
    // A secret the caller sent itself (the fuzzer copies them from comparisons) may come back,
    // e.g. inside an accepted key; any other appearance is a leak.
    let sent = |secret: &str| {
        let bytes = secret.as_bytes();
        [req.method, req.path, req.origin.unwrap_or(""), req.authorization.unwrap_or(""), req.content_type.unwrap_or("")]
            .iter()
            .any(|f| f.contains(secret))
            || req.body.windows(bytes.len()).any(|w| w == bytes)
            || String::from_utf8_lossy(req.body).contains(secret)
            // ... or spelled with JSON escapes (`\u0066uzz...`), which the key decodes.
            || serde_json::from_slice::<Value>(req.body).is_ok_and(|v| v.to_string().contains(secret))
    };
    for text in std::iter::once(resp.body.as_str()).chain(resp.headers.iter().map(|(_, v)| v.as_str())) {
        for secret in [AWS_SECRET, JWT_SECRET_B64, &jwt_secret] {
            assert!(sent(secret) || !text.contains(secret), "a secret leaked into the response");
        }
    }
    if resp.body.is_empty() {
        // No body: a preflight, a HEAD answer, or an object answer whose bytes are streamed.
        let object = resp.route == "object" && matches!(resp.status, 206 | 304 | 416);
        assert!(matches!(resp.status, 204 | 200) || req.method == "HEAD" || object, "empty body with status {}", resp.status);
        return;
    }
    let json: Value = serde_json::from_str(&resp.body).expect("every body is JSON");
    assert!(json.is_object(), "every body is a JSON object");
    if resp.status != 200 {
        assert!(json["error"].is_string() && json["message"].is_string(), "refusal shape: {}", resp.body);
        assert!(!resp.body.contains("X-Amz-Signature") && json.get("url").is_none(), "a refusal carries a URL");
        return;
    }
    let asked: Option<Value> = serde_json::from_slice(req.body).ok();
    match resp.route {
        "/presign" => {
            let asked = asked.expect("an accepted /presign body is JSON");
            check_upload(&json, &asked["key"]);
        }
        "/presign/batch" => {
            let asked = asked.expect("an accepted batch body is JSON");
            let files = asked["files"].as_array().expect("an accepted batch has files");
            let uploads = json["uploads"].as_array().expect("a batch answer has uploads");
            assert_eq!(files.len(), uploads.len(), "one upload per file");
            for (file, upload) in files.iter().zip(uploads) {
                check_upload(upload, &file["key"]);
            }
        }
        "/presign/request" => {
            let asked = asked.expect("an accepted request body is JSON");
            check_upload(&json, &asked["key"]);
            check_operation(&json);
        }
        "/presign/parts" => {
            let asked = asked.expect("an accepted parts body is JSON");
            let parts = json["parts"].as_array().expect("a parts answer has parts");
            assert_eq!(asked["parts"].as_array().map(Vec::len), Some(parts.len()), "one URL per part");
            for part in parts {
                check_upload(part, &asked["key"]);
                assert_eq!(part["operation"], "UploadPart");
                check_operation(part);
            }
        }
        _ => assert!(!resp.body.contains("X-Amz-Signature")),
    }
}

/// One signed upload: the key is the requested one, allowed, and is exactly the URL's path.
/// A signed request is one of the seven operations with its own method: never a download, a
/// listing, or DeleteObject (the fuzzed configuration does not enable it).
fn check_operation(upload: &Value) {
    let pair = (upload["operation"].as_str().unwrap_or_default(), upload["method"].as_str().unwrap_or_default());
    let known = [
        ("PutObject", "PUT"),
        ("CreateMultipartUpload", "POST"),
        ("UploadPart", "PUT"),
        ("ListParts", "GET"),
        ("CompleteMultipartUpload", "POST"),
        ("AbortMultipartUpload", "DELETE"),
    ];
    assert!(known.contains(&pair), "signed {pair:?}");
    let url = upload["url"].as_str().unwrap_or_default();
    if pair.1 == "GET" {
        assert!(url.contains("uploadId="), "a GET is only ever ListParts: {url}");
    }
}

fn check_upload(upload: &Value, asked_key: &Value) {
    let key = upload["key"].as_str().expect("an upload names its key");
    assert_eq!(Some(key), asked_key.as_str(), "the signed key is the requested key");
    assert!(validate_key(key).is_ok(), "signed a key the rules refuse: {key:?}");
    assert!(!key.chars().any(unicode_refuses), "signed a key with an invisible, space-like or unassigned character: {key:?}");
    assert!(ALLOWED_PREFIXES.iter().any(|p| key.starts_with(p)), "signed a key outside the prefixes: {key:?}");
    let url = upload["url"].as_str().expect("an upload has a URL");
    assert_eq!(url_key(url).as_deref(), Some(key.as_bytes()), "the URL's path is the key, byte for byte");
}

/// The object key a virtual-hosted-style URL addresses: its path, percent-decoded.
pub fn url_key(url: &str) -> Option<Vec<u8>> {
    let after_scheme = url.split_once("://")?.1;
    let path = &after_scheme[after_scheme.find('/')? + 1..];
    let path = path.split('?').next()?;
    Some(percent_decode_str(path).collect())
}

/// Unicode's data (ICU4X), independent of the core's generated table: a code point no key may
/// hold (Cc, Cf, Zl, Zp, Zs but U+0020, Cn, `Default_Ignorable_Code_Point`).
pub fn unicode_refuses(c: char) -> bool {
    use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory as Gc};
    use icu_properties::{CodePointMapData, CodePointSetData};
    c != ' '
        && (CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
            || matches!(
                CodePointMapData::<Gc>::new().get(c),
                Gc::Control | Gc::Format | Gc::LineSeparator | Gc::ParagraphSeparator | Gc::SpaceSeparator | Gc::Unassigned
            ))
}
