//! `presign-core`: the whole presign service as pure logic.
//!
//! A request (method, path, a few headers, body bytes) and the configuration go in; a response
//! comes out. No I/O, no clock, no environment reads: the platform (the Lambda or the Worker
//! adapter) offers those through the [`Platform`] trait, and [`Service::respond`] is the one way
//! in, so both deployments behave identically and everything here builds for
//! `wasm32-unknown-unknown`. The contract it implements is `docs/contract.md`.
//!
//! Layout: `service` (the driver), `exchange` (one request as a resumable state machine),
//! `platform` (what a platform offers), `step` (the steps and the reply), `routes` (routing,
//! CORS, health, object routes), `presign` (the presign use case), `object_read` (object answers planned from
//! store metadata), `auth/` (JWT, JWKS cache, JWS verification), `fetch` (the rules of the one
//! outbound request), `sigv4/` (presigning), `config`, `object_key` (the key rules), `error`
//! (the HTTP error vocabulary, on top of everything else).

mod api;
mod audit;
pub mod auth;
mod clock;
pub mod config;
mod content_type;
mod cors;
mod error;
mod exchange;
mod fetch;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
mod http;
pub mod log;
pub mod object_key;
mod object_read;
pub mod operation;
mod part_plan;
mod platform;
mod presign;
mod routes;
mod secret;
mod service;
pub mod sigv4;
mod step;

pub use audit::Audit;
pub use auth::{Alg, AuthFailure, PublicKey, SignatureCheck};
pub use clock::UnixTime;
pub use config::{Config, ConfigError};
pub use error::ApiError;
pub use exchange::{Exchange, ADMIT_WHEN_THE_LIMITER_FAILS};
pub use fetch::{FetchError, FetchRequest, Hop, Redirects};
pub use http::{Request, Response, MAX_BODY_BYTES};
pub use object_read::{BodyRead, ObjectAnswer, ObjectMeta, ObjectRead};
pub use platform::{Capabilities, ObjectStore, Platform};
pub use secret::Secret;
pub use service::Service;
pub use step::{Reply, Step};
