//! Facebook Lead Ads payloads: the webhook notification and the Graph API lead.

use serde_json::{Map, Value};

/// The `leadgen` changes of a webhook notification: `(leadgen_id, change value)`.
pub fn leadgen_changes(body: &Value) -> Result<Vec<(String, Value)>, String> {
    let entries = body
        .get("entry")
        .and_then(Value::as_array)
        .ok_or("no \"entry\" list")?;
    let mut out = Vec::new();
    for entry in entries {
        for change in entry
            .get("changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if change.get("field").and_then(Value::as_str) != Some("leadgen") {
                continue;
            }
            let value = change.get("value").cloned().unwrap_or(Value::Null);
            let id = match value.get("leadgen_id") {
                Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
                Some(Value::Number(n)) => n.to_string(),
                _ => return Err("a leadgen change without a leadgen_id".into()),
            };
            // It goes into a Graph API URL: Facebook's ids are digits, nothing else.
            if id.len() > 32 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "leadgen_id must be a number of at most 32 digits, not {:?}",
                    id.chars().take(40).collect::<String>()
                ));
            }
            out.push((id, value));
        }
    }
    Ok(out)
}

/// A Graph API lead (`{"id", "created_time", "field_data": [{"name", "values"}], ...}`) as
/// lead fields. Standard questions (`full_name`, `email`, `phone_number`, ...) are picked up
/// by the lead aliases; custom questions become custom fields. Where the ad came from is
/// kept as `facebook_*` custom fields; the answers to the form's disclaimer as the lead's
/// consent evidence.
pub fn graph_lead_fields(lead: &Value) -> Result<Map<String, Value>, String> {
    let data = lead
        .get("field_data")
        .and_then(Value::as_array)
        .ok_or("the Graph API answer has no field_data")?;
    let mut fields = Map::new();
    for item in data {
        let Some(name) = item.get("name").and_then(Value::as_str) else {
            continue;
        };
        let values: Vec<String> = item
            .get("values")
            .and_then(Value::as_array)
            .map(|vs| {
                vs.iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        Value::Bool(b) => Some(b.to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !values.is_empty() {
            fields.insert(name.to_string(), Value::String(values.join(", ")));
        }
    }
    for (key, ours) in [
        ("form_id", "facebook_form_id"),
        ("ad_id", "facebook_ad_id"),
        ("campaign_id", "facebook_campaign_id"),
        ("created_time", "facebook_created_time"),
    ] {
        if let Some(v) = lead.get(key).filter(|v| !v.is_null()) {
            fields.insert(ours.to_string(), v.clone());
        }
    }
    if let Some(consent) = crate::consent::facebook_consent(lead) {
        fields.insert("consent".to_string(), consent);
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leadgen_changes_are_found_in_every_entry() {
        let body = json!({"object": "page", "entry": [
            {"id": "1", "changes": [{"field": "leadgen", "value": {"leadgen_id": "444", "form_id": "9"}},
                                    {"field": "feed", "value": {}}]},
            {"id": "2", "changes": [{"field": "leadgen", "value": {"leadgen_id": 555}}]}
        ]});
        let got = leadgen_changes(&body).unwrap();
        assert_eq!(
            got.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
            ["444", "555"]
        );
        assert_eq!(got[0].1["form_id"], "9");
        assert!(leadgen_changes(&json!({"object": "page"})).is_err());
        for bad in [
            "../me/accounts",
            "123?fields=access_token",
            "12 34",
            "-1",
            "1e5",
        ] {
            let body = json!({"entry": [{"changes": [{"field": "leadgen", "value": {"leadgen_id": bad}}]}]});
            let e = leadgen_changes(&body).unwrap_err();
            assert!(e.starts_with("leadgen_id must be a number"), "{bad}: {e}");
        }
        assert!(leadgen_changes(
            &json!({"entry": [{"changes": [{"field": "leadgen", "value": {}}]}]})
        )
        .is_err());
    }

    #[test]
    fn field_data_becomes_lead_fields() {
        let lead = json!({"id": "444", "created_time": "2025-09-23T22:55:13+0000", "form_id": "9",
        "field_data": [
            {"name": "full_name", "values": ["John Smith"]},
            {"name": "email", "values": ["John@Example.com"]},
            {"name": "phone_number", "values": ["+4915112345678"]},
            {"name": "how_much_did_you_lose?", "values": ["10k-50k"]},
            {"name": "interests", "values": ["crypto", "stocks"]},
            {"name": "empty", "values": []}
        ]});
        let f = graph_lead_fields(&lead).unwrap();
        assert_eq!(f["full_name"], "John Smith");
        assert_eq!(f["phone_number"], "+4915112345678");
        assert_eq!(f["how_much_did_you_lose?"], "10k-50k");
        assert_eq!(f["interests"], "crypto, stocks");
        assert_eq!(f["facebook_form_id"], "9");
        assert!(!f.contains_key("empty"));
        assert!(graph_lead_fields(&json!({"error": {}})).is_err());
    }
}
