//! CRC64NVME, S3's full-object checksum: computed at several GB/s (crc-fast),
//! per part and combined into the whole object's without reading it again.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crc_fast::CrcAlgorithm;

use crate::checksum::ChecksumAlgorithm;

/// The header a CRC64NVME travels in.
pub const CRC64NVME: &str = ChecksumAlgorithm::Crc64Nvme.header();

/// The CRC64NVME of `bytes`.
pub fn crc64nvme(bytes: &[u8]) -> u64 {
    crc_fast::checksum(CrcAlgorithm::Crc64Nvme, bytes)
}

/// A running CRC64NVME.
pub fn digest() -> crc_fast::Digest {
    crc_fast::Digest::new(CrcAlgorithm::Crc64Nvme)
}

/// The CRC64NVME of `first` followed by `second_len` bytes whose CRC64NVME is `second`.
pub fn combine(first: u64, second: u64, second_len: u64) -> u64 {
    crc_fast::checksum_combine(CrcAlgorithm::Crc64Nvme, first, second, second_len)
}

/// The CRC64NVME of nothing: where a combination starts.
pub fn empty() -> u64 {
    crc64nvme(b"")
}

/// S3's form: the big-endian bytes in base64.
pub fn crc64nvme_base64(crc: u64) -> String {
    STANDARD.encode(crc.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_combine_into_the_whole() {
        let (a, b) = (b"the first part, ".as_slice(), b"then the second".as_slice());
        let whole = crc64nvme(&[a, b].concat());
        assert_eq!(combine(combine(empty(), crc64nvme(a), a.len() as u64), crc64nvme(b), b.len() as u64), whole);
        assert_eq!(crc64nvme(b"123456789"), 0xae8b_1486_0a79_9888);
        assert_eq!(crc64nvme_base64(0xae8b_1486_0a79_9888), "rosUhgp5mIg=");
    }
}
