//! What the catalog keeps of an object, as JSON in the state store: the
//! record of a stored object, the intent signed before its upload, and who
//! made it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a record stands. `Deleted` is a tombstone: it remembers the
/// deletion's sequencer for a while, so an older event arriving late cannot
/// bring the record back; readers never show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Stored; no renditions to make (or none asked for).
    Stored,
    /// Its renditions are being made.
    Processing,
    /// Its renditions are made.
    Ready,
    /// Its renditions could not be made; the record says why.
    Failed,
    /// Deleted: a tombstone.
    Deleted,
}

impl Status {
    /// The name the API shows.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::Processing => "processing",
            Self::Ready => "ready",
            Self::Failed => "failed",
            Self::Deleted => "deleted",
        }
    }
}

/// One rendition of a record's object, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenditionRecord {
    /// Its storage key (under the reserved prefix, tied to the original's ETag).
    pub key: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
}

/// A stored object, as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The storage key.
    pub key: String,
    /// Bytes.
    pub size: u64,
    /// Without quotes.
    pub etag: String,
    /// S3's order of the events of this key: a record is only ever replaced
    /// by an event with a greater one.
    pub sequencer: String,
    /// The object's `Content-Type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `x-amz-meta-*`, names without the prefix.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Who uploaded it ([`Uploader`]'s text).
    pub uploaded_by: String,
    /// Seconds since the epoch.
    pub uploaded_at: u64,
    /// Where it stands.
    pub status: Status,
    /// Why it failed, in one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its renditions by preset name, once made.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub renditions: BTreeMap<String, RenditionRecord>,
    /// When its rendering began (seconds since the epoch), while `Processing`:
    /// one that took far too long was cut short (a crash), and is claimed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_since: Option<u64>,
}

/// An upload URL the gateway signed: who asked, and what they declared.
/// Matched to the object when storage reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// Who asked.
    pub uploaded_by: String,
    /// The declared size; `None` when any size goes (a multipart completion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// Who uploaded an object, as the log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uploader {
    /// A signed-in caller: the token's (or the authorizer's) `sub`.
    Subject(String),
    /// The holder of a share link: the first 16 hex digits of the SHA-256 of its token.
    Link(String),
    /// The holder of an API key: its id.
    Key(String),
    /// `--auth none`, or a caller without a `sub`.
    Anonymous,
}

impl Uploader {
    /// A share link's holder, named without revealing the token.
    #[must_use]
    pub fn link(token: &str) -> Self {
        Self::Link(super::sha256_hex(token, 8))
    }

    /// The log's text: the subject, `link:<16 hex>`, `key:<id>` or `anonymous`.
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            Self::Subject(subject) => subject.clone(),
            Self::Link(hash) => format!("link:{hash}"),
            Self::Key(id) => format!("key:{id}"),
            Self::Anonymous => "anonymous".to_owned(),
        }
    }
}

/// What a record says when nobody signed its upload (written straight to storage).
pub const UNKNOWN_UPLOADER: &str = "unknown";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_named_by_a_hash_of_its_token() {
        // python3 -c "import hashlib; print(hashlib.sha256(b'abc').hexdigest()[:16])"
        assert_eq!(Uploader::link("abc").text(), "link:ba7816bf8f01cfea");
        assert_eq!(Uploader::Subject("u-1".into()).text(), "u-1");
        assert_eq!(Uploader::Anonymous.text(), "anonymous");
    }

    #[test]
    fn records_read_back_as_written() {
        let record = Record {
            key: "up/tenants/acme/a.jpg".into(),
            size: 7,
            etag: "e".into(),
            sequencer: "01".into(),
            content_type: Some("image/jpeg".into()),
            metadata: BTreeMap::from([("title".into(), "Beach".into())]),
            uploaded_by: "u-1".into(),
            uploaded_at: 1_780_000_000,
            status: Status::Failed,
            reason: Some("not a supported image".into()),
            renditions: BTreeMap::new(),
            processing_since: None,
        };
        let json = serde_json::to_string(&record).unwrap();
        assert!(json.contains(r#""status":"failed""#), "{json}");
        assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), record);
    }
}
