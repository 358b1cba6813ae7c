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
    MethodNotAllowed {
        allow: &'static str,
    },
    PayloadTooLarge {
        limit: usize,
    },
    UnsupportedMediaType,
    ConfigInvalid(ConfigError),
    Internal,
    AuthUnavailable,
    /// `/presign/request`: method, `uploadId` and `partNumber` name no operation it signs.
    InvalidOperation,
    InvalidUploadId,
    /// `partNumber` out of 1..=10000 (`None`), or beyond the part plan's count.
    InvalidPart {
        plan: Option<(u32, u64)>,
    },
    /// `contentLength` not an integer from `min` to `max`.
    InvalidLength {
        min: u64,
        max: u64,
    },
    InvalidChecksum(ChecksumProblem),
    LengthRequired,
    /// `PRESIGN_REQUIRE_CHECKSUM`; `part` when a part lacks its `contentMd5`.
    ChecksumRequired {
        part: bool,
    },
    TooLarge {
        max: u64,
    },
    OperationNotAllowed,
    /// The platform's per-caller rate limiter said no.
    RateLimited,
    /// The answer would be larger than [`crate::http::MAX_ANSWER_BYTES`].
    AnswerTooLarge {
        limit: usize,
    },
    /// A header the service reads once (`authorization`, `origin`, `content-type`) arrived
    /// more than once: which value counts would depend on the platform.
    RepeatedHeader(&'static str),
}

/// What is wrong with a checksum field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumProblem {
    Md5,
    Sha256,
    /// `checksumSha256` on UploadPart: parts are verified with `contentMd5`.
    Sha256OnPart,
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::InvalidJson(_)
            | ApiError::InvalidKey(_)
            | ApiError::InvalidContentType(_)
            | ApiError::InvalidOperation
            | ApiError::InvalidUploadId
            | ApiError::InvalidPart { .. }
            | ApiError::InvalidLength { .. }
            | ApiError::InvalidChecksum(_)
            | ApiError::LengthRequired
            | ApiError::ChecksumRequired { .. }
            | ApiError::RepeatedHeader(_) => 400,
            ApiError::Unauthorized(_) => 401,
            ApiError::PrefixNotAllowed
            | ApiError::ContentTypeNotAllowed
            | ApiError::OriginNotAllowed
            | ApiError::TooLarge { .. }
            | ApiError::OperationNotAllowed => 403,
            ApiError::RateLimited => 429,
            ApiError::NotFound | ApiError::PresignDisabled => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::PayloadTooLarge { .. } | ApiError::AnswerTooLarge { .. } => 413,
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
            ApiError::InvalidOperation => "invalid_operation",
            ApiError::InvalidUploadId => "invalid_upload_id",
            ApiError::InvalidPart { .. } => "invalid_part",
            ApiError::InvalidLength { .. } => "invalid_length",
            ApiError::InvalidChecksum(_) => "invalid_checksum",
            ApiError::LengthRequired => "length_required",
            ApiError::ChecksumRequired { .. } => "checksum_required",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::OperationNotAllowed => "operation_not_allowed",
            ApiError::RateLimited => "rate_limited",
            ApiError::AnswerTooLarge { .. } => "answer_too_large",
            ApiError::RepeatedHeader(_) => "repeated_header",
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
            ApiError::InvalidOperation => "The method, uploadId and partNumber name none of the operations this route signs: PutObject (PUT), CreateMultipartUpload (POST), UploadPart (PUT with uploadId and partNumber), ListParts (GET with uploadId), CompleteMultipartUpload (POST with uploadId), AbortMultipartUpload (DELETE with uploadId), DeleteObject (DELETE).".into(),
            ApiError::InvalidUploadId => "The uploadId must be 1 to 1024 letters, digits or - _ . ~ + / = (as stores write upload ids).".into(),
            ApiError::InvalidPart { plan: None } => "The partNumber must be an integer from 1 to 10000.".into(),
            ApiError::InvalidPart { plan: Some((count, size)) } => {
                Cow::Owned(format!("The partNumber is beyond this object's part plan: {count} parts of {size} bytes (the last one smaller)."))
            }
            ApiError::InvalidLength { min, max } => Cow::Owned(format!("The contentLength must be an integer from {min} to {max}.")),
            ApiError::InvalidChecksum(ChecksumProblem::Md5) => "The contentMd5 must be the base64 of a 16-byte MD5 digest.".into(),
            ApiError::InvalidChecksum(ChecksumProblem::Sha256) => "The checksumSha256 must be the base64 of a 32-byte SHA-256 digest.".into(),
            ApiError::InvalidChecksum(ChecksumProblem::Sha256OnPart) => {
                "The checksumSha256 applies to single uploads (PutObject); a part is verified with contentMd5.".into()
            }
            ApiError::LengthRequired => "This deployment bounds object sizes (PRESIGN_MAX_BYTES): give contentLength, the size of the file in bytes.".into(),
            ApiError::ChecksumRequired { part: false } => {
                "This deployment requires a checksum (PRESIGN_REQUIRE_CHECKSUM): give contentMd5 or checksumSha256.".into()
            }
            ApiError::ChecksumRequired { part: true } => "This deployment requires a checksum (PRESIGN_REQUIRE_CHECKSUM): give contentMd5 for every part.".into(),
            ApiError::TooLarge { max } => Cow::Owned(format!("The contentLength is above this deployment's limit of {max} bytes.")),
            ApiError::OperationNotAllowed => "DeleteObject is not enabled on this deployment (PRESIGN_ALLOW_DELETE is not true).".into(),
            ApiError::RateLimited => "This caller has made too many requests; try again in a few seconds.".into(),
            ApiError::AnswerTooLarge { limit } => {
                Cow::Owned(format!("The answer to this request would be larger than {limit} bytes: ask for fewer files or parts at once, or use shorter keys."))
            }
            ApiError::RepeatedHeader(name) => Cow::Owned(format!("The {name} header was sent more than once; send it once.")),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for ApiError {}
