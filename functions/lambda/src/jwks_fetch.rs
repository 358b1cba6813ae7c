//! The one network call the Lambda makes: fetching `AUTH_JWKS_URL` when the core asks.
//!
//! Built on the hyper client the Lambda runtime already links (hyper-util) with rustls/ring and
//! the webpki roots, instead of reqwest, whose extra layers (cookies, proxies, URL/IDNA parsing)
//! cost the binary 319 KB for one GET (2,948,880 -> 2,629,696 bytes).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::{ACCEPT, LOCATION};
use hyper::{Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use presign_core::jwks::MAX_JWKS_BYTES;

pub type Http = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The whole fetch, redirects and body included. The core answers 503 meanwhile, never waits.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
const MAX_REDIRECTS: usize = 3;

pub fn client() -> Http {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.enforce_http(false);
    // `http://` is accepted by the configuration only for loopback hosts (local runs, tests).
    let https = hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots().https_or_http().enable_http1().wrap_connector(http);
    Client::builder(TokioExecutor::new()).build(https)
}

/// The body on HTTP 200 within size and time limits; `None` on any failure (the core then keeps
/// what it had, or answers 503 `auth_unavailable`).
pub async fn fetch(client: &Http, url: &str) -> Option<Vec<u8>> {
    match tokio::time::timeout(FETCH_TIMEOUT, fetch_following(client, url)).await {
        Ok(Ok(body)) => Some(body),
        Ok(Err(problem)) => {
            crate::log::warn(&problem);
            None
        }
        Err(_) => {
            crate::log::warn("JWKS fetch failed: timeout");
            None
        }
    }
}

async fn fetch_following(client: &Http, url: &str) -> Result<Vec<u8>, String> {
    let mut uri: Uri = url.parse().map_err(|_| "JWKS URL does not parse".to_owned())?;
    for _ in 0..=MAX_REDIRECTS {
        let req = Request::get(uri.clone()).header(ACCEPT, "application/json").body(Empty::new()).map_err(|_| "JWKS request could not be built".to_owned())?;
        let resp = client.request(req).await.map_err(|_| "JWKS fetch failed: connection error".to_owned())?;
        let status = resp.status();
        if status == StatusCode::OK {
            let body = Limited::new(resp.into_body(), MAX_JWKS_BYTES).collect().await.map_err(|_| "JWKS document is too large or was cut off".to_owned())?;
            return Ok(body.to_bytes().to_vec());
        }
        if !status.is_redirection() {
            return Err(format!("JWKS fetch answered HTTP {}", status.as_u16()));
        }
        // Follow only to absolute https URLs: never downgrade to plain HTTP.
        uri = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<Uri>().ok())
            .filter(|u| u.scheme_str() == Some("https") && u.host().is_some())
            .ok_or_else(|| format!("JWKS fetch answered HTTP {} without an https Location", status.as_u16()))?;
    }
    Err("JWKS fetch: too many redirects".to_owned())
}
