//! The Lambda event translation: any bytes as the invocation payload, read by the adapter's
//! `event::Incoming::parse` (API Gateway v1/v2, Function URLs), handled by the core, written
//! back by `event::Outgoing`. A payload either translates or is refused; nothing panics, and
//! the serialised answer keeps the core's status and body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use presign_core::Outcome;
use presign_fuzz::{check_response, hs_service, NOW};
use presign_lambda::event::{Format, Incoming, Outgoing};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(incoming) = Incoming::parse(text) else { return };
    let req = incoming.request();
    let resp = match hs_service().handle(&req, NOW) {
        Outcome::Respond(r) => r,
        Outcome::ReadObject(read) => presign_core::Service::object_not_found(&read),
        Outcome::FetchJwks { .. } => panic!("the HS256 configuration never fetches a JWKS"),
        Outcome::VerifySignature(_) => panic!("HS256 is verified by the core itself"),
    };
    check_response(&req, &resp);
    let (status, body) = (resp.status, resp.body.clone());
    let head = req.method == "HEAD";
    let out = serde_json::to_value(Outgoing::new(incoming.format, resp, head)).expect("a response serialises");
    assert_eq!(out["statusCode"], status);
    assert_eq!(out["body"], if head { "" } else { body.as_str() });
    let headers = if incoming.format == Format::V1 { &out["multiValueHeaders"] } else { &out["headers"] };
    assert!(headers.is_object());
});
