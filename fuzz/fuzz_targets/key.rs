//! The key rules, both ways: `validate_key` agrees with its documented rules, and a
//! `POST /presign` for the key (from a caller allowed every configured prefix) is accepted
//! exactly when the key is valid and allowed, signing that key byte for byte. Whether a
//! character is invisible, space-like or unassigned is asked of Unicode's data (ICU4X), not of
//! the core's generated table: no accepted key holds one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use presign_core::object_key::{validate_key, FORBIDDEN_CHARS, MAX_KEY_BYTES};
use presign_core::Request;
use presign_fuzz::{handle_and_check, hs_service, hs_token, unicode_refuses, ALLOWED_PREFIXES, PREFIX_CLAIM};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(key) = std::str::from_utf8(data) else { return };
    let valid = validate_key(key).is_ok();
    let follows_rules = !key.is_empty()
        && key.len() <= MAX_KEY_BYTES
        && !key.chars().any(|c| unicode_refuses(c) || FORBIDDEN_CHARS.contains(&c))
        && key.split('/').all(|s| !matches!(s, "" | "." | ".."));
    assert_eq!(valid, follows_rules, "validate_key disagrees with the rules for {key:?}");

    let body = json!({"key": key, "contentType": "video/mp2t"}).to_string();
    let auth = format!("Bearer {}", hs_token(json!({ PREFIX_CLAIM: ALLOWED_PREFIXES })));
    let req = Request {
        method: "POST",
        path: "/presign",
        origin: None,
        authorization: Some(&auth),
        content_type: Some("application/json"),
        body: body.as_bytes(),
        ..Request::default()
    };
    handle_and_check(hs_service(), &req);
    let accepted = match presign_fuzz::first_step(hs_service(), &req) {
        presign_core::Step::Done(presign_core::Reply::Response(r)) => r.status == 200,
        _ => false,
    };
    let allowed = ALLOWED_PREFIXES.iter().any(|p| key.starts_with(p));
    assert_eq!(accepted, valid && allowed, "accepted={accepted} for {key:?}");
});
