//! The calls the gateway makes to storage itself, behind one small trait:
//! the multipart steps that carry no bytes (create, list parts, complete,
//! abort), listing a folder with its objects' metadata, and the readiness
//! probe. Everything with a body goes straight from the client to storage
//! on a presigned URL. [`S3Storage`] speaks to any S3-compatible endpoint;
//! [`Metered`] counts the calls of any storage; tests use a double.

mod metered;
mod s3;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

pub use metered::Metered;
pub use s3::S3Storage;

use crate::core::NewObject;
use crate::core::completion::{CompletedObject, Completion, Part};
use crate::core::multipart::UploadId;
use crate::core::tenant::{StorageKey, StoragePrefix};

/// Errors from any source, kept whole for the log.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What storage answered, when it was not a success.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Storage refused the call: its status, S3 error code and message.
    #[error("storage answered {status} {code}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// S3's error code, such as `NoSuchUpload`.
        code: String,
        /// S3's message.
        message: String,
    },
    /// Storage could not be reached, or answered what the SDK cannot read.
    #[error("storage could not be reached")]
    Unreachable(#[source] BoxError),
    /// Storage did not answer in time (`--storage-timeout`).
    #[error("storage did not answer within {0:?}")]
    TimedOut(Duration),
    /// An object is larger than the caller takes.
    #[error("the object is {size} bytes, more than {limit}")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The most taken.
        limit: u64,
    },
    /// Storage answered an upload id that is not one.
    #[error("storage returned the upload id {0:?}")]
    BadUploadId(String),
}

/// One page of a folder, as storage lists it (keys in storage's terms).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The objects directly in the folder.
    pub objects: Vec<ListedObject>,
    /// The folders directly in it, ending in `/`.
    pub folders: Vec<String>,
    /// Whether more entries follow this page.
    pub truncated: bool,
}

/// An object in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    /// Its key in the bucket.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written.
    pub last_modified: Option<std::time::SystemTime>,
    /// Its ETag, without quotes.
    pub etag: String,
}

/// The gateway's own calls to storage, made with its own credentials.
#[async_trait]
pub trait Storage: Send + Sync + fmt::Debug {
    /// `CreateMultipartUpload` of `key`, created with `object`'s attributes.
    async fn create(&self, key: &StorageKey, object: &NewObject) -> Result<UploadId, StorageError>;

    /// `ListParts`, every page of it, in part-number order, with each part's checksum.
    async fn list_parts(&self, key: &StorageKey, upload: &UploadId) -> Result<Vec<Part>, StorageError>;

    /// `CompleteMultipartUpload` as `completion` says: its parts (with
    /// their checksums), its condition, the whole object's checksum and the
    /// expected total (`x-amz-mp-object-size`), all checked by storage.
    async fn complete(
        &self,
        key: &StorageKey,
        upload: &UploadId,
        completion: &Completion,
    ) -> Result<CompletedObject, StorageError>;

    /// `AbortMultipartUpload`.
    async fn abort(&self, key: &StorageKey, upload: &UploadId) -> Result<(), StorageError>;

    /// `ListObjectsV2` of `prefix` with the delimiter `/`: at most `limit`
    /// entries, those after the key `start_after` when given. Storage lists
    /// only keys under `prefix`, whatever `start_after` says.
    async fn list(
        &self,
        prefix: &StoragePrefix,
        start_after: Option<&str>,
        limit: u16,
    ) -> Result<Listing, StorageError>;

    /// `HeadObject`'s `x-amz-meta-*` metadata (names without the prefix).
    async fn metadata(&self, key: &str) -> Result<Vec<(String, String)>, StorageError>;

    /// Whether storage answers the gateway's credentials: a `HeadObject` of
    /// `key`, a call the gateway's role may make, where a missing object
    /// (404) counts as reachable.
    async fn probe(&self, key: &StorageKey) -> Result<(), StorageError> {
        match self.metadata(key.as_str()).await {
            Ok(_) | Err(StorageError::Refused { status: 404, .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

/// What a `HeadObject` tells of an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectHead {
    /// Bytes.
    pub size: u64,
    /// Without quotes.
    pub etag: String,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `x-amz-meta-*`, names without the prefix.
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// The calls the processor makes on whole objects: it reads an original
/// and writes, lists and removes its renditions. The gateway itself never
/// moves bytes, so these live apart from [`Storage`].
#[async_trait]
pub trait Objects: Send + Sync + fmt::Debug {
    /// `HeadObject`; `None` when there is no such object (or, on AWS, when the
    /// role may not list the folder and S3 answers 403 for a missing key).
    async fn head(&self, key: &str) -> Result<Option<ObjectHead>, StorageError>;

    /// `GetObject` of the version with `etag`, refused past `max_bytes`.
    async fn get(&self, key: &str, etag: &str, max_bytes: u64) -> Result<Vec<u8>, StorageError>;

    /// `PutObject` of `body` with its type and `Cache-Control`.
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str, cache_control: &str) -> Result<(), StorageError>;

    /// `DeleteObject` (nothing there is fine).
    async fn delete(&self, key: &str) -> Result<(), StorageError>;

    /// Every object under `prefix`, all pages.
    async fn objects(&self, prefix: &str) -> Result<Vec<ListedObject>, StorageError>;
}
