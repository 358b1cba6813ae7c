//! The presign service on AWS Lambda: API Gateway HTTP API (payload 2.0), REST API (payload
//! 1.0, stage prefix stripped) and Function URLs, on the Runtime API client `lambda_runtime`.
//!
//! The adapter is thin on purpose: it reads the environment once at init, and per request it
//! translates the event into the core's [`presign_core::Request`], passes the clock, performs the
//! JWKS fetch the core asks for, and translates the answer back. Every rule lives in the core.

mod jwks_fetch;
mod log;

use std::sync::OnceLock;
use std::time::Instant;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use presign_core::{Answer, Service};
use presign_lambda::event::{self, Incoming, Outgoing};
use serde_json::value::RawValue;

struct App {
    service: Service,
    /// Built on the first JWKS fetch, not at init: most deployments never fetch (HS256 or auth
    /// off), and building the TLS client (root store, rustls config) is cold-start time.
    http: OnceLock<jwks_fetch::Http>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let service = Service::from_lookup(|name| std::env::var(name).ok());
    let config = match service.config() {
        Ok(c) => c,
        Err(e) => {
            // One clear line naming the variable (never its value), then fail the init so Lambda
            // reports Runtime.ExitError instead of serving a broken function.
            log::init_failure(e);
            std::process::exit(1);
        }
    };
    if !config.auth.is_enabled() {
        log::warn("Auth is off: neither AUTH_JWT_SECRET nor AUTH_JWKS_URL is set, so every request may presign.");
    }
    let app: &'static App = Box::leak(Box::new(App { service, http: OnceLock::new() }));
    // The payload arrives as raw JSON and is read in place by `event::Incoming::parse`.
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<Box<RawValue>>| handle(app, ev))).await
}

async fn handle(app: &App, ev: LambdaEvent<Box<RawValue>>) -> Result<Outgoing, Error> {
    let started = Instant::now();
    let incoming = Incoming::parse(ev.payload.get())?;
    let req = incoming.request();
    let answer = app.service.respond(&req, event::now, |url| async move { jwks_fetch::fetch(app.http.get_or_init(jwks_fetch::client), &url).await }).await;
    let response = match answer {
        Answer::Respond(r) => r,
        // Object reads are a Worker feature (R2 binding); on Lambda the path does not exist.
        Answer::ReadObject(read) => Service::object_not_found(&read),
    };
    log::request(&ev.context.request_id, req.method, &response, started.elapsed());
    Ok(Outgoing::new(incoming.format, response, req.method == "HEAD"))
}
