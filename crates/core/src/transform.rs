//! What a partner receives (PRODUCT.md §4): the standard fields, then each required field
//! not yet present, then the partner's defaults, then its renames. Nothing else leaves: a
//! custom field the partner did not ask for stays with us.

use crate::lead::lead_field_value;
use crate::lead::LeadFacts;
use crate::localtime::rfc3339;
use crate::partner::{ContentType, PartnerSpec};
use crate::phone;
use serde_json::{Map, Value};

/// Builds the payload, in order, as an object.
pub fn payload(
    lead_id: &str,
    lead: &LeadFacts<'_>,
    received_at: i64,
    partner: &PartnerSpec,
) -> Map<String, Value> {
    let phone = lead.phone.map(|p| phone::format(p, partner.phone_format));
    let mut out = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            out.insert(k.to_string(), v);
        }
    };
    put("lead_id", Some(Value::String(lead_id.to_string())));
    put("name", lead_field_value(lead, "name"));
    put("email", lead.email.map(|e| Value::String(e.into())));
    put("phone", phone.clone().map(Value::String));
    put("country", Some(Value::String(lead.country.into())));
    put("niche", Some(Value::String(lead.niche.into())));
    put(
        "lead_type",
        Some(Value::String(lead.lead_type.as_str().into())),
    );
    put("source", lead.source_label.map(|s| Value::String(s.into())));
    put("timestamp", Some(Value::String(rfc3339(received_at))));

    for field in &partner.required_fields {
        if out.contains_key(field) {
            continue;
        }
        let value = lead_field_value(lead, field).map(|v| match (&phone, v) {
            // Any alias of the phone goes out in the partner's format too.
            (Some(p), Value::String(s)) if lead.phone == Some(s.as_str()) => {
                Value::String(p.clone())
            }
            (_, v) => v,
        });
        if let Some(v) = value {
            out.insert(field.clone(), v);
        }
    }
    for (k, v) in &partner.default_values {
        out.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if partner.field_mapping.is_empty() {
        return out;
    }
    out.into_iter()
        .map(|(k, v)| match partner.field_mapping.get(&k) {
            Some(new) => (new.clone(), v),
            None => (k, v),
        })
        .collect()
}

/// The body bytes and their content type.
pub fn encode(payload: &Map<String, Value>, content_type: ContentType) -> (Vec<u8>, &'static str) {
    match content_type {
        ContentType::Json => (
            serde_json::to_vec(payload).unwrap_or_default(),
            "application/json",
        ),
        ContentType::Form => {
            let pairs: Vec<(String, String)> = payload
                .iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect();
            (
                serde_urlencoded::to_string(pairs)
                    .unwrap_or_default()
                    .into_bytes(),
                "application/x-www-form-urlencoded",
            )
        }
    }
}

#[cfg(test)]
mod tests;
