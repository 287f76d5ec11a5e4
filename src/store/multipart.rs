//! Multipart uploads: each part is a blob checked like a PUT (its
//! `Content-MD5` and checksum), recorded under (upload id, part number).
//! Completion is one index transaction that reads the upload's parts,
//! checks the client's list against them (ETags, checksums, sizes, the
//! expected total), and puts the object in their place: the object is its
//! part blobs in order, so no byte is copied, and a part uploaded again
//! meanwhile either came first (and the list no longer matches) or finds the
//! upload gone. The ETag comes from the part MD5s and the checksum from the
//! part checksums, combined for CRCs, without reading the object again.

use uuid::Uuid;

use super::blobs::Received;
use super::bucket::{Bucket, Claims};
use super::checksum::{self, Algorithm, Kind};
use super::error::StoreError;
use super::index::Precondition;
use super::records::{Attributes, ObjectRecord, PartRecord, StoredChecksum, UploadRecord, now_ns};
use crate::core::limits::MIN_PART_BYTES;

/// A part as a completion lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its number.
    pub number: u32,
    /// Its ETag, without quotes.
    pub etag: String,
    /// Its checksum in the upload's algorithm, if the client gives one.
    pub checksum: Option<String>,
}

/// What a completion asks for besides its part list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// The whole object's checksum, as the client computed it.
    pub checksum: Option<(Algorithm, String)>,
    /// `x-amz-checksum-type`.
    pub kind: Option<Kind>,
    /// `x-amz-mp-object-size`: the total the client checked its limits against.
    pub size: Option<u64>,
    /// `If-None-Match: *` or `If-Match`.
    pub condition: Precondition,
}

impl Bucket {
    /// Starts an upload; returns its id.
    pub fn create_upload(
        &self,
        key: &str,
        attributes: Attributes,
        algorithm: Option<Algorithm>,
        kind: Option<Kind>,
    ) -> Result<String, StoreError> {
        let (algorithm, kind) = match (algorithm, kind) {
            (None, Some(_)) => {
                return Err(StoreError::InvalidRequest("x-amz-checksum-type needs x-amz-checksum-algorithm.".into()));
            }
            (None, None) => (Algorithm::Crc64Nvme, Kind::FullObject),
            (Some(algorithm), kind) => {
                let kind = kind.unwrap_or(algorithm.default_type());
                if !algorithm.allows(kind) {
                    return Err(StoreError::InvalidRequest(format!(
                        "The {} checksum algorithm does not support the {} checksum type.",
                        algorithm.name(),
                        kind.name()
                    )));
                }
                (algorithm, kind)
            }
        };
        let id = Uuid::new_v4().to_string();
        let record = UploadRecord { key: key.to_owned(), created_ns: now_ns(), attributes, algorithm, kind };
        self.index().create_upload(&id, &record)?;
        Ok(id)
    }

    /// Records a received part, if it matches `claims` and the upload is
    /// still there. On any failure the part is discarded.
    pub fn store_part(
        &self,
        upload: &UploadRecord,
        id: &str,
        number: u32,
        received: &Received,
        claims: &Claims,
    ) -> Result<PartRecord, StoreError> {
        let digests = &received.digests;
        let part = PartRecord {
            blob: super::records::BlobRef { id: received.id, size: digests.size },
            md5: digests.etag(),
            checksum: digests.value(upload.algorithm).unwrap_or_default(),
            crc64nvme: digests.crc64nvme,
            modified_ns: now_ns(),
        };
        let stored = claims
            .verify(digests)
            .and_then(|()| self.blobs().install(received.id))
            .and_then(|()| self.index().put_part(id, &upload.key, number, &part));
        match stored {
            Ok(replaced) => {
                if let Some(old) = replaced {
                    self.blobs().discard(old.blob.id);
                }
                Ok(part)
            }
            Err(error) => {
                self.blobs().discard(received.id);
                Err(error)
            }
        }
    }

    /// Completes upload `id` into `key` from the client's list.
    pub fn complete(
        &self,
        id: &str,
        key: &str,
        listed: &[Listed],
        expected: &Expected,
    ) -> Result<ObjectRecord, StoreError> {
        if listed.is_empty() {
            return Err(StoreError::InvalidRequest("You must specify at least one part.".into()));
        }
        if listed.windows(2).any(|pair| pair[0].number >= pair[1].number) {
            return Err(StoreError::InvalidPartOrder);
        }
        let plan = Box::new(|upload: &UploadRecord, stored: &[(u32, PartRecord)], current: Option<&ObjectRecord>| {
            plan(upload, stored, current, listed, expected)
        });
        let (record, replaced, parts) = self.index().complete(id, key, plan)?;
        // Every part uploaded but left out goes, as on S3.
        for (_, part) in parts {
            if !record.blobs.iter().any(|b| b.id == part.blob.id) {
                self.blobs().discard(part.blob.id);
            }
        }
        if let Some(old) = replaced {
            self.retire(&old);
        }
        Ok(record)
    }

    /// Aborts upload `id` of `key`; its parts go.
    pub fn abort(&self, id: &str, key: Option<&str>) -> Result<(), StoreError> {
        for part in self.index().abort(id, key)? {
            self.blobs().discard(part.blob.id);
        }
        Ok(())
    }
}

/// The object a completion makes, checked against everything stored and expected.
fn plan(
    upload: &UploadRecord,
    stored: &[(u32, PartRecord)],
    current: Option<&ObjectRecord>,
    listed: &[Listed],
    expected: &Expected,
) -> Result<ObjectRecord, StoreError> {
    let mut parts = Vec::with_capacity(listed.len());
    for wanted in listed {
        let number = wanted.number;
        let found = stored.binary_search_by_key(&number, |(n, _)| *n).ok().map(|at| &stored[at].1);
        let part = found.ok_or_else(|| StoreError::InvalidPart(format!("Part {number} was not uploaded.")))?;
        if part.md5 != wanted.etag {
            return Err(StoreError::InvalidPart(format!("Part {number} is not stored with the ETag {}.", wanted.etag)));
        }
        if wanted.checksum.as_ref().is_some_and(|c| *c != part.checksum) {
            return Err(StoreError::InvalidPart(format!(
                "Part {number} is not stored with that {} checksum.",
                upload.algorithm.name()
            )));
        }
        parts.push(part);
    }
    if let Some((_, all_but_last)) = parts.split_last()
        && all_but_last.iter().any(|part| part.blob.size < MIN_PART_BYTES)
    {
        return Err(StoreError::EntityTooSmall);
    }
    let size: u64 = parts.iter().map(|p| p.blob.size).sum();
    if expected.size.is_some_and(|expected| expected != size) {
        return Err(StoreError::InvalidRequest(format!(
            "The parts listed are {size} bytes, not the {} given in x-amz-mp-object-size.",
            expected.size.unwrap_or_default()
        )));
    }
    if expected.kind.is_some_and(|kind| kind != upload.kind) {
        return Err(StoreError::InvalidRequest(format!(
            "The upload was started with the {} checksum type.",
            upload.kind.name()
        )));
    }
    let etag = checksum::multipart_etag(parts.iter().map(|p| p.md5.as_str()))
        .ok_or(StoreError::InvalidPart("a part's ETag is not an MD5".into()))?;
    let value = match upload.kind {
        Kind::FullObject => {
            let sized: Vec<(&str, u64)> = parts.iter().map(|p| (p.checksum.as_str(), p.blob.size)).collect();
            checksum::combine(upload.algorithm, &sized)
        }
        Kind::Composite => {
            checksum::composite(upload.algorithm, &parts.iter().map(|p| p.checksum.as_str()).collect::<Vec<_>>())
        }
    };
    let value = value.ok_or(StoreError::InvalidPart("a part's checksum cannot be read".into()))?;
    if let Some((algorithm, claimed)) = &expected.checksum {
        let matches = *algorithm == upload.algorithm && (*claimed == value || value.split('-').next() == Some(claimed));
        if !matches {
            return Err(StoreError::BadDigest(algorithm.header()));
        }
    }
    expected.condition.check(current)?;
    Ok(ObjectRecord {
        version: Uuid::new_v4(),
        size,
        etag,
        modified_ns: now_ns(),
        attributes: upload.attributes.clone(),
        checksum: StoredChecksum { algorithm: upload.algorithm, kind: upload.kind, value },
        parts: Some(u32::try_from(parts.len()).unwrap_or(u32::MAX)),
        blobs: parts.iter().map(|p| p.blob).collect(),
    })
}
