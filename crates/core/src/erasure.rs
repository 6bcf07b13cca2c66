//! Erasure on request (GDPR Art. 17): who is to be erased, the keyed hashes that keep
//! dedupe working afterwards, and what partners are told (Art. 19).

use crate::catalog::Catalog;
use crate::clock::EpochMillis;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use std::collections::BTreeMap;

/// The person to erase, normalized the way ingest normalizes leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// Trimmed, lower case.
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
}

/// Reads `{"email"?, "phone"?, "country"?}`: at least one of e-mail and phone; a phone
/// without its `+` country code needs the `country` it belongs to.
pub fn read_erasure(
    body: &Map<String, Value>,
    catalog: &Catalog,
) -> Result<Erasure, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    for k in ["email", "phone", "country"] {
        if body.get(k).is_some_and(|v| !v.is_null() && !v.is_string()) {
            errors.insert(k.to_string(), "must be text".to_string());
        }
    }
    let email = text("email").map(str::to_lowercase);
    if let Some(e) = &email {
        if !email_address::EmailAddress::is_valid(e) {
            errors.insert("email".into(), "is not a valid e-mail address".into());
        }
    }
    let region = match text("country") {
        Some(c) => match catalog.known_market(c) {
            Ok(m) => Some(m.phone_region.clone()),
            Err(e) => {
                errors.insert("country".into(), e);
                None
            }
        },
        None => None,
    };
    let phone = text("phone").and_then(|p| {
        let parsed = crate::phone::to_e164(p, region.as_deref());
        if parsed.is_none() {
            let msg = if region.is_none() && !p.starts_with('+') && !p.starts_with("00") {
                "give it with its country code (+49...) or add the lead's country"
            } else {
                "is not a valid phone number"
            };
            errors.insert("phone".into(), msg.into());
        }
        parsed
    });
    if email.is_none() && phone.is_none() && errors.is_empty() {
        let msg = "give the e-mail address or the phone number to erase (at least one)";
        errors.insert("email".into(), msg.into());
        errors.insert("phone".into(), msg.into());
    }
    if errors.is_empty() {
        Ok(Erasure { email, phone })
    } else {
        Err(errors)
    }
}

/// The keyed hash an erased lead keeps of one contact (`kind` is `email` or `phone`):
/// hex HMAC-SHA256 under the server's contact key, so the value cannot be guessed back
/// from the database alone.
pub fn contact_hash(key: &[u8], kind: &str, value: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(kind.as_bytes());
    mac.update(b":");
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The keyed hashes of a lead's e-mail and phone, `(email_hash, phone_hash)`: what an
/// erased lead keeps, and what a new lead is looked up by.
pub fn contact_hashes(
    key: &[u8],
    email: Option<&str>,
    phone: Option<&str>,
) -> (Option<String>, Option<String>) {
    (
        email.map(|e| contact_hash(key, "email", e)),
        phone.map(|p| contact_hash(key, "phone", p)),
    )
}

/// Whether a source's key for a lead (`external_id`, `Idempotency-Key`) carries its
/// e-mail (in any case) or its phone's digits (sources sometimes key leads by contact).
pub fn key_carries_contact(key: &str, email: Option<&str>, phone: Option<&str>) -> bool {
    let lower = key.to_lowercase();
    let digits: String = key.chars().filter(char::is_ascii_digit).collect();
    email.is_some_and(|e| lower.contains(&e.to_lowercase()))
        || phone
            .map(|p| p.trim_start_matches('+'))
            .is_some_and(|p| p.len() >= 6 && digits.contains(p))
}

/// How many trailing digits of a phone identify it in a refused submission, whatever its
/// spelling (`+49 151 9876 5432`, `0151-98765432`, `0049...`): the national number's
/// end, which every spelling shares (Norway's numbers have eight digits).
pub const PHONE_TAIL_DIGITS: usize = 8;

/// The phone's identifying tail (see [`PHONE_TAIL_DIGITS`]), or `None` for too few digits.
pub fn phone_tail(phone: &str) -> Option<String> {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= PHONE_TAIL_DIGITS)
        .then(|| digits[digits.len() - PHONE_TAIL_DIGITS..].iter().collect())
}

/// The contact a refused submission carries, read however it came (JSON or a form post,
/// any field name): `(e-mail, phone tail)`, so that erasure finds the refusal by the
/// person's keyed hashes rather than by spelling.
pub fn contact_of_body(body: &[u8]) -> (Option<String>, Option<String>) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => collect_pairs(&m, &mut pairs),
        _ => pairs.extend(
            url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())),
        ),
    }
    let email = pairs
        .iter()
        .map(|(_, v)| v.trim().to_lowercase())
        .find(|v| v.contains('@') && email_address::EmailAddress::is_valid(v));
    let phone = pairs
        .iter()
        .filter(|(k, _)| {
            let k = k.to_lowercase();
            ["phone", "tel", "mobile", "handy", "cell"]
                .iter()
                .any(|p| k.contains(p))
        })
        .find_map(|(_, v)| phone_tail(v));
    (email, phone)
}

fn collect_pairs(m: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    for (k, v) in m {
        match v {
            Value::String(s) => out.push((k.clone(), s.clone())),
            Value::Number(n) => out.push((k.clone(), n.to_string())),
            Value::Object(inner) => collect_pairs(inner, out),
            _ => {}
        }
    }
}

/// The keyed hashes a refused submission keeps of its contact (`email`, `phone_tail`).
pub fn refused_contact_hashes(key: &[u8], body: &[u8]) -> (Option<String>, Option<String>) {
    let (email, tail) = contact_of_body(body);
    (
        email.map(|e| contact_hash(key, "email", &e)),
        tail.map(|t| contact_hash(key, "phone_tail", &t)),
    )
}

/// The body of the `lead.erased` notice to a partner's erasure webhook. Lead ids are
/// strings, as in the payloads the partner received them in.
pub fn erased_notice_body(lead_ids: &[i64], erased_at: EpochMillis) -> Value {
    json!({
        "type": "lead.erased",
        "lead_ids": lead_ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "erased_at": crate::localtime::rfc3339(erased_at),
    })
}

/// A page URL without its query and fragment (where forms often put the person's data).
pub fn page_without_query(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::guide_catalog as catalog;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn contacts_are_normalized_like_ingest() {
        let c = catalog();
        let e = read_erasure(
            &body(json!({"email": " Max@Example.DE ", "phone": "+49 151 23456789"})),
            &c,
        )
        .unwrap();
        assert_eq!(e.email.as_deref(), Some("max@example.de"));
        assert_eq!(e.phone.as_deref(), Some("+4915123456789"));
        let e = read_erasure(
            &body(json!({"phone": "0151 23456789", "country": "germany"})),
            &c,
        )
        .unwrap();
        assert_eq!(e.phone.as_deref(), Some("+4915123456789"));
    }

    #[test]
    fn a_request_without_a_contact_or_with_a_bare_national_number_is_refused() {
        let c = catalog();
        let errors = read_erasure(&body(json!({})), &c).unwrap_err();
        assert!(errors.contains_key("email") && errors.contains_key("phone"));
        let errors = read_erasure(&body(json!({"phone": "0151 23456789"})), &c).unwrap_err();
        assert!(errors["phone"].contains("country code"));
        let errors = read_erasure(&body(json!({"email": "not-an-address"})), &c).unwrap_err();
        assert_eq!(errors["email"], "is not a valid e-mail address");
    }

    #[test]
    fn the_hash_depends_on_the_key_and_the_kind() {
        let a = contact_hash(b"k1", "email", "max@example.de");
        assert_eq!(a, contact_hash(b"k1", "email", "max@example.de"));
        assert_ne!(a, contact_hash(b"k2", "email", "max@example.de"));
        assert_ne!(a, contact_hash(b"k1", "phone", "max@example.de"));
        assert!(!a.contains("max"));
    }

    #[test]
    fn a_key_made_of_the_contact_is_recognised() {
        let (e, p) = (Some("max@example.de"), Some("+4915123456789"));
        assert!(key_carries_contact("lp-Max@Example.de", e, p));
        assert!(key_carries_contact("tel-49 151 23456789", e, p));
        assert!(!key_carries_contact("fb-1234", e, p));
        assert!(!key_carries_contact("anything", None, None));
    }

    #[test]
    fn a_refused_bodys_contact_is_read_in_any_spelling() {
        let form = b"first_name=Erika&email=Erika.M%40Example.com&phone=%2B49+151+9876+5432";
        assert_eq!(
            contact_of_body(form),
            (Some("erika.m@example.com".into()), Some("98765432".into()))
        );
        let json = br#"{"name": "Erika", "Mobile": "0151 9876-5432", "contact": {"mail": "erika.m@example.com"}}"#;
        assert_eq!(
            contact_of_body(json),
            (Some("erika.m@example.com".into()), Some("98765432".into()))
        );
        assert_eq!(
            phone_tail("+4915198765432"),
            phone_tail("0049 151 98765432")
        );
        assert_eq!(contact_of_body(b"not json {"), (None, None));
        assert_eq!(contact_of_body(br#"{"phone": "12"}"#), (None, None));
        let (e, p) = refused_contact_hashes(b"k", form);
        assert_eq!(e, Some(contact_hash(b"k", "email", "erika.m@example.com")));
        assert_eq!(p, Some(contact_hash(b"k", "phone_tail", "98765432")));
    }

    #[test]
    fn the_notice_names_leads_as_their_payloads_did() {
        let b = erased_notice_body(&[7, 12], 0);
        assert_eq!(b["type"], "lead.erased");
        assert_eq!(b["lead_ids"], json!(["7", "12"]));
        assert_eq!(
            page_without_query("https://x.example/f?email=a%40b.de#top"),
            "https://x.example/f"
        );
    }
}
