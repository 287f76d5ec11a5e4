//! Reading and discarding a request body the gateway does not need.
//!
//! A client that sent `Expect: 100-continue` waits for permission before it
//! sends its body; the body is left untouched, so the answer arrives first
//! and not one byte is sent twice. A client that sends its body straight away
//! is read (within bounds) before the answer, so it is not cut off with a
//! broken pipe mid-send: to the end for a request the gateway accepted, and
//! only a little for one it refused from its headers alone, whose connection
//! then closes. No body is read before the caller is authenticated.

use std::time::Duration;

use axum::body::Body;
use http::HeaderMap;
use http::header::EXPECT;
use http_body_util::BodyExt;

/// How much of a body may be read, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Bytes.
    pub bytes: u64,
    /// Time.
    pub time: Duration,
}

impl Bounds {
    /// For a request refused from its headers (401, 403, any 4xx): enough for
    /// a small body sent unasked to be read, so its client sees the answer
    /// rather than a reset, and no more.
    pub const REFUSED: Self = Self { bytes: 64 << 10, time: Duration::from_secs(1) };

    /// For an accepted request: S3's limit for a single PUT, within `time`.
    #[must_use]
    pub fn accepted(time: Duration) -> Self {
        Self { bytes: 5 << 30, time }
    }
}

/// What became of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// Not touched: the client waits for `100 Continue`, or sent none.
    Untouched,
    /// Read to the end.
    Complete,
    /// Too large or too slow: the connection must close after the answer.
    GaveUp,
}

/// Discards `body` within `bounds`, unless the client expects `100 Continue`.
pub async fn unless_continue_expected(headers: &HeaderMap, body: Body, bounds: Bounds) -> Drained {
    let expects_continue =
        headers.get(EXPECT).is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if expects_continue {
        return Drained::Untouched;
    }
    match tokio::time::timeout(bounds.time, discard(body, bounds.bytes)).await {
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
