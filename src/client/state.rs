//! What an interrupted multipart upload needs to resume: its upload id and
//! the file it was reading, kept under the user's cache folder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ClientError;

/// An upload in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The gateway URL of the object.
    pub url: String,
    /// The file, as given.
    pub file: PathBuf,
    /// Its size and modification time, so a changed file is not resumed.
    pub size: u64,
    /// Seconds since the epoch.
    pub modified: u64,
    /// The part size the upload uses.
    pub part_size: u64,
    /// The upload id.
    pub upload_id: String,
}

/// Where pending uploads are kept (one small JSON file each, removed when
/// the upload completes or is given up): `$PRESIGN_GATEWAY_STATE_DIR`, or the
/// user's cache folder (`$XDG_CACHE_HOME` or `~/.cache` on Linux, as `dirs`
/// finds it on each system) under `presign-gateway/uploads`.
fn dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PRESIGN_GATEWAY_STATE_DIR") {
        return PathBuf::from(dir);
    }
    dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("presign-gateway").join("uploads")
}

/// Where the pending upload of `file` to `url` is recorded.
pub fn path(url: &str, file: &Path) -> PathBuf {
    let id = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("{url}\n{}", file.display()).as_bytes());
    dir().join(format!("{}.json", &hex::encode(id.as_ref())[..32]))
}

/// The pending upload of `file` to `url`, if one was recorded.
pub fn load(url: &str, file: &Path) -> Option<Pending> {
    let text = std::fs::read_to_string(path(url, file)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Records `pending`, so `--resume` can find it.
pub fn save(pending: &Pending) -> Result<(), ClientError> {
    let path = path(&pending.url, &pending.file);
    let io = |e| ClientError::Io(format!("cannot record the upload in {}", path.display()), e);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(&path, serde_json::to_vec(pending).unwrap_or_default()).map_err(io)
}

/// Forgets the upload of `file` to `url`.
pub fn forget(url: &str, file: &Path) {
    let _ = std::fs::remove_file(path(url, file));
}
