//! The parts of one multipart upload, read in order and sent several at
//! once, each with its CRC64NVME signed in, so storage refuses a corrupted
//! part; the parts' CRCs combine into the whole object's without another
//! read of the data.

use std::sync::Arc;

use aws_lc_rs::digest::{Context, SHA256};
use bytes::Bytes;
use md5::{Digest, Md5};
use reqwest::Url;
use reqwest::header::HeaderMap;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::checksum::{crc64nvme, crc64nvme_base64};
use super::put::{put_through, upload_headers};
use super::retry::with_retries;
use super::{ClientError, GatewayClient, with_query};
use crate::core::limits::MAX_PARTS;
use crate::wire;

/// A part that is stored.
#[derive(Debug, Clone)]
pub struct DonePart {
    /// Its number.
    pub number: u16,
    /// Its ETag, as storage gave it.
    pub etag: String,
    /// The CRC64NVME of its bytes.
    pub crc64nvme: u64,
    /// Its length.
    pub size: u64,
    /// Whether it was stored before this run.
    pub resumed: bool,
}

impl DonePart {
    /// As the completion lists it, with its checksum for storage to check again.
    pub fn listed(&self) -> wire::ListedPart {
        let checksums =
            wire::Checksums { checksum_crc64nvme: Some(crc64nvme_base64(self.crc64nvme)), ..Default::default() };
        wire::ListedPart { part_number: self.number, etag: self.etag.clone(), checksums }
    }
}

/// A part storage already holds, as its part list says.
#[derive(Debug, Clone)]
pub struct HeldPart {
    /// Its number.
    pub number: u16,
    /// Its ETag.
    pub etag: String,
    /// Its CRC64NVME, base64, when storage keeps one.
    pub crc64nvme: Option<String>,
}

/// What reading and sending the parts produced.
#[derive(Debug)]
pub struct Sent {
    /// Bytes read.
    pub bytes: u64,
    /// Their SHA-256, when asked for.
    pub sha256: Option<String>,
    /// The parts, in order.
    pub parts: Vec<DonePart>,
}

/// The parts of one upload, sent `concurrency` at a time.
pub struct Parts {
    pub gateway: GatewayClient,
    pub url: Url,
    pub upload_id: String,
    pub part_size: u64,
    pub concurrency: usize,
    /// Parts storage already holds.
    pub stored: Arc<Vec<HeldPart>>,
    pub bar: indicatif::ProgressBar,
}

impl Parts {
    /// Reads `reader` part by part (after `first`, if given) and sends each
    /// part not already stored, hashing everything read when `hash` is set.
    pub async fn run<R: AsyncRead + Unpin>(
        &self,
        first: Option<Bytes>,
        reader: &mut R,
        hash: bool,
    ) -> Result<Sent, ClientError> {
        let permits = Arc::new(Semaphore::new(self.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let mut hasher = hash.then(|| Context::new(&SHA256));
        let (mut total, mut number, mut done) = (0u64, 0u16, Vec::new());
        let mut next = first;
        loop {
            // Hold a permit before reading, so at most `concurrency` parts are in memory.
            let permit = permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| ClientError::Protocol("the part queue closed".into()))?;
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
                done.push(finished.map_err(ClientError::Task)??);
            }
            if last {
                break;
            }
        }
        while let Some(finished) = tasks.join_next().await {
            done.push(finished.map_err(ClientError::Task)??);
        }
        done.sort_by_key(|part| part.number);
        Ok(Sent { bytes: total, sha256: hasher.map(|h| hex::encode(h.finish().as_ref())), parts: done })
    }

    fn send_part(
        &self,
        number: u16,
        chunk: Bytes,
    ) -> impl Future<Output = Result<DonePart, ClientError>> + Send + 'static {
        let (gateway, url, upload_id, stored, bar) =
            (self.gateway.clone(), self.url.clone(), self.upload_id.clone(), self.stored.clone(), self.bar.clone());
        async move {
            let crc = crc64nvme(&chunk);
            let crc_text = crc64nvme_base64(crc);
            let size = chunk.len() as u64;
            // Already stored with these bytes: the same CRC64NVME, or (uploads
            // started before CRCs) an ETag that is the MD5 of these bytes.
            let held = stored.iter().find(|p| p.number == number).filter(|p| match &p.crc64nvme {
                Some(stored_crc) => *stored_crc == crc_text,
                None => p.etag == hex::encode(Md5::digest(&chunk)),
            });
            if let Some(held) = held {
                bar.inc(size);
                return Ok(DonePart { number, etag: held.etag.clone(), crc64nvme: crc, size, resumed: true });
            }
            let number_text = number.to_string();
            let part_url = with_query(&url, &[("partNumber", Some(&number_text)), ("uploadId", Some(&upload_id))]);
            let headers = upload_headers(size, &crc_text, &HeaderMap::new())?;
            let etag = with_retries(&format!("part {number}"), || {
                put_through(&gateway, &part_url, &headers, size, chunk.clone().into())
            })
            .await?;
            bar.inc(size);
            Ok(DonePart { number, etag, crc64nvme: crc, size, resumed: false })
        }
    }
}

/// Fills a buffer of up to `size` bytes, shorter only at the end.
pub async fn read_chunk<R: AsyncRead + Unpin>(reader: &mut R, size: u64) -> Result<Bytes, ClientError> {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let mut buffer = Vec::with_capacity(size);
    let mut limited = reader.take(size as u64);
    limited.read_to_end(&mut buffer).await.map_err(|e| ClientError::Io("cannot read the input".into(), e))?;
    Ok(Bytes::from(buffer))
}
