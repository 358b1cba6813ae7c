//! The one network call the Lambda makes: the [`FetchRequest`] the core asks for, performed
//! exactly under its rules (total timeout, byte cap, redirects walked by the core).
//!
//! Built on the hyper client the Lambda runtime already links (hyper-util) with rustls/ring and
//! the webpki roots, instead of reqwest, whose extra layers (cookies, proxies, URL/IDNA parsing)
//! cost the binary 319 KB for one GET (2,948,880 -> 2,629,696 bytes).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::header::{ACCEPT, CONTENT_LENGTH, LOCATION};
use hyper::{Request, Response, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use presign_core::{FetchError, FetchRequest, Hop};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

pub type Http = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// Within the core's total timeout, a connection attempt may take this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The trusted roots: the webpki (Mozilla) set, plus the certificates of the PEM file named by
/// `SSL_CERT_FILE` when it is set (a private identity provider's CA, or the end-to-end suite's
/// test CA). A file that cannot be read adds nothing.
fn roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(pem) = std::env::var_os("SSL_CERT_FILE").and_then(|path| std::fs::read(path).ok()) {
        let (added, ignored) = roots.add_parsable_certificates(CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok));
        if ignored > 0 || added == 0 {
            crate::log::warn(&format!("SSL_CERT_FILE: {added} certificates added, {ignored} ignored"));
        }
    }
    roots
}

pub fn client() -> Http {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.enforce_http(false);
    let tls = rustls::ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots())
        .with_no_client_auth();
    // `http://` is accepted by the configuration only for loopback hosts (local runs, tests);
    // redirects to it are refused by the core's walk.
    let https = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().wrap_connector(http);
    Client::builder(TokioExecutor::new()).build(https)
}

/// Performs `request`: the body of the final 200, or why there is none.
pub async fn fetch(client: &Http, request: &FetchRequest) -> Result<Vec<u8>, FetchError> {
    tokio::time::timeout(request.timeout, walk(client, request)).await.unwrap_or(Err(FetchError::Timeout))
}

async fn walk(client: &Http, request: &FetchRequest) -> Result<Vec<u8>, FetchError> {
    let mut redirects = request.redirects();
    let mut url = request.url.clone();
    loop {
        let uri: Uri = url.parse().map_err(|_| FetchError::BadUrl)?;
        let get = Request::get(uri).header(ACCEPT, "application/json").body(Empty::new()).map_err(|_| FetchError::BadUrl)?;
        let resp = client.request(get).await.map_err(|_| FetchError::Connection)?;
        let location = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok());
        match redirects.next(&url, resp.status().as_u16(), location)? {
            Hop::ReadBody => return read_capped(resp, request).await,
            Hop::Follow(next) => url = next,
        }
    }
}

/// Reads the body frame by frame, never holding more than the cap: a frame that would pass it
/// ends the read (and, dropped, the connection).
async fn read_capped(resp: Response<Incoming>, request: &FetchRequest) -> Result<Vec<u8>, FetchError> {
    let declared = resp.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
    request.check_declared_length(declared)?;
    let mut body = resp.into_body();
    let mut out = Vec::with_capacity(declared.unwrap_or(0).min(request.max_bytes as u64) as usize);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| FetchError::Connection)?;
        if let Some(data) = frame.data_ref() {
            request.check_body_so_far(out.len() + data.len())?;
            out.extend_from_slice(data);
        }
    }
    Ok(out)
}
