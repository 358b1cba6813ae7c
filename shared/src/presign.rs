//! The presign use case: an authenticated caller's request body in, signed upload URLs out
//! (`POST /presign`, `POST /presign/batch`), every rule checked before anything is signed.

use crate::api::{self, BatchRequest, BatchResponse, FileRequest, SignedUpload, UploadHeaders};
use crate::auth::Caller;
use crate::clock::UnixTime;
use crate::config::{Config, PresignSettings};
use crate::content_type::parse_media_type;
use crate::error::ApiError;
use crate::http::{Request, Responder, Response, MAX_BODY_BYTES, MAX_SINGLE_BODY};
use crate::object_key::validate_key;
use crate::sigv4::{PresignParams, SignedHeader};

/// `application/json`, with or without parameters, any case.
fn is_json(content_type: Option<&str>) -> bool {
    content_type.and_then(|v| v.split(';').next()).is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// The answer to a presign request from `caller`, who has passed auth.
pub(crate) fn answer(
    config: &Config,
    settings: &PresignSettings,
    caller: &Caller,
    batch: bool,
    req: &Request<'_>,
    now: UnixTime,
    reply: &Responder,
) -> Response {
    if !is_json(req.content_type) {
        return reply.error(&ApiError::UnsupportedMediaType, None);
    }
    let limit = if batch { MAX_BODY_BYTES } else { MAX_SINGLE_BODY };
    if req.body.len() > limit {
        return reply.error(&ApiError::PayloadTooLarge { limit }, None);
    }
    let signed = if batch { presign_batch(config, settings, caller, req.body, now) } else { presign_one(config, settings, caller, req.body, now) };
    match signed {
        Ok(body) => reply.json(200, body, None),
        Err((e, index)) => reply.error(&e, index),
    }
}

/// Checks one file against every rule, then signs it.
fn sign_file<'a>(config: &Config, settings: &PresignSettings, caller: &Caller, file: &'a FileRequest<'a>, now: UnixTime) -> Result<SignedUpload<'a>, ApiError> {
    let key: &str = &file.key;
    validate_key(key).map_err(ApiError::InvalidKey)?;
    if !config.allowed_prefixes.allows(key) || !caller.may_write(key) {
        return Err(ApiError::PrefixNotAllowed);
    }
    let content_type: &str = &file.content_type;
    let media = parse_media_type(content_type).map_err(ApiError::InvalidContentType)?;
    if settings.allowed_content_types.as_ref().is_some_and(|list| !list.allows(&media)) {
        return Err(ApiError::ContentTypeNotAllowed);
    }
    let if_none_match = settings.single_use.then_some("*");
    let signed = [SignedHeader { name: "content-type", value: content_type }, SignedHeader { name: "if-none-match", value: "*" }];
    let headers = if if_none_match.is_some() { &signed[..] } else { &signed[..1] };
    let url = settings.presigner.presign(&PresignParams { method: "PUT", key, headers, expires_seconds: settings.expires_seconds, extra_query: &[] }, now);
    Ok(SignedUpload {
        url,
        method: "PUT",
        headers: UploadHeaders { content_type, if_none_match },
        expires_at: now.plus_seconds(settings.expires_seconds.into()).to_utc().rfc3339(),
        key,
    })
}

type Failure = (ApiError, Option<usize>);

/// JSON text is UTF-8 (RFC 8259 section 8.1). serde_json checks that only in the strings it
/// keeps, so without this a body with invalid bytes in an ignored field would be accepted
/// (found by the `handler` fuzz target).
fn json_text(body: &[u8]) -> Result<&str, Failure> {
    std::str::from_utf8(body).map_err(|_| (ApiError::InvalidJson("The request body is not valid UTF-8.".into()), None))
}

fn presign_one(config: &Config, settings: &PresignSettings, caller: &Caller, body: &[u8], now: UnixTime) -> Result<String, Failure> {
    let file: FileRequest<'_> = serde_json::from_str(json_text(body)?).map_err(|e| (api::json_error(&e), None))?;
    let signed = sign_file(config, settings, caller, &file, now).map_err(|e| (e, None))?;
    serde_json::to_string(&signed).map_err(|_| (ApiError::Internal, None))
}

fn presign_batch(config: &Config, settings: &PresignSettings, caller: &Caller, body: &[u8], now: UnixTime) -> Result<String, Failure> {
    let batch: BatchRequest<'_> = serde_json::from_str(json_text(body)?).map_err(|e| (api::json_error(&e), None))?;
    if batch.files.is_empty() || batch.files.len() > settings.max_batch {
        let message = format!("A batch holds 1 to {} files.", settings.max_batch);
        return Err((ApiError::InvalidJson(message.into()), None));
    }
    let uploads =
        batch.files.iter().enumerate().map(|(i, f)| sign_file(config, settings, caller, f, now).map_err(|e| (e, Some(i)))).collect::<Result<Vec<_>, _>>()?;
    serde_json::to_string(&BatchResponse { uploads }).map_err(|_| (ApiError::Internal, None))
}
