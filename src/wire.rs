//! The messages the gateway and its client exchange, each defined once as a
//! serde type and used on both sides: the gateway's own JSON, and S3's XML
//! for the multipart steps ([`s3`]: the same element names S3 uses, so S3 tools work
//! unchanged), and the event storage sends after an upload ([`events`]).
//! Nothing here decides anything; `core` and `gateway` do.

use serde::{Deserialize, Serialize};

use crate::checksum::ChecksumAlgorithm;

pub mod events;
pub mod keys;
pub mod s3;

pub use s3::S3Names;

/// `POST /<key>?uploads`: the upload started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadStarted {
    /// The key as the client names it.
    pub key: String,
    /// The id every later step names.
    pub upload_id: String,
}

/// S3's checksum fields, with the names S3's JSON uses: at most one is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksums {
    /// Base64 CRC-32.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_crc32: Option<String>,
    /// Base64 CRC-32C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_crc32c: Option<String>,
    /// Base64 CRC-64/NVME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_crc64nvme: Option<String>,
    /// Base64 SHA-1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_sha1: Option<String>,
    /// Base64 SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_sha256: Option<String>,
}

impl Checksums {
    /// The value for `algorithm`, if set.
    #[must_use]
    pub fn get(&self, algorithm: ChecksumAlgorithm) -> Option<&str> {
        let field = match algorithm {
            ChecksumAlgorithm::Crc32 => &self.checksum_crc32,
            ChecksumAlgorithm::Crc32c => &self.checksum_crc32c,
            ChecksumAlgorithm::Crc64Nvme => &self.checksum_crc64nvme,
            ChecksumAlgorithm::Sha1 => &self.checksum_sha1,
            ChecksumAlgorithm::Sha256 => &self.checksum_sha256,
        };
        field.as_deref()
    }

    /// The values in [`ChecksumAlgorithm::ALL`]'s order.
    #[must_use]
    pub fn values(&self) -> [Option<&str>; 5] {
        ChecksumAlgorithm::ALL.map(|algorithm| self.get(algorithm))
    }

    /// The fields with `algorithm`'s set to `value`.
    #[must_use]
    pub fn with(algorithm: ChecksumAlgorithm, value: String) -> Self {
        let mut fields = Self::default();
        let slot = match algorithm {
            ChecksumAlgorithm::Crc32 => &mut fields.checksum_crc32,
            ChecksumAlgorithm::Crc32c => &mut fields.checksum_crc32c,
            ChecksumAlgorithm::Crc64Nvme => &mut fields.checksum_crc64nvme,
            ChecksumAlgorithm::Sha1 => &mut fields.checksum_sha1,
            ChecksumAlgorithm::Sha256 => &mut fields.checksum_sha256,
        };
        *slot = Some(value);
        fields
    }
}

/// `GET /<key>?uploadId=ID`: one page of the parts stored so far, as S3's
/// ListParts pages them (`max-parts`, `part-number-marker`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartList {
    /// The key as the client names it.
    pub key: String,
    /// The upload.
    pub upload_id: String,
    /// In part-number order, after the marker asked for.
    pub parts: Vec<StoredPart>,
    /// Whether more parts follow this page.
    #[serde(default)]
    pub is_truncated: bool,
    /// The `part-number-marker` of the next page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_part_number_marker: Option<u16>,
}

/// A part storage holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPart {
    /// 1 to 10,000.
    pub part_number: u16,
    /// Its ETag, without quotes.
    pub etag: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its checksum, when storage keeps one.
    #[serde(flatten)]
    pub checksums: Checksums,
}

/// `POST /<key>?uploadId=ID` with `Content-Type: application/json`: the
/// parts that make the object, in ascending order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionRequest {
    /// The parts to join.
    pub parts: Vec<ListedPart>,
}

/// A part as the client lists it for completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedPart {
    /// 1 to 10,000.
    pub part_number: u16,
    /// The ETag storage gave the part (quotes allowed).
    pub etag: String,
    /// The checksum the part was uploaded with, for storage to check again.
    #[serde(flatten)]
    pub checksums: Checksums,
}

/// The completed object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadCompleted {
    /// The key as the client names it.
    pub key: String,
    /// Its ETag, without quotes.
    pub etag: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its checksum, as storage computed and checked it.
    #[serde(flatten)]
    pub checksums: Checksums,
    /// `FULL_OBJECT` or `COMPOSITE`, with a checksum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
}

/// A refusal on the multipart routes with `Accept: application/json`: the
/// fields of S3's `<Error>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorMessage {
    /// S3's error code, such as `NoSuchUpload`.
    pub code: String,
    /// The one-line reason.
    pub message: String,
    /// The request's id.
    pub request_id: String,
}

/// `POST /<key>?share` with `Accept: application/json`: a new link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLink {
    /// The link itself.
    pub url: String,
    /// The key it opens, as the owner names it.
    pub key: String,
    /// What it allows, such as `GET,HEAD`.
    pub methods: String,
    /// When it stops working, RFC 3339.
    pub expires_at: String,
    /// The largest upload it takes, for upload links.
    pub max_size: Option<u64>,
    /// Its record's id, to revoke it with (`null`: a stateless link, minted without a state store).
    pub id: Option<String>,
    /// How many uses it allows (`null`: any number).
    pub max_uses: Option<u64>,
}

/// `GET /?links`: the caller's live share links, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkList {
    /// The links.
    pub links: Vec<LinkEntry>,
}

/// One share link as its owner sees it (never its token: the link itself
/// is shown once, when it is made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkEntry {
    /// Its id, for `DELETE /?links=ID`.
    pub id: String,
    /// The key it opens, as the owner names it.
    pub key: String,
    /// What it allows, such as `GET,HEAD`.
    pub methods: String,
    /// The largest upload it takes, for upload links.
    pub max_size: Option<u64>,
    /// Who made it: the token's `sub`, or `anonymous`.
    pub created_by: String,
    /// When, RFC 3339.
    pub created_at: String,
    /// When it stops working, RFC 3339.
    pub expires_at: String,
    /// How many uses it allows (`null`: any number).
    pub max_uses: Option<u64>,
    /// How many it has had.
    pub uses: u64,
    /// When it was last used, RFC 3339, or `null`.
    pub last_use: Option<String>,
}

/// `?presign`: a presigned request, for a client to make itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presigned {
    /// The presigned URL.
    pub url: String,
    /// The method it is for.
    pub method: String,
    /// Every header the request must carry for the signature to hold,
    /// lowercase (`content-length` too, which browsers set themselves).
    pub headers: std::collections::BTreeMap<String, String>,
    /// When storage stops taking it, RFC 3339.
    pub expires_at: String,
}

/// `GET /<folder>/`: one page of a folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderPage {
    /// The objects directly in the folder.
    pub objects: Vec<FolderObject>,
    /// The folders directly in it, as the client names them, ending in `/`.
    pub folders: Vec<String>,
    /// The cursor of the next page (`?after=`), or `null` on the last.
    pub next: Option<String>,
}

/// An object in a folder page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderObject {
    /// Its key as the client names it.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written, RFC 3339.
    pub last_modified: Option<String>,
    /// Its ETag as storage gives it, without quotes.
    pub etag: String,
    /// Its `x-amz-meta-*` metadata (names without the prefix), with `&metadata`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub metadata: Option<std::collections::BTreeMap<String, String>>,
    /// Where its processing stands (`stored`, `processing`, `ready`,
    /// `failed`), with `&metadata` when the upload log is on.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
    /// Why its processing failed, in one line.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// The renditions asked for with `&renditions=`, those that are ready.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub renditions: Option<std::collections::BTreeMap<String, RenditionLink>>,
}

/// A rendition in a listing: a URL to show it at, and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenditionLink {
    /// A presigned URL, stable for a while so browsers cache the image.
    pub url: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
}

/// A rendition's size, in a log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenditionSize {
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
}

/// An upload in the log (`GET /?log`) or one object's record (`GET /<key>?status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The key as the client names it.
    pub key: String,
    /// Bytes.
    pub size: u64,
    /// Its `Content-Type`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none", default)]
    pub content_type: Option<String>,
    /// Its `x-amz-meta-*` metadata.
    pub metadata: std::collections::BTreeMap<String, String>,
    /// The `title` metadata, when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// The token's `sub`, `link:<16 hex>`, `anonymous` or `unknown`.
    pub uploaded_by: String,
    /// RFC 3339.
    pub uploaded_at: String,
    /// `stored`, `processing`, `ready` or `failed`.
    pub status: String,
    /// Why it failed, in one line.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// Its renditions, once made.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty", default)]
    pub renditions: std::collections::BTreeMap<String, RenditionSize>,
}

/// `GET /?log`: one page of the upload log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    /// The uploads.
    pub entries: Vec<LogEntry>,
    /// The cursor of the next page (`?log&after=`), or `null` on the last.
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_xml_has_s3_names_and_escapes() {
        let part = StoredPart { part_number: 1, etag: "e1".into(), size: 5, checksums: Checksums::default() };
        let list = PartList {
            key: "a&b.bin".into(),
            upload_id: "u1".into(),
            parts: vec![part],
            is_truncated: true,
            next_part_number_marker: Some(1),
        };
        let names = S3Names { bucket: "b".into(), location: String::new() };
        let xml = s3::to_xml(&s3::ListPartsResult::new(&list, &names, 0, 1));
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket><Key>a&amp;b.bin</Key><UploadId>u1</UploadId><StorageClass>STANDARD</StorageClass><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>1</NextPartNumberMarker><MaxParts>1</MaxParts><IsTruncated>true</IsTruncated><Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag><Size>5</Size></Part></ListPartsResult>\n"
        );
        let error: s3::Error = quick_xml::de::from_str(
            "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>a &amp; b</Message><RequestId>1</RequestId></Error>",
        )
        .unwrap();
        assert_eq!(error, s3::Error { code: "NoSuchKey".into(), message: "a & b".into(), request_id: "1".into() });
    }

    #[test]
    fn checksums_travel_under_s3s_names() {
        let crc = Checksums::with(ChecksumAlgorithm::Crc64Nvme, "AAAAAAAAAAA=".into());
        let listed = ListedPart { part_number: 1, etag: "e".into(), checksums: crc.clone() };
        let json = serde_json::to_string(&CompletionRequest { parts: vec![listed.clone()] }).unwrap();
        assert_eq!(json, r#"{"parts":[{"part_number":1,"etag":"e","checksum_crc64nvme":"AAAAAAAAAAA="}]}"#);
        assert_eq!(serde_json::from_str::<CompletionRequest>(&json).unwrap().parts, [listed]);
        let xml = s3::to_xml(&s3::CompleteMultipartUpload { parts: vec![s3::Part::new(1, "\"e\"".into(), None, crc)] });
        assert!(xml.contains("<ChecksumCRC64NVME>AAAAAAAAAAA=</ChecksumCRC64NVME>"), "{xml}");
        let back: s3::CompleteMultipartUpload = quick_xml::de::from_str(&xml).unwrap();
        assert_eq!(back.parts[0].checksums().get(ChecksumAlgorithm::Crc64Nvme), Some("AAAAAAAAAAA="));
    }
}

/// `GET /?config` (also `/%2F?config`): what the page, or an app, needs to
/// know before anyone signs in. Nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageConfig {
    /// `none`, `authorizer` or `jwt`.
    pub auth: String,
    /// The OpenID provider's issuer URL, if the page signs in with one.
    pub issuer: Option<String>,
    /// The page's public OpenID client; without one the page asks for a token.
    pub client_id: Option<String>,
    /// Which token the page sends: `id` or `access`.
    pub token: String,
    /// Whether share links are on.
    pub links: bool,
}
