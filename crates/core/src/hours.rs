//! Business hours: per weekday, zero or more `[open, close)` windows in the partner's local
//! time. No schedule at all means always open; a day left out means closed that day.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::fmt;

pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Minutes since local midnight, 0..=1440.
pub type Minute = u16;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BusinessHours {
    /// Monday first; windows sorted and non-overlapping.
    pub days: [Vec<(Minute, Minute)>; 7],
}

fn parse_time(s: &str) -> Option<Minute> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// `09:00`, `24:00`.
pub fn format_time(m: Minute) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn parse_window(v: &Value) -> Result<(Minute, Minute), String> {
    let pair = v
        .as_array()
        .filter(|a| a.len() == 2)
        .ok_or("each window must be [\"HH:MM\", \"HH:MM\"]")?;
    let t = |i: usize| {
        pair[i]
            .as_str()
            .and_then(parse_time)
            .ok_or_else(|| format!("{} is not a time HH:MM (00:00 to 24:00)", pair[i]))
    };
    let (open, close) = (t(0)?, t(1)?);
    if open >= close {
        return Err(format!(
            "closes ({}) before it opens ({}); split overnight hours over two days",
            format_time(close),
            format_time(open)
        ));
    }
    Ok((open, close))
}

impl BusinessHours {
    /// Parses `{"mon": ["09:00", "18:00"], "sat": [["10:00","12:00"],["14:00","16:00"]]}`.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let obj = v
            .as_object()
            .ok_or("must be an object of days, e.g. {\"mon\": [\"09:00\", \"18:00\"]}")?;
        let mut hours = BusinessHours::default();
        for (key, value) in obj {
            let day = key.trim().to_ascii_lowercase();
            let Some(i) = (0..7).find(|&i| day == DAYS[i] || day == DAY_NAMES[i]) else {
                return Err(format!(
                    "unknown day \"{key}\" (use mon, tue, wed, thu, fri, sat, sun)"
                ));
            };
            let windows = match value {
                Value::Null => vec![],
                Value::Array(a) if a.is_empty() => vec![],
                Value::Array(a) if a.iter().all(Value::is_string) => {
                    vec![parse_window(value).map_err(|e| format!("{key}: {e}"))?]
                }
                Value::Array(a) => a
                    .iter()
                    .map(|w| parse_window(w).map_err(|e| format!("{key}: {e}")))
                    .collect::<Result<Vec<_>, _>>()?,
                _ => return Err(format!("{key}: must be [\"HH:MM\", \"HH:MM\"] or null")),
            };
            let mut windows = windows;
            windows.sort_unstable();
            if windows.windows(2).any(|w| w[0].1 > w[1].0) {
                return Err(format!("{key}: windows overlap"));
            }
            hours.days[i] = windows;
        }
        Ok(hours)
    }

    pub fn is_never_open(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }

    /// Whether `minute` of weekday `day` (0 = Monday) is inside a window.
    pub fn is_open(&self, day: usize, minute: Minute) -> bool {
        self.days[day % 7]
            .iter()
            .any(|&(o, c)| o <= minute && minute < c)
    }
}

/// The shape it was given in: one window as a pair, several as a list of pairs; days
/// without a window left out.
impl Serialize for BusinessHours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let open = self.days.iter().filter(|w| !w.is_empty()).count();
        let mut map = s.serialize_map(Some(open))?;
        for (i, windows) in self.days.iter().enumerate() {
            let pairs: Vec<[String; 2]> = windows
                .iter()
                .map(|&(o, c)| [format_time(o), format_time(c)])
                .collect();
            match pairs.as_slice() {
                [] => {}
                [one] => map.serialize_entry(DAYS[i], one)?,
                _ => map.serialize_entry(DAYS[i], &pairs)?,
            }
        }
        map.end()
    }
}

impl fmt::Display for BusinessHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::write_json(f, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn guide_shape_round_trips() {
        let v = json!({"mon": ["09:00", "18:00"], "tue": ["09:00", "18:00"]});
        let h = BusinessHours::from_json(&v).unwrap();
        assert_eq!(json!(h), v);
        assert!(h.is_open(0, 9 * 60));
        assert!(h.is_open(0, 18 * 60 - 1));
        assert!(!h.is_open(0, 18 * 60), "close is exclusive");
        assert!(!h.is_open(0, 9 * 60 - 1));
        assert!(!h.is_open(2, 12 * 60), "a missing day is closed");
    }

    #[test]
    fn several_windows_and_full_days() {
        let v = json!({"sat": [["14:00", "16:00"], ["10:00", "12:00"]], "sun": ["00:00", "24:00"], "fri": null});
        let h = BusinessHours::from_json(&v).unwrap();
        assert_eq!(h.days[5], vec![(600, 720), (840, 960)]);
        assert!(h.is_open(6, 0) && h.is_open(6, 1439));
        assert_eq!(
            json!(h),
            json!({"sat": [["10:00", "12:00"], ["14:00", "16:00"]], "sun": ["00:00", "24:00"]})
        );
    }

    #[test]
    fn malformed_hours_say_what_is_wrong() {
        let err = |v: Value| BusinessHours::from_json(&v).unwrap_err();
        assert!(err(json!({"monday2": ["09:00", "18:00"]})).starts_with("unknown day"));
        assert!(err(json!({"xyz": ["09:00", "18:00"]})).starts_with("unknown day"));
        assert!(err(json!({"mon": ["18:00", "09:00"]})).contains("split overnight"));
        assert!(err(json!({"mon": ["9am", "18:00"]})).contains("not a time"));
        assert!(err(json!({"mon": ["09:00", "24:30"]})).contains("not a time"));
        assert!(err(json!({"mon": "09:00-18:00"})).contains("must be"));
        assert!(err(json!({"mon": [["09:00", "13:00"], ["12:00", "18:00"]]})).contains("overlap"));
        assert!(err(json!(["09:00", "18:00"])).contains("object of days"));
    }

    #[test]
    fn full_day_names_are_understood() {
        let h = BusinessHours::from_json(&json!({"Monday": ["9:00", "17:30"]})).unwrap();
        assert_eq!(h.days[0], vec![(540, 1050)]);
    }
}
