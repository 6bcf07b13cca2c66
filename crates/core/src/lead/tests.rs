use super::*;
use crate::catalog::tests::guide_catalog;
use serde_json::json;

fn lead(v: Value) -> Result<NewLead, BTreeMap<String, String>> {
    normalize_lead(
        v.as_object().unwrap(),
        &SourceDefaults::default(),
        &guide_catalog(),
    )
}

#[test]
fn every_alias_of_the_standard_fields_is_understood() {
    for first in [
        "first_name",
        "firstName",
        "firstname",
        "First Name",
        "fname",
    ] {
        for last in ["last_name", "lastname", "lastName", "surname", "Last Name"] {
            let l = lead(json!({first: "Anna", last: "Berg", "email": "a@b.de", "country": "de", "niche": "forex"}))
                .unwrap();
            assert_eq!(
                (l.first_name.as_deref(), l.last_name.as_deref()),
                (Some("Anna"), Some("Berg")),
                "{first}/{last}"
            );
        }
    }
    for phone in [
        "phone",
        "phone_number",
        "phoneNumber",
        "mobile",
        "tel",
        "telephone",
    ] {
        let l =
            lead(json!({phone: "0151 12345678", "country": "germany", "niche": "forex"})).unwrap();
        assert_eq!(l.phone.as_deref(), Some("+4915112345678"), "{phone}");
    }
    for name in ["name", "full_name", "fullName", "Full Name"] {
        let l = lead(
            json!({name: "John Smith", "email": "j@s.com", "country": "uk", "niche": "forex"}),
        )
        .unwrap();
        assert_eq!(
            (l.first_name.as_deref(), l.last_name.as_deref()),
            (Some("John"), Some("Smith")),
            "{name}"
        );
    }
    for ty in ["type", "lead_type", "leadType"] {
        let l = lead(json!({ty: "Premium", "email": "j@s.com", "country": "uk", "niche": "forex"}))
            .unwrap();
        assert_eq!(l.lead_type, LeadType::Premium, "{ty}");
    }
    let l = lead(json!({"E-Mail": " John.Smith@Email.COM ", "country": "uk", "niche": "forex", "externalId": "x-1"})).unwrap();
    assert_eq!(l.email.as_deref(), Some("john.smith@email.com"));
    assert_eq!(l.external_id.as_deref(), Some("x-1"));
}

#[test]
fn countries_are_stored_as_slugs_however_written() {
    for (c, slug) in [
        ("DE", "germany"),
        ("Deutschland", "germany"),
        ("United Kingdom", "uk"),
        ("Great Britain", "uk"),
        ("es", "spain"),
    ] {
        assert_eq!(
            lead(json!({"email": "a@b.com", "country": c, "niche": "forex"}))
                .unwrap()
                .country,
            slug,
            "{c}"
        );
    }
}

#[test]
fn unknown_fields_are_kept_as_custom_fields() {
    let l = lead(
        json!({"email": "a@b.com", "country": "spain", "niche": "recovery",
        "amount_lost": "25000", "fraud_type": "crypto", "utm_source": "fb", "score": 7}),
    )
    .unwrap();
    assert_eq!(
        l.custom_fields,
        json!({"amount_lost": "25000", "fraud_type": "crypto", "utm_source": "fb", "score": 7})
            .as_object()
            .unwrap()
            .clone()
    );
}

#[test]
fn source_defaults_fill_what_the_lead_leaves_out() {
    let defaults = SourceDefaults {
        country: Some("austria".into()),
        niche: Some("forex".into()),
        lead_type: Some(LeadType::Premium),
        label: Some("lp_at".into()),
    };
    let l = normalize_lead(
        json!({"phone": "0664 1234567"}).as_object().unwrap(),
        &defaults,
        &guide_catalog(),
    )
    .unwrap();
    assert_eq!(
        (l.country.as_str(), l.niche.as_str(), l.lead_type),
        ("austria", "forex", LeadType::Premium)
    );
    assert_eq!(
        l.phone.as_deref(),
        Some("+436641234567"),
        "parsed with the default market's region"
    );
    assert_eq!(l.source_label.as_deref(), Some("lp_at"));
    // The lead's own values win.
    let l = normalize_lead(
        json!({"phone": "612 34 56 78", "country": "ES", "type": "raw", "source": "fb_es"})
            .as_object()
            .unwrap(),
        &defaults,
        &guide_catalog(),
    )
    .unwrap();
    assert_eq!(
        (l.country.as_str(), l.lead_type, l.source_label.as_deref()),
        ("spain", LeadType::Raw, Some("fb_es"))
    );
    assert_eq!(l.phone.as_deref(), Some("+34612345678"));
    let l = lead(json!({"email": "a@b.com", "country": "it", "niche": "forex"})).unwrap();
    assert_eq!(l.lead_type, LeadType::Raw, "raw unless told otherwise");
}

#[test]
fn each_error_is_named() {
    let e = lead(json!({})).unwrap_err();
    assert_eq!(
        e.keys().collect::<Vec<_>>(),
        ["country", "email", "niche", "phone"]
    );
    let e =
        lead(json!({"email": "not-an-email", "phone": "12", "country": "de", "niche": "forex"}))
            .unwrap_err();
    assert_eq!(e["email"], "is not a valid e-mail address");
    assert_eq!(e["phone"], "is not a valid phone number for germany");
    let e = lead(
        json!({"emailAddress": "x@", "country": "atlantis", "niche": "crypto", "type": "gold"}),
    )
    .unwrap_err();
    assert_eq!(
        e.keys().collect::<Vec<_>>(),
        ["country", "emailAddress", "niche", "type"]
    );
    let e = lead(
        json!({"email": "a@b.com", "country": "de", "niche": "forex", "first_name": {"x": 1}}),
    )
    .unwrap_err();
    assert_eq!(e["first_name"], "must be text");
    let e = lead(
        json!({"email": "a@b.com", "country": "de", "niche": "forex", "notes": "x".repeat(501)}),
    )
    .unwrap_err();
    assert!(e["notes"].contains("longer than"));
}

#[test]
fn full_names_fill_in_missing_parts() {
    let l = lead(json!({"name": "Maria del Carmen Garcia", "email": "m@g.es", "country": "es", "niche": "forex"})).unwrap();
    assert_eq!(
        (l.first_name.as_deref(), l.last_name.as_deref()),
        (Some("Maria"), Some("del Carmen Garcia"))
    );
    let l = lead(json!({"name": "Cher", "email": "c@c.com", "country": "uk", "niche": "forex"}))
        .unwrap();
    assert_eq!((l.first_name.as_deref(), l.last_name), (Some("Cher"), None));
    let l = lead(json!({"first_name": "Ola", "name": "Ola Nordmann", "email": "o@n.no", "country": "no", "niche": "forex"})).unwrap();
    assert_eq!(l.last_name.as_deref(), Some("Nordmann"));
    assert_eq!(l.full_name().as_deref(), Some("Ola Nordmann"));
}
