//! CORS as docs/contract.md says: exact origins (no prefix or suffix matching), the origin echoed back,
//! `Vary: Origin` always when CORS is on, and a fixed preflight answer.

/// `CORS_ORIGINS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsPolicy {
    /// Not configured: no CORS headers; the `Origin` header is ignored (server-to-server).
    Off,
    /// `*`: any origin, echoed.
    AnyOrigin,
    /// Exact `scheme://host[:port]` origins.
    Origins(Vec<String>),
}

pub const ALLOW_METHODS: &str = "GET, HEAD, POST, OPTIONS";
pub const ALLOW_HEADERS: &str = "authorization, content-type, range, if-none-match";
pub const MAX_AGE: &str = "600";
pub const EXPOSE_HEADERS_OBJECTS: &str = "Content-Length, Content-Range, ETag";

/// What the policy says about one request's `Origin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginDecision<'a> {
    /// CORS off, or no `Origin` sent: proceed without `Access-Control-Allow-Origin`.
    NotCors {
        vary: bool,
    },
    Allowed(&'a str),
    Denied,
}

impl CorsPolicy {
    /// Parses `CORS_ORIGINS`; `Err(position)` for the first entry that is not an origin.
    pub fn parse(value: Option<&str>) -> Result<CorsPolicy, usize> {
        let Some(value) = value else {
            return Ok(CorsPolicy::Off);
        };
        let entries: Vec<&str> = value.split(',').map(str::trim).filter(|e| !e.is_empty()).collect();
        if entries.is_empty() {
            return Ok(CorsPolicy::Off);
        }
        if entries.contains(&"*") {
            return if entries.len() == 1 { Ok(CorsPolicy::AnyOrigin) } else { Err(1 + entries.iter().position(|e| *e == "*").unwrap_or(0)) };
        }
        for (i, e) in entries.iter().enumerate() {
            if !is_origin(e) {
                return Err(i + 1);
            }
        }
        Ok(CorsPolicy::Origins(entries.into_iter().map(str::to_owned).collect()))
    }

    pub fn decide<'a>(&self, origin: Option<&'a str>) -> OriginDecision<'a> {
        match (self, origin) {
            (CorsPolicy::Off, _) => OriginDecision::NotCors { vary: false },
            (_, None) => OriginDecision::NotCors { vary: true },
            // Only a well-formed origin is echoed: a value with CR, LF, NUL or anything but
            // `scheme://host[:port]` (two joined origins, `null`) gets no
            // `Access-Control-Allow-Origin`, so no header line is ever injected through it.
            (CorsPolicy::AnyOrigin, Some(o)) if is_origin(o) => OriginDecision::Allowed(o),
            (CorsPolicy::AnyOrigin, Some(_)) => OriginDecision::NotCors { vary: true },
            (CorsPolicy::Origins(list), Some(o)) if list.iter().any(|l| l == o) => OriginDecision::Allowed(o),
            (CorsPolicy::Origins(_), Some(_)) => OriginDecision::Denied,
        }
    }
}

/// `scheme://host[:port]` with nothing after it.
fn is_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    let scheme_ok = !scheme.is_empty() && scheme.bytes().all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c));
    scheme_ok && !rest.is_empty() && !rest.contains(['/', '?', '#', '@', ' ']) && rest.bytes().all(|c| c.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_match_only() {
        let p = CorsPolicy::parse(Some("https://app.example.com, http://localhost:5173")).unwrap();
        assert_eq!(p.decide(Some("https://app.example.com")), OriginDecision::Allowed("https://app.example.com"));
        assert_eq!(p.decide(Some("http://localhost:5173")), OriginDecision::Allowed("http://localhost:5173"));
        for bad in [
            "https://app.example.com.evil.com",
            "https://evil-app.example.com",
            "https://app.example.co",
            "http://app.example.com",
            "https://app.example.com:443",
            "null",
            "",
        ] {
            assert_eq!(p.decide(Some(bad)), OriginDecision::Denied, "{bad}");
        }
        assert_eq!(p.decide(None), OriginDecision::NotCors { vary: true });
    }

    #[test]
    fn wildcard_echoes() {
        let p = CorsPolicy::parse(Some("*")).unwrap();
        assert_eq!(p.decide(Some("https://x.test")), OriginDecision::Allowed("https://x.test"));
    }

    #[test]
    fn wildcard_echoes_only_well_formed_origins() {
        let p = CorsPolicy::parse(Some("*")).unwrap();
        for bad in [
            "https://a.test\r\nx-injected: 1",
            "https://a.test\0",
            "https://a.test\n",
            "https://a.test, https://b.test",
            "null",
            "https://a.test/path",
            "",
            "a b",
        ] {
            assert_eq!(p.decide(Some(bad)), OriginDecision::NotCors { vary: true }, "{bad:?}");
        }
        assert_eq!(p.decide(Some("http://127.0.0.1:5173")), OriginDecision::Allowed("http://127.0.0.1:5173"));
    }

    #[test]
    fn off_ignores_origin() {
        let p = CorsPolicy::parse(None).unwrap();
        assert_eq!(p.decide(Some("https://x.test")), OriginDecision::NotCors { vary: false });
        assert_eq!(CorsPolicy::parse(Some(" ")).unwrap(), CorsPolicy::Off);
    }

    #[test]
    fn invalid_entries() {
        assert_eq!(CorsPolicy::parse(Some("https://a.test/")), Err(1));
        assert_eq!(CorsPolicy::parse(Some("https://a.test,app.test")), Err(2));
        assert_eq!(CorsPolicy::parse(Some("https://a.test,*")), Err(2));
    }
}
