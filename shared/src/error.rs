//! Every way a request can fail, one variant per error code of docs/contract.md.
//!
//! The status, the code and the message come from here only, so the Lambda and the Worker
//! cannot drift apart. Messages are for the person reading the response: they say what to fix,
//! and never contain a URL, a token or a secret.

use std::borrow::Cow;
use std::fmt;

use crate::auth::AuthFailure;
use crate::config::ConfigError;
use crate::content_type::ContentTypeError;
use crate::object_key::KeyError;

/// An error response.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    InvalidJson(Cow<'static, str>),
    InvalidKey(KeyError),
    InvalidContentType(ContentTypeError),
    Unauthorized(AuthFailure),
    PrefixNotAllowed,
    ContentTypeNotAllowed,
    OriginNotAllowed,
    NotFound,
    PresignDisabled,
    MethodNotAllowed { allow: &'static str },
    PayloadTooLarge { limit: usize },
    UnsupportedMediaType,
    ConfigInvalid(ConfigError),
    Internal,
    AuthUnavailable,
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::InvalidJson(_) | ApiError::InvalidKey(_) | ApiError::InvalidContentType(_) => 400,
            ApiError::Unauthorized(_) => 401,
            ApiError::PrefixNotAllowed | ApiError::ContentTypeNotAllowed | ApiError::OriginNotAllowed => 403,
            ApiError::NotFound | ApiError::PresignDisabled => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::UnsupportedMediaType => 415,
            ApiError::ConfigInvalid(_) | ApiError::Internal => 500,
            ApiError::AuthUnavailable => 503,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::InvalidKey(_) => "invalid_key",
            ApiError::InvalidContentType(_) => "invalid_content_type",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::PrefixNotAllowed => "prefix_not_allowed",
            ApiError::ContentTypeNotAllowed => "content_type_not_allowed",
            ApiError::OriginNotAllowed => "origin_not_allowed",
            ApiError::NotFound => "not_found",
            ApiError::PresignDisabled => "presign_disabled",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::ConfigInvalid(_) => "config_invalid",
            ApiError::Internal => "internal",
            ApiError::AuthUnavailable => "auth_unavailable",
        }
    }

    pub fn message(&self) -> Cow<'static, str> {
        match self {
            ApiError::InvalidJson(m) => m.clone(),
            ApiError::InvalidKey(e) => Cow::Owned(e.to_string()),
            ApiError::InvalidContentType(e) => Cow::Owned(e.to_string()),
            ApiError::Unauthorized(f) => Cow::Borrowed(f.message()),
            ApiError::PrefixNotAllowed => "The key is outside the prefixes this caller may write to.".into(),
            ApiError::ContentTypeNotAllowed => "This content type is not in the allowed list.".into(),
            ApiError::OriginNotAllowed => "Requests from this origin are not allowed.".into(),
            ApiError::NotFound => "There is nothing at this path.".into(),
            ApiError::PresignDisabled => "Presigning is disabled on this deployment (ENABLE_PRESIGN is not true).".into(),
            ApiError::MethodNotAllowed { allow } => Cow::Owned(format!("This path only accepts {allow}.")),
            ApiError::PayloadTooLarge { limit } => Cow::Owned(format!("The request body is larger than {limit} bytes.")),
            ApiError::UnsupportedMediaType => "The request body must be sent as Content-Type: application/json.".into(),
            ApiError::ConfigInvalid(e) => Cow::Owned(e.to_string()),
            ApiError::Internal => "Something unexpected went wrong; it has been logged.".into(),
            ApiError::AuthUnavailable => "The signing keys for tokens cannot be fetched right now; try again shortly.".into(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for ApiError {}
