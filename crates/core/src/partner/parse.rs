//! Each partner setting as people write it, checked and normalized: one function a field.

use super::MAX_DAILY_LIMIT;
use serde_json::Value;
use std::collections::BTreeMap;

pub(super) fn parse_bool(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" | "" => Ok(false),
            _ => Err("must be true or false".into()),
        },
        _ => Err("must be true or false".into()),
    }
}

/// A rename whose new name is a key the payload already has (and that is not itself renamed
/// away) would overwrite that field: `{"name": "email"}` would lose the e-mail.
pub(super) fn mapping_collision(
    mapping: &BTreeMap<String, String>,
    required: &[String],
    defaults: &BTreeMap<String, Value>,
) -> Option<String> {
    let present: Vec<&str> = super::STANDARD_FIELDS
        .iter()
        .copied()
        .chain(required.iter().map(String::as_str))
        .chain(defaults.keys().map(String::as_str))
        .collect();
    mapping.iter().find_map(|(from, to)| {
        (to != from && present.contains(&to.as_str()) && !mapping.contains_key(to)).then(|| {
            format!("{from} → {to}: the payload already has a field \"{to}\", which this would overwrite")
        })
    })
}

pub(super) fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn parse_daily_limit(v: &Value) -> Result<u32, String> {
    let msg = || format!("must be a whole number from 1 to {MAX_DAILY_LIMIT}");
    let n = match v {
        Value::Number(n) => n.as_i64().ok_or_else(msg)?,
        Value::String(s) => s.trim().parse::<i64>().map_err(|_| msg())?,
        _ => return Err(msg()),
    };
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=MAX_DAILY_LIMIT).contains(n))
        .ok_or_else(msg)
}

pub(super) fn parse_premium_ratio(v: &Value) -> Result<u8, String> {
    let range = "must be a whole percent from 0 to 100, e.g. 70 or \"70%\"";
    let ambiguous =
        "is ambiguous: a fraction such as 0.7 could mean 0.7% or 70%; write 70 or \"70%\"";
    let n: i64 = match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => i,
            None => return Err(ambiguous.into()),
        },
        Value::String(s) => {
            let t = s.trim();
            let (digits, percent) = match t.strip_suffix('%') {
                Some(d) => (d.trim(), true),
                None => (t, false),
            };
            match digits.parse::<i64>() {
                Ok(i) => i,
                Err(_) if !percent && digits.parse::<f64>().is_ok() => return Err(ambiguous.into()),
                Err(_) => return Err(range.into()),
            }
        }
        _ => return Err(range.into()),
    };
    u8::try_from(n)
        .ok()
        .filter(|n| *n <= 100)
        .ok_or_else(|| range.into())
}

pub(super) fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

pub(super) fn parse_required_fields(v: &Value) -> Result<Vec<String>, String> {
    let items: Vec<String> = match v {
        Value::Null => vec![],
        Value::String(s) => s.split(',').map(|f| f.trim().to_string()).collect(),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(|s| s.trim().to_string())
                    .ok_or("must be a list of field names")
            })
            .collect::<Result<_, _>>()?,
        _ => return Err("must be a list of field names or \"name,email,phone\"".into()),
    };
    let mut out: Vec<String> = Vec::new();
    for f in items.into_iter().filter(|f| !f.is_empty()) {
        if !is_field_name(&f) {
            return Err(format!(
                "\"{f}\" is not a field name (letters, digits, _ - .)"
            ));
        }
        if !out.contains(&f) {
            out.push(f);
        }
    }
    Ok(out)
}

pub(super) fn parse_field_mapping(v: &Value) -> Result<BTreeMap<String, String>, String> {
    if v.is_null() {
        return Ok(BTreeMap::new());
    }
    let obj = v
        .as_object()
        .ok_or("must be an object of renames, e.g. {\"name\": \"full_name\"}")?;
    let mut out = BTreeMap::new();
    for (from, to) in obj {
        let to = to
            .as_str()
            .map(str::trim)
            .ok_or_else(|| format!("{from}: the new name must be a string"))?;
        if !is_field_name(from.trim()) || !is_field_name(to) {
            return Err(format!("{from} → {to}: names are letters, digits, _ - ."));
        }
        out.insert(from.trim().to_string(), to.to_string());
    }
    let mut targets: Vec<&String> = out.values().collect();
    targets.sort();
    if targets.windows(2).any(|w| w[0] == w[1]) {
        return Err("two fields are renamed to the same name".into());
    }
    Ok(out)
}

pub(super) fn parse_default_values(v: &Value) -> Result<BTreeMap<String, Value>, String> {
    if v.is_null() {
        return Ok(BTreeMap::new());
    }
    let obj = v
        .as_object()
        .ok_or("must be an object, e.g. {\"affiliate_id\": \"A-17\"}")?;
    let mut out = BTreeMap::new();
    for (k, val) in obj {
        if !is_field_name(k.trim()) {
            return Err(format!("\"{k}\" is not a field name"));
        }
        if !(val.is_string() || val.is_number() || val.is_boolean()) {
            return Err(format!("{k}: values must be text, numbers or true/false"));
        }
        out.insert(k.trim().to_string(), val.clone());
    }
    Ok(out)
}

pub(super) fn parse_email(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => {
            let e = s.trim().to_lowercase();
            let has_dot_domain = e.rsplit_once('@').is_some_and(|(_, d)| d.contains('.'));
            if email_address::EmailAddress::is_valid(&e) && has_dot_domain {
                Ok(Some(e))
            } else {
                Err("is not a valid e-mail address".into())
            }
        }
        _ => Err("must be an e-mail address".into()),
    }
}
