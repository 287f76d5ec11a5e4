//! The multipart steps, as the gateway's JSON messages ([`crate::wire`]):
//! start (with a full-object CRC64NVME checksum), list what is stored,
//! complete (with each part's CRC64NVME and the whole object's, which
//! storage checks), abort.

use reqwest::header::{ACCEPT, HeaderMap};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;

use super::checksum::CRC64NVME;
use super::parts::HeldPart;
use super::retry::with_retries;
use super::{ClientError, GatewayClient, gateway_error, header, with_query};
use crate::wire;

/// Starts an upload whose parts and whole carry CRC64NVME checksums; returns its id.
pub async fn create(gateway: &GatewayClient, url: &Url, object: &HeaderMap) -> Result<String, ClientError> {
    let mut headers = json_headers()?;
    headers.extend(object.clone());
    headers.insert("x-amz-checksum-algorithm", header("CRC64NVME")?);
    headers.insert("x-amz-checksum-type", header("FULL_OBJECT")?);
    let started: wire::UploadStarted =
        call(gateway, "starting the upload", Method::POST, &with_query(url, &[("uploads", None)]), headers, None)
            .await?;
    Ok(started.upload_id)
}

/// The parts storage holds, every page of them.
pub async fn list_parts(gateway: &GatewayClient, url: &Url, upload_id: &str) -> Result<Vec<HeldPart>, ClientError> {
    let mut held = Vec::new();
    let mut after = 0_u16;
    loop {
        let marker = after.to_string();
        let page_url = with_query(url, &[("uploadId", Some(upload_id)), ("part-number-marker", Some(&marker))]);
        let list: wire::PartList =
            call(gateway, "listing the parts", Method::GET, &page_url, json_headers()?, None).await?;
        held.extend(list.parts.into_iter().map(|p| HeldPart {
            number: p.part_number,
            etag: p.etag,
            crc64nvme: p.checksums.checksum_crc64nvme,
        }));
        match list.next_part_number_marker.filter(|_| list.is_truncated) {
            None => return Ok(held),
            Some(next) if next > after => after = next,
            // A marker that does not move on would list forever.
            Some(_) => return Err(ClientError::Protocol("the part list's pages do not move on".to_owned())),
        }
    }
}

/// Completes the upload from `parts`, whose CRC64NVMEs make `crc64nvme`
/// (base64), which storage checks; returns the object as storage reports it.
pub async fn complete(
    gateway: &GatewayClient,
    url: &Url,
    upload_id: &str,
    parts: Vec<wire::ListedPart>,
    crc64nvme: &str,
) -> Result<wire::UploadCompleted, ClientError> {
    let body = serde_json::to_vec(&wire::CompletionRequest { parts })
        .map_err(|e| ClientError::Protocol(format!("cannot write the part list: {e}")))?;
    let complete_url = with_query(url, &[("uploadId", Some(upload_id))]);
    let mut headers = json_headers()?;
    headers.insert(CRC64NVME, header(crc64nvme)?);
    headers.insert("x-amz-checksum-type", header("FULL_OBJECT")?);
    call(gateway, "completing the upload", Method::POST, &complete_url, headers, Some(body)).await
}

/// Aborts the upload, warning when that fails (storage's lifecycle rule cleans up).
pub async fn abort(gateway: &GatewayClient, url: &Url, upload_id: &str) {
    let abort_url = with_query(url, &[("uploadId", Some(upload_id))]);
    if let Err(error) = gateway.call(Method::DELETE, &abort_url, HeaderMap::new(), None).await {
        let error = crate::telemetry::ErrorChain(&error);
        tracing::warn!("could not abort the upload ({error}); storage's lifecycle rule will clean it up");
    }
}

fn json_headers() -> Result<HeaderMap, ClientError> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, header("application/json")?);
    Ok(headers)
}

/// One gateway call, retried, whose `200` carries a `T`.
async fn call<T: DeserializeOwned>(
    gateway: &GatewayClient,
    what: &str,
    method: Method,
    url: &Url,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
) -> Result<T, ClientError> {
    let response = with_retries(what, || {
        let body = body.clone().map(|body| (body, "application/json"));
        gateway.call(method.clone(), url, headers.clone(), body)
    })
    .await?;
    if response.status() != StatusCode::OK {
        return Err(gateway_error(response).await);
    }
    response.json().await.map_err(|e| ClientError::Decode(e.without_url()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gateway's part list of three parts, two a page, over HTTP on loopback
    /// (the gateway's own paging is tested on the real store in
    /// tests/transfers.rs); `stuck` never moves its marker on.
    async fn pages(stuck: bool) -> Url {
        let answer = move |uri: http::Uri| async move {
            let query = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes());
            let marker = query.into_iter().find(|(name, _)| name == "part-number-marker");
            let after: u16 = marker.and_then(|(_, value)| value.parse().ok()).unwrap_or(0);
            let parts: Vec<wire::StoredPart> = (after + 1..=3)
                .take(2)
                .map(|n| wire::StoredPart {
                    part_number: n,
                    etag: format!("e{n}"),
                    size: 5,
                    checksums: wire::Checksums::default(),
                })
                .collect();
            let next = if stuck { Some(1) } else { parts.last().map(|p| p.part_number).filter(|n| *n < 3) };
            let list = wire::PartList {
                key: "k".into(),
                upload_id: "u".into(),
                parts,
                is_truncated: next.is_some(),
                next_part_number_marker: next,
            };
            axum::Json(list)
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/k", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(answer)).await });
        url
    }

    #[tokio::test]
    async fn every_page_of_parts_is_read() {
        let gateway = GatewayClient::new(None).unwrap();
        let held = list_parts(&gateway, &pages(false).await, "u").await.unwrap();
        assert_eq!(held.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2, 3]);
        let stuck = list_parts(&gateway, &pages(true).await, "u").await;
        assert!(matches!(stuck, Err(ClientError::Protocol(_))), "{stuck:?}");
    }
}
