//! Where the presigned URL points: scheme, host (with port) and, for path-style addressing,
//! the bucket as the first path segment. Computed once from the configuration.

use std::fmt;

/// Why an `S3_ENDPOINT` value was refused (the value itself is never repeated back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointError {
    Scheme,
    Host,
    Port,
    PathOrQuery,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndpointError::Scheme => "must start with http:// or https://",
            EndpointError::Host => "must name a host (letters, digits, dots, hyphens, or [IPv6])",
            EndpointError::Port => "has a port that is not a number from 1 to 65535",
            EndpointError::PathOrQuery => "must not have a path, query, fragment or user info",
        })
    }
}

impl std::error::Error for EndpointError {}

/// The scheme, host and path prefix that every presigned URL of one configuration starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://host[:port]` or `https://host[:port]/bucket`: everything before the key.
    url_base: String,
    /// Length of `scheme://`, so `host()` can borrow from `url_base`.
    host_start: usize,
    /// Length of `scheme://host[:port]`: the canonical URI starts here.
    path_start: usize,
}

impl Endpoint {
    /// An AWS S3 endpoint for `region`. Virtual-hosted style unless asked otherwise or the bucket
    /// cannot be a DNS label under TLS (dots, capitals, ...), as the AWS SDKs decide.
    pub fn aws(bucket: &str, region: &str, force_path_style: bool) -> Endpoint {
        let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
        let host = format!("s3.{region}.{suffix}");
        Self::build("https", &host, bucket, force_path_style || !is_virtual_hostable(bucket))
    }

    /// A custom S3-compatible endpoint (`S3_ENDPOINT`): `http(s)://host[:port]`.
    pub fn custom(url: &str, bucket: &str, force_path_style: bool) -> Result<Endpoint, EndpointError> {
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
            ("https", rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            ("http", rest)
        } else {
            return Err(EndpointError::Scheme);
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@']) {
            return Err(EndpointError::PathOrQuery);
        }
        let (host, port) = split_host_port(authority)?;
        let default_port = if scheme == "https" { 443 } else { 80 };
        let host = match port {
            Some(p) if p != default_port => format!("{}:{p}", host.to_ascii_lowercase()),
            _ => host.to_ascii_lowercase(),
        };
        // An IP address cannot take a bucket label in front of it: path style, as the SDKs do.
        let is_ip = host.starts_with('[') || host.split(':').next().is_some_and(|h| h.parse::<std::net::Ipv4Addr>().is_ok());
        Ok(Self::build(scheme, &host, bucket, force_path_style || is_ip || !is_virtual_hostable(bucket)))
    }

    fn build(scheme: &str, host: &str, bucket: &str, path_style: bool) -> Endpoint {
        let mut url_base = String::with_capacity(scheme.len() + host.len() + bucket.len() + 5);
        url_base.push_str(scheme);
        url_base.push_str("://");
        let host_start = url_base.len();
        if !path_style {
            url_base.push_str(bucket);
            url_base.push('.');
        }
        url_base.push_str(host);
        let path_start = url_base.len();
        if path_style {
            url_base.push('/');
            url_base.extend(percent_encoding::utf8_percent_encode(bucket, super::encoding::PATH));
        }
        Endpoint { url_base, host_start, path_start }
    }

    /// The `host` header value the URL will be fetched with.
    pub fn host(&self) -> &str {
        &self.url_base[self.host_start..self.path_start]
    }

    /// Everything before the `/key` part of the URL.
    pub fn url_base(&self) -> &str {
        &self.url_base
    }

    /// Where the canonical URI starts inside a URL that begins with [`Self::url_base`].
    pub fn path_start(&self) -> usize {
        self.path_start
    }
}

/// True when `bucket` can be the leftmost DNS label of an HTTPS host: 3 to 63 lowercase letters,
/// digits or hyphens, starting and ending with a letter or digit. Dots would break the TLS
/// wildcard certificate, so such buckets use path style.
pub fn is_virtual_hostable(bucket: &str) -> bool {
    let b = bucket.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.first().is_some_and(|c| c.is_ascii_alphanumeric())
        && b.last().is_some_and(|c| c.is_ascii_alphanumeric())
}

fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), EndpointError> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').ok_or(EndpointError::Host)?;
        let host = &authority[..=end];
        let inner = &host[1..host.len() - 1];
        if inner.is_empty() || !inner.bytes().all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.') {
            return Err(EndpointError::Host);
        }
        match &authority[end + 1..] {
            "" => (host, None),
            rest => (host, Some(rest.strip_prefix(':').ok_or(EndpointError::Port)?)),
        }
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let label_ok = |l: &str| !l.is_empty() && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-');
        if !host.split('.').all(label_ok) {
            return Err(EndpointError::Host);
        }
        (host, port)
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|c| c.is_ascii_digit()) => Some(n),
            _ => return Err(EndpointError::Port),
        },
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_virtual_hosted() {
        let e = Endpoint::aws("examplebucket", "us-east-1", false);
        assert_eq!(e.url_base(), "https://examplebucket.s3.us-east-1.amazonaws.com");
        assert_eq!(e.host(), "examplebucket.s3.us-east-1.amazonaws.com");
    }

    #[test]
    fn aws_dotted_bucket_is_path_style() {
        let e = Endpoint::aws("my.bucket", "eu-west-1", false);
        assert_eq!(e.url_base(), "https://s3.eu-west-1.amazonaws.com/my.bucket");
        assert_eq!(e.host(), "s3.eu-west-1.amazonaws.com");
    }

    #[test]
    fn aws_china_partition() {
        assert_eq!(Endpoint::aws("b-1", "cn-north-1", true).url_base(), "https://s3.cn-north-1.amazonaws.com.cn/b-1");
    }

    #[test]
    fn custom_with_port_path_style() {
        let e = Endpoint::custom("http://127.0.0.1:9000", "bucket", true).unwrap();
        assert_eq!(e.url_base(), "http://127.0.0.1:9000/bucket");
        assert_eq!(e.host(), "127.0.0.1:9000");
        assert_eq!(&e.url_base()[e.path_start()..], "/bucket");
    }

    #[test]
    fn custom_default_port_is_dropped_and_host_lowercased() {
        let e = Endpoint::custom("https://ACC.r2.cloudflarestorage.com:443/", "vids", false).unwrap();
        assert_eq!(e.url_base(), "https://vids.acc.r2.cloudflarestorage.com");
    }

    #[test]
    fn custom_ip_is_always_path_style() {
        let e = Endpoint::custom("http://127.0.0.1:9000", "bucket", false).unwrap();
        assert_eq!(e.url_base(), "http://127.0.0.1:9000/bucket");
    }

    #[test]
    fn custom_ipv6() {
        let e = Endpoint::custom("http://[::1]:9000", "b", true).unwrap();
        assert_eq!(e.host(), "[::1]:9000");
    }

    #[test]
    fn custom_rejects() {
        assert_eq!(Endpoint::custom("ftp://x", "b", true), Err(EndpointError::Scheme));
        assert_eq!(Endpoint::custom("http://x/y", "b", true), Err(EndpointError::PathOrQuery));
        assert_eq!(Endpoint::custom("http://u@x", "b", true), Err(EndpointError::PathOrQuery));
        assert_eq!(Endpoint::custom("http://x:0", "b", true), Err(EndpointError::Port));
        assert_eq!(Endpoint::custom("http://x:99999", "b", true), Err(EndpointError::Port));
        assert_eq!(Endpoint::custom("http://x:+1", "b", true), Err(EndpointError::Port));
        assert_eq!(Endpoint::custom("http://", "b", true), Err(EndpointError::Host));
        assert_eq!(Endpoint::custom("http://a..b", "b", true), Err(EndpointError::Host));
        assert_eq!(Endpoint::custom("http://[zz]", "b", true), Err(EndpointError::Host));
    }
}
