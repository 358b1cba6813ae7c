//! The presign service as a Cloudflare Worker (workers-rs), in front of R2.
//!
//! As thin as the Lambda adapter: configuration from `[vars]` and secrets, parsed once per
//! isolate; the clock from JavaScript's `Date` (`SystemTime::now()` panics on wasm32); the JWKS
//! fetched with the Workers `fetch` and RSA/ECDSA/Ed25519 signatures verified with WebCrypto
//! when the core asks; object reads from the R2 binding when
//! `SERVE_OBJECTS=true`. Every decision is the core's.

mod objects;
mod webcrypto;

use std::sync::OnceLock;

use futures_util::StreamExt as _;
use presign_core::handler::MAX_BATCH_BODY;
use presign_core::jwks::MAX_JWKS_BYTES;
use presign_core::log::{request_line, LogLevel};
use presign_core::{Answer, Service, UnixTime};
use worker::{console_error, console_log, console_warn, event, Context, Date, Env, Request, Response, Result};

/// The service of this isolate: the configuration is read and validated on the first request.
static SERVICE: OnceLock<Service> = OnceLock::new();
/// `RUST_LOG` from `[vars]`, read with the configuration.
static LOG_LEVEL: OnceLock<LogLevel> = OnceLock::new();

fn service(env: &Env) -> &'static Service {
    SERVICE.get_or_init(|| {
        let _ = LOG_LEVEL.set(LogLevel::parse(env.var("RUST_LOG").ok().map(|v| v.to_string()).as_deref()));
        let service = Service::from_lookup(|name| env.var(name).ok().map(|v| v.to_string()));
        match service.config() {
            Err(e) => console_error!("{}", serde_json::json!({"level": "error", "error": "config_invalid", "variable": e.variable, "message": e.to_string()})),
            Ok(c) if !c.auth.is_enabled() => console_warn!(
                "{}",
                serde_json::json!({"level": "warn", "message": "Auth is off: neither AUTH_JWT_SECRET nor AUTH_JWKS_URL is set, so every request may presign."})
            ),
            Ok(_) => {}
        }
        service
    })
}

fn now() -> UnixTime {
    UnixTime(Date::now().as_millis() / 1000)
}

/// Reads at most `MAX_BATCH_BODY + 1` bytes: enough for the core to tell "too large". A body
/// whose declared length is within the limit is taken in one `arrayBuffer()` call (one promise
/// instead of a stream reader's read per chunk); any other is streamed and cut off.
async fn read_body(req: &mut Request, content_length: Option<&str>) -> Vec<u8> {
    if content_length.and_then(|v| v.parse::<usize>().ok()).is_some_and(|n| n <= MAX_BATCH_BODY) {
        return req.bytes().await.unwrap_or_default();
    }
    let Ok(mut stream) = req.stream() else { return Vec::new() };
    let mut body = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = MAX_BATCH_BODY + 1 - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() > MAX_BATCH_BODY {
            break;
        }
    }
    body
}

/// GETs the JWKS with a 3 s timeout and a size cap; `None` on any failure.
async fn fetch_jwks(url: &str) -> Option<Vec<u8>> {
    use futures_util::future::{select, Either};
    let url: worker::Url = url.parse().ok()?;
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let fetch = async {
        let mut resp = worker::Fetch::Url(url).send_with_signal(&signal).await.ok()?;
        if resp.status_code() != 200 {
            console_warn!("{}", serde_json::json!({"level": "warn", "message": format!("JWKS fetch answered HTTP {}", resp.status_code())}));
            return None;
        }
        let body = resp.bytes().await.ok()?;
        (body.len() <= MAX_JWKS_BYTES).then_some(body)
    };
    let timeout = worker::Delay::from(std::time::Duration::from_secs(3));
    futures_util::pin_mut!(fetch);
    match select(fetch, timeout).await {
        Either::Left((body, _)) => body,
        Either::Right(((), _)) => {
            controller.abort();
            console_warn!("{}", serde_json::json!({"level": "warn", "message": "JWKS fetch timed out"}));
            None
        }
    }
}

fn to_worker(resp: presign_core::Response, head: bool) -> Result<Response> {
    let mut out = if head || resp.body.is_empty() { Response::empty()? } else { Response::from_bytes(resp.body.into_bytes())? };
    let headers = out.headers_mut();
    for (name, value) in &resp.headers {
        headers.set(name, value)?;
    }
    Ok(out.with_status(resp.status))
}

fn log_request(request_id: &str, method: &str, route: &str, status: u16, error: Option<&str>, started_ms: u64) {
    if LOG_LEVEL.get().copied().unwrap_or(LogLevel::Info).wants_request(status) {
        let latency = Date::now().as_millis().saturating_sub(started_ms) as f64;
        console_log!("{}", request_line(request_id, method, route, status, error, latency));
    }
}

/// The path of an absolute URL (`https://host/a/b?q` gives `/a/b`), as sent.
fn path_of(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let started = Date::now().as_millis();
    let service = service(&env);
    // The method as sent: workers-rs maps methods it does not know (e.g. QUERY) to GET, which
    // would let them through as reads (found by schemathesis). The core answers them 405.
    let method = req.inner().method();
    let method = method.as_str();
    let url = req.inner().url();
    let path = path_of(&url);
    // The request's own Headers handle: no copy (worker::Headers::clone copies), and no URL
    // re-parse for the path (workerd hands us an already normalised URL).
    let headers = req.inner().headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let (origin, authorization, content_type) = (header("origin"), header("authorization"), header("content-type"));
    let request_id = header("cf-ray").unwrap_or_default();
    let body = if method == "POST" { read_body(&mut req, header("content-length").as_deref()).await } else { Vec::new() };
    let core_req = presign_core::Request {
        method,
        path,
        origin: origin.as_deref(),
        authorization: authorization.as_deref(),
        content_type: content_type.as_deref(),
        body: &body,
    };

    let fetch = |url: String| async move { fetch_jwks(&url).await };
    let verify = |check| async move { webcrypto::verify(&check).await };
    let outcome = service.respond_verifying(&core_req, now, fetch, verify).await;
    let resp = match outcome {
        Answer::Respond(r) => r,
        Answer::ReadObject(read) => {
            let range = header("range");
            let if_none_match = header("if-none-match");
            return match objects::read(&env, &read, range.as_deref(), if_none_match.as_deref()).await {
                Ok((resp, status)) => {
                    log_request(&request_id, method, "object", status, None, started);
                    Ok(resp)
                }
                Err(e) => {
                    console_error!("{}", serde_json::json!({"level": "error", "message": format!("R2 read failed: {e}")}));
                    let r = service.internal_error(&core_req);
                    log_request(&request_id, method, "object", r.status, r.error_code, started);
                    to_worker(r, false)
                }
            };
        }
    };
    log_request(&request_id, method, resp.route, resp.status, resp.error_code, started);
    to_worker(resp, method == "HEAD")
}
