//! The presign use case: an authenticated caller's request body in, signed S3 requests out,
//! every rule checked before anything is signed.
//!
//! - `POST /presign` and `/presign/batch`: PutObject URLs (the key server's contract).
//! - `POST /presign/request`: any one of the seven operations (Uppy 6's `signRequest`).
//! - `POST /presign/parts`: many UploadPart URLs of one upload.

use std::borrow::Cow;
use std::cell::RefCell;

use serde_json::Number;

use crate::api::{self, BatchRequest, BatchResponse, FileRequest, PartsRequest, PartsResponse, SignRequest, SignedUpload, UploadHeaders};
use crate::audit::Audit;
use crate::auth::Caller;
use crate::clock::UnixTime;
use crate::config::{Config, PresignSettings, MAX_OBJECT_BYTES, MAX_PUT_BYTES};
use crate::content_type::parse_media_type;
use crate::error::{ApiError, ChecksumProblem};
use crate::http::{Request, Responder, Response, MAX_ANSWER_BYTES, MAX_BODY_BYTES, MAX_SINGLE_BODY};
use crate::object_key::validate_key;
use crate::operation::{Operation, S3Request, Signed};
use crate::part_plan::{PartPlan, MAX_PARTS};
use crate::sigv4::SigningInstant;

/// Which presign route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    One,
    Batch,
    Request,
    Parts,
}

impl Kind {
    fn body_limit(self) -> usize {
        match self {
            Kind::One | Kind::Request => MAX_SINGLE_BODY,
            Kind::Batch | Kind::Parts => MAX_BODY_BYTES,
        }
    }
}

/// `application/json`, with or without parameters, any case.
fn is_json(content_type: Option<&str>) -> bool {
    content_type.and_then(|v| v.split(';').next()).is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// The answer to a presign request from `caller`, who has passed auth, with its audit.
pub(crate) fn answer(
    config: &Config,
    settings: &PresignSettings,
    caller: &Caller,
    kind: Kind,
    req: &Request<'_>,
    now: UnixTime,
    reply: &Responder,
) -> Response {
    let refused = || Audit::refused(caller.subject.as_deref());
    let (mut response, audit) = match sign(config, settings, caller, kind, req, now) {
        Ok((body, audit)) => (reply.json(200, body, None), audit),
        // All or nothing: whatever was signed before a failing item is not handed out.
        Err((e, index)) => (reply.error(&e, index), refused()),
    };
    response.audit = Some(audit);
    response
}

fn sign(config: &Config, settings: &PresignSettings, caller: &Caller, kind: Kind, req: &Request<'_>, now: UnixTime) -> Result<(String, Audit), Failure> {
    if !is_json(req.content_type) {
        return Err((ApiError::UnsupportedMediaType, None));
    }
    let limit = kind.body_limit();
    if req.body.len() > limit {
        return Err((ApiError::PayloadTooLarge { limit }, None));
    }
    let cx = Signer {
        config,
        settings,
        caller,
        at: settings.presigner.at(now),
        expires_at: now.plus_seconds(settings.expires_seconds.into()).to_utc().rfc3339(),
        audit: RefCell::new(Audit::refused(caller.subject.as_deref())),
    };
    let body = match kind {
        Kind::One => cx.one(req.body),
        Kind::Batch => cx.batch(req.body),
        Kind::Request => cx.request(req.body),
        Kind::Parts => cx.parts(req.body),
    }?;
    // Checked before anything is sent: Lambda fails (5xx, and the alarms fire) on an answer
    // over 6 MB, so a request for more than this is the caller's to split.
    if body.len() > MAX_ANSWER_BYTES {
        return Err((ApiError::AnswerTooLarge { limit: MAX_ANSWER_BYTES }, None));
    }
    let mut audit = cx.audit.into_inner();
    audit.expires_at = Some(cx.expires_at);
    Ok((body, audit))
}

type Failure = (ApiError, Option<usize>);

/// JSON text is UTF-8 (RFC 8259 section 8.1). serde_json checks that only in the strings it
/// keeps, so without this a body with invalid bytes in an ignored field would be accepted
/// (found by the `handler` fuzz target).
fn parse<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, Failure> {
    let text = std::str::from_utf8(body).map_err(|_| (ApiError::InvalidJson("The request body is not valid UTF-8.".into()), None))?;
    serde_json::from_str(text).map_err(|e| (api::json_error(&e), None))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|_| (ApiError::Internal, None))
}

/// `contentLength` as an integer from `min` to `max`.
fn length(value: Option<&Number>, min: u64, max: u64) -> Result<Option<u64>, ApiError> {
    match value {
        None => Ok(None),
        Some(n) => n.as_u64().filter(|n| (min..=max).contains(n)).map(Some).ok_or(ApiError::InvalidLength { min, max }),
    }
}

/// A base64 (standard alphabet, padded) digest of `len` bytes.
fn digest<'a>(value: Option<&'a Cow<'a, str>>, len: usize, problem: ChecksumProblem) -> Result<Option<&'a str>, ApiError> {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    match value {
        None => Ok(None),
        Some(v) => match STANDARD.decode(v.as_bytes()) {
            Ok(bytes) if bytes.len() == len => Ok(Some(v)),
            _ => Err(ApiError::InvalidChecksum(problem)),
        },
    }
}

/// 1 to 1024 bytes of the characters stores use in upload ids: letters, digits and
/// `- _ . ~ + / =`. S3 answers ids of letters, digits, `.`, `_` and `-`; MinIO URL-safe base64;
/// R2 base64; Ceph RGW `2~` and URL-safe characters; SeaweedFS hex; s3s-fs a UUID. Anything
/// else (quotes, `%`, `&`, `!`...) only ever served to blow up the answer with escapes.
fn upload_id(id: &str) -> Result<&str, ApiError> {
    if (1..=1024).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~+/=".contains(&b)) {
        Ok(id)
    } else {
        Err(ApiError::InvalidUploadId)
    }
}

fn part_number(n: &Number) -> Result<u16, ApiError> {
    n.as_u64().filter(|n| (1..=MAX_PARTS).contains(n)).map(|n| n as u16).ok_or(ApiError::InvalidPart { plan: None })
}

/// Everything one request's URLs share: the rules, the caller and the signing instant.
struct Signer<'c> {
    config: &'c Config,
    settings: &'c PresignSettings,
    caller: &'c Caller,
    at: SigningInstant,
    expires_at: String,
    audit: RefCell<Audit>,
}

impl Signer<'_> {
    /// The key rules and both prefix rules.
    fn check_key(&self, key: &str) -> Result<(), ApiError> {
        validate_key(key).map_err(ApiError::InvalidKey)?;
        if !self.config.allowed_prefixes.allows(key) || !self.caller.may_write(key) {
            return Err(ApiError::PrefixNotAllowed);
        }
        Ok(())
    }

    /// A content type that is well formed and allowed; `None` only where it may be left out.
    fn content_type<'a>(&self, value: Option<&'a str>) -> Result<Option<&'a str>, ApiError> {
        let Some(value) = value else {
            return match &self.settings.allowed_content_types {
                Some(_) => Err(ApiError::InvalidJson("The field `contentType` is required: this deployment allows only some content types.".into())),
                None => Ok(None),
            };
        };
        let media = parse_media_type(value).map_err(ApiError::InvalidContentType)?;
        if self.settings.allowed_content_types.as_ref().is_some_and(|list| !list.allows(&media)) {
            return Err(ApiError::ContentTypeNotAllowed);
        }
        Ok(Some(value))
    }

    /// The declared size of what is created: required with `PRESIGN_MAX_BYTES`, and never
    /// above it.
    fn bounded(&self, value: Option<&Number>, min: u64, max: u64) -> Result<Option<u64>, ApiError> {
        let declared = length(value, min, max)?;
        match (declared, self.settings.max_bytes) {
            (None, Some(_)) => Err(ApiError::LengthRequired),
            (Some(n), Some(limit)) if n > limit => Err(ApiError::TooLarge { max: limit }),
            _ => Ok(declared),
        }
    }

    /// The signed headers of a PutObject.
    fn put<'a>(
        &self,
        content_type: Option<&'a str>,
        length: Option<&Number>,
        md5: Option<&'a Cow<'a, str>>,
        sha256: Option<&'a Cow<'a, str>>,
    ) -> Result<Signed<'a>, ApiError> {
        let content_type = self.content_type(content_type)?;
        let content_length = self.bounded(length, 0, MAX_PUT_BYTES)?;
        let content_md5 = digest(md5, 16, ChecksumProblem::Md5)?;
        let checksum_sha256 = digest(sha256, 32, ChecksumProblem::Sha256)?;
        if self.settings.require_checksum && content_md5.is_none() && checksum_sha256.is_none() {
            return Err(ApiError::ChecksumRequired { part: false });
        }
        Ok(Signed { content_type, content_length, content_md5, checksum_sha256, if_none_match: self.settings.single_use.then_some("*") })
    }

    /// The signed headers of an UploadPart: the part plan's length for this part when the
    /// object's size is declared, and the part's MD5.
    fn part<'a>(&self, number: u16, plan: Option<PartPlan>, md5: Option<&'a Cow<'a, str>>) -> Result<Signed<'a>, ApiError> {
        let content_length = match plan {
            None => None,
            Some(plan) => Some(plan.part_len(number.into()).ok_or(ApiError::InvalidPart { plan: Some((plan.count() as u32, plan.part_bytes())) })?),
        };
        let content_md5 = digest(md5, 16, ChecksumProblem::Md5)?;
        if self.settings.require_checksum && content_md5.is_none() {
            return Err(ApiError::ChecksumRequired { part: true });
        }
        Ok(Signed { content_length, content_md5, ..Signed::default() })
    }

    /// The part plan of a multipart object whose size is (or, with a limit, must be) declared.
    fn plan(&self, object_length: Option<&Number>) -> Result<Option<PartPlan>, ApiError> {
        Ok(self.bounded(object_length, 1, MAX_OBJECT_BYTES)?.map(|len| PartPlan::new(len, self.settings.part_bytes)))
    }

    fn sign<'a>(&self, request: &S3Request<'a>, named: bool) -> SignedUpload<'a> {
        self.audit.borrow_mut().signed(request.operation.name(), request.key, self.config.log_object_keys, request.part_number, request.headers.content_length);
        if let (Some(id), Operation::UploadPart | Operation::ListParts | Operation::CompleteMultipartUpload | Operation::AbortMultipartUpload) =
            (request.upload_id, request.operation)
        {
            self.audit.borrow_mut().upload_id.get_or_insert_with(|| id.to_owned());
        }
        SignedUpload {
            url: request.presign_at(&self.settings.presigner, &self.at, self.settings.expires_seconds, &[]),
            method: request.operation.method(),
            headers: UploadHeaders(request.headers),
            expires_at: self.expires_at.clone(),
            key: request.key,
            operation: named.then_some(request.operation.name()),
            part_number: None,
        }
    }

    /// One `/presign` file: a PutObject with a content type.
    fn file<'a>(&self, f: &'a FileRequest<'a>) -> Result<SignedUpload<'a>, ApiError> {
        self.check_key(&f.key)?;
        let headers = self.put(Some(&f.content_type), f.content_length.as_ref(), f.content_md5.as_ref(), f.checksum_sha256.as_ref())?;
        Ok(self.sign(&S3Request { operation: Operation::PutObject, key: &f.key, upload_id: None, part_number: None, headers }, false))
    }

    fn one(&self, body: &[u8]) -> Result<String, Failure> {
        let file: FileRequest<'_> = parse(body)?;
        to_json(&self.file(&file).map_err(|e| (e, None))?)
    }

    fn batch(&self, body: &[u8]) -> Result<String, Failure> {
        let batch: BatchRequest<'_> = parse(body)?;
        if batch.files.is_empty() || batch.files.len() > self.settings.max_batch {
            return Err((ApiError::InvalidJson(format!("A batch holds 1 to {} files.", self.settings.max_batch).into()), None));
        }
        let uploads = batch.files.iter().enumerate().map(|(i, f)| self.file(f).map_err(|e| (e, Some(i)))).collect::<Result<Vec<_>, _>>()?;
        to_json(&BatchResponse { uploads })
    }

    fn request(&self, body: &[u8]) -> Result<String, Failure> {
        let r: SignRequest<'_> = parse(body)?;
        to_json(&self.sign_request(&r).map_err(|e| (e, None))?)
    }

    /// `/presign/request`: the operation the fields name, checked and signed.
    fn sign_request<'a>(&self, r: &'a SignRequest<'a>) -> Result<SignedUpload<'a>, ApiError> {
        let operation = Operation::of(&r.method, r.upload_id.is_some(), r.part_number.is_some()).ok_or(ApiError::InvalidOperation)?;
        if operation == Operation::DeleteObject && !self.settings.allow_delete {
            return Err(ApiError::OperationNotAllowed);
        }
        self.check_key(&r.key)?;
        let upload_id = r.upload_id.as_deref().map(upload_id).transpose()?;
        let part_number = r.part_number.as_ref().map(part_number).transpose()?;
        let headers = match operation {
            Operation::PutObject => self.put(r.content_type.as_deref(), r.content_length.as_ref(), r.content_md5.as_ref(), r.checksum_sha256.as_ref())?,
            Operation::CreateMultipartUpload => {
                let content_type = self.content_type(r.content_type.as_deref())?;
                self.plan(r.content_length.as_ref())?;
                Signed { content_type, ..Signed::default() }
            }
            Operation::UploadPart => {
                if r.checksum_sha256.is_some() {
                    return Err(ApiError::InvalidChecksum(ChecksumProblem::Sha256OnPart));
                }
                let plan = self.plan(r.content_length.as_ref())?;
                // `Operation::of` names UploadPart only when a partNumber is given.
                let number = part_number.ok_or(ApiError::InvalidPart { plan: None })?;
                self.part(number, plan, r.content_md5.as_ref())?
            }
            Operation::CompleteMultipartUpload => Signed { if_none_match: self.settings.single_use.then_some("*"), ..Signed::default() },
            Operation::ListParts | Operation::AbortMultipartUpload | Operation::DeleteObject => Signed::default(),
        };
        Ok(self.sign(&S3Request { operation, key: &r.key, upload_id, part_number, headers }, true))
    }

    /// `/presign/parts`: UploadPart URLs for many parts of one upload, all or nothing.
    fn parts(&self, body: &[u8]) -> Result<String, Failure> {
        let r: PartsRequest<'_> = parse(body)?;
        let whole = |e| (e, None);
        if r.parts.is_empty() || r.parts.len() > self.settings.max_batch {
            return Err(whole(ApiError::InvalidJson(format!("A parts request holds 1 to {} parts.", self.settings.max_batch).into())));
        }
        self.check_key(&r.key).map_err(whole)?;
        let id = upload_id(&r.upload_id).map_err(whole)?;
        let plan = self.plan(r.content_length.as_ref()).map_err(whole)?;
        let parts = r
            .parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let signed = part_number(&p.part_number).and_then(|n| {
                    if p.checksum_sha256.is_some() {
                        return Err(ApiError::InvalidChecksum(ChecksumProblem::Sha256OnPart));
                    }
                    let headers = self.part(n, plan, p.content_md5.as_ref())?;
                    let request = S3Request { operation: Operation::UploadPart, key: &r.key, upload_id: Some(id), part_number: Some(n), headers };
                    Ok(SignedUpload { part_number: Some(n), ..self.sign(&request, true) })
                });
                signed.map_err(|e| (e, Some(i)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        to_json(&PartsResponse { parts })
    }
}
