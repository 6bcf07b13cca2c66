//! When to try again: a schedule of delays, ±20% jitter so that many failures do not retry
//! in lock-step, and a `Retry-After` from the other side honoured up to a cap.

use std::time::Duration;

/// Fraction of each delay by which it is randomly moved earlier or later.
pub const JITTER: f64 = 0.2;

/// The delay before attempt `failed_attempts + 1`, or `None` when the schedule is used up.
/// `unit` is a random number in `[0, 1)`; `retry_after` what the other side asked for,
/// honoured up to `cap`.
pub fn next_delay(
    schedule: &[Duration],
    failed_attempts: usize,
    unit: f64,
    retry_after: Option<Duration>,
    cap: Duration,
) -> Option<Duration> {
    let base = *schedule.get(failed_attempts.checked_sub(1)?)?;
    let factor = 1.0 + JITTER * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
    let jittered = base.mul_f64(factor);
    Some(match retry_after {
        Some(asked) => asked.min(cap).max(jittered.min(cap)),
        None => jittered,
    })
}

/// Parses a `Retry-After` header in its seconds form (`120`); the date form is rare from
/// webhook receivers and is ignored.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn the_schedule_is_followed_then_ends() {
        let sched = [s(10), s(60), s(300)];
        assert_eq!(next_delay(&sched, 1, 0.5, None, s(3600)), Some(s(10)));
        assert_eq!(next_delay(&sched, 3, 0.5, None, s(3600)), Some(s(300)));
        assert_eq!(next_delay(&sched, 4, 0.5, None, s(3600)), None);
        assert_eq!(next_delay(&sched, 0, 0.5, None, s(3600)), None);
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let sched = [s(10)];
        assert_eq!(
            next_delay(&sched, 1, 0.5, Some(s(45)), s(3600)),
            Some(s(45))
        );
        assert_eq!(
            next_delay(&sched, 1, 0.5, Some(s(1)), s(3600)),
            Some(s(10)),
            "never sooner than planned"
        );
        assert_eq!(
            next_delay(&sched, 1, 0.5, Some(s(90_000)), s(3600)),
            Some(s(3600))
        );
        assert_eq!(parse_retry_after(" 120 "), Some(s(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    proptest! {
        #[test]
        fn jitter_stays_within_twenty_percent(unit in 0.0f64..1.0, base in 1u64..100_000) {
            let d = next_delay(&[Duration::from_millis(base)], 1, unit, None, s(1)).unwrap();
            let (lo, hi) = (base as f64 * 0.8, base as f64 * 1.2);
            prop_assert!((d.as_secs_f64() * 1000.0) >= lo - 0.001 && (d.as_secs_f64() * 1000.0) <= hi + 0.001);
        }
    }
}
