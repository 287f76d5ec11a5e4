//! The one body the gateway keeps: a multipart completion's part list. Kept
//! bodies share one memory budget (`--max-body-memory`): each reserves its
//! announced length (the largest part list S3 takes when it announces none)
//! before its first byte is read, waits at most [`BUDGET_WAIT`] for room,
//! and is answered `503` with `Retry-After` beyond that. With the pace of
//! [`super::pace`], a thousand connections that announce 2 MiB each and
//! stall hold at most the budget, and only for seconds.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use http::{HeaderMap, header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::pace::{self, Pace, Read};
use crate::config::BodyLimits;
use crate::core::completion::MAX_COMPLETION_BYTES;

/// The longest a body waits for room in the budget before its `503`.
pub const BUDGET_WAIT: Duration = Duration::from_secs(1);

/// The budget counts kibibytes, so that it fits a semaphore's permits.
const UNIT: u64 = 1024;

/// The limits every body is read within, and the memory kept bodies share.
#[derive(Debug)]
pub struct Bodies {
    limits: BodyLimits,
    budget: Arc<Semaphore>,
}

/// A kept body, holding its share of the budget until dropped.
#[derive(Debug)]
pub struct Kept {
    /// The bytes.
    pub bytes: Bytes,
    _reserved: OwnedSemaphorePermit,
}

/// Why a body was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotKept {
    /// The budget had no room in time.
    Busy,
    /// Longer than a part list can be.
    TooLong,
    /// Too slow, too late, or broken off.
    CutOff,
}

impl Bodies {
    /// Bodies within `limits`.
    #[must_use]
    pub fn new(limits: BodyLimits) -> Self {
        let units = usize::try_from(limits.max_memory / UNIT).unwrap_or(usize::MAX).min(Semaphore::MAX_PERMITS);
        Self { limits, budget: Arc::new(Semaphore::new(units)) }
    }

    /// How any body must arrive.
    #[must_use]
    pub fn pace(&self) -> Pace {
        Pace { min_rate: self.limits.min_rate, time: self.limits.timeout, window: pace::WINDOW }
    }

    /// Reads a part list whole, within the budget and the pace.
    ///
    /// # Errors
    /// [`NotKept`] says why not; the connection should close after the answer.
    pub async fn keep_part_list(&self, headers: &HeaderMap, body: Body) -> Result<Kept, NotKept> {
        let announced = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        let limit = announced.unwrap_or(MAX_COMPLETION_BYTES as u64);
        if limit > MAX_COMPLETION_BYTES as u64 {
            return Err(NotKept::TooLong);
        }
        let units = u32::try_from(limit.div_ceil(UNIT).max(1)).map_err(|_| NotKept::TooLong)?;
        let reserving = self.budget.clone().acquire_many_owned(units);
        let Ok(Ok(reserved)) = tokio::time::timeout(BUDGET_WAIT, reserving).await else {
            return Err(NotKept::Busy);
        };
        let mut kept = Vec::new();
        let read = pace::read(body, self.pace(), |data| {
            if (kept.len() + data.len()) as u64 > limit {
                return ControlFlow::Break(());
            }
            kept.extend_from_slice(&data);
            ControlFlow::Continue(())
        })
        .await;
        match read {
            Read::Whole => Ok(Kept { bytes: Bytes::from(kept), _reserved: reserved }),
            Read::Stopped => Err(NotKept::TooLong),
            Read::CutOff => Err(NotKept::CutOff),
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn bodies(max_memory: u64) -> Bodies {
        Bodies::new(BodyLimits { timeout: Duration::from_secs(60), max_memory, min_rate: 0 })
    }

    fn announcing(length: usize) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        headers
    }

    #[tokio::test]
    async fn kept_bodies_hold_their_share_of_the_budget_until_dropped() {
        let bodies = bodies(3 << 20);
        let first = bodies.keep_part_list(&announcing(2 << 20), Body::from(vec![b'<'; 2 << 20])).await.unwrap();
        let refused = bodies.keep_part_list(&announcing(2 << 20), Body::from(vec![b'<'; 2 << 20])).await;
        assert_eq!(refused.unwrap_err(), NotKept::Busy);
        let small = bodies.keep_part_list(&announcing(100), Body::from(vec![b'<'; 100])).await.unwrap();
        assert_eq!(small.bytes.len(), 100, "a small one fits beside it");
        drop(first);
        assert!(bodies.keep_part_list(&announcing(2 << 20), Body::from(vec![b'<'; 2 << 20])).await.is_ok());
    }

    #[tokio::test]
    async fn a_body_longer_than_a_part_list_or_than_it_said_is_refused() {
        let bodies = bodies(64 << 20);
        let too_long = MAX_COMPLETION_BYTES + 1;
        assert_eq!(bodies.keep_part_list(&announcing(too_long), Body::empty()).await.unwrap_err(), NotKept::TooLong);
        let unannounced = bodies.keep_part_list(&HeaderMap::new(), Body::from(vec![b'<'; too_long])).await;
        assert_eq!(unannounced.unwrap_err(), NotKept::TooLong);
        let more_than_said = bodies.keep_part_list(&announcing(10), Body::from(vec![b'<'; 11])).await;
        assert_eq!(more_than_said.unwrap_err(), NotKept::TooLong);
    }
}
