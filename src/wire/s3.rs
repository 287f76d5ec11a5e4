//! S3's XML for the gateway's multipart messages, with S3's element names
//! (so S3 clients such as Uppy read them unchanged), built from the JSON
//! messages of [`super`] and what S3 names besides ([`S3Names`]).

use serde::{Deserialize, Serialize};

/// The namespace of every S3 answer's root element.
pub const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// S3's own value for the namespace attribute, for messages built by hand.
fn xmlns() -> String {
    XMLNS.to_owned()
}

/// `<InitiateMultipartUploadResult>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InitiateMultipartUploadResult {
    /// `xmlns`.
    #[serde(rename = "@xmlns", default = "xmlns")]
    pub xmlns: String,
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
}

/// `<ListPartsResult>`: one page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListPartsResult {
    /// `xmlns`.
    #[serde(rename = "@xmlns", default = "xmlns")]
    pub xmlns: String,
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// Always `STANDARD`.
    pub storage_class: String,
    /// The page starts after this part number (0: the first page).
    pub part_number_marker: u16,
    /// The last part number of this page: the next page's marker.
    pub next_part_number_marker: u16,
    /// The most parts a page holds.
    pub max_parts: u16,
    /// Whether more parts follow.
    pub is_truncated: bool,
    /// One `<Part>` each.
    #[serde(rename = "Part", default)]
    pub parts: Vec<Part>,
}

/// A `<Part>` of a part list or of a completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Part {
    /// 1 to 10,000 (wider here, so an out-of-range number is refused with its own reason).
    pub part_number: u32,
    /// The ETag, quoted as S3 writes it.
    #[serde(rename = "ETag")]
    pub etag: String,
    /// The size in bytes (part lists only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size: Option<u64>,
    /// `<ChecksumCRC32>`.
    #[serde(rename = "ChecksumCRC32", skip_serializing_if = "Option::is_none", default)]
    pub checksum_crc32: Option<String>,
    /// `<ChecksumCRC32C>`.
    #[serde(rename = "ChecksumCRC32C", skip_serializing_if = "Option::is_none", default)]
    pub checksum_crc32c: Option<String>,
    /// `<ChecksumCRC64NVME>`.
    #[serde(rename = "ChecksumCRC64NVME", skip_serializing_if = "Option::is_none", default)]
    pub checksum_crc64nvme: Option<String>,
    /// `<ChecksumSHA1>`.
    #[serde(rename = "ChecksumSHA1", skip_serializing_if = "Option::is_none", default)]
    pub checksum_sha1: Option<String>,
    /// `<ChecksumSHA256>`.
    #[serde(rename = "ChecksumSHA256", skip_serializing_if = "Option::is_none", default)]
    pub checksum_sha256: Option<String>,
}

impl Part {
    /// Its checksum fields, as the JSON form holds them.
    #[must_use]
    pub fn checksums(&self) -> super::Checksums {
        super::Checksums {
            checksum_crc32: self.checksum_crc32.clone(),
            checksum_crc32c: self.checksum_crc32c.clone(),
            checksum_crc64nvme: self.checksum_crc64nvme.clone(),
            checksum_sha1: self.checksum_sha1.clone(),
            checksum_sha256: self.checksum_sha256.clone(),
        }
    }

    /// A part with `checksums`.
    #[must_use]
    pub fn new(part_number: u32, etag: String, size: Option<u64>, checksums: super::Checksums) -> Self {
        let super::Checksums { checksum_crc32, checksum_crc32c, checksum_crc64nvme, checksum_sha1, checksum_sha256 } =
            checksums;
        Self {
            part_number,
            etag,
            size,
            checksum_crc32,
            checksum_crc32c,
            checksum_crc64nvme,
            checksum_sha1,
            checksum_sha256,
        }
    }
}

/// `<CompleteMultipartUpload>`: the client's part list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompleteMultipartUpload {
    /// One `<Part>` each.
    #[serde(rename = "Part", default)]
    pub parts: Vec<Part>,
}

/// `<CompleteMultipartUploadResult>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompleteMultipartUploadResult {
    /// `xmlns`.
    #[serde(rename = "@xmlns", default = "xmlns")]
    pub xmlns: String,
    /// The object's URL: the gateway's own, as share links name it.
    pub location: String,
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The object's ETag, quoted.
    #[serde(rename = "ETag")]
    pub etag: String,
    /// `<ChecksumCRC32>`.
    #[serde(rename = "ChecksumCRC32", skip_serializing_if = "Option::is_none", default)]
    pub checksum_crc32: Option<String>,
    /// `<ChecksumCRC32C>`.
    #[serde(rename = "ChecksumCRC32C", skip_serializing_if = "Option::is_none", default)]
    pub checksum_crc32c: Option<String>,
    /// `<ChecksumCRC64NVME>`.
    #[serde(rename = "ChecksumCRC64NVME", skip_serializing_if = "Option::is_none", default)]
    pub checksum_crc64nvme: Option<String>,
    /// `<ChecksumSHA1>`.
    #[serde(rename = "ChecksumSHA1", skip_serializing_if = "Option::is_none", default)]
    pub checksum_sha1: Option<String>,
    /// `<ChecksumSHA256>`.
    #[serde(rename = "ChecksumSHA256", skip_serializing_if = "Option::is_none", default)]
    pub checksum_sha256: Option<String>,
    /// `<ChecksumType>`, with a checksum.
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none", default)]
    pub checksum_type: Option<String>,
}

/// `<Error>`, as S3 (and the gateway on its S3 routes) answers a refused request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Error {
    /// S3's error code, such as `NoSuchKey`.
    pub code: String,
    /// S3's message.
    pub message: String,
    /// The request's id.
    pub request_id: String,
}

/// `"etag"`, as S3 writes ETags in XML.
#[must_use]
pub fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// Serializes `message` as an XML document, quotes escaped as S3 escapes them.
#[must_use]
pub fn to_xml<T: Serialize>(message: &T) -> String {
    let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut serializer = quick_xml::se::Serializer::new(&mut body);
    serializer.set_quote_level(quick_xml::se::QuoteLevel::Full);
    // Our messages are plain structs of strings and numbers, which always serialize.
    let _ = message.serialize(serializer);
    body.push('\n');
    body
}

/// What S3's XML names that the gateway's JSON leaves out: the bucket, and
/// the gateway's own URL the object is reached at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Names {
    /// The bucket storage keeps the object in.
    pub bucket: String,
    /// `<base-url>/<key>`, built as share links are.
    pub location: String,
}

impl InitiateMultipartUploadResult {
    /// The XML of `started`.
    #[must_use]
    pub fn new(started: &super::UploadStarted, names: &S3Names) -> Self {
        Self {
            xmlns: XMLNS.to_owned(),
            bucket: names.bucket.clone(),
            key: started.key.clone(),
            upload_id: started.upload_id.clone(),
        }
    }
}

impl ListPartsResult {
    /// The XML of `list`, the page after `marker` of at most `max_parts`.
    #[must_use]
    pub fn new(list: &super::PartList, names: &S3Names, marker: u16, max_parts: u16) -> Self {
        let parts = list
            .parts
            .iter()
            .map(|p| Part::new(u32::from(p.part_number), quoted(&p.etag), Some(p.size), p.checksums.clone()))
            .collect();
        Self {
            xmlns: XMLNS.to_owned(),
            bucket: names.bucket.clone(),
            key: list.key.clone(),
            upload_id: list.upload_id.clone(),
            storage_class: "STANDARD".to_owned(),
            part_number_marker: marker,
            next_part_number_marker: list.parts.last().map_or(marker, |p| p.part_number),
            max_parts,
            is_truncated: list.is_truncated,
            parts,
        }
    }
}

impl CompleteMultipartUploadResult {
    /// The XML of `done`.
    #[must_use]
    pub fn new(done: &super::UploadCompleted, names: &S3Names) -> Self {
        let super::Checksums { checksum_crc32, checksum_crc32c, checksum_crc64nvme, checksum_sha1, checksum_sha256 } =
            done.checksums.clone();
        Self {
            xmlns: XMLNS.to_owned(),
            location: names.location.clone(),
            bucket: names.bucket.clone(),
            key: done.key.clone(),
            etag: quoted(&done.etag),
            checksum_crc32,
            checksum_crc32c,
            checksum_crc64nvme,
            checksum_sha1,
            checksum_sha256,
            checksum_type: done.checksum_type.clone(),
        }
    }
}
