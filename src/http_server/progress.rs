//! Clients that move bytes too slowly while the server waits on them: a
//! request body trickled in, or a response the client stops reading. Only
//! the time the server spends waiting for the client counts (never its own
//! work, such as a store syncing a file), and over every [`WINDOW`] of it
//! the client must have moved `min_rate` bytes a second, or the connection
//! is closed. Without this, a client holding one presigned URL could keep a
//! store download (and the thread reading its file) or an upload open
//! forever at a byte a second.

use std::pin::Pin;
use std::task::Context;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// The waiting over which the rate is measured: long enough for a
/// congested network's stalls and a paused video's buffer, short enough
/// that a stalled client lets go in seconds.
pub const WINDOW: Duration = Duration::from_secs(10);

/// One direction's bytes and the server's waiting on them.
#[derive(Debug)]
pub struct Progress {
    min_per_window: u64,
    window: Duration,
    waited: Duration,
    moved: u64,
    waiting_since: Option<Instant>,
    wake: Option<Pin<Box<Sleep>>>,
}

/// The client moved too few bytes while the server waited.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the client moved fewer than the minimum bytes a second while the server waited on it")]
pub struct TooSlow;

impl Progress {
    /// At least `min_rate` bytes a second (0: any) over `window` of waiting.
    #[must_use]
    pub fn new(min_rate: u64, window: Duration) -> Self {
        let min_per_window = u64::try_from(u128::from(min_rate) * window.as_millis() / 1000).unwrap_or(u64::MAX);
        Self { min_per_window, window, waited: Duration::ZERO, moved: 0, waiting_since: None, wake: None }
    }

    /// Records what a poll of the client gave: `Some(bytes)`, or `None` while
    /// the server waits (then `cx` is woken when the window would end).
    ///
    /// # Errors
    /// [`TooSlow`] when a window of waiting saw too few bytes.
    pub fn record(&mut self, cx: &mut Context<'_>, moved: Option<usize>) -> Result<(), TooSlow> {
        if self.min_per_window == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let waiting = match moved {
            Some(bytes) => {
                self.moved = self.moved.saturating_add(bytes as u64);
                if let Some(since) = self.waiting_since.take() {
                    self.waited += now - since;
                }
                self.wake = None;
                Duration::ZERO
            }
            None => now - *self.waiting_since.get_or_insert(now),
        };
        if self.waited + waiting >= self.window {
            if self.moved < self.min_per_window {
                return Err(TooSlow);
            }
            (self.waited, self.moved) = (Duration::ZERO, 0);
            if moved.is_none() {
                self.waiting_since = Some(now);
            }
        }
        if moved.is_none() {
            let left = self.window.saturating_sub(self.waited + (now - self.waiting_since.unwrap_or(now)));
            let wake = self.wake.get_or_insert_with(|| Box::pin(tokio::time::sleep(left)));
            wake.as_mut().reset(now + left);
            if wake.as_mut().poll(cx).is_ready() {
                cx.waker().wake_by_ref();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use super::*;

    fn record(progress: &mut Progress, moved: Option<usize>) -> Result<(), TooSlow> {
        progress.record(&mut Context::from_waker(Waker::noop()), moved)
    }

    #[tokio::test]
    async fn only_the_time_spent_waiting_on_the_client_counts() {
        let mut progress = Progress::new(1000, Duration::from_millis(200));
        // The server's own work between polls (a long sleep here) is not waiting.
        record(&mut progress, Some(10)).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        record(&mut progress, Some(10)).unwrap();
        // Waiting a whole window for 20 bytes, where 200 were due, is too slow.
        record(&mut progress, None).unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(record(&mut progress, None).is_err());
    }

    #[tokio::test]
    async fn a_client_at_the_minimum_rate_keeps_going_and_zero_turns_it_off() {
        let mut progress = Progress::new(1000, Duration::from_millis(200));
        for _ in 0..6 {
            record(&mut progress, None).unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            record(&mut progress, Some(100)).unwrap();
        }
        let mut off = Progress::new(0, Duration::from_millis(200));
        record(&mut off, None).unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(record(&mut off, None).is_ok());
    }
}
