//! Conversions partners report back, money as exact cents, and quality scores.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConversionType {
    Qualified,
    Demo,
    Deposit,
    Sale,
}

impl ConversionType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "qualified" => ConversionType::Qualified,
            "demo" => ConversionType::Demo,
            "deposit" => ConversionType::Deposit,
            "sale" => ConversionType::Sale,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConversionType::Qualified => "qualified",
            ConversionType::Demo => "demo",
            ConversionType::Deposit => "deposit",
            ConversionType::Sale => "sale",
        }
    }

    /// qualified 25, demo 50, deposit 75, sale 100.
    pub fn quality_score(self) -> i64 {
        match self {
            ConversionType::Qualified => 25,
            ConversionType::Demo => 50,
            ConversionType::Deposit => 75,
            ConversionType::Sale => 100,
        }
    }
}

/// The quality score of a lead: that of the highest conversion type reached (0 for none).
pub fn quality_score<'a>(types: impl IntoIterator<Item = &'a str>) -> i64 {
    types
        .into_iter()
        .filter_map(ConversionType::parse)
        .map(ConversionType::quality_score)
        .max()
        .unwrap_or(0)
}

/// Largest amount accepted: ten billion in the currency's unit.
const MAX_CENTS: i64 = 1_000_000_000_000;

/// Parses money written as a JSON number or text (`199.99`, `"1,250.50"` is refused: a
/// decimal point and at most two decimals) into exact cents.
pub fn parse_money(v: &Value) -> Result<i64, String> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        Value::Null => return Ok(0),
        _ => return Err("must be a decimal amount such as 199.99".into()),
    };
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if text.starts_with('-') {
        return Err("must not be negative".into());
    }
    if !digits(whole) || !(frac.is_empty() || digits(frac)) {
        return Err("must be a decimal amount such as 199.99".into());
    }
    if frac.len() > 2 {
        return Err("must have at most two decimal places".into());
    }
    let cents = whole
        .parse::<i64>()
        .ok()
        .and_then(|w| w.checked_mul(100))
        .and_then(|w| w.checked_add(format!("{frac:0<2}").parse::<i64>().ok()?))
        .filter(|c| *c <= MAX_CENTS)
        .ok_or("is too large")?;
    Ok(cents)
}

/// A validated conversion report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionReport {
    pub lead_id: i64,
    pub conversion_type: ConversionType,
    pub value_cents: i64,
    pub external_transaction_id: String,
    pub metadata: Option<Value>,
}

fn lead_id(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|id| *id > 0)
}

/// The report's `lead_id`, or an error saying it is required.
pub(crate) fn required_lead_id(
    body: &Map<String, Value>,
    errors: &mut BTreeMap<String, String>,
) -> Option<i64> {
    let id = lead_id(body.get("lead_id"));
    if id.is_none() {
        errors.insert(
            "lead_id".into(),
            "is required (the lead_id we sent you, or your own id for it as partner_lead_id)"
                .into(),
        );
    }
    id
}

/// `POST /api/conversion/{partner}`: `{"lead_id", "conversion_type", "conversion_value",
/// "external_transaction_id", "metadata"?}`.
pub fn validate_conversion(
    body: &Map<String, Value>,
) -> Result<ConversionReport, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let id = required_lead_id(body, &mut errors);
    let kind = body
        .get("conversion_type")
        .and_then(Value::as_str)
        .and_then(ConversionType::parse);
    if kind.is_none() {
        errors.insert(
            "conversion_type".into(),
            "must be one of: qualified, demo, deposit, sale".into(),
        );
    }
    let value = parse_money(body.get("conversion_value").unwrap_or(&Value::Null))
        .map_err(|e| errors.insert("conversion_value".into(), e))
        .ok();
    let txn = match body.get("external_transaction_id") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 200 => {
            Some(s.trim().to_string())
        }
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => {
            errors.insert(
                "external_transaction_id".into(),
                "is required (your unique id for this conversion)".into(),
            );
            None
        }
    };
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) => None,
        Some(m @ Value::Object(_)) if m.to_string().len() <= 8 * 1024 => Some(m.clone()),
        Some(_) => {
            errors.insert(
                "metadata".into(),
                "must be an object of at most 8 KiB".into(),
            );
            None
        }
    };
    match (id, kind, value, txn) {
        (
            Some(lead_id),
            Some(conversion_type),
            Some(value_cents),
            Some(external_transaction_id),
        ) if errors.is_empty() => Ok(ConversionReport {
            lead_id,
            conversion_type,
            value_cents,
            external_transaction_id,
            metadata,
        }),
        _ => Err(errors),
    }
}

/// The legacy `POST /api/postback/{partner}`: `{"lead_id", "status": "converted", "value",
/// "data"?}`. A `converted` postback is recorded as a `sale`; its transaction id is the
/// body's `transaction_id` (or `external_transaction_id`) when given, else one per lead
/// and status, so that repeats stay idempotent.
pub fn validate_postback(
    body: &Map<String, Value>,
) -> Result<ConversionReport, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let id = required_lead_id(body, &mut errors);
    let status = body
        .get("status")
        .and_then(Value::as_str)
        .map(|s| s.trim().to_ascii_lowercase());
    let kind = match status.as_deref() {
        Some("converted") => Some(ConversionType::Sale),
        Some(other) => ConversionType::parse(other).or_else(|| {
            errors.insert(
                "status".into(),
                "must be \"converted\" (or a conversion type)".into(),
            );
            None
        }),
        None => {
            errors.insert("status".into(), "is required (\"converted\")".into());
            None
        }
    };
    let value = parse_money(body.get("value").unwrap_or(&Value::Null))
        .map_err(|e| errors.insert("value".into(), e))
        .ok();
    let txn = body
        .get("transaction_id")
        .or_else(|| body.get("external_transaction_id"))
        .and_then(|v| match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    let metadata = body.get("data").filter(|d| !d.is_null()).cloned();
    match (id, kind, value) {
        (Some(lead_id), Some(conversion_type), Some(value_cents)) if errors.is_empty() => {
            Ok(ConversionReport {
                lead_id,
                conversion_type,
                value_cents,
                external_transaction_id: txn.unwrap_or_else(|| {
                    format!("postback:{lead_id}:{}", status.unwrap_or_default())
                }),
                metadata,
            })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_is_exact_cents() {
        for (v, cents) in [
            (json!(199.99), 19999),
            (json!("199.99"), 19999),
            (json!(0.1), 10),
            (json!(250), 25000),
            (json!("1000000.05"), 100000005),
            (json!(null), 0),
            (json!(0.3), 30),
        ] {
            assert_eq!(parse_money(&v), Ok(cents), "{v}");
        }
        for v in [
            json!(-5),
            json!("1,250.50"),
            json!(1.999),
            json!("abc"),
            json!(true),
            json!(1e13),
        ] {
            assert!(parse_money(&v).is_err(), "{v}");
        }
    }

    #[test]
    fn the_highest_type_reached_sets_the_score() {
        assert_eq!(quality_score(["qualified", "deposit", "demo"]), 75);
        assert_eq!(quality_score(["sale"]), 100);
        assert_eq!(quality_score([] as [&str; 0]), 0);
    }

    #[test]
    fn conversions_are_validated_field_by_field() {
        let ok = validate_conversion(
            json!({"lead_id": "12", "conversion_type": "Deposit",
            "conversion_value": 250.5, "external_transaction_id": "tx-1"})
            .as_object()
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            (ok.lead_id, ok.conversion_type, ok.value_cents),
            (12, ConversionType::Deposit, 25050)
        );
        let e = validate_conversion(
            json!({"conversion_type": "lunch", "conversion_value": -1,
            "metadata": 5})
            .as_object()
            .unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            e.keys().collect::<Vec<_>>(),
            [
                "conversion_type",
                "conversion_value",
                "external_transaction_id",
                "lead_id",
                "metadata"
            ]
        );
    }

    #[test]
    fn legacy_postbacks_become_sales_with_a_stable_transaction_id() {
        let p = validate_postback(
            json!({"lead_id": 7, "status": "converted", "value": "99.90"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            (
                p.conversion_type,
                p.value_cents,
                p.external_transaction_id.as_str()
            ),
            (ConversionType::Sale, 9990, "postback:7:converted")
        );
        assert!(validate_postback(
            json!({"lead_id": 7, "status": "maybe"})
                .as_object()
                .unwrap()
        )
        .is_err());
    }
}
