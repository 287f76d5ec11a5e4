//! Downloads: stream from storage to a file or standard output, never
//! holding the file in memory; resume with `Range`. Every byte is checked:
//! against the CRC64NVME storage reports for the whole object (asked for with
//! `x-amz-checksum-mode: ENABLED`, computed here at several GB/s), or, for
//! objects that have none, the SHA-256 recorded at upload, or else the size
//! alone; the report says which.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use aws_lc_rs::digest::{Context, SHA256};
use futures_util::StreamExt;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, HeaderMap, IF_MATCH, RANGE};
use reqwest::{Method, StatusCode, Url};
use tokio::io::AsyncReadExt;

use super::checksum::{CRC64NVME, crc64nvme_base64, digest};
use super::retry::Retry;
use super::{ClientError, GatewayClient, header, progress, storage_error};

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
    /// What they were checked against.
    pub check: Check,
    /// Seconds it took.
    pub seconds: f64,
}

/// What a download was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The whole object's CRC64NVME, as storage reports it (base64).
    Crc64Nvme(String),
    /// The SHA-256 recorded at upload (hex).
    Sha256(String),
    /// Storage reports no checksum and none was recorded: the size only.
    SizeOnly,
}

impl std::fmt::Display for Downloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let check = match &self.check {
            Check::Crc64Nvme(crc) => format!("checked: crc64nvme {crc} matches storage's"),
            Check::Sha256(sha) => format!("checked: sha256 {sha} matches the upload's"),
            Check::SizeOnly => "checked: the size only (storage reports no checksum, and none was recorded)".into(),
        };
        write!(
            f,
            "downloaded {} bytes, {:.1} s, {:.1} MiB/s\n{check}",
            self.size,
            self.seconds,
            super::rate(self.size, self.seconds)
        )
    }
}

/// What storage says the whole object's digests are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Reported {
    /// Its full-object CRC64NVME (base64).
    crc64nvme: Option<String>,
    /// The SHA-256 recorded at upload (hex).
    sha256: Option<String>,
}

impl Reported {
    fn of(headers: &HeaderMap) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        // A composite checksum (`…-N`, or type COMPOSITE) is not the CRC of the bytes.
        let full = text("x-amz-checksum-type").is_none_or(|t| t.eq_ignore_ascii_case("FULL_OBJECT"));
        let crc64nvme = text(CRC64NVME).filter(|v| full && !v.contains('-')).map(str::to_owned);
        Self { crc64nvme, sha256: text("x-amz-meta-sha256").map(str::to_ascii_lowercase) }
    }
}

/// What the writer computes over every byte of the file.
struct Hashes {
    crc64nvme: crc_fast::Digest,
    /// Until it is known not to be needed.
    sha256: Option<Context>,
}

impl Hashes {
    /// Adds `bytes` to every digest still wanted.
    fn update(&mut self, bytes: &[u8]) {
        self.crc64nvme.update(bytes);
        if let Some(sha256) = self.sha256.as_mut() {
            sha256.update(bytes);
        }
    }
}

/// Where the bytes go. Each chunk is written as it arrives, on the one
/// thread the download runs on, straight from the HTTP client's buffer: no
/// copy, no buffer of our own, no hand-over to another thread. That is what
/// curl does (read, write, read); the kernel's socket buffer keeps receiving
/// while a write runs. Measured against a writer task fed by a channel
/// through a 1 MiB `BufWriter` (BENCHMARKS.md, issue 20): the copy into the
/// buffer and the wake-ups of the task were most of the CLI's extra time.
struct Sink {
    out: Box<dyn Write + Send>,
    hashes: Hashes,
    /// Bytes written (all of them, in order, or the download fails).
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
    fn start(out: Box<dyn Write + Send>, hashes: Hashes, written: u64) -> Self {
        Self { out, hashes, written, etag: None, to_replace: None }
    }

    /// Storage has started sending the whole object: empty the old file.
    /// One already empty (just created) is left alone: truncating it would
    /// make ext4 write the whole download back when it is closed
    /// (`auto_da_alloc`), which cost seconds of system time per 2 GiB.
    fn begin(&mut self) -> Result<(), ClientError> {
        let Some(old) = self.to_replace.take() else { return Ok(()) };
        let io = |e| ClientError::Io("cannot write the output".into(), e);
        if old.file.metadata().map_err(io)?.len() == 0 {
            return Ok(());
        }
        old.file.set_len(0).map_err(io)
    }

    fn write(&mut self, chunk: &[u8]) -> Result<(), ClientError> {
        self.out.write_all(chunk).map_err(|e| ClientError::Io("cannot write the output".into(), e))?;
        self.hashes.update(chunk);
        self.written += chunk.len() as u64;
        Ok(())
    }

    /// Storage reports a CRC64NVME: no SHA-256 needed.
    fn no_sha256(&mut self) {
        self.hashes.sha256 = None;
    }

    /// Flushes the output; returns the hashes over every byte of the file,
    /// a resumed file's earlier part included.
    fn finish(mut self) -> Result<Hashes, ClientError> {
        self.out.flush().map_err(|e| ClientError::Io("cannot write the output".into(), e))?;
        Ok(self.hashes)
    }
}

/// Downloads `options.url` into `options.dest`.
pub async fn download(gateway: &GatewayClient, options: DownloadOptions) -> Result<Downloaded, ClientError> {
    let started = Instant::now();
    let mut sink = open(&options).await?;
    let bar = progress::bar(None, "downloading");
    let mut retry = Retry::new();
    // A retry continues from where the last attempt stopped.
    let reported = loop {
        match fetch(gateway, &options.url, &mut sink, &bar).await {
            Err(error) if retry.again("the download", &error).await => {}
            result => break result,
        }
    };
    bar.finish_and_clear();
    let size = sink.written;
    let untouched = sink.to_replace.take();
    // A failed last write explains a stopped download better than the download's own error.
    let hashes = sink.finish()?;
    if let (Err(_), Some(Replaced { path, created: true, .. })) = (&reported, untouched) {
        let _ = std::fs::remove_file(path);
    }
    let check = verify(&reported?, hashes)?;
    Ok(Downloaded { size, check, seconds: started.elapsed().as_secs_f64() })
}

/// The strongest check storage's report allows, or why the bytes fail it.
fn verify(reported: &Reported, hashes: Hashes) -> Result<Check, ClientError> {
    if let Some(expected) = &reported.crc64nvme {
        let crc = crc64nvme_base64(hashes.crc64nvme.finalize());
        if crc != *expected {
            return Err(ClientError::Integrity(format!(
                "the download's CRC64NVME is {crc}, but storage reports {expected} for the object"
            )));
        }
        return Ok(Check::Crc64Nvme(crc));
    }
    match (&reported.sha256, hashes.sha256) {
        (Some(expected), Some(context)) => {
            let sha256 = hex::encode(context.finish().as_ref());
            if sha256 != *expected {
                return Err(ClientError::Integrity(format!(
                    "the download's SHA-256 is {sha256}, but the object was uploaded with {expected}"
                )));
            }
            Ok(Check::Sha256(sha256))
        }
        _ => Ok(Check::SizeOnly),
    }
}

async fn open(options: &DownloadOptions) -> Result<Sink, ClientError> {
    if options.dest == "-" {
        if options.resume {
            return Err(ClientError::Usage("--resume needs a file to continue, not standard output".into()));
        }
        let stdout = stdout().map_err(|e| ClientError::Io("cannot write to standard output".into(), e))?;
        return Ok(Sink::start(stdout, hashes(), 0));
    }
    let path = Path::new(&options.dest);
    let io = |e| ClientError::Io(format!("cannot write {}", path.display()), e);
    let mut hasher = hashes();
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

/// Standard output as a plain file: `Stdout` is line-buffered, and would look
/// for line ends in every chunk of a binary file.
fn stdout() -> std::io::Result<Box<dyn Write + Send>> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        Ok(Box::new(std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?)))
    }
    #[cfg(not(unix))]
    {
        Ok(Box::new(std::io::stdout()))
    }
}

fn hashes() -> Hashes {
    Hashes { crc64nvme: digest(), sha256: Some(Context::new(&SHA256)) }
}

/// `x-amz-checksum-mode: ENABLED`, which the gateway signs in, so storage
/// reports the object's checksum.
fn checksum_mode() -> Result<HeaderMap, ClientError> {
    let mut headers = HeaderMap::new();
    headers.insert("x-amz-checksum-mode", header("ENABLED")?);
    Ok(headers)
}

/// One attempt: from where the sink stands to the end. Returns what storage
/// reports of the whole object's digests.
async fn fetch(
    gateway: &GatewayClient,
    url: &Url,
    sink: &mut Sink,
    bar: &indicatif::ProgressBar,
) -> Result<Reported, ClientError> {
    let location = gateway.locate(Method::GET, url, checksum_mode()?).await?;
    let mut request = gateway.storage().get(location).headers(checksum_mode()?);
    if sink.written > 0 {
        request = request.header(RANGE, format!("bytes={}-", sink.written));
    }
    if let Some(etag) = &sink.etag {
        request = request.header(IF_MATCH, etag);
    }
    let response = request.send().await.map_err(super::network)?;
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
    // Storage reports the whole object's checksum on a whole GET only; a range asks with HEAD.
    let mut reported = Reported::of(response.headers());
    if response.status() == StatusCode::PARTIAL_CONTENT && reported.crc64nvme.is_none() {
        reported = head(gateway, url, sink.etag.as_deref()).await?;
    }
    if reported.crc64nvme.is_some() || reported.sha256.is_none() {
        sink.no_sha256();
    }
    bar.set_length(total(response.headers()).unwrap_or(0));
    bar.set_position(sink.written);
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(super::network)?;
        bar.inc(chunk.len() as u64);
        sink.write(&chunk)?;
    }
    Ok(reported)
}

/// After a `416` to a resumed download: the file is whole only if it is
/// exactly as long as the object. Returns what storage reports of its
/// digests, from a HEAD (a `416` carries none).
async fn already_whole(gateway: &GatewayClient, url: &Url, written: u64) -> Result<Reported, ClientError> {
    let response = head_response(gateway, url, None).await?;
    if total(response.headers()) != Some(written) {
        return Err(ClientError::Usage("the partial file is longer than the object: delete it and start again".into()));
    }
    Ok(Reported::of(response.headers()))
}

/// What storage reports of the object's digests, from a HEAD of the version `etag`.
async fn head(gateway: &GatewayClient, url: &Url, etag: Option<&str>) -> Result<Reported, ClientError> {
    Ok(Reported::of(head_response(gateway, url, etag).await?.headers()))
}

async fn head_response(
    gateway: &GatewayClient,
    url: &Url,
    etag: Option<&str>,
) -> Result<reqwest::Response, ClientError> {
    let location = gateway.locate(Method::HEAD, url, checksum_mode()?).await?;
    let mut request = gateway.storage().head(location).headers(checksum_mode()?);
    if let Some(etag) = etag {
        request = request.header(IF_MATCH, etag);
    }
    let response = request.send().await.map_err(super::network)?;
    if response.status() == StatusCode::PRECONDITION_FAILED && etag.is_some() {
        return Err(ClientError::Integrity("the object changed during the download: start again".into()));
    }
    if response.status() != StatusCode::OK {
        return Err(storage_error(response).await);
    }
    Ok(response)
}

/// The object's whole size, from `Content-Range` or `Content-Length`.
fn total(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let value = |name| headers.get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok());
    match value(CONTENT_RANGE) {
        Some(range) => range.rsplit('/').next()?.parse().ok(),
        None => value(CONTENT_LENGTH)?.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes_of(bytes: &[u8]) -> Hashes {
        let mut hashes = hashes();
        hashes.update(bytes);
        hashes
    }

    #[test]
    fn the_strongest_reported_check_is_made() {
        let crc = crc64nvme_base64(super::super::checksum::crc64nvme(b"bytes"));
        let sha = hex::encode(aws_lc_rs::digest::digest(&SHA256, b"bytes").as_ref());
        let both = Reported { crc64nvme: Some(crc.clone()), sha256: Some("0".repeat(64)) };
        assert_eq!(verify(&both, hashes_of(b"bytes")).unwrap(), Check::Crc64Nvme(crc.clone()));
        let recorded = Reported { crc64nvme: None, sha256: Some(sha.clone()) };
        assert_eq!(verify(&recorded, hashes_of(b"bytes")).unwrap(), Check::Sha256(sha));
        assert_eq!(verify(&Reported::default(), hashes_of(b"bytes")).unwrap(), Check::SizeOnly);
        let error = verify(&both, hashes_of(b"other")).unwrap_err().to_string();
        assert!(error.contains("CRC64NVME"), "{error}");
        let error = verify(&recorded, hashes_of(b"other")).unwrap_err().to_string();
        assert!(error.contains("SHA-256"), "{error}");
    }

    #[test]
    fn composite_checksums_are_not_taken_for_the_objects() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            pairs
                .iter()
                .map(|(n, v)| {
                    (reqwest::header::HeaderName::from_static(n), reqwest::header::HeaderValue::from_static(v))
                })
                .collect::<HeaderMap>()
        };
        let full = Reported::of(&headers(&[(CRC64NVME, "rosUhgp5mIg="), ("x-amz-checksum-type", "FULL_OBJECT")]));
        assert_eq!(full.crc64nvme.as_deref(), Some("rosUhgp5mIg="));
        let composite = Reported::of(&headers(&[(CRC64NVME, "rosUhgp5mIg=-3"), ("x-amz-checksum-type", "COMPOSITE")]));
        assert_eq!(composite.crc64nvme, None);
        let recorded = Reported::of(&headers(&[("x-amz-meta-sha256", "AB")]));
        assert_eq!(recorded, Reported { crc64nvme: None, sha256: Some("ab".into()) });
    }
}
