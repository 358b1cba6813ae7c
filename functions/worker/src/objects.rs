//! Object reads from the R2 binding `BUCKET`: look the object up, hand its metadata to the
//! core, and send what the core planned, streaming the bytes it asks for. No status or header
//! is decided here.

use presign_core::{BodyRead, ObjectMeta, ObjectRead, UnixTime};
use worker::{Bucket, Env, Range, ResponseBody, Result};

/// The R2 binding name in wrangler.toml.
pub const BINDING: &str = "BUCKET";

/// Performs the read: the core's response, and the object's bytes to stream after its head
/// when the core asked for them.
pub async fn read(env: &Env, read: &ObjectRead) -> Result<(presign_core::Response, Option<ResponseBody>)> {
    let bucket = env.bucket(BINDING)?;
    let meta = bucket.head(read.key()).await?.map(|object| ObjectMeta {
        size: object.size(),
        etag: object.http_etag(),
        uploaded: UnixTime(object.uploaded().as_millis() / 1000),
        content_type: object.http_metadata().content_type,
    });
    let answer = read.answer(meta.as_ref());
    let Some(body) = answer.body else {
        return Ok((answer.response, None));
    };
    match stream(&bucket, read.key(), body).await? {
        Some(bytes) => Ok((answer.response, Some(bytes))),
        // Deleted between the lookup and the read.
        None => Ok((read.answer(None).response, None)),
    }
}

async fn stream(bucket: &Bucket, key: &str, body: BodyRead) -> Result<Option<ResponseBody>> {
    let mut get = bucket.get(key);
    if let BodyRead::Range { offset, length } = body {
        get = get.range(Range::OffsetWithLength { offset, length });
    }
    let Some(object) = get.execute().await? else {
        return Ok(None);
    };
    Ok(Some(match object.body() {
        Some(b) => b.response_body()?,
        None => ResponseBody::Empty,
    }))
}
