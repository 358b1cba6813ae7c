//! Task 3 of SigV4, second half: the signature is `hex(HMAC(kSigning, StringToSign))`.
//!
//! The HMAC keyed with the day's signing key is prepared once per day (its inner and outer
//! pads hashed); each signature clones it and feeds the string to sign.

use hmac::Mac;

use super::encoding::HexBuf;
use super::signing_key::HmacSha256;

/// An HMAC-SHA256 already keyed with a signing key.
pub fn keyed(signing_key: &[u8; 32]) -> HmacSha256 {
    <HmacSha256 as hmac::KeyInit>::new_from_slice(signing_key).expect("HMAC accepts 32-byte keys")
}

/// The signature of a string to sign given as pieces (see [`super::string_to_sign`]).
pub fn signature(keyed: &HmacSha256, string_to_sign: &[&str]) -> HexBuf {
    let mut mac = keyed.clone();
    for piece in string_to_sign {
        mac.update(piece.as_bytes());
    }
    HexBuf::new(&mac.finalize().into_bytes().into())
}
