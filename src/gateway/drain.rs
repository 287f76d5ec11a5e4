//! Reading and discarding a request body the gateway does not need.
//!
//! A client that sent `Expect: 100-continue` waits for permission before it
//! sends its body; the body is left untouched, so the answer arrives first
//! and not one byte is sent twice. A client that sends its body straight away
//! is read (within bounds) before the answer, so it is not cut off with a
//! broken pipe mid-send: to the end for a request the gateway accepted, and
//! only a little for one it refused from its headers alone, whose connection
//! then closes, and neither for `GET`, `HEAD` or `DELETE`, which have no
//! use for one. No body is read before the caller is authenticated.

use std::ops::ControlFlow;
use std::time::Duration;

use axum::body::Body;
use http::header::{CONTENT_LENGTH, EXPECT, TRANSFER_ENCODING};
use http::{HeaderMap, Method};

use super::pace::{self, Pace, Read};

/// How much of a body may be read, and how it must arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Bytes.
    pub bytes: u64,
    /// Time and rate.
    pub pace: Pace,
}

impl Bounds {
    /// For a request refused from its headers (401, 403, any 4xx): enough for
    /// a small body sent unasked to be read, so its client sees the answer
    /// rather than a reset, and no more.
    pub const REFUSED: Self =
        Self { bytes: 64 << 10, pace: Pace { min_rate: 0, time: Duration::from_secs(1), window: pace::WINDOW } };

    /// For an accepted request: S3's limit for a single PUT, at `pace`.
    #[must_use]
    pub fn accepted(pace: Pace) -> Self {
        Self { bytes: 5 << 30, pace }
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

/// Discards `body` within `bounds`, unless the client expects `100 Continue`
/// or the method has no use for a body (then one announced is never read,
/// and the connection closes after the answer).
pub async fn unless_continue_expected(method: &Method, headers: &HeaderMap, body: Body, bounds: Bounds) -> Drained {
    if matches!(*method, Method::GET | Method::HEAD | Method::DELETE) {
        let announced =
            headers.get(CONTENT_LENGTH).is_some_and(|length| length != "0") || headers.contains_key(TRANSFER_ENCODING);
        return if announced { Drained::GaveUp } else { Drained::Complete };
    }
    let expects_continue =
        headers.get(EXPECT).is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if expects_continue {
        return Drained::Untouched;
    }
    let mut read = 0u64;
    let discarded = pace::read(body, bounds.pace, |data| {
        read += data.len() as u64;
        if read > bounds.bytes { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    });
    match discarded.await {
        Read::Whole => Drained::Complete,
        Read::Stopped | Read::CutOff => Drained::GaveUp,
    }
}
