//! Media types (RFC 6838): is a `Content-Type` well formed, and is it on the allow-list?
//!
//! The value is signed into the URL and must then be sent by the browser exactly, so anything
//! a browser would not send verbatim (non-ASCII, controls) is refused up front.

use std::fmt;

/// RFC 6838 §4.2: type and subtype names are at most 127 characters.
pub const MAX_NAME_LEN: usize = 127;
/// The whole header value, parameters included.
pub const MAX_VALUE_BYTES: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentTypeError {
    Empty,
    TooLong,
    NotPrintableAscii,
    NoSlash,
    BadType,
    BadSubtype,
    BadParameter,
}

impl fmt::Display for ContentTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContentTypeError::Empty => "The content type must not be empty.",
            ContentTypeError::TooLong => "The content type is longer than 255 bytes.",
            ContentTypeError::NotPrintableAscii => "The content type must be printable ASCII.",
            ContentTypeError::NoSlash => "The content type must look like type/subtype.",
            ContentTypeError::BadType => "The content type's type is not a valid media type name (at most 127 letters, digits or !#$&-^_.+).",
            ContentTypeError::BadSubtype => "The content type's subtype is not a valid media type name (at most 127 letters, digits or !#$&-^_.+).",
            ContentTypeError::BadParameter => "A content type parameter must look like ; name=value.",
        })
    }
}

impl std::error::Error for ContentTypeError {}

/// RFC 6838 `restricted-name`: an alphanumeric first character, then alphanumerics or
/// `! # $ & - ^ _ . +`, 1 to 127 characters.
fn is_restricted_name(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=MAX_NAME_LEN).contains(&b.len()) && b[0].is_ascii_alphanumeric() && b.iter().all(|c| c.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(c))
}

/// A checked media type, borrowed from the request: `essence` is `type/subtype` without
/// parameters, for allow-list matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType<'a> {
    pub type_: &'a str,
    pub subtype: &'a str,
}

/// Parses and checks a `Content-Type` value: `type/subtype[; name=value]*`.
pub fn parse_media_type(value: &str) -> Result<MediaType<'_>, ContentTypeError> {
    if value.trim().is_empty() {
        return Err(ContentTypeError::Empty);
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(ContentTypeError::TooLong);
    }
    if !value.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(ContentTypeError::NotPrintableAscii);
    }
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    let (type_, subtype) = essence.split_once('/').ok_or(ContentTypeError::NoSlash)?;
    if !is_restricted_name(type_) {
        return Err(ContentTypeError::BadType);
    }
    if !is_restricted_name(subtype) {
        return Err(ContentTypeError::BadSubtype);
    }
    for param in parts {
        let (name, val) = param.trim().split_once('=').ok_or(ContentTypeError::BadParameter)?;
        let quoted = val.len() >= 2 && val.starts_with('"') && val.ends_with('"');
        if !is_restricted_name(name) || val.is_empty() || (!quoted && val.contains([' ', '"'])) {
            return Err(ContentTypeError::BadParameter);
        }
    }
    Ok(MediaType { type_, subtype })
}

/// One allow-list entry: an exact `type/subtype` or a `type/*` wildcard (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact { type_: String, subtype: String },
    AnySubtype { type_: String },
}

/// `PRESIGN_ALLOWED_CONTENT_TYPES`; `None` in the config means any well-formed type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedContentTypes(Vec<Pattern>);

impl AllowedContentTypes {
    /// Parses a comma-separated list; `Err` names the first bad entry's position (1-based).
    pub fn parse(list: &str) -> Result<AllowedContentTypes, usize> {
        let mut patterns = Vec::new();
        for (i, entry) in list.split(',').map(str::trim).filter(|e| !e.is_empty()).enumerate() {
            let pattern = match entry.split_once('/') {
                Some((t, "*")) if is_restricted_name(t) => Pattern::AnySubtype { type_: t.to_ascii_lowercase() },
                Some((t, s)) if is_restricted_name(t) && is_restricted_name(s) => {
                    Pattern::Exact { type_: t.to_ascii_lowercase(), subtype: s.to_ascii_lowercase() }
                }
                _ => return Err(i + 1),
            };
            patterns.push(pattern);
        }
        if patterns.is_empty() {
            return Err(1);
        }
        Ok(AllowedContentTypes(patterns))
    }

    pub fn allows(&self, media: &MediaType<'_>) -> bool {
        self.0.iter().any(|p| match p {
            Pattern::Exact { type_, subtype } => type_.eq_ignore_ascii_case(media.type_) && subtype.eq_ignore_ascii_case(media.subtype),
            Pattern::AnySubtype { type_ } => type_.eq_ignore_ascii_case(media.type_),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed() {
        for ok in
            ["video/mp2t", "application/vnd.apple.mpegurl", "image/svg+xml", "video/mp4; codecs=\"avc1.42E01E, mp4a.40.2\"", "text/plain;charset=utf-8", "a/b"]
        {
            assert!(parse_media_type(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn malformed() {
        assert_eq!(parse_media_type(""), Err(ContentTypeError::Empty));
        assert_eq!(parse_media_type("video"), Err(ContentTypeError::NoSlash));
        assert_eq!(parse_media_type("/mp4"), Err(ContentTypeError::BadType));
        assert_eq!(parse_media_type("video/"), Err(ContentTypeError::BadSubtype));
        assert_eq!(parse_media_type("vi deo/mp4"), Err(ContentTypeError::BadType));
        assert_eq!(parse_media_type("video/mp4\n"), Err(ContentTypeError::NotPrintableAscii));
        assert_eq!(parse_media_type("vidéo/mp4"), Err(ContentTypeError::NotPrintableAscii));
        assert_eq!(parse_media_type("video/mp4; codecs"), Err(ContentTypeError::BadParameter));
        assert_eq!(parse_media_type("video/mp4; a=b c"), Err(ContentTypeError::BadParameter));
        assert_eq!(parse_media_type("video/*"), Err(ContentTypeError::BadSubtype));
    }

    #[test]
    fn length_limits() {
        let t127 = "a".repeat(127);
        assert!(parse_media_type(&format!("{t127}/{t127}")).is_ok());
        assert_eq!(parse_media_type(&format!("{t127}a/b")), Err(ContentTypeError::BadType));
        assert_eq!(parse_media_type(&format!("b/{t127}a")), Err(ContentTypeError::BadSubtype));
        let long = format!("a/b; x={}", "v".repeat(255 - 7));
        assert_eq!(long.len(), 255);
        assert!(parse_media_type(&long).is_ok());
        assert_eq!(parse_media_type(&format!("{long}v")), Err(ContentTypeError::TooLong));
    }

    #[test]
    fn allow_list_exact_and_wildcard() {
        let list = AllowedContentTypes::parse("video/mp2t, video/MP4, audio/*").unwrap();
        let allows = |v: &str| list.allows(&parse_media_type(v).unwrap());
        assert!(allows("video/mp2t"));
        assert!(allows("Video/MP2T; x=1"));
        assert!(allows("video/mp4"));
        assert!(allows("audio/aac"));
        assert!(!allows("video/webm"));
        assert!(!allows("application/mp2t"));
        assert_eq!(AllowedContentTypes::parse("video/mp2t,bad"), Err(2));
        assert_eq!(AllowedContentTypes::parse("*/*"), Err(1));
        assert_eq!(AllowedContentTypes::parse(" , "), Err(1));
    }
}
