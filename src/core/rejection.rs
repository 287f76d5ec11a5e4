//! Every reason the core refuses a request. Each is the client's mistake;
//! `gateway::error` maps them to HTTP statuses in one place.

use http::Method;

use super::download::FileNameError;
use super::grant::MethodsError;
use super::key::KeyError;
use super::object_headers::{ObjectHeaderError, RefusedHeader};
use super::units::{DurationIn, UnitError};

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
    #[error(
        "storage needs the upload's size up front (Content-Length): stream standard input with `presign-gateway upload - URL`, or save it to a file and upload that"
    )]
    LengthRequired,
    /// `?share` with another method than POST.
    #[error("share links are created with POST /<key>?share&ttl=SECONDS")]
    ShareNeedsPost,
    /// A share link without a lifetime.
    #[error("a share link needs a lifetime: add ttl=SECONDS (or 30m, 12h, 30d, 2w)")]
    TtlRequired,
    /// A lifetime or size that does not parse.
    #[error("{0}")]
    Unit(#[from] UnitError),
    /// A lifetime beyond the configured maximum.
    #[error("ttl must be between 1 second and {0}")]
    TtlOutOfRange(DurationIn),
    /// A methods list that does not parse.
    #[error("{0}")]
    Methods(#[from] MethodsError),
    /// `max_size` on a link that cannot upload.
    #[error("max_size applies to links that allow PUT")]
    MaxSizeWithoutPut,
    /// A link used to make another link.
    #[error("a share link cannot create share links")]
    LinkCannotShare,
    /// A link used for a key it does not open.
    #[error("this share link is for another file or folder")]
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
    #[error(
        "declare the upload's size: send Content-Length with the body, or Upload-Length when asking for the URL alone (?presign, or no body)"
    )]
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
    /// `If-Match` that is not one entity tag.
    #[error("If-Match must be the ETag of the object to replace, such as \"9b2cf535f27731c974343645a3985328\"")]
    IfMatch,
    /// `If-None-Match` and `If-Match` on one write.
    #[error("an upload takes If-None-Match: * or If-Match: ETAG, not both")]
    ConflictingConditions,
    /// A checksum header whose value is not the base64 of a checksum of that algorithm.
    #[error("{0} must be the base64 of a checksum of that algorithm")]
    Checksum(&'static str),
    /// More than one `x-amz-checksum-*` value.
    #[error("send at most one x-amz-checksum-* header")]
    ChecksumCount,
    /// An algorithm S3 does not have.
    #[error("x-amz-checksum-algorithm must be CRC32, CRC32C, CRC64NVME, SHA1 or SHA256")]
    ChecksumAlgorithm,
    /// A type S3 does not have.
    #[error("x-amz-checksum-type must be FULL_OBJECT or COMPOSITE")]
    ChecksumType,
    /// A type without an algorithm.
    #[error("x-amz-checksum-type needs x-amz-checksum-algorithm")]
    ChecksumTypeWithoutAlgorithm,
    /// A combination S3 refuses.
    #[error("the {0} checksum algorithm does not take the {1} checksum type")]
    ChecksumCombination(&'static str, &'static str),
    /// A checksum mode other than `ENABLED`.
    #[error("x-amz-checksum-mode takes only ENABLED")]
    ChecksumMode,
    /// `x-amz-meta-sha256` that is not 64 hex digits.
    #[error("x-amz-meta-sha256 must be 64 hex digits")]
    Sha256,
    /// A malformed upload id.
    #[error("uploadId must be 1 to 1024 printable characters")]
    UploadId,
    /// A part number out of S3's range.
    #[error("partNumber must be a whole number from 1 to 10000")]
    PartNumber,
    /// An `after=` this gateway did not hand out.
    #[error("after= takes the `next` cursor of the page before, as the gateway gave it")]
    Cursor,
    /// A part list's page asked for out of range.
    #[error(
        "max-parts must be a whole number from 1 (pages hold at most 1000), part-number-marker one from 0 to 10000"
    )]
    PartPage,
    /// Multipart parameters used the wrong way.
    #[error("{0}")]
    MultipartUsage(&'static str),
    /// A completion body that does not parse or breaks the rules.
    #[error("the part list: {0}")]
    Completion(&'static str),
    /// A listed part that storage does not hold, or holds with another ETag or checksum.
    #[error("part {0} is not stored with that ETag")]
    InvalidPart(u16),
    /// A part under 5 MiB that is not the last.
    #[error("part {0} is smaller than 5 MiB but not the last")]
    PartTooSmall(u16),
    /// Multipart through a link that does not allow uploads there.
    #[error("this share link does not allow uploads, in one PUT or in parts")]
    LinkMultipart,
    /// `?presign=` naming something else than GET, HEAD, PUT or DELETE, or not on a GET.
    #[error(
        "presign=METHOD names GET, HEAD, PUT or DELETE, and goes on a GET; `presign` alone keeps the request's method"
    )]
    PresignMethod,
    /// `?presign` on a request not answered with a redirect.
    #[error(
        "presign applies to requests answered with a redirect: GET, HEAD, PUT or DELETE on a key, or a part upload"
    )]
    PresignWithoutRedirect,
    /// A listing page size out of range.
    #[error("limit must be a whole number from 1 to 1000")]
    Limit,
    /// A share link used to list what it does not open.
    #[error("this share link lists only the folder it opens (and the folders in it)")]
    LinkCannotList,
    /// A listing with metadata through a link: metadata is the owner's.
    #[error("a share link lists names and sizes; metadata is its owner's")]
    LinkMetadata,
    /// A link asked for the top level, which would be everything.
    #[error("share a file or a folder (a path ending in /), not the top level")]
    ShareTopLevel,
    /// An upload without a type, where types are ruled.
    #[error("uploads here must declare their Content-Type, one of: {0}")]
    TypeRequired(String),
    /// An upload of a type not allowed.
    #[error("`{0}` is not accepted here: uploads must be one of: {1}")]
    TypeNotAllowed(String, String),
    /// Metadata that is not ASCII text.
    #[error("x-amz-meta-{0} must be ASCII text: percent-encode other characters, as the page's module does")]
    MetadataValue(String),
    /// One metadata name with several values, which storage keeps as one.
    #[error("x-amz-meta-{0} is sent more than once: send one value")]
    MetadataRepeated(String),
    /// A tab in a header the URL signs: SigV4 implementations disagree on it.
    #[error("{0} must not contain a tab")]
    TabInHeader(String),
    /// A header the object would keep for its downloads, not fit to sign.
    #[error("{0} {1}")]
    ObjectHeader(&'static str, ObjectHeaderError),
    /// A rendition's name that no preset could have.
    #[error(
        "rendition names are 1 to 32 lowercase letters, digits and `-` (at most 4 in renditions=), as --renditions names them"
    )]
    RenditionName,
    /// `status=` with a value it does not take.
    #[error(
        "status takes nothing on a file (GET /<key>?status, its record), or `failed` with log (GET /?log&status=failed)"
    )]
    StatusFilter,
    /// A link used to read the upload log or a record, which name who uploaded what.
    #[error("a share link opens a file or a folder's files; the upload log and its records are the owner's")]
    LinkCannotReadLog,
    /// The log asked for on a folder, or by a link.
    #[error("the upload log is read at the top level: GET /?log (or /%2F?log)")]
    LogAtTop,
    /// A record or rendition asked for with another method than GET.
    #[error("?status and ?rendition= are read with GET")]
    ReadWithGet,
    /// `max_uses` that is not a whole number from 1.
    #[error("max_uses must be a whole number from 1")]
    MaxUses,
    /// `max_uses` where links have no record to count uses in.
    #[error("max_uses needs the gateway's state store (--state-dir or --state-table), which keeps each link's uses")]
    MaxUsesWithoutRecords,
    /// `links=` naming no link id.
    #[error("links= takes a link's id, 32 lowercase hex digits (as GET /?links lists them)")]
    LinkId,
    /// The links routes on another path than the top level, or with another method.
    #[error("links are listed with GET /?links and revoked with DELETE /?links=ID (also /%2F?links)")]
    LinksUsage,
    /// A link used to list or revoke links.
    #[error("a share link cannot list or revoke share links")]
    LinkCannotManageLinks,
    /// The links routes where links have no records.
    #[error(
        "share links here keep no records to list or revoke: the gateway keeps them with --state-dir or --state-table"
    )]
    LinkRecordsOff,
    /// More metadata than S3 keeps.
    #[error("x-amz-meta-* headers take at most 2 KB in all, names and values (S3's limit)")]
    MetadataTooLarge,
    /// `keys=` with something else than a key's id.
    #[error("a key's id is 16 lowercase hex digits, as GET /%2F?keys lists them")]
    KeyId,
    /// A new key's term that does not parse.
    #[error("{0}")]
    KeyTerm(&'static str),
    /// A parameter beside `keys` that is not a key's term (a misspelt
    /// `readonly=true` would otherwise make a key with full access).
    #[error("`{0}` is not a key's term: give read_only, prefix, ttl or name")]
    KeyTermUnknown(String),
    /// A new key's body that is not its terms as JSON.
    #[error(
        "the body must be JSON: {{\"read_only\": true|false, \"prefix\": \"folder/\", \"ttl\": \"30d\", \"name\": \"...\"}}, each optional"
    )]
    KeyBody,
    /// A new key's terms in both the query and the body.
    #[error("give a new key's terms in the query or in a JSON body, not both")]
    KeyTermsTwice,
    /// A new key's prefix that is no folder.
    #[error("a key's prefix must be a folder path: {0}")]
    KeyPrefix(String),
    /// `?keys` on another path than the top level.
    #[error("keys are managed at the top level: GET, POST /%2F?keys and DELETE /%2F?keys=ID")]
    KeysAtTop,
    /// `?keys` with a method (or a value) that does not fit.
    #[error("GET /%2F?keys lists your keys, POST /%2F?keys creates one and DELETE /%2F?keys=ID revokes one")]
    KeysUsage,
    /// `?keys` where callers are no tenants.
    #[error("API keys belong to signed-in tenants: the gateway must run with --auth jwt")]
    KeysNeedTenants,
    /// `?keys` with a share link.
    #[error("a share link cannot manage API keys")]
    LinkCannotManageKeys,
    /// An API key used to manage keys.
    #[error("an API key cannot create, list or revoke API keys: sign in")]
    ApiKeyCannotManageKeys,
    /// An API key used to mint, list or revoke share links (a link would outlive its revocation).
    #[error("an API key cannot create, list or revoke share links: sign in")]
    ApiKeyCannotShare,
    /// A read-only API key used to write.
    #[error("this API key is read-only: it cannot upload or delete")]
    ApiKeyReadOnly,
    /// An API key used outside its folder.
    #[error("this API key is confined to the folder `{0}`: only keys (and listings) under it")]
    KeyOutsidePrefix(String),
}

impl From<RefusedHeader> for Rejection {
    fn from(RefusedHeader(name, error): RefusedHeader) -> Self {
        Self::ObjectHeader(name, error)
    }
}
