//! A supplier's postback (API.md "Suppliers"): an https URL template its tracker receives
//! on the events it chose, with placeholders (`{lead_id}`, `{event}`, `{status}`,
//! `{external_id}`, `{payout}`, `{reason}`, or any custom field such as `{click_id}`)
//! filled in URL-encoded. The template is held to the webhook's rules (https, no
//! credentials, no forbidden address) and placeholders may stand only in the path and query,
//! so that a lead's values can never choose where a request goes.

use crate::ssrf::AllowList;
use crate::status::LeadStatus;
use crate::webhook_url::parse_webhook_url;
use serde_json::Value;

/// The events a supplier may hear of.
pub const EVENTS: [&str; 4] = ["delivered", "rejected", "converted", "returned"];

/// The lead states a supplier hears of as `rejected` (no partner took the lead).
pub const REJECTED: [LeadStatus; 3] = [
    LeadStatus::Failed,
    LeadStatus::Expired,
    LeadStatus::Duplicate,
];

/// A lead's status in its supplier's words, as its postbacks say it: `delivered`,
/// `returned`, `rejected`, or `pending` while it is still on its way.
pub fn supplier_status(s: LeadStatus) -> &'static str {
    match s {
        LeadStatus::Delivered => "delivered",
        LeadStatus::Returned => "returned",
        s if REJECTED.contains(&s) => "rejected",
        _ => "pending",
    }
}

/// A checked postback URL template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostbackTemplate(String);

impl PostbackTemplate {
    /// Checks `template`: a URL under the webhook's rules once its placeholders are filled,
    /// placeholders (`{name}`, letters, digits and `_`) only in the path and query.
    pub fn parse(template: &str, allow: &AllowList) -> Result<PostbackTemplate, String> {
        let template = template.trim();
        let names = placeholders(template)?;
        let with = |v: &str| {
            let mut out = template.to_string();
            for n in &names {
                out = out.replace(&format!("{{{n}}}"), v);
            }
            out
        };
        let a = parse_webhook_url(&with("a"), allow).map_err(|p| p.to_string())?;
        let b = parse_webhook_url(&with("b1"), allow).map_err(|p| p.to_string())?;
        if a.url.host_str() != b.url.host_str() || a.url.port() != b.url.port() {
            return Err("placeholders may stand only in the path and the query".into());
        }
        Ok(PostbackTemplate(template.to_string()))
    }

    /// A template as stored (checked when it was saved).
    pub fn stored(template: String) -> PostbackTemplate {
        PostbackTemplate(template)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL for one event: every placeholder replaced by its value, URL-encoded (an
    /// unknown one by nothing).
    pub fn fill(&self, value: impl Fn(&str) -> Option<String>) -> String {
        let mut out = String::with_capacity(self.0.len() + 32);
        let mut rest = self.0.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            match rest[start..].find('}') {
                Some(end) => {
                    let name = &rest[start + 1..start + end];
                    if let Some(v) = value(name) {
                        out.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
                    }
                    rest = &rest[start + end + 1..];
                }
                None => {
                    out.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// The placeholder names of a template; an unclosed or malformed one is refused.
fn placeholders(template: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            return Err("a placeholder is not closed with }".into());
        };
        let name = &rest[start + 1..start + end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "{{{name}}} is not a placeholder: letters, digits and _ only, e.g. {{click_id}}"
            ));
        }
        names.push(name.to_string());
        rest = &rest[start + end + 1..];
    }
    Ok(names)
}

/// `postback_events`: a list (or comma-separated text) of [`EVENTS`]; `null` is all four.
pub fn parse_events(v: &Value) -> Result<Vec<String>, String> {
    let items: Vec<String> = match v {
        Value::Null => return Ok(EVENTS.iter().map(|e| e.to_string()).collect()),
        Value::String(s) => s.split(',').map(|e| e.trim().to_lowercase()).collect(),
        Value::Array(a) => a
            .iter()
            .map(|e| {
                e.as_str()
                    .map(|s| s.trim().to_lowercase())
                    .ok_or_else(|| "must be a list of event names".to_string())
            })
            .collect::<Result<_, _>>()?,
        _ => return Err("must be a list of event names".into()),
    };
    let mut out = Vec::new();
    for e in items.into_iter().filter(|e| !e.is_empty()) {
        if !EVENTS.contains(&e.as_str()) {
            return Err(format!(
                "{e} is not an event; choose from: {}",
                EVENTS.join(", ")
            ));
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_template_is_held_to_the_webhooks_rules_with_placeholders_only_in_path_and_query() {
        let allow = AllowList::default();
        let ok = PostbackTemplate::parse(
            "https://tracker.example.com/postback?cid={click_id}&status={status}&payout={payout}",
            &allow,
        )
        .unwrap();
        let url = ok.fill(|n| match n {
            "click_id" => Some("abc 1&x=2".into()),
            "status" => Some("delivered".into()),
            "payout" => Some("3.50".into()),
            _ => None,
        });
        assert_eq!(
            url,
            "https://tracker.example.com/postback?cid=abc+1%26x%3D2&status=delivered&payout=3.50"
        );
        for (bad, says) in [
            ("http://tracker.example.com/pb?c={click_id}", "https"),
            ("https://user:pw@tracker.example.com/pb", "credentials"),
            ("https://127.0.0.1/pb?c={click_id}", "127.0.0.1"),
            ("https://{host}.example.com/pb", "path and the query"),
            (
                "https://tracker.example.com/pb?c={click id}",
                "not a placeholder",
            ),
            ("https://tracker.example.com/pb?c={click_id", "not closed"),
        ] {
            let e = PostbackTemplate::parse(bad, &allow).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn events_are_chosen_from_the_four() {
        assert_eq!(parse_events(&Value::Null).unwrap(), EVENTS);
        assert_eq!(
            parse_events(&json!("Delivered, returned")).unwrap(),
            ["delivered", "returned"]
        );
        assert!(parse_events(&json!(["sold"])).unwrap_err().contains("sold"));
    }
}
