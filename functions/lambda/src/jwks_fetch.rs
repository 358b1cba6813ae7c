//! The one network call the Lambda makes: fetching `AUTH_JWKS_URL` when the core asks.

use std::time::Duration;

use presign_core::jwks::MAX_JWKS_BYTES;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(3))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .unwrap_or_default()
}

/// The body on HTTP 200 within size and time limits; `None` on any failure (the core then keeps
/// what it had, or answers 503 `auth_unavailable`).
pub async fn fetch(client: &reqwest::Client, url: &str) -> Option<Vec<u8>> {
    let mut resp = match client.get(url).header("accept", "application/json").send().await {
        Ok(r) if r.status() == reqwest::StatusCode::OK => r,
        Ok(r) => {
            crate::log::warn(&format!("JWKS fetch answered HTTP {}", r.status().as_u16()));
            return None;
        }
        Err(e) => {
            crate::log::warn(&format!("JWKS fetch failed: {}", if e.is_timeout() { "timeout" } else { "connection error" }));
            return None;
        }
    };
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() <= MAX_JWKS_BYTES => body.extend_from_slice(&chunk),
            Ok(Some(_)) => {
                crate::log::warn("JWKS document is too large");
                return None;
            }
            Ok(None) => return Some(body),
            Err(_) => {
                crate::log::warn("JWKS fetch failed while reading the body");
                return None;
            }
        }
    }
}
