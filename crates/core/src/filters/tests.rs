use super::*;
use crate::lead::LeadType;
use serde_json::json;

fn facts<'a>(
    custom: &'a Map<String, Value>,
    email: &'a str,
    phone: Option<&'a str>,
) -> LeadFacts<'a> {
    LeadFacts {
        lead_type: LeadType::Premium,
        first_name: Some("Anna"),
        last_name: Some("Berg"),
        email: Some(email),
        phone,
        phone_valid: true,
        country: "germany",
        niche: "recovery",
        source_label: Some("facebook_ads"),
        source_id: Some(7),
        custom_fields: custom,
    }
}

fn one(v: Value) -> Filter {
    parse_filters(&json!([v])).unwrap().remove(0)
}

#[test]
fn every_operator_reads_as_the_contract_says() {
    let custom = json!({"amount_lost": "2500", "Fraud Type": "Crypto", "score": 7})
        .as_object()
        .cloned()
        .unwrap();
    let lead = facts(&custom, "anna.berg@Gmail.com", Some("+4915112345678"));
    let holds = |v: Value| one(v).holds(&lead);
    // eq / ne: text, regardless of case; numbers by their text.
    assert!(holds(
        json!({"field": "country", "op": "eq", "value": "Germany"})
    ));
    assert!(holds(json!({"field": "score", "op": "eq", "value": 7})));
    assert!(holds(
        json!({"field": "lead_type", "op": "ne", "value": "raw"})
    ));
    // in / not_in
    assert!(holds(
        json!({"field": "fraud_type", "op": "in", "value": ["crypto", "forex"]})
    ));
    assert!(!holds(
        json!({"field": "fraud_type", "op": "not_in", "value": ["CRYPTO"]})
    ));
    assert!(holds(
        json!({"field": "source_id", "op": "in", "value": [7, 9]})
    ));
    // numbers
    assert!(holds(
        json!({"field": "amount_lost", "op": "gte", "value": 1000})
    ));
    assert!(holds(
        json!({"field": "amount_lost", "op": "gt", "value": "2499.5"})
    ));
    assert!(!holds(
        json!({"field": "amount_lost", "op": "lt", "value": 2500})
    ));
    assert!(holds(
        json!({"field": "amount_lost", "op": "lte", "value": 2500})
    ));
    assert!(
        !holds(json!({"field": "first_name", "op": "gt", "value": 1})),
        "a non-number meets no comparison"
    );
    // text
    assert!(holds(
        json!({"field": "email", "op": "contains", "value": "BERG"})
    ));
    assert!(holds(
        json!({"field": "email", "op": "not_contains", "value": "yahoo"})
    ));
    assert!(holds(
        json!({"field": "source", "op": "starts_with", "value": "Facebook"})
    ));
    assert!(holds(
        json!({"field": "email", "op": "ends_with", "value": ".com"})
    ));
    // presence: a lead without the field meets only not_exists.
    assert!(holds(json!({"field": "amount_lost", "op": "exists"})));
    assert!(holds(json!({"field": "utm_campaign", "op": "not_exists"})));
    for op in [
        "eq",
        "ne",
        "contains",
        "not_contains",
        "starts_with",
        "ends_with",
    ] {
        assert!(
            !holds(json!({"field": "utm_campaign", "op": op, "value": "x"})),
            "{op}"
        );
    }
    assert!(!holds(
        json!({"field": "utm_campaign", "op": "not_in", "value": ["x"]})
    ));
    assert!(!holds(json!({"field": "utm_campaign", "op": "exists"})));
}

#[test]
fn derived_fields_come_from_the_email_and_the_phone() {
    let custom = Map::new();
    let mobile = facts(&custom, "x@Web.DE", Some("+4915112345678"));
    let landline = facts(&custom, "x@web.de", Some("+493012345678"));
    let austrian = facts(&custom, "x@web.de", Some("+436641234567"));
    let none = facts(&custom, "x@web.de", None);
    let holds = |v: Value, lead: &LeadFacts<'_>| one(v).holds(lead);
    assert!(holds(
        json!({"field": "email_domain", "op": "eq", "value": "web.de"}),
        &mobile
    ));
    assert!(holds(
        json!({"field": "phone_type", "op": "eq", "value": "mobile"}),
        &mobile
    ));
    assert!(holds(
        json!({"field": "phone_type", "op": "eq", "value": "fixed_line"}),
        &landline
    ));
    assert!(holds(
        json!({"field": "phone_country", "op": "eq", "value": "DE"}),
        &mobile
    ));
    assert!(holds(
        json!({"field": "phone_country", "op": "eq", "value": "AT"}),
        &austrian
    ));
    assert!(!holds(
        json!({"field": "phone_type", "op": "eq", "value": "mobile"}),
        &none
    ));
    assert!(holds(
        json!({"field": "phone_type", "op": "not_exists"}),
        &none
    ));
}

#[test]
fn an_unmet_filter_says_the_field_the_rule_and_the_leads_value() {
    let custom = json!({"amount_lost": "500"}).as_object().cloned().unwrap();
    let lead = facts(&custom, "a@b.de", None);
    let filters = parse_filters(&json!([
        {"field": "country", "op": "eq", "value": "germany"},
        {"field": "amount_lost", "op": "gte", "value": 1000},
        {"field": "phone", "op": "exists"}
    ]))
    .unwrap();
    assert_eq!(
        unmet(&filters, &lead).as_deref(),
        Some("filter: amount_lost gte 1000 (lead has 500)")
    );
    assert_eq!(
        unmet(&filters[2..], &lead).as_deref(),
        Some("filter: phone exists (lead has none)")
    );
    assert_eq!(unmet(&filters[..1], &lead), None);
}

#[test]
fn wrong_filters_are_named_by_their_place_and_part() {
    let e = parse_filters(&json!([
        {"field": "country", "op": "eq", "value": "germany"},
        {"field": "", "op": "eq", "value": "x"},
        {"field": "amount_lost", "op": "bigger", "value": 3},
        {"field": "amount_lost", "op": "gte", "value": "lots"},
        {"field": "country", "op": "in", "value": "germany"},
        {"field": "phone", "op": "exists", "value": true},
        "country = germany"
    ]))
    .unwrap_err();
    assert!(e["filters[1].field"].contains("required"), "{e:?}");
    assert!(e["filters[2].op"].contains("one of"), "{e:?}");
    assert!(e["filters[3].value"].contains("number"), "{e:?}");
    assert!(e["filters[4].value"].contains("list"), "{e:?}");
    assert!(e["filters[5].value"].contains("no value"), "{e:?}");
    assert!(e.contains_key("filters[6]"), "{e:?}");
    assert!(!e.keys().any(|k| k.starts_with("filters[0]")), "{e:?}");
    assert!(parse_filters(&json!("x"))
        .unwrap_err()
        .contains_key("filters"));
    let ok = json!([{"field": "amount_lost", "op": "gte", "value": 1000}, {"field": "phone", "op": "exists"}]);
    assert_eq!(
        filters_json(&parse_filters(&ok).unwrap()),
        ok,
        "reads back as written"
    );
}
