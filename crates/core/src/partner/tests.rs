use super::parse::*;
use super::*;
use crate::catalog::tests::guide_catalog;
use crate::ssrf::AllowList;
use serde_json::Map;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn create(v: Value) -> PartnerValidation {
    validate_partner(&obj(v), None, &guide_catalog(), &AllowList::default())
}

fn errors(v: Value) -> BTreeMap<String, String> {
    create(v).result.expect_err("should be refused")
}

#[test]
fn the_guides_example_partner_is_accepted_as_written() {
    let v = create(json!({
        "Partner Name": "FX Trading Partners Ltd",
        "Email": "integration@fxpartners.com",
        "Country": "germany",
        "Niche": "forex",
        "Daily Limit": 50,
        "Premium Ratio": "70%",
        "Timezone": "Europe/Berlin",
        "Webhook URL": "https://fxpartners.com/api/leads",
        "Phone Format": "International (+1234567890)",
        "Required Fields": "name,email,phone,country"
    }));
    let spec = v.result.unwrap();
    assert_eq!(spec.name, "FX Trading Partners Ltd");
    assert_eq!(spec.email.as_deref(), Some("integration@fxpartners.com"));
    assert_eq!(
        (spec.country.as_str(), spec.niche.as_str()),
        ("germany", "forex")
    );
    assert_eq!((spec.daily_limit, spec.premium_ratio), (50, 70));
    assert_eq!(spec.timezone, "Europe/Berlin");
    assert_eq!(spec.webhook_url, "https://fxpartners.com/api/leads");
    assert_eq!(spec.phone_format, PhoneFormat::International);
    assert_eq!(spec.required_fields, ["name", "email", "phone", "country"]);
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    assert!(v.webhook.is_some());
}

#[test]
fn the_guides_integration_examples_are_accepted_with_defaults_said_out_loud() {
    let v = create(json!({
        "Name": "Recovery Specialists Spain",
        "Country": "spain",
        "Niche": "recovery",
        "Webhook": "https://recovery-es.com/api/new-lead",
        "Required Fields": "name,lastname,email,phone,country,amount_lost,fraud_type",
        "Phone Format": "Local"
    }));
    let spec = v.result.unwrap();
    assert_eq!(spec.timezone, "Europe/Madrid", "the market's timezone");
    assert_eq!(spec.phone_format, PhoneFormat::Local);
    assert_eq!(spec.required_fields.len(), 7);
    assert_eq!(
        (spec.daily_limit, spec.premium_ratio),
        (DEFAULT_DAILY_LIMIT, DEFAULT_PREMIUM_RATIO)
    );
    assert_eq!(spec.email, None);
    assert_eq!(v.warnings.len(), 2, "{:?}", v.warnings);
    assert!(v.warnings[0].contains("daily_limit"));
}

#[test]
fn key_spellings_are_normalized() {
    assert_eq!(normalize_key("Daily Limit"), "daily_limit");
    assert_eq!(normalize_key("dailyLimit"), "daily_limit");
    assert_eq!(normalize_key("premium-ratio"), "premium_ratio");
    assert_eq!(normalize_key("Webhook URL"), "webhook_url");
    assert_eq!(normalize_key("webhookUrl"), "webhook_url");
    assert_eq!(normalize_key("Partner Name"), "name");
    assert_eq!(normalize_key("required_fields"), "required_fields");
}

#[test]
fn premium_ratio_spellings() {
    for (input, expected) in [
        (json!(70), 70),
        (json!("70%"), 70),
        (json!("70"), 70),
        (json!(" 0 % "), 0),
        (json!(100), 100),
    ] {
        assert_eq!(parse_premium_ratio(&input), Ok(expected), "{input}");
    }
    for input in [json!(0.7), json!("0.7"), json!(70.5)] {
        assert!(
            parse_premium_ratio(&input)
                .unwrap_err()
                .contains("ambiguous"),
            "{input}"
        );
    }
    for input in [
        json!(101),
        json!(-1),
        json!("lots"),
        json!("150%"),
        json!(true),
    ] {
        assert!(
            parse_premium_ratio(&input)
                .unwrap_err()
                .contains("0 to 100"),
            "{input}"
        );
    }
}

#[test]
fn every_bad_field_is_reported_at_once() {
    let e = errors(json!({
        "name": "",
        "email": "not-an-email",
        "country": "atlantis",
        "niche": "crypto",
        "daily_limit": 0,
        "premium_ratio": 0.7,
        "timezone": "Mars/Olympus",
        "business_hours": {"mon": ["18:00", "09:00"]},
        "webhook_url": "http://fxpartners.com/api/leads",
        "phone_format": "smoke signals",
        "required_fields": 7,
        "field_mapping": {"name": 5},
        "default_values": {"x": {"nested": true}},
        "content_type": "xml",
        "auth": {"type": "digest"},
        "colour": "blue"
    }));
    let keys: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "auth",
            "business_hours",
            "colour",
            "content_type",
            "country",
            "daily_limit",
            "default_values",
            "email",
            "field_mapping",
            "name",
            "niche",
            "phone_format",
            "premium_ratio",
            "required_fields",
            "timezone",
            "webhook_url"
        ]
    );
    assert_eq!(e["webhook_url"], "must use https");
    assert_eq!(e["colour"], "unknown field");
    assert!(
        e["country"].contains("unknown country \"atlantis\""),
        "{}",
        e["country"]
    );
    assert!(e["country"].contains("germany"), "lists the known ones");
    assert!(e["timezone"].contains("Mars/Olympus"));
    assert!(e["daily_limit"].contains("from 1"));
}

#[test]
fn webhook_targets_that_must_never_be_reached_are_refused() {
    let base = json!({"name": "X", "country": "de", "niche": "forex"});
    for (url, expect) in [
        ("https://127.0.0.1/leads", "loopback"),
        ("https://2130706433/", "loopback"),
        ("https://10.0.0.8/", "private"),
        ("https://user:pw@fx.example.com/", "credentials"),
        ("https://localhost/", "local name"),
        ("https://[::ffff:192.168.0.1]/", "private"),
    ] {
        let mut v = base.clone();
        v["webhook_url"] = json!(url);
        let e = errors(v);
        assert!(
            e["webhook_url"].contains(expect),
            "{url}: {}",
            e["webhook_url"]
        );
    }
}

#[test]
fn missing_required_fields_are_named() {
    let e = errors(json!({}));
    for k in ["name", "country", "niche", "webhook_url"] {
        assert_eq!(e[k], "is required", "{k}");
    }
}

fn guide_partner() -> PartnerSpec {
    create(json!({
        "name": "FX Trading Partners Ltd", "email": "integration@fxpartners.com",
        "country": "germany", "niche": "forex", "daily_limit": 50, "premium_ratio": "70%",
        "timezone": "Europe/Berlin", "business_hours": {"mon": ["09:00", "18:00"]},
        "webhook_url": "https://fxpartners.com/api/leads", "phone_format": "international",
        "required_fields": ["name", "email", "phone", "country"],
        "field_mapping": {"name": "full_name"}, "default_values": {"affiliate_id": "A-17"},
        "content_type": "json", "auth": {"type": "bearer", "token": "s3cr3t-token"}
    }))
    .result
    .unwrap()
}

#[test]
fn auth_secrets_are_hidden_from_the_redacted_form_and_debug() {
    let spec = guide_partner();
    let auth = spec.auth.as_ref().unwrap();
    assert_eq!(auth.redacted(), json!({"type": "bearer"}));
    assert!(
        !format!("{spec:?}").contains("s3cr3t"),
        "Debug hides it too"
    );
}

#[test]
fn an_update_changes_only_what_it_names_and_null_clears() {
    let spec = guide_partner();
    let patch = obj(json!({"daily_limit": 80, "business_hours": null, "auth": null}));
    let updated = validate_partner(&patch, Some(&spec), &guide_catalog(), &AllowList::default())
        .result
        .unwrap();
    assert_eq!(updated.daily_limit, 80);
    assert_eq!(updated.business_hours, None);
    assert_eq!(updated.auth, None);
    assert_eq!(updated.premium_ratio, 70);
    assert_eq!(updated.field_mapping, spec.field_mapping);
    let bad = obj(json!({"name": "", "premium_ratio": 300}));
    let e = validate_partner(&bad, Some(&spec), &guide_catalog(), &AllowList::default())
        .result
        .unwrap_err();
    assert_eq!(e.len(), 2);
}

#[test]
fn auth_kinds_and_their_rules() {
    let parse = |v: Value| PartnerAuth::parse(&v);
    assert_eq!(parse(json!(null)), Ok(None));
    assert_eq!(
        parse(json!({"type": "basic", "username": "u", "password": "p"})),
        Ok(Some(PartnerAuth::Basic {
            username: "u".into(),
            password: "p".into()
        }))
    );
    assert!(parse(json!({"type": "bearer"}))
        .unwrap_err()
        .contains("token"));
    assert!(parse(json!({"type": "header", "name": "X Bad", "value": "v"})).is_err());
    assert!(
        parse(json!({"type": "header", "name": "Webhook-Signature", "value": "v"}))
            .unwrap_err()
            .contains("set by leadrouter")
    );
    assert!(parse(json!({"type": "header", "name": "X-Api-Key", "value": "a\nb"})).is_err());
    let ok = parse(json!({"type": "header", "name": "X-Api-Key", "value": "k"}))
        .unwrap()
        .unwrap();
    assert_eq!(
        ok.redacted(),
        json!({"type": "header", "name": "X-Api-Key"})
    );
}

#[test]
fn phone_formats_accept_the_guides_labels() {
    for (s, f) in [
        ("international", PhoneFormat::International),
        ("International (+1234567890)", PhoneFormat::International),
        ("NATIONAL", PhoneFormat::National),
        ("National (491234567890)", PhoneFormat::National),
        ("Local", PhoneFormat::Local),
        ("local (49-123-456-7890)", PhoneFormat::Local),
    ] {
        assert_eq!(PhoneFormat::parse(s), Some(f), "{s}");
    }
    assert_eq!(PhoneFormat::parse("(+49)"), None);
}

fn minimal(extra: Value) -> Value {
    let mut v = json!({
        "name": "P", "country": "germany", "niche": "forex",
        "daily_limit": 10, "premium_ratio": 50,
        "webhook_url": "https://fxpartners.com/api/leads"
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

#[test]
fn credentials_that_cannot_go_into_a_header_are_refused() {
    for auth in [
        json!({"type": "bearer", "token": "abc\r\nX-Injected: 1"}),
        json!({"type": "bearer", "token": "abc\u{0}def"}),
        json!({"type": "basic", "username": "u\nv", "password": "p"}),
        json!({"type": "basic", "username": "u", "password": "p\u{0}"}),
        json!({"type": "basic", "username": "a:b", "password": "p"}),
        json!({"type": "header", "name": "X-Key", "value": "v\r\nHost: evil"}),
        json!({"type": "bearer", "token": "café"}),
    ] {
        let e = errors(minimal(json!({ "auth": auth })));
        assert!(e.contains_key("auth"), "{auth}: {e:?}");
    }
    let ok = create(minimal(
        json!({"auth": {"type": "basic", "username": "user", "password": "p@ss w0rd!"}}),
    ));
    assert!(ok.result.is_ok());
}

#[test]
fn hop_by_hop_headers_are_not_an_auth_header() {
    for name in [
        "Upgrade",
        "TE",
        "Expect",
        "Keep-Alive",
        "Trailer",
        "Proxy-Authorization",
        "Proxy-Connection",
    ] {
        let e = errors(minimal(
            json!({"auth": {"type": "header", "name": name, "value": "x"}}),
        ));
        assert_eq!(
            e["auth"],
            format!("header {name} is set by leadrouter itself"),
            "{name}"
        );
    }
    let ok = create(minimal(
        json!({"auth": {"type": "header", "name": "X-Api-Key", "value": "k"}}),
    ));
    assert!(ok.result.is_ok());
}

#[test]
fn a_rename_onto_a_field_the_payload_has_is_refused() {
    let e = errors(minimal(json!({"field_mapping": {"name": "email"}})));
    assert!(e["field_mapping"].contains("\"email\""), "{e:?}");
    let e = errors(minimal(json!({
        "default_values": {"affiliate_id": "A-17"},
        "field_mapping": {"source": "affiliate_id"}
    })));
    assert!(e.contains_key("field_mapping"), "{e:?}");
    let e = errors(minimal(json!({
        "required_fields": ["amount_lost"],
        "field_mapping": {"phone": "amount_lost"}
    })));
    assert!(e.contains_key("field_mapping"), "{e:?}");
    // Renaming onto a field that is itself renamed away loses nothing.
    let ok = create(minimal(
        json!({"field_mapping": {"name": "email", "email": "contact_email"}}),
    ));
    assert!(ok.result.is_ok(), "{:?}", ok.result);
    let ok = create(minimal(json!({"field_mapping": {"name": "full_name"}})));
    assert!(ok.result.is_ok());
}

#[test]
fn two_spellings_of_one_setting_are_refused_not_picked_by_order() {
    let e = errors(minimal(json!({"webhook": "https://other.example.com/x"})));
    assert!(e.contains_key("webhook"), "{e:?}");
    assert!(e.contains_key("webhook_url"), "{e:?}");
    assert!(e["webhook"].contains("send one of them"));
    let e = errors(minimal(json!({"Daily Limit": 20})));
    assert!(e.contains_key("Daily Limit"), "{e:?}");
}

#[test]
fn valid_phone_only_is_a_setting_that_defaults_to_off() {
    let spec = create(minimal(json!({}))).result.unwrap();
    assert!(!spec.valid_phone_only);
    let spec = create(minimal(json!({"valid_phone_only": true})))
        .result
        .unwrap();
    assert!(spec.valid_phone_only);
    let patched = validate_partner(
        &obj(json!({"daily_limit": 5})),
        Some(&spec),
        &guide_catalog(),
        &AllowList::default(),
    );
    assert!(patched.result.unwrap().valid_phone_only, "kept on PATCH");
    let e = errors(minimal(json!({"valid_phone_only": "maybe"})));
    assert_eq!(e["valid_phone_only"], "must be true or false");
}

#[test]
fn caps_and_budgets_are_read_and_each_problem_is_named_by_its_place() {
    let base = json!({
        "name": "Desk", "country": "germany", "niche": "forex",
        "webhook_url": "https://desk.example.com/leads", "daily_limit": 100,
    });
    let with = |extra: Value| {
        let mut v = base.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let spec = create(with(json!({
        "price_per_lead": "25.00",
        "caps": {"hourly": 20, "weekly": "300", "monthly": 400, "total": null},
        "budget": {"daily": 500, "monthly": "3000.50"}
    })))
    .result
    .unwrap();
    assert_eq!(
        spec.caps,
        crate::windows::Caps {
            hourly: Some(20),
            weekly: Some(300),
            monthly: Some(400),
            total: None
        }
    );
    assert_eq!(spec.budget.daily, Some(50_000));
    assert_eq!(spec.budget.monthly, Some(300_050));
    let e = errors(with(json!({
        "caps": {"hourly": 0, "weekly": "lots", "daily": 5},
        "budget": {"daily": 500, "monthly": -1}
    })));
    assert_eq!(e["caps.hourly"], "must be a whole number of at least 1");
    assert!(e["caps.weekly"].contains("whole number"), "{e:?}");
    assert!(e["caps.daily"].starts_with("unknown"), "{e:?}");
    assert!(e["budget.daily"].contains("needs price_per_lead"), "{e:?}");
    assert!(e["budget.monthly"].contains("negative"), "{e:?}");
    assert!(errors(with(json!({"caps": 5})))["caps"].contains("object"));
    // Without rules, nothing is limited.
    let plain = create(base.clone()).result.unwrap();
    assert!(plain.limits().is_empty());
    // A budget kept while the price is cleared would count nothing: refused.
    let kept = validate_partner(
        &obj(json!({"price_per_lead": null})),
        Some(&spec),
        &guide_catalog(),
        &AllowList::default(),
    );
    assert!(kept.result.unwrap_err()["price_per_lead"].contains("budget"));
}
