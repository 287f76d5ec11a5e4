//! S3's checksum headers, read and checked before they are signed in: a
//! checksum an upload declares (`x-amz-checksum-crc64nvme` and its kin, at
//! most one), the algorithm and type a multipart upload starts with
//! (`x-amz-checksum-algorithm`, `x-amz-checksum-type`), and
//! `x-amz-checksum-mode: ENABLED` on downloads, which makes storage report
//! the object's checksum. S3 ignores checksums in a presigned URL's query,
//! so each is a header the client sends and the gateway signs (aws-sigv4
//! leaves the checksum mode out of a presigned signature, as S3 reads that
//! one unsigned; it is still checked here).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::rejection::Rejection;
use super::request::UploadHeaders;

pub use crate::checksum::{ChecksumAlgorithm, ChecksumType};

/// A checksum value: base64 of exactly the algorithm's length.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checksum {
    /// Which.
    pub algorithm: ChecksumAlgorithm,
    /// Base64, as S3 writes it.
    pub value: String,
}

impl Checksum {
    /// Accepts `value` if it is a checksum of `algorithm`.
    pub fn new(algorithm: ChecksumAlgorithm, value: &str) -> Result<Self, Rejection> {
        let value = value.trim();
        let raw = STANDARD.decode(value).map_err(|_| Rejection::Checksum(algorithm.header()))?;
        if raw.len() != algorithm.digest_len() {
            return Err(Rejection::Checksum(algorithm.header()));
        }
        Ok(Self { algorithm, value: value.to_owned() })
    }

    /// The one of `values` (one per algorithm, in [`ChecksumAlgorithm::ALL`]'s order) that is given.
    pub fn one_of(values: [Option<&str>; 5]) -> Result<Option<Self>, Rejection> {
        let mut given = ChecksumAlgorithm::ALL.into_iter().zip(values).filter_map(|(a, v)| Some((a, v?)));
        let first = given.next().map(|(algorithm, value)| Self::new(algorithm, value)).transpose()?;
        if given.next().is_some() {
            return Err(Rejection::ChecksumCount);
        }
        Ok(first)
    }
}

/// The checksum a multipart upload is started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChecksumSpec {
    /// Which algorithm every part and the object use.
    pub algorithm: ChecksumAlgorithm,
    /// What the object's checksum covers, if the client says.
    pub kind: Option<ChecksumType>,
}

/// The checksum header an upload (a PUT or a part) declares, if any.
pub fn declared(headers: &UploadHeaders<'_>) -> Result<Option<Checksum>, Rejection> {
    Checksum::one_of(headers.checksums)
}

/// `x-amz-checksum-algorithm` and `x-amz-checksum-type` of `POST ?uploads`,
/// with S3's rules: CRC64NVME takes only full-object checksums, SHA-1 and
/// SHA-256 only composite ones, and a type needs an algorithm.
pub fn multipart_spec(headers: &UploadHeaders<'_>) -> Result<Option<ChecksumSpec>, Rejection> {
    let algorithm = headers
        .checksum_algorithm
        .map(|name| ChecksumAlgorithm::parse(name).ok_or(Rejection::ChecksumAlgorithm))
        .transpose()?;
    let kind = checksum_type(headers)?;
    match (algorithm, kind) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(Rejection::ChecksumTypeWithoutAlgorithm),
        (Some(algorithm), kind) => {
            if kind.is_none_or(|kind| algorithm.allows(kind)) {
                Ok(Some(ChecksumSpec { algorithm, kind }))
            } else {
                Err(Rejection::ChecksumCombination(algorithm.name(), kind.map_or("", ChecksumType::name)))
            }
        }
    }
}

/// `x-amz-checksum-type`, if sent.
pub fn checksum_type(headers: &UploadHeaders<'_>) -> Result<Option<ChecksumType>, Rejection> {
    headers.checksum_type.map(|name| ChecksumType::parse(name).ok_or(Rejection::ChecksumType)).transpose()
}

/// The headers a download hands the signer: `x-amz-checksum-mode: ENABLED` when the client sends it.
pub fn read_headers(headers: &UploadHeaders<'_>) -> Result<Vec<(&'static str, String)>, Rejection> {
    match headers.checksum_mode.map(str::trim) {
        None => Ok(Vec::new()),
        // Signed exactly as the client sends it, since it resends it to storage.
        Some(mode) if mode.eq_ignore_ascii_case("ENABLED") => Ok(vec![("x-amz-checksum-mode", mode.to_owned())]),
        Some(_) => Err(Rejection::ChecksumMode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(set: impl FnOnce(&mut UploadHeaders<'static>)) -> UploadHeaders<'static> {
        let mut headers = UploadHeaders::default();
        set(&mut headers);
        headers
    }

    #[test]
    fn declared_checksums_are_checked_for_shape() {
        let crc = "AAAAAAAAAAA=";
        assert_eq!(
            declared(&with(|h| h.checksums[2] = Some(crc))),
            Ok(Some(Checksum { algorithm: ChecksumAlgorithm::Crc64Nvme, value: crc.into() }))
        );
        assert_eq!(declared(&UploadHeaders::default()), Ok(None));
        let cases: [(UploadHeaders<'static>, Rejection); 3] = [
            (with(|h| h.checksums[2] = Some("AAAA")), Rejection::Checksum("x-amz-checksum-crc64nvme")),
            (with(|h| h.checksums[4] = Some("not base64!")), Rejection::Checksum("x-amz-checksum-sha256")),
            (with(|h| h.checksums[0] = Some("AAAAAAAA")), Rejection::Checksum("x-amz-checksum-crc32")),
        ];
        for (headers, rejection) in cases {
            assert_eq!(declared(&headers), Err(rejection));
        }
        let two = with(|h| {
            h.checksums[1] = Some("AAAAAA==");
            h.checksums[2] = Some(crc);
        });
        assert_eq!(declared(&two), Err(Rejection::ChecksumCount));
    }

    #[test]
    fn multipart_specs_follow_s3s_rules() {
        let spec = |algorithm: &'static str, kind: Option<&'static str>| {
            multipart_spec(&with(|h| {
                h.checksum_algorithm = Some(algorithm);
                h.checksum_type = kind;
            }))
        };
        let full = ChecksumSpec { algorithm: ChecksumAlgorithm::Crc64Nvme, kind: Some(ChecksumType::FullObject) };
        assert_eq!(spec("crc64nvme", Some("FULL_OBJECT")), Ok(Some(full)));
        assert!(spec("CRC32", Some("COMPOSITE")).is_ok());
        assert!(spec("SHA256", None).is_ok());
        assert_eq!(spec("CRC64NVME", Some("COMPOSITE")), Err(Rejection::ChecksumCombination("CRC64NVME", "COMPOSITE")));
        assert_eq!(spec("SHA1", Some("FULL_OBJECT")), Err(Rejection::ChecksumCombination("SHA1", "FULL_OBJECT")));
        assert_eq!(spec("MD5", None), Err(Rejection::ChecksumAlgorithm));
        assert_eq!(spec("CRC32", Some("PARTIAL")), Err(Rejection::ChecksumType));
        let type_alone = with(|h| h.checksum_type = Some("FULL_OBJECT"));
        assert_eq!(multipart_spec(&type_alone), Err(Rejection::ChecksumTypeWithoutAlgorithm));
    }

    #[test]
    fn downloads_sign_the_checksum_mode() {
        assert_eq!(read_headers(&UploadHeaders::default()), Ok(vec![]));
        let enabled = with(|h| h.checksum_mode = Some("ENABLED"));
        assert_eq!(read_headers(&enabled), Ok(vec![("x-amz-checksum-mode", "ENABLED".to_owned())]));
        assert_eq!(read_headers(&with(|h| h.checksum_mode = Some("on"))), Err(Rejection::ChecksumMode));
    }
}
