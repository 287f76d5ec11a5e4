//! The pure core: a request's method, path, query and declared body size,
//! and who it acts for, in; an [`Action`] (a [`Decision`] to presign, or a
//! share link to mint) or a [`Rejection`] out. Nothing here does I/O, so every
//! rule is a unit test away.

pub mod download;
pub mod grant;
pub mod key;
pub mod multipart;
pub mod query;
pub mod tenant;
pub mod units;

use std::time::Duration;

use http::Method;

use base64::Engine;
use download::FileNameError;
use grant::{Grant, Methods, MethodsError};
use key::{KeyError, KeyPrefix, ObjectKey};
use multipart::UploadId;
use query::Query;
use tenant::{Scope, StorageKey, TenantId};
use units::UnitError;

/// What the `Allow` header lists.
pub const ALLOWED_METHODS: &str = "GET, HEAD, PUT, DELETE, OPTIONS";

/// The S3 operation a presigned URL is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `GetObject`: a download.
    Get,
    /// `HeadObject`: length, type and ETag without the bytes.
    Head,
    /// `PutObject`: an upload of up to 5 GiB.
    Put,
    /// `DeleteObject`.
    Delete,
    /// `UploadPart`: one part of a multipart upload.
    UploadPart,
}

impl Operation {
    /// The operation a method asks for, if it is one the gateway redirects.
    #[must_use]
    pub fn from_method(method: &Method) -> Option<Self> {
        match *method {
            Method::GET => Some(Self::Get),
            Method::HEAD => Some(Self::Head),
            Method::PUT => Some(Self::Put),
            Method::DELETE => Some(Self::Delete),
            _ => None,
        }
    }

    /// The method the presigned URL must be used with (a 307 keeps it).
    #[must_use]
    pub fn method(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Put | Self::UploadPart => "PUT",
            Self::Delete => "DELETE",
        }
    }

    /// S3's name for it, as logs show it.
    #[must_use]
    pub fn s3_name(self) -> &'static str {
        match self {
            Self::Get => "GetObject",
            Self::Head => "HeadObject",
            Self::Put => "PutObject",
            Self::UploadPart => "UploadPart",
            Self::Delete => "DeleteObject",
        }
    }

    fn reads(self) -> bool {
        matches!(self, Self::Get | Self::Head)
    }
}

/// Where the key comes from: some front doors hand over the path still
/// percent-encoded, others (API Gateway path parameters) already decoded it.
#[derive(Debug, Clone, Copy)]
pub enum KeyPath<'a> {
    /// As sent on the wire; decoded exactly once here.
    Encoded(&'a str),
    /// Decoded by the front door; taken as it is.
    Decoded(&'a str),
}

/// How much body the client declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodySize {
    /// Neither `Content-Length` nor `Transfer-Encoding`: no body.
    Absent,
    /// `Content-Length`.
    Known(u64),
    /// `Transfer-Encoding: chunked` with no length: storage cannot take it.
    Unknown,
}

/// Request headers that shape an upload. Those the client sends are signed
/// into the URL, so storage checks them; nothing else is.
#[derive(Debug, Clone, Copy, Default)]
pub struct UploadHeaders<'a> {
    /// `Upload-Length`: the size of a body not sent with this request.
    pub upload_length: Option<&'a str>,
    /// `Content-MD5`: storage refuses a body with another digest.
    pub content_md5: Option<&'a str>,
    /// `If-None-Match: *`: storage refuses to overwrite.
    pub if_none_match: Option<&'a str>,
    /// `x-amz-meta-sha256`: the whole file's SHA-256, kept as metadata.
    pub sha256: Option<&'a str>,
}

/// The parts of a request the decision depends on.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The HTTP method.
    pub method: &'a Method,
    /// The object's path, without any stage or mount prefix.
    pub path: KeyPath<'a>,
    /// The declared body size.
    pub body: BodySize,
    /// Headers that shape an upload.
    pub upload: UploadHeaders<'a>,
}

/// Rules from configuration that every decision follows.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Folder every key is placed under.
    pub prefix: KeyPrefix,
    /// Folder the tenants' folders are in (`tenants/`).
    pub tenants: KeyPrefix,
    /// How long a presigned URL lives, before any cap from the credentials.
    pub expires_in: Duration,
    /// The longest lifetime a share link may be given.
    pub max_share_ttl: Duration,
    /// The largest object accepted, by single PUT or multipart.
    pub max_object_size: Option<u64>,
}

impl Policy {
    /// URLs that live `expires_in`, no key prefix, tenants under `tenants/`,
    /// share links of up to a year: the defaults of `serve`.
    #[must_use]
    pub fn new(expires_in: Duration) -> Self {
        Self {
            prefix: KeyPrefix::default(),
            tenants: KeyPrefix::new("tenants").unwrap_or_default(),
            expires_in,
            max_share_ttl: Duration::from_secs(365 * 86_400),
            max_object_size: None,
        }
    }

    /// Where `tenant`'s keys live.
    #[must_use]
    pub fn scope<'a>(&'a self, tenant: Option<&'a TenantId>) -> Scope<'a> {
        Scope::new(&self.prefix, &self.tenants, tenant)
    }
}

/// Who a request acts for, once authenticated.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    /// An authenticated tenant, or `None` for the single tenant of `--auth none`.
    Owner(Option<&'a TenantId>),
    /// The holder of a share link whose token checked out.
    Link(&'a Grant),
}

/// Headers storage should answer a download with, carried in the URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseOverrides {
    /// `response-content-type`.
    pub content_type: Option<String>,
    /// `response-content-disposition`.
    pub content_disposition: Option<String>,
}

/// Everything needed to presign one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Which S3 operation.
    pub operation: Operation,
    /// The full storage key, prefix and tenant folder included.
    pub key: StorageKey,
    /// The lifetime asked for.
    pub expires_in: Duration,
    /// Download headers for storage to send.
    pub response: ResponseOverrides,
    /// Request headers signed into the URL, which storage then checks: only
    /// headers the client sends itself and resends unchanged on the redirect.
    pub signed_headers: Vec<(&'static str, String)>,
    /// For `UploadPart`: the upload and the part number.
    pub part: Option<(UploadId, u16)>,
}

impl MultipartStep {
    /// S3's name for the call, as logs show it.
    #[must_use]
    pub fn s3_name(&self) -> &'static str {
        match self {
            Self::Create { .. } => "CreateMultipartUpload",
            Self::ListParts(_) => "ListParts",
            Self::Complete { .. } => "CompleteMultipartUpload",
            Self::Abort(_) => "AbortMultipartUpload",
        }
    }
}

/// A multipart step the gateway performs itself, against storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartOrder {
    /// The object's key as the client names it.
    pub object: ObjectKey,
    /// The object's storage key.
    pub key: StorageKey,
    /// What to do.
    pub step: MultipartStep,
}

/// The server-side multipart calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartStep {
    /// `CreateMultipartUpload`, with the type and SHA-256 to keep.
    Create {
        /// The object's `Content-Type`, from its extension.
        content_type: Option<String>,
        /// The whole file's SHA-256, hex, if the client sent it.
        sha256: Option<String>,
    },
    /// `ListParts`: what is stored so far, for resuming.
    ListParts(UploadId),
    /// `CompleteMultipartUpload` from the client's part list.
    Complete {
        /// The upload.
        upload: UploadId,
        /// `If-None-Match: *`: refuse to overwrite.
        if_none_match: bool,
    },
    /// `AbortMultipartUpload`.
    Abort(UploadId),
}

/// A share link to mint for an owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareOrder {
    /// Whose key.
    pub tenant: Option<TenantId>,
    /// The key as the tenant names it.
    pub key: ObjectKey,
    /// What the link allows.
    pub methods: Methods,
    /// How long the link lives.
    pub ttl: Duration,
    /// The largest upload, for links that allow PUT.
    pub max_size: Option<u64>,
}

impl ShareOrder {
    /// The grant the link carries, counted from `now` in whole seconds.
    #[must_use]
    pub fn into_grant(self, now: std::time::SystemTime) -> Grant {
        let since_epoch = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let expires_at = std::time::UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs()) + self.ttl;
        Grant { tenant: self.tenant, key: self.key, methods: self.methods, expires_at, max_size: self.max_size }
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer with a 307 to a presigned URL.
    Presign(Decision),
    /// Answer with a new share link.
    Share(ShareOrder),
    /// Perform a multipart step against storage.
    Multipart(MultipartOrder),
}

/// Why a request gets no redirect. Each variant is a client mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Only GET, HEAD, PUT and DELETE are redirected (and POST creates links).
    #[error("{0} is not supported: use GET, HEAD, PUT or DELETE (or POST ?share for a share link)")]
    MethodNotAllowed(Method),
    /// The path is not a usable key.
    #[error("{0}")]
    Key(#[from] KeyError),
    /// The name asked for by `?download=`.
    #[error("{0}")]
    FileName(#[from] FileNameError),
    /// `?download` on a PUT or DELETE.
    #[error("`download` applies to GET and HEAD only")]
    DownloadOnWrite,
    /// A parameter given twice is ambiguous.
    #[error("`{0}` appears more than once in the query")]
    RepeatedParameter(&'static str),
    /// A chunked upload: S3 needs the size before the first byte.
    #[error("storage needs the upload's size up front (Content-Length): save standard input to a file and upload that")]
    LengthRequired,
    /// `?share` with another method than POST.
    #[error("share links are created with POST /<key>?share&ttl=SECONDS")]
    ShareNeedsPost,
    /// A share link without a lifetime.
    #[error("a share link needs a lifetime: add ttl=SECONDS (or 30m, 12h, 30d)")]
    TtlRequired,
    /// A lifetime or size that does not parse.
    #[error("{0}")]
    Unit(#[from] UnitError),
    /// A lifetime beyond the configured maximum.
    #[error("ttl must be between 1 second and {} seconds", .0.as_secs())]
    TtlOutOfRange(Duration),
    /// A methods list that does not parse.
    #[error("{0}")]
    Methods(#[from] MethodsError),
    /// `max_size` on a link that cannot upload.
    #[error("max_size applies to links that allow PUT")]
    MaxSizeWithoutPut,
    /// A link used to make another link.
    #[error("a share link cannot create share links")]
    LinkCannotShare,
    /// A link used for another key.
    #[error("this share link is for another file")]
    LinkForAnotherKey,
    /// A link used with a method it does not allow.
    #[error("this share link does not allow {0}")]
    LinkMethod(&'static str),
    /// An upload over a size limit.
    #[error("uploads here take at most {0} bytes")]
    TooLarge(u64),
    /// A single PUT over S3's 5 GiB.
    #[error("a single PUT takes at most 5 GiB: upload in parts (POST ?uploads), as `presign-gateway upload` does")]
    UseMultipart,
    /// An upload whose size must be known but was not declared.
    #[error("declare the upload's size: send Content-Length, or Upload-Length when asking for the URL without a body")]
    SizeRequired,
    /// `Upload-Length` that is not a number, or disagrees with `Content-Length`.
    #[error("Upload-Length must be the body's size in bytes, and match Content-Length when both are sent")]
    UploadLength,
    /// `Content-MD5` that is not the base64 of 16 bytes.
    #[error("Content-MD5 must be the base64 of a 16-byte MD5 digest")]
    ContentMd5,
    /// `If-None-Match` other than `*` on an upload.
    #[error("uploads take only If-None-Match: * (do not overwrite)")]
    IfNoneMatch,
    /// `x-amz-meta-sha256` that is not 64 hex digits.
    #[error("x-amz-meta-sha256 must be 64 hex digits")]
    Sha256,
    /// A malformed upload id.
    #[error("uploadId must be 1 to 1024 printable characters")]
    UploadId,
    /// A part number out of S3's range.
    #[error("partNumber must be a whole number from 1 to 10000")]
    PartNumber,
    /// Multipart parameters used the wrong way.
    #[error("{0}")]
    MultipartUsage(&'static str),
    /// A completion body that does not parse or breaks the rules.
    #[error("the part list: {0}")]
    Completion(&'static str),
    /// A listed part that storage does not hold, or holds with another ETag.
    #[error("part {0} is not stored with that ETag")]
    InvalidPart(u16),
    /// A part under 5 MiB that is not the last.
    #[error("part {0} is smaller than 5 MiB but not the last")]
    PartTooSmall(u16),
    /// Share links do not do multipart.
    #[error("share links cannot run multipart uploads: upload through the link with one PUT")]
    LinkMultipart,
}

/// Maps a request to an action, or says why not.
pub fn decide(request: &Incoming<'_>, query: &Query, caller: Caller<'_>, policy: &Policy) -> Result<Action, Rejection> {
    let method = request.method;
    let multipart = query.uploads || query.upload_id.is_some() || query.part_number.is_some();
    if *method == Method::POST {
        let key = object_key(request.path)?;
        if query.share {
            return share(key, query, caller, policy).map(Action::Share);
        }
        if multipart {
            return multipart_post(request, key, query, caller, policy);
        }
        return Err(Rejection::MethodNotAllowed(method.clone()));
    }
    let operation = Operation::from_method(method).ok_or_else(|| Rejection::MethodNotAllowed(method.clone()))?;
    if query.share {
        return Err(Rejection::ShareNeedsPost);
    }
    let key = object_key(request.path)?;
    if multipart {
        return multipart_request(request, operation, key, query, caller, policy);
    }
    let (tenant, link_limit) = match caller {
        Caller::Owner(tenant) => (tenant, None),
        Caller::Link(grant) => {
            if grant.key != key {
                return Err(Rejection::LinkForAnotherKey);
            }
            if !grant.methods.allows(operation) {
                return Err(Rejection::LinkMethod(operation.method()));
            }
            (grant.tenant.as_ref(), grant.max_size)
        }
    };
    let signed_headers = if operation == Operation::Put {
        upload_headers(request, limit(policy.max_object_size, link_limit), false)?
    } else {
        Vec::new()
    };
    let response = if operation.reads() {
        download_headers(&key, query.download.as_deref())?
    } else if query.download.is_some() {
        return Err(Rejection::DownloadOnWrite);
    } else {
        ResponseOverrides::default()
    };
    let key = policy.scope(tenant).storage_key(&key)?;
    Ok(Action::Presign(Decision {
        operation,
        key,
        expires_in: policy.expires_in,
        response,
        signed_headers,
        part: None,
    }))
}

/// The smaller of two optional limits.
fn limit(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The headers signed into an upload URL: the declared length (always, so
/// storage refuses another size), `Content-MD5`, and for whole objects
/// `If-None-Match: *` and the SHA-256 metadata.
fn upload_headers(
    request: &Incoming<'_>,
    max: Option<u64>,
    part: bool,
) -> Result<Vec<(&'static str, String)>, Rejection> {
    let headers = request.upload;
    let announced =
        headers.upload_length.map(|v| v.trim().parse::<u64>().map_err(|_| Rejection::UploadLength)).transpose()?;
    let declared = match (request.body, announced) {
        (BodySize::Unknown, _) => return Err(Rejection::LengthRequired),
        (BodySize::Known(length), Some(announced)) if length > 0 && length != announced => {
            return Err(Rejection::UploadLength);
        }
        (_, Some(announced)) => Some(announced),
        (BodySize::Known(length), None) => Some(length),
        (BodySize::Absent, None) => None,
    };
    let mut signed = Vec::new();
    match declared {
        Some(length) if length > multipart::MAX_PART_BYTES => {
            return Err(if part { Rejection::TooLarge(multipart::MAX_PART_BYTES) } else { Rejection::UseMultipart });
        }
        Some(length) if max.is_some_and(|max| length > max) => return Err(Rejection::TooLarge(max.unwrap_or(0))),
        Some(length) => signed.push(("content-length", length.to_string())),
        None if max.is_some() => return Err(Rejection::SizeRequired),
        None => {}
    }
    if let Some(md5) = headers.content_md5 {
        let digest = base64::engine::general_purpose::STANDARD.decode(md5.trim()).map_err(|_| Rejection::ContentMd5)?;
        if digest.len() != 16 {
            return Err(Rejection::ContentMd5);
        }
        signed.push(("content-md5", md5.trim().to_owned()));
    }
    if !part {
        if let Some(condition) = headers.if_none_match {
            if condition.trim() != "*" {
                return Err(Rejection::IfNoneMatch);
            }
            signed.push(("if-none-match", "*".to_owned()));
        }
        if let Some(sha256) = sha256(headers)? {
            signed.push(("x-amz-meta-sha256", sha256));
        }
    }
    Ok(signed)
}

fn sha256(headers: UploadHeaders<'_>) -> Result<Option<String>, Rejection> {
    headers
        .sha256
        .map(|hex| {
            let hex = hex.trim().to_ascii_lowercase();
            let valid = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
            if valid { Ok(hex) } else { Err(Rejection::Sha256) }
        })
        .transpose()
}

/// Multipart runs for owners only: links grant single requests.
fn owner(caller: Caller<'_>) -> Result<Option<&TenantId>, Rejection> {
    match caller {
        Caller::Owner(tenant) => Ok(tenant),
        Caller::Link(_) => Err(Rejection::LinkMultipart),
    }
}

fn upload_id(query: &Query) -> Result<UploadId, Rejection> {
    UploadId::new(query.upload_id.as_deref().ok_or(Rejection::MultipartUsage("add uploadId"))?)
}

/// `POST ?uploads` and `POST ?uploadId=ID`.
fn multipart_post(
    request: &Incoming<'_>,
    key: ObjectKey,
    query: &Query,
    caller: Caller<'_>,
    policy: &Policy,
) -> Result<Action, Rejection> {
    let tenant = owner(caller)?;
    let step = match (query.uploads, &query.upload_id, &query.part_number) {
        (true, None, None) => MultipartStep::Create {
            content_type: download::content_type_for(key.file_name()),
            sha256: sha256(request.upload)?,
        },
        (false, Some(_), None) => {
            let if_none_match = match request.upload.if_none_match.map(str::trim) {
                None => false,
                Some("*") => true,
                Some(_) => return Err(Rejection::IfNoneMatch),
            };
            MultipartStep::Complete { upload: upload_id(query)?, if_none_match }
        }
        _ => {
            return Err(Rejection::MultipartUsage(
                "POST takes ?uploads to start an upload, or ?uploadId=ID to complete it",
            ));
        }
    };
    Ok(Action::Multipart(MultipartOrder { key: policy.scope(tenant).storage_key(&key)?, object: key, step }))
}

/// `PUT ?partNumber=N&uploadId=ID`, `GET ?uploadId=ID`, `DELETE ?uploadId=ID`.
fn multipart_request(
    request: &Incoming<'_>,
    operation: Operation,
    key: ObjectKey,
    query: &Query,
    caller: Caller<'_>,
    policy: &Policy,
) -> Result<Action, Rejection> {
    let tenant = owner(caller)?;
    if query.uploads {
        return Err(Rejection::MultipartUsage("start a multipart upload with POST ?uploads"));
    }
    let upload = upload_id(query)?;
    let object = key;
    let key = policy.scope(tenant).storage_key(&object)?;
    let step = match (operation, &query.part_number) {
        (Operation::Put, Some(number)) => {
            let number = multipart::part_number(number)?;
            let signed_headers = upload_headers(request, policy.max_object_size, true)?;
            let decision = Decision {
                operation: Operation::UploadPart,
                key,
                expires_in: policy.expires_in,
                response: ResponseOverrides::default(),
                signed_headers,
                part: Some((upload, number)),
            };
            return Ok(Action::Presign(decision));
        }
        (Operation::Get, None) => MultipartStep::ListParts(upload),
        (Operation::Delete, None) => MultipartStep::Abort(upload),
        _ => {
            return Err(Rejection::MultipartUsage(
                "with uploadId: PUT ?partNumber=N uploads a part, GET lists the parts, DELETE aborts",
            ));
        }
    };
    Ok(Action::Multipart(MultipartOrder { object, key, step }))
}

fn object_key(path: KeyPath<'_>) -> Result<ObjectKey, KeyError> {
    match path {
        KeyPath::Encoded(path) => ObjectKey::from_encoded_path(path),
        KeyPath::Decoded(path) => ObjectKey::from_decoded_path(path),
    }
}

fn share(key: ObjectKey, query: &Query, caller: Caller<'_>, policy: &Policy) -> Result<ShareOrder, Rejection> {
    let Caller::Owner(tenant) = caller else { return Err(Rejection::LinkCannotShare) };
    let ttl = units::parse_duration(query.ttl.as_deref().ok_or(Rejection::TtlRequired)?)?;
    if ttl.is_zero() || ttl > policy.max_share_ttl {
        return Err(Rejection::TtlOutOfRange(policy.max_share_ttl));
    }
    let methods = query.methods.as_deref().map_or(Ok(Methods::DOWNLOAD), Methods::parse)?;
    let max_size = query.max_size.as_deref().map(units::parse_size).transpose()?;
    if max_size.is_some() && !methods.allows_put() {
        return Err(Rejection::MaxSizeWithoutPut);
    }
    // The key must fit in the tenant's scope now, or the link could never work.
    policy.scope(tenant).storage_key(&key)?;
    Ok(ShareOrder { tenant: tenant.cloned(), key, methods, ttl, max_size })
}

fn download_headers(key: &ObjectKey, download: Option<&str>) -> Result<ResponseOverrides, Rejection> {
    let content_disposition = match download {
        None => None,
        Some("") => Some(download::attachment(key.file_name())),
        Some(name) => {
            download::check_file_name(name)?;
            Some(download::attachment(name))
        }
    };
    Ok(ResponseOverrides { content_type: download::content_type_for(key.file_name()), content_disposition })
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn policy(prefix: &str) -> Policy {
        Policy {
            prefix: KeyPrefix::new(prefix).unwrap(),
            tenants: KeyPrefix::new("tenants").unwrap(),
            expires_in: Duration::from_secs(300),
            max_share_ttl: DAY * 365,
            max_object_size: None,
        }
    }

    fn request<'a>(method: &'a Method, path: &'a str) -> Incoming<'a> {
        Incoming { method, path: KeyPath::Encoded(path), body: BodySize::Absent, upload: UploadHeaders::default() }
    }

    fn act(request: &Incoming<'_>, query: Option<&str>, caller: Caller<'_>, prefix: &str) -> Result<Action, Rejection> {
        decide(request, &Query::parse(query)?, caller, &policy(prefix))
    }

    fn decided(method: &Method, path: &str, query: Option<&str>) -> Result<Decision, Rejection> {
        match act(&request(method, path), query, Caller::Owner(None), "")? {
            Action::Presign(decision) => Ok(decision),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn shared(path: &str, query: &str, caller: Caller<'_>) -> Result<ShareOrder, Rejection> {
        match act(&request(&Method::POST, path), Some(query), caller, "")? {
            Action::Share(order) => Ok(order),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn methods_map_to_operations() {
        let cases = [
            (Method::GET, Ok(Operation::Get)),
            (Method::HEAD, Ok(Operation::Head)),
            (Method::PUT, Ok(Operation::Put)),
            (Method::DELETE, Ok(Operation::Delete)),
            (Method::PATCH, Err(Rejection::MethodNotAllowed(Method::PATCH))),
            (Method::POST, Err(Rejection::MethodNotAllowed(Method::POST))),
            (Method::OPTIONS, Err(Rejection::MethodNotAllowed(Method::OPTIONS))),
        ];
        for (method, expected) in cases {
            assert_eq!(decided(&method, "/f.txt", None).map(|d| d.operation), expected, "{method}");
        }
    }

    #[test]
    fn the_method_is_checked_before_the_key() {
        assert_eq!(decided(&Method::PATCH, "/../x", None), Err(Rejection::MethodNotAllowed(Method::PATCH)));
    }

    #[test]
    fn keys_prefixes_and_tenants() {
        let acme = TenantId::new("acme").unwrap();
        let cases = [
            ("", None, "/a b.txt", Ok("a b.txt")),
            ("", None, "/a%20b.txt", Ok("a b.txt")),
            ("uploads", None, "/x/y.bin", Ok("uploads/x/y.bin")),
            ("", Some(&acme), "/x/y.bin", Ok("tenants/acme/x/y.bin")),
            ("p/", Some(&acme), "/%E2%9C%93", Ok("p/tenants/acme/\u{2713}")),
            ("p", Some(&acme), "/a//b", Err(Rejection::Key(KeyError::EmptySegment))),
            ("p", Some(&acme), "/%2e%2e/q", Err(Rejection::Key(KeyError::DotSegment))),
            ("p", None, "/", Err(Rejection::Key(KeyError::Empty))),
        ];
        for (prefix, tenant, path, expected) in cases {
            let decided = act(&request(&Method::GET, path), None, Caller::Owner(tenant), prefix);
            let key = decided.map(|action| match action {
                Action::Presign(decision) => decision.key.as_str().to_owned(),
                other => panic!("unexpected {other:?}"),
            });
            assert_eq!(key, expected.map(str::to_owned), "{prefix} {tenant:?} {path}");
        }
    }

    #[test]
    fn decoded_paths_are_taken_as_they_are() {
        let incoming = Incoming { path: KeyPath::Decoded("/b%20c.txt"), ..request(&Method::GET, "/") };
        let Ok(Action::Presign(decision)) = act(&incoming, None, Caller::Owner(None), "") else { panic!() };
        assert_eq!(decision.key.as_str(), "b%20c.txt");
    }

    #[test]
    fn downloads_get_a_type_and_on_request_a_disposition() {
        let cases = [
            (Method::GET, "/a/photo.jpg", None, Some("image/jpeg"), None),
            (Method::GET, "/README", None, None, None),
            (Method::HEAD, "/a/doc.pdf", None, Some("application/pdf"), None),
            (
                Method::GET,
                "/a/doc.pdf",
                Some("download"),
                Some("application/pdf"),
                Some("attachment; filename=\"doc.pdf\""),
            ),
            (
                Method::GET,
                "/a/doc.pdf",
                Some("download="),
                Some("application/pdf"),
                Some("attachment; filename=\"doc.pdf\""),
            ),
            (
                Method::GET,
                "/a/doc.pdf",
                Some("download=Q3+report.pdf"),
                Some("application/pdf"),
                Some("attachment; filename=\"Q3 report.pdf\""),
            ),
            (
                Method::GET,
                "/x",
                Some("v=3&download=n%C3%A9.txt"),
                None,
                Some("attachment; filename=\"n_.txt\"; filename*=UTF-8''n%C3%A9.txt"),
            ),
            (Method::GET, "/x.txt", Some("cachebust=1"), Some("text/plain"), None),
        ];
        for (method, path, query, content_type, disposition) in cases {
            let decision = decided(&method, path, query).unwrap();
            assert_eq!(decision.response.content_type.as_deref(), content_type, "{path} {query:?}");
            assert_eq!(decision.response.content_disposition.as_deref(), disposition, "{path} {query:?}");
        }
    }

    #[test]
    fn writes_carry_no_download_headers() {
        for method in [Method::PUT, Method::DELETE] {
            let decision = decided(&method, "/photo.jpg", None).unwrap();
            assert_eq!(decision.response, ResponseOverrides::default(), "{method}");
            assert_eq!(decided(&method, "/photo.jpg", Some("download")), Err(Rejection::DownloadOnWrite));
        }
    }

    #[test]
    fn bad_queries_are_refused() {
        assert_eq!(
            decided(&Method::GET, "/f", Some("download&download=x")),
            Err(Rejection::RepeatedParameter("download"))
        );
        assert_eq!(
            decided(&Method::GET, "/f", Some("download=..%2Fx")),
            Err(Rejection::FileName(FileNameError::Separator))
        );
        assert_eq!(decided(&Method::GET, "/f", Some("share&ttl=60")), Err(Rejection::ShareNeedsPost));
    }

    #[test]
    fn uploads_need_a_size() {
        let put = Method::PUT;
        let chunked = Incoming { body: BodySize::Unknown, ..request(&put, "/f") };
        assert_eq!(act(&chunked, None, Caller::Owner(None), ""), Err(Rejection::LengthRequired));
        let sized = Incoming { body: BodySize::Known(10), ..request(&put, "/f") };
        assert!(act(&sized, None, Caller::Owner(None), "").is_ok());
        let get = Method::GET;
        let chunked_get = Incoming { body: BodySize::Unknown, ..request(&get, "/f") };
        assert!(act(&chunked_get, None, Caller::Owner(None), "").is_ok());
    }

    #[test]
    fn owners_order_share_links() {
        let acme = TenantId::new("acme").unwrap();
        let owner = Caller::Owner(Some(&acme));
        let order = shared("/docs/q3.pdf", "share&ttl=30d", owner).unwrap();
        assert_eq!(order.key.as_str(), "docs/q3.pdf");
        assert_eq!(order.tenant.as_ref(), Some(&acme));
        assert_eq!((order.ttl, order.methods, order.max_size), (DAY * 30, Methods::DOWNLOAD, None));
        let upload = shared("/in/box", "share&ttl=3600&methods=PUT&max_size=5MiB", owner).unwrap();
        assert_eq!((upload.methods.to_string(), upload.max_size), ("PUT".to_owned(), Some(5 << 20)));

        let refused = [
            ("share", Rejection::TtlRequired),
            ("share&ttl=0", Rejection::TtlOutOfRange(DAY * 365)),
            ("share&ttl=366d", Rejection::TtlOutOfRange(DAY * 365)),
            ("share&ttl=soon", Rejection::Unit(UnitError::Duration("soon".into()))),
            ("share&ttl=60&methods=GET,POST", Rejection::Methods(MethodsError("GET,POST".into()))),
            ("share&ttl=60&max_size=1MiB", Rejection::MaxSizeWithoutPut),
        ];
        for (query, rejection) in refused {
            assert_eq!(shared("/f", query, owner), Err(rejection), "{query}");
        }
        assert_eq!(
            act(&request(&Method::POST, "/f"), Some("ttl=60"), owner, ""),
            Err(Rejection::MethodNotAllowed(Method::POST))
        );
        assert_eq!(shared("/../f", "share&ttl=60", owner), Err(Rejection::Key(KeyError::DotSegment)));
    }

    fn grant(key: &str, methods: &str, max_size: Option<u64>, tenant: Option<&TenantId>) -> Grant {
        Grant {
            tenant: tenant.cloned(),
            key: ObjectKey::new(key.into()).unwrap(),
            methods: Methods::parse(methods).unwrap(),
            expires_at: SystemTime::now() + DAY,
            max_size,
        }
    }

    #[test]
    fn links_reach_their_key_only_with_their_methods() {
        let acme = TenantId::new("acme").unwrap();
        let download = grant("docs/q3.pdf", "GET", None, Some(&acme));
        let link = Caller::Link(&download);
        let Ok(Action::Presign(get)) = act(&request(&Method::GET, "/docs/q3.pdf"), None, link, "") else { panic!() };
        assert_eq!(get.key.as_str(), "tenants/acme/docs/q3.pdf");
        assert!(act(&request(&Method::HEAD, "/docs/q3.pdf"), None, link, "").is_ok());
        assert_eq!(act(&request(&Method::PUT, "/docs/q3.pdf"), None, link, ""), Err(Rejection::LinkMethod("PUT")));
        assert_eq!(
            act(&request(&Method::DELETE, "/docs/q3.pdf"), None, link, ""),
            Err(Rejection::LinkMethod("DELETE"))
        );
        assert_eq!(act(&request(&Method::GET, "/docs/other.pdf"), None, link, ""), Err(Rejection::LinkForAnotherKey));
        assert_eq!(act(&request(&Method::GET, "/docs/q3.pdf%20"), None, link, ""), Err(Rejection::LinkForAnotherKey));
        assert_eq!(
            act(&request(&Method::POST, "/docs/q3.pdf"), Some("share&ttl=60"), link, ""),
            Err(Rejection::LinkCannotShare)
        );
    }

    #[test]
    fn upload_links_sign_and_bound_the_length() {
        let upload = grant("in/box.bin", "PUT", Some(1000), None);
        let link = Caller::Link(&upload);
        let put = Method::PUT;
        let small = Incoming { body: BodySize::Known(999), ..request(&put, "/in/box.bin") };
        let Ok(Action::Presign(decision)) = act(&small, None, link, "") else { panic!() };
        assert_eq!(decision.signed_headers, vec![("content-length", "999".to_owned())]);
        let big = Incoming { body: BodySize::Known(1001), ..request(&put, "/in/box.bin") };
        assert_eq!(act(&big, None, link, ""), Err(Rejection::TooLarge(1000)));
        let unbounded = grant("in/box.bin", "PUT", None, None);
        let Ok(Action::Presign(decision)) = act(&small, None, Caller::Link(&unbounded), "") else { panic!() };
        assert_eq!(decision.signed_headers, vec![("content-length", "999".to_owned())]);
        let no_size = Incoming { body: BodySize::Absent, ..request(&put, "/in/box.bin") };
        assert_eq!(act(&no_size, None, link, ""), Err(Rejection::SizeRequired));
    }

    #[test]
    fn the_lifetime_comes_from_the_policy() {
        assert_eq!(decided(&Method::GET, "/f", None).unwrap().expires_in, Duration::from_secs(300));
    }

    fn with_max(max: Option<u64>) -> Policy {
        Policy { max_object_size: max, ..policy("") }
    }

    fn put(body: BodySize, upload: UploadHeaders<'_>) -> Incoming<'_> {
        Incoming { body, upload, ..request(&Method::PUT, "/big.iso") }
    }

    fn signed(incoming: &Incoming<'_>, max: Option<u64>) -> Result<Vec<(&'static str, String)>, Rejection> {
        match decide(incoming, &Query::default(), Caller::Owner(None), &with_max(max))? {
            Action::Presign(decision) => Ok(decision.signed_headers),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn uploads_sign_what_the_client_declares() {
        let none = UploadHeaders::default();
        let length = |n: &str| vec![("content-length", n.to_owned())];
        assert_eq!(signed(&put(BodySize::Known(10), none), None), Ok(length("10")));
        assert_eq!(signed(&put(BodySize::Absent, none), None), Ok(vec![]));
        let announced = UploadHeaders { upload_length: Some("4096"), ..none };
        assert_eq!(signed(&put(BodySize::Absent, announced), Some(4096)), Ok(length("4096")));
        assert_eq!(signed(&put(BodySize::Known(4096), announced), None), Ok(length("4096")));
        let md5 = UploadHeaders { content_md5: Some("1B2M2Y8AsgTpgAmY7PhCfg=="), ..none };
        assert_eq!(
            signed(&put(BodySize::Known(0), md5), None),
            Ok(vec![("content-length", "0".to_owned()), ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==".to_owned())])
        );
        let guarded = UploadHeaders { if_none_match: Some("*"), ..none };
        assert_eq!(signed(&put(BodySize::Known(1), guarded), None).unwrap()[1], ("if-none-match", "*".to_owned()));
        let hashed = UploadHeaders { sha256: Some(&"AB".repeat(32)), ..none };
        assert_eq!(signed(&put(BodySize::Known(1), hashed), None).unwrap()[1], ("x-amz-meta-sha256", "ab".repeat(32)));
    }

    #[test]
    fn uploads_within_the_limits() {
        let none = UploadHeaders::default();
        let cases = [
            (put(BodySize::Known(101), none), Some(100), Rejection::TooLarge(100)),
            (put(BodySize::Absent, none), Some(100), Rejection::SizeRequired),
            (put(BodySize::Unknown, none), None, Rejection::LengthRequired),
            (put(BodySize::Known(6 << 30), none), None, Rejection::UseMultipart),
            (
                put(BodySize::Absent, UploadHeaders { upload_length: Some("lots"), ..none }),
                None,
                Rejection::UploadLength,
            ),
            (
                put(BodySize::Known(5), UploadHeaders { upload_length: Some("6"), ..none }),
                None,
                Rejection::UploadLength,
            ),
            (put(BodySize::Known(5), UploadHeaders { content_md5: Some("abc"), ..none }), None, Rejection::ContentMd5),
            (
                put(BodySize::Known(5), UploadHeaders { if_none_match: Some("\"e1\""), ..none }),
                None,
                Rejection::IfNoneMatch,
            ),
            (put(BodySize::Known(5), UploadHeaders { sha256: Some("xyz"), ..none }), None, Rejection::Sha256),
        ];
        for (incoming, max, rejection) in cases {
            assert_eq!(signed(&incoming, max), Err(rejection.clone()), "{rejection:?}");
        }
    }

    fn multipart(method: &Method, query: &str, body: BodySize, caller: Caller<'_>) -> Result<Action, Rejection> {
        let incoming = Incoming { body, ..request(method, "/films/big.mkv") };
        decide(&incoming, &Query::parse(Some(query))?, caller, &with_max(Some(10 << 30)))
    }

    #[test]
    fn multipart_steps() {
        let acme = TenantId::new("acme").unwrap();
        let owner = Caller::Owner(Some(&acme));
        let step = |method: &Method, query: &str| match multipart(method, query, BodySize::Absent, owner) {
            Ok(Action::Multipart(order)) => {
                assert_eq!(order.key.as_str(), "tenants/acme/films/big.mkv");
                assert_eq!(order.object.as_str(), "films/big.mkv");
                order.step
            }
            other => panic!("{method} {query}: {other:?}"),
        };
        let id = UploadId::new("u-1").unwrap();
        assert_eq!(
            step(&Method::POST, "uploads"),
            MultipartStep::Create { content_type: Some("video/x-matroska".into()), sha256: None }
        );
        assert_eq!(step(&Method::GET, "uploadId=u-1"), MultipartStep::ListParts(id.clone()));
        assert_eq!(step(&Method::DELETE, "uploadId=u-1"), MultipartStep::Abort(id.clone()));
        assert_eq!(
            step(&Method::POST, "uploadId=u-1"),
            MultipartStep::Complete { upload: id.clone(), if_none_match: false }
        );

        let Ok(Action::Presign(part)) =
            multipart(&Method::PUT, "partNumber=7&uploadId=u-1", BodySize::Known(5 << 20), owner)
        else {
            panic!()
        };
        assert_eq!((part.operation, part.part), (Operation::UploadPart, Some((id, 7))));
        assert_eq!(part.key.as_str(), "tenants/acme/films/big.mkv");
        assert_eq!(part.signed_headers, vec![("content-length", (5u64 << 20).to_string())]);
    }

    #[test]
    fn multipart_misuse_is_refused() {
        let owner = Caller::Owner(None);
        let cases = [
            (Method::HEAD, "uploadId=u-1", "with uploadId"),
            (Method::PUT, "uploadId=u-1", "with uploadId"),
            (Method::GET, "partNumber=1", "add uploadId"),
            (Method::POST, "uploads&uploadId=u-1", "POST takes"),
            (Method::PUT, "uploads", "start a multipart"),
        ];
        for (method, query, reason) in cases {
            let error = multipart(&method, query, BodySize::Absent, owner).unwrap_err();
            assert!(error.to_string().contains(reason), "{method} {query}: {error}");
        }
        assert_eq!(
            multipart(&Method::PUT, "partNumber=0&uploadId=u", BodySize::Known(1), owner),
            Err(Rejection::PartNumber)
        );
        assert_eq!(multipart(&Method::GET, "uploadId=a%20b", BodySize::Absent, owner), Err(Rejection::UploadId));
        assert_eq!(
            multipart(&Method::PUT, "partNumber=1&uploadId=u", BodySize::Known(6 << 30), owner),
            Err(Rejection::TooLarge(5 << 30))
        );
        let link = grant("films/big.mkv", "GET,PUT", None, None);
        assert_eq!(
            multipart(&Method::POST, "uploads", BodySize::Absent, Caller::Link(&link)),
            Err(Rejection::LinkMultipart)
        );
    }
}
