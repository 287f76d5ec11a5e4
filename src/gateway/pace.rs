//! A request body that must keep arriving: at least `min_rate` bytes a
//! second, counted over windows of [`WINDOW`], and all of it within a time
//! limit. A client that sends most of a body and stalls is let go within two
//! windows, not at the end of `--body-timeout`, so it cannot hold memory or a
//! connection for minutes.

use std::ops::ControlFlow;
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use tokio::time::Instant;

/// How long the rate is measured over: long enough for a slow network's
/// bursts, short enough that a stall is noticed in seconds.
pub const WINDOW: Duration = Duration::from_secs(2);

/// How a body must arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// Bytes a second, at least, over each window (0: any).
    pub min_rate: u64,
    /// The longest the whole body may take.
    pub time: Duration,
    /// What the rate is measured over: [`WINDOW`].
    pub window: Duration,
}

/// How reading a body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The body ended.
    Whole,
    /// The reader stopped it (too long).
    Stopped,
    /// The client fell below the minimum rate, ran out of time, or broke off.
    CutOff,
}

/// Hands each chunk of `body` to `each` until the body ends, `each` breaks,
/// or the client is too slow.
pub async fn read(body: Body, pace: Pace, mut each: impl FnMut(Bytes) -> ControlFlow<()>) -> Read {
    let mut body = body;
    let deadline = Instant::now() + pace.time;
    let minimum_per_window =
        u64::try_from(u128::from(pace.min_rate) * pace.window.as_millis() / 1000).unwrap_or(u64::MAX);
    let (mut window_end, mut in_window) = (Instant::now() + pace.window, 0u64);
    loop {
        let until = if pace.min_rate == 0 { deadline } else { window_end.min(deadline) };
        match tokio::time::timeout_at(until, body.frame()).await {
            Ok(None) => return Read::Whole,
            Ok(Some(Err(_))) => return Read::CutOff,
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    in_window += data.len() as u64;
                    if each(data).is_break() {
                        return Read::Stopped;
                    }
                }
            }
            Err(_) if Instant::now() >= deadline => return Read::CutOff,
            Err(_) => {}
        }
        if pace.min_rate > 0 && Instant::now() >= window_end {
            if in_window < minimum_per_window {
                return Read::CutOff;
            }
            (window_end, in_window) = (Instant::now() + pace.window, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    /// A tenth of a second in the tests, where the window is a second.
    const TICK: Duration = Duration::from_millis(100);
    const PACE: Pace = Pace { min_rate: 1000, time: Duration::from_secs(600), window: Duration::from_secs(1) };

    fn trickle(chunks: Vec<(Duration, usize)>) -> Body {
        let stream = futures_util::stream::iter(chunks).then(|(wait, len)| async move {
            tokio::time::sleep(wait).await;
            Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; len]))
        });
        Body::from_stream(stream)
    }

    async fn total(body: Body, pace: Pace) -> (Read, usize) {
        let mut read = 0;
        let outcome = super::read(body, pace, |data| {
            read += data.len();
            ControlFlow::Continue(())
        })
        .await;
        (outcome, read)
    }

    #[tokio::test]
    async fn a_body_that_stalls_is_cut_off_long_before_its_time_limit() {
        // The stall outlasts the test run by far: returning at all is the proof.
        let body = trickle(vec![(Duration::ZERO, 1 << 20), (Duration::from_secs(3600), 1)]);
        assert_eq!(total(body, PACE).await, (Read::CutOff, 1 << 20));
    }

    #[tokio::test]
    async fn a_body_at_the_minimum_rate_is_read_whole() {
        let steady: Vec<_> = (0..25).map(|_| (TICK, 150)).collect();
        assert_eq!(total(trickle(steady), PACE).await, (Read::Whole, 3750));
    }

    #[tokio::test]
    async fn a_body_below_the_minimum_rate_is_cut_off_unless_the_rate_is_off() {
        let slow = || trickle((0..25).map(|_| (TICK, 40)).collect());
        assert_eq!(total(slow(), PACE).await.0, Read::CutOff);
        assert_eq!(total(slow(), Pace { min_rate: 0, ..PACE }).await, (Read::Whole, 1000));
    }

    #[tokio::test]
    async fn a_body_is_cut_off_at_its_time_limit_whatever_its_rate() {
        let steady: Vec<_> = (0..25).map(|_| (TICK, 5000)).collect();
        let pace = Pace { time: Duration::from_millis(500), ..PACE };
        assert_eq!(total(trickle(steady), pace).await.0, Read::CutOff);
    }
}
