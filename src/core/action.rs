//! What the core decides a request should do: an [`Action`], one order per
//! family (presign a URL, mint a share link, run a multipart step).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;

use super::api_key::KeysOrder;
use super::checksum::{Checksum, ChecksumSpec, ChecksumType};
use super::cursor::Cursor;
use super::grant::{Grant, LinkId, Methods, Shared};
use super::key::{Folder, ObjectKey};
use super::multipart::{PartPage, UploadId};
use super::query::RenditionName;
use super::tenant::{StorageKey, StoragePrefix, TenantId};

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer with a presigned URL (a 307, or JSON).
    Presign(PresignOrder),
    /// List a folder.
    List(ListOrder),
    /// Answer with a new share link.
    Share(ShareOrder),
    /// Perform a multipart step against storage.
    Multipart(MultipartOrder),
    /// Read the upload log of the caller's scope.
    Log(LogOrder),
    /// Read one object's record.
    Status(PresignOrder),
    /// Answer with a rendition of an object the caller may read.
    Rendition(PresignOrder, RenditionName),
    /// List, create or revoke the caller's API keys.
    Keys(KeysOrder),
    /// List or revoke the caller's share links.
    Links(LinksOrder),
}

/// The caller's share links: list them, or revoke one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinksOrder {
    /// Whose links (`None`: the single tenant of `--auth none`).
    pub tenant: Option<TenantId>,
    /// What to do.
    pub step: LinksStep,
}

/// What to do with the caller's links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinksStep {
    /// List the live ones.
    List,
    /// Revoke this one.
    Revoke(LinkId),
}

/// The operation names of the links routes, which S3 has no names for.
pub const LIST_SHARE_LINKS: &str = "ListShareLinks";
/// See [`LIST_SHARE_LINKS`].
pub const REVOKE_SHARE_LINK: &str = "RevokeShareLink";

/// The upload log of the caller's scope, one page of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOrder {
    /// The scope's root (key prefix and tenant folder), as a storage prefix.
    pub root: StoragePrefix,
    /// At most this many records.
    pub limit: u16,
    /// After this pointer (the `next` of the page before).
    pub after: Option<String>,
    /// Only failed uploads.
    pub failed_only: bool,
}

/// The operation names of the catalog's reads, which S3 has no names for.
pub const GET_UPLOAD_LOG: &str = "GetUploadLog";
/// See [`GET_UPLOAD_LOG`].
pub const GET_OBJECT_STATUS: &str = "GetObjectStatus";
/// See [`GET_UPLOAD_LOG`].
pub const GET_RENDITION: &str = "GetRendition";

/// The operation names of the keys family.
pub const LIST_API_KEYS: &str = "ListApiKeys";
/// See [`LIST_API_KEYS`].
pub const CREATE_API_KEY: &str = "CreateApiKey";
/// See [`LIST_API_KEYS`].
pub const REVOKE_API_KEY: &str = "RevokeApiKey";

/// The operation name of minting a share link, which S3 has no name for.
pub const CREATE_SHARE_LINK: &str = "CreateShareLink";

impl Action {
    /// The operation it is logged and counted under: S3's name, or
    /// [`CREATE_SHARE_LINK`].
    #[must_use]
    pub fn s3_name(&self) -> &'static str {
        match self {
            Self::Presign(order) => order.operation.s3_name(),
            Self::List(_) => "ListObjectsV2",
            Self::Share(_) => CREATE_SHARE_LINK,
            Self::Multipart(order) => order.step.s3_name(),
            Self::Log(_) => GET_UPLOAD_LOG,
            Self::Status(_) => GET_OBJECT_STATUS,
            Self::Rendition(..) => GET_RENDITION,
            Self::Keys(KeysOrder::List(_)) => LIST_API_KEYS,
            Self::Keys(KeysOrder::Create(..)) => CREATE_API_KEY,
            Self::Keys(KeysOrder::Revoke(..)) => REVOKE_API_KEY,
            Self::Links(LinksOrder { step: LinksStep::List, .. }) => LIST_SHARE_LINKS,
            Self::Links(LinksOrder { step: LinksStep::Revoke(_), .. }) => REVOKE_SHARE_LINK,
        }
    }

    /// What it costs the gateway, in redirects, for `--rate-limit`: a page of
    /// a listing is a storage call (and with `&metadata` up to ten batch reads
    /// of the log, or a `HEAD` per object without one), a page of parts or of
    /// the log a storage or state call; a redirect or a link is a signature.
    #[must_use]
    pub fn cost(&self) -> u32 {
        match self {
            Self::List(order) if order.metadata || !order.renditions.is_empty() => 10,
            Self::Multipart(MultipartOrder { step: MultipartStep::ListParts(..), .. }) | Self::Log(_) => 5,
            Self::List(_) | Self::Multipart(_) | Self::Keys(_) | Self::Links(_) => 2,
            Self::Presign(_) | Self::Share(_) | Self::Status(_) | Self::Rendition(..) => 1,
        }
    }
}

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

    /// Whether it reads the object (and so takes download headers).
    #[must_use]
    pub fn reads(self) -> bool {
        matches!(self, Self::Get | Self::Head)
    }
}

/// Headers storage should answer a download with, carried in the URL: they
/// win over what the uploader stored with the object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseOverrides {
    /// `response-cache-control`.
    pub cache_control: Option<String>,
    /// `response-content-type`.
    pub content_type: Option<String>,
    /// `response-content-disposition`.
    pub content_disposition: Option<String>,
}

/// The part of a multipart upload an `UploadPart` URL is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartTarget {
    /// The upload.
    pub upload: UploadId,
    /// 1 to 10,000.
    pub number: u16,
}

/// Everything needed to presign one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignOrder {
    /// Which S3 operation.
    pub operation: Operation,
    /// The full storage key, prefix and tenant folder included.
    pub key: StorageKey,
    /// The lifetime asked for.
    pub expires_in: Duration,
    /// A moment the URL must not outlive, whatever its lifetime: the expiry
    /// of the share link it is minted for.
    pub valid_until: Option<SystemTime>,
    /// Download headers for storage to send.
    pub response: ResponseOverrides,
    /// Request headers signed into the URL, which storage then checks: only
    /// headers the client sends itself and resends unchanged on the redirect.
    pub signed_headers: Vec<(&'static str, String)>,
    /// `x-amz-meta-*` headers signed in too (names without the prefix), so
    /// storage keeps exactly what the client declared.
    pub metadata: Vec<(String, String)>,
    /// How the URL is handed out.
    pub delivery: Delivery,
    /// For `UploadPart`: the upload and the part number.
    pub part: Option<PartTarget>,
}

/// How a presigned URL is handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// A `307` whose `Location` it is: curl, navigation, scripts that follow.
    Redirect,
    /// `200` with the URL, method, headers and expiry as JSON (`?presign`):
    /// for scripts, which cannot read a redirect's `Location`.
    Json,
}

/// A folder to list, for its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOrder {
    /// The folder as the client names it.
    pub folder: Folder,
    /// Where it is in the bucket.
    pub prefix: StoragePrefix,
    /// The most entries to answer with.
    pub limit: u16,
    /// Where the page starts: the cursor of the page before.
    pub after: Option<Cursor>,
    /// Whether to add each object's metadata (from the catalog, or one `HEAD` each).
    pub metadata: bool,
    /// The renditions to add to each object.
    pub renditions: Vec<RenditionName>,
}

/// A share link to mint for an owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareOrder {
    /// Whose key.
    pub tenant: Option<TenantId>,
    /// The key or folder as the tenant names it.
    pub target: Shared,
    /// What the link allows.
    pub methods: Methods,
    /// How long the link lives.
    pub ttl: Duration,
    /// The largest upload, for links that allow PUT.
    pub max_size: Option<u64>,
    /// How many times it may be used (it then needs a record).
    pub max_uses: Option<u64>,
}

impl ShareOrder {
    /// The grant the link carries, counted from `now` in whole seconds,
    /// with its record's `id` if it has one.
    #[must_use]
    pub fn grant(&self, now: SystemTime, id: Option<LinkId>) -> Grant {
        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let expires_at = UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs()) + self.ttl;
        Grant {
            tenant: self.tenant.clone(),
            target: self.target.clone(),
            methods: self.methods,
            expires_at,
            max_size: self.max_size,
            id,
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
    /// The largest object the caller may complete: `--max-object-size`, or
    /// a share link's `max_size` when smaller.
    pub max_size: Option<u64>,
}

/// Whether a write may replace what is stored under its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overwrite {
    /// Replace any object there.
    Allowed,
    /// `If-None-Match: *`: only if nothing is there.
    Refused,
    /// `If-Match`: only the object with this ETag (without quotes), compare-and-swap.
    IfMatches(String),
}

/// What an object is created with, besides its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewObject {
    /// Its `Content-Type`.
    pub content_type: Option<String>,
    /// `x-amz-meta-*` metadata, names without the prefix.
    pub metadata: Vec<(String, String)>,
    /// `Content-Disposition`, `Cache-Control` and the other headers it keeps
    /// ([`super::object_headers`]), lower-case names.
    pub headers: Vec<(&'static str, String)>,
    /// The checksum its parts and the whole object carry, if the client chose one.
    pub checksum: Option<ChecksumSpec>,
}

/// The server-side multipart calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartStep {
    /// `CreateMultipartUpload`, with what to keep with the object.
    Create(NewObject),
    /// `ListParts`: one page of what is stored so far, for resuming.
    ListParts(UploadId, PartPage),
    /// `CompleteMultipartUpload` from the client's part list.
    Complete {
        /// The upload.
        upload: UploadId,
        /// Whether an existing object may be replaced.
        overwrite: Overwrite,
        /// The whole object's checksum, for storage to check (`x-amz-checksum-*`).
        checksum: Option<Checksum>,
        /// `x-amz-checksum-type`, if sent.
        checksum_type: Option<ChecksumType>,
    },
    /// `AbortMultipartUpload`.
    Abort(UploadId),
}

impl MultipartStep {
    /// S3's name for the call, as logs show it.
    #[must_use]
    pub fn s3_name(&self) -> &'static str {
        match self {
            Self::Create(_) => "CreateMultipartUpload",
            Self::ListParts(..) => "ListParts",
            Self::Complete { .. } => "CompleteMultipartUpload",
            Self::Abort(_) => "AbortMultipartUpload",
        }
    }
}
