//! One presigned PUT through the gateway: ask where (declaring the size and
//! the digests to sign in), then send the body straight to storage.

use reqwest::header::{CONTENT_LENGTH, ETAG, HeaderMap};
use reqwest::{Method, StatusCode, Url};

use super::{ClientError, GatewayClient, header, storage_error};

pub fn upload_headers(length: u64, md5: Option<&str>, sha256: Option<&str>) -> Result<HeaderMap, ClientError> {
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
    Ok(etag_of(&response))
}

fn etag_of(response: &reqwest::Response) -> String {
    response.headers().get(ETAG).and_then(|v| v.to_str().ok()).unwrap_or_default().trim_matches('"').to_owned()
}
