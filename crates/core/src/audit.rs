//! The audit trail's changes: each field before and after, a secret only as
//! `{"changed": true}`; and a partner's settings as a snapshot (in the API's input shape,
//! never a secret) that a revert sends back through the same validation as an edit.

use crate::partner::PartnerSpec;
use serde_json::{json, Map, Value};

/// `{"field": {"before", "after"}}` for every field that differs between two snapshots.
pub fn diff(before: &Map<String, Value>, after: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for k in keys {
        let (b, a) = (
            before.get(k).unwrap_or(&Value::Null),
            after.get(k).unwrap_or(&Value::Null),
        );
        if b != a {
            out.insert(k.clone(), json!({"before": b, "after": a}));
        }
    }
    out
}

/// The entry of a secret field that changed (its values are never written).
pub fn secret_changed() -> Value {
    json!({"changed": true})
}

/// A partner's settings in the API's input shape, without its credentials.
pub fn partner_settings(spec: &PartnerSpec) -> Map<String, Value> {
    let v = json!({
        "name": spec.name,
        "email": spec.email,
        "country": spec.country,
        "niche": spec.niche,
        "daily_limit": spec.daily_limit,
        "premium_ratio": spec.premium_ratio,
        "timezone": spec.timezone,
        "business_hours": spec.business_hours,
        "webhook_url": spec.webhook_url,
        "phone_format": spec.phone_format.as_str(),
        "required_fields": spec.required_fields,
        "field_mapping": spec.field_mapping,
        "default_values": spec.default_values,
        "content_type": spec.content_type.as_str(),
        "valid_phone_only": spec.valid_phone_only,
        "daily_summary": spec.daily_summary,
        "price_per_lead": spec.price_per_lead_cents.map(crate::money::Money),
        "erasure_webhook_url": spec.erasure_webhook_url,
        "response": spec.response,
        "filters": crate::filters::filters_json(&spec.filters),
        "weight": spec.weight,
        "priority": spec.priority,
        "max_concurrency": spec.max_concurrency,
        "caps": spec.caps.to_json(),
        "budget": spec.budget.to_json(),
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The changes between two versions of a partner's settings; a changed credential reads
/// `"auth": {"changed": true}`.
pub fn partner_changes(
    before: Option<&PartnerSpec>,
    after: Option<&PartnerSpec>,
) -> Map<String, Value> {
    let empty = Map::new();
    let b = before.map(partner_settings);
    let a = after.map(partner_settings);
    let mut out = diff(b.as_ref().unwrap_or(&empty), a.as_ref().unwrap_or(&empty));
    if before.and_then(|s| s.auth.as_ref()) != after.and_then(|s| s.auth.as_ref()) {
        out.insert("auth".into(), secret_changed());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_are_listed() {
        let b = json!({"a": 1, "b": "x", "c": null})
            .as_object()
            .unwrap()
            .clone();
        let a = json!({"a": 2, "b": "x", "d": true})
            .as_object()
            .unwrap()
            .clone();
        let d = diff(&b, &a);
        assert_eq!(d.len(), 2);
        assert_eq!(d["a"], json!({"before": 1, "after": 2}));
        assert_eq!(d["d"], json!({"before": null, "after": true}));
    }
}
