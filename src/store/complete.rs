//! Completing a multipart upload without reading it again. s3s-fs copies
//! every part through 64 KiB async reads and hashes it once more, which kept
//! the client of a 512 MiB upload waiting 3.3 s on its last request (half a
//! minute at 5 GiB). Here the kernel joins the part files (`copy_file_range`
//! through `std::io::copy`) and the multipart ETag comes from the part ETags
//! recorded at upload. The result is written in s3s-fs's own layout (the
//! version is pinned in `Cargo.toml`), so it reads back through s3s-fs.

use std::fs::{self, File};
use std::io;
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use md5::{Digest as _, Md5};
use s3s::dto::{CompletedPart, ETag};
use s3s::{S3Result, s3_error};
use uuid::Uuid;

use crate::core::limits::MIN_PART_BYTES;

/// One upload to complete, already checked by the caller against its record.
pub struct Completion {
    /// The store's root folder, where s3s-fs keeps buckets and its own files.
    pub root: PathBuf,
    pub bucket: String,
    pub key: String,
    pub upload_id: Uuid,
    /// The folder holding the ETag of each stored part, one file per part number.
    pub part_etags: PathBuf,
    /// Refuse to replace an existing object (`If-None-Match: *`).
    pub if_none_match: bool,
}

impl Completion {
    /// Joins `parts` into the object and returns its multipart ETag. Nothing
    /// is visible under the key until the whole object is in place.
    pub fn run(&self, parts: &[CompletedPart]) -> S3Result<String> {
        let object = self.object_path()?;
        let files = self.check(parts)?;
        let refused = || s3_error!(PreconditionFailed, "At least one of the pre-conditions you specified did not hold");
        if self.if_none_match && object.exists() {
            return Err(refused());
        }
        let etag = multipart_etag(&files);
        let tmp = self.root.join(format!(".tmp.{}.complete", self.upload_id));
        let joined = join(&files, &tmp).and_then(|()| {
            if let Some(folder) = object.parent() {
                fs::create_dir_all(folder)?;
            }
            if self.if_none_match {
                // Only if nothing is there now: a link fails where a rename would replace.
                fs::hard_link(&tmp, &object).map(|()| drop(fs::remove_file(&tmp)))
            } else {
                fs::rename(&tmp, &object)
            }
        });
        if let Err(error) = joined {
            let _ = fs::remove_file(&tmp);
            return Err(if error.kind() == io::ErrorKind::AlreadyExists { refused() } else { io_error(&error) });
        }
        self.record_attributes(&etag).map_err(|e| io_error(&e))?;
        // Every part uploaded goes, listed or not: S3 drops the ones left out.
        for recorded in fs::read_dir(&self.part_etags).into_iter().flatten().flatten() {
            let _ = fs::remove_file(self.part_path(&recorded.file_name().to_string_lossy()));
        }
        let _ = fs::remove_file(self.root.join(format!(".upload-{}.json", self.upload_id)));
        Ok(etag)
    }

    /// The listed parts as stored: ascending numbers, each with the ETag it
    /// was stored with and all but the last at least 5 MiB, as S3 requires.
    fn check(&self, parts: &[CompletedPart]) -> S3Result<Vec<StoredPart>> {
        if parts.is_empty() {
            return Err(s3_error!(MalformedXML, "You must specify at least one part"));
        }
        let mut stored = Vec::with_capacity(parts.len());
        let mut previous = 0;
        for part in parts {
            let number = part.part_number.unwrap_or_default();
            if number <= previous {
                return Err(s3_error!(InvalidPartOrder, "The list of parts was not in ascending order."));
            }
            previous = number;
            let recorded = fs::read_to_string(self.part_etags.join(number.to_string())).ok();
            let listed = part.e_tag.as_ref().map(ETag::value);
            let (Some(recorded), Some(listed)) = (recorded, listed) else {
                return Err(s3_error!(InvalidPart, "Part {number} was not uploaded."));
            };
            let md5 = hex::decode(&recorded).ok().and_then(|bytes| <[u8; 16]>::try_from(bytes).ok());
            let (Some(md5), true) = (md5, recorded == listed) else {
                return Err(s3_error!(InvalidPart, "Part {number} is not stored with the ETag {listed}."));
            };
            let path = self.part_path(&number.to_string());
            let size =
                fs::metadata(&path).map_err(|_| s3_error!(InvalidPart, "Part {number} was not uploaded."))?.len();
            stored.push(StoredPart { path, size, md5 });
        }
        if let Some((_, all_but_last)) = stored.split_last()
            && all_but_last.iter().any(|part| part.size < MIN_PART_BYTES)
        {
            return Err(s3_error!(EntityTooSmall, "Each part but the last must be at least 5 MiB."));
        }
        Ok(stored)
    }

    /// Where s3s-fs keeps part `number` of this upload.
    fn part_path(&self, number: &str) -> PathBuf {
        self.root.join(format!(".upload_id-{}.part-{number}", self.upload_id))
    }

    /// Where s3s-fs keeps the object; the key must stay inside the bucket.
    fn object_path(&self) -> S3Result<PathBuf> {
        let relative = Path::new(&self.bucket).join(&self.key);
        if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(s3_error!(InvalidArgument, "The key does not name a file inside the bucket."));
        }
        Ok(self.root.join(relative))
    }

    /// Moves the attributes given at the start of the upload (content type,
    /// metadata) to the object, replacing those of any object it overwrote,
    /// and records the ETag where s3s-fs looks for it.
    fn record_attributes(&self, etag: &str) -> io::Result<()> {
        let name = |suffix: &str| {
            let (bucket, key) = (URL_SAFE_NO_PAD.encode(&self.bucket), URL_SAFE_NO_PAD.encode(&self.key));
            self.root.join(format!(".bucket-{bucket}.object-{key}{suffix}"))
        };
        let attributes = name(".metadata.json");
        match fs::rename(name(&format!(".upload-{}.metadata.json", self.upload_id)), &attributes) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => ignore_missing(fs::remove_file(&attributes))?,
            other => other?,
        }
        let info = name(".internal.json");
        let tmp = info.with_extension("json.tmp");
        fs::write(&tmp, serde_json::json!({ "e_tag": etag }).to_string())?;
        fs::rename(&tmp, &info)
    }
}

struct StoredPart {
    path: PathBuf,
    size: u64,
    md5: [u8; 16],
}

/// S3's multipart ETag: the MD5 of the parts' MD5s, then `-` and their count.
fn multipart_etag(parts: &[StoredPart]) -> String {
    let mut hash = Md5::new();
    for part in parts {
        hash.update(part.md5);
    }
    format!("{}-{}", hex::encode(hash.finalize()), parts.len())
}

fn join(parts: &[StoredPart], into: &Path) -> io::Result<()> {
    let mut whole = File::create(into)?;
    for part in parts {
        io::copy(&mut File::open(&part.path)?, &mut whole)?;
    }
    Ok(())
}

fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn io_error(error: &io::Error) -> s3s::S3Error {
    s3_error!(InternalError, "the embedded store cannot complete the upload: {error}")
}
