//! S3's checksum vocabulary, once: each algorithm's name, the header its
//! value travels in, its digest's length and the multipart checksum types it
//! allows; and the types themselves. The core checks declared checksums with
//! it, the embedded store computes them, the wire names their fields and the
//! replies write them, all from this one table (as Garage's `checksum.rs`).
//! A leaf: it depends on nothing else in the crate.

use serde::{Deserialize, Serialize};

/// S3's checksum algorithms. The store records them by these variant names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChecksumAlgorithm {
    /// CRC-32/ISO-HDLC.
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// CRC-64/NVME: S3's default, and the one that combines across parts cheaply.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

/// Whether a multipart checksum covers the whole object or the parts' checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChecksumType {
    /// `FULL_OBJECT`: as if computed over the object in one pass.
    FullObject,
    /// `COMPOSITE`: the checksum of the parts' checksums, with `-N`.
    Composite,
}

impl ChecksumAlgorithm {
    /// All of them, in the order S3 lists them.
    pub const ALL: [Self; 5] = [Self::Crc32, Self::Crc32c, Self::Crc64Nvme, Self::Sha1, Self::Sha256];

    /// S3's name, as in `x-amz-checksum-algorithm`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// The header a value travels in.
    #[must_use]
    pub const fn header(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The length of a raw digest in bytes (its value is the base64 of that).
    #[must_use]
    pub const fn digest_len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    /// Whether a multipart upload may use it with `kind` (S3's rules:
    /// CRC64NVME is full-object only, SHA-1 and SHA-256 composite only).
    #[must_use]
    pub fn allows(self, kind: ChecksumType) -> bool {
        match self {
            Self::Crc32 | Self::Crc32c => true,
            Self::Crc64Nvme => kind == ChecksumType::FullObject,
            Self::Sha1 | Self::Sha256 => kind == ChecksumType::Composite,
        }
    }

    /// The type a multipart upload gets when it names none.
    #[must_use]
    pub fn default_type(self) -> ChecksumType {
        if self.allows(ChecksumType::Composite) { ChecksumType::Composite } else { ChecksumType::FullObject }
    }

    /// The algorithm S3 calls `name` (any case, spaces around ignored).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }
}

impl ChecksumType {
    /// S3's name, as in `x-amz-checksum-type`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::FullObject => "FULL_OBJECT",
            Self::Composite => "COMPOSITE",
        }
    }

    /// The type S3 calls `name` (any case, spaces around ignored).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::FullObject, Self::Composite].into_iter().find(|t| t.name().eq_ignore_ascii_case(name.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_table() {
        for algorithm in ChecksumAlgorithm::ALL {
            assert_eq!(algorithm.header(), format!("x-amz-checksum-{}", algorithm.name().to_ascii_lowercase()));
            assert_eq!(ChecksumAlgorithm::parse(&algorithm.name().to_ascii_lowercase()), Some(algorithm));
            assert!(algorithm.allows(algorithm.default_type()));
        }
        assert_eq!(ChecksumAlgorithm::parse("MD5"), None);
        assert_eq!(ChecksumType::parse(" full_object"), Some(ChecksumType::FullObject));
        assert!(!ChecksumAlgorithm::Crc64Nvme.allows(ChecksumType::Composite));
        assert!(!ChecksumAlgorithm::Sha256.allows(ChecksumType::FullObject));
        assert_eq!(ChecksumAlgorithm::Crc32.default_type(), ChecksumType::Composite);
        assert_eq!(ChecksumAlgorithm::Crc64Nvme.default_type(), ChecksumType::FullObject);
    }

    /// The store records these by name: a rename would lose what it recorded.
    #[test]
    fn recorded_names_do_not_change() {
        let recorded = serde_json::to_string(&(ChecksumAlgorithm::ALL, ChecksumType::Composite)).unwrap();
        assert_eq!(recorded, r#"[["Crc32","Crc32c","Crc64Nvme","Sha1","Sha256"],"Composite"]"#);
    }
}
