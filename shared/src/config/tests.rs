use super::*;

fn parse(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_pairs(vars.iter().copied())
}

fn err(vars: &[(&str, &str)]) -> ConfigError {
    match parse(vars) {
        Err(e) => e,
        Ok(_) => panic!("expected an invalid configuration for {vars:?}"),
    }
}

const BASE: &[(&str, &str)] = &[("ENABLE_PRESIGN", "true"), ("S3_BUCKET", "vids"), ("AWS_ACCESS_KEY_ID", "AK"), ("AWS_SECRET_ACCESS_KEY", "SK-very-secret")];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<_> = BASE.to_vec();
    v.extend_from_slice(extra);
    v
}

#[test]
fn defaults() {
    let c = parse(&with(&[])).unwrap();
    let p = c.presign.as_ref().unwrap();
    assert_eq!(p.expires_seconds, 300);
    assert_eq!(p.max_batch, 100);
    assert!(!p.single_use);
    assert!(p.allowed_content_types.is_none());
    assert_eq!(c.allowed_prefixes.as_slice(), ["content/"]);
    assert_eq!(p.presigner.endpoint().url_base(), "https://vids.s3.us-east-1.amazonaws.com");
    assert!(!c.auth.is_enabled());
    assert_eq!(c.auth.clock_skew_seconds, 60);
    assert_eq!(c.auth.jwks_cache_seconds, 600);
    assert_eq!(c.cors, CorsPolicy::Off);
    assert!(!c.serve_objects);
}

#[test]
fn presign_off_by_default_needs_no_bucket() {
    let c = parse(&[]).unwrap();
    assert!(c.presign.is_none());
}

#[test]
fn custom_endpoint_defaults_to_path_style() {
    let c = parse(&with(&[("S3_ENDPOINT", "http://127.0.0.1:9000"), ("S3_REGION", "auto")])).unwrap();
    assert_eq!(c.presign.unwrap().presigner.endpoint().url_base(), "http://127.0.0.1:9000/vids");
    let c = parse(&with(&[("S3_ENDPOINT", "https://acc.r2.cloudflarestorage.com"), ("S3_FORCE_PATH_STYLE", "false")])).unwrap();
    assert_eq!(c.presign.unwrap().presigner.endpoint().url_base(), "https://vids.acc.r2.cloudflarestorage.com");
}

#[test]
fn empty_values_count_as_unset() {
    let c = parse(&with(&[("PRESIGN_EXPIRES_SECONDS", ""), ("AUTH_JWT_SECRET", " "), ("CORS_ORIGINS", "")])).unwrap();
    assert_eq!(c.presign.unwrap().expires_seconds, 300);
    assert!(!c.auth.is_enabled());
}

#[test]
fn required_when_presign_enabled() {
    assert_eq!(err(&[("ENABLE_PRESIGN", "true")]).variable, "S3_BUCKET");
    assert_eq!(err(&[("ENABLE_PRESIGN", "true"), ("S3_BUCKET", "b")]).variable, "AWS_ACCESS_KEY_ID");
    assert_eq!(err(&[("ENABLE_PRESIGN", "true"), ("S3_BUCKET", "b"), ("AWS_ACCESS_KEY_ID", "a")]).variable, "AWS_SECRET_ACCESS_KEY");
}

#[test]
fn numbers_and_bounds() {
    assert_eq!(parse(&with(&[("PRESIGN_EXPIRES_SECONDS", "604800")])).unwrap().presign.unwrap().expires_seconds, 604_800);
    assert_eq!(parse(&with(&[("PRESIGN_EXPIRES_SECONDS", "1")])).unwrap().presign.unwrap().expires_seconds, 1);
    for bad in ["0", "604801", "5m", "-1", "1.5"] {
        assert_eq!(err(&with(&[("PRESIGN_EXPIRES_SECONDS", bad)])).variable, "PRESIGN_EXPIRES_SECONDS", "{bad}");
    }
    assert_eq!(err(&with(&[("PRESIGN_MAX_BATCH", "0")])).variable, "PRESIGN_MAX_BATCH");
    assert_eq!(err(&with(&[("AUTH_CLOCK_SKEW_SECONDS", "x")])).variable, "AUTH_CLOCK_SKEW_SECONDS");
    assert_eq!(err(&with(&[("AUTH_JWKS_CACHE_SECONDS", "0")])).variable, "AUTH_JWKS_CACHE_SECONDS");
    assert_eq!(err(&[("PRESIGN_EXPIRES_SECONDS", "x")]).variable, "PRESIGN_EXPIRES_SECONDS", "checked even when presign is off");
}

#[test]
fn booleans() {
    assert!(parse(&with(&[("PRESIGN_SINGLE_USE", "TRUE")])).unwrap().presign.unwrap().single_use);
    assert_eq!(err(&with(&[("PRESIGN_SINGLE_USE", "maybe")])).variable, "PRESIGN_SINGLE_USE");
    assert_eq!(err(&[("ENABLE_PRESIGN", "yes please")]).variable, "ENABLE_PRESIGN");
}

#[test]
fn jwt_secret_base64_and_length() {
    // 32 bytes in every base64 spelling.
    let bytes = [0xfbu8; 32];
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        let s = engine.encode(bytes);
        assert!(Config::from_pairs([("AUTH_JWT_SECRET", s.as_str())]).unwrap().auth.is_enabled(), "{s}");
    }
    let short = STANDARD.encode([1u8; 31]);
    let e = err(&[("AUTH_JWT_SECRET", short.as_str())]);
    assert_eq!(e.variable, "AUTH_JWT_SECRET");
    assert!(!e.to_string().contains(&short));
    let e = err(&[("AUTH_JWT_SECRET", "not base64 at all!!")]);
    assert!(!e.to_string().contains("not base64 at all"));
}

#[test]
fn jwks_url_rules() {
    assert!(parse(&[("AUTH_JWKS_URL", "https://idp.example.com/jwks.json")]).is_ok());
    assert!(parse(&[("AUTH_JWKS_URL", "http://127.0.0.1:8080/jwks")]).is_ok());
    assert!(parse(&[("AUTH_JWKS_URL", "http://localhost:8080/jwks")]).is_ok());
    assert!(parse(&[("AUTH_JWKS_URL", "http://[::1]:8080/jwks")]).is_ok());
    for bad in ["http://idp.example.com/jwks", "http://127.0.0.1.evil.com/x", "http://localhost@evil.com/", "ftp://x", "https://"] {
        assert_eq!(err(&[("AUTH_JWKS_URL", bad)]).variable, "AUTH_JWKS_URL", "{bad}");
    }
}

#[test]
fn jwks_wins_over_secret() {
    let c = parse(&[("AUTH_JWKS_URL", "https://idp.test/jwks"), ("AUTH_JWT_SECRET", "short")]).unwrap();
    assert_eq!(c.auth.jwks_fetch().map(|f| f.url).as_deref(), Some("https://idp.test/jwks"));
}

#[test]
fn other_invalid_values_name_their_variable() {
    assert_eq!(err(&with(&[("S3_ENDPOINT", "minio:9000")])).variable, "S3_ENDPOINT");
    assert_eq!(err(&with(&[("S3_REGION", "US East")])).variable, "S3_REGION");
    assert_eq!(err(&with(&[("S3_BUCKET", "a/b")])).variable, "S3_BUCKET");
    assert_eq!(err(&with(&[("PRESIGN_ALLOWED_CONTENT_TYPES", "video/mp2t, nope")])).variable, "PRESIGN_ALLOWED_CONTENT_TYPES");
    assert_eq!(err(&with(&[("PRESIGN_ALLOWED_PREFIXES", " , ")])).variable, "PRESIGN_ALLOWED_PREFIXES");
    assert_eq!(err(&with(&[("CORS_ORIGINS", "https://a.test/path")])).variable, "CORS_ORIGINS");
    assert_eq!(err(&[("AUTH_KEY_PREFIX_CLAIM", "prefixes")]).variable, "AUTH_KEY_PREFIX_CLAIM");
}

#[test]
fn errors_never_contain_secret_values() {
    let secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
    let bad = [
        ("ENABLE_PRESIGN", "true"),
        ("S3_BUCKET", "b"),
        ("AWS_ACCESS_KEY_ID", "AK"),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_SESSION_TOKEN", secret),
        ("MASTER_KEY_HEX", secret),
        ("PRESIGN_EXPIRES_SECONDS", "oops"),
    ];
    let e = err(&bad);
    assert!(!format!("{e} {e:?}").contains(secret));
    let ok = parse(&bad[..6]).unwrap();
    let debug = format!("{:?}", ok.presign.as_ref().unwrap().presigner.endpoint());
    assert!(!debug.contains(secret));
}

#[test]
fn variables_list_matches_the_spec_table() {
    // Every variable in docs/contract.md's table is in VARIABLES (the docs test checks the README too).
    assert_eq!(VARIABLES.len(), 30);
    for s in SECRET_VARIABLES {
        assert!(VARIABLES.contains(s));
    }
}
