//! What the index keeps about objects, multipart uploads and their parts, as
//! JSON values (readable with any redb tool, and free to gain fields).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::checksum::{Algorithm, Kind};

/// One object version: its attributes and the files that hold its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRecord {
    /// Changes with every write, so a reader can tell its version is still current.
    pub version: Uuid,
    /// Bytes in all blobs together.
    pub size: u64,
    /// Without quotes: the MD5 for a single PUT, S3's `md5-of-md5s-N` for multipart.
    pub etag: String,
    /// Nanoseconds since the epoch.
    pub modified_ns: u64,
    /// What the uploader asked storage to keep.
    pub attributes: Attributes,
    /// The checksum reported in checksum mode.
    pub checksum: StoredChecksum,
    /// For multipart objects, how many parts.
    pub parts: Option<u32>,
    /// The bytes, in order: one blob for a PUT, one per part for multipart.
    pub blobs: Vec<BlobRef>,
}

impl ObjectRecord {
    /// Last-Modified.
    pub fn modified(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.modified_ns)
    }
}

/// Headers and metadata kept with an object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `x-amz-meta-*`, names without the prefix.
    pub metadata: BTreeMap<String, String>,
}

/// A file under `data/` holding some of an object's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    /// Its name.
    pub id: Uuid,
    /// Its length.
    pub size: u64,
}

/// A checksum as S3 reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredChecksum {
    /// Which.
    pub algorithm: Algorithm,
    /// Of the whole object, or of the parts' checksums.
    pub kind: Kind,
    /// Base64, with `-N` for a composite one.
    pub value: String,
}

/// A multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    /// The key it completes into.
    pub key: String,
    /// Nanoseconds since the epoch, for housekeeping.
    pub created_ns: u64,
    /// What the object is created with.
    pub attributes: Attributes,
    /// The checksum asked for at creation; CRC64NVME of the whole object when none was.
    pub algorithm: Algorithm,
    /// Of the whole object, or composite.
    pub kind: Kind,
}

/// A part stored for an upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    /// Its bytes.
    pub blob: BlobRef,
    /// Its MD5, hex: its ETag.
    pub md5: String,
    /// Its checksum in the upload's algorithm, base64.
    pub checksum: String,
    /// Its CRC64NVME, always kept, so the object's can be combined.
    pub crc64nvme: u64,
    /// Nanoseconds since the epoch.
    pub modified_ns: u64,
}

/// Now, in nanoseconds since the epoch.
pub fn now_ns() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
}
