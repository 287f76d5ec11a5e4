//! The event storage sends after an object is created or deleted, in the
//! shape S3 sends to EventBridge: an EventBridge envelope (`version`, `id`,
//! `detail-type` `Object Created` or `Object Deleted`, `source` `aws.s3`,
//! `account`, `time`, `region`, `resources`) around S3's `detail` (the
//! bucket, the object's key, size, ETag and sequencer, and the `reason`).
//! The embedded store POSTs exactly this JSON to `--notify-url`, so a
//! consumer written for S3's events on AWS reads the local ones unchanged;
//! `aws_lambda_events`' `EventBridgeEvent` reads both (a test proves it).
//!
//! As S3 writes them to EventBridge, keys are plain (not URL-encoded like the
//! older `Records` notifications), `size` is absent from deletions, and
//! `sequencer` is a hex string that orders the events of one key: compare
//! two with [`sequencer_order`].

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// `source` of every S3 event.
pub const SOURCE: &str = "aws.s3";

/// The header that carries the event's signature when a secret is set:
/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "x-presign-gateway-signature";

/// One event, as S3 sends it to EventBridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectEvent {
    /// The envelope's version: `0`.
    pub version: String,
    /// Unique per event, and the same on every delivery of it: deduplicate on it.
    pub id: String,
    /// Created or deleted.
    #[serde(rename = "detail-type")]
    pub detail_type: DetailType,
    /// [`SOURCE`].
    pub source: String,
    /// The bucket owner's account (`000000000000` locally).
    pub account: String,
    /// When it happened, RFC 3339 in UTC to the second, such as `2026-12-01T10:00:00Z`.
    pub time: String,
    /// The bucket's region.
    pub region: String,
    /// The bucket's ARN.
    pub resources: Vec<String>,
    /// What happened.
    pub detail: ObjectEventDetail,
}

/// `detail-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DetailType {
    /// An object was created (or replaced).
    #[serde(rename = "Object Created")]
    ObjectCreated,
    /// An object was deleted.
    #[serde(rename = "Object Deleted")]
    ObjectDeleted,
}

/// `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ObjectEventDetail {
    /// The detail's version: `0`.
    pub version: String,
    /// The bucket.
    pub bucket: EventBucket,
    /// The object.
    pub object: EventObject,
    /// The request that caused it.
    pub request_id: String,
    /// Who made that request (an account id).
    pub requester: String,
    /// Where the request came from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip_address: Option<String>,
    /// The S3 call that caused it.
    pub reason: Reason,
    /// For deletions: `Permanently Deleted` (or `Delete Marker Created` on a versioned bucket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_type: Option<String>,
}

/// `detail.bucket`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBucket {
    /// The bucket's name.
    pub name: String,
}

/// `detail.object`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct EventObject {
    /// The storage key, plain: `tenants/<tenant>/...` for a tenant's objects.
    pub key: String,
    /// Bytes; absent from deletions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Without quotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// On a versioned bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Hex; a later event of the same key has a greater one ([`sequencer_order`]).
    pub sequencer: String,
}

/// `detail.reason`: the S3 call behind the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reason {
    /// A single PUT.
    PutObject,
    /// A browser form upload.
    #[serde(rename = "POST Object")]
    PostObject,
    /// A copy.
    CopyObject,
    /// A completed multipart upload.
    CompleteMultipartUpload,
    /// A DELETE.
    DeleteObject,
    /// A lifecycle rule.
    #[serde(rename = "Lifecycle Expiration")]
    LifecycleExpiration,
    /// Anything else S3 may name (read only).
    #[serde(other)]
    Other,
}

/// `source` of the gateway's own events.
pub const GATEWAY_SOURCE: &str = "presign-gateway";

/// The gateway's event about an object it processed, in the envelope of
/// S3's: a rendition made (`Rendition Ready`, one per preset) or the
/// object's renditions failed (`Rendition Failed`, with the reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenditionEvent {
    /// `0`.
    pub version: String,
    /// Unique per event, the same on every delivery.
    pub id: String,
    /// Ready or failed.
    #[serde(rename = "detail-type")]
    pub detail_type: RenditionDetailType,
    /// [`GATEWAY_SOURCE`].
    pub source: String,
    /// As the object's events.
    pub account: String,
    /// RFC 3339 in UTC.
    pub time: String,
    /// The bucket's region.
    pub region: String,
    /// The bucket's ARN.
    pub resources: Vec<String>,
    /// What was made.
    pub detail: RenditionDetail,
}

/// `detail-type` of a rendition's event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RenditionDetailType {
    /// A rendition was made.
    #[serde(rename = "Rendition Ready")]
    Ready,
    /// The object's renditions could not be made.
    #[serde(rename = "Rendition Failed")]
    Failed,
}

impl RenditionDetailType {
    /// The `detail-type`, as EventBridge's `PutEvents` takes it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "Rendition Ready",
            Self::Failed => "Rendition Failed",
        }
    }
}

/// `detail` of a rendition's event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenditionDetail {
    /// `0`.
    pub version: String,
    /// The bucket.
    pub bucket: EventBucket,
    /// The original: its storage key and ETag.
    pub object: RenditionOriginal,
    /// The rendition made (`null` when they failed).
    pub rendition: Option<RenditionMade>,
    /// Why they failed, in one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl RenditionDetail {
    /// What became of version `etag` of the object at `key` in `bucket`:
    /// a rendition made, or why none could be.
    #[must_use]
    pub fn new(bucket: &str, key: &str, etag: &str, outcome: Result<RenditionMade, String>) -> Self {
        let (rendition, reason) = match outcome {
            Ok(made) => (Some(made), None),
            Err(reason) => (None, Some(reason)),
        };
        Self {
            version: "0".into(),
            bucket: EventBucket { name: bucket.into() },
            object: RenditionOriginal { key: key.into(), etag: etag.into() },
            rendition,
            reason,
        }
    }

    /// Ready when it tells of a rendition made.
    #[must_use]
    pub const fn detail_type(&self) -> RenditionDetailType {
        if self.rendition.is_some() { RenditionDetailType::Ready } else { RenditionDetailType::Failed }
    }
}

/// `detail.object` of a rendition's event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenditionOriginal {
    /// The original's storage key.
    pub key: String,
    /// The original's ETag, without quotes.
    pub etag: String,
}

/// `detail.rendition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenditionMade {
    /// The preset.
    pub name: String,
    /// Its storage key.
    pub key: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
}

/// `deletion-type` of a deletion on a bucket without versioning.
pub const PERMANENTLY_DELETED: &str = "Permanently Deleted";

/// Orders two sequencers of the same key as S3 documents: "if the
/// sequencer strings are of different lengths, first right-pad the shorter
/// value with zeros, then do a lexicographical comparison".
#[must_use]
pub fn sequencer_order(a: &str, b: &str) -> Ordering {
    let width = a.len().max(b.len());
    let pad = |s: &str| format!("{s:0<width$}").to_ascii_uppercase();
    pad(a).cmp(&pad(b))
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::event::eventbridge::EventBridgeEvent;

    use super::*;

    /// An event in S3's shape, with S3's own fields this type does not keep.
    const FROM_S3: &str = r#"{
        "version": "0", "id": "5b6e1c2a-3f4d-4e5f-8a9b-0c1d2e3f4a5b", "detail-type": "Object Created",
        "source": "aws.s3", "account": "123456789012", "time": "2026-12-01T10:00:00Z", "region": "eu-west-1",
        "resources": ["arn:aws:s3:::files"],
        "detail": {
            "version": "0", "bucket": {"name": "files"},
            "object": {"key": "tenants/acme/q3 report.pdf", "size": 7, "etag": "0f343b0931126a20f133d67c2b018a3b",
                       "version-id": "Abc.1", "sequencer": "0065F1A2B3C4D5E6F7"},
            "request-id": "4XKQ2ZB7W1PPM3H8", "requester": "123456789012", "source-ip-address": "198.51.100.7",
            "reason": "PutObject"
        }
    }"#;

    fn created() -> ObjectEvent {
        serde_json::from_str(FROM_S3).unwrap()
    }

    #[test]
    fn reads_s3s_event_and_writes_it_back_in_the_same_shape() {
        let event = created();
        assert_eq!(event.detail_type, DetailType::ObjectCreated);
        assert_eq!(event.detail.object.key, "tenants/acme/q3 report.pdf");
        assert_eq!(event.detail.object.size, Some(7));
        assert_eq!(event.detail.reason, Reason::PutObject);
        let written = serde_json::to_value(&event).unwrap();
        let original: serde_json::Value = serde_json::from_str(FROM_S3).unwrap();
        assert_eq!(written, original);
    }

    #[test]
    fn the_lambda_runtimes_event_type_reads_what_is_written() {
        let mut deleted = created();
        deleted.detail_type = DetailType::ObjectDeleted;
        deleted.detail.reason = Reason::DeleteObject;
        deleted.detail.object.size = None;
        deleted.detail.deletion_type = Some(PERMANENTLY_DELETED.into());
        for event in [created(), deleted] {
            let body = serde_json::to_vec(&event).unwrap();
            let read: EventBridgeEvent<serde_json::Value> = serde_json::from_slice(&body).unwrap();
            assert_eq!(read.source, SOURCE);
            assert_eq!(serde_json::to_value(event.detail_type).unwrap(), read.detail_type.as_str());
            assert_eq!(read.time.unwrap().to_rfc3339(), "2026-12-01T10:00:00+00:00");
            assert_eq!(read.detail["object"]["key"], "tenants/acme/q3 report.pdf");
            let typed: EventBridgeEvent<ObjectEventDetail> = serde_json::from_slice(&body).unwrap();
            assert_eq!(typed.detail, event.detail);
        }
    }

    #[test]
    fn unknown_reasons_are_read_as_other() {
        let text = FROM_S3.replace("\"PutObject\"", "\"Restore Completed\"");
        assert_eq!(serde_json::from_str::<ObjectEvent>(&text).unwrap().detail.reason, Reason::Other);
    }

    #[test]
    fn sequencers_compare_as_s3_says() {
        let cases = [
            ("0000000000000001", "0000000000000002", Ordering::Less),
            ("617f08299329d189", "617F08299329D189", Ordering::Equal),
            ("FF", "0100", Ordering::Greater),
            ("0100", "01", Ordering::Equal),
            ("64D3901D00059242", "64D3901D0005924", Ordering::Greater),
        ];
        for (a, b, expected) in cases {
            assert_eq!(sequencer_order(a, b), expected, "{a} vs {b}");
        }
    }
}
