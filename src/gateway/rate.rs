//! `--rate-limit`: how fast each tenant may call one local server, with a
//! burst. Requests are weighed by what they cost the gateway
//! ([`crate::core::Action::cost`]): a listing with metadata reads the
//! upload log or storage many times, a redirect signs once. In Lambda each
//! instance would count apart, so there API Gateway's throttling does it.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Checks between two sweeps of the tenants idle long enough to be full again.
const SWEEP_EVERY: u32 = 4096;

/// Each tenant's allowance. Callers without a tenant (`--auth none`, or
/// tokens without the tenant claim's folder) share one.
#[derive(Debug)]
pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    burst: NonZeroU32,
    checks: AtomicU32,
}

impl RateLimit {
    /// `per_second` requests a second for each tenant, up to `burst` at once.
    #[must_use]
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            burst,
            checks: AtomicU32::new(0),
        }
    }

    /// Takes `cost` requests' worth from `tenant`'s allowance, or says how
    /// long until there is enough. A cost above the burst takes the burst.
    pub fn take(&self, tenant: &str, cost: u32) -> Result<(), Duration> {
        let cost = NonZeroU32::new(cost).unwrap_or(NonZeroU32::MIN).min(self.burst);
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // A tenant whose allowance is full again needs no entry.
            self.limiter.retain_recent();
        }
        match self.limiter.check_key_n(&tenant.to_owned(), cost) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(self.clock.now())),
            Err(_) => Err(Duration::from_secs(1)), // cannot happen: cost is capped at the burst
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(value: u32) -> NonZeroU32 {
        NonZeroU32::new(value).unwrap()
    }

    #[test]
    fn a_tenant_gets_its_burst_then_waits_and_others_are_not_touched() {
        let limit = RateLimit::new(n(1), n(3));
        for _ in 0..3 {
            assert_eq!(limit.take("acme", 1), Ok(()));
        }
        let wait = limit.take("acme", 1).expect_err("the burst is spent");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1), "{wait:?}");
        assert_eq!(limit.take("globex", 3), Ok(()), "another tenant's allowance is its own");
    }

    #[test]
    fn costly_requests_take_more_and_never_more_than_the_burst() {
        let limit = RateLimit::new(n(1), n(10));
        assert_eq!(limit.take("acme", 10), Ok(()));
        assert!(limit.take("acme", 1).is_err());
        let limit = RateLimit::new(n(1), n(4));
        assert_eq!(limit.take("acme", 50), Ok(()), "capped at the burst, so it can ever pass");
        assert!(limit.take("acme", 1).is_err());
    }
}
