//! Times as a person reads them: in the operator's timezone (or a partner's), with the
//! zone's abbreviation.

use chrono::{DateTime, Utc};
use leadrouter_core::clock::EpochMillis;

/// `2026-12-01 14:05:09 CET`; the instant in UTC if the zone is unknown.
pub(crate) fn local(at: EpochMillis, timezone: &str) -> String {
    let Some(utc) = DateTime::<Utc>::from_timestamp_millis(at) else {
        return String::new();
    };
    match timezone.parse::<chrono_tz::Tz>() {
        Ok(tz) => utc
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S %Z")
            .to_string(),
        Err(_) => utc.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    }
}

/// How long before `now` an instant was, as a person says it: "just now", "4 min ago",
/// "3 h 5 min ago", "2 days ago".
pub(crate) fn ago(at: EpochMillis, now: EpochMillis) -> String {
    let minutes = (now - at).max(0) / 60_000;
    match minutes {
        0 => "just now".into(),
        1..=59 => format!("{minutes} min ago"),
        60..=1439 if minutes % 60 == 0 => format!("{} h ago", minutes / 60),
        60..=1439 => format!("{} h {} min ago", minutes / 60, minutes % 60),
        _ if minutes < 2 * 1440 => "1 day ago".into(),
        _ => format!("{} days ago", minutes / 1440),
    }
}

pub(crate) fn local_opt(at: Option<EpochMillis>, timezone: &str) -> String {
    at.map_or_else(String::new, |t| local(t, timezone))
}

/// Local midnight today in `timezone`, as an instant.
pub(crate) fn start_of_day(now: EpochMillis, timezone: &str) -> EpochMillis {
    let tz = timezone.parse::<chrono_tz::Tz>().unwrap_or(chrono_tz::UTC);
    let Some(utc) = DateTime::<Utc>::from_timestamp_millis(now) else {
        return now;
    };
    let date = utc.with_timezone(&tz).date_naive();
    date.and_hms_opt(0, 0, 0)
        .and_then(|m| m.and_local_timezone(tz).earliest())
        .map_or(now, |t| t.timestamp_millis())
}

/// The instant a `YYYY-MM-DD` date begins in `timezone` (for date filters).
pub(crate) fn date_start(date: &str, timezone: &str) -> Option<EpochMillis> {
    let tz = timezone.parse::<chrono_tz::Tz>().unwrap_or(chrono_tz::UTC);
    let d = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    d.and_hms_opt(0, 0, 0)?
        .and_local_timezone(tz)
        .earliest()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_in_the_operators_zone() {
        // 2026-12-01 13:05:09 UTC
        let t = 1_796_130_309_000;
        assert_eq!(local(t, "Europe/Berlin"), "2026-12-01 14:05:09 CET");
        assert_eq!(local(t, "UTC"), "2026-12-01 13:05:09 UTC");
        assert_eq!(local(t, "nowhere"), "2026-12-01 13:05:09 UTC");
        assert_eq!(
            start_of_day(t, "Europe/Berlin"),
            date_start("2026-12-01", "Europe/Berlin").unwrap()
        );
        assert_eq!(date_start("2026-12-01", "UTC"), Some(1_796_083_200_000));
    }

    #[test]
    fn ago_reads_as_a_person_says_it() {
        let m = 60_000;
        assert_eq!(super::ago(0, 30_000), "just now");
        assert_eq!(super::ago(0, 4 * m), "4 min ago");
        assert_eq!(super::ago(0, 185 * m), "3 h 5 min ago");
        assert_eq!(super::ago(0, 120 * m), "2 h ago");
        assert_eq!(super::ago(0, 1500 * m), "1 day ago");
        assert_eq!(super::ago(0, 3 * 1440 * m), "3 days ago");
    }
}
