//! Downloads: stream from storage to a file or standard output, never
//! holding the file in memory; resume with `Range`; check the SHA-256 kept
//! with the object.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use aws_lc_rs::digest::{Context, SHA256};
use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, HeaderMap, IF_MATCH, RANGE};
use reqwest::{Method, StatusCode, Url};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::retry::Retry;
use super::{ClientError, GatewayClient, progress, storage_error};

/// How a download runs.
#[derive(Debug, Clone)]
pub struct DownloadOptions {
    /// The gateway URL of the object.
    pub url: Url,
    /// A file, or `-` for standard output.
    pub dest: String,
    /// Continue a partial file with a `Range` request.
    pub resume: bool,
}

/// What was downloaded.
#[derive(Debug)]
pub struct Downloaded {
    /// Bytes in the file.
    pub size: u64,
    /// Their SHA-256, hex.
    pub sha256: String,
    /// Whether it matched the SHA-256 kept with the object (`None`: none was kept).
    pub verified: Option<bool>,
    /// Seconds it took.
    pub seconds: f64,
}

impl std::fmt::Display for Downloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let check = match self.verified {
            Some(true) => "matches the upload's",
            _ => "(the object carries no SHA-256 to check)",
        };
        write!(
            f,
            "downloaded {} bytes, {:.1} s, {:.1} MiB/s\nsha256 {} {check}",
            self.size,
            self.seconds,
            super::rate(self.size, self.seconds),
            self.sha256
        )
    }
}

/// Where the bytes go: one blocking task that writes and hashes them, so the
/// network keeps reading while the disk writes, and no write is a trip of
/// its own to tokio's blocking pool.
struct Sink {
    chunks: mpsc::Sender<Bytes>,
    writer: JoinHandle<std::io::Result<Context>>,
    /// Bytes handed to the writer (it writes them all, in order, or fails).
    written: u64,
    /// The ETag of the object being written, so a retry continues the same
    /// version (`If-Match`) rather than splice in a newer one.
    etag: Option<String>,
    /// A file to empty once storage starts sending it, not before: a failed
    /// download must not destroy what was there.
    to_replace: Option<Replaced>,
}

struct Replaced {
    file: std::fs::File,
    path: PathBuf,
    /// The download created it, so a failure removes it again.
    created: bool,
}

impl Sink {
    fn start(out: Box<dyn Write + Send>, mut hasher: Context, written: u64) -> Self {
        let (chunks, mut received) = mpsc::channel::<Bytes>(64);
        let writer = tokio::task::spawn_blocking(move || {
            let mut out = BufWriter::with_capacity(1 << 20, out);
            while let Some(chunk) = received.blocking_recv() {
                out.write_all(&chunk)?;
                hasher.update(&chunk);
            }
            out.flush()?;
            Ok(hasher)
        });
        Self { chunks, writer, written, etag: None, to_replace: None }
    }

    /// Storage has started sending the whole object: empty the old file.
    fn begin(&mut self) -> Result<(), ClientError> {
        match self.to_replace.take() {
            Some(old) => old.file.set_len(0).map_err(|e| ClientError::Io("cannot write the output".into(), e)),
            None => Ok(()),
        }
    }

    async fn write(&mut self, chunk: Bytes) -> Result<(), ClientError> {
        let length = chunk.len() as u64;
        // A closed channel means the writer failed; `finish` says why.
        self.chunks
            .send(chunk)
            .await
            .map_err(|_| ClientError::Io("cannot write the output".into(), std::io::ErrorKind::BrokenPipe.into()))?;
        self.written += length;
        Ok(())
    }

    /// Waits for every byte to be written; returns the hash over all of
    /// them, a resumed file's earlier part included.
    async fn finish(self) -> Result<Context, ClientError> {
        drop(self.chunks);
        let written = self.writer.await.map_err(ClientError::Task)?;
        written.map_err(|e| ClientError::Io("cannot write the output".into(), e))
    }
}

/// Downloads `options.url` into `options.dest`.
pub async fn download(gateway: &GatewayClient, options: DownloadOptions) -> Result<Downloaded, ClientError> {
    let started = Instant::now();
    let mut sink = open(&options).await?;
    let bar = progress::bar(None, "downloading");
    let mut retry = Retry::new();
    // A retry continues from where the last attempt stopped.
    let expected = loop {
        match fetch(gateway, &options.url, &mut sink, &bar).await {
            Err(error) if retry.again("the download", &error).await => {}
            result => break result,
        }
    };
    bar.finish_and_clear();
    let size = sink.written;
    let untouched = sink.to_replace.take();
    // A write error explains a stopped download better than the download's own error.
    let hasher = sink.finish().await?;
    if let (Err(_), Some(Replaced { path, created: true, .. })) = (&expected, untouched) {
        let _ = std::fs::remove_file(path);
    }
    let expected = expected?;
    let sha256 = hex::encode(hasher.finish().as_ref());
    let verified = expected.as_deref().map(|expected| expected == sha256);
    if verified == Some(false) {
        return Err(ClientError::Integrity(format!(
            "the download's SHA-256 is {sha256}, but the object was uploaded with {}",
            expected.unwrap_or_default()
        )));
    }
    Ok(Downloaded { size, sha256, verified, seconds: started.elapsed().as_secs_f64() })
}

async fn open(options: &DownloadOptions) -> Result<Sink, ClientError> {
    if options.dest == "-" {
        if options.resume {
            return Err(ClientError::Usage("--resume needs a file to continue, not standard output".into()));
        }
        return Ok(Sink::start(Box::new(std::io::stdout()), Context::new(&SHA256), 0));
    }
    let path = Path::new(&options.dest);
    let io = |e| ClientError::Io(format!("cannot write {}", path.display()), e);
    let mut hasher = Context::new(&SHA256);
    let mut written = 0;
    let file = if options.resume && path.exists() {
        // Hash what is already there, then append.
        let mut existing = tokio::fs::File::open(path).await.map_err(io)?;
        let mut buffer = vec![0; 1 << 20];
        loop {
            let n = existing.read(&mut buffer).await.map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            written += n as u64;
        }
        tokio::fs::OpenOptions::new().append(true).open(path).await.map_err(io)?
    } else {
        let created = !path.exists();
        let file = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(path).map_err(io)?;
        let mut sink = Sink::start(Box::new(file.try_clone().map_err(io)?), hasher, written);
        // Only a regular file has old contents to keep (not /dev/null, a pipe or a device).
        if file.metadata().map_err(io)?.is_file() {
            sink.to_replace = Some(Replaced { file, path: path.to_owned(), created });
        }
        return Ok(sink);
    };
    Ok(Sink::start(Box::new(file.into_std().await), hasher, written))
}

/// One attempt: from where the sink stands to the end. Returns the SHA-256
/// the object was uploaded with, if it has one.
async fn fetch(
    gateway: &GatewayClient,
    url: &Url,
    sink: &mut Sink,
    bar: &indicatif::ProgressBar,
) -> Result<Option<String>, ClientError> {
    let location = gateway.locate(Method::GET, url, HeaderMap::new()).await?;
    let mut request = gateway.storage().get(location);
    if sink.written > 0 {
        request = request.header(RANGE, format!("bytes={}-", sink.written));
    }
    if let Some(etag) = &sink.etag {
        request = request.header(IF_MATCH, etag);
    }
    let response = request.send().await.map_err(super::network)?;
    let expected = sha256_of(response.headers());
    if response.status() == StatusCode::PRECONDITION_FAILED && sink.etag.is_some() {
        return Err(ClientError::Integrity("the object changed during the download: start again".into()));
    }
    match response.status() {
        StatusCode::OK if sink.written > 0 => {
            return Err(ClientError::Protocol(
                "storage ignored the range: delete the partial file and start again".into(),
            ));
        }
        StatusCode::OK => sink.begin()?,
        StatusCode::PARTIAL_CONTENT => {}
        // The file may already be whole: only if it is exactly as long as the object.
        StatusCode::RANGE_NOT_SATISFIABLE if sink.written > 0 => {
            return already_whole(gateway, url, sink.written).await;
        }
        _ => return Err(storage_error(response).await),
    }
    if sink.etag.is_none() {
        sink.etag = response.headers().get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
    }
    bar.set_length(total(response.headers()).unwrap_or(0));
    bar.set_position(sink.written);
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(super::network)?;
        bar.inc(chunk.len() as u64);
        sink.write(chunk).await?;
    }
    Ok(expected)
}

/// After a `416` to a resumed download: the file is whole only if it is
/// exactly as long as the object. Returns the SHA-256 to check it against,
/// from a HEAD (a `416` carries none).
async fn already_whole(gateway: &GatewayClient, url: &Url, written: u64) -> Result<Option<String>, ClientError> {
    let location = gateway.locate(Method::HEAD, url, HeaderMap::new()).await?;
    let response = gateway.storage().head(location).send().await.map_err(super::network)?;
    if response.status() != StatusCode::OK {
        return Err(storage_error(response).await);
    }
    if total(response.headers()) != Some(written) {
        return Err(ClientError::Usage("the partial file is longer than the object: delete it and start again".into()));
    }
    Ok(sha256_of(response.headers()))
}

fn sha256_of(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers.get("x-amz-meta-sha256").and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase)
}

/// The object's whole size, from `Content-Range` or `Content-Length`.
fn total(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let value = |name| headers.get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok());
    match value(CONTENT_RANGE) {
        Some(range) => range.rsplit('/').next()?.parse().ok(),
        None => value(CONTENT_LENGTH)?.parse().ok(),
    }
}
