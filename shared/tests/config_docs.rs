//! The configuration reference in README.md and the variables the core really reads must agree:
//! a variable documented but not parsed, or parsed but not documented, fails this test.

use std::cell::RefCell;
use std::collections::BTreeSet;

use presign_core::config::VARIABLES;
use presign_core::Config;

/// Every name `Config::from_lookup` asks for, with values that make it visit every branch.
fn names_read() -> BTreeSet<String> {
    let seen = RefCell::new(BTreeSet::new());
    let value = |name: &str| -> Option<String> {
        seen.borrow_mut().insert(name.to_owned());
        Some(match name {
            "ENABLE_PRESIGN" | "PRESIGN_SINGLE_USE" | "SERVE_OBJECTS" | "S3_FORCE_PATH_STYLE" => "true".into(),
            "S3_ENDPOINT" => "http://127.0.0.1:9000".into(),
            "AUTH_JWKS_URL" => "https://idp.test/jwks".into(),
            "AUTH_JWT_SECRET" => "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0zMmJ5dGVz".into(),
            "CORS_ORIGINS" => "https://a.test".into(),
            "PRESIGN_ALLOWED_CONTENT_TYPES" => "video/*".into(),
            "S3_REGION" => "us-east-1".into(),
            n if n.ends_with("_SECONDS") || n.ends_with("_BATCH") => "30".into(),
            _ => "value".into(),
        })
    };
    assert!(Config::from_lookup(value).is_ok());
    seen.into_inner()
}

fn names_documented() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README.md");
    let section = readme.split("## Configuration").nth(1).expect("a Configuration section").split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .flat_map(|l| l.split('|').nth(1).unwrap_or_default().split(',').map(|v| v.trim().trim_matches('`').to_owned()).collect::<Vec<_>>())
        .collect()
}

#[test]
fn every_variable_read_is_documented_and_listed() {
    let read = names_read();
    let listed: BTreeSet<String> = VARIABLES.iter().map(|s| s.to_string()).collect();
    assert_eq!(read, listed, "config.rs VARIABLES must list exactly what Config::from_lookup reads");
    assert_eq!(names_documented(), listed, "README.md's configuration table must list exactly VARIABLES");
}
