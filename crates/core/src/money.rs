//! An amount of money, kept in cents and shown as a decimal number (19999 → 199.99), the
//! way API.md writes prices, conversion values, revenue and cost.

use serde::{Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(pub i64);

impl Money {
    pub fn cents(cents: i64) -> Money {
        Money(cents)
    }

    /// The amount as the nearest binary number to its decimal value (exact to the cent
    /// for every amount the API accepts).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

/// Cents as a decimal amount with two places: `50000` → `500.00`, `-50` → `-0.50`.
pub fn two_places(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        cents.unsigned_abs() / 100,
        cents.unsigned_abs() % 100
    )
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::write_json(f, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn cents_read_as_a_decimal_number() {
        assert_eq!(json!(Money(19999)), json!(199.99));
        assert_eq!(json!(Money(5)), json!(0.05));
        assert_eq!(json!(Money(-250)), json!(-2.5));
        assert_eq!(
            Money(25000).to_string(),
            "250.00".parse::<Value>().unwrap().to_string()
        );
        // Every cent amount up to the largest accepted reads back as the same decimal.
        for cents in [
            1,
            10,
            99,
            101,
            123_456_789,
            999_999_999_999,
            1_000_000_000_000,
        ] {
            let text = Money(cents).to_string();
            let back: f64 = text.parse().unwrap();
            assert_eq!((back * 100.0).round() as i64, cents, "{text}");
            let decimal = format!("{}.{:02}", cents / 100, cents % 100);
            assert_eq!(
                text.parse::<f64>().unwrap(),
                decimal.parse::<f64>().unwrap()
            );
        }
    }
}
