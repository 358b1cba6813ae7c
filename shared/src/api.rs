//! The JSON shapes of the HTTP API: request bodies in, responses out.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::operation::Signed;

/// `POST /presign` body, and each file of a batch. Unknown fields are ignored; duplicate
/// fields are refused.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRequest<'a> {
    #[serde(borrow)]
    pub key: Cow<'a, str>,
    #[serde(borrow)]
    pub content_type: Cow<'a, str>,
    /// Any JSON number here; whether it is an integer within the limits is checked later, so
    /// that a bad value gets `invalid_length` rather than `invalid_json`.
    pub content_length: Option<serde_json::Number>,
    #[serde(borrow)]
    pub content_md5: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub checksum_sha256: Option<Cow<'a, str>>,
}

/// `POST /presign/batch` body.
#[derive(Debug, Deserialize)]
pub struct BatchRequest<'a> {
    #[serde(borrow)]
    pub files: Vec<FileRequest<'a>>,
}

/// `POST /presign/request` body: what Uppy 6's `signRequest` passes, plus the byte fields.
/// The byte fields repeat [`FileRequest`]'s on purpose: `#[serde(flatten)]` would buffer every
/// field of the body into an intermediate map on the hot path, and lose the borrowed strings.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignRequest<'a> {
    #[serde(borrow)]
    pub method: Cow<'a, str>,
    #[serde(borrow)]
    pub key: Cow<'a, str>,
    #[serde(borrow)]
    pub upload_id: Option<Cow<'a, str>>,
    pub part_number: Option<serde_json::Number>,
    #[serde(borrow)]
    pub content_type: Option<Cow<'a, str>>,
    pub content_length: Option<serde_json::Number>,
    #[serde(borrow)]
    pub content_md5: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub checksum_sha256: Option<Cow<'a, str>>,
}

/// `POST /presign/parts` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartsRequest<'a> {
    #[serde(borrow)]
    pub key: Cow<'a, str>,
    #[serde(borrow)]
    pub upload_id: Cow<'a, str>,
    pub content_length: Option<serde_json::Number>,
    #[serde(borrow)]
    pub parts: Vec<PartItem<'a>>,
}

/// One part of `POST /presign/parts`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartItem<'a> {
    pub part_number: serde_json::Number,
    #[serde(borrow)]
    pub content_md5: Option<Cow<'a, str>>,
    /// Refused, as on `/presign/request`: parts are verified with `contentMd5`.
    pub checksum_sha256: Option<serde::de::IgnoredAny>,
}

/// The headers an upload must send, exactly as signed.
#[derive(Debug, PartialEq, Eq)]
pub struct UploadHeaders<'a>(pub Signed<'a>);

impl Serialize for UploadHeaders<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let h = &self.0;
        let mut map = s.serialize_map(None)?;
        if let Some(v) = h.content_type {
            map.serialize_entry("content-type", v)?;
        }
        if let Some(v) = h.content_length {
            map.serialize_entry("content-length", &v.to_string())?;
        }
        if let Some(v) = h.content_md5 {
            map.serialize_entry("content-md5", v)?;
        }
        if let Some(v) = h.checksum_sha256 {
            map.serialize_entry("x-amz-checksum-sha256", v)?;
        }
        if let Some(v) = h.if_none_match {
            map.serialize_entry("if-none-match", v)?;
        }
        map.end()
    }
}

/// One presigned request: the `/presign` response, and each item of the other routes.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SignedUpload<'a> {
    pub url: String,
    pub method: &'static str,
    pub headers: UploadHeaders<'a>,
    pub expires_at: String,
    pub key: &'a str,
    /// `/presign/request` and `/presign/parts` name the operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<&'static str>,
    /// `/presign/parts` names each part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_number: Option<u16>,
}

#[derive(Serialize)]
pub struct BatchResponse<'a> {
    pub uploads: Vec<SignedUpload<'a>>,
}

#[derive(Serialize)]
pub struct PartsResponse<'a> {
    pub parts: Vec<SignedUpload<'a>>,
}

#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
}

#[derive(Serialize)]
pub struct HealthBody<'a> {
    pub status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
}

/// Field names we may name in an error message (never anything from the body itself).
const FIELDS: &[&str] = &["contentType", "files", "key", "method", "uploadId", "partNumber", "contentLength", "contentMd5", "checksumSha256", "parts"];

/// Turns a body parse failure into an `invalid_json` error whose message never quotes input.
pub fn json_error(err: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let text = err.to_string();
    let field = FIELDS.iter().find(|f| text.contains(&format!("`{f}`")));
    let message: Cow<'static, str> = match (err.classify(), field) {
        (Category::Data, Some(f)) if text.starts_with("missing field") => format!("The field `{f}` is required.").into(),
        (Category::Data, Some(f)) if text.starts_with("duplicate field") => format!("The field `{f}` appears more than once.").into(),
        (Category::Data, _) => {
            "The body must be a JSON object whose fields have the types this route takes (strings for `key`, `contentType`, `method`, `uploadId`, checksums; numbers for `contentLength`, `partNumber`; lists for `files`, `parts`).".into()
        }
        _ => "The request body is not valid JSON.".into(),
    };
    ApiError::InvalidJson(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(body: &str) -> String {
        let e = serde_json::from_str::<FileRequest<'_>>(body).unwrap_err();
        json_error(&e).message().into_owned()
    }

    #[test]
    fn messages_name_fields_but_never_values() {
        assert_eq!(msg(r#"{"key":"a"}"#), "The field `contentType` is required.");
        assert_eq!(msg(r#"{"key":"a","key":"b","contentType":"x/y"}"#), "The field `key` appears more than once.");
        let m = msg(r#"{"key":"https://evil.example/secret","contentType":5}"#);
        assert!(!m.contains("evil"), "{m}");
        assert!(m.contains("strings for `key`, `contentType`"), "{m}");
        assert_eq!(msg("{not json"), "The request body is not valid JSON.");
        assert_eq!(msg(""), "The request body is not valid JSON.");
    }

    #[test]
    fn escaped_strings_are_decoded() {
        let r: FileRequest<'_> = serde_json::from_str(r#"{"key":"content/\u00e9","contentType":"a/b","extra":1}"#).unwrap();
        assert_eq!(r.key, "content/é");
    }
}
