//! The one kind of outbound HTTP request the core asks a platform for (the JWKS), and the rules
//! the platform must follow while performing it.
//!
//! The core does no I/O, but it decides everything about the I/O it asks for: which URL, how
//! long the whole exchange may take, how many body bytes may be read, and which redirects may be
//! followed. A platform performs the GET with redirects off (`redirect: "manual"` on Workers)
//! and hands each answer's status and `Location` to [`Redirects::next`], which says whether to
//! read the body, follow, or give up. So the Lambda and the Worker cannot disagree on a redirect
//! to plain HTTP, on a fourth redirect or on an oversized body.

use std::fmt;
use std::time::Duration;

/// A GET the core needs, with the limits that apply to it. Built by the core only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    /// Where to start: the configured URL (already checked by the configuration).
    pub url: String,
    /// The whole exchange (connection, redirects, body) must finish within this.
    pub timeout: Duration,
    /// Read at most this many body bytes; a body that is longer is a failure, and the platform
    /// must stop reading at this many (never buffer the rest).
    pub max_bytes: usize,
    /// How many redirects may be followed before giving up.
    pub max_redirects: u8,
    /// Whether a redirect may only lead to an `https://` URL (never to plain HTTP, even to a
    /// loopback host that the configured URL itself may name).
    pub https_only_redirects: bool,
}

/// Why a fetch gave no usable body. Messages are for the operator's log: they never hold the
/// URL (an identity provider URL may carry a tenant id or a token in its query).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchError {
    /// The URL (or a redirect target) could not be turned into a request.
    BadUrl,
    /// Connecting, TLS, or reading failed.
    Connection,
    /// The whole exchange took longer than [`FetchRequest::timeout`].
    Timeout,
    /// An answer that is neither 200 nor a redirect we follow.
    Status(u16),
    /// A redirect without a usable `Location`.
    MissingLocation,
    /// A redirect to a URL that is not `https://` while only `https://` may be followed.
    InsecureRedirect,
    /// More redirects than [`FetchRequest::max_redirects`].
    TooManyRedirects,
    /// The body is (or declares itself) longer than [`FetchRequest::max_bytes`].
    TooLarge,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::BadUrl => f.write_str("the URL cannot be requested"),
            FetchError::Connection => f.write_str("connection or TLS error"),
            FetchError::Timeout => f.write_str("timed out"),
            FetchError::Status(s) => write!(f, "answered HTTP {s}"),
            FetchError::MissingLocation => f.write_str("redirect without a usable Location"),
            FetchError::InsecureRedirect => f.write_str("redirect to a URL that is not https:// refused"),
            FetchError::TooManyRedirects => f.write_str("too many redirects"),
            FetchError::TooLarge => f.write_str("body larger than the limit"),
        }
    }
}

impl std::error::Error for FetchError {}

/// What to do with one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hop {
    /// Read the body (at most [`FetchRequest::max_bytes`]).
    ReadBody,
    /// Send the GET again, to this URL.
    Follow(String),
}

/// The redirect walk of one fetch: feed it every answer, in order.
#[derive(Debug)]
pub struct Redirects<'a> {
    request: &'a FetchRequest,
    followed: u8,
}

impl FetchRequest {
    /// Starts the walk; the first GET goes to [`FetchRequest::url`].
    pub fn redirects(&self) -> Redirects<'_> {
        Redirects { request: self, followed: 0 }
    }

    /// Checks a `Content-Length` the answer declares, before reading anything.
    pub fn check_declared_length(&self, content_length: Option<u64>) -> Result<(), FetchError> {
        match content_length {
            Some(n) if n > self.max_bytes as u64 => Err(FetchError::TooLarge),
            _ => Ok(()),
        }
    }

    /// Checks the body read so far: call it after every chunk, and stop reading on an error.
    pub fn check_body_so_far(&self, bytes_read: usize) -> Result<(), FetchError> {
        if bytes_read > self.max_bytes {
            Err(FetchError::TooLarge)
        } else {
            Ok(())
        }
    }
}

impl Redirects<'_> {
    /// The answer to a GET of `url` came with `status` and `location`: read it, follow it, or
    /// fail. Redirects are 301, 302, 303, 307 and 308 (RFC 9110 section 15.4); any other status
    /// but 200 is a failure.
    pub fn next(&mut self, url: &str, status: u16, location: Option<&str>) -> Result<Hop, FetchError> {
        match status {
            200 => Ok(Hop::ReadBody),
            301 | 302 | 303 | 307 | 308 => {
                if self.followed >= self.request.max_redirects {
                    return Err(FetchError::TooManyRedirects);
                }
                let target = resolve(url, location.ok_or(FetchError::MissingLocation)?).ok_or(FetchError::MissingLocation)?;
                if self.request.https_only_redirects && !target.starts_with("https://") {
                    return Err(FetchError::InsecureRedirect);
                }
                self.followed += 1;
                Ok(Hop::Follow(target))
            }
            other => Err(FetchError::Status(other)),
        }
    }
}

/// `scheme://authority` of an absolute `http(s)` URL.
fn origin(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")?;
    let scheme = &url[..scheme_end];
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return None;
    }
    let rest = &url[scheme_end + 3..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (authority_len > 0).then(|| &url[..scheme_end + 3 + authority_len])
}

/// Resolves a `Location` against the URL that sent it (RFC 3986 section 5.2, for the forms
/// servers send: absolute, scheme-relative, absolute-path and path-relative). `None` for
/// anything else, or for a value with spaces, controls or user info (`user@host`).
fn resolve(base: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if location.is_empty() || location.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\') {
        return None;
    }
    let resolved = if location.contains("://") {
        location.to_owned()
    } else if let Some(rest) = location.strip_prefix("//") {
        let scheme = &base[..base.find("://")?];
        format!("{scheme}://{rest}")
    } else if location.starts_with('/') {
        format!("{}{location}", origin(base)?)
    } else {
        let without_query = base.split(['?', '#']).next()?;
        let origin = origin(without_query)?;
        let path = &without_query[origin.len()..];
        let dir = path.rfind('/').map_or("/", |i| &path[..=i]);
        format!("{origin}{dir}{location}")
    };
    let origin = origin(&resolved)?;
    let authority = &origin[origin.find("://")? + 3..];
    (!authority.contains('@')).then_some(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwks_like() -> FetchRequest {
        FetchRequest {
            url: "http://127.0.0.1:8000/jwks.json".into(),
            timeout: Duration::from_secs(3),
            max_bytes: 100,
            max_redirects: 3,
            https_only_redirects: true,
        }
    }

    #[test]
    fn a_200_is_read_and_other_statuses_fail() {
        let req = jwks_like();
        let mut walk = req.redirects();
        assert_eq!(walk.next(&req.url, 200, None), Ok(Hop::ReadBody));
        assert_eq!(walk.next(&req.url, 404, None), Err(FetchError::Status(404)));
        assert_eq!(walk.next(&req.url, 304, Some("https://a.test/")), Err(FetchError::Status(304)));
        assert_eq!(walk.next(&req.url, 500, None), Err(FetchError::Status(500)));
    }

    #[test]
    fn redirects_follow_only_to_https_and_at_most_three_times() {
        let req = jwks_like();
        let mut walk = req.redirects();
        // Plain HTTP is refused, even to the loopback host the configured URL names.
        assert_eq!(walk.next(&req.url, 302, Some("http://127.0.0.1:8000/other.json")), Err(FetchError::InsecureRedirect));
        // A relative Location from an http:// URL stays http://: refused as well.
        assert_eq!(walk.next(&req.url, 302, Some("/other.json")), Err(FetchError::InsecureRedirect));
        let mut url = req.url.clone();
        for (i, status) in [301, 307, 308].into_iter().enumerate() {
            let Ok(Hop::Follow(next)) = walk.next(&url, status, Some(&format!("https://idp.test/hop/{i}"))) else { panic!("hop {i}") };
            url = next;
        }
        assert_eq!(url, "https://idp.test/hop/2");
        assert_eq!(walk.next(&url, 302, Some("https://idp.test/hop/3")), Err(FetchError::TooManyRedirects));
        assert_eq!(walk.next(&url, 200, None), Ok(Hop::ReadBody));
    }

    #[test]
    fn a_redirect_needs_a_usable_location() {
        let req = jwks_like();
        let mut walk = req.redirects();
        assert_eq!(walk.next(&req.url, 302, None), Err(FetchError::MissingLocation));
        assert_eq!(walk.next(&req.url, 302, Some("")), Err(FetchError::MissingLocation));
        assert_eq!(walk.next(&req.url, 302, Some("https://a b/")), Err(FetchError::MissingLocation));
        assert_eq!(walk.next(&req.url, 302, Some("https://user@evil.test/")), Err(FetchError::MissingLocation));
        assert_eq!(walk.next(&req.url, 302, Some("ftp://a.test/")), Err(FetchError::MissingLocation));
        assert_eq!(walk.next(&req.url, 302, Some("https:///path")), Err(FetchError::MissingLocation));
    }

    #[test]
    fn relative_locations_resolve_against_the_current_url() {
        let r = |base, loc| resolve(base, loc);
        assert_eq!(r("https://a.test/x/y.json?q=1", "/k.json").as_deref(), Some("https://a.test/k.json"));
        assert_eq!(r("https://a.test/x/y.json?q=1", "k.json").as_deref(), Some("https://a.test/x/k.json"));
        assert_eq!(r("https://a.test", "k.json").as_deref(), Some("https://a.test/k.json"));
        assert_eq!(r("https://a.test/x", "//b.test/k").as_deref(), Some("https://b.test/k"));
        assert_eq!(r("https://a.test:8443/x", "/k").as_deref(), Some("https://a.test:8443/k"));
        assert_eq!(r("https://a.test/x", "HTTPS://b.test/k").as_deref(), Some("HTTPS://b.test/k"));
    }

    #[test]
    fn https_only_compares_the_resolved_scheme_exactly() {
        // An upper-case scheme is still https, but the walk only accepts the form that every
        // client parses the same way: the lower-case one.
        let req = jwks_like();
        assert_eq!(req.redirects().next(&req.url, 302, Some("HTTPS://b.test/k")), Err(FetchError::InsecureRedirect));
    }

    #[test]
    fn body_limits() {
        let req = jwks_like();
        assert_eq!(req.check_declared_length(None), Ok(()));
        assert_eq!(req.check_declared_length(Some(100)), Ok(()));
        assert_eq!(req.check_declared_length(Some(101)), Err(FetchError::TooLarge));
        assert_eq!(req.check_body_so_far(100), Ok(()));
        assert_eq!(req.check_body_so_far(101), Err(FetchError::TooLarge));
    }
}
