//! Task 1 of SigV4: the canonical request, hashed.
//!
//! ```text
//! HTTPMethod \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//! ```
//! The presigner never needs the canonical request as text, only its SHA-256, so it is fed to
//! the hasher piece by piece without building a string.

use sha2::{Digest, Sha256};

/// The payload hash of a presigned URL: the body is not known when the URL is made.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// One header as signed: lowercase name and value (canonicalised by [`canonical_words`]).
#[derive(Debug, Clone, Copy)]
pub struct SignedHeader<'a> {
    pub name: &'a str,
    pub value: &'a str,
}

/// SHA-256 of the canonical request. `headers` must be sorted by name and hold lowercase names.
pub fn canonical_request_hash(method: &str, canonical_uri: &str, canonical_query: &str, headers: &[SignedHeader<'_>], payload_hash: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b"\n");
    h.update(canonical_uri.as_bytes());
    h.update(b"\n");
    h.update(canonical_query.as_bytes());
    h.update(b"\n");
    for header in headers {
        h.update(header.name.as_bytes());
        h.update(b":");
        feed_canonical_value(&mut h, header.value);
        h.update(b"\n");
    }
    h.update(b"\n");
    for (i, header) in headers.iter().enumerate() {
        if i > 0 {
            h.update(b";");
        }
        h.update(header.name.as_bytes());
    }
    h.update(b"\n");
    h.update(payload_hash.as_bytes());
    h.finalize().into()
}

/// The words of a header value's canonical form, to be joined by single spaces: leading and
/// trailing spaces trimmed and every run of spaces inside collapsed to one, as the SigV4 spec
/// (and every AWS SDK) does.
pub fn canonical_words(value: &str) -> impl Iterator<Item = &str> {
    value.split(' ').filter(|w| !w.is_empty())
}

/// Feeds a header value in canonical form (see [`canonical_words`]).
fn feed_canonical_value(h: &mut Sha256, value: &str) {
    for (i, word) in canonical_words(value).enumerate() {
        if i > 0 {
            h.update(b" ");
        }
        h.update(word.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        let canonical = |v| canonical_words(v).collect::<Vec<_>>().join(" ");
        assert_eq!(canonical("  video/mp4;   codecs=avc1 "), "video/mp4; codecs=avc1");
        assert_eq!(canonical("a"), "a");
    }

    #[test]
    fn streamed_hash_equals_hash_of_the_text() {
        let text = "PUT\n/k%20ey\nA=1&B=2\ncontent-type:a/b c\nhost:h\n\ncontent-type;host\nUNSIGNED-PAYLOAD";
        let headers = [SignedHeader { name: "content-type", value: " a/b   c " }, SignedHeader { name: "host", value: "h" }];
        let got = canonical_request_hash("PUT", "/k%20ey", "A=1&B=2", &headers, UNSIGNED_PAYLOAD);
        let want: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        assert_eq!(got, want);
    }
}
