//! JWS signature verification: HS256 in Rust everywhere; RSA, ECDSA and Ed25519 in Rust (ring) with
//! the `native-crypto` feature (the Lambda), or by the adapter through a [`SignatureCheck`] (the
//! Worker hands it to WebCrypto, so its wasm carries no bignum or curve code).
//!
//! Either way the core decides which key may verify which token and checks the claims; only the
//! arithmetic moves.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{KeyInit, Mac};

use crate::auth::jwt::Alg;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// An `AUTH_JWT_SECRET`, with the HMAC key schedule done once.
#[derive(Clone)]
pub struct Hs256Key(HmacSha256);

impl Hs256Key {
    pub fn new(secret: &[u8]) -> Hs256Key {
        Hs256Key(HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length"))
    }

    /// Constant-time check of an HS256 tag over `signing_input`.
    pub fn verify(&self, signing_input: &[u8], tag: &[u8]) -> bool {
        #[cfg(test)]
        super::counters::count(&super::counters::VERIFICATIONS);
        let mut mac = self.0.clone();
        mac.update(signing_input);
        mac.verify_slice(tag).is_ok()
    }
}

/// RSA moduli shorter than this are refused (RFC 7518 section 3.3), longer ones too (cost).
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

/// A public key from the JWKS, as components. The shapes are checked when the set is read, so
/// a key that is here has the right lengths for its curve or a modulus of 2048 to 4096 bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// Big-endian modulus and exponent, without leading zero bytes.
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// Affine coordinates, 32 bytes each.
    P256 {
        x: Vec<u8>,
        y: Vec<u8>,
    },
    /// Affine coordinates, 48 bytes each.
    P384 {
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Ed25519([u8; 32]),
}

fn strip_zeros(bytes: Vec<u8>) -> Vec<u8> {
    match bytes.iter().position(|&b| b != 0) {
        Some(0) => bytes,
        Some(i) => bytes[i..].to_vec(),
        None => Vec::new(),
    }
}

impl PublicKey {
    pub(crate) fn rsa(n: Vec<u8>, e: Vec<u8>) -> Option<PublicKey> {
        let (n, e) = (strip_zeros(n), strip_zeros(e));
        let bits = n.first().map_or(0, |b| n.len() * 8 - b.leading_zeros() as usize);
        (RSA_BITS.contains(&bits) && !e.is_empty() && e.len() <= 8).then_some(PublicKey::Rsa { n, e })
    }

    pub(crate) fn ec(curve: &str, x: Vec<u8>, y: Vec<u8>) -> Option<PublicKey> {
        match (curve, x.len(), y.len()) {
            ("P-256", 32, 32) => Some(PublicKey::P256 { x, y }),
            ("P-384", 48, 48) => Some(PublicKey::P384 { x, y }),
            _ => None,
        }
    }

    pub(crate) fn ed25519(x: &[u8]) -> Option<PublicKey> {
        Some(PublicKey::Ed25519(x.try_into().ok()?))
    }

    /// Can this key verify a token signed with `alg`?
    pub fn fits(&self, alg: Alg) -> bool {
        matches!(
            (self, alg),
            (PublicKey::Rsa { .. }, Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256)
                | (PublicKey::P256 { .. }, Alg::ES256)
                | (PublicKey::P384 { .. }, Alg::ES384)
                | (PublicKey::Ed25519(_), Alg::EdDSA)
        )
    }

    /// The key as a public JWK (RFC 7517), e.g. for WebCrypto's `importKey("jwk", ...)`.
    pub fn to_jwk(&self) -> String {
        let b = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        match self {
            PublicKey::Rsa { n, e } => format!(r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#, b(n), b(e)),
            PublicKey::P256 { x, y } => format!(r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#, b(x), b(y)),
            PublicKey::P384 { x, y } => format!(r#"{{"kty":"EC","crv":"P-384","x":"{}","y":"{}"}}"#, b(x), b(y)),
            PublicKey::Ed25519(x) => format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, b(x)),
        }
    }
}

/// One signature for the adapter to verify: `signature` over `signing_input` with `key` and
/// `alg`. ECDSA signatures are `r || s` (JWS form, which is also WebCrypto's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    pub alg: Alg,
    pub key: PublicKey,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

/// The adapter's answer to a [`SignatureCheck`]; the core uses it only for that same check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub check: SignatureCheck,
    pub valid: bool,
}

/// The same verification in Rust, with `ring`: the Lambda links it anyway for the JWKS fetch's
/// TLS, so RSA, ECDSA and Ed25519 cost no extra code there (and ring's are the fastest).
#[cfg(feature = "native-crypto")]
mod native {
    use ring::signature::{self as sig, RsaPublicKeyComponents, UnparsedPublicKey, VerificationAlgorithm};

    use super::PublicKey;
    use crate::auth::jwt::Alg;

    fn ec(alg: &'static dyn VerificationAlgorithm, x: &[u8], y: &[u8], input: &[u8], signature: &[u8]) -> bool {
        let mut point = [0u8; 97];
        if x.len() + y.len() > 96 {
            return false; // not a P-256 or P-384 point (the public fields let anyone build one)
        }
        point[0] = 4;
        point[1..1 + x.len()].copy_from_slice(x);
        point[1 + x.len()..1 + x.len() + y.len()].copy_from_slice(y);
        UnparsedPublicKey::new(alg, &point[..1 + x.len() + y.len()]).verify(input, signature).is_ok()
    }

    impl PublicKey {
        /// Whether `signature` over `input` verifies with this key under `alg` (false for a
        /// key that does not fit the algorithm, or is not a valid key at all).
        pub(crate) fn verify(&self, alg: Alg, input: &[u8], signature: &[u8]) -> bool {
            #[cfg(test)]
            crate::auth::counters::count(&crate::auth::counters::VERIFICATIONS);
            let rsa = |n: &[u8], e: &[u8], params| RsaPublicKeyComponents { n, e }.verify(params, input, signature).is_ok();
            match (self, alg) {
                (PublicKey::Rsa { n, e }, Alg::RS256) => rsa(n, e, &sig::RSA_PKCS1_2048_8192_SHA256),
                (PublicKey::Rsa { n, e }, Alg::RS384) => rsa(n, e, &sig::RSA_PKCS1_2048_8192_SHA384),
                (PublicKey::Rsa { n, e }, Alg::RS512) => rsa(n, e, &sig::RSA_PKCS1_2048_8192_SHA512),
                (PublicKey::Rsa { n, e }, Alg::PS256) => rsa(n, e, &sig::RSA_PSS_2048_8192_SHA256),
                (PublicKey::P256 { x, y }, Alg::ES256) => ec(&sig::ECDSA_P256_SHA256_FIXED, x, y, input, signature),
                (PublicKey::P384 { x, y }, Alg::ES384) => ec(&sig::ECDSA_P384_SHA384_FIXED, x, y, input, signature),
                (PublicKey::Ed25519(x), Alg::EdDSA) => UnparsedPublicKey::new(&sig::ED25519, x).verify(input, signature).is_ok(),
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests;
