//! The core's [`FetchRequest`] performed with the Workers `fetch`, exactly under its rules:
//! redirects are not followed by the runtime (`redirect: "manual"`) but walked by the core's
//! [`presign_core::Redirects`], the body is streamed and reading stops at the cap, and the whole
//! exchange is abandoned (and the connection aborted) at the timeout.

use futures_util::future::{select, Either};
use futures_util::StreamExt as _;
use presign_core::{FetchError, FetchRequest, Hop};
use worker::{AbortController, AbortSignal, Delay, Fetch, Headers, Request, RequestInit, RequestRedirect, Response};

/// The body of the final 200, or why there is none.
pub async fn fetch(request: &FetchRequest) -> Result<Vec<u8>, FetchError> {
    let controller = AbortController::default();
    let walk = walk(request, controller.signal());
    futures_util::pin_mut!(walk);
    let outcome = match select(walk, Delay::from(request.timeout)).await {
        Either::Left((outcome, _)) => outcome,
        Either::Right(((), _)) => Err(FetchError::Timeout),
    };
    // Whatever ended the exchange (done, a refused redirect, the cap, the timeout): nothing
    // more is read from this connection.
    controller.abort();
    outcome
}

async fn walk(request: &FetchRequest, signal: AbortSignal) -> Result<Vec<u8>, FetchError> {
    let mut redirects = request.redirects();
    let mut url = request.url.clone();
    loop {
        let mut resp = get(&url, &signal).await?;
        let location = resp.headers().get("location").ok().flatten();
        match redirects.next(&url, resp.status_code(), location.as_deref())? {
            Hop::ReadBody => return read_capped(&mut resp, request).await,
            Hop::Follow(next) => url = next,
        }
    }
}

async fn get(url: &str, signal: &AbortSignal) -> Result<Response, FetchError> {
    let headers = Headers::new();
    headers.set("accept", "application/json").map_err(|_| FetchError::BadUrl)?;
    let mut init = RequestInit::new();
    init.headers = headers;
    init.redirect = RequestRedirect::Manual;
    let req = Request::new_with_init(url, &init).map_err(|_| FetchError::BadUrl)?;
    Fetch::Request(req).send_with_signal(signal).await.map_err(|_| FetchError::Connection)
}

/// Streams the body, never holding more than the cap: a chunk that would pass it ends the read.
async fn read_capped(resp: &mut Response, request: &FetchRequest) -> Result<Vec<u8>, FetchError> {
    let declared = resp.headers().get("content-length").ok().flatten().and_then(|v| v.trim().parse::<u64>().ok());
    request.check_declared_length(declared)?;
    let mut stream = resp.stream().map_err(|_| FetchError::Connection)?;
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(request.max_bytes as u64) as usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| FetchError::Connection)?;
        request.check_body_so_far(body.len() + chunk.len())?;
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
