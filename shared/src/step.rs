//! The vocabulary of answering a request one step at a time ([`crate::Exchange::step`]): the
//! final [`Reply`], or the one piece of I/O the core needs first.

use crate::auth::SignatureCheck;
use crate::fetch::FetchRequest;
use crate::http::Response;
use crate::object_read::ObjectRead;

/// The final answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Send this response.
    Response(Response),
    /// Look the object up in the platform's store and send what [`ObjectRead::answer`] says.
    /// Only on a platform whose [`crate::Platform::OBJECT_STORE`] is
    /// [`crate::ObjectStore::Present`].
    ReadObject(ObjectRead),
}

/// What [`crate::Exchange::step`] needs: nothing more (the reply), or one piece of I/O whose
/// result goes back to the exchange before it steps again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The answer.
    Done(Reply),
    /// Fetch this, then hand the result to [`crate::Exchange::fetched`].
    Fetch(FetchRequest),
    /// Verify this signature, then hand the result to [`crate::Exchange::verified`].
    Verify(SignatureCheck),
    /// Ask the rate limiter about this caller key, then hand the result to
    /// [`crate::Exchange::admitted`].
    Admit(String),
}
