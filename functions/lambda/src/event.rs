//! Translation between Lambda invocation payloads and the core's request and response types.
//!
//! Three event shapes reach the function: API Gateway REST APIs (payload format 1.0), HTTP APIs
//! (2.0) and Function URLs (2.0). We read only what the core needs (method, path, five headers,
//! body) straight from the payload, borrowing its strings, and write the response in the shape
//! the caller expects. This replaces `lambda_http`'s conversion, which builds a whole
//! `http::Request` per invocation and panics on some payloads (a body flagged base64 that is not
//! base64, a `Host` header that is not a host: both found by `fuzz/fuzz_targets/lambda_event.rs`).
//! Here every payload either translates or is refused with an error, never a panic.

use std::borrow::Cow;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use presign_core::{Request, Response, UnixTime};
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The clock the core is given.
pub fn now() -> UnixTime {
    UnixTime(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0))
}

/// Which payload format an event came in, and so which shape its response takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// REST API, payload 1.0: `multiValueHeaders` in the response.
    V1,
    /// HTTP API or Function URL, payload 2.0: `headers` with repeated values joined.
    V2,
}

/// A payload that is not an API Gateway or Function URL event.
#[derive(Debug)]
pub struct EventError(String);

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an API Gateway or Function URL event: {}", self.0)
    }
}

impl std::error::Error for EventError {}

/// The headers the core reads, found case-insensitively among any number of others.
#[derive(Default)]
struct Wanted<'a> {
    origin: Option<Cow<'a, str>>,
    authorization: Option<Cow<'a, str>>,
    content_type: Option<Cow<'a, str>>,
    range: Option<Cow<'a, str>>,
    if_none_match: Option<Cow<'a, str>>,
}

impl<'a> Wanted<'a> {
    fn slot(&mut self, name: &str) -> Option<&mut Option<Cow<'a, str>>> {
        if name.eq_ignore_ascii_case("origin") {
            Some(&mut self.origin)
        } else if name.eq_ignore_ascii_case("authorization") {
            Some(&mut self.authorization)
        } else if name.eq_ignore_ascii_case("content-type") {
            Some(&mut self.content_type)
        } else if name.eq_ignore_ascii_case("range") {
            Some(&mut self.range)
        } else if name.eq_ignore_ascii_case("if-none-match") {
            Some(&mut self.if_none_match)
        } else {
            None
        }
    }

    fn or(self, other: Wanted<'a>) -> Wanted<'a> {
        Wanted {
            origin: self.origin.or(other.origin),
            authorization: self.authorization.or(other.authorization),
            content_type: self.content_type.or(other.content_type),
            range: self.range.or(other.range),
            if_none_match: self.if_none_match.or(other.if_none_match),
        }
    }
}

/// A header value: a string in `headers`, a list of strings in `multiValueHeaders` (joined
/// with `,`, as an HTTP API event joins repeated headers, so that the core sees a repeated
/// header the same way from every event shape), or null.
enum HeaderValue<'a> {
    One(Cow<'a, str>),
    None,
}

impl<'de: 'a, 'a> Deserialize<'de> for HeaderValue<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw<'a> {
            One(#[serde(borrow)] Cow<'a, str>),
            Many(#[serde(borrow)] Vec<Cow<'a, str>>),
            Null(()),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::One(v) => HeaderValue::One(v),
            Raw::Many(v) if v.len() <= 1 => v.into_iter().next().map_or(HeaderValue::None, HeaderValue::One),
            Raw::Many(v) => HeaderValue::One(Cow::Owned(v.join(","))),
            Raw::Null(()) => HeaderValue::None,
        })
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Wanted<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct HeadersVisitor;
        impl<'de> Visitor<'de> for HeadersVisitor {
            type Value = Wanted<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of headers or null")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Wanted::default())
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Wanted::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_map(self)
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut wanted = Wanted::default();
                while let Some(name) = map.next_key::<Cow<'de, str>>()? {
                    match wanted.slot(&name) {
                        // The same name in another spelling (`Authorization`, `authorization`)
                        // is the header sent twice: joined, for the core to refuse.
                        Some(slot) => {
                            if let HeaderValue::One(v) = map.next_value::<HeaderValue<'de>>()? {
                                *slot = Some(match slot.take() {
                                    None => v,
                                    Some(first) => Cow::Owned(format!("{first},{v}")),
                                });
                            }
                        }
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(wanted)
            }
        }
        d.deserialize_option(HeadersVisitor)
    }
}

#[derive(Deserialize, Default)]
struct Http<'a> {
    #[serde(borrow)]
    method: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct Context<'a> {
    #[serde(borrow, default)]
    stage: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    http: Option<Http<'a>>,
}

/// The fields of a 1.0 or 2.0 payload the service reads. serde skips all others.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    #[serde(borrow, default)]
    version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    http_method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    path: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    raw_path: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    headers: Wanted<'a>,
    #[serde(borrow, default)]
    multi_value_headers: Wanted<'a>,
    #[serde(borrow, default)]
    request_context: Option<Context<'a>>,
    #[serde(borrow, default)]
    body: Option<Cow<'a, str>>,
    #[serde(default)]
    is_base64_encoded: Option<bool>,
}

/// An event, translated: what the core's [`Request`] borrows from.
pub struct Incoming<'a> {
    pub format: Format,
    method: Cow<'a, str>,
    path: Cow<'a, str>,
    headers: Wanted<'a>,
    body: Cow<'a, [u8]>,
}

impl<'a> Incoming<'a> {
    /// Parses a payload. Paths are taken without the stage: a REST API's `path` never has it;
    /// an HTTP API's `rawPath` has it for a named stage (`/prod/presign`), which is stripped.
    /// A body flagged base64 that does not decode is treated as no body, so the core answers
    /// a POST with 400 `invalid_json` as it would any unreadable body.
    pub fn parse(payload: &'a str) -> Result<Incoming<'a>, EventError> {
        // serde_json's message may quote the offending value (`invalid type: string "<token>"`):
        // only its category and position are reported.
        let p: Payload<'a> =
            serde_json::from_str(payload).map_err(|e| EventError(format!("{:?} error at line {} column {}", e.classify(), e.line(), e.column())))?;
        let context = p.request_context.unwrap_or_default();
        let (format, method, path) = if p.version.as_deref() == Some("2.0") {
            let method = context.http.and_then(|h| h.method).ok_or_else(|| EventError("no requestContext.http.method".into()))?;
            let raw = p.raw_path.ok_or_else(|| EventError("no rawPath".into()))?;
            (Format::V2, method, strip_stage(raw, context.stage.as_deref()))
        } else {
            let method = p.http_method.ok_or_else(|| EventError("no httpMethod".into()))?;
            (Format::V1, method, p.path.ok_or_else(|| EventError("no path".into()))?)
        };
        let body: Cow<'a, [u8]> = match (p.body, p.is_base64_encoded.unwrap_or(false)) {
            (None, _) => Cow::Borrowed(&[]),
            (Some(text), true) => Cow::Owned(STANDARD.decode(text.as_bytes()).unwrap_or_default()),
            (Some(Cow::Borrowed(text)), false) => Cow::Borrowed(text.as_bytes()),
            (Some(Cow::Owned(text)), false) => Cow::Owned(text.into_bytes()),
        };
        // A REST API event's `headers` keeps only the last of repeated values;
        // `multiValueHeaders` has them all.
        Ok(Incoming { format, method, path, headers: p.multi_value_headers.or(p.headers), body })
    }

    pub fn request(&self) -> Request<'_> {
        Request {
            method: &self.method,
            path: &self.path,
            origin: self.headers.origin.as_deref(),
            authorization: self.headers.authorization.as_deref(),
            content_type: self.headers.content_type.as_deref(),
            range: self.headers.range.as_deref(),
            if_none_match: self.headers.if_none_match.as_deref(),
            body: &self.body,
        }
    }
}

/// `/prod/presign` with stage `prod` is `/presign`; `$default` has no prefix.
fn strip_stage<'a>(raw: Cow<'a, str>, stage: Option<&str>) -> Cow<'a, str> {
    let Some(stage) = stage.filter(|s| !s.is_empty() && *s != "$default") else {
        return raw;
    };
    let rest = raw.strip_prefix('/').and_then(|r| r.strip_prefix(stage));
    match rest {
        Some("") => Cow::Borrowed("/"),
        Some(r) if r.starts_with('/') => Cow::Owned(r.to_owned()),
        _ => raw,
    }
}

/// The function's answer, serialised as the event's format expects.
pub struct Outgoing {
    format: Format,
    response: Response,
}

impl Outgoing {
    /// The core's response in `format` (a `HEAD` answer comes from the core without a body).
    pub fn new(format: Format, response: Response) -> Outgoing {
        Outgoing { format, response }
    }
}

/// Header names in first-seen order, each with all its values.
struct Grouped<'a>(&'a [(&'static str, String)], Format);

impl Serialize for Grouped<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Grouped(headers, format) = *self;
        let mut map = s.serialize_map(None)?;
        for (i, (name, _)) in headers.iter().enumerate() {
            if headers[..i].iter().any(|(n, _)| n == name) {
                continue;
            }
            let values = headers[i..].iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
            match format {
                Format::V1 => map.serialize_entry(name, &values.collect::<Vec<_>>())?,
                Format::V2 => map.serialize_entry(name, &values.collect::<Vec<_>>().join(", "))?,
            }
        }
        map.end()
    }
}

impl Serialize for Outgoing {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("Response", 5)?;
        out.serialize_field("statusCode", &self.response.status)?;
        let headers = Grouped(&self.response.headers, self.format);
        match self.format {
            Format::V1 => out.serialize_field("multiValueHeaders", &headers)?,
            Format::V2 => out.serialize_field("headers", &headers)?,
        }
        out.serialize_field("body", self.response.body.as_str())?;
        out.serialize_field("isBase64Encoded", &false)?;
        if self.format == Format::V2 {
            // Optional for API Gateway, required by `cargo lambda watch`'s emulator (found by
            // schemathesis: without it the emulator answers 500 to every request).
            out.serialize_field("cookies", &[] as &[&str])?;
        }
        out.end()
    }
}

#[cfg(test)]
mod tests;
