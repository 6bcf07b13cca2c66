//! A partner's filters (API.md "Partner rules"): conditions on any lead field, custom field
//! or derived field (`email_domain`, `phone_type`, `phone_country`) that must all hold for
//! the partner to be offered the lead. Each unmet one is a reason naming the field, the rule
//! and the lead's value.

use crate::lead::{lead_field_value, LeadFacts};
use crate::status::text_enum;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The most filters a partner may have.
const MAX_FILTERS: usize = 50;

text_enum!(
    /// How a filter compares.
    FilterOp {
        Eq => "eq",
        Ne => "ne",
        In => "in",
        NotIn => "not_in",
        Gt => "gt",
        Gte => "gte",
        Lt => "lt",
        Lte => "lte",
        Contains => "contains",
        NotContains => "not_contains",
        StartsWith => "starts_with",
        EndsWith => "ends_with",
        Exists => "exists",
        NotExists => "not_exists",
    }
);

/// One condition: `field op value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: String,
    pub op: FilterOp,
    /// None for `exists` / `not_exists`; a list for `in` / `not_in`; a number for the
    /// comparisons; text otherwise.
    pub value: Option<Value>,
}

/// The lead's value of `field`, derived fields included, as text.
fn value_of(lead: &LeadFacts<'_>, field: &str) -> Option<String> {
    let text = |v: Value| match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match field {
        "email_domain" => lead
            .email
            .and_then(|e| e.rsplit_once('@'))
            .map(|(_, d)| d.to_lowercase()),
        "phone_type" => lead
            .phone
            .map(|p| crate::phone::kind_and_country(p).0.to_string()),
        "phone_country" => lead.phone.and_then(|p| crate::phone::kind_and_country(p).1),
        "source_id" => lead.source_id.map(|id| id.to_string()),
        _ => lead_field_value(lead, field).and_then(text),
    }
    .filter(|s| !s.trim().is_empty())
}

fn number(s: &str) -> Option<f64> {
    s.trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Filter {
    /// Whether the lead meets it.
    pub fn holds(&self, lead: &LeadFacts<'_>) -> bool {
        let have = value_of(lead, &self.field);
        let Some(have) = have else {
            return self.op == FilterOp::NotExists;
        };
        let lower = have.to_lowercase();
        let want = self.value.as_ref();
        let want_text = || want.map(text_of).unwrap_or_default().to_lowercase();
        let list = || -> Vec<String> {
            want.and_then(Value::as_array)
                .map(|a| a.iter().map(|v| text_of(v).to_lowercase()).collect())
                .unwrap_or_default()
        };
        let compare = |ok: fn(f64, f64) -> bool| match (
            number(&have),
            want.and_then(|v| number(&text_of(v))),
        ) {
            (Some(a), Some(b)) => ok(a, b),
            _ => false,
        };
        match self.op {
            FilterOp::Eq => lower == want_text(),
            FilterOp::Ne => lower != want_text(),
            FilterOp::In => list().contains(&lower),
            FilterOp::NotIn => !list().contains(&lower),
            FilterOp::Gt => compare(|a, b| a > b),
            FilterOp::Gte => compare(|a, b| a >= b),
            FilterOp::Lt => compare(|a, b| a < b),
            FilterOp::Lte => compare(|a, b| a <= b),
            FilterOp::Contains => lower.contains(&want_text()),
            FilterOp::NotContains => !lower.contains(&want_text()),
            FilterOp::StartsWith => lower.starts_with(&want_text()),
            FilterOp::EndsWith => lower.ends_with(&want_text()),
            FilterOp::Exists => true,
            FilterOp::NotExists => false,
        }
    }

    /// The reason when unmet: `filter: amount_lost gte 1000 (lead has 500)`.
    pub fn reason(&self, lead: &LeadFacts<'_>) -> String {
        let rule = match &self.value {
            None => format!("{} {}", self.field, self.op),
            Some(Value::Array(items)) => format!(
                "{} {} {}",
                self.field,
                self.op,
                items.iter().map(text_of).collect::<Vec<_>>().join(", ")
            ),
            Some(v) => format!("{} {} {}", self.field, self.op, text_of(v)),
        };
        match value_of(lead, &self.field) {
            Some(v) => format!("filter: {rule} (lead has {v})"),
            None => format!("filter: {rule} (lead has none)"),
        }
    }
}

/// The first filter the lead does not meet, as its reason.
pub fn unmet(filters: &[Filter], lead: &LeadFacts<'_>) -> Option<String> {
    filters
        .iter()
        .find(|f| !f.holds(lead))
        .map(|f| f.reason(lead))
}

/// The `filters` setting from its JSON, or each problem keyed `filters[N].field|op|value`.
pub fn parse_filters(v: &Value) -> Result<Vec<Filter>, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(a) if a.len() > MAX_FILTERS => {
            errors.insert(
                "filters".into(),
                format!("may hold at most {MAX_FILTERS} filters"),
            );
            return Err(errors);
        }
        Value::Array(a) => a,
        _ => {
            errors.insert(
                "filters".into(),
                "must be a list of {\"field\", \"op\", \"value\"}".into(),
            );
            return Err(errors);
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = |part: &str| format!("filters[{i}].{part}");
        let Some(obj) = item.as_object() else {
            errors.insert(
                format!("filters[{i}]"),
                "must be {\"field\", \"op\", \"value\"}".into(),
            );
            continue;
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !["field", "op", "value"].contains(&k.as_str()))
        {
            errors.insert(at(k), "is not part of a filter (field, op, value)".into());
        }
        let field = obj
            .get("field")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|f| !f.is_empty() && f.len() <= 100);
        if field.is_none() {
            errors.insert(at("field"), "is required: a lead field, a custom field's name, email_domain, phone_type or phone_country".into());
        }
        let op = obj
            .get("op")
            .and_then(Value::as_str)
            .and_then(|o| FilterOp::parse(o.trim()));
        let Some(op) = op else {
            errors.insert(at("op"), "must be one of: eq, ne, in, not_in, gt, gte, lt, lte, contains, not_contains, starts_with, ends_with, exists, not_exists".into());
            continue;
        };
        let value = obj.get("value").filter(|v| !v.is_null());
        let problem = match (op, value) {
            (FilterOp::Exists | FilterOp::NotExists, None) => None,
            (FilterOp::Exists | FilterOp::NotExists, Some(_)) => Some("takes no value"),
            (FilterOp::In | FilterOp::NotIn, Some(Value::Array(a)))
                if !a.is_empty() && a.iter().all(|v| v.is_string() || v.is_number()) =>
            {
                None
            }
            (FilterOp::In | FilterOp::NotIn, _) => Some("must be a list of values"),
            (FilterOp::Gt | FilterOp::Gte | FilterOp::Lt | FilterOp::Lte, Some(v))
                if number(&text_of(v)).is_some() =>
            {
                None
            }
            (FilterOp::Gt | FilterOp::Gte | FilterOp::Lt | FilterOp::Lte, _) => {
                Some("must be a number")
            }
            (_, Some(Value::String(s))) if !s.is_empty() => None,
            (_, Some(Value::Number(_) | Value::Bool(_))) => None,
            (_, _) => Some("must be some text"),
        };
        if let Some(p) = problem {
            errors.insert(at("value"), p.into());
        }
        if let (Some(field), None) = (field, problem) {
            out.push(Filter {
                field: field.to_string(),
                op,
                value: value.cloned(),
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

impl Serialize for Filter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("field", &self.field)?;
        map.serialize_entry("op", &self.op)?;
        if let Some(v) = &self.value {
            map.serialize_entry("value", v)?;
        }
        map.end()
    }
}

/// The filters as a JSON value (what a partner's row keeps).
pub fn filters_json(filters: &[Filter]) -> Value {
    Value::Array(
        filters
            .iter()
            .map(|f| serde_json::to_value(f).unwrap_or(Value::Object(Map::new())))
            .collect(),
    )
}

#[cfg(test)]
mod tests;
