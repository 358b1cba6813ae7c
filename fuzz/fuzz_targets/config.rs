//! Configuration parsing: `NAME=value` lines (any names, any values) through `Config`, then
//! `/health` and `POST /presign` through a `Service` built from the result, valid or not.
//! No panic, and no secret value in a configuration error, the health report or a response.
#![no_main]

use libfuzzer_sys::fuzz_target;
use presign_core::config::SECRET_VARIABLES;
use presign_core::{Config, Reply, Request, Service, Step};

/// Secret values are marked with a prefix that keeps them valid (base64 stays base64, hex stays
/// hex) and makes them unmistakable: response text cannot contain one by chance.
fn marked(name: &str, value: &str) -> Option<String> {
    let marker = match name {
        "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN" => "S3CR3T!",
        "AUTH_JWT_SECRET" => "U0VDUkVU",
        "MASTER_KEY_HEX" | "SALT_HEX" => "5ec12e75",
        _ => return None,
    };
    Some(format!("{marker}{value}"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let owned: Vec<(&str, String)> =
        text.lines().filter_map(|l| l.split_once('=')).map(|(name, value)| (name, marked(name, value).unwrap_or_else(|| value.to_owned()))).collect();
    let pairs: Vec<(&str, &str)> = owned.iter().map(|(n, v)| (*n, v.as_str())).collect();
    // A secret counts as leaked unless a non-secret value or a name also holds it.
    let secrets: Vec<&str> = pairs
        .iter()
        .filter(|(name, _)| SECRET_VARIABLES.contains(name))
        .map(|(_, value)| value.trim())
        .filter(|s| !pairs.iter().any(|(n, v)| (!SECRET_VARIABLES.contains(n) && v.contains(s)) || n.contains(s)))
        .collect();
    let session_token = pairs.iter().find(|(n, _)| *n == "AWS_SESSION_TOKEN").map(|(_, v)| v.trim());

    let config = Config::from_pairs(pairs.iter().copied());
    if let Err(e) = &config {
        let message = e.to_string();
        assert!(secrets.iter().all(|s| !message.contains(s)), "a secret leaked into a config error");
    }
    let service = Service::new(config);
    let health = Request { method: "GET", path: "/health", ..Request::default() };
    let upload = Request {
        method: "POST",
        path: "/presign",
        origin: Some("https://app.test"),
        authorization: None,
        content_type: Some("application/json"),
        body: br#"{"key":"content/a.ts","contentType":"video/mp2t"}"#,
        ..Request::default()
    };
    for req in [health, upload] {
        let Step::Done(Reply::Response(resp)) = presign_fuzz::first_step(&service, &req) else { continue };
        assert!((200..600).contains(&resp.status));
        let json: serde_json::Value = serde_json::from_str(&resp.body).expect("every body is JSON");
        for text in std::iter::once(resp.body.as_str()).chain(resp.headers.iter().map(|(_, v)| v.as_str())) {
            for s in &secrets {
                // A presigned URL legitimately carries the session token (X-Amz-Security-Token).
                let in_url = resp.status == 200 && Some(*s) == session_token;
                assert!(in_url || !text.contains(s), "a secret leaked into a response");
            }
        }
        if resp.status == 200 && req.path == "/presign" {
            let url = json["url"].as_str().expect("an accepted presign has a URL");
            assert!(url.starts_with("https://") || url.starts_with("http://"), "URL {url}");
        }
    }
});
