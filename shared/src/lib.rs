//! `presign-core`: the whole presign service as pure logic.
//!
//! A request (method, path, a few headers, body bytes), the current time and the configuration
//! go in; a response (status, headers, JSON body) comes out. No I/O, no clock, no environment
//! reads: the Lambda and Worker adapters pass those in, so both deployments behave identically
//! and everything here builds for `wasm32-unknown-unknown`.

pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod content_type;
pub mod cors;
pub mod error;
pub mod handler;
pub mod jwks;
pub mod jwt;
pub mod key;
pub mod log;
pub mod object;
pub mod secret;
pub mod signature;
pub mod sigv4;

pub use clock::UnixTime;
pub use config::{Config, ConfigError};
pub use handler::{Answer, ObjectRead, Outcome, Request, Response, Service};
pub use secret::Secret;
