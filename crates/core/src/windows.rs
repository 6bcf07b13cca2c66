//! A partner's caps beside its daily limit (hourly, weekly, monthly, total) and its
//! budgets (daily, monthly), and the windows of its own clock they count in: what each
//! window is called in storage and when it ends (API.md "Partner rules").
//!
//! A window's key names it unambiguously: `h:2026-10-25T02+0200` and `h:2026-10-25T02+0100`
//! are the two different hours the clocks show twice on the day they go back.

use crate::clock::EpochMillis;
use crate::localtime::parse_tz;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;

/// Caps beside the daily limit; `None` is no cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caps {
    pub hourly: Option<u32>,
    pub weekly: Option<u32>,
    pub monthly: Option<u32>,
    pub total: Option<u32>,
}

/// Money a partner may be charged per day and per month, in cents (from `price_per_lead`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    pub daily: Option<i64>,
    pub monthly: Option<i64>,
}

impl Caps {
    /// As the API shows it: only the caps set (`{"hourly": 20}`).
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (k, v) in [
            ("hourly", self.hourly),
            ("weekly", self.weekly),
            ("monthly", self.monthly),
            ("total", self.total),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v.into());
            }
        }
        m.into()
    }
}

impl Budget {
    /// As the API shows it: only the budgets set, as amounts (`{"daily": 500.0}`).
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (k, v) in [("daily", self.daily), ("monthly", self.monthly)] {
            if let Some(v) = v {
                m.insert(k.into(), serde_json::json!(crate::money::Money(v)));
            }
        }
        m.into()
    }
}

/// A stretch of the partner's clock that a cap or budget counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    Hour,
    Day,
    Week,
    Month,
    Total,
}

impl Window {
    pub const ALL: [Window; 5] = [
        Window::Hour,
        Window::Day,
        Window::Week,
        Window::Month,
        Window::Total,
    ];

    /// As the API and the reasons say it: `hourly`, `daily`, `weekly`, `monthly`, `total`.
    pub fn word(self) -> &'static str {
        match self {
            Window::Hour => "hourly",
            Window::Day => "daily",
            Window::Week => "weekly",
            Window::Month => "monthly",
            Window::Total => "total",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The window's key at `at` in `timezone` (UTC if unknown).
    pub fn key(self, timezone: &str, at: EpochMillis) -> String {
        let local = local(timezone, at);
        match self {
            Window::Hour => format!("h:{}", local.format("%Y-%m-%dT%H%z")),
            Window::Day => format!("d:{}", local.format("%Y-%m-%d")),
            Window::Week => {
                let monday = local.date_naive()
                    - Duration::days(i64::from(local.weekday().num_days_from_monday()));
                format!("w:{}", monday.format("%Y-%m-%d"))
            }
            Window::Month => format!("m:{}", local.format("%Y-%m")),
            Window::Total => "t".into(),
        }
    }

    /// When the window holding `at` ends (the next one starts); never for the total.
    pub fn end(self, timezone: &str, at: EpochMillis) -> Option<EpochMillis> {
        let tz = parse_tz(timezone).unwrap_or(Tz::UTC);
        let local = local(timezone, at);
        let date = local.date_naive();
        let next_start = match self {
            Window::Hour => {
                // The local hour started `minute:second` ago, whatever the offset.
                let into = i64::from(local.minute() * 60 + local.second()) * 1000
                    + i64::from(local.timestamp_subsec_millis());
                return Some(at - into + 3_600_000);
            }
            Window::Day => date + Duration::days(1),
            Window::Week => {
                date + Duration::days(7 - i64::from(date.weekday().num_days_from_monday()))
            }
            Window::Month => {
                let (y, m) = if date.month() == 12 {
                    (date.year() + 1, 1)
                } else {
                    (date.year(), date.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1)?
            }
            Window::Total => return None,
        };
        start_of(tz, next_start)
    }
}

/// The first instant of a local date (midnight, or the first valid instant after a gap).
fn start_of(tz: Tz, date: NaiveDate) -> Option<EpochMillis> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    tz.from_local_datetime(&midnight)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(midnight + Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.timestamp_millis())
}

fn local(timezone: &str, at: EpochMillis) -> DateTime<Tz> {
    let tz = parse_tz(timezone).unwrap_or(Tz::UTC);
    DateTime::<Utc>::from_timestamp_millis(at)
        .unwrap_or_default()
        .with_timezone(&tz)
}

/// A partner's caps and budgets together: what it limits, in which windows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub caps: Caps,
    pub budget: Budget,
}

impl Limits {
    /// The cap in a window, if any (the daily limit is kept apart, as it always was).
    pub fn cap(&self, w: Window) -> Option<u32> {
        match w {
            Window::Hour => self.caps.hourly,
            Window::Week => self.caps.weekly,
            Window::Month => self.caps.monthly,
            Window::Total => self.caps.total,
            Window::Day => None,
        }
    }

    /// The budget in a window, in cents, if any.
    pub fn budget(&self, w: Window) -> Option<i64> {
        match w {
            Window::Day => self.budget.daily,
            Window::Month => self.budget.monthly,
            _ => None,
        }
    }

    /// The windows something is limited in, shortest first.
    pub fn windows(&self) -> impl Iterator<Item = Window> + '_ {
        Window::ALL
            .into_iter()
            .filter(|w| self.cap(*w).is_some() || self.budget(*w).is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.windows().next().is_none()
    }
}

/// One window a reservation counts in: its key now, and what guards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub window: Window,
    pub key: String,
    pub cap: Option<u32>,
    pub budget_cents: Option<i64>,
    /// The window's row is known to exist (saves making it).
    pub stored: bool,
}

/// The windows a lead given to a partner with `limits` at `at` counts in (none without
/// caps or budgets); `used`, when read at `at`, says which rows exist already.
pub fn charges(
    limits: &Limits,
    timezone: &str,
    at: EpochMillis,
    used: Option<&Used>,
) -> Vec<Charge> {
    limits
        .windows()
        .map(|w| Charge {
            window: w,
            key: w.key(timezone, at),
            cap: limits.cap(w),
            budget_cents: limits.budget(w),
            stored: used.is_some_and(|u| u.get(w).stored),
        })
        .collect()
}

/// The window a key names (`h:…` → hour).
pub fn window_of_key(key: &str) -> Option<Window> {
    match key.split(':').next()? {
        "h" => Some(Window::Hour),
        "d" => Some(Window::Day),
        "w" => Some(Window::Week),
        "m" => Some(Window::Month),
        "t" => Some(Window::Total),
        _ => None,
    }
}

/// What a window has taken: leads counted and money charged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Use {
    pub leads: i64,
    pub spent_cents: i64,
    /// Its row exists in storage (then a reservation need not make it).
    #[serde(skip)]
    pub stored: bool,
}

/// A partner's use of each of its windows at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Used([Use; 5]);

impl Used {
    pub fn get(&self, w: Window) -> Use {
        self.0[w.index()]
    }

    pub fn set(&mut self, w: Window, u: Use) {
        self.0[w.index()] = u;
    }

    /// Counts one lead at `price_cents` in every window.
    pub fn count(&mut self, price_cents: i64) {
        for u in &mut self.0 {
            u.leads += 1;
            u.spent_cents += price_cents;
        }
    }
}

/// What stops a partner from taking one more lead at `price_cents`: the first cap reached
/// (shortest window first), then the first budget it would pass.
pub fn first_limit(limits: &Limits, used: &Used, price_cents: i64) -> Option<Reached> {
    for w in limits.windows() {
        let u = used.get(w);
        if let Some(cap) = limits.cap(w) {
            if u.leads >= i64::from(cap) {
                return Some(Reached::Cap {
                    window: w,
                    count: u.leads,
                    cap,
                });
            }
        }
    }
    for w in limits.windows() {
        let u = used.get(w);
        if let Some(budget) = limits.budget(w) {
            if u.spent_cents + price_cents > budget {
                return Some(Reached::Budget {
                    window: w,
                    spent_cents: u.spent_cents,
                    budget_cents: budget,
                });
            }
        }
    }
    None
}

/// A cap or budget that is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    Cap {
        window: Window,
        count: i64,
        cap: u32,
    },
    Budget {
        window: Window,
        spent_cents: i64,
        budget_cents: i64,
    },
}

impl Reached {
    pub fn window(&self) -> Window {
        match self {
            Reached::Cap { window, .. } | Reached::Budget { window, .. } => *window,
        }
    }

    /// `hourly cap reached (10/10)`, `daily budget reached (500.00 spent of 500.00)`.
    pub fn reason(&self) -> String {
        match self {
            Reached::Cap { window, count, cap } => {
                format!("{} cap reached ({count}/{cap})", window.word())
            }
            Reached::Budget {
                window,
                spent_cents,
                budget_cents,
            } => format!(
                "{} budget reached ({} spent of {})",
                window.word(),
                amount(*spent_cents),
                amount(*budget_cents)
            ),
        }
    }

    /// The kind, as the held backlog counts it.
    pub fn kind(&self) -> &'static str {
        match self {
            Reached::Cap { window, .. } => match window {
                Window::Hour => "hourly cap reached",
                Window::Week => "weekly cap reached",
                Window::Month => "monthly cap reached",
                Window::Total | Window::Day => "total cap reached",
            },
            Reached::Budget { window, .. } => match window {
                Window::Month => "monthly budget reached",
                _ => "daily budget reached",
            },
        }
    }
}

/// One cap's or budget's use, as the partner page, the API and pacing show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// `hourly`, `daily`, `weekly`, `monthly`, `total`.
    pub window: &'static str,
    /// `cap` (leads) or `budget` (money).
    pub kind: &'static str,
    pub used: serde_json::Value,
    pub limit: serde_json::Value,
    /// Whether no further lead fits.
    pub reached: bool,
    /// When the window starts afresh (none for the total), RFC 3339.
    #[serde(serialize_with = "moment")]
    pub resets_at: Option<EpochMillis>,
    /// `3/10`, `125.00 of 500.00`.
    #[serde(skip)]
    pub text: String,
    /// `10`, `500.00`.
    #[serde(skip)]
    pub limit_text: String,
}

fn moment<S: serde::Serializer>(at: &Option<EpochMillis>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(t) => s.serialize_str(&crate::localtime::rfc3339(*t)),
        None => s.serialize_none(),
    }
}

impl Line {
    /// Whether it is at 80% or more of its limit (the overview's "near their cap").
    pub fn near(&self) -> bool {
        let (u, l) = (
            self.used.as_f64().unwrap_or(0.0),
            self.limit.as_f64().unwrap_or(0.0),
        );
        l > 0.0 && u >= 0.8 * l
    }
}

/// Each cap's and budget's use at `at`, shortest window first, caps before budgets.
pub fn lines(
    limits: &Limits,
    used: &Used,
    price_cents: i64,
    timezone: &str,
    at: EpochMillis,
) -> Vec<Line> {
    let mut out = Vec::new();
    for w in limits.windows() {
        if let Some(cap) = limits.cap(w) {
            let u = used.get(w).leads;
            out.push(Line {
                window: w.word(),
                kind: "cap",
                used: u.into(),
                limit: cap.into(),
                reached: u >= i64::from(cap),
                resets_at: w.end(timezone, at),
                text: format!("{u}/{cap}"),
                limit_text: cap.to_string(),
            });
        }
    }
    for w in limits.windows() {
        if let Some(budget) = limits.budget(w) {
            let u = used.get(w).spent_cents;
            out.push(Line {
                window: w.word(),
                kind: "budget",
                used: serde_json::json!(crate::money::Money(u)),
                limit: serde_json::json!(crate::money::Money(budget)),
                reached: u + price_cents > budget,
                resets_at: w.end(timezone, at),
                text: format!("{} of {}", amount(u), amount(budget)),
                limit_text: amount(budget),
            });
        }
    }
    out
}

pub use crate::money::two_places as amount;

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> EpochMillis {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn each_window_starts_and_ends_in_the_partners_own_clock() {
        let at = t("2026-12-06T22:30:00Z"); // Sunday 23:30 in Berlin, Monday 07:30 in Tokyo
        assert_eq!(
            Window::Hour.key("Europe/Berlin", at),
            "h:2026-12-06T23+0100"
        );
        assert_eq!(Window::Day.key("Europe/Berlin", at), "d:2026-12-06");
        assert_eq!(Window::Week.key("Europe/Berlin", at), "w:2026-11-30");
        assert_eq!(Window::Week.key("Asia/Tokyo", at), "w:2026-12-07");
        assert_eq!(Window::Month.key("Europe/Berlin", at), "m:2026-12");
        assert_eq!(Window::Total.key("Europe/Berlin", at), "t");
        assert_eq!(
            Window::Hour.end("Europe/Berlin", at),
            Some(t("2026-12-06T23:00:00Z"))
        );
        // The week ends at Monday 00:00 Berlin time, the month at 1 January 00:00.
        assert_eq!(
            Window::Week.end("Europe/Berlin", at),
            Some(t("2026-12-06T23:00:00Z"))
        );
        assert_eq!(
            Window::Month.end("Europe/Berlin", at),
            Some(t("2026-12-31T23:00:00Z"))
        );
        assert_eq!(Window::Total.end("Europe/Berlin", at), None);
        // Half-hour offsets: Kolkata's hour starts at :30 UTC.
        assert_eq!(
            Window::Hour.end("Asia/Kolkata", t("2026-12-06T10:40:00Z")),
            Some(t("2026-12-06T11:30:00Z"))
        );
    }

    #[test]
    fn the_hour_the_clocks_show_twice_is_two_hours() {
        // 25 October 2026, Berlin: 02:00–03:00 happens at +02:00 and again at +01:00.
        let first = t("2026-10-25T00:30:00Z");
        let second = t("2026-10-25T01:30:00Z");
        assert_eq!(
            Window::Hour.key("Europe/Berlin", first),
            "h:2026-10-25T02+0200"
        );
        assert_eq!(
            Window::Hour.key("Europe/Berlin", second),
            "h:2026-10-25T02+0100"
        );
        assert_eq!(
            Window::Hour.end("Europe/Berlin", first),
            Some(t("2026-10-25T01:00:00Z"))
        );
        // That day has 25 hours: it ends at 23:00 UTC.
        assert_eq!(
            Window::Day.end("Europe/Berlin", first),
            Some(t("2026-10-25T23:00:00Z"))
        );
    }

    #[test]
    fn the_first_full_limit_is_named_with_its_use() {
        let limits = Limits {
            caps: Caps {
                hourly: Some(10),
                total: Some(100),
                ..Caps::default()
            },
            budget: Budget {
                daily: Some(50_000),
                ..Budget::default()
            },
        };
        let mut used = Used::default();
        used.set(
            Window::Hour,
            Use {
                leads: 9,
                ..Use::default()
            },
        );
        used.set(
            Window::Day,
            Use {
                leads: 9,
                spent_cents: 47_500,
                stored: true,
            },
        );
        assert_eq!(first_limit(&limits, &used, 2_500), None);
        let full = first_limit(&limits, &used, 2_501).unwrap();
        assert_eq!(
            full.reason(),
            "daily budget reached (475.00 spent of 500.00)"
        );
        used.count(2_500);
        assert_eq!(
            first_limit(&limits, &used, 2_500).unwrap().reason(),
            "hourly cap reached (10/10)"
        );
        used.set(Window::Hour, Use::default());
        assert_eq!(
            first_limit(&limits, &used, 2_500).unwrap().reason(),
            "daily budget reached (500.00 spent of 500.00)"
        );
        assert!(Limits::default().is_empty());
        assert_eq!(
            limits.windows().collect::<Vec<_>>(),
            vec![Window::Hour, Window::Day, Window::Total]
        );
    }
}
