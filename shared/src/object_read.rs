//! Object reads (`GET`/`HEAD /<key>` with `SERVE_OBJECTS=true`, on a platform with an object
//! store: the Worker's R2 binding), planned here from the object's metadata and the request's
//! `Range` and `If-None-Match`.
//!
//! The adapter looks the object up, hands its metadata to [`ObjectRead::answer`], and sends
//! what it says: the status and headers, and, when asked, the bytes of [`BodyRead`] streamed
//! from the store. Every status (200, 206, 304, 404, 416) and header is decided here.

use crate::clock::UnixTime;
use crate::error::ApiError;
use crate::http::{Responder, Response};

/// `Cache-Control` for segments, which never change once written.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// On every object answer: whatever an uploader stored, the browser neither sniffs it into
/// something active nor runs it on the service's origin (a sandboxed, script-less document).
const OBJECT_HEADERS: [(&str, &str); 2] = [("x-content-type-options", "nosniff"), ("content-security-policy", "default-src 'none'; sandbox")];

/// What a stored `Content-Type` is answered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Served<'a> {
    /// A type a video player fetches: as stored.
    Inline(&'a str),
    /// Anything else (HTML, SVG, scripts, XML, PDF, unparsable): `application/octet-stream`
    /// with `Content-Disposition: attachment`, so that no uploader can host a page on the
    /// service's origin.
    Attachment,
}

/// The types served inline: video, audio, HLS and DASH playlists, subtitles, images other than
/// SVG (which can hold script), and `application/octet-stream`.
fn served_as(stored: Option<&str>) -> Served<'_> {
    let Some(value) = stored else { return Served::Inline(OCTET_STREAM) };
    let Ok(media) = crate::content_type::parse_media_type(value) else { return Served::Attachment };
    // Media type names are case-insensitive (RFC 6838 section 4.2): compared without
    // allocating, since object reads are the Worker's hot path.
    let is = |name: &str, one_of: &[&str]| one_of.iter().any(|n| name.eq_ignore_ascii_case(n));
    let sub = media.subtype;
    let inline = if is(media.type_, &["video", "audio"]) {
        true
    } else if is(media.type_, &["image"]) {
        !is(sub, &["svg+xml"])
    } else if is(media.type_, &["text"]) {
        is(sub, &["vtt", "srt"])
    } else if is(media.type_, &["application"]) {
        is(sub, &["octet-stream", "vnd.apple.mpegurl", "x-mpegurl", "mpegurl", "dash+xml", "mp4", "x-subrip", "ttml+xml", "x-mpegts"])
    } else {
        false
    };
    if inline {
        Served::Inline(value)
    } else {
        Served::Attachment
    }
}

const OCTET_STREAM: &str = "application/octet-stream";

/// What the store says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    /// The HTTP form of the ETag, quoted (`"abc"`), as R2's `httpEtag` gives it.
    pub etag: String,
    pub uploaded: UnixTime,
    /// The content type stored with the object, if any.
    pub content_type: Option<String>,
}

/// Which bytes of the object to stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRead {
    Whole,
    Range { offset: u64, length: u64 },
}

/// The planned answer: send `response` (its body is empty when `body` is set) and, if `body`
/// is set, stream those bytes of the object after it. Should the object be gone by then, send
/// [`ObjectRead::answer`]`(None)` instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectAnswer {
    pub response: Response,
    pub body: Option<BodyRead>,
}

/// An object read the core asks the platform to perform. The key has passed the key rules and
/// the allowed prefixes; the origin has passed CORS.
#[derive(Debug, Clone)]
pub struct ObjectRead {
    key: String,
    head: bool,
    range: Option<String>,
    if_none_match: Option<String>,
    responder: Responder,
}

impl PartialEq for ObjectRead {
    fn eq(&self, other: &ObjectRead) -> bool {
        (&self.key, self.head, &self.range, &self.if_none_match, &self.responder.cors)
            == (&other.key, other.head, &other.range, &other.if_none_match, &other.responder.cors)
    }
}

impl Eq for ObjectRead {}

impl ObjectRead {
    pub(crate) fn new(key: String, head: bool, range: Option<&str>, if_none_match: Option<&str>, responder: Responder) -> ObjectRead {
        ObjectRead { key, head, range: range.map(str::to_owned), if_none_match: if_none_match.map(str::to_owned), responder }
    }

    /// The decoded key to look up.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The answer for the object as the store describes it (`None`: there is none).
    pub fn answer(&self, meta: Option<&ObjectMeta>) -> ObjectAnswer {
        let Some(meta) = meta else {
            return ObjectAnswer { response: self.error(&ApiError::NotFound), body: None };
        };
        let size = meta.size;
        let mut headers = vec![
            ("etag", meta.etag.clone()),
            ("cache-control", cache_control_for(&self.key).to_owned()),
            ("accept-ranges", "bytes".to_owned()),
            ("last-modified", meta.uploaded.http_date()),
        ];
        if if_none_match_matches(self.if_none_match.as_deref(), &meta.etag) {
            return self.bodiless(304, headers);
        }
        let (status, body, length) = match parse_range(self.range.as_deref(), size) {
            RangeRequest::Whole => (200, BodyRead::Whole, size),
            RangeRequest::Partial(r) => {
                headers.push(("content-range", r.content_range(size)));
                (206, BodyRead::Range { offset: r.start, length: r.len() }, r.len())
            }
            RangeRequest::Unsatisfiable => {
                headers.push(("content-range", format!("bytes */{size}")));
                return self.bodiless(416, headers);
            }
        };
        match served_as(meta.content_type.as_deref()) {
            Served::Inline(content_type) => headers.push(("content-type", content_type.to_owned())),
            Served::Attachment => {
                headers.push(("content-type", OCTET_STREAM.to_owned()));
                headers.push(("content-disposition", "attachment".to_owned()));
            }
        }
        headers.push(("content-length", length.to_string()));
        ObjectAnswer { response: self.respond(status, headers), body: (!self.head).then_some(body) }
    }

    /// The answer when the store itself failed (details belong in the adapter's log).
    pub fn store_failed(&self) -> Response {
        self.error(&ApiError::Internal)
    }

    fn error(&self, err: &ApiError) -> Response {
        let mut response = self.responder.error(err, None);
        response.headers.extend(OBJECT_HEADERS.map(|(n, v)| (n, v.to_owned())));
        if self.head {
            response.body.clear();
        }
        response
    }

    fn respond(&self, status: u16, mut headers: Vec<(&'static str, String)>) -> Response {
        headers.extend(OBJECT_HEADERS.map(|(n, v)| (n, v.to_owned())));
        self.responder.with_headers(status, headers, String::new(), None)
    }

    fn bodiless(&self, status: u16, headers: Vec<(&'static str, String)>) -> ObjectAnswer {
        ObjectAnswer { response: self.respond(status, headers), body: None }
    }
}

/// Segments never change once written; playlists do.
fn cache_control_for(key: &str) -> &'static str {
    let ext = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("ts" | "m4s" | "mp4" | "aac") => IMMUTABLE,
        _ => "no-cache",
    }
}

/// A satisfiable byte range: `start..=end` within an object of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteRange {
    start: u64,
    end: u64,
}

impl ByteRange {
    fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// `Content-Range` value for a 206.
    fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{size}", self.start, self.end)
    }
}

/// What a `Range` header asks for, given the object size (RFC 9110 §14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeRequest {
    /// No header, or one we do not serve partially (several ranges, other units, garbage):
    /// RFC 9110 lets a server ignore it and answer 200 with the whole object.
    Whole,
    Partial(ByteRange),
    /// 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
}

fn parse_range(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = header.map(str::trim).and_then(|h| h.strip_prefix("bytes=")) else {
        return RangeRequest::Whole;
    };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let num = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
    };
    match (first.trim().is_empty(), num(first), num(last)) {
        // bytes=-N: the last N bytes.
        (true, _, Some(n)) => {
            if n == 0 || size == 0 {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Partial(ByteRange { start: size.saturating_sub(n), end: size - 1 })
            }
        }
        // bytes=A- or bytes=A-B.
        (false, Some(start), end) if last.trim().is_empty() || end.is_some() => {
            if start >= size {
                return RangeRequest::Unsatisfiable;
            }
            let end = end.map_or(size - 1, |e| e.min(size - 1));
            if end < start {
                return RangeRequest::Whole;
            }
            RangeRequest::Partial(ByteRange { start, end })
        }
        _ => RangeRequest::Whole,
    }
}

/// Does `If-None-Match` match the object's (quoted) ETag? Weak comparison, lists and `*`.
fn if_none_match_matches(header: Option<&str>, etag: &str) -> bool {
    let Some(header) = header else { return false };
    let bare = |t: &str| t.trim().trim_start_matches("W/").trim_matches('"').to_owned();
    let ours = bare(etag);
    header.split(',').any(|candidate| candidate.trim() == "*" || bare(candidate) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let p = |h| parse_range(Some(h), 1000);
        assert_eq!(p("bytes=0-99"), RangeRequest::Partial(ByteRange { start: 0, end: 99 }));
        assert_eq!(p("bytes=900-"), RangeRequest::Partial(ByteRange { start: 900, end: 999 }));
        assert_eq!(p("bytes=-100"), RangeRequest::Partial(ByteRange { start: 900, end: 999 }));
        assert_eq!(p("bytes=-5000"), RangeRequest::Partial(ByteRange { start: 0, end: 999 }));
        assert_eq!(p("bytes=990-5000"), RangeRequest::Partial(ByteRange { start: 990, end: 999 }));
        assert_eq!(p("bytes=1000-"), RangeRequest::Unsatisfiable);
        assert_eq!(p("bytes=-0"), RangeRequest::Unsatisfiable);
        assert_eq!(p("bytes=5-1"), RangeRequest::Whole);
        assert_eq!(p("bytes=0-1,5-6"), RangeRequest::Whole);
        assert_eq!(p("items=0-1"), RangeRequest::Whole);
        assert_eq!(p("bytes=a-b"), RangeRequest::Whole);
        assert_eq!(p("bytes=+1-2"), RangeRequest::Whole);
        assert_eq!(parse_range(None, 10), RangeRequest::Whole);
        assert_eq!(parse_range(Some("bytes=0-"), 0), RangeRequest::Unsatisfiable);
        assert_eq!(ByteRange { start: 0, end: 99 }.content_range(1000), "bytes 0-99/1000");
    }

    fn read(head: bool, range: Option<&str>, inm: Option<&str>) -> ObjectRead {
        let responder = Responder { route: "object", cors: vec![("access-control-allow-origin", "https://app.test".to_owned())] };
        ObjectRead::new("content/v/seg-1.ts".into(), head, range, inm, responder)
    }

    fn meta() -> ObjectMeta {
        ObjectMeta { size: 1000, etag: "\"abc\"".into(), uploaded: UnixTime(1_800_000_000), content_type: Some("video/mp2t".into()) }
    }

    #[test]
    fn whole_object() {
        let a = read(false, None, None).answer(Some(&meta()));
        assert_eq!(a.body, Some(BodyRead::Whole));
        assert_eq!(a.response.status, 200);
        assert_eq!(a.response.header("content-length"), Some("1000"));
        assert_eq!(a.response.header("content-type"), Some("video/mp2t"));
        assert_eq!(a.response.header("etag"), Some("\"abc\""));
        assert_eq!(a.response.header("accept-ranges"), Some("bytes"));
        assert_eq!(a.response.header("cache-control"), Some(IMMUTABLE));
        assert_eq!(a.response.header("last-modified"), Some("Fri, 15 Jan 2027 08:00:00 GMT"));
        assert_eq!(a.response.header("access-control-allow-origin"), Some("https://app.test"));
        assert!(a.response.body.is_empty());
    }

    #[test]
    fn ranges_conditions_and_missing_objects() {
        let a = read(false, Some("bytes=10-19"), None).answer(Some(&meta()));
        assert_eq!((a.response.status, a.body), (206, Some(BodyRead::Range { offset: 10, length: 10 })));
        assert_eq!(a.response.header("content-range"), Some("bytes 10-19/1000"));
        assert_eq!(a.response.header("content-length"), Some("10"));

        let a = read(false, Some("bytes=5000-"), None).answer(Some(&meta()));
        assert_eq!((a.response.status, a.body), (416, None));
        assert_eq!(a.response.header("content-range"), Some("bytes */1000"));

        let a = read(false, None, Some("W/\"abc\"")).answer(Some(&meta()));
        assert_eq!((a.response.status, a.body), (304, None));
        assert_eq!(a.response.header("etag"), Some("\"abc\""));
        assert_eq!(a.response.header("content-length"), None);

        // HEAD: the same headers, no bytes.
        let a = read(true, Some("bytes=0-0"), None).answer(Some(&meta()));
        assert_eq!((a.response.status, a.body), (206, None));
        assert_eq!(a.response.header("content-length"), Some("1"));

        let untyped = ObjectMeta { content_type: None, ..meta() };
        let a = read(false, None, None).answer(Some(&untyped));
        assert_eq!(a.response.header("content-type"), Some("application/octet-stream"));

        let a = read(false, None, None).answer(None);
        assert_eq!((a.response.status, a.response.error_code, a.body), (404, Some("not_found"), None));
        assert!(a.response.body.contains("not_found"));
        assert_eq!(a.response.header("access-control-allow-origin"), Some("https://app.test"));
        assert!(read(true, None, None).answer(None).response.body.is_empty());
        assert_eq!(read(false, None, None).store_failed().status, 500);
    }

    /// Finding 1 of the adversarial review: an uploaded page or SVG must not run on the
    /// service's origin.
    #[test]
    fn active_content_is_never_served_inline() {
        for stored in [
            "text/html",
            "text/html; charset=utf-8",
            "image/svg+xml",
            "IMAGE/SVG+XML",
            "application/javascript",
            "text/xml",
            "application/pdf",
            "multipart/x-mixed-replace; boundary=a",
            "not a type",
        ] {
            let m = ObjectMeta { content_type: Some(stored.into()), ..meta() };
            let a = read(false, None, None).answer(Some(&m));
            assert_eq!(a.response.header("content-type"), Some("application/octet-stream"), "{stored}");
            assert_eq!(a.response.header("content-disposition"), Some("attachment"), "{stored}");
        }
        for stored in [
            "video/mp2t",
            "video/mp4",
            "audio/aac",
            "application/vnd.apple.mpegurl",
            "application/dash+xml",
            "text/vtt",
            "image/png",
            "image/jpeg",
            "application/octet-stream",
        ] {
            let m = ObjectMeta { content_type: Some(stored.into()), ..meta() };
            let a = read(false, None, None).answer(Some(&m));
            assert_eq!((a.response.header("content-type"), a.response.header("content-disposition")), (Some(stored), None));
        }
        // Every object answer, whatever its status, carries both guards.
        let answers = [
            read(false, None, None).answer(Some(&meta())).response,
            read(false, None, Some("\"abc\"")).answer(Some(&meta())).response,
            read(false, Some("bytes=5000-"), None).answer(Some(&meta())).response,
            read(true, None, None).answer(None).response,
            read(false, None, None).store_failed(),
        ];
        for r in answers {
            assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{}", r.status);
            assert_eq!(r.header("content-security-policy"), Some("default-src 'none'; sandbox"), "{}", r.status);
        }
    }

    #[test]
    fn cache_policy() {
        assert_eq!(cache_control_for("content/a/seg.M4S"), IMMUTABLE);
        assert_eq!(cache_control_for("content/a/index.m3u8"), "no-cache");
        assert_eq!(cache_control_for("content/a/noext"), "no-cache");
    }

    #[test]
    fn etags() {
        assert!(if_none_match_matches(Some("\"abc\""), "\"abc\""));
        assert!(if_none_match_matches(Some("W/\"abc\""), "\"abc\""));
        assert!(if_none_match_matches(Some("\"x\", \"abc\""), "\"abc\""));
        assert!(if_none_match_matches(Some("*"), "\"abc\""));
        assert!(!if_none_match_matches(Some("\"abd\""), "\"abc\""));
        assert!(!if_none_match_matches(None, "\"abc\""));
    }
}
