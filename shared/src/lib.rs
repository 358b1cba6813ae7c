//! `presign-core`: the whole presign service as pure logic.
//!
//! A request (method, path, a few headers, body bytes), the current time and the configuration
//! go in; a response (status, headers, JSON body) comes out. No I/O, no clock, no environment
//! reads: the Lambda and Worker adapters pass those in, so both deployments behave identically
//! and everything here builds for `wasm32-unknown-unknown`.

pub mod clock;
pub mod secret;
pub mod sigv4;

pub use clock::UnixTime;
pub use secret::Secret;
