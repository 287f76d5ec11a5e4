//! CRC64NVME, S3's full-object checksum: computed at several GB/s (crc-fast),
//! per part and combined into the whole object's without reading it again;
//! and the one read of a file that a single PUT or `--sha256` needs first.

use std::path::{Path, PathBuf};

use aws_lc_rs::digest::{Context, SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crc_fast::CrcAlgorithm;

use super::{ClientError, progress};
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

/// One read of the file for its CRC64NVME and its SHA-256, each when asked for.
pub async fn hash_file(
    path: &Path,
    size: u64,
    crc: bool,
    sha256: bool,
) -> Result<(Option<u64>, Option<String>), ClientError> {
    let path: PathBuf = path.to_owned();
    let bar = progress::bar(Some(size), "checksumming");
    let hashing = bar.clone();
    let result = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut file = std::fs::File::open(&path)?;
        let mut crc = crc.then(digest);
        let mut context = sha256.then(|| Context::new(&SHA256));
        let mut buffer = vec![0; 1 << 20];
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                return Ok((crc.map(|c| c.finalize()), context.map(|c| hex::encode(c.finish().as_ref()))));
            }
            if let Some(crc) = crc.as_mut() {
                crc.update(&buffer[..n]);
            }
            if let Some(context) = context.as_mut() {
                context.update(&buffer[..n]);
            }
            hashing.inc(n as u64);
        }
    })
    .await
    .map_err(ClientError::Task)?;
    bar.finish_and_clear();
    result.map_err(|e| ClientError::Io("cannot read the file".into(), e))
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
