//! The configuration: every environment variable of docs/contract.md, parsed and checked once at start.
//!
//! Values come in as a lookup function (the adapters read `std::env` or the Worker's `Env`);
//! empty values count as unset, because deployment tools (SAM parameters, `[vars]`) pass
//! empty strings for "not given". An error names the variable and what is wrong with it, and
//! never repeats the value: it may be a secret.

use std::collections::HashSet;
use std::fmt;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;

use crate::auth::{AuthConfig, Verifier};
use crate::content_type::AllowedContentTypes;
use crate::cors::CorsPolicy;
use crate::object_key::AllowedPrefixes;
use crate::secret::Secret;
use crate::sigv4::{Credentials, Endpoint, Presigner};

/// Every variable the service reads, in the order of docs/contract.md (the docs are checked against it).
pub const VARIABLES: &[&str] = &[
    "ENABLE_PRESIGN",
    "S3_BUCKET",
    "S3_REGION",
    "S3_ENDPOINT",
    "S3_FORCE_PATH_STYLE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "PRESIGN_EXPIRES_SECONDS",
    "PRESIGN_ALLOWED_PREFIXES",
    "PRESIGN_ALLOWED_CONTENT_TYPES",
    "PRESIGN_SINGLE_USE",
    "PRESIGN_MAX_BATCH",
    "PRESIGN_MAX_BYTES",
    "PRESIGN_PART_BYTES",
    "PRESIGN_REQUIRE_CHECKSUM",
    "PRESIGN_ALLOW_DELETE",
    "AUTH_JWT_SECRET",
    "AUTH_JWKS_URL",
    "AUTH_JWT_ISSUER",
    "AUTH_JWT_AUDIENCE",
    "AUTH_CLOCK_SKEW_SECONDS",
    "AUTH_JWKS_CACHE_SECONDS",
    "AUTH_KEY_PREFIX_CLAIM",
    "AUTH_MAX_TOKEN_AGE",
    "CORS_ORIGINS",
    "SERVE_OBJECTS",
    "LOG_OBJECT_KEYS",
    "MASTER_KEY_HEX",
    "SALT_HEX",
];

/// Variables whose values are secrets: never logged, never echoed.
pub const SECRET_VARIABLES: &[&str] = &["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AUTH_JWT_SECRET", "MASTER_KEY_HEX", "SALT_HEX"];

/// An invalid configuration: which variable, and what is wrong (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Configuration is invalid: {} {}.", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { variable, problem: problem.into() }
}

/// What `/presign` needs; absent when `ENABLE_PRESIGN` is not true.
pub struct PresignSettings {
    pub presigner: Presigner,
    pub expires_seconds: u32,
    pub allowed_content_types: Option<AllowedContentTypes>,
    pub single_use: bool,
    pub max_batch: usize,
    /// `PRESIGN_MAX_BYTES`: the largest object a caller may create; when set, every request
    /// that creates bytes must declare its size.
    pub max_bytes: Option<u64>,
    /// `PRESIGN_PART_BYTES`: the smallest part of the part plan.
    pub part_bytes: u64,
    /// `PRESIGN_REQUIRE_CHECKSUM`.
    pub require_checksum: bool,
    /// `PRESIGN_ALLOW_DELETE`: DeleteObject may be signed.
    pub allow_delete: bool,
}

/// 5 MiB: S3's smallest part (but the last), and the default part size.
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
/// 5 GiB: S3's largest single PUT and largest part.
pub const MAX_PUT_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// 5 TiB: S3's largest object.
pub const MAX_OBJECT_BYTES: u64 = 5 * 1024 * 1024 * 1024 * 1024;

/// The validated configuration.
pub struct Config {
    pub presign: Option<PresignSettings>,
    /// For presigning and for the Worker's object route (so kept even when presign is off).
    pub allowed_prefixes: AllowedPrefixes,
    pub auth: AuthConfig,
    pub cors: CorsPolicy,
    pub serve_objects: bool,
    /// `LOG_OBJECT_KEYS`: the audit log names the keys (off where keys are personal data).
    pub log_object_keys: bool,
}

/// Reads variables through `lookup`, treating empty (or all-space) values as unset.
struct Vars<F>(F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    fn get(&self, name: &'static str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    fn bool(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes") => Ok(true),
            Some("false" | "0" | "no") => Ok(false),
            Some(_) => Err(invalid(name, "must be true or false")),
        }
    }

    fn number(&self, name: &'static str, default: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
        let Some(v) = self.get(name) else {
            return Ok(default);
        };
        match v.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(invalid(name, format!("must be a whole number from {min} to {max}"))),
        }
    }

    /// A comma-separated list; set but without any item (`" , "`) is an error, not a default.
    fn list(&self, name: &'static str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let items: Vec<String> = v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        if items.is_empty() {
            return Err(invalid(name, "must list at least one comma-separated value"));
        }
        Ok(Some(items))
    }
}

/// Decodes base64 in any of its common spellings: standard or URL-safe, padded or not.
fn decode_base64_any(value: &str) -> Option<Vec<u8>> {
    let v = value.trim();
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD].iter().find_map(|e| e.decode(v).ok())
}

/// `https://`, or `http://` to a loopback host (local runs and tests).
fn jwks_url_allowed(url: &str) -> bool {
    let authority_of = |rest: &str| rest.split(['/', '?', '#']).next().unwrap_or_default().to_owned();
    if let Some(rest) = url.strip_prefix("https://") {
        return !authority_of(rest).is_empty();
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = authority_of(rest);
    if authority.contains('@') {
        return false;
    }
    let host = if authority.starts_with('[') {
        authority.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default().to_owned()
    };
    host == "localhost" || host == "[::1]" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

impl Config {
    /// Parses the configuration from a variable lookup (`std::env::var(..).ok()`, a map, ...).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let vars = Vars(lookup);

        let allowed_prefixes = AllowedPrefixes::new(vars.list("PRESIGN_ALLOWED_PREFIXES")?.unwrap_or_else(|| vec!["content/".to_owned()]))
            .ok_or_else(|| invalid("PRESIGN_ALLOWED_PREFIXES", "must list at least one prefix"))?;
        let presign = if vars.bool("ENABLE_PRESIGN", false)? {
            Some(Self::presign_settings(&vars)?)
        } else {
            // Still validate what would be used, so a typo is found before presign is turned on.
            vars.number("PRESIGN_EXPIRES_SECONDS", 300, 1, 604_800)?;
            None
        };
        let auth = Self::auth(&vars)?;
        let cors = CorsPolicy::parse(vars.get("CORS_ORIGINS").as_deref())
            .map_err(|i| invalid("CORS_ORIGINS", format!("entry {i} is not an origin like https://app.example.com (or a lone *)")))?;
        let serve_objects = vars.bool("SERVE_OBJECTS", false)?;
        let log_object_keys = vars.bool("LOG_OBJECT_KEYS", true)?;
        for name in ["MASTER_KEY_HEX", "SALT_HEX"] {
            // Accepted for drop-in compatibility with the key server; unused here.
            let _ = vars.get(name);
        }
        Ok(Config { presign, allowed_prefixes, auth, cors, serve_objects, log_object_keys })
    }

    /// Parses from any map of strings (tests, the Worker's `[vars]`).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Config, ConfigError> {
        let map: std::collections::HashMap<&str, &str> = pairs.into_iter().collect();
        Self::from_lookup(|k| map.get(k).map(|v| (*v).to_owned()))
    }

    fn presign_settings<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<PresignSettings, ConfigError> {
        let bucket = vars.get("S3_BUCKET").ok_or_else(|| invalid("S3_BUCKET", "is required when ENABLE_PRESIGN is true"))?;
        let bucket = bucket.trim().to_owned();
        if bucket.len() > 255 || !bucket.bytes().all(|c| c.is_ascii_alphanumeric() || b"-._".contains(&c)) {
            return Err(invalid("S3_BUCKET", "must be a bucket name (letters, digits, '-', '.', '_')"));
        }
        let region = vars.get("S3_REGION").map(|r| r.trim().to_owned()).unwrap_or_else(|| "us-east-1".to_owned());
        if region.len() > 63 || !region.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-') {
            return Err(invalid("S3_REGION", "must be a region name such as us-east-1 or auto"));
        }
        let endpoint_url = vars.get("S3_ENDPOINT");
        let force_path_style = vars.bool("S3_FORCE_PATH_STYLE", endpoint_url.is_some())?;
        let endpoint = match &endpoint_url {
            Some(url) => Endpoint::custom(url.trim(), &bucket, force_path_style).map_err(|e| invalid("S3_ENDPOINT", e.to_string()))?,
            None => Endpoint::aws(&bucket, &region, force_path_style),
        };
        let access_key_id = vars.get("AWS_ACCESS_KEY_ID").ok_or_else(|| invalid("AWS_ACCESS_KEY_ID", "is required when ENABLE_PRESIGN is true"))?;
        let secret = vars.get("AWS_SECRET_ACCESS_KEY").ok_or_else(|| invalid("AWS_SECRET_ACCESS_KEY", "is required when ENABLE_PRESIGN is true"))?;
        let credentials = Credentials {
            access_key_id: access_key_id.trim().to_owned(),
            secret_access_key: Secret::new(secret.trim()),
            session_token: vars.get("AWS_SESSION_TOKEN").map(|t| Secret::new(t.trim())),
        };
        let allowed_content_types = match vars.get("PRESIGN_ALLOWED_CONTENT_TYPES") {
            None => None,
            Some(list) => Some(
                AllowedContentTypes::parse(&list)
                    .map_err(|i| invalid("PRESIGN_ALLOWED_CONTENT_TYPES", format!("entry {i} is not a media type like video/mp2t or video/*")))?,
            ),
        };
        Ok(PresignSettings {
            presigner: Presigner::new(endpoint, &region, credentials),
            expires_seconds: vars.number("PRESIGN_EXPIRES_SECONDS", 300, 1, 604_800)? as u32,
            allowed_content_types,
            single_use: vars.bool("PRESIGN_SINGLE_USE", false)?,
            max_batch: vars.number("PRESIGN_MAX_BATCH", 100, 1, 1_000)? as usize,
            max_bytes: match vars.get("PRESIGN_MAX_BYTES") {
                None => None,
                Some(_) => Some(vars.number("PRESIGN_MAX_BYTES", 0, 0, MAX_OBJECT_BYTES)?),
            },
            part_bytes: vars.number("PRESIGN_PART_BYTES", MIN_PART_BYTES, MIN_PART_BYTES, MAX_PUT_BYTES)?,
            require_checksum: vars.bool("PRESIGN_REQUIRE_CHECKSUM", false)?,
            allow_delete: vars.bool("PRESIGN_ALLOW_DELETE", false)?,
        })
    }

    fn auth<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<AuthConfig, ConfigError> {
        let jwks_url = vars.get("AUTH_JWKS_URL").map(|u| u.trim().to_owned());
        let secret = vars.get("AUTH_JWT_SECRET");
        let verifier = match (jwks_url, secret) {
            (Some(url), _) => {
                if !jwks_url_allowed(&url) {
                    return Err(invalid("AUTH_JWKS_URL", "must be an https:// URL (http:// only to a loopback host)"));
                }
                Verifier::Jwks { url }
            }
            (None, Some(secret)) => {
                let bytes = decode_base64_any(&secret).ok_or_else(|| invalid("AUTH_JWT_SECRET", "must be base64 (standard or URL-safe)"))?;
                if bytes.len() < 32 {
                    return Err(invalid("AUTH_JWT_SECRET", "must decode to at least 32 bytes (RFC 7518 section 3.2)"));
                }
                Verifier::Hs256(crate::auth::jws::Hs256Key::new(&bytes))
            }
            (None, None) => Verifier::Off,
        };
        let set = |name| vars.list(name).map(|l| l.map(|l| l.into_iter().collect::<HashSet<String>>()));
        let prefix_claim = vars.get("AUTH_KEY_PREFIX_CLAIM").map(|c| c.trim().to_owned());
        if prefix_claim.is_some() && matches!(verifier, Verifier::Off) {
            return Err(invalid("AUTH_KEY_PREFIX_CLAIM", "needs AUTH_JWT_SECRET or AUTH_JWKS_URL (a claim needs a verified token)"));
        }
        Ok(AuthConfig {
            verifier,
            issuers: set("AUTH_JWT_ISSUER")?,
            audiences: set("AUTH_JWT_AUDIENCE")?,
            clock_skew_seconds: vars.number("AUTH_CLOCK_SKEW_SECONDS", 60, 0, 3_600)?,
            jwks_cache_seconds: vars.number("AUTH_JWKS_CACHE_SECONDS", 600, 1, 86_400)?,
            prefix_claim,
            max_token_age_seconds: match vars.get("AUTH_MAX_TOKEN_AGE") {
                None => None,
                Some(_) => Some(vars.number("AUTH_MAX_TOKEN_AGE", 0, 1, 31_536_000)?),
            },
        })
    }
}

#[cfg(test)]
mod tests;
