//! Partner-local calendar: a partner's "today" is its own local date, so each partner's
//! daily count starts fresh at its own midnight.

use crate::clock::EpochMillis;
use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

/// Local wall-clock facts for one instant in one timezone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMoment {
    /// `YYYY-MM-DD`
    pub date: String,
    /// 0 = Monday.
    pub weekday: usize,
    /// Minutes since local midnight.
    pub minute: u16,
}

pub fn parse_tz(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

pub fn local_moment(tz: Tz, at: EpochMillis) -> LocalMoment {
    let utc = DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default();
    let local = utc.with_timezone(&tz);
    LocalMoment {
        date: local.format("%Y-%m-%d").to_string(),
        weekday: local.weekday().num_days_from_monday() as usize,
        minute: (local.hour() * 60 + local.minute()) as u16,
    }
}

/// The partner-local date at `at`; UTC if the timezone name is unknown.
pub fn local_date(timezone: &str, at: EpochMillis) -> String {
    local_moment(parse_tz(timezone).unwrap_or(Tz::UTC), at).date
}

/// The daily summary's moment: from 08:00 partner-local on, the local date it is sent on
/// and the day before, which it is about. `None` before 08:00.
pub fn summary_due(timezone: &str, at: EpochMillis) -> Option<(String, String)> {
    let m = local_moment(parse_tz(timezone).unwrap_or(Tz::UTC), at);
    if m.minute < 8 * 60 {
        return None;
    }
    let day = chrono::NaiveDate::parse_from_str(&m.date, "%Y-%m-%d").ok()?;
    let before = day.pred_opt()?.format("%Y-%m-%d").to_string();
    Some((m.date, before))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_due_from_eight_in_the_partners_morning_whatever_the_offset() {
        // Berlin summer time (UTC+2): 05:59 UTC is 07:59, 06:00 UTC is 08:00.
        let t = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_millis()
        };
        assert_eq!(
            summary_due("Europe/Berlin", t("2026-10-24T05:59:00Z")),
            None
        );
        assert_eq!(
            summary_due("Europe/Berlin", t("2026-10-24T06:00:00Z")),
            Some(("2026-10-24".into(), "2026-10-23".into()))
        );
        // The clocks go back on 25 October: 08:00 is now 07:00 UTC.
        assert_eq!(
            summary_due("Europe/Berlin", t("2026-10-26T06:30:00Z")),
            None
        );
        assert_eq!(
            summary_due("Europe/Berlin", t("2026-10-26T07:00:00Z")),
            Some(("2026-10-26".into(), "2026-10-25".into()))
        );
    }

    // 2026-11-24T23:30:00Z
    const LATE_TUESDAY_UTC: EpochMillis = 1_795_563_000_000;

    #[test]
    fn each_partner_has_its_own_today() {
        assert_eq!(local_date("UTC", LATE_TUESDAY_UTC), "2026-11-24");
        assert_eq!(local_date("Europe/Berlin", LATE_TUESDAY_UTC), "2026-11-25");
        assert_eq!(
            local_date("America/Toronto", LATE_TUESDAY_UTC),
            "2026-11-24"
        );
        let berlin = local_moment(parse_tz("Europe/Berlin").unwrap(), LATE_TUESDAY_UTC);
        assert_eq!((berlin.weekday, berlin.minute), (2, 30), "Wednesday 00:30");
    }
}

/// RFC 3339 in UTC with milliseconds, e.g. `2025-09-23T22:55:13.207Z`.
pub fn rfc3339(at: EpochMillis) -> String {
    DateTime::<Utc>::from_timestamp_millis(at)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod format_tests {
    #[test]
    fn rfc3339_is_utc_with_milliseconds() {
        assert_eq!(
            super::rfc3339(1_758_668_113_207),
            "2025-09-23T22:55:13.207Z"
        );
    }
}

/// The first instant (UTC) of a `YYYY-MM-DD` day.
pub fn day_start_utc(day: &str) -> Option<EpochMillis> {
    let d = chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

#[cfg(test)]
mod day_tests {
    #[test]
    fn days_start_at_utc_midnight() {
        assert_eq!(super::day_start_utc("2025-09-23"), Some(1_758_585_600_000));
        assert_eq!(super::day_start_utc("2025-02-30"), None);
        assert_eq!(super::day_start_utc("yesterday"), None);
    }
}
