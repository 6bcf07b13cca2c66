use super::*;
use crate::catalog::tests::guide_catalog;
use crate::partner::{validate_partner, PhoneFormat};
use crate::source::LeadType;
use crate::ssrf::AllowList;
use serde_json::json;

fn partner(v: Value) -> PartnerSpec {
    validate_partner(
        v.as_object().unwrap(),
        None,
        &guide_catalog(),
        &AllowList::default(),
    )
    .result
    .unwrap()
}

fn john(custom: &Map<String, Value>) -> LeadFacts<'_> {
    LeadFacts {
        lead_type: LeadType::Premium,
        first_name: Some("John"),
        last_name: Some("Smith"),
        email: Some("john.smith@email.com"),
        phone: Some("+491234567890"),
        phone_valid: false,
        country: "germany",
        niche: "forex",
        source_label: Some("facebook_ads"),
        source_id: None,
        custom_fields: custom,
    }
}

/// 2025-09-23T22:55:13.207Z, the guide's example timestamp.
const AT: i64 = 1_758_668_113_207;

#[test]
fn the_guides_payload_exactly() {
    let custom = json!({"utm_source": "fb", "amount_lost": "9000"})
        .as_object()
        .unwrap()
        .clone();
    let p = partner(
        json!({"name": "German FX Solutions", "country": "germany", "niche": "forex",
        "webhook_url": "https://germanfx.com/webhook/leads", "required_fields": "name,email,phone,country",
        "phone_format": "International"}),
    );
    let out = payload("12345", &john(&custom), AT, &p);
    assert_eq!(
        Value::Object(out),
        json!({"lead_id": "12345", "name": "John Smith", "email": "john.smith@email.com",
               "phone": "+491234567890", "country": "germany", "niche": "forex", "lead_type": "premium",
               "source": "facebook_ads", "timestamp": "2025-09-23T22:55:13.207Z"}),
        "custom fields not asked for stay with us"
    );
}

#[test]
fn the_three_phone_formats_of_the_guide() {
    let custom = Map::new();
    for (format, expected) in [
        ("International", "+491234567890"),
        ("National", "491234567890"),
        ("Local", "49-123-456-7890"),
    ] {
        let p = partner(json!({"name": "P", "country": "de", "niche": "forex",
            "webhook_url": "https://fx.example.com/", "phone_format": format}));
        assert_eq!(p.phone_format, PhoneFormat::parse(format).unwrap());
        assert_eq!(
            payload("1", &john(&custom), AT, &p)["phone"],
            expected,
            "{format}"
        );
    }
}

#[test]
fn the_recovery_example_gets_its_required_custom_fields() {
    let custom = json!({"amount_lost": "25000", "fraud_type": "crypto", "utm_campaign": "x"})
        .as_object()
        .unwrap()
        .clone();
    let p = partner(
        json!({"name": "Recovery Specialists Spain", "country": "spain", "niche": "recovery",
        "webhook_url": "https://recovery-es.com/api/new-lead",
        "required_fields": "name,lastname,email,phone,country,amount_lost,fraud_type", "phone_format": "Local"}),
    );
    let out = payload("7", &john(&custom), AT, &p);
    assert_eq!(out["lastname"], "Smith", "lastname ← last name");
    assert_eq!(out["amount_lost"], "25000");
    assert_eq!(out["fraud_type"], "crypto");
    assert_eq!(out["phone"], "49-123-456-7890");
    assert!(!out.contains_key("utm_campaign"));
}

#[test]
fn defaults_fill_only_what_is_absent_and_mapping_renames_last() {
    let custom = Map::new();
    let p = partner(
        json!({"name": "P", "country": "de", "niche": "forex", "webhook_url": "https://fx.example.com/",
        "required_fields": ["name", "email", "phone_number"], "phone_format": "national",
        "field_mapping": {"name": "full_name", "affiliate_id": "aff"},
        "default_values": {"affiliate_id": "A-17", "email": "never@used.com", "campaign": 42}}),
    );
    let out = payload("9", &john(&custom), AT, &p);
    assert_eq!(out["full_name"], "John Smith");
    assert!(!out.contains_key("name"));
    assert_eq!(out["aff"], "A-17");
    assert_eq!(
        out["email"], "john.smith@email.com",
        "the lead's own value wins"
    );
    assert_eq!(out["campaign"], 42);
    assert_eq!(
        out["phone_number"], "491234567890",
        "a phone alias uses the partner's format"
    );
}

#[test]
fn form_bodies_carry_the_same_fields() {
    let custom = Map::new();
    let p = partner(
        json!({"name": "P", "country": "de", "niche": "forex", "webhook_url": "https://fx.example.com/",
        "content_type": "form", "default_values": {"vip": true}}),
    );
    let out = payload("3", &john(&custom), AT, &p);
    let (body, ct) = encode(&out, p.content_type);
    assert_eq!(ct, "application/x-www-form-urlencoded");
    let parsed: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap();
    assert!(parsed.contains(&("name".into(), "John Smith".into())));
    assert!(parsed.contains(&("phone".into(), "+491234567890".into())));
    assert!(parsed.contains(&("vip".into(), "true".into())));
    let (json_body, ct) = encode(&out, ContentType::Json);
    assert_eq!(ct, "application/json");
    assert_eq!(
        serde_json::from_slice::<Value>(&json_body).unwrap()["lead_id"],
        "3"
    );
}
