//! Fuzz targets for every parser in `core` that reads what others send us: lead bodies,
//! webhook and postback URLs, partner and source settings (filters, response rules),
//! partners' answers, conversion bodies, Facebook notifications, phone numbers and
//! known-contact lists. Each says what must hold for any input, beyond not panicking.
//!
//! Under `cargo test` each target runs bolero's random engine for a short time and replays
//! the inputs kept in `src/__fuzz__/` (the seeded corpus, and any crash found, which stays
//! there as a regression input); `cargo bolero test -p leadrouter-core fuzz::…` runs one
//! under libFuzzer for as long as wanted (README "Fuzzing").

use crate::catalog::tests::guide_catalog;
use crate::lead::{normalize_lead, SourceDefaults};
use crate::ssrf::AllowList;
use serde_json::{Map, Number, Value};

/// A JSON value built from fuzz bytes: objects take their keys from `keys` (the fields a
/// parser knows, so that the input reaches past the first check) or from the bytes.
struct Shaper<'a> {
    bytes: &'a [u8],
    at: usize,
    keys: &'a [&'a str],
}

impl Shaper<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn text(&mut self) -> String {
        // Often a word the parsers know, so that inputs get past their first checks.
        let pick = self.byte();
        if pick.is_multiple_of(2) {
            return WORDS[usize::from(pick / 2) % WORDS.len()].to_string();
        }
        let len = usize::from(self.byte() % 24);
        let start = self.at.min(self.bytes.len());
        let end = (start + len).min(self.bytes.len());
        self.at = end;
        String::from_utf8_lossy(&self.bytes[start..end]).into_owned()
    }

    fn value(&mut self, depth: u8) -> Value {
        match self.byte() % 9 {
            0 => Value::Null,
            1 => Value::Bool(self.byte().is_multiple_of(2)),
            2 => Value::Number(Number::from(i64::from(self.byte()) - 20)),
            3 => Number::from_f64(f64::from(self.byte()) / 7.0).map_or(Value::Null, Value::Number),
            4 if depth < 3 => {
                let n = self.byte() % 4;
                Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
            }
            5 if depth < 3 => Value::Object(self.object(depth + 1)),
            _ => Value::String(self.text()),
        }
    }

    fn object(&mut self, depth: u8) -> Map<String, Value> {
        let n = self.byte() % 8;
        (0..n)
            .map(|_| {
                let key = match self.byte() {
                    k if k < 220 => self.keys[usize::from(k) % self.keys.len()].to_string(),
                    _ => self.text(),
                };
                (key, self.value(depth))
            })
            .collect()
    }
}

/// Values the parsers look for: markets, niches, types, addresses, numbers, paths, URLs.
const WORDS: [&str; 40] = [
    "de",
    "germany",
    "Österreich",
    "uk",
    "ca",
    "forex",
    "recovery",
    "premium",
    "raw",
    "anna@example.com",
    "Anna.Schmidt@Example.DE",
    "+49 151 12345678",
    "030 1234567",
    "0049 30 1234567",
    "+1 416 555 0123",
    "07400 123456",
    "https://partner.example/leads",
    "https://127.0.0.1/x",
    "https://[::1]/x",
    "https://10.0.0.1:8443/in",
    "https://tracker.example/pb?lead={lead_id}&e={event}",
    "https://u:p@tracker.example/{payout}",
    "http://partner.example/",
    "12.50",
    "1e309",
    "-1",
    "sale",
    "deposit",
    "success",
    "data.id",
    "errors[0].code",
    "rejected",
    "duplicate",
    "retry",
    "delivered",
    "in",
    "not_in",
    "starts_with",
    "Europe/Berlin",
    "2026-11-30T10:00:00Z",
];

/// A URL to check: one the parsers know, with the fuzz bytes put into it somewhere.
fn url_text(bytes: &[u8]) -> String {
    word_with(bytes, |w| w.contains("://"))
}

/// A phone number as people type them, with the fuzz bytes put into it somewhere.
fn phone_text(bytes: &[u8]) -> String {
    word_with(bytes, |w| w.starts_with(['+', '0']))
}

/// One of the `WORDS` that `pick` keeps, chosen by the first byte, with the other bytes
/// put into it at a place the first byte chooses too.
fn word_with(bytes: &[u8], pick: impl Fn(&str) -> bool) -> String {
    let Some((&first, rest)) = bytes.split_first() else {
        return String::new();
    };
    let words: Vec<&str> = WORDS.iter().copied().filter(|w| pick(w)).collect();
    let base = words[usize::from(first) % words.len()];
    let at = usize::from(first / 8) % (base.len() + 1);
    let at = (0..=at)
        .rev()
        .find(|i| base.is_char_boundary(*i))
        .unwrap_or(0);
    format!(
        "{}{}{}",
        &base[..at],
        String::from_utf8_lossy(rest),
        &base[at..]
    )
}

/// An object shaped from `bytes` with keys mostly from `keys`.
fn object(bytes: &[u8], keys: &[&str]) -> Map<String, Value> {
    Shaper { bytes, at: 0, keys }.object(0)
}

const LEAD_KEYS: [&str; 16] = [
    "first_name",
    "last_name",
    "name",
    "email",
    "phone",
    "country",
    "niche",
    "type",
    "lead_type",
    "source",
    "external_id",
    "consent",
    "text",
    "given_at",
    "ip",
    "custom_field",
];

#[test]
fn lead_bodies() {
    let catalog = guide_catalog();
    // A plain source, and one that fills in the market and niche its form does not ask.
    let plain = SourceDefaults::default();
    let german = SourceDefaults {
        country: Some("germany".into()),
        niche: Some("forex".into()),
        ..SourceDefaults::default()
    };
    bolero::check!().for_each(|bytes: &[u8]| {
        let defaults = if bytes.first().is_some_and(|b| b % 2 == 0) {
            &plain
        } else {
            &german
        };
        // As JSON text (what arrives), and shaped into the fields a lead has.
        let parsed: Option<Map<String, Value>> = serde_json::from_slice(bytes).ok();
        for fields in parsed.into_iter().chain([object(bytes, &LEAD_KEYS)]) {
            match normalize_lead(&fields, defaults, &catalog) {
                Ok(lead) => {
                    assert!(catalog.market_by_slug(&lead.country).is_some(), "{lead:?}");
                    if let Some(email) = &lead.email {
                        assert_eq!(email, &email.to_lowercase());
                        assert!(email.contains('@'), "{email}");
                    }
                    if let Some(phone) = &lead.phone {
                        assert!(phone.starts_with('+'), "{phone}");
                        assert!(phone[1..].bytes().all(|b| b.is_ascii_digit()), "{phone}");
                    }
                }
                Err(errors) => {
                    assert!(!errors.is_empty());
                    assert!(errors.iter().all(|(k, v)| !k.is_empty() && !v.is_empty()));
                }
            }
        }
    });
}

#[test]
fn webhook_urls() {
    let allow = AllowList::default();
    bolero::check!().for_each(|bytes: &[u8]| {
        let text = url_text(bytes);
        if let Ok(url) = crate::webhook_url::parse_webhook_url(&text, &allow) {
            assert_eq!(url.url.scheme(), "https");
            assert!(url.url.username().is_empty() && url.url.password().is_none());
            if let crate::webhook_url::WebhookHost::Ip(ip) = url.host {
                assert_eq!(crate::ssrf::classify(ip), None, "{text} reaches {ip}");
            }
        }
    });
}

#[test]
fn postback_templates() {
    let allow = AllowList::default();
    bolero::check!().for_each(|bytes: &[u8]| {
        let text = url_text(bytes);
        if let Ok(template) = crate::postback::PostbackTemplate::parse(&text, &allow) {
            // Whatever the values, the filled URL stays on the template's https host.
            let filled = template.fill(|_| Some("a b&c=d/../#x?y".to_string()));
            let url = url::Url::parse(&filled).expect("a filled template is a URL");
            assert_eq!(url.scheme(), "https", "{filled}");
            let base = url::Url::parse(template.as_str().split('{').next().unwrap_or(""));
            if let Ok(base) = base {
                assert_eq!(url.host_str(), base.host_str(), "{filled}");
            }
        }
    });
}

/// The words of a `response` setting: its keys, and the conditions' kinds as the parser
/// knows them.
fn rule_keys() -> Vec<&'static str> {
    [
        "rules",
        "if",
        "then",
        "path",
        "partner_lead_id",
        "redirect_url",
        "reason",
        "data.id",
    ]
    .into_iter()
    .chain(crate::reply::KINDS)
    .collect()
}

#[test]
fn response_rules_and_partners_answers() {
    let keys = rule_keys();
    bolero::check!().for_each(|bytes: &[u8]| {
        let (setting, answer) = bytes.split_at(bytes.len() / 2);
        let status = u16::from(answer.first().copied().unwrap_or(0)) + 100;
        let answers = [
            String::from_utf8_lossy(answer).into_owned(),
            r#"{"success": false, "error": "Email already exists", "data": {"id": 7}}"#.into(),
            r#"{"success": true, "data": {"id": "crm-1", "autologin_url": "https://x.example/a"}}"#
                .into(),
        ];
        let settings = [
            Value::Object(object(setting, &keys)),
            serde_json::from_slice(bytes).unwrap_or(Value::Null),
        ];
        for setting in settings {
            if let Ok(Some(rules)) = crate::reply::ResponseRules::parse(&setting) {
                for answer in &answers {
                    let reply = rules.read(status, answer);
                    if let Some(url) = &reply.redirect_url {
                        assert!(url.starts_with("https://"), "{url}");
                        assert!(url.len() <= crate::reply::REDIRECT_URL_MAX, "{url}");
                    }
                }
            }
        }
    });
}

const FILTER_KEYS: [&str; 8] = [
    "field",
    "op",
    "value",
    "in",
    "not_in",
    "starts_with",
    "email_domain",
    "last_name",
];

#[test]
fn filters() {
    bolero::check!().for_each(|bytes: &[u8]| {
        let shaped = Value::Array(
            bytes
                .chunks(16)
                .map(|c| Value::Object(object(c, &FILTER_KEYS)))
                .collect(),
        );
        for setting in [shaped, serde_json::from_slice(bytes).unwrap_or(Value::Null)] {
            if let Ok(filters) = crate::filters::parse_filters(&setting) {
                // What is stored reads back as the same filters.
                let stored = crate::filters::filters_json(&filters);
                let again = crate::filters::parse_filters(&stored).expect("stored filters parse");
                assert_eq!(crate::filters::filters_json(&again), stored);
            }
        }
    });
}

const PARTNER_KEYS: [&str; 16] = [
    "name",
    "country",
    "niche",
    "daily_limit",
    "premium_ratio",
    "webhook_url",
    "timezone",
    "business_hours",
    "phone_format",
    "required_fields",
    "field_mapping",
    "filters",
    "caps",
    "budget",
    "response",
    "max_concurrency",
];

#[test]
fn partner_and_source_settings() {
    let catalog = guide_catalog();
    let allow = AllowList::default();
    bolero::check!().for_each(|bytes: &[u8]| {
        let parsed: Option<Map<String, Value>> = serde_json::from_slice(bytes).ok();
        for input in parsed.into_iter().chain([object(bytes, &PARTNER_KEYS)]) {
            let _ = crate::partner::validate_partner(&input, None, &catalog, &allow);
            let _ = crate::source::validate_source(&input, None, &catalog, &allow);
        }
    });
}

const CONVERSION_KEYS: [&str; 6] = [
    "lead_id",
    "conversion_type",
    "conversion_value",
    "external_transaction_id",
    "currency",
    "note",
];

#[test]
fn conversion_bodies() {
    bolero::check!().for_each(|bytes: &[u8]| {
        let parsed: Option<Map<String, Value>> = serde_json::from_slice(bytes).ok();
        for body in parsed.into_iter().chain([object(bytes, &CONVERSION_KEYS)]) {
            if let Ok(report) = crate::conversion::validate_conversion(&body) {
                assert!(report.lead_id > 0, "{report:?}");
            }
        }
        let _ = crate::conversion::parse_money(&Value::String(
            String::from_utf8_lossy(bytes).into_owned(),
        ));
    });
}

const FACEBOOK_KEYS: [&str; 10] = [
    "object",
    "entry",
    "changes",
    "field",
    "value",
    "leadgen_id",
    "page_id",
    "form_id",
    "field_data",
    "values",
];

#[test]
fn facebook_notifications() {
    bolero::check!().for_each(|bytes: &[u8]| {
        let body = Value::Object(object(bytes, &FACEBOOK_KEYS));
        let _ = crate::facebook::leadgen_changes(&body);
        let _ = crate::facebook::graph_lead_fields(&body);
        if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
            let _ = crate::facebook::leadgen_changes(&v);
            let _ = crate::facebook::graph_lead_fields(&v);
        }
    });
}

#[test]
fn phone_numbers() {
    bolero::check!().for_each(|bytes: &[u8]| {
        let text = phone_text(bytes);
        for region in [None, Some("DE"), Some("GB"), Some("CA")] {
            if let Some(p) = crate::phone::parse(&text, region) {
                assert!(p.e164.starts_with('+') && p.e164.len() <= 16, "{}", p.e164);
                // E.164 reads back as itself.
                assert_eq!(
                    crate::phone::to_e164(&p.e164, None).as_deref(),
                    Some(p.e164.as_str())
                );
            }
        }
    });
}

#[test]
fn known_contact_lists() {
    bolero::check!().for_each(|bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        if let Some(email) = crate::known::normalized_email(&text) {
            assert_eq!(crate::known::normalized_email(&email), Some(email.clone()));
        }
        if let Some(sha) = crate::known::parse_sha256(&text) {
            assert_eq!(sha.len(), 64);
        }
        let _ = crate::known::normalized_phone(&text, Some("DE"));
    });
}
