//! Completing a multipart upload: the client's part list, parsed from S3's
//! `<CompleteMultipartUpload>` or the gateway's JSON form (both defined in
//! [`crate::wire`]), and checked against the parts storage holds.

use super::checksum::{Checksum, ChecksumType};
use super::limits::{MAX_PARTS, MIN_PART_BYTES};
use super::query::PartNumber;
use super::rejection::Rejection;
use crate::wire::{self, s3};

/// The longest completion body read, in bytes (10,000 parts fit easily).
pub const MAX_COMPLETION_BYTES: usize = 2 << 20;

/// A part as the client lists it for completion, or as storage lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 1 to 10,000.
    pub number: u16,
    /// The ETag storage gave the part, without quotes.
    pub etag: String,
    /// The size in bytes (storage's list only; 0 in the client's).
    pub size: u64,
    /// The checksum it was uploaded with, if any.
    pub checksum: Option<Checksum>,
}

/// A completion as the gateway asks storage for it, after its own checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The parts, as the client listed them.
    pub parts: Vec<Part>,
    /// Whether an existing object may be replaced.
    pub overwrite: super::Overwrite,
    /// The whole object's checksum, for storage to check.
    pub checksum: Option<Checksum>,
    /// `x-amz-checksum-type`, if the client sent it.
    pub checksum_type: Option<ChecksumType>,
    /// The total the gateway checked its limit against; storage refuses another
    /// (S3's `x-amz-mp-object-size`), so a part replaced meanwhile cannot pass it.
    pub size: u64,
}

/// What storage answered a completion with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedObject {
    /// The object's ETag, without quotes.
    pub etag: String,
    /// Its checksum, when storage reports one.
    pub checksum: Option<Checksum>,
    /// What the checksum covers.
    pub checksum_type: Option<ChecksumType>,
}

/// The format of a completion body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// S3's `<CompleteMultipartUpload>`.
    Xml,
    /// `{"parts":[{"part_number":1,"etag":"…"}]}`.
    Json,
}

/// Parses a completion body. Part numbers must ascend.
pub fn parse_completion(body: &[u8], format: BodyFormat) -> Result<Vec<Part>, Rejection> {
    let parts = match format {
        BodyFormat::Json => {
            let list: wire::CompletionRequest =
                serde_json::from_slice(body).map_err(|_| Rejection::Completion("not a part list"))?;
            let parts = list.parts.into_iter();
            parts.map(|p| new_part(u32::from(p.part_number), &p.etag, &p.checksums)).collect::<Result<_, _>>()?
        }
        BodyFormat::Xml => {
            let malformed = || Rejection::Completion("not a CompleteMultipartUpload document");
            let text = std::str::from_utf8(body).map_err(|_| malformed())?;
            let list: s3::CompleteMultipartUpload = quick_xml::de::from_str(text).map_err(|_| malformed())?;
            list.parts
                .into_iter()
                .map(|p| new_part(p.part_number, &p.etag, &p.checksums()))
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    if parts.is_empty() || parts.len() > usize::from(MAX_PARTS) {
        return Err(Rejection::Completion("list between 1 and 10000 parts"));
    }
    if parts.windows(2).any(|pair| pair[0].number >= pair[1].number) {
        return Err(Rejection::Completion("part numbers must ascend"));
    }
    Ok(parts)
}

fn new_part(number: u32, etag: &str, checksums: &wire::Checksums) -> Result<Part, Rejection> {
    let number = PartNumber::new(number)?.get();
    let etag = etag.trim().trim_matches('"');
    if etag.is_empty() || !etag.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Rejection::Completion("every part needs its ETag"));
    }
    let checksum = Checksum::one_of(checksums.values())?;
    Ok(Part { number, etag: etag.to_owned(), size: 0, checksum })
}

/// Checks a completion against the parts storage holds (in part-number
/// order, as storage lists them): each listed part exists with that ETag, all
/// but the last are at least 5 MiB, and the total is within `max_size`.
/// Returns the total size.
pub fn check_completion(wanted: &[Part], stored: &[Part], max_size: Option<u64>) -> Result<u64, Rejection> {
    let mut total = 0u64;
    for (index, part) in wanted.iter().enumerate() {
        let found = stored.binary_search_by_key(&part.number, |s| s.number).ok().and_then(|at| stored.get(at));
        let same_checksum = |stored: &Part| match (&stored.checksum, &part.checksum) {
            (Some(stored), Some(listed)) if stored.algorithm == listed.algorithm => stored.value == listed.value,
            _ => true,
        };
        let Some(found) = found.filter(|s| s.etag == part.etag && same_checksum(s)) else {
            return Err(Rejection::InvalidPart(part.number));
        };
        if index + 1 < wanted.len() && found.size < MIN_PART_BYTES {
            return Err(Rejection::PartTooSmall(part.number));
        }
        total = total.saturating_add(found.size);
    }
    match max_size {
        Some(max) if total > max => Err(Rejection::TooLarge(max)),
        _ => Ok(total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: u16, etag: &str, size: u64) -> Part {
        Part { number, etag: etag.into(), size, checksum: None }
    }

    #[test]
    fn completion_documents_parse() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
            <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Part><ETag>"aaa"</ETag><PartNumber>1</PartNumber></Part>
              <Part><PartNumber>2</PartNumber><ETag>&quot;bbb&quot;</ETag></Part>
            </CompleteMultipartUpload>"#;
        assert_eq!(parse_completion(xml, BodyFormat::Xml).unwrap(), vec![part(1, "aaa", 0), part(2, "bbb", 0)]);
        let json = br#"{"parts":[{"part_number":1,"etag":"\"aaa\""},{"part_number":3,"etag":"ccc"}]}"#;
        assert_eq!(parse_completion(json, BodyFormat::Json).unwrap(), vec![part(1, "aaa", 0), part(3, "ccc", 0)]);
    }

    #[test]
    fn bad_completions_are_refused() {
        let cases: [(&[u8], BodyFormat); 7] = [
            (b"<CompleteMultipartUpload></CompleteMultipartUpload>", BodyFormat::Xml),
            (b"<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>", BodyFormat::Xml),
            (b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>", BodyFormat::Xml),
            (b"<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>", BodyFormat::Xml),
            (b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a", BodyFormat::Xml),
            (br#"{"parts":[{"part_number":1,"etag":"a"},{"part_number":1,"etag":"b"}]}"#, BodyFormat::Json),
            (b"not json", BodyFormat::Json),
        ];
        for (body, format) in cases {
            assert!(parse_completion(body, format).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn completions_are_checked_against_storage() {
        let stored = [part(1, "a", MIN_PART_BYTES), part(2, "b", MIN_PART_BYTES - 1), part(3, "c", 10)];
        assert_eq!(check_completion(&[part(1, "a", 0), part(3, "c", 0)], &stored, None), Ok(MIN_PART_BYTES + 10));
        assert_eq!(check_completion(&[part(1, "x", 0)], &stored, None), Err(Rejection::InvalidPart(1)));
        assert_eq!(check_completion(&[part(4, "d", 0)], &stored, None), Err(Rejection::InvalidPart(4)));
        assert_eq!(
            check_completion(&[part(2, "b", 0), part(3, "c", 0)], &stored, None),
            Err(Rejection::PartTooSmall(2))
        );
        assert_eq!(check_completion(&[part(1, "a", 0)], &stored, Some(100)), Err(Rejection::TooLarge(100)));
    }
}
