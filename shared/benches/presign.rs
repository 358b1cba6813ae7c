//! Presign, auth and whole-request benchmarks, against the crates users would pick instead:
//! `rusty-s3` and `aws-sdk-s3`'s presigner for SigV4, `jsonwebtoken` for JWT verification.
//! Same inputs, same instant, same machine, one run. `scripts/bench.sh` turns the criterion
//! output into BENCHMARKS.md. Allocations per operation are counted with a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use jwt_simple::prelude::*;
use presign_core::auth::JwksCache;
use presign_core::fixtures::jwk;
use presign_core::sigv4::{Credentials, Endpoint, PresignParams, Presigner, SignedHeader};
use presign_core::{Capabilities, Config, ObjectStore, Reply, Request, Secret, Service, Step, UnixTime};

/// The Lambda's platform: no object store, no rate limiter.
const LAMBDA: Capabilities = Capabilities { objects: ObjectStore::Absent, rate_limiter: false };

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations per call of `f`, averaged over 1,000 calls (written for scripts/bench.sh).
fn allocations_per_op(name: &str, mut f: impl FnMut()) {
    f();
    let before = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..1_000 {
        f();
    }
    let per_op = (ALLOCS.load(Ordering::Relaxed) - before) as f64 / 1_000.0;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench");
    let _ = std::fs::create_dir_all(dir);
    let path = format!("{dir}/allocs-{name}.txt");
    let _ = std::fs::write(path, format!("{per_op}\n"));
    eprintln!("allocations per op, {name}: {per_op}");
}

const NOW: u64 = 1_795_930_000;
const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEBYaDEXAMPLESESSIONTOKENxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx+/=";
const KEY: &str = "content/my-video-001/seg-0.ts";
const CT: &str = "video/mp2t";

fn ours(token: Option<&str>) -> Presigner {
    Presigner::new(
        Endpoint::aws("my-video-bucket", "us-east-1", false),
        "us-east-1",
        Credentials { access_key_id: AK.into(), secret_access_key: Secret::new(SK), session_token: token.map(Secret::new) },
    )
}

fn ours_presign(p: &Presigner) -> String {
    let headers = [SignedHeader { name: "content-type", value: CT }];
    p.presign(&PresignParams { method: "PUT", key: KEY, headers: &headers, expires_seconds: 300, extra_query: &[] }, UnixTime(NOW))
}

fn rusty_s3_presign(bucket: &rusty_s3::Bucket, creds: &rusty_s3::Credentials, at: &jiff::Timestamp) -> String {
    use rusty_s3::S3Action;
    let mut action = bucket.put_object(Some(creds), KEY);
    action.headers_mut().insert("content-type", CT);
    action.sign_with_time(Duration::from_secs(300), at).to_string()
}

fn sdk_client(token: Option<&str>) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials as C, Region, RequestChecksumCalculation};
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(C::new(AK, SK, token.map(str::to_owned), None, "bench"))
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

async fn sdk_presign(client: &aws_sdk_s3::Client) -> String {
    let cfg = aws_sdk_s3::presigning::PresigningConfig::builder()
        .start_time(SystemTime::UNIX_EPOCH + Duration::from_secs(NOW))
        .expires_in(Duration::from_secs(300))
        .build()
        .unwrap();
    let req = client.put_object().bucket("my-video-bucket").key(KEY).content_type(CT).presigned(cfg).await.unwrap();
    req.uri().to_owned()
}

fn presign_benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let at = jiff::Timestamp::from_second(NOW as i64).unwrap();
    let bucket =
        rusty_s3::Bucket::new("https://s3.us-east-1.amazonaws.com".parse().unwrap(), rusty_s3::UrlStyle::VirtualHost, "my-video-bucket", "us-east-1").unwrap();
    for (label, token) in [("presign", None), ("presign_session_token", Some(TOKEN))] {
        let mut g = c.benchmark_group(label);
        let p = ours(token);
        g.bench_function("ours", |b| b.iter(|| black_box(ours_presign(black_box(&p)))));
        let creds = match token {
            Some(t) => rusty_s3::Credentials::new_with_token(AK, SK, t),
            None => rusty_s3::Credentials::new(AK, SK),
        };
        g.bench_function("rusty-s3", |b| b.iter(|| black_box(rusty_s3_presign(&bucket, &creds, &at))));
        let client = sdk_client(token);
        g.bench_function("aws-sdk-s3", |b| b.iter(|| black_box(rt.block_on(sdk_presign(&client)))));
        g.finish();
        if token.is_none() {
            allocations_per_op("presign-ours", || drop(ours_presign(&p)));
            allocations_per_op("presign-rusty-s3", || drop(rusty_s3_presign(&bucket, &creds, &at)));
        }
    }

    let mut g = c.benchmark_group("presign_batch_100");
    let p = ours(None);
    g.bench_function("ours", |b| b.iter(|| (0..100).map(|_| ours_presign(&p)).collect::<Vec<_>>()));
    let creds = rusty_s3::Credentials::new(AK, SK);
    g.bench_function("rusty-s3", |b| b.iter(|| (0..100).map(|_| rusty_s3_presign(&bucket, &creds, &at)).collect::<Vec<_>>()));
    let client = sdk_client(None);
    g.bench_function("aws-sdk-s3", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut v = Vec::with_capacity(100);
                for _ in 0..100 {
                    v.push(sdk_presign(&client).await);
                }
                v
            })
        })
    });
    g.finish();
}

// ---- auth ----

const SECRET_B64: &str = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0zMmJ5dGVz";

fn claims() -> JWTClaims<NoCustomClaims> {
    let mut c = Claims::create(jwt_simple::prelude::Duration::from_secs(300));
    c.issued_at = Some(UnixTimeStamp::from_secs(NOW));
    c.expires_at = Some(UnixTimeStamp::from_secs(NOW + 300));
    c.invalid_before = None;
    c
}

fn b64u(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct JwtClaims {
    exp: u64,
}

fn auth_benches(c: &mut Criterion) {
    use base64::Engine as _;
    let secret = base64::engine::general_purpose::STANDARD.decode(SECRET_B64).unwrap();
    let rs = RS256KeyPair::generate(2048).unwrap().with_key_id("rs");
    let es = ES256KeyPair::generate().with_key_id("es");
    let ed = Ed25519KeyPair::generate().with_key_id("ed");
    let rsa = rs.public_key().to_components();
    let ec = es.public_key().public_key().to_bytes_uncompressed();
    let jwks = serde_json::json!({"keys": [jwk::rsa("rs", &rsa), jwk::ec("es", &ec, None), jwk::ed25519("ed", &ed.public_key().to_bytes())]}).to_string();
    let hs_cfg = Config::from_pairs([("AUTH_JWT_SECRET", SECRET_B64)]).unwrap();
    let jwks_cfg = Config::from_pairs([("AUTH_JWKS_URL", "https://idp.test/jwks")]).unwrap();
    let mut cache = JwksCache::default();
    cache.record_fetch(UnixTime(NOW), Some(jwks.as_bytes()));
    let now = UnixTime(NOW);

    let hs_token = HS256Key::from_bytes(&secret).authenticate(claims()).unwrap();
    let tokens: [(&str, String, jsonwebtoken::DecodingKey, jsonwebtoken::Algorithm); 4] = [
        ("HS256", hs_token.clone(), jsonwebtoken::DecodingKey::from_secret(&secret).unwrap(), jsonwebtoken::Algorithm::HS256),
        ("RS256", rs.sign(claims()).unwrap(), jsonwebtoken::DecodingKey::from_rsa_raw_components(&rsa.n, &rsa.e), jsonwebtoken::Algorithm::RS256),
        (
            "ES256",
            es.sign(claims()).unwrap(),
            jsonwebtoken::DecodingKey::from_ec_components(&b64u(&ec[1..33]), &b64u(&ec[33..65])).unwrap(),
            jsonwebtoken::Algorithm::ES256,
        ),
        (
            "EdDSA",
            ed.sign(claims()).unwrap(),
            jsonwebtoken::DecodingKey::from_ed_components(&b64u(&ed.public_key().to_bytes())).unwrap(),
            jsonwebtoken::Algorithm::EdDSA,
        ),
    ];
    for (alg, token, key, jalg) in tokens {
        let key: jsonwebtoken::DecodingKey = key;
        let mut g = c.benchmark_group(format!("auth_{alg}"));
        let header = format!("Bearer {token}");
        let cfg = if alg == "HS256" { &hs_cfg } else { &jwks_cfg };
        g.bench_function("ours", |b| {
            b.iter(|| assert!(matches!(cfg.auth.authenticate(Some(black_box(&header)), now, &cache, None), presign_core::auth::AuthOutcome::Allowed(_))))
        });
        let mut validation = jsonwebtoken::Validation::new(jalg);
        validation.validate_exp = false; // the token's instant is fixed; both sides check signatures and claims parsing
        validation.required_spec_claims.clear();
        g.bench_function("jsonwebtoken", |b| b.iter(|| jsonwebtoken::decode::<JwtClaims>(black_box(&token), &key, &validation).unwrap()));
        g.finish();
    }
}

// ---- a whole request ----

fn request_benches(c: &mut Criterion) {
    let service = Service::new(Config::from_pairs([
        ("ENABLE_PRESIGN", "true"),
        ("S3_BUCKET", "my-video-bucket"),
        ("AWS_ACCESS_KEY_ID", AK),
        ("AWS_SECRET_ACCESS_KEY", SK),
        ("AUTH_JWT_SECRET", SECRET_B64),
        ("CORS_ORIGINS", "https://app.example.com"),
    ]));
    use base64::Engine as _;
    let secret = base64::engine::general_purpose::STANDARD.decode(SECRET_B64).unwrap();
    let header = format!("Bearer {}", HS256Key::from_bytes(&secret).authenticate(claims()).unwrap());
    let body = br#"{"key":"content/my-video-001/seg-0.ts","contentType":"video/mp2t"}"#;
    let req = Request {
        method: "POST",
        path: "/presign",
        origin: Some("https://app.example.com"),
        authorization: Some(&header),
        content_type: Some("application/json"),
        body,
        ..Request::default()
    };
    let run = || match service.exchange(black_box(req), LAMBDA).step(UnixTime(NOW)) {
        Step::Done(Reply::Response(r)) if r.status == 200 => r,
        other => panic!("{other:?}"),
    };
    let mut g = c.benchmark_group("request_hs256_cors");
    g.bench_function("ours", |b| b.iter(run));
    g.finish();
    allocations_per_op("request-ours", || drop(run()));
}

// ---- 1,000 part URLs in one /presign/parts call, against 1,000 single presigns ----

fn parts_benches(c: &mut Criterion) {
    let service = Service::new(Config::from_pairs([
        ("ENABLE_PRESIGN", "true"),
        ("S3_BUCKET", "my-video-bucket"),
        ("AWS_ACCESS_KEY_ID", AK),
        ("AWS_SECRET_ACCESS_KEY", SK),
        ("PRESIGN_MAX_BATCH", "1000"),
    ]));
    let parts: Vec<_> = (1..=1000).map(|n| serde_json::json!({"partNumber": n})).collect();
    let body = serde_json::json!({"key": KEY, "uploadId": "2~Zm9vYmFyYmF6LXVwbG9hZC1pZA", "contentLength": 5_242_880_000u64, "parts": parts}).to_string();
    let req = Request { method: "POST", path: "/presign/parts", content_type: Some("application/json"), body: body.as_bytes(), ..Request::default() };
    let run = || match service.exchange(black_box(req), LAMBDA).step(UnixTime(NOW)) {
        Step::Done(Reply::Response(r)) if r.status == 200 => r,
        other => panic!("{other:?}"),
    };
    let p = ours(None);
    let mut g = c.benchmark_group("parts_1000");
    g.sample_size(20);
    g.bench_function("ours", |b| b.iter(run));
    g.bench_function("1000 single presigns", |b| b.iter(|| (0..1000).map(|_| ours_presign(&p)).collect::<Vec<_>>()));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(50);
    targets = presign_benches, auth_benches, request_benches, parts_benches
}
criterion_main!(benches);
