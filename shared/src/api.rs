//! The JSON shapes of the HTTP API: request bodies in, responses out.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// `POST /presign` body. Unknown fields are ignored; duplicate fields are refused.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRequest<'a> {
    #[serde(borrow)]
    pub key: Cow<'a, str>,
    #[serde(borrow)]
    pub content_type: Cow<'a, str>,
}

/// `POST /presign/batch` body.
#[derive(Debug, Deserialize)]
pub struct BatchRequest<'a> {
    #[serde(borrow)]
    pub files: Vec<FileRequest<'a>>,
}

/// The headers an upload must send, exactly as signed.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct UploadHeaders<'a> {
    #[serde(rename = "content-type")]
    pub content_type: &'a str,
    #[serde(rename = "if-none-match", skip_serializing_if = "Option::is_none")]
    pub if_none_match: Option<&'static str>,
}

/// One presigned upload, the `/presign` response.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SignedUpload<'a> {
    pub url: String,
    pub method: &'static str,
    pub headers: UploadHeaders<'a>,
    pub expires_at: String,
    pub key: &'a str,
}

#[derive(Serialize)]
pub struct BatchResponse<'a> {
    pub uploads: Vec<SignedUpload<'a>>,
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
const FIELDS: &[&str] = &["contentType", "files", "key"];

/// Turns a body parse failure into an `invalid_json` error whose message never quotes input.
pub fn json_error(err: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let text = err.to_string();
    let field = FIELDS.iter().find(|f| text.contains(&format!("`{f}`")));
    let message: Cow<'static, str> = match (err.classify(), field) {
        (Category::Data, Some(f)) if text.starts_with("missing field") => format!("The field `{f}` is required.").into(),
        (Category::Data, Some(f)) if text.starts_with("duplicate field") => format!("The field `{f}` appears more than once.").into(),
        (Category::Data, _) => "The body must be an object whose `key` and `contentType` are strings (for a batch: `files`, a list of such objects).".into(),
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
        assert!(m.contains("strings"));
        assert_eq!(msg("{not json"), "The request body is not valid JSON.");
        assert_eq!(msg(""), "The request body is not valid JSON.");
    }

    #[test]
    fn escaped_strings_are_decoded() {
        let r: FileRequest<'_> = serde_json::from_str(r#"{"key":"content/\u00e9","contentType":"a/b","extra":1}"#).unwrap();
        assert_eq!(r.key, "content/é");
    }
}
