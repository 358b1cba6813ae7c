//! The presign service on AWS Lambda: API Gateway HTTP API (payload 2.0), REST API (payload
//! 1.0, stage prefix stripped) and Function URLs, on the Runtime API client `lambda_runtime`.
//!
//! The adapter is thin on purpose: it reads the environment once at init, and per request it
//! translates the event into the core's [`presign_core::Request`], hands the core the
//! [`Platform`] (clock, JWKS fetch), and translates the reply back. Every rule lives in the core.

mod jwks_fetch;
mod log;

use std::future::Future;
use std::sync::OnceLock;
use std::time::Instant;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use presign_core::{FetchError, FetchRequest, ObjectStore, Platform, Reply, Service, UnixTime};
use presign_lambda::event::{self, Incoming, Outgoing};
use serde_json::value::RawValue;

/// What the Lambda offers the core.
struct Lambda {
    /// Built on the first JWKS fetch, not at init: most deployments never fetch (HS256 or auth
    /// off), and building the TLS client (root store, rustls config) is cold-start time.
    http: OnceLock<jwks_fetch::Http>,
}

impl Platform for Lambda {
    /// No object store: `SERVE_OBJECTS` is a Worker feature (R2 binding).
    const OBJECT_STORE: ObjectStore = ObjectStore::Absent;

    fn now(&self) -> UnixTime {
        event::now()
    }

    fn fetch(&self, request: &FetchRequest) -> impl Future<Output = Result<Vec<u8>, FetchError>> {
        jwks_fetch::fetch(self.http.get_or_init(jwks_fetch::client), request)
    }
    // No `verify`: the core is built with `native-crypto` here and verifies in Rust (the
    // trait's default fails closed). No rate limiter: API Gateway's throttling caps the rate.
}

struct App {
    service: Service,
    platform: Lambda,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let service = Service::from_lookup(|name| std::env::var(name).ok());
    if let Some(e) = service.config_error() {
        // One clear line naming the variable (never its value), then fail the init so Lambda
        // reports Runtime.ExitError instead of serving a broken function.
        log::init_failure(e);
        std::process::exit(1);
    }
    for warning in service.startup_warnings(Lambda::OBJECT_STORE) {
        log::warn(&warning);
    }
    let app: &'static App = Box::leak(Box::new(App { service, platform: Lambda { http: OnceLock::new() } }));
    // The payload arrives as raw JSON and is read in place by `event::Incoming::parse`.
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<Box<RawValue>>| handle(app, ev))).await
}

async fn handle(app: &App, ev: LambdaEvent<Box<RawValue>>) -> Result<Outgoing, Error> {
    let started = Instant::now();
    let incoming = Incoming::parse(ev.payload.get())?;
    let req = incoming.request();
    let response = match app.service.respond(&req, &app.platform).await {
        Reply::Response(r) => r,
        // Not asked of a platform without an object store; answered as "nothing here".
        Reply::ReadObject(read) => read.answer(None).response,
    };
    log::request(&ev.context.request_id, req.method, &response, started.elapsed());
    Ok(Outgoing::new(incoming.format, response))
}
