//! A partner's request to return a delivered lead: which lead, why, and (for "other") in
//! its own words.

use crate::conversion::required_lead_id;
use crate::status::ReturnReason;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The longest note kept with a return.
pub const NOTE_MAX: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRequest {
    pub lead_id: i64,
    pub reason: ReturnReason,
    pub note: Option<String>,
}

/// `POST /api/return/{partner}` and the portal's form: `{"lead_id", "reason", "note"?}`; a
/// note is required when the reason is `other`.
pub fn validate_return(
    body: &Map<String, Value>,
) -> Result<ReturnRequest, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let lead_id = required_lead_id(body, &mut errors);
    let reason = body
        .get("reason")
        .and_then(Value::as_str)
        .map(str::trim)
        .and_then(ReturnReason::parse);
    if reason.is_none() {
        errors.insert(
            "reason".into(),
            format!(
                "must be one of: {}",
                crate::status::listed(ReturnReason::ALL, ReturnReason::as_str)
            ),
        );
    }
    let note = match body.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) if s.chars().count() <= NOTE_MAX => Some(s.trim().to_string()),
        Some(Value::String(_)) => {
            errors.insert(
                "note".into(),
                format!("must be at most {NOTE_MAX} characters"),
            );
            None
        }
        Some(_) => {
            errors.insert("note".into(), "must be text".into());
            None
        }
    };
    if reason == Some(ReturnReason::Other) && note.is_none() && !errors.contains_key("note") {
        errors.insert("note".into(), "is required when the reason is other".into());
    }
    match (lead_id, reason) {
        (Some(lead_id), Some(reason)) if errors.is_empty() => Ok(ReturnRequest {
            lead_id,
            reason,
            note,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> Result<ReturnRequest, BTreeMap<String, String>> {
        validate_return(v.as_object().unwrap())
    }

    #[test]
    fn a_return_names_its_lead_and_a_known_reason() {
        assert_eq!(
            check(json!({"lead_id": 12, "reason": "duplicate"})),
            Ok(ReturnRequest {
                lead_id: 12,
                reason: ReturnReason::Duplicate,
                note: None
            })
        );
        let e = check(json!({"reason": "cheap"})).unwrap_err();
        assert!(
            e.contains_key("lead_id") && e["reason"].starts_with("must be one of"),
            "{e:?}"
        );
    }

    #[test]
    fn other_wants_a_note_of_reasonable_length() {
        assert_eq!(
            check(json!({"lead_id": 1, "reason": "other"})).unwrap_err()["note"],
            "is required when the reason is other"
        );
        let ok = check(json!({"lead_id": 1, "reason": "other", "note": " wrong person "})).unwrap();
        assert_eq!(ok.note.as_deref(), Some("wrong person"));
        let long = "x".repeat(NOTE_MAX + 1);
        assert!(
            check(json!({"lead_id": 1, "reason": "other", "note": long})).unwrap_err()["note"]
                .starts_with("must be at most")
        );
    }
}
