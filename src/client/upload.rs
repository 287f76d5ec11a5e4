//! Uploads: one presigned PUT for a small file, parts in parallel for the
//! rest, each part's MD5 signed in so storage checks it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

use aws_lc_rs::digest::{Context, SHA256};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use md5::{Digest, Md5};
use reqwest::header::{ACCEPT, CONTENT_LENGTH, ETAG, HeaderMap};
use reqwest::{Method, StatusCode, Url};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::state::{self, Pending};
use super::{ClientError, Gateway, header, progress, storage_error, with_query, with_retries};
use crate::core::multipart::{MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES};

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
    /// more read of the file), so downloads can check it.
    pub sha256: bool,
}

/// What was uploaded.
#[derive(Debug)]
pub struct Uploaded {
    /// Bytes sent.
    pub size: u64,
    /// The whole file's SHA-256, unless it was not computed.
    pub sha256: Option<String>,
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
        write!(
            f,
            "uploaded {} bytes in {} part(s){resumed}, {:.1} s, {:.1} MiB/s\nsha256 {}\netag {}",
            self.size,
            self.parts,
            self.seconds,
            super::rate(self.size, self.seconds),
            self.sha256.as_deref().unwrap_or("(not computed: --no-sha256)"),
            self.etag
        )
    }
}

/// Uploads `options.source` to `options.url` through `gateway`.
pub async fn upload(gateway: &Gateway, options: UploadOptions) -> Result<Uploaded, ClientError> {
    let started = Instant::now();
    if !(MIN_PART_BYTES..=MAX_PART_BYTES).contains(&options.part_size) {
        return Err(ClientError::Usage("--part-size must be between 5 MiB and 5 GiB".into()));
    }
    let mut uploaded = if options.source == "-" {
        upload_stdin(gateway, &options).await?
    } else {
        upload_file(gateway, &options, Path::new(&options.source)).await?
    };
    uploaded.seconds = started.elapsed().as_secs_f64();
    Ok(uploaded)
}

async fn upload_stdin(gateway: &Gateway, options: &UploadOptions) -> Result<Uploaded, ClientError> {
    let mut stdin = tokio::io::stdin();
    let first = read_chunk(&mut stdin, options.part_size).await?;
    if (first.len() as u64) < options.part_size {
        // All of it fits in one part: one PUT, no multipart.
        let sha256 = options.sha256.then(|| sha256_hex(&first));
        let etag = put_bytes(gateway, &options.url, first.clone(), sha256.as_deref()).await?;
        return Ok(Uploaded { size: first.len() as u64, sha256, etag, parts: 1, resumed: 0, seconds: 0.0 });
    }
    let bar = progress::bar(None, "uploading");
    let upload_id = create(gateway, &options.url, None).await?;
    let parts = Parts::new(gateway, options, upload_id.clone(), Vec::new(), bar.clone());
    let result = parts.run(Some(first), &mut stdin, options.sha256).await;
    bar.finish_and_clear();
    match result {
        Ok((size, sha256, numbers)) => {
            let etag = complete(gateway, &options.url, &upload_id, &numbers).await?;
            Ok(Uploaded { size, sha256, etag, parts: count(&numbers), resumed: 0, seconds: 0.0 })
        }
        Err(error) => {
            abort(gateway, &options.url, &upload_id).await;
            Err(error)
        }
    }
}

async fn upload_file(gateway: &Gateway, options: &UploadOptions, path: &Path) -> Result<Uploaded, ClientError> {
    let io = |e| ClientError::Io(format!("cannot read {}", path.display()), e);
    let metadata = tokio::fs::metadata(path).await.map_err(io)?;
    if !metadata.is_file() {
        return Err(ClientError::Usage(format!("{} is not a file", path.display())));
    }
    let size = metadata.len();
    let modified = metadata.modified().ok().and_then(|m| m.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs());
    // Whole-file SHA-256 first: it is kept with the object, so downloads can check it.
    let sha256 = if options.sha256 { Some(hash_file(path, size).await?) } else { None };

    let shared_link = options.url.query_pairs().any(|(name, _)| name == "token");
    if size <= options.part_size || shared_link {
        let etag = put_file(gateway, &options.url, path, size, sha256.as_deref()).await?;
        return Ok(Uploaded { size, sha256, etag, parts: 1, resumed: 0, seconds: 0.0 });
    }

    // Keep within S3's 10,000 parts.
    let part_size = options.part_size.max(size.div_ceil(u64::from(MAX_PARTS)).next_multiple_of(1 << 20));
    let url = options.url.as_str().to_owned();
    let pending =
        state::load(&url, path).filter(|p| p.size == size && p.modified == modified && p.part_size == part_size);
    let resumed = match pending {
        Some(pending) if options.resume => match list_parts(gateway, &options.url, &pending.upload_id).await {
            Ok(stored) => Some((pending.upload_id, stored)),
            Err(ClientError::Gateway { status: StatusCode::NOT_FOUND, .. }) => {
                tracing::warn!("the interrupted upload is gone from storage (aborted or expired); starting afresh");
                None
            }
            Err(error) => return Err(error),
        },
        Some(pending) => {
            // Starting afresh: the parts of the earlier attempt would only linger.
            abort(gateway, &options.url, &pending.upload_id).await;
            None
        }
        None => {
            if options.resume {
                tracing::warn!("no interrupted upload of this file to this URL is recorded; starting afresh");
            }
            None
        }
    };
    let (upload_id, stored) = if let Some(resumed) = resumed {
        resumed
    } else {
        let upload_id = create(gateway, &options.url, sha256.as_deref()).await?;
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
    let parts = Parts::new(gateway, &options, upload_id.clone(), stored, bar.clone());
    let mut file = tokio::fs::File::open(path).await.map_err(io)?;
    let result = parts.run(None, &mut file, false).await;
    bar.finish_and_clear();
    let (sent, _, numbers) = result.map_err(|error| resumable(&error, path))?;
    if sent != size {
        return Err(ClientError::Integrity(format!("{} changed while it was read", path.display())));
    }
    let etag = complete(gateway, &options.url, &upload_id, &numbers).await.map_err(|error| resumable(&error, path))?;
    state::forget(&url, path);
    let resumed = count(&numbers.iter().filter(|p| p.resumed).cloned().collect::<Vec<_>>());
    Ok(Uploaded { size, sha256, etag, parts: count(&numbers), resumed, seconds: 0.0 })
}

fn resumable(error: &ClientError, path: &Path) -> ClientError {
    ClientError::Usage(format!(
        "{error}\nthe parts sent so far are kept: run the same command with --resume to continue {}",
        path.display()
    ))
}

fn count(parts: &[DonePart]) -> u16 {
    u16::try_from(parts.len()).unwrap_or(u16::MAX)
}

/// A part that is stored.
#[derive(Debug, Clone)]
struct DonePart {
    number: u16,
    etag: String,
    resumed: bool,
}

/// The parts of one multipart upload, sent `concurrency` at a time.
struct Parts {
    gateway: Gateway,
    url: Url,
    upload_id: String,
    part_size: u64,
    concurrency: usize,
    stored: Arc<Vec<(u16, String)>>,
    bar: indicatif::ProgressBar,
}

impl Parts {
    fn new(
        gateway: &Gateway,
        options: &UploadOptions,
        upload_id: String,
        stored: Vec<(u16, String)>,
        bar: indicatif::ProgressBar,
    ) -> Self {
        Self {
            gateway: gateway.clone(),
            url: options.url.clone(),
            upload_id,
            part_size: options.part_size,
            concurrency: options.concurrency.max(1),
            stored: Arc::new(stored),
            bar,
        }
    }

    /// Reads `reader` part by part (after `first`, if given) and sends each
    /// part not already stored. Returns the bytes read, the SHA-256 when
    /// `hash` is set, and the parts in order.
    async fn run<R: AsyncRead + Unpin>(
        &self,
        first: Option<Bytes>,
        reader: &mut R,
        hash: bool,
    ) -> Result<(u64, Option<String>, Vec<DonePart>), ClientError> {
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        let mut hasher = hash.then(|| Context::new(&SHA256));
        let (mut total, mut number, mut done) = (0u64, 0u16, Vec::new());
        let mut next = first;
        loop {
            // Hold a permit before reading, so at most `concurrency` parts are in memory.
            let permit = permits.clone().acquire_owned().await.map_err(|_| ClientError::Usage("cancelled".into()))?;
            let chunk = match next.take() {
                Some(chunk) => chunk,
                None => read_chunk(reader, self.part_size).await?,
            };
            if chunk.is_empty() && number > 0 {
                break;
            }
            number += 1;
            if number > MAX_PARTS {
                return Err(ClientError::Usage("more than 10,000 parts: use a larger --part-size".into()));
            }
            total += chunk.len() as u64;
            if let Some(hasher) = hasher.as_mut() {
                hasher.update(&chunk);
            }
            let last = (chunk.len() as u64) < self.part_size;
            let task = self.send_part(number, chunk);
            tasks.spawn(async move {
                let result = task.await;
                drop(permit);
                result
            });
            while let Some(finished) = tasks.try_join_next() {
                done.push(finished.map_err(|e| ClientError::Usage(format!("a part task failed: {e}")))??);
            }
            if last {
                break;
            }
        }
        while let Some(finished) = tasks.join_next().await {
            done.push(finished.map_err(|e| ClientError::Usage(format!("a part task failed: {e}")))??);
        }
        done.sort_by_key(|part| part.number);
        Ok((total, hasher.map(|h| hex::encode(h.finish().as_ref())), done))
    }

    fn send_part(
        &self,
        number: u16,
        chunk: Bytes,
    ) -> impl Future<Output = Result<DonePart, ClientError>> + Send + 'static {
        let (gateway, url, upload_id, stored, bar) =
            (self.gateway.clone(), self.url.clone(), self.upload_id.clone(), self.stored.clone(), self.bar.clone());
        async move {
            let digest = Md5::digest(&chunk);
            let md5_hex = hex::encode(digest);
            let length = chunk.len() as u64;
            if stored.iter().any(|(n, etag)| *n == number && *etag == md5_hex) {
                bar.inc(length);
                return Ok(DonePart { number, etag: md5_hex, resumed: true });
            }
            let md5 = STANDARD.encode(digest);
            let number_text = number.to_string();
            let part_url = with_query(&url, &[("partNumber", Some(&number_text)), ("uploadId", Some(&upload_id))]);
            let headers = upload_headers(length, Some(&md5), None)?;
            let etag = with_retries(&format!("part {number}"), || {
                put_through(&gateway, &part_url, &headers, length, chunk.clone().into())
            })
            .await?;
            if etag != md5_hex {
                return Err(ClientError::Integrity(format!(
                    "storage reports part {number} with ETag {etag}, not its MD5 {md5_hex}"
                )));
            }
            bar.inc(length);
            Ok(DonePart { number, etag, resumed: false })
        }
    }
}

fn etag_of(response: &reqwest::Response) -> String {
    response.headers().get(ETAG).and_then(|v| v.to_str().ok()).unwrap_or_default().trim_matches('"').to_owned()
}

/// Fills a buffer of up to `size` bytes, shorter only at the end.
async fn read_chunk<R: AsyncRead + Unpin>(reader: &mut R, size: u64) -> Result<Bytes, ClientError> {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let mut buffer = Vec::with_capacity(size);
    let mut limited = reader.take(size as u64);
    limited.read_to_end(&mut buffer).await.map_err(|e| ClientError::Io("cannot read the input".into(), e))?;
    Ok(Bytes::from(buffer))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&SHA256, bytes).as_ref())
}

async fn hash_file(path: &Path, size: u64) -> Result<String, ClientError> {
    let path: PathBuf = path.to_owned();
    let bar = progress::bar(Some(size), "checksumming");
    let hashing = bar.clone();
    let result = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut file = std::fs::File::open(&path)?;
        let mut context = Context::new(&SHA256);
        let mut buffer = vec![0; 1 << 20];
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                return Ok(hex::encode(context.finish().as_ref()));
            }
            context.update(&buffer[..n]);
            hashing.inc(n as u64);
        }
    })
    .await
    .map_err(|e| ClientError::Usage(format!("hashing failed: {e}")))?;
    bar.finish_and_clear();
    result.map_err(|e| ClientError::Io("cannot read the file".into(), e))
}

fn upload_headers(length: u64, md5: Option<&str>, sha256: Option<&str>) -> Result<HeaderMap, ClientError> {
    let mut headers = HeaderMap::new();
    headers.insert("upload-length", header(&length.to_string())?);
    if let Some(md5) = md5 {
        headers.insert("content-md5", header(md5)?);
    }
    if let Some(sha256) = sha256 {
        headers.insert("x-amz-meta-sha256", header(sha256)?);
    }
    Ok(headers)
}

/// One presigned PUT of bytes in memory.
async fn put_bytes(gateway: &Gateway, url: &Url, bytes: Bytes, sha256: Option<&str>) -> Result<String, ClientError> {
    let md5 = STANDARD.encode(Md5::digest(&bytes));
    let length = bytes.len() as u64;
    let headers = upload_headers(length, Some(&md5), sha256)?;
    with_retries("the upload", || put_through(gateway, url, &headers, length, bytes.clone().into())).await
}

/// Asks the gateway where to PUT (`headers` declare the size and checks that
/// are signed in), then sends `body` there with the same headers. Returns
/// storage's ETag.
async fn put_through(
    gateway: &Gateway,
    url: &Url,
    headers: &HeaderMap,
    length: u64,
    body: reqwest::Body,
) -> Result<String, ClientError> {
    let location = gateway.locate(Method::PUT, url, headers.clone()).await?;
    let mut storage_headers = headers.clone();
    storage_headers.remove("upload-length");
    let response = gateway
        .storage()
        .put(location)
        .headers(storage_headers)
        .header(CONTENT_LENGTH, length)
        .body(body)
        .send()
        .await
        .map_err(super::network)?;
    if response.status() != StatusCode::OK {
        return Err(storage_error(response).await);
    }
    Ok(etag_of(&response))
}

/// One presigned PUT streamed from a file.
async fn put_file(
    gateway: &Gateway,
    url: &Url,
    path: &Path,
    size: u64,
    sha256: Option<&str>,
) -> Result<String, ClientError> {
    let bar = progress::bar(Some(size), "uploading");
    let headers = upload_headers(size, None, sha256)?;
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

async fn create(gateway: &Gateway, url: &Url, sha256: Option<&str>) -> Result<String, ClientError> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, header("application/json")?);
    if let Some(sha256) = sha256 {
        headers.insert("x-amz-meta-sha256", header(sha256)?);
    }
    let create_url = with_query(url, &[("uploads", None)]);
    let response =
        with_retries("starting the upload", || gateway.call(Method::POST, &create_url, headers.clone(), None)).await?;
    if response.status() != StatusCode::OK {
        return Err(super::gateway_error(response).await);
    }
    let body: serde_json::Value = response.json().await.map_err(super::network)?;
    body["upload_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ClientError::Usage("the gateway gave no upload id".into()))
}

async fn list_parts(gateway: &Gateway, url: &Url, upload_id: &str) -> Result<Vec<(u16, String)>, ClientError> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, header("application/json")?);
    let list_url = with_query(url, &[("uploadId", Some(upload_id))]);
    let response =
        with_retries("listing the parts", || gateway.call(Method::GET, &list_url, headers.clone(), None)).await?;
    if response.status() != StatusCode::OK {
        return Err(super::gateway_error(response).await);
    }
    let body: serde_json::Value = response.json().await.map_err(super::network)?;
    Ok(body["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((u16::try_from(p["part_number"].as_u64()?).ok()?, p["etag"].as_str()?.to_owned())))
        .collect())
}

async fn complete(gateway: &Gateway, url: &Url, upload_id: &str, parts: &[DonePart]) -> Result<String, ClientError> {
    let list: Vec<_> = parts.iter().map(|p| serde_json::json!({ "part_number": p.number, "etag": p.etag })).collect();
    let body = serde_json::to_vec(&serde_json::json!({ "parts": list })).unwrap_or_default();
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, header("application/json")?);
    let complete_url = with_query(url, &[("uploadId", Some(upload_id))]);
    let response = with_retries("completing the upload", || {
        gateway.call(Method::POST, &complete_url, headers.clone(), Some((body.clone(), "application/json")))
    })
    .await?;
    if response.status() != StatusCode::OK {
        return Err(super::gateway_error(response).await);
    }
    let done: serde_json::Value = response.json().await.map_err(super::network)?;
    Ok(done["etag"].as_str().unwrap_or_default().to_owned())
}

async fn abort(gateway: &Gateway, url: &Url, upload_id: &str) {
    let abort_url = with_query(url, &[("uploadId", Some(upload_id))]);
    if let Err(error) = gateway.call(Method::DELETE, &abort_url, HeaderMap::new(), None).await {
        tracing::warn!(%error, "could not abort the upload; storage's lifecycle rule will clean it up");
    }
}
