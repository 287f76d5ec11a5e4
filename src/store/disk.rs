//! The calls that put a write on disk for good, behind one trait, in the
//! order that makes an upload durable before it is answered: the bytes are
//! written to a temporary file and that file synced; it is renamed into
//! `data/` and that folder synced (so the rename survives a crash); only then
//! is the index committed (redb syncs its own file), which makes the object
//! visible. A crash before the commit leaves the old object; a crash after
//! it leaves the new one whole. Tests record the order with a double, and
//! fill the disk with one.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// The durable steps of a write. The provided methods are the real ones.
pub trait Disk: Send + Sync + fmt::Debug {
    /// Appends `bytes` to a temporary file.
    fn write(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        file.write_all(bytes)
    }

    /// Makes a written file's bytes and length durable.
    fn sync_file(&self, file: &File) -> io::Result<()> {
        file.sync_all()
    }

    /// Moves a synced file into place.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    /// Makes the entries of a folder (a rename into it) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    /// Commits an index transaction; redb syncs it before returning.
    fn commit(&self, transaction: redb::WriteTransaction) -> Result<(), redb::CommitError> {
        transaction.commit()
    }
}

/// The machine's disk.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealDisk;

impl Disk for RealDisk {}

#[cfg(test)]
pub mod testing {
    //! A disk that records its durable steps and can run out of space.

    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// One durable step, as recorded.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Step {
        /// `sync_file`.
        SyncFile,
        /// `rename` into the named folder (`data` or `tmp`).
        Rename(String),
        /// `sync_dir` of the named folder.
        SyncDir(String),
        /// An index commit.
        Commit,
    }

    /// Records every step; refuses writes past `space` bytes as a full disk would.
    #[derive(Debug)]
    pub struct RecordingDisk {
        pub steps: Mutex<Vec<Step>>,
        pub space: AtomicU64,
    }

    impl RecordingDisk {
        pub fn new(space: u64) -> Self {
            Self { steps: Mutex::new(Vec::new()), space: AtomicU64::new(space) }
        }

        pub fn take(&self) -> Vec<Step> {
            std::mem::take(&mut *self.steps.lock().unwrap())
        }

        fn record(&self, step: Step) {
            self.steps.lock().unwrap().push(step);
        }
    }

    /// The last two components of a folder, such as `data/3f` → `data`.
    fn folder(path: &Path) -> String {
        let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match path.parent() {
            Some(parent) if name(parent) == "data" => "data".into(),
            _ => name(path),
        }
    }

    impl Disk for RecordingDisk {
        fn write(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
            let wanted = bytes.len() as u64;
            let left = self.space.fetch_sub(wanted.min(self.space.load(Ordering::SeqCst)), Ordering::SeqCst);
            if left < wanted {
                // A full disk writes what fits, then fails.
                let fits = usize::try_from(left).unwrap_or(0);
                file.write_all(&bytes[..fits])?;
                return Err(io::Error::from(io::ErrorKind::StorageFull));
            }
            file.write_all(bytes)
        }

        fn sync_file(&self, file: &File) -> io::Result<()> {
            self.record(Step::SyncFile);
            file.sync_all()
        }

        fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
            self.record(Step::Rename(folder(to.parent().unwrap_or(to))));
            fs::rename(from, to)
        }

        fn sync_dir(&self, dir: &Path) -> io::Result<()> {
            self.record(Step::SyncDir(folder(dir)));
            File::open(dir)?.sync_all()
        }

        fn commit(&self, transaction: redb::WriteTransaction) -> Result<(), redb::CommitError> {
            self.record(Step::Commit);
            transaction.commit()
        }
    }
}
