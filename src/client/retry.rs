//! Retries with exponential backoff and jitter (backon's), for the errors
//! that trying again can cure.

use std::future::Future;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};

use super::ClientError;

/// Attempts per request before giving up.
const ATTEMPTS: usize = 5;

/// Counts attempts and waits about 0.4 s, 0.8 s, 1.6 s… between them.
pub struct Retry {
    delays: ExponentialBackoff,
}

impl Retry {
    pub fn new() -> Self {
        let delays = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(400))
            .with_max_times(ATTEMPTS - 1)
            .with_jitter()
            .build();
        Self { delays }
    }

    /// Whether to try again after `error`, having waited.
    pub async fn again(&mut self, what: &str, error: &ClientError) -> bool {
        if !error.is_transient() {
            return false;
        }
        let Some(wait) = self.delays.next() else { return false };
        tracing::warn!(
            "{what} failed ({}); trying again in {:.1} s",
            crate::telemetry::ErrorChain(error),
            wait.as_secs_f64()
        );
        tokio::time::sleep(wait).await;
        true
    }
}

/// Runs `attempt` until it succeeds, fails for good, or runs out of tries.
pub async fn with_retries<T, F, Fut>(what: &str, mut attempt: F) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    let mut retry = Retry::new();
    loop {
        match attempt().await {
            Err(error) if retry.again(what, &error).await => {}
            result => return result,
        }
    }
}
