//! The presign service as a Cloudflare Worker (workers-rs), in front of R2.
//!
//! As thin as the Lambda adapter: configuration from `[vars]` and secrets, parsed once per
//! isolate; the clock from JavaScript's `Date` (`SystemTime::now()` panics on wasm32); the JWKS
//! fetched with the Workers `fetch` and RSA/ECDSA/Ed25519 signatures verified with WebCrypto
//! when the core asks; object reads from the R2 binding when
//! `SERVE_OBJECTS=true`. Every decision is the core's.

mod fetch;
mod objects;
mod webcrypto;

use std::future::Future;
use std::sync::OnceLock;

use futures_util::StreamExt as _;
use presign_core::log::{config_error_line, request_lines, warning_line, LineFormat, LogLevel};
use presign_core::{FetchError, FetchRequest, ObjectStore, Platform, Reply, Service, SignatureCheck, UnixTime, MAX_BODY_BYTES};
use worker::{console_error, console_log, console_warn, event, Context, Date, Env, Request, Response, Result};

/// The rate-limiting binding in wrangler.toml (`[[ratelimits]]`): when it is there, every
/// authenticated presign request is counted under its caller (see docs/operations.md).
const RATE_LIMITER: &str = "PRESIGN_RATE_LIMITER";

/// What the Workers runtime offers the core.
struct Workers<'e> {
    /// For the rate limiter, looked up only when the core asks to admit a caller (never on
    /// the requests of a deployment without the binding).
    env: &'e Env,
}

impl Platform for Workers<'_> {
    /// The R2 binding serves `SERVE_OBJECTS` reads.
    const OBJECT_STORE: ObjectStore = ObjectStore::Present;

    /// JavaScript's `Date` (`SystemTime::now()` panics on wasm32).
    fn now(&self) -> UnixTime {
        UnixTime(Date::now().as_millis() / 1000)
    }

    fn fetch(&self, request: &FetchRequest) -> impl Future<Output = std::result::Result<Vec<u8>, FetchError>> {
        fetch::fetch(request)
    }

    fn verify(&self, check: &SignatureCheck) -> impl Future<Output = bool> {
        webcrypto::verify(check)
    }

    /// Whether the binding exists: looked up once per isolate, with the configuration.
    fn has_rate_limiter(&self) -> bool {
        HAS_RATE_LIMITER.get().copied().unwrap_or(false)
    }

    /// The limiter's answer; `None` when it failed, which the log says (whether the request
    /// then goes on is the core's decision).
    async fn admit(&self, key: &str) -> Option<bool> {
        let Ok(limiter) = self.env.rate_limiter(RATE_LIMITER) else { return None };
        match limiter.limit(key.to_owned()).await {
            Ok(outcome) => Some(outcome.success),
            Err(e) => {
                if log_level().wants_warnings() {
                    console_warn!("{}", warning_line(&format!("rate limiter failed: {e}")));
                }
                None
            }
        }
    }
}

/// The service of this isolate: the configuration is read and validated on the first request.
static SERVICE: OnceLock<Service> = OnceLock::new();
/// Whether wrangler.toml binds `PRESIGN_RATE_LIMITER`, read with the configuration.
static HAS_RATE_LIMITER: OnceLock<bool> = OnceLock::new();
/// `RUST_LOG` from `[vars]`, read with the configuration.
static LOG_LEVEL: OnceLock<LogLevel> = OnceLock::new();

fn log_level() -> LogLevel {
    LOG_LEVEL.get().copied().unwrap_or(LogLevel::Info)
}

fn service(env: &Env) -> &'static Service {
    SERVICE.get_or_init(|| {
        let _ = LOG_LEVEL.set(LogLevel::parse(env.var("RUST_LOG").ok().map(|v| v.to_string()).as_deref()));
        let _ = HAS_RATE_LIMITER.set(env.rate_limiter(RATE_LIMITER).is_ok());
        let service = Service::from_lookup(|name| env.var(name).ok().map(|v| v.to_string()));
        if let Some(e) = service.config_error() {
            console_error!("{}", config_error_line(e));
        }
        if log_level().wants_warnings() {
            for warning in service.startup_warnings(Workers::OBJECT_STORE) {
                console_warn!("{}", warning_line(&warning));
            }
        }
        service
    })
}

/// Reads at most `MAX_BODY_BYTES + 1` bytes: enough for the core to tell "too large". A body
/// whose declared length is within the limit is taken in one `arrayBuffer()` call (one promise
/// instead of a stream reader's read per chunk); any other is streamed and cut off.
async fn read_body(req: &mut Request, content_length: Option<&str>) -> Vec<u8> {
    if content_length.and_then(|v| v.parse::<usize>().ok()).is_some_and(|n| n <= MAX_BODY_BYTES) {
        return req.bytes().await.unwrap_or_default();
    }
    let Ok(mut stream) = req.stream() else {
        return Vec::new();
    };
    let mut body = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = MAX_BODY_BYTES + 1 - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() > MAX_BODY_BYTES {
            break;
        }
    }
    body
}

/// The core's response as a Workers response, byte for byte; `stream`, when given, is the body
/// (the core's own body is then empty).
fn to_worker(resp: presign_core::Response, stream: Option<worker::ResponseBody>) -> Result<Response> {
    let out = match stream {
        Some(body) => Response::from_body(body)?,
        None if resp.body.is_empty() => Response::empty()?,
        None => Response::from_bytes(resp.body.into_bytes())?,
    };
    let mut out = out.with_status(resp.status);
    let headers = out.headers_mut();
    for (name, value) in &resp.headers {
        headers.set(name, value)?;
    }
    Ok(out)
}

fn log_request(request_id: &str, method: &str, resp: &presign_core::Response, started_ms: u64) {
    if log_level().wants_request(resp.status) {
        let latency = Date::now().as_millis().saturating_sub(started_ms) as f64;
        for line in request_lines(request_id, method, resp, latency, LineFormat::Plain) {
            console_log!("{}", line);
        }
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
    let (range, if_none_match) = (header("range"), header("if-none-match"));
    let request_id = header("cf-ray").unwrap_or_default();
    let body = if method == "POST" { read_body(&mut req, header("content-length").as_deref()).await } else { Vec::new() };
    let core_req = presign_core::Request {
        method,
        path,
        origin: origin.as_deref(),
        authorization: authorization.as_deref(),
        content_type: content_type.as_deref(),
        range: range.as_deref(),
        if_none_match: if_none_match.as_deref(),
        body: &body,
    };
    let platform = Workers { env: &env };
    let (resp, stream) = match service.respond(&core_req, &platform).await {
        Reply::Response(r) => (r, None),
        Reply::ReadObject(read) => objects::read(&env, &read).await.unwrap_or_else(|e| {
            if log_level().wants_request(500) {
                console_error!("{}", serde_json::json!({"level": "error", "message": format!("R2 read failed: {e}")}));
            }
            (read.store_failed(), None)
        }),
    };
    log_request(&request_id, method, &resp, started);
    to_worker(resp, stream)
}
