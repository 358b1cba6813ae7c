//! The Lambda event translation: any bytes as the invocation payload, parsed the way
//! `lambda_http` does for API Gateway v1/v2 and Function URLs, translated by the adapter's
//! `event::to_core`, handled by the core, translated back by `event::from_core`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use presign_core::Outcome;
use presign_fuzz::{check_response, hs_service, NOW};
use presign_lambda::event::{from_core, to_core};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(event) = lambda_http::request::from_str(text) else { return };
    let req = to_core(&event);
    let resp = match hs_service().handle(&req, NOW) {
        Outcome::Respond(r) => r,
        Outcome::ReadObject(read) => presign_core::Service::object_not_found(&read),
        Outcome::FetchJwks { .. } => panic!("the HS256 configuration never fetches a JWKS"),
    };
    check_response(&req, &resp);
    let status = resp.status;
    let out = from_core(resp, req.method == "HEAD");
    assert_eq!(out.status().as_u16(), status);
});
