use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;

use super::*;

fn enc(v: &str) -> String {
    URL_SAFE_NO_PAD.encode(v)
}

fn token(header: &str, payload: &str) -> String {
    format!("{}.{}.c2ln", enc(header), enc(payload))
}

fn claims_of(payload: &str, prefix: Option<&str>) -> Result<Claims, AuthFailure> {
    let t = token(r#"{"alg":"HS256"}"#, payload);
    Token::parse(&t)?.claims(prefix)
}

#[test]
fn splits_into_exactly_three_parts() {
    let t = token(r#"{"alg":"ES256","kid":"k1","typ":"JWT"}"#, "{}");
    let parsed = Token::parse(&t).unwrap();
    assert_eq!((parsed.alg, parsed.kid.as_deref(), parsed.signature.as_slice()), (Alg::ES256, Some("k1"), &b"sig"[..]));
    assert_eq!(parsed.signing_input, t.rsplit_once('.').unwrap().0);
    for bad in ["", "a", "a.b", &format!("{t}.x"), &format!("x.{t}"), "a..b", "!!.e30.c2ln"] {
        assert_eq!(Token::parse(bad).err(), Some(AuthFailure::Malformed), "{bad:?}");
    }
}

#[test]
fn header_rules() {
    let parse = |h: &str| Token::parse(&token(h, "{}")).map(|t| t.alg);
    assert_eq!(parse(r#"{"alg":"EdDSA","typ":"at+jwt"}"#), Ok(Alg::EdDSA));
    assert_eq!(parse(r#"{"alg":"RS256","crit":[]}"#), Ok(Alg::RS256));
    assert_eq!(parse(r#"{"alg":"RS256","crit":["exp"]}"#), Err(AuthFailure::Malformed), "unknown critical extensions are refused");
    assert_eq!(parse(r#"{"alg":"RS256","typ":"JOSE"}"#), Err(AuthFailure::Malformed));
    assert_eq!(parse(r#"{"alg":"none"}"#), Err(AuthFailure::AlgorithmNotAllowed));
    assert_eq!(parse(r#"{"alg":"HS512"}"#), Err(AuthFailure::AlgorithmNotAllowed));
    assert_eq!(parse(r#"{"typ":"JWT"}"#), Err(AuthFailure::Malformed));
    assert_eq!(parse("[1]"), Err(AuthFailure::Malformed));
}

#[test]
fn claims_are_read_strictly() {
    let c = claims_of(r#"{"exp":1800000060.9,"nbf":1,"iat":2,"iss":"i","aud":"a","sub":"x","p":["a/"]}"#, Some("p")).unwrap();
    assert_eq!(
        c,
        Claims {
            exp: Some(1_800_000_060),
            nbf: Some(1),
            iat: Some(2),
            iss: Some("i".into()),
            aud: Some(vec!["a".into()]),
            sub: Some("x".into()),
            prefix: Some(json!(["a/"]))
        }
    );
    // A `sub` that is not a string names nobody, and is no reason to refuse the token.
    assert_eq!(claims_of(r#"{"sub":5}"#, None).unwrap().sub, None);
    assert_eq!(claims_of(r#"{"aud":["a","b"]}"#, None).unwrap().aud, Some(vec!["a".into(), "b".into()]));
    assert_eq!(claims_of(r#"{"p":"x"}"#, None).unwrap().prefix, None, "only the configured claim is kept");
    for bad in [
        r#"{"exp":-1}"#,
        r#"{"exp":"1"}"#,
        r#"{"exp":1,"exp":2}"#,
        r#"{"aud":[1]}"#,
        r#"{"iss":5}"#,
        "[]",
        "{} x",
        r#"{"p":1,"p":2}"#,
        r#"{"sub":"a","sub":"b"}"#,
    ] {
        assert_eq!(claims_of(bad, Some("p")).err(), Some(AuthFailure::Malformed), "{bad}");
    }
}

#[test]
fn claim_rules_in_order_with_skew() {
    let issuers: HashSet<String> = ["i".to_owned()].into();
    let audiences: HashSet<String> = ["a".to_owned()].into();
    let rules = ClaimRules { issuers: Some(&issuers), audiences: Some(&audiences), clock_skew_seconds: 60, max_token_age_seconds: None };
    let now = UnixTime(1000);
    let ok = Claims { exp: Some(1000), iss: Some("i".into()), aud: Some(vec!["x".into(), "a".into()]), ..Claims::default() };
    assert_eq!(rules.check(&ok, now), Ok(()));
    let with = |f: fn(&mut Claims)| {
        let mut c = Claims { exp: Some(1000), iss: Some("i".into()), aud: Some(vec!["a".into()]), ..Claims::default() };
        f(&mut c);
        rules.check(&c, now)
    };
    assert_eq!(with(|c| c.exp = Some(939)), Err(AuthFailure::Expired));
    assert_eq!(with(|c| c.exp = Some(940)), Ok(()), "within the skew");
    assert_eq!(with(|c| c.nbf = Some(1061)), Err(AuthFailure::NotYetValid));
    assert_eq!(with(|c| c.nbf = Some(1060)), Ok(()));
    assert_eq!(with(|c| c.iat = Some(1061)), Err(AuthFailure::IssuedInFuture));
    assert_eq!(with(|c| c.iss = None), Err(AuthFailure::WrongIssuer));
    assert_eq!(with(|c| c.aud = Some(vec![])), Err(AuthFailure::WrongAudience));
    assert_eq!(with(|c| c.exp = None), Err(AuthFailure::NoExpiry));
    assert_eq!(with(|c| (c.exp, c.iss) = (None, Some("j".into()))), Err(AuthFailure::WrongIssuer), "claim errors before the missing exp");
    let open = ClaimRules { issuers: None, audiences: None, clock_skew_seconds: 0, max_token_age_seconds: None };
    assert_eq!(open.check(&Claims { exp: Some(1000), ..Claims::default() }, now), Ok(()));
    assert_eq!(open.check(&Claims { exp: Some(999), ..Claims::default() }, now), Err(AuthFailure::Expired));
}

#[test]
fn max_token_age_bounds_exp() {
    let rules = ClaimRules { issuers: None, audiences: None, clock_skew_seconds: 60, max_token_age_seconds: Some(3600) };
    let now = UnixTime(1000);
    let exp = |e| rules.check(&Claims { exp: Some(e), ..Claims::default() }, now);
    assert_eq!(exp(1000 + 3600 + 60), Ok(()), "the age plus the skew");
    assert_eq!(exp(1000 + 3600 + 61), Err(AuthFailure::LivesTooLong));
    // `exp: 1e300` reads as the largest NumericDate: never expires, unless bounded.
    assert_eq!(exp(u64::MAX), Err(AuthFailure::LivesTooLong));
    let unbounded = ClaimRules { max_token_age_seconds: None, ..rules };
    assert_eq!(unbounded.check(&Claims { exp: Some(u64::MAX), ..Claims::default() }, now), Ok(()));
}
