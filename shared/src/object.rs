//! HTTP semantics of object reads (Worker `SERVE_OBJECTS`): `Range` and `If-None-Match`.
//!
//! The Worker performs the R2 calls; what a header means, and which status and headers follow,
//! is decided here so it is tested natively and stays in one place.

/// A satisfiable byte range: `start..=end` within an object of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// `Content-Range` value for a 206.
    pub fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{size}", self.start, self.end)
    }
}

/// What a `Range` header asks for, given the object size (RFC 9110 §14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No header, or one we do not serve partially (several ranges, other units, garbage):
    /// RFC 9110 lets a server ignore it and answer 200 with the whole object.
    Whole,
    Partial(ByteRange),
    /// 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
}

pub fn parse_range(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = header.map(str::trim).and_then(|h| h.strip_prefix("bytes=")) else { return RangeRequest::Whole };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return RangeRequest::Whole };
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
pub fn if_none_match_matches(header: Option<&str>, etag: &str) -> bool {
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
