//! Task 2 of SigV4: the string to sign.
//!
//! ```text
//! AWS4-HMAC-SHA256 \n X-Amz-Date \n CredentialScope \n hex(SHA-256(CanonicalRequest))
//! ```
//! Returned as its pieces, so the signer can feed them to the HMAC without building a string.

use super::encoding::HexBuf;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The string to sign, in order, as pieces to concatenate (or to feed to a MAC one by one).
pub fn string_to_sign<'a>(amz_date: &'a str, scope: &'a str, canonical_request_hash: &'a HexBuf) -> [&'a str; 7] {
    [ALGORITHM, "\n", amz_date, "\n", scope, "\n", canonical_request_hash.as_str()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn aws_documented_string_to_sign() {
        // From the AWS GET presign example (hash of its canonical request).
        let hash_hex = "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04";
        let mut hash = [0u8; 32];
        hex::decode_to_slice(hash_hex, &mut hash).unwrap();
        let hash = super::HexBuf::new(&hash);
        let s = super::string_to_sign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request", &hash).concat();
        assert_eq!(s, format!("AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n{hash_hex}"));
    }
}
