//! The presign service on AWS Lambda: API Gateway HTTP API (payload 2.0), REST API (payload
//! 1.0, stage prefix stripped) and Function URLs, all through `lambda_http`.
//!
//! The adapter is thin on purpose: it reads the environment once at init, and per request it
//! translates the event into the core's [`presign_core::Request`], passes the clock, performs the
//! JWKS fetch the core asks for, and translates the answer back. Every rule lives in the core.

mod jwks_fetch;
mod log;

use std::sync::Arc;
use std::time::Instant;

use lambda_http::{service_fn, Error};
use presign_core::Service;
use presign_lambda::event;

struct App {
    service: Service,
    http: reqwest::Client,
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
    let app = Arc::new(App { service, http: jwks_fetch::client() });
    lambda_http::run(service_fn(move |req| {
        let app = Arc::clone(&app);
        async move { Ok::<_, Error>(handle(&app, req).await) }
    }))
    .await
}

async fn handle(app: &App, req: lambda_http::Request) -> lambda_http::Response<lambda_http::Body> {
    let started = Instant::now();
    let request_id = event::request_id(&req);
    let core_req = event::to_core(&req);
    let outcome = app.service.respond(&core_req, event::now, |url| async move { jwks_fetch::fetch(&app.http, &url).await }).await;
    let response = match outcome {
        presign_core::Answer::Respond(r) => r,
        // Object reads are a Worker feature (R2 binding); on Lambda the path does not exist.
        presign_core::Answer::ReadObject(read) => presign_core::Service::object_not_found(&read),
    };
    log::request(&request_id, core_req.method, &response, started.elapsed());
    event::from_core(response, core_req.method == "HEAD")
}
