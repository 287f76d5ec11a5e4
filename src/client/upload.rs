//! Uploads: one presigned PUT for a small file, parts in parallel for the
//! rest. Every byte is covered by a CRC64NVME that storage checks: a PUT's
//! own, each part's, and the whole object's at completion, combined from the
//! parts' (no second read). `--sha256` also records the file's SHA-256,
//! which costs one more read of a file.

use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

use aws_lc_rs::digest::SHA256;
use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url};

use super::checksum::{combine, crc64nvme, crc64nvme_base64, empty, hash_file};
use super::multipart::{abort, complete, create, list_parts};
use super::parts::{DonePart, HeldPart, Parts, Sent, read_chunk};
use super::put::{put_through, upload_headers};
use super::resume::{self, FileNow, Plan};
use super::retry::with_retries;
use super::state::{self, Pending};
use super::{ClientError, GatewayClient, progress};
use crate::core::limits::{MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES};

/// How an upload runs.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// A file, or `-` for standard input.
    pub source: String,
    /// The gateway URL of the object.
    pub url: Url,
    /// Bytes per part (files up to this size go up in one PUT).
    pub part_size: u64,
    /// Parts in flight at once.
    pub concurrency: usize,
    /// Continue the interrupted upload of the same file to the same URL.
    pub resume: bool,
    /// Compute the file's SHA-256 first and keep it with the object (one
    /// more read of the file), besides the CRC64NVME storage checks.
    pub sha256: bool,
    /// The object's type [default: from the file's extension].
    pub content_type: Option<String>,
    /// `x-amz-meta-*` to keep with the object (names without the prefix).
    pub metadata: Vec<(String, String)>,
}

/// What was uploaded.
#[derive(Debug)]
pub struct Uploaded {
    /// The object's size.
    pub size: u64,
    /// Bytes already stored by an earlier run, not sent again.
    pub skipped: u64,
    /// The whole file's SHA-256, when asked for.
    pub sha256: Option<String>,
    /// The whole object's CRC64NVME, base64, as storage checked it.
    pub crc64nvme: String,
    /// Storage's ETag.
    pub etag: String,
    /// Parts (1 for a single PUT).
    pub parts: u16,
    /// Parts found already stored when resuming.
    pub resumed: u16,
    /// Seconds it took.
    pub seconds: f64,
}

impl std::fmt::Display for Uploaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let resumed = if self.resumed > 0 { format!(", {} already stored", self.resumed) } else { String::new() };
        // A SHA-256 line only when --sha256 asked for one: its absence is the default, not news.
        let sha256 = self.sha256.as_deref().map(|sha| format!("\nsha256 {sha}")).unwrap_or_default();
        write!(
            f,
            "uploaded {} bytes in {} part(s){resumed}, {:.1} s, {:.1} MiB/s\ncrc64nvme {} (whole object, checked by storage){sha256}\netag {}",
            self.size,
            self.parts,
            self.seconds,
            super::rate(self.size - self.skipped, self.seconds),
            self.crc64nvme,
            self.etag
        )
    }
}

/// Uploads `options.source` to `options.url` through `gateway`, until done
/// or Ctrl-C, after which it says how to resume.
pub async fn upload(gateway: &GatewayClient, options: UploadOptions) -> Result<Uploaded, ClientError> {
    tokio::select! {
        uploaded = upload_until_done(gateway, &options) => uploaded,
        _ = tokio::signal::ctrl_c() => Err(interrupted(&options)),
    }
}

/// Ctrl-C: where the upload stands and how to go on.
fn interrupted(options: &UploadOptions) -> ClientError {
    let state = state::path(options.url.as_str(), Path::new(&options.source));
    let hint = if state.is_file() {
        format!(
            "the parts sent so far are kept: run the same command with --resume to continue (state in {})",
            state.display()
        )
    } else {
        "nothing was kept: run the same command to start again".to_owned()
    };
    ClientError::Interrupted(hint)
}

async fn upload_until_done(gateway: &GatewayClient, options: &UploadOptions) -> Result<Uploaded, ClientError> {
    let started = Instant::now();
    if !(MIN_PART_BYTES..=MAX_PART_BYTES).contains(&options.part_size) {
        return Err(ClientError::Usage("--part-size must be between 5 MiB and 5 GiB".into()));
    }
    let mut uploaded = if options.source == "-" {
        upload_stdin(gateway, options).await?
    } else {
        upload_file(gateway, options, Path::new(&options.source)).await?
    };
    uploaded.seconds = started.elapsed().as_secs_f64();
    Ok(uploaded)
}

async fn upload_stdin(gateway: &GatewayClient, options: &UploadOptions) -> Result<Uploaded, ClientError> {
    let mut stdin = tokio::io::stdin();
    let first = read_chunk(&mut stdin, options.part_size).await?;
    if (first.len() as u64) < options.part_size {
        // All of it fits in one part: one PUT, no multipart.
        let sha256 = options.sha256.then(|| sha256_hex(&first));
        let crc = crc64nvme_base64(crc64nvme(&first));
        let object = options.object_headers(sha256.as_deref())?;
        let etag = put_bytes(gateway, &options.url, first.clone(), &crc, &object).await?;
        let size = first.len() as u64;
        return Ok(Uploaded { size, skipped: 0, sha256, crc64nvme: crc, etag, parts: 1, resumed: 0, seconds: 0.0 });
    }
    let bar = progress::bar(None, "uploading");
    let upload_id = create(gateway, &options.url, &options.object_headers(None)?).await?;
    let parts = parts(gateway, options, &upload_id, Vec::new(), &bar);
    let result = parts.run(Some(first), &mut stdin, options.sha256).await;
    bar.finish_and_clear();
    match result {
        Ok(Sent { bytes, sha256, parts }) => {
            let (etag, crc) = finish(gateway, &options.url, &upload_id, &parts).await?;
            let parts = count(&parts);
            Ok(Uploaded { size: bytes, skipped: 0, sha256, crc64nvme: crc, etag, parts, resumed: 0, seconds: 0.0 })
        }
        Err(error) => {
            abort(gateway, &options.url, &upload_id).await;
            Err(error)
        }
    }
}

/// Completes the upload from `parts`, with their CRC64NVMEs combined into the
/// whole object's for storage to check; returns the ETag and that CRC.
async fn finish(
    gateway: &GatewayClient,
    url: &Url,
    upload_id: &str,
    parts: &[DonePart],
) -> Result<(String, String), ClientError> {
    let whole = parts.iter().fold(empty(), |sofar, part| combine(sofar, part.crc64nvme, part.size));
    let crc = crc64nvme_base64(whole);
    let done = complete(gateway, url, upload_id, listed(parts), &crc).await?;
    match done.checksums.checksum_crc64nvme {
        Some(reported) if reported != crc => Err(ClientError::Integrity(format!(
            "storage reports the object's CRC64NVME as {reported}, not the {crc} of the parts sent"
        ))),
        _ => Ok((done.etag, crc)),
    }
}

async fn upload_file(gateway: &GatewayClient, options: &UploadOptions, path: &Path) -> Result<Uploaded, ClientError> {
    let io = |e| ClientError::Io(format!("cannot read {}", path.display()), e);
    let metadata = tokio::fs::metadata(path).await.map_err(io)?;
    if !metadata.is_file() {
        return Err(ClientError::Usage(format!("{} is not a file", path.display())));
    }
    let size = metadata.len();
    let modified = metadata.modified().ok().and_then(|m| m.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs());
    let url = options.url.as_str().to_owned();
    // Keep within S3's 10,000 parts.
    let asked = options.part_size.max(size.div_ceil(u64::from(MAX_PARTS)).next_multiple_of(1 << 20));
    let plan = resume::plan(state::load(&url, path), options.resume, path, FileNow { size, modified }, asked)?;
    // A recorded upload is resumed in its own parts, whatever the size of one now.
    // A share link that allows uploads takes parts too (the gateway checks the link at every step).
    let single = !matches!(plan, Plan::Resume { .. }) && size <= options.part_size;
    // A PUT's checksum, and the SHA-256 that is kept with the object, must be
    // known before the first byte is sent: one read of the file first. Parts
    // are checksummed as they are read, so a multipart upload reads only for --sha256.
    let (crc, sha256) =
        if single || options.sha256 { hash_file(path, size, single, options.sha256).await? } else { (None, None) };
    let (part_size, resumed) = settle(gateway, &options.url, path, plan, asked).await?;
    if single {
        let crc = crc64nvme_base64(crc.unwrap_or_else(empty));
        let object = options.object_headers(sha256.as_deref())?;
        let etag = put_file(gateway, &options.url, path, size, &crc, &object).await?;
        return Ok(Uploaded { size, skipped: 0, sha256, crc64nvme: crc, etag, parts: 1, resumed: 0, seconds: 0.0 });
    }
    let (upload_id, stored) = if let Some(resumed) = resumed {
        resumed
    } else {
        let upload_id = create(gateway, &options.url, &options.object_headers(sha256.as_deref())?).await?;
        let pending = Pending {
            url: url.clone(),
            file: path.to_owned(),
            size,
            modified,
            part_size,
            upload_id: upload_id.clone(),
        };
        state::save(&pending)?;
        (upload_id, Vec::new())
    };

    let bar = progress::bar(Some(size), "uploading");
    let options = UploadOptions { part_size, ..options.clone() };
    let parts = parts(gateway, &options, &upload_id, stored, &bar);
    let mut file = tokio::fs::File::open(path).await.map_err(io)?;
    let result = parts.run(None, &mut file, false).await;
    bar.finish_and_clear();
    let failed = |error| fail(gateway, &options.url, &upload_id, path, error);
    let sent = match result {
        Ok(sent) if sent.bytes == size => sent,
        Ok(_) => {
            return Err(failed(ClientError::Integrity(format!("{} changed while it was read", path.display()))).await);
        }
        Err(error) => return Err(failed(error).await),
    };
    let (etag, crc) = match finish(gateway, &options.url, &upload_id, &sent.parts).await {
        Ok(done) => done,
        Err(error) => return Err(failed(error).await),
    };
    state::forget(&url, path);
    let resumed: Vec<_> = sent.parts.iter().filter(|p| p.resumed).collect();
    Ok(Uploaded {
        size,
        skipped: resumed.iter().map(|p| p.size).sum(),
        sha256,
        crc64nvme: crc,
        etag,
        parts: count(&sent.parts),
        resumed: u16::try_from(resumed.len()).unwrap_or(u16::MAX),
        seconds: 0.0,
    })
}

/// Carries out `plan`: returns the part size to send in and, when resuming,
/// the upload id with the parts storage already has.
async fn settle(
    gateway: &GatewayClient,
    url: &Url,
    path: &Path,
    plan: Plan,
    asked: u64,
) -> Result<(u64, Option<(String, Vec<HeldPart>)>), ClientError> {
    match plan {
        Plan::Resume { pending, note } => match list_parts(gateway, url, &pending.upload_id).await {
            Ok(stored) => {
                if let Some(note) = note {
                    tracing::warn!("{note}");
                }
                Ok((pending.part_size, Some((pending.upload_id, stored))))
            }
            Err(ClientError::Gateway { status: StatusCode::NOT_FOUND, .. }) => {
                tracing::warn!("the interrupted upload is gone from storage (aborted or expired); starting afresh");
                Ok((asked, None))
            }
            Err(error) => Err(error),
        },
        Plan::Replace(pending) => {
            // Starting afresh: the parts of the earlier attempt would only linger.
            abort(gateway, url, &pending.upload_id).await;
            state::forget(url.as_str(), path);
            Ok((asked, None))
        }
        Plan::Fresh { nothing_to_resume } => {
            if nothing_to_resume {
                tracing::warn!("no interrupted upload of this file to this URL is recorded; starting afresh");
            }
            Ok((asked, None))
        }
    }
}

/// What a failed multipart upload leaves: kept for `--resume` when trying
/// again can help; otherwise (a refusal that will not change, a changed
/// file) aborted, its state forgotten.
async fn fail(gateway: &GatewayClient, url: &Url, upload_id: &str, path: &Path, error: ClientError) -> ClientError {
    if error.is_transient() {
        let hint = format!(
            "the parts sent so far are kept: run the same command with --resume to continue {} (state in {})",
            path.display(),
            state::path(url.as_str(), path).display()
        );
        return ClientError::Resumable { error: Box::new(error), hint };
    }
    abort(gateway, url, upload_id).await;
    state::forget(url.as_str(), path);
    error
}

fn parts(
    gateway: &GatewayClient,
    options: &UploadOptions,
    upload_id: &str,
    stored: Vec<HeldPart>,
    bar: &indicatif::ProgressBar,
) -> Parts {
    Parts {
        gateway: gateway.clone(),
        url: options.url.clone(),
        upload_id: upload_id.to_owned(),
        part_size: options.part_size,
        concurrency: options.concurrency,
        stored: Arc::new(stored),
        bar: bar.clone(),
    }
}

fn listed(parts: &[DonePart]) -> Vec<crate::wire::ListedPart> {
    parts.iter().map(DonePart::listed).collect()
}

fn count(parts: &[DonePart]) -> u16 {
    u16::try_from(parts.len()).unwrap_or(u16::MAX)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&SHA256, bytes).as_ref())
}

/// One presigned PUT of bytes in memory, with their CRC64NVME `crc` (base64)
/// and the object's own headers.
async fn put_bytes(
    gateway: &GatewayClient,
    url: &Url,
    bytes: Bytes,
    crc: &str,
    object: &HeaderMap,
) -> Result<String, ClientError> {
    let length = bytes.len() as u64;
    let headers = upload_headers(length, crc, object)?;
    with_retries("the upload", || put_through(gateway, url, &headers, length, bytes.clone().into())).await
}

/// One presigned PUT streamed from a file whose CRC64NVME is `crc` (base64),
/// with the object's own headers.
async fn put_file(
    gateway: &GatewayClient,
    url: &Url,
    path: &Path,
    size: u64,
    crc: &str,
    object: &HeaderMap,
) -> Result<String, ClientError> {
    let bar = progress::bar(Some(size), "uploading");
    let headers = upload_headers(size, crc, object)?;
    let result = with_retries("the upload", || {
        let (headers, bar) = (&headers, bar.clone());
        async move {
            bar.set_position(0);
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| ClientError::Io(format!("cannot read {}", path.display()), e))?;
            let stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20);
            let counted = futures_util::StreamExt::inspect(stream, move |chunk| {
                if let Ok(chunk) = chunk {
                    bar.inc(chunk.len() as u64);
                }
            });
            put_through(gateway, url, headers, size, reqwest::Body::wrap_stream(counted)).await
        }
    })
    .await;
    bar.finish_and_clear();
    result
}
