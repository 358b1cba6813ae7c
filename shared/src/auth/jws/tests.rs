use super::*;

#[test]
fn hs256_matches_rfc_4231_and_refuses_other_tags() {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    let tag = hex::decode("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843").unwrap();
    let key = Hs256Key::new(b"Jefe");
    assert!(key.verify(b"what do ya want for nothing?", &tag));
    assert!(!key.verify(b"what do ya want for nothing!", &tag));
    assert!(!key.verify(b"what do ya want for nothing?", &tag[..31]), "a truncated tag is refused");
    assert!(!key.verify(b"what do ya want for nothing?", &[]));
}

#[test]
fn key_shapes_are_checked() {
    let n2048 = [&[0u8, 0][..], &[0x80], &[7u8; 255]].concat();
    let k = PublicKey::rsa(n2048, vec![1, 0, 1]).unwrap();
    assert!(matches!(&k, PublicKey::Rsa { n, .. } if n.len() == 256 && n[0] == 0x80), "leading zeros are stripped");
    assert_eq!(PublicKey::rsa([&[0x7f][..], &[7u8; 255]].concat(), vec![3]), None, "2047 bits");
    assert_eq!(PublicKey::rsa(vec![7u8; 128], vec![3]), None, "1024 bits");
    assert_eq!(PublicKey::rsa(vec![7u8; 513], vec![3]), None, "4104 bits");
    assert_eq!(PublicKey::rsa(vec![7u8; 256], vec![0]), None, "no exponent");
    assert_eq!(PublicKey::rsa(vec![0u8; 256], vec![3]), None, "a zero modulus");
    assert_eq!(PublicKey::rsa(Vec::new(), vec![3]), None, "no modulus");
    assert!(PublicKey::ec("P-256", vec![1; 32], vec![2; 32]).is_some());
    assert_eq!(PublicKey::ec("P-256", vec![1; 31], vec![2; 32]), None);
    assert_eq!(PublicKey::ec("P-384", vec![1; 32], vec![2; 32]), None);
    assert_eq!(PublicKey::ec("secp256k1", vec![1; 32], vec![2; 32]), None);
    assert!(PublicKey::ed25519(&[9; 32]).is_some());
    assert_eq!(PublicKey::ed25519(&[9; 31]), None);
}

#[test]
fn keys_fit_only_their_algorithms() {
    let rsa = PublicKey::rsa(vec![0xc1; 256], vec![1, 0, 1]).unwrap();
    let p256 = PublicKey::ec("P-256", vec![1; 32], vec![2; 32]).unwrap();
    let ed = PublicKey::ed25519(&[9; 32]).unwrap();
    assert!([Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256].iter().all(|&a| rsa.fits(a)));
    assert!(!rsa.fits(Alg::ES256) && !rsa.fits(Alg::HS256));
    assert!(p256.fits(Alg::ES256) && !p256.fits(Alg::ES384) && !p256.fits(Alg::EdDSA));
    assert!(ed.fits(Alg::EdDSA) && !ed.fits(Alg::ES256));
}

#[test]
fn to_jwk_is_read_back_as_the_same_key() {
    let keys = [
        PublicKey::rsa(vec![0xc1; 256], vec![1, 0, 1]).unwrap(),
        PublicKey::ec("P-256", vec![1; 32], vec![2; 32]).unwrap(),
        PublicKey::ec("P-384", vec![3; 48], vec![4; 48]).unwrap(),
        PublicKey::ed25519(&[9; 32]).unwrap(),
    ];
    for key in keys {
        let jwk: serde_json::Value = serde_json::from_str(&key.to_jwk()).unwrap();
        let get = |f: &str| URL_SAFE_NO_PAD.decode(jwk[f].as_str().unwrap()).unwrap();
        let back = match jwk["kty"].as_str().unwrap() {
            "RSA" => PublicKey::rsa(get("n"), get("e")),
            "EC" => PublicKey::ec(jwk["crv"].as_str().unwrap(), get("x"), get("y")),
            _ => PublicKey::ed25519(&get("x")),
        };
        assert_eq!(back, Some(key));
    }
}

#[cfg(feature = "native-crypto")]
#[test]
fn oversized_points_built_by_hand_do_not_verify() {
    let big = PublicKey::P384 { x: vec![1; 64], y: vec![2; 64] };
    assert!(!big.verify(Alg::ES384, b"input", &[0; 96]));
    let wrong_alg = PublicKey::ed25519(&[9; 32]).unwrap();
    assert!(!wrong_alg.verify(Alg::ES256, b"input", &[0; 64]));
}
