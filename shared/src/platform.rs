//! What a platform (the Lambda, the Worker) offers the core: the clock and the I/O the core
//! asks for, each under the core's rules. Everything else an adapter does is translation.

use std::future::Future;

use crate::auth::SignatureCheck;
use crate::clock::UnixTime;
use crate::fetch::{FetchError, FetchRequest};

/// Whether the platform has an object store to serve `SERVE_OBJECTS` reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectStore {
    /// No store (the Lambda): object paths are 404 whatever `SERVE_OBJECTS` says.
    Absent,
    /// A store binding (the Worker's R2 `BUCKET`).
    Present,
}

/// What the platform can do beyond the clock, as the core needs to know it when it answers a
/// request: read from an object store, and admit callers through a rate limiter. Declared by
/// the platform alone ([`Capabilities::of`]), never configured a second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Whether [`crate::Reply::ReadObject`] can be performed.
    pub objects: ObjectStore,
    /// Whether every authenticated presign request is first admitted ([`crate::Step::Admit`]).
    pub rate_limiter: bool,
}

impl Capabilities {
    /// The capabilities of `platform`.
    pub fn of<P: Platform>(platform: &P) -> Capabilities {
        Capabilities { objects: P::OBJECT_STORE, rate_limiter: platform.has_rate_limiter() }
    }
}

/// What a platform does for the core.
pub trait Platform {
    /// Whether [`crate::Reply::ReadObject`] can be performed here.
    const OBJECT_STORE: ObjectStore;

    /// Seconds since the epoch, now.
    fn now(&self) -> UnixTime;

    /// Performs `request` exactly under its rules (timeout, byte cap, redirects walked with
    /// [`FetchRequest::redirects`]) and returns the body of the final 200.
    fn fetch(&self, request: &FetchRequest) -> impl Future<Output = Result<Vec<u8>, FetchError>>;

    /// Whether the signature of `check` verifies. Only asked of a platform whose core is built
    /// without `native-crypto`; fails closed (`false`) unless the platform verifies.
    fn verify(&self, check: &SignatureCheck) -> impl Future<Output = bool> {
        let _ = check;
        std::future::ready(false)
    }

    /// Whether the platform has a per-caller rate limiter (then [`Platform::admit`] is asked
    /// about every authenticated presign request). None by default.
    fn has_rate_limiter(&self) -> bool {
        false
    }

    /// Whether the caller `key` may go on now, from the platform's rate limiter: `Some(true)`
    /// or `Some(false)`, or `None` when the limiter itself failed (what then happens is the
    /// core's decision, [`crate::Exchange::admitted`]). Allows all by default (a platform
    /// without a limiter is never asked).
    fn admit(&self, key: &str) -> impl Future<Output = Option<bool>> {
        let _ = key;
        std::future::ready(Some(true))
    }
}
