//! Between s3s's request and response fields and the store's own types:
//! the checksums and conditions a request carries, what a write may replace,
//! an object's attributes and S3's limit on them, and what a read says of an
//! object. The operations themselves are in [`super::objects`]. The macros
//! fill fields that s3s spells alike in several types; they name
//! `Algorithm`, `Conditions`, `Timestamp`, `ChecksumType`, `etag` and
//! `set_checksum` as the caller imports them.

use bytes::Bytes;
use s3s::S3Result;
use s3s::dto::{ChecksumAlgorithm, ChecksumMode, ETag, ETagCondition, StreamingBlob};

use super::bucket::Claims;
use super::checksum::{self, Algorithm};
use super::error::StoreError;
use super::index::Precondition;
use super::records::{Attributes, ObjectRecord};
use crate::core::limits::MAX_METADATA_BYTES;

/// The type S3 gives objects uploaded without one.
pub(super) const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Sets the field of `$output` that carries `$algorithm`'s checksum.
macro_rules! set_checksum {
    ($output:expr, $algorithm:expr, $value:expr) => {{
        let value = Some($value);
        match $algorithm {
            Algorithm::Crc32 => $output.checksum_crc32 = value,
            Algorithm::Crc32c => $output.checksum_crc32c = value,
            Algorithm::Crc64Nvme => $output.checksum_crc64nvme = value,
            Algorithm::Sha1 => $output.checksum_sha1 = value,
            Algorithm::Sha256 => $output.checksum_sha256 = value,
        }
    }};
}

/// A read's conditions (`If-Match`, `If-None-Match`, `If-Modified-Since`,
/// `If-Unmodified-Since`), checked against the object `$record` holds.
macro_rules! check_conditions {
    ($input:expr, $record:expr) => {{
        let conditions = Conditions {
            matching: $input.if_match,
            none_matching: $input.if_none_match,
            modified_since: $input.if_modified_since,
            unmodified_since: $input.if_unmodified_since,
        };
        conditions.check(&etag(&$record), &Timestamp::from($record.modified()))
    }};
}

/// What a GET and a HEAD both say of the object `$record` holds (the same
/// fields in two s3s types): `$output` with the `$field`s given, the rest
/// from the record and its `$attributes`, and its checksum when `$checksum`.
macro_rules! described {
    ($output:ident { $($field:ident: $value:expr),* $(,)? }, $record:expr, $attributes:ident, $checksum:expr) => {{
        let mut output = $output {
            $($field: $value,)*
            accept_ranges: Some("bytes".into()),
            e_tag: Some(etag(&$record)),
            last_modified: Some(Timestamp::from($record.modified())),
            content_encoding: $attributes.content_encoding,
            content_language: $attributes.content_language,
            cache_control: $attributes.cache_control,
            metadata: Some($attributes.metadata.into_iter().collect()),
            parts_count: $record.parts.map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
            ..Default::default()
        };
        if $checksum {
            set_checksum!(output, $record.checksum.algorithm, $record.checksum.value.clone());
            output.checksum_type = Some(ChecksumType::from($record.checksum.kind.name().to_owned()));
        }
        output
    }};
}

/// The checksums `$input` carries, in S3's order, as (algorithm, value).
macro_rules! checksums_of {
    ($input:expr) => {{
        let fields = [
            (Algorithm::Crc32, &$input.checksum_crc32),
            (Algorithm::Crc32c, &$input.checksum_crc32c),
            (Algorithm::Crc64Nvme, &$input.checksum_crc64nvme),
            (Algorithm::Sha1, &$input.checksum_sha1),
            (Algorithm::Sha256, &$input.checksum_sha256),
        ];
        fields.into_iter().filter_map(|(a, v)| v.as_ref().map(|v| (a, v.trim().to_owned()))).collect::<Vec<_>>()
    }};
}

pub(super) fn claims(
    md5: Option<&String>,
    checksums: Vec<(Algorithm, String)>,
    algorithm: Option<&ChecksumAlgorithm>,
) -> Result<Claims, StoreError> {
    let md5 = md5.map(|m| checksum::content_md5(m).ok_or(StoreError::InvalidDigest("Content-MD5"))).transpose()?;
    let algorithm = algorithm
        .map(|a| {
            Algorithm::parse(a.as_str()).ok_or(StoreError::NotImplemented("That checksum algorithm is not supported."))
        })
        .transpose()?;
    Ok(Claims { md5, checksums, algorithm })
}

/// What a write may replace, from its `If-None-Match` and `If-Match`.
pub(super) fn precondition(
    none_match: Option<&ETagCondition>,
    matching: Option<&ETagCondition>,
) -> Result<Precondition, StoreError> {
    Ok(match (none_match, matching) {
        (None, None) => Precondition::None,
        (Some(ETagCondition::Any), None) => Precondition::Absent,
        (None, Some(ETagCondition::Any)) => Precondition::Matches("*".into()),
        (None, Some(ETagCondition::ETag(etag))) => Precondition::Matches(etag.value().to_owned()),
        (Some(ETagCondition::ETag(_)), None) => {
            return Err(StoreError::NotImplemented("A write takes If-None-Match: * only."));
        }
        (Some(_), Some(_)) => {
            return Err(StoreError::NotImplemented("A write takes If-None-Match or If-Match, not both."));
        }
    })
}

pub(super) fn length(content_length: Option<i64>) -> Result<u64, StoreError> {
    content_length.and_then(|n| u64::try_from(n).ok()).ok_or(StoreError::MissingContentLength)
}

pub(super) fn body(blob: Option<StreamingBlob>) -> StreamingBlob {
    blob.unwrap_or_else(|| StreamingBlob::wrap(futures_util::stream::empty::<Result<Bytes, std::io::Error>>()))
}

pub(super) fn etag(record: &ObjectRecord) -> ETag {
    ETag::Strong(record.etag.clone())
}

pub(super) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn checksum_mode(mode: Option<&ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case(ChecksumMode::ENABLED))
}

/// Refuses metadata over S3's limit, before any body is read.
pub(super) fn metadata_within_limit(metadata: Option<&s3s::dto::Metadata>) -> S3Result<()> {
    let size: usize = metadata.into_iter().flatten().map(|(name, value)| name.len() + value.len()).sum();
    if size > MAX_METADATA_BYTES {
        return Err(s3s::s3_error!(
            MetadataTooLarge,
            "Your metadata headers exceed the maximum allowed metadata size of {MAX_METADATA_BYTES} bytes"
        ));
    }
    Ok(())
}

pub(super) fn attributes(
    content_type: Option<String>,
    content_encoding: Option<String>,
    content_disposition: Option<String>,
    content_language: Option<String>,
    cache_control: Option<String>,
    metadata: Option<s3s::dto::Metadata>,
) -> Attributes {
    let metadata = metadata.unwrap_or_default().into_iter().collect();
    Attributes { content_type, content_encoding, content_disposition, content_language, cache_control, metadata }
}

pub(super) use {check_conditions, checksums_of, described, set_checksum};
