//! How often a request is tried and how long to wait in between.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// When to give up and how long to wait between attempts.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// Exponential backoff with "equal jitter": half fixed, half random, so clients that failed
    /// together do not retry together. A longer `Retry-After` from upstream wins (up to a minute).
    pub(super) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exponential = self
            .base_delay
            .saturating_mul(1u32 << (attempt - 1).min(16));
        let capped = exponential.min(self.max_delay);
        let half = capped / 2;
        let jittered = half + half.mul_f64(random_unit());
        match retry_after {
            Some(wait) => jittered.max(wait.min(Duration::from_secs(60))),
            None => jittered,
        }
    }
}

/// A number in [0, 1) that differs between calls and processes (for jitter only).
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        let first = policy.delay(1, None);
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        assert!(policy.delay(10, None) <= Duration::from_secs(1));
        assert!(policy.delay(1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
        assert!(policy.delay(1, Some(Duration::from_secs(3600))) <= Duration::from_secs(60));
    }
}
