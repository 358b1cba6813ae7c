//! The Lambda event translation: any bytes as the invocation payload, read by the adapter's
//! `event::Incoming::parse` (API Gateway v1/v2, Function URLs), handled by the core, written
//! back by `event::Outgoing`. A payload either translates or is refused; nothing panics, and
//! the serialised answer keeps the core's status and body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use presign_fuzz::{check_response, hs_service, responses};
use presign_lambda::event::{Format, Incoming, Outgoing};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(incoming) = Incoming::parse(text) else { return };
    let req = incoming.request();
    // The first response: the route's answer, or an object read's answer for a missing object.
    let resp = responses(hs_service(), &req).swap_remove(0);
    check_response(&req, &resp);
    let (status, body) = (resp.status, resp.body.clone());
    if req.method == "HEAD" {
        assert!(body.is_empty(), "the core answers HEAD without a body");
    }
    let out = serde_json::to_value(Outgoing::new(incoming.format, resp)).expect("a response serialises");
    assert_eq!(out["statusCode"], status);
    assert_eq!(out["body"], body.as_str());
    let headers = if incoming.format == Format::V1 { &out["multiValueHeaders"] } else { &out["headers"] };
    assert!(headers.is_object());
});
