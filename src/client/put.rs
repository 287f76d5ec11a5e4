//! One presigned PUT through the gateway: ask where (declaring the size and
//! the checksum to sign in), then send the body straight to storage, which
//! checks the checksum and echoes it.

use reqwest::header::{CONTENT_LENGTH, ETAG, HeaderMap};
use reqwest::{Method, StatusCode, Url};

use super::checksum::CRC64NVME;
use super::{ClientError, GatewayClient, header, storage_error};

/// The headers of an upload of `length` bytes with CRC64NVME `crc64nvme`
/// (base64), and the object's own (type, metadata) for a whole object.
pub fn upload_headers(length: u64, crc64nvme: &str, object: &HeaderMap) -> Result<HeaderMap, ClientError> {
    let mut headers = object.clone();
    headers.insert("upload-length", header(&length.to_string())?);
    headers.insert(CRC64NVME, header(crc64nvme)?);
    Ok(headers)
}

/// Asks the gateway where to PUT (`headers` declare the size and checks that
/// are signed in), then sends `body` there with the same headers. Returns
/// storage's ETag.
pub async fn put_through(
    gateway: &GatewayClient,
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
    // Storage checked the CRC it was sent; one that reports another has stored other bytes.
    let sent = headers.get(CRC64NVME);
    if let (Some(sent), Some(reported)) = (sent, response.headers().get(CRC64NVME))
        && sent != reported
    {
        return Err(ClientError::Integrity(format!(
            "storage reports the CRC64NVME {}, not the {} sent",
            reported.to_str().unwrap_or_default(),
            sent.to_str().unwrap_or_default()
        )));
    }
    Ok(etag_of(&response))
}

fn etag_of(response: &reqwest::Response) -> String {
    response.headers().get(ETAG).and_then(|v| v.to_str().ok()).unwrap_or_default().trim_matches('"').to_owned()
}
