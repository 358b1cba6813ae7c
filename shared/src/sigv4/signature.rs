//! Task 3 of SigV4, second half: the signature is `hex(HMAC(kSigning, StringToSign))`.

use super::encoding::HexBuf;
use super::signing_key::hmac_sha256;

pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> HexBuf {
    HexBuf::new(&hmac_sha256(signing_key, string_to_sign.as_bytes()))
}
