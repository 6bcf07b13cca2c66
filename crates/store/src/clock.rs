use leadrouter_core::clock::{Clock, EpochMillis};
use std::time::{SystemTime, UNIX_EPOCH};

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> EpochMillis {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as EpochMillis)
            .unwrap_or(0)
    }
}
