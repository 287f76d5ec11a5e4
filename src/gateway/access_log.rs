//! One structured line per request: method, key, operation, status, latency
//! and request id. Never the query string or the `Location`: both can carry
//! signatures and tokens.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use tower_http::request_id::{MakeRequestId, RequestId};

use super::REQUEST_ID;

/// What the handler did, for the log line.
#[derive(Debug, Clone)]
pub struct Logged {
    /// The S3 operation presigned, or `CreateShareLink`.
    pub action: &'static str,
    /// The key, in storage (tenant folder included) or as the link names it.
    pub key: String,
}

/// The platform's own id for a request (Lambda's), which transports insert
/// as a request extension so the logs of both sides match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformRequestId(pub String);

/// Request ids: the platform's own where there is one, a fresh UUID otherwise.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIds;

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, request: &http::Request<B>) -> Option<RequestId> {
        let id = match request.extensions().get::<PlatformRequestId>() {
            Some(PlatformRequestId(id)) => id.clone(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        HeaderValue::try_from(id).ok().map(RequestId::new)
    }
}

/// Writes the access log line once the response is ready.
pub async fn log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let request_id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
    let response = next.run(request).await;
    let logged = response.extensions().get::<Logged>();
    tracing::info!(
        method = %method,
        key = logged.map(|l| l.key.as_str()),
        operation = logged.map(|l| l.action),
        status = response.status().as_u16(),
        latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        request_id,
        "request"
    );
    response
}
