//! A partner's pace through its day: at the rate it has taken leads while open today, how
//! many it will have by its closing time, when it will reach its daily limit, and when it
//! next opens. Wall-clock minutes of its own timezone.

use crate::clock::EpochMillis;
use crate::hours::{BusinessHours, Minute};
use crate::localtime::{local_moment, parse_tz};
use crate::routing::{next_local_midnight, next_opening};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacing {
    /// Today's total by the end of today's opening hours at the pace so far (never past
    /// the limit: no lead is given beyond it).
    pub projected_total: i64,
    /// Whether the limit is reached already.
    pub cap_reached: bool,
    /// When the limit will be reached today at this pace; `None` if not today (or reached).
    pub cap_reached_at: Option<EpochMillis>,
    /// The next opening, when closed now.
    pub next_opening: Option<EpochMillis>,
}

const DAY: Minute = 24 * 60;

/// Today's open windows as `(from, to)` minutes; all day when there are no hours.
fn windows(hours: Option<&BusinessHours>, weekday: usize) -> Vec<(Minute, Minute)> {
    match hours {
        None => vec![(0, DAY)],
        Some(h) => h.days[weekday % 7].clone(),
    }
}

pub fn pace(
    hours: Option<&BusinessHours>,
    timezone: &str,
    total: i64,
    limit: u32,
    now: EpochMillis,
) -> Pacing {
    let tz = parse_tz(timezone).unwrap_or(Tz::UTC);
    let m = local_moment(tz, now);
    let today = windows(hours, m.weekday);
    let overlap = |from: Minute, to: Minute| -> i64 {
        today
            .iter()
            .map(|&(o, c)| i64::from(c.min(to).saturating_sub(o.max(from))))
            .sum()
    };
    let elapsed = overlap(0, m.minute);
    let remaining = overlap(m.minute, DAY);
    let limit = i64::from(limit);
    let rate = if elapsed > 0 {
        total as f64 / elapsed as f64
    } else {
        0.0
    };
    let projected_total = (total + (rate * remaining as f64).round() as i64).min(limit.max(total));
    let cap_reached = total >= limit;
    let cap_reached_at = if cap_reached || rate <= 0.0 {
        None
    } else {
        // Walk today's open minutes from now until the missing leads have come.
        let mut needed = (limit - total) as f64 / rate;
        let mut at = None;
        for &(o, c) in &today {
            let from = o.max(m.minute);
            if from >= c {
                continue;
            }
            let span = f64::from(c - from);
            if needed <= span {
                let minute_of_day = f64::from(from) + needed;
                let midnight = next_local_midnight(timezone, now) - i64::from(DAY) * 60_000;
                at = Some(midnight + (minute_of_day * 60_000.0) as i64);
                break;
            }
            needed -= span;
        }
        at
    };
    let open_now = today.iter().any(|&(o, c)| o <= m.minute && m.minute < c);
    let next_opening = match (open_now, hours) {
        (false, Some(h)) => next_opening(h, tz, now).map(|(t, _)| t),
        _ => None,
    };
    Pacing {
        projected_total,
        cap_reached,
        cap_reached_at,
        next_opening,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> EpochMillis {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn an_always_open_partner_keeps_its_pace_until_midnight() {
        // Noon in Berlin (CET, UTC+1), 10 leads so far: 10 more by midnight.
        let p = pace(None, "Europe/Berlin", 10, 50, at("2026-12-01T11:00:00Z"));
        assert_eq!(
            (
                p.projected_total,
                p.cap_reached,
                p.cap_reached_at,
                p.next_opening
            ),
            (20, false, None, None)
        );
    }

    #[test]
    fn a_partner_open_nine_to_six_reaches_its_cap_within_the_day_at_its_pace() {
        let hours = BusinessHours::from_json(&json!({"tue": ["09:00", "18:00"]})).unwrap();
        // Tuesday 13:00 in Berlin: 4 open hours so far.
        let now = at("2026-12-01T12:00:00Z");
        let slow = pace(Some(&hours), "Europe/Berlin", 20, 50, now);
        assert_eq!(
            (slow.projected_total, slow.cap_reached_at),
            (45, None),
            "20 in 4 h, 25 more in 5 h"
        );
        let fast = pace(Some(&hours), "Europe/Berlin", 40, 50, now);
        assert_eq!(fast.projected_total, 50, "never past the limit");
        assert_eq!(
            fast.cap_reached_at,
            Some(at("2026-12-01T13:00:00Z")),
            "10 more at 10 an hour: 14:00 Berlin"
        );
        let full = pace(Some(&hours), "Europe/Berlin", 50, 50, now);
        assert!(full.cap_reached && full.cap_reached_at.is_none());
    }

    #[test]
    fn a_closed_partner_says_when_it_opens() {
        let hours = BusinessHours::from_json(
            &json!({"tue": ["09:00", "18:00"], "wed": ["09:00", "18:00"]}),
        )
        .unwrap();
        // Tuesday 19:00 in Berlin: closed; opens Wednesday 09:00 (08:00 UTC).
        let p = pace(
            Some(&hours),
            "Europe/Berlin",
            30,
            50,
            at("2026-12-01T18:00:00Z"),
        );
        assert_eq!(p.next_opening, Some(at("2026-12-02T08:00:00Z")));
        assert_eq!(p.projected_total, 30, "no open time left today");
    }
}
