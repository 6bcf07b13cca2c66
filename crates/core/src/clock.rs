//! Time as the rest of the system sees it: epoch milliseconds from an injectable clock, so
//! that rules depending on "now" (business hours, partner-local days, expiry) are testable.

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, UTC.
pub type EpochMillis = i64;

pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> EpochMillis;
}

/// A clock that only moves when told to; for tests and simulations.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(ms: EpochMillis) -> Self {
        Self(AtomicI64::new(ms))
    }

    pub fn set(&self, ms: EpochMillis) {
        self.0.store(ms, Ordering::SeqCst);
    }

    pub fn advance(&self, by_ms: i64) {
        self.0.fetch_add(by_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> EpochMillis {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(500);
        assert_eq!(clock.now_ms(), 1_500);
        clock.set(42);
        assert_eq!(clock.now_ms(), 42);
    }
}
