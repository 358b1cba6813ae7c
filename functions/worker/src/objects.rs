//! `GET`/`HEAD /<key>` from the R2 binding `BUCKET` (only with `SERVE_OBJECTS=true`; the core
//! has already checked the key, the prefix and the origin).

use presign_core::object::{if_none_match_matches, parse_range, RangeRequest};
use presign_core::{ObjectRead, Service};
use worker::{Env, Headers, Range, Response, Result};

/// The R2 binding name in wrangler.toml.
pub const BINDING: &str = "BUCKET";

fn base_headers(read: &ObjectRead, etag: &str) -> Result<Headers> {
    let h = Headers::new();
    h.set("etag", etag)?;
    h.set("cache-control", read.cache_control)?;
    h.set("accept-ranges", "bytes")?;
    for (name, value) in &read.cors_headers {
        h.set(name, value)?;
    }
    Ok(h)
}

/// Performs the read; returns the response and its status (for the log).
pub async fn read(env: &Env, read: &ObjectRead, range: Option<&str>, if_none_match: Option<&str>) -> Result<(Response, u16)> {
    let bucket = env.bucket(BINDING)?;
    let Some(meta) = bucket.head(read.key.clone()).await? else {
        let r = Service::object_not_found(read);
        let status = r.status;
        return Ok((crate::to_worker(r, read.head)?, status));
    };
    let etag = meta.http_etag();
    let size = meta.size();
    let headers = base_headers(read, &etag)?;
    let content_type = meta.http_metadata().content_type.unwrap_or_else(|| "application/octet-stream".to_owned());

    if if_none_match_matches(if_none_match, &etag) {
        return Ok((Response::empty()?.with_status(304).with_headers(headers), 304));
    }
    let (status, r2_range, length) = match parse_range(range, size) {
        RangeRequest::Whole => (200, None, size),
        RangeRequest::Partial(r) => {
            headers.set("content-range", &r.content_range(size))?;
            (206, Some(Range::OffsetWithLength { offset: r.start, length: r.len() }), r.len())
        }
        RangeRequest::Unsatisfiable => {
            headers.set("content-range", &format!("bytes */{size}"))?;
            return Ok((Response::empty()?.with_status(416).with_headers(headers), 416));
        }
    };
    headers.set("content-type", &content_type)?;
    headers.set("content-length", &length.to_string())?;
    if read.head {
        return Ok((Response::empty()?.with_status(status).with_headers(headers), status));
    }
    let mut get = bucket.get(read.key.clone());
    if let Some(r) = r2_range {
        get = get.range(r);
    }
    let Some(object) = get.execute().await? else {
        // Deleted between HEAD and GET.
        let r = Service::object_not_found(read);
        let status = r.status;
        return Ok((crate::to_worker(r, false)?, status));
    };
    let body = match object.body() {
        Some(b) => b.response_body()?,
        None => worker::ResponseBody::Empty,
    };
    Ok((Response::from_body(body)?.with_status(status).with_headers(headers), status))
}
