//! The two encodings SigV4 needs: URI encoding (RFC 3986 unreserved characters stay, every
//! other byte becomes `%XX` in upper case) and lowercase hex of a 32-byte digest.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// Query names and values: everything but `A-Z a-z 0-9 - _ . ~` is encoded.
pub const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Object key paths: as [`QUERY`], but `/` separates segments and stays (S3 does not
/// double-encode the path, unlike other AWS services).
pub const PATH: &AsciiSet = &QUERY.remove(b'/');

/// Lowercase hex of a SHA-256 digest, on the stack.
pub struct HexBuf([u8; 64]);

impl HexBuf {
    pub fn new(bytes: &[u8; 32]) -> Self {
        let mut out = [0u8; 64];
        // Cannot fail: the output is exactly twice the input.
        let _ = hex::encode_to_slice(bytes, &mut out);
        HexBuf(out)
    }

    pub fn as_str(&self) -> &str {
        // Hex digits are ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::utf8_percent_encode;

    #[test]
    fn path_keeps_slash_and_unreserved() {
        let s = utf8_percent_encode("a/b c+d~e_f-g.h*é", PATH).to_string();
        assert_eq!(s, "a/b%20c%2Bd~e_f-g.h%2A%C3%A9");
    }

    #[test]
    fn query_encodes_slash() {
        assert_eq!(utf8_percent_encode("a/b=c;d", QUERY).to_string(), "a%2Fb%3Dc%3Bd");
    }
}
