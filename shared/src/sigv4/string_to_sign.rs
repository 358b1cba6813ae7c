//! Task 2 of SigV4: the string to sign.
//!
//! ```text
//! AWS4-HMAC-SHA256 \n X-Amz-Date \n CredentialScope \n hex(SHA-256(CanonicalRequest))
//! ```

use super::encoding::HexBuf;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Builds the string to sign into `out` (cleared first), so a caller can reuse the buffer.
pub fn string_to_sign(out: &mut String, amz_date: &str, scope: &str, canonical_request_hash: &[u8; 32]) {
    out.clear();
    out.push_str(ALGORITHM);
    out.push('\n');
    out.push_str(amz_date);
    out.push('\n');
    out.push_str(scope);
    out.push('\n');
    out.push_str(HexBuf::new(canonical_request_hash).as_str());
}
