//! The whole core request handler: any method, path, Origin, Authorization, Content-Type and
//! body (the seeds' text format, see `presign_fuzz::TextRequest`), against every invariant.
#![no_main]

use libfuzzer_sys::fuzz_target;
use presign_fuzz::{handle_and_check, hs_service, TextRequest};

fuzz_target!(|data: &[u8]| {
    let req = TextRequest::parse(data);
    handle_and_check(hs_service(), &req.as_core());
});
