//! The S3 operations this service signs, and how each one is signed: method, query parameters
//! and signed headers, exactly as the contract's operation table says. Nothing else can be
//! signed: there is no variant for a download, a listing of the bucket or any other operation.

use crate::clock::UnixTime;
use crate::sigv4::{PresignParams, Presigner, SignedHeader, SigningInstant};

/// One of the seven operations of `POST /presign/request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    PutObject,
    CreateMultipartUpload,
    UploadPart,
    ListParts,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    DeleteObject,
}

impl Operation {
    /// The operation a `method` with or without `uploadId` and `partNumber` names, as S3 and
    /// Uppy's `signRequest` name them; `None` for any other combination (a `GET` or `HEAD`
    /// without `uploadId`, a `partNumber` without `uploadId` or on another method, any other
    /// method). `method` is matched case-sensitively.
    pub fn of(method: &str, upload_id: bool, part_number: bool) -> Option<Operation> {
        Some(match (method, upload_id, part_number) {
            ("PUT", false, false) => Operation::PutObject,
            ("POST", false, false) => Operation::CreateMultipartUpload,
            ("PUT", true, true) => Operation::UploadPart,
            ("GET", true, false) => Operation::ListParts,
            ("POST", true, false) => Operation::CompleteMultipartUpload,
            ("DELETE", true, false) => Operation::AbortMultipartUpload,
            ("DELETE", false, false) => Operation::DeleteObject,
            _ => return None,
        })
    }

    /// S3's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Operation::PutObject => "PutObject",
            Operation::CreateMultipartUpload => "CreateMultipartUpload",
            Operation::UploadPart => "UploadPart",
            Operation::ListParts => "ListParts",
            Operation::CompleteMultipartUpload => "CompleteMultipartUpload",
            Operation::AbortMultipartUpload => "AbortMultipartUpload",
            Operation::DeleteObject => "DeleteObject",
        }
    }

    /// The HTTP method the signed URL is for.
    pub fn method(self) -> &'static str {
        match self {
            Operation::PutObject | Operation::UploadPart => "PUT",
            Operation::CreateMultipartUpload | Operation::CompleteMultipartUpload => "POST",
            Operation::ListParts => "GET",
            Operation::AbortMultipartUpload | Operation::DeleteObject => "DELETE",
        }
    }

    /// Whether this operation writes object bytes, and so takes the size and checksum fields.
    pub fn creates_object(self) -> bool {
        matches!(self, Operation::PutObject | Operation::CreateMultipartUpload | Operation::UploadPart)
    }
}

/// The headers an operation's URL is signed with (besides `host`); `None` is "not signed".
/// Each is exactly what the client must send.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signed<'a> {
    pub content_type: Option<&'a str>,
    pub content_length: Option<u64>,
    /// Base64 of the MD5 digest.
    pub content_md5: Option<&'a str>,
    /// Base64 of the SHA-256 digest.
    pub checksum_sha256: Option<&'a str>,
    /// `*` with single-use.
    pub if_none_match: Option<&'static str>,
}

/// One S3 request to presign: the operation, the object and the upload it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S3Request<'a> {
    pub operation: Operation,
    pub key: &'a str,
    /// For UploadPart, ListParts, CompleteMultipartUpload and AbortMultipartUpload.
    pub upload_id: Option<&'a str>,
    /// For UploadPart.
    pub part_number: Option<u16>,
    pub headers: Signed<'a>,
}

impl S3Request<'_> {
    /// The presigned URL, valid `expires_seconds` from `now`.
    pub fn presign(&self, presigner: &Presigner, expires_seconds: u32, now: UnixTime) -> String {
        self.presign_at(presigner, &presigner.at(now), expires_seconds, &[])
    }

    /// [`S3Request::presign`] at an instant derived once for a whole batch, with `extra_query`
    /// signed too (the AWS SDKs sign `x-id=<operation>`; the differential test uses that).
    pub fn presign_at(&self, presigner: &Presigner, at: &SigningInstant, expires_seconds: u32, extra_query: &[(&str, &str)]) -> String {
        let part_digits = itoa_u16(self.part_number.unwrap_or(0));
        let part = part_digits.as_str();
        let mut query: [(&str, &str); 4] = [("", ""); 4];
        let mut n = 0;
        let mut add = |name, value| {
            query[n] = (name, value);
            n += 1;
        };
        match self.operation {
            Operation::CreateMultipartUpload => add("uploads", ""),
            Operation::UploadPart => {
                add("partNumber", part);
                add("uploadId", self.upload_id.unwrap_or_default());
            }
            Operation::ListParts | Operation::CompleteMultipartUpload | Operation::AbortMultipartUpload => add("uploadId", self.upload_id.unwrap_or_default()),
            Operation::PutObject | Operation::DeleteObject => {}
        }
        let mut all: Vec<(&str, &str)> = Vec::with_capacity(n + extra_query.len());
        all.extend_from_slice(&query[..n]);
        all.extend_from_slice(extra_query);

        // Sorted by name, as the signer wants them: content-length < content-md5 <
        // content-type < (host) < if-none-match < x-amz-checksum-sha256.
        let length = self.headers.content_length.map(itoa_u64);
        let length = length.as_ref().map(|l| l.as_str());
        let candidates = [
            ("content-length", length),
            ("content-md5", self.headers.content_md5),
            ("content-type", self.headers.content_type),
            ("if-none-match", self.headers.if_none_match),
            ("x-amz-checksum-sha256", self.headers.checksum_sha256),
        ];
        let mut headers: [SignedHeader<'_>; 5] = [SignedHeader { name: "", value: "" }; 5];
        let mut h = 0;
        for (name, value) in candidates {
            if let Some(value) = value {
                headers[h] = SignedHeader { name, value };
                h += 1;
            }
        }
        let params = PresignParams { method: self.operation.method(), key: self.key, headers: &headers[..h], expires_seconds, extra_query: &all };
        presigner.presign_at(&params, at)
    }
}

/// Decimal digits of a number without a heap allocation.
#[derive(Clone, Copy)]
struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[self.start..]).unwrap_or_default()
    }
}

fn itoa_u64(mut n: u64) -> Digits {
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    Digits { buf, start }
}

fn itoa_u16(n: u16) -> Digits {
    itoa_u64(n.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_operations() {
        use Operation::*;
        let table = [
            ("PUT", false, false, Some(PutObject)),
            ("POST", false, false, Some(CreateMultipartUpload)),
            ("PUT", true, true, Some(UploadPart)),
            ("GET", true, false, Some(ListParts)),
            ("POST", true, false, Some(CompleteMultipartUpload)),
            ("DELETE", true, false, Some(AbortMultipartUpload)),
            ("DELETE", false, false, Some(DeleteObject)),
            // Never a download, a listing or anything else.
            ("GET", false, false, None),
            ("HEAD", false, false, None),
            ("HEAD", true, false, None),
            ("GET", true, true, None),
            ("PUT", false, true, None),
            ("PUT", true, false, None),
            ("POST", true, true, None),
            ("DELETE", true, true, None),
            ("put", false, false, None),
            ("PATCH", false, false, None),
            ("OPTIONS", true, false, None),
            ("", false, false, None),
        ];
        for (method, id, part, op) in table {
            assert_eq!(Operation::of(method, id, part), op, "{method} {id} {part}");
            if let Some(op) = op {
                assert_eq!(op.method(), method);
            }
        }
    }

    #[test]
    fn digits() {
        assert_eq!(itoa_u64(0).as_str(), "0");
        assert_eq!(itoa_u64(5_497_558_138_880).as_str(), "5497558138880");
        assert_eq!(itoa_u64(u64::MAX).as_str(), "18446744073709551615");
        assert_eq!(itoa_u16(10_000).as_str(), "10000");
    }
}
