//! The digests the store computes and checks: the MD5 behind every ETag, the
//! CRC64NVME every object gets (as S3 gives every new object since 2025), and
//! whichever of S3's checksums an upload asks for. Multipart checksums are
//! derived from the parts' without reading the object again: CRCs combine
//! (crc-fast's `checksum_combine`), other algorithms are composite. The
//! algorithms and their rules are [`crate::checksum`]'s, named here as the
//! store always did.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crc_fast::CrcAlgorithm;
use md5::{Digest as _, Md5};
use s3s::crypto::{Checksum as _, Sha1, Sha256};

pub use crate::checksum::{ChecksumAlgorithm as Algorithm, ChecksumType as Kind};

/// The CRC crc-fast computes for `algorithm`, if it is a CRC.
fn crc(algorithm: Algorithm) -> Option<CrcAlgorithm> {
    match algorithm {
        Algorithm::Crc32 => Some(CrcAlgorithm::Crc32IsoHdlc),
        Algorithm::Crc32c => Some(CrcAlgorithm::Crc32Iscsi),
        Algorithm::Crc64Nvme => Some(CrcAlgorithm::Crc64Nvme),
        Algorithm::Sha1 | Algorithm::Sha256 => None,
    }
}

/// The raw checksum of `bytes`.
fn digest(algorithm: Algorithm, bytes: &[u8]) -> Vec<u8> {
    let mut hasher = Hasher::new(algorithm);
    hasher.update(bytes);
    hasher.finish()
}

/// One running checksum.
enum Hasher {
    Crc(crc_fast::Digest, usize),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl Hasher {
    fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha1 => Self::Sha1(Sha1::new()),
            Algorithm::Sha256 => Self::Sha256(Sha256::new()),
            other => {
                let width = other.digest_len();
                Self::Crc(crc_fast::Digest::new(crc(other).unwrap_or(CrcAlgorithm::Crc64Nvme)), width)
            }
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Crc(digest, _) => digest.update(bytes),
            Self::Sha1(hasher) => hasher.update(bytes),
            Self::Sha256(hasher) => hasher.update(bytes),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Self::Crc(digest, width) => digest.finalize().to_be_bytes()[8 - width..].to_vec(),
            Self::Sha1(hasher) => hasher.finalize().to_vec(),
            Self::Sha256(hasher) => hasher.finalize().to_vec(),
        }
    }
}

/// Everything computed over an incoming body in one pass.
pub struct BodyDigest {
    md5: Md5,
    crc64nvme: crc_fast::Digest,
    others: Vec<(Algorithm, Hasher)>,
    size: u64,
}

/// What [`BodyDigest`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// The MD5.
    pub md5: [u8; 16],
    /// The CRC64NVME, always.
    pub crc64nvme: u64,
    /// The other algorithms asked for, base64.
    pub others: Vec<(Algorithm, String)>,
    /// Bytes seen.
    pub size: u64,
}

impl BodyDigest {
    /// MD5 and CRC64NVME, and each of `algorithms` besides.
    pub fn new(algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        let mut others: Vec<(Algorithm, Hasher)> = Vec::new();
        for algorithm in algorithms {
            if algorithm != Algorithm::Crc64Nvme && !others.iter().any(|(a, _)| *a == algorithm) {
                others.push((algorithm, Hasher::new(algorithm)));
            }
        }
        Self { md5: Md5::new(), crc64nvme: crc_fast::Digest::new(CrcAlgorithm::Crc64Nvme), others, size: 0 }
    }

    /// Takes in the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        self.crc64nvme.update(bytes);
        for (_, hasher) in &mut self.others {
            hasher.update(bytes);
        }
        self.size += bytes.len() as u64;
    }

    /// The digests of everything taken in.
    pub fn finish(self) -> Digests {
        Digests {
            md5: self.md5.finalize().into(),
            crc64nvme: self.crc64nvme.finalize(),
            others: self.others.into_iter().map(|(a, h)| (a, STANDARD.encode(h.finish()))).collect(),
            size: self.size,
        }
    }
}

impl Digests {
    /// The ETag: the MD5 in hex.
    pub fn etag(&self) -> String {
        hex::encode(self.md5)
    }

    /// The checksum in `algorithm`, base64, if it was computed.
    pub fn value(&self, algorithm: Algorithm) -> Option<String> {
        if algorithm == Algorithm::Crc64Nvme {
            return Some(crc64nvme_base64(self.crc64nvme));
        }
        self.others.iter().find(|(a, _)| *a == algorithm).map(|(_, v)| v.clone())
    }
}

/// S3's base64 form of a CRC64NVME.
pub fn crc64nvme_base64(crc: u64) -> String {
    STANDARD.encode(crc.to_be_bytes())
}

/// The full-object checksum of parts given as (base64 checksum, size), in
/// order, combined without their bytes. `None` for algorithms that do not
/// combine, or a value that is not a checksum.
pub fn combine(algorithm: Algorithm, parts: &[(&str, u64)]) -> Option<String> {
    let crc = crc(algorithm)?;
    let width = algorithm.digest_len();
    let mut whole: Option<u64> = None;
    for (value, size) in parts {
        let raw = STANDARD.decode(value).ok().filter(|raw| raw.len() == width)?;
        let part = raw.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        whole = Some(match whole {
            None => part,
            Some(sofar) => crc_fast::checksum_combine(crc, sofar, part, *size),
        });
    }
    let whole = whole.unwrap_or_else(|| crc_fast::checksum(crc, b""));
    Some(STANDARD.encode(&whole.to_be_bytes()[8 - width..]))
}

/// S3's composite checksum: the checksum of the parts' raw checksums, `-N`.
pub fn composite(algorithm: Algorithm, parts: &[&str]) -> Option<String> {
    let mut raw = Vec::new();
    for value in parts {
        raw.extend(STANDARD.decode(value).ok()?);
    }
    Some(format!("{}-{}", STANDARD.encode(digest(algorithm, &raw)), parts.len()))
}

/// S3's multipart ETag: the MD5 of the parts' MD5s, then `-` and their count.
pub fn multipart_etag<'a>(md5s: impl ExactSizeIterator<Item = &'a str>) -> Option<String> {
    let count = md5s.len();
    let mut hash = Md5::new();
    for md5 in md5s {
        hash.update(hex::decode(md5).ok()?);
    }
    Some(format!("{}-{count}", hex::encode(hash.finalize())))
}

/// The 16 bytes a `Content-MD5` header names.
pub fn content_md5(header: &str) -> Option<[u8; 16]> {
    STANDARD.decode(header.trim()).ok().and_then(|raw| raw.try_into().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(algorithm: Algorithm, bytes: &[u8]) -> String {
        let mut body = BodyDigest::new([algorithm]);
        body.update(bytes);
        body.finish().value(algorithm).unwrap()
    }

    #[test]
    fn known_values() {
        // The check values of each CRC (the CRC of "123456789"), in S3's big-endian base64.
        let check = |algorithm, value: u64, width: usize| {
            assert_eq!(digest(algorithm, b"123456789"), STANDARD.encode(&value.to_be_bytes()[8 - width..]));
        };
        check(Algorithm::Crc32, 0xcbf4_3926, 4);
        check(Algorithm::Crc32c, 0xe306_9283, 4);
        check(Algorithm::Crc64Nvme, 0xae8b_1486_0a79_9888, 8);
        assert_eq!(digest(Algorithm::Sha256, b""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        let mut body = BodyDigest::new([]);
        body.update(b"");
        assert_eq!(body.finish().etag(), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn crcs_combine_into_the_whole_objects() {
        let (a, b, c) = (b"first part ".as_slice(), b"and the second".as_slice(), b"!".as_slice());
        let whole = [a, b, c].concat();
        for algorithm in [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme] {
            let parts = [a, b, c].map(|p| (digest(algorithm, p), p.len() as u64));
            let listed: Vec<(&str, u64)> = parts.iter().map(|(v, s)| (v.as_str(), *s)).collect();
            assert_eq!(combine(algorithm, &listed), Some(digest(algorithm, &whole)), "{algorithm:?}");
        }
        assert_eq!(combine(Algorithm::Sha256, &[]), None);
        assert_eq!(combine(Algorithm::Crc32, &[("not base64!", 1)]), None);
    }

    #[test]
    fn composites_and_etags_follow_s3() {
        let parts = [digest(Algorithm::Sha256, b"a"), digest(Algorithm::Sha256, b"b")];
        let raw: Vec<u8> = parts.iter().flat_map(|p| STANDARD.decode(p).unwrap()).collect();
        let expected = format!("{}-2", digest(Algorithm::Sha256, &raw));
        assert_eq!(composite(Algorithm::Sha256, &[&parts[0], &parts[1]]), Some(expected));
        let md5s = ["0cc175b9c0f1b6a831c399e269772661", "92eb5ffee6ae2fec3ad71c777531578f"];
        let joined: Vec<u8> = md5s.iter().flat_map(|m| hex::decode(m).unwrap()).collect();
        assert_eq!(multipart_etag(md5s.into_iter()), Some(format!("{}-2", hex::encode(Md5::digest(&joined)))));
    }

    #[test]
    fn content_md5_is_16_bytes_of_base64() {
        assert_eq!(
            content_md5("1B2M2Y8AsgTpgAmY7PhCfg=="),
            Some(hex::decode("d41d8cd98f00b204e9800998ecf8427e").unwrap().try_into().unwrap())
        );
    }
}
