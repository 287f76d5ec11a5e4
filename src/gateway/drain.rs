//! Reading and discarding a request body the gateway does not need.
//!
//! A client that sent `Expect: 100-continue` waits for permission before it
//! sends its body; the body is left untouched, so the 307 arrives first and
//! not one byte is sent twice. A client that sends its body straight away is
//! read to the end (within bounds) before the answer, so it is not cut off
//! with a broken pipe mid-send.

use std::time::Duration;

use axum::body::Body;
use http::HeaderMap;
use http::header::EXPECT;
use http_body_util::BodyExt;

/// The most a body is read before giving up: S3's limit for a single PUT.
pub const MAX_DRAIN_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// The longest a body is read before giving up.
pub const MAX_DRAIN_TIME: Duration = Duration::from_secs(120);

/// What became of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// Not touched: the client waits for `100 Continue`.
    Untouched,
    /// Read to the end.
    Complete,
    /// Too large or too slow: the connection must close after the answer.
    GaveUp,
}

/// Discards `body` unless the client expects `100 Continue`.
pub async fn unless_continue_expected(headers: &HeaderMap, body: Body) -> Drained {
    let expects_continue =
        headers.get(EXPECT).is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if expects_continue {
        return Drained::Untouched;
    }
    match tokio::time::timeout(MAX_DRAIN_TIME, discard(body, MAX_DRAIN_BYTES)).await {
        Ok(true) => Drained::Complete,
        Ok(false) | Err(_) => Drained::GaveUp,
    }
}

async fn discard(mut body: Body, limit: u64) -> bool {
    let mut read = 0u64;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return false };
        if let Some(data) = frame.data_ref() {
            read += data.len() as u64;
            if read > limit {
                return false;
            }
        }
    }
    true
}
