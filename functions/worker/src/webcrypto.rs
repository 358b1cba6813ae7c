//! The signature checks the core hands over (it is built without `native-crypto` here),
//! verified with the Workers runtime's WebCrypto: BoringSSL in workerd instead of RSA, ECDSA and
//! Ed25519 arithmetic compiled into our wasm. The core has already chosen the key and will check
//! the claims; this only answers "does this signature verify".

use js_sys::{Promise, JSON};
use presign_core::{Alg, SignatureCheck};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
    fn import_key(format: &str, key: &JsValue, algorithm: &JsValue, extractable: bool, usages: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = verify, catch)]
    fn subtle_verify(algorithm: &JsValue, key: &JsValue, signature: &[u8], data: &[u8]) -> Result<Promise, JsValue>;
}

/// WebCrypto's parameters for a JWS algorithm: (importKey, verify). RFC 7518 fixes PS256's salt
/// at the hash length; ECDSA signatures are `r || s` in both JWS and WebCrypto.
fn params(alg: Alg) -> Option<(&'static str, &'static str)> {
    Some(match alg {
        Alg::RS256 => (r#"{"name":"RSASSA-PKCS1-v1_5","hash":"SHA-256"}"#, r#"{"name":"RSASSA-PKCS1-v1_5"}"#),
        Alg::RS384 => (r#"{"name":"RSASSA-PKCS1-v1_5","hash":"SHA-384"}"#, r#"{"name":"RSASSA-PKCS1-v1_5"}"#),
        Alg::RS512 => (r#"{"name":"RSASSA-PKCS1-v1_5","hash":"SHA-512"}"#, r#"{"name":"RSASSA-PKCS1-v1_5"}"#),
        Alg::PS256 => (r#"{"name":"RSA-PSS","hash":"SHA-256"}"#, r#"{"name":"RSA-PSS","saltLength":32}"#),
        Alg::ES256 => (r#"{"name":"ECDSA","namedCurve":"P-256"}"#, r#"{"name":"ECDSA","hash":"SHA-256"}"#),
        Alg::ES384 => (r#"{"name":"ECDSA","namedCurve":"P-384"}"#, r#"{"name":"ECDSA","hash":"SHA-384"}"#),
        Alg::EdDSA => (r#"{"name":"Ed25519"}"#, r#"{"name":"Ed25519"}"#),
        // HMAC is verified by the core itself.
        Alg::HS256 => return None,
    })
}

async fn try_verify(check: &SignatureCheck) -> Result<bool, JsValue> {
    let Some((import, verify)) = params(check.alg) else {
        return Ok(false);
    };
    let jwk = JSON::parse(&check.key.to_jwk())?;
    let usages = JSON::parse(r#"["verify"]"#)?;
    let key = JsFuture::from(import_key("jwk", &jwk, &JSON::parse(import)?, false, &usages)?).await?;
    let valid = JsFuture::from(subtle_verify(&JSON::parse(verify)?, &key, &check.signature, check.signing_input.as_bytes())?).await?;
    Ok(valid.as_bool() == Some(true))
}

/// Whether the signature verifies. A key WebCrypto refuses to import (e.g. a point off the
/// curve) does not verify anything; that is logged, since it points at the identity provider.
pub async fn verify(check: &SignatureCheck) -> bool {
    try_verify(check).await.unwrap_or_else(|e| {
        let reason = e.as_string().or_else(|| js_sys::Reflect::get(&e, &"message".into()).ok()?.as_string()).unwrap_or_default();
        worker::console_warn!("{}", serde_json::json!({"level": "warn", "message": format!("WebCrypto refused a {} key: {reason}", check.alg.name())}));
        false
    })
}
