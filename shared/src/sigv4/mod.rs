//! AWS Signature Version 4, query-string (presigned URL) form, for S3.
//!
//! One module per step of the AWS algorithm, so each can be read against the spec:
//! [`canonical_request`] (task 1), [`string_to_sign`] (task 2), [`signing_key`] and
//! [`signature`] (task 3). [`Presigner`] strings them together and keeps what does not change
//! per request: the endpoint, the encoded credential prefix and session token, and the day's
//! signing key and credential scope.

pub mod canonical_request;
pub mod encoding;
pub mod endpoint;
pub mod signature;
pub mod signing_key;
pub mod string_to_sign;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use percent_encoding::utf8_percent_encode;

pub use canonical_request::{SignedHeader, UNSIGNED_PAYLOAD};
pub use endpoint::{Endpoint, EndpointError};

use crate::clock::UnixTime;
use crate::secret::Secret;
use encoding::{PATH, QUERY};

/// Signing credentials. The secret is wrapped so that it cannot reach a log by `{:?}`.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// What one presigned URL allows.
#[derive(Debug, Clone, Copy)]
pub struct PresignParams<'a> {
    /// HTTP method the URL is good for (`PUT` for uploads).
    pub method: &'a str,
    /// Object key, signed byte for byte; its path is URI-encoded here.
    pub key: &'a str,
    /// Headers the client must send, lowercase names, sorted by name, without `host`.
    pub headers: &'a [SignedHeader<'a>],
    /// `X-Amz-Expires`.
    pub expires_seconds: u32,
    /// Further query parameters to sign, unencoded (e.g. the SDKs' `x-id=PutObject`).
    pub extra_query: &'a [(&'a str, &'a str)],
}

/// The per-day part of signing: derived on the first request of a UTC day, then reused.
struct DayKey {
    day: u64,
    /// HMAC-SHA256 keyed with the day's signing key (pads already hashed).
    mac: signing_key::HmacSha256,
    /// `YYYYMMDD/region/s3/aws4_request`.
    scope: String,
    /// `AKID%2FYYYYMMDD%2Fregion%2Fs3%2Faws4_request`.
    credential: String,
}

/// An instant to sign at, with what it derives (see [`Presigner::at`]).
pub struct SigningInstant {
    day: Arc<DayKey>,
    amz_date_time: [u8; 16],
}

/// Presigns S3 requests for one endpoint, region and set of credentials.
pub struct Presigner {
    endpoint: Endpoint,
    region: String,
    credentials: Credentials,
    /// The session token, already URI-encoded for the query.
    session_token_query: Option<String>,
    day_key: Mutex<Option<Arc<DayKey>>>,
}

const SERVICE: &str = "s3";

impl Presigner {
    pub fn new(endpoint: Endpoint, region: &str, credentials: Credentials) -> Presigner {
        let session_token_query = credentials.session_token.as_ref().map(|t| utf8_percent_encode(t.expose(), QUERY).to_string());
        Presigner { endpoint, region: region.to_owned(), credentials, session_token_query, day_key: Mutex::new(None) }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The signing key and scope for `now`'s UTC day, derived at most once per day.
    fn day_key(&self, now: UnixTime) -> Arc<DayKey> {
        let day = now.day_number();
        let mut slot = self.day_key.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(k) = slot.as_ref().filter(|k| k.day == day) {
            return Arc::clone(k);
        }
        let amz_date = now.to_utc().amz_date_only();
        let date = std::str::from_utf8(&amz_date).unwrap_or_default();
        let key = signing_key::signing_key(self.credentials.secret_access_key.expose(), &amz_date, &self.region, SERVICE);
        let scope = format!("{date}/{}/{SERVICE}/aws4_request", self.region);
        let mut credential = String::with_capacity(self.credentials.access_key_id.len() + scope.len() + 16);
        credential.extend(utf8_percent_encode(&self.credentials.access_key_id, QUERY));
        credential.push_str("%2F");
        credential.extend(utf8_percent_encode(&scope, QUERY));
        let fresh = Arc::new(DayKey { day, mac: signature::keyed(&key), scope, credential });
        *slot = Some(Arc::clone(&fresh));
        fresh
    }

    /// What every URL signed at `now` shares: the day's key and the `X-Amz-Date` value.
    /// Derived once for a batch, so 1,000 part URLs cost 1,000 signatures and nothing more.
    pub fn at(&self, now: UnixTime) -> SigningInstant {
        SigningInstant { day: self.day_key(now), amz_date_time: now.to_utc().amz_date_time() }
    }

    /// Returns the presigned URL for `params` at instant `now`.
    pub fn presign(&self, params: &PresignParams<'_>, now: UnixTime) -> String {
        self.presign_at(params, &self.at(now))
    }

    /// [`Presigner::presign`] at an instant from [`Presigner::at`].
    pub fn presign_at(&self, params: &PresignParams<'_>, at: &SigningInstant) -> String {
        let day = &at.day;
        let amz_date_time = std::str::from_utf8(&at.amz_date_time).unwrap_or_default();

        let host = SignedHeader { name: "host", value: self.endpoint.host() };
        let mut headers: Vec<SignedHeader<'_>> = Vec::with_capacity(params.headers.len() + 1);
        headers.extend_from_slice(params.headers);
        let at = headers.partition_point(|h| h.name < "host");
        headers.insert(at, host);

        let mut url = String::with_capacity(
            self.endpoint.url_base().len() + params.key.len() * 3 + day.credential.len() + 256 + self.session_token_query.as_ref().map_or(0, String::len),
        );
        url.push_str(self.endpoint.url_base());
        url.push('/');
        url.extend(utf8_percent_encode(params.key, PATH));
        let query_start = url.len() + 1;
        url.push('?');
        self.write_query(&mut url, params, day, amz_date_time, &headers);

        let canonical_uri = &url[self.endpoint.path_start()..query_start - 1];
        let canonical_query = &url[query_start..];
        let request_hash = canonical_request::canonical_request_hash(params.method, canonical_uri, canonical_query, &headers, UNSIGNED_PAYLOAD);
        let request_hash = encoding::HexBuf::new(&request_hash);
        let to_sign = string_to_sign::string_to_sign(amz_date_time, &day.scope, &request_hash);
        let sig = signature::signature(&day.mac, &to_sign);
        url.push_str("&X-Amz-Signature=");
        url.push_str(sig.as_str());
        url
    }

    /// Writes the canonical query string (which is also the URL's query, minus the signature):
    /// every parameter URI-encoded, sorted by encoded name.
    fn write_query(&self, url: &mut String, params: &PresignParams<'_>, day: &DayKey, amz_date_time: &str, headers: &[SignedHeader<'_>]) {
        enum Value<'v> {
            Encoded(&'v str),
            Raw(&'v str),
            Expires(u32),
            SignedHeaders(&'v [SignedHeader<'v>]),
        }
        let mut entries: Vec<(Cow<'_, str>, Value<'_>)> = Vec::with_capacity(6 + params.extra_query.len());
        entries.push((Cow::Borrowed("X-Amz-Algorithm"), Value::Encoded(string_to_sign::ALGORITHM)));
        entries.push((Cow::Borrowed("X-Amz-Credential"), Value::Encoded(&day.credential)));
        entries.push((Cow::Borrowed("X-Amz-Date"), Value::Encoded(amz_date_time)));
        entries.push((Cow::Borrowed("X-Amz-Expires"), Value::Expires(params.expires_seconds)));
        if let Some(token) = &self.session_token_query {
            entries.push((Cow::Borrowed("X-Amz-Security-Token"), Value::Encoded(token)));
        }
        entries.push((Cow::Borrowed("X-Amz-SignedHeaders"), Value::SignedHeaders(headers)));
        for (name, value) in params.extra_query {
            entries.push((Cow::from(utf8_percent_encode(name, QUERY)), Value::Raw(value)));
        }
        // The fixed names are already in order; sorting only moves extra parameters into place.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (i, (name, value)) in entries.iter().enumerate() {
            if i > 0 {
                url.push('&');
            }
            url.push_str(name);
            url.push('=');
            match value {
                Value::Encoded(v) => url.push_str(v),
                Value::Raw(v) => url.extend(utf8_percent_encode(v, QUERY)),
                Value::Expires(n) => {
                    let _ = write!(url, "{n}");
                }
                Value::SignedHeaders(hs) => {
                    for (j, h) in hs.iter().enumerate() {
                        if j > 0 {
                            url.push_str("%3B");
                        }
                        url.push_str(h.name);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
