//! Upstream's clock, as the `Date` header of its answers tells it: a sync's upper bound must
//! not lie in upstream's future (what the mirror then claims to hold completely would not be
//! true), and a local clock that is behind upstream's would leave the newest entries out.

use std::sync::atomic::{AtomicI64, Ordering};

/// What the answers so far said of upstream's clock.
#[derive(Debug)]
pub struct UpstreamClock {
    /// The earliest `Date` seen (Unix seconds); `i64::MAX` before any.
    earliest: AtomicI64,
    /// How far upstream's clock was ahead of the local one at the last answer, in seconds
    /// (negative: behind); `i64::MIN` before any.
    ahead: AtomicI64,
}

impl Default for UpstreamClock {
    fn default() -> UpstreamClock {
        UpstreamClock {
            earliest: AtomicI64::new(i64::MAX),
            ahead: AtomicI64::new(i64::MIN),
        }
    }
}

impl UpstreamClock {
    /// Takes in an answer's `Date` header (RFC 7231's IMF-fixdate, which RFC 2822 parsing
    /// reads); one that does not parse is ignored.
    pub fn observe(&self, date: &str, local_now: chrono::DateTime<chrono::Utc>) {
        let Ok(date) = chrono::DateTime::parse_from_rfc2822(date.trim()) else {
            return;
        };
        let seconds = date.timestamp();
        self.earliest.fetch_min(seconds, Ordering::Relaxed);
        // `Date` has whole seconds: a clock in step reads up to one second "behind".
        self.ahead
            .store(seconds - local_now.timestamp(), Ordering::Relaxed);
    }

    /// The earliest `Date` seen, if any.
    pub fn earliest(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self.earliest.load(Ordering::Relaxed) {
            i64::MAX => None,
            seconds => chrono::DateTime::from_timestamp(seconds, 0),
        }
    }

    /// Seconds upstream's clock is ahead of the local one, if any answer told.
    pub fn ahead_s(&self) -> Option<i64> {
        match self.ahead.load(Ordering::Relaxed) {
            i64::MIN => None,
            seconds => Some(seconds),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_and_bad_ones_ignored() {
        let clock = UpstreamClock::default();
        assert_eq!((clock.earliest(), clock.ahead_s()), (None, None));
        let local = chrono::DateTime::parse_from_rfc3339("2026-12-03T15:00:00Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        clock.observe("Thu, 03 Dec 2026 16:00:00 GMT", local);
        clock.observe("yesterday", local);
        assert_eq!(clock.ahead_s(), Some(3600));
        clock.observe("Thu, 03 Dec 2026 15:59:00 GMT", local);
        assert_eq!(
            clock.earliest().map(|t| t.to_rfc3339()),
            Some("2026-12-03T15:59:00+00:00".into())
        );
    }
}
