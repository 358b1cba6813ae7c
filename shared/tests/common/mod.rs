//! What the differential tests share: the official SDK client they compare against, and the
//! split of a presigned URL into its base and query parameters.

use std::collections::BTreeMap;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};

/// An `aws-sdk-s3` client for the case's region, credentials and endpoint; it never sends
/// anything (the tests only presign).
pub fn sdk_client(
    region: &str,
    access_key: &str,
    secret_key: &str,
    session_token: Option<&str>,
    endpoint: Option<&str>,
    force_path_style: bool,
) -> aws_sdk_s3::Client {
    let creds = Credentials::new(access_key, secret_key, session_token.map(str::to_owned), None, "differential-test");
    let mut config = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(creds)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .force_path_style(force_path_style);
    if let Some(url) = endpoint {
        config = config.endpoint_url(url);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

/// The base URL and the query parameters (`name` and `name=` both give an empty value).
pub fn split_url(url: &str) -> (String, BTreeMap<String, String>) {
    let (base, query) = url.split_once('?').expect("a presigned URL has a query");
    let query = query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    (base.to_owned(), query)
}
