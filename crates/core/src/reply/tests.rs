use super::*;
use serde_json::json;

fn rules(v: Value) -> ResponseRules {
    ResponseRules::parse(&v).unwrap().unwrap()
}

fn errors(v: Value) -> BTreeMap<String, String> {
    ResponseRules::parse(&v).unwrap_err()
}

/// The setting of API.md's example.
fn guide() -> ResponseRules {
    rules(json!({
        "rules": [
            {"if": {"path": "success", "equals": false}, "then": "rejected"},
            {"if": {"path": "error", "contains": "exist"}, "then": "duplicate"},
            {"if": {"status": [409]}, "then": "duplicate"},
            {"if": {"body_contains": "try later"}, "then": "retry"}
        ],
        "partner_lead_id": "data.id",
        "redirect_url": "data.autologin_url",
        "reason": "message"
    }))
}

#[test]
fn the_first_matching_rule_decides_and_none_leaves_it_to_the_status() {
    let r = guide();
    let read = |status, body: &str| r.read(status, body).reading;
    assert_eq!(
        read(200, r#"{"success": false, "message": "bad"}"#),
        Some(Reading::Rejected)
    );
    // success:false comes first, though the error says "exists" too.
    assert_eq!(
        read(
            200,
            r#"{"success": false, "error": "Email already exists"}"#
        ),
        Some(Reading::Rejected)
    );
    assert_eq!(
        read(200, r#"{"error": "Email already EXISTS"}"#),
        Some(Reading::Duplicate)
    );
    assert_eq!(read(409, "Conflict"), Some(Reading::Duplicate));
    assert_eq!(read(503, "Busy, please TRY LATER"), Some(Reading::Retry));
    assert_eq!(read(200, r#"{"success": true, "data": {"id": 7}}"#), None);
    assert_eq!(read(500, "<html>oops</html>"), None);
}

#[test]
fn the_id_the_autologin_and_the_reason_are_taken_from_the_body() {
    let r = guide();
    let reply = r.read(
        200,
        r#"{"success": true, "message": " taken ", "data": {"id": 98765, "autologin_url": "https://crm.example.com/login?t=abc"}}"#,
    );
    assert_eq!(reply.partner_lead_id.as_deref(), Some("98765"));
    assert_eq!(
        reply.redirect_url.as_deref(),
        Some("https://crm.example.com/login?t=abc")
    );
    assert_eq!(reply.reason.as_deref(), Some("taken"));
    // An autologin that is not https, too long, or no URL is not kept.
    for url in [
        "http://crm.example.com/login",
        "javascript:alert(1)",
        "https://",
        "ftp://x.example",
    ] {
        let body = json!({"data": {"autologin_url": url}}).to_string();
        assert_eq!(r.read(200, &body).redirect_url, None, "{url}");
    }
    let long = format!("https://crm.example.com/{}", "a".repeat(REDIRECT_URL_MAX));
    let body = json!({"data": {"autologin_url": long}}).to_string();
    assert_eq!(r.read(200, &body).redirect_url, None);
    // Not JSON: nothing to take, and no path rule matches.
    assert_eq!(r.read(200, "OK"), Reply::default());
}

#[test]
fn conditions_compare_as_the_contract_says() {
    let body = json!({"status": "Rejected", "code": 0, "errors": [{"code": "DUP"}], "flag": null})
        .to_string();
    let holds = |cond: Value| {
        let r = rules(json!({"rules": [{"if": cond, "then": "rejected"}]}));
        r.read(200, &body).reading.is_some()
    };
    assert!(
        holds(json!({"path": "status", "equals": "rejected"})),
        "strings ignore case"
    );
    assert!(
        holds(json!({"path": "code", "equals": 0.0})),
        "numbers by value"
    );
    assert!(
        holds(json!({"path": "code", "equals": "0"})),
        "a number by its text"
    );
    assert!(!holds(json!({"path": "code", "equals": "1"})));
    assert!(
        !holds(json!({"path": "errors", "equals": "DUP"})),
        "a list is no text"
    );
    assert!(holds(json!({"path": "errors[0].code", "equals": "dup"})));
    assert!(holds(json!({"path": "status", "not_equals": "accepted"})));
    assert!(
        holds(json!({"path": "missing", "not_equals": "x"})),
        "a missing value is not equal"
    );
    assert!(holds(json!({"path": "errors[0].code", "contains": "U"})));
    assert!(
        holds(json!({"path": "code", "contains": "0"})),
        "a number as its text"
    );
    assert!(holds(json!({"path": "errors", "exists": true})));
    assert!(
        holds(json!({"path": "flag", "exists": false})),
        "null is no value"
    );
    assert!(holds(json!({"path": "errors[3]", "exists": false})));
    assert!(holds(json!({"status": [200, 201]})));
    assert!(!holds(json!({"status": [409]})));
    assert!(holds(json!({"body_contains": "dup"})));
    assert!(!holds(json!({"path": "status.deeper", "equals": "x"})));
}

#[test]
fn paths_are_keys_with_dots_and_items_in_brackets() {
    for ok in [
        "id",
        "data.id",
        "errors[0].code",
        "[0].id",
        "a[1][2]",
        "Error Message",
    ] {
        assert!(JsonPath::parse(ok).is_some(), "{ok}");
    }
    for bad in [
        "", ".id", "data.", "data..id", "a[x]", "a[1", "a]", "a.[0]", "a[0]b",
    ] {
        assert!(JsonPath::parse(bad).is_none(), "{bad:?}");
    }
    let body = json!([{"id": "first"}]);
    assert_eq!(
        JsonPath::parse("[0].id").unwrap().find(&body),
        Some(&json!("first"))
    );
}

#[test]
fn invalid_settings_name_the_rule_and_the_part() {
    let e = errors(json!({"rules": [
        {"if": {"status": [409]}, "then": "duplicate"},
        {"if": {"path": "success", "equals": false, "contains": "x"}, "then": "rejected"},
        {"if": {"path": "a..b", "equals": 1}, "then": "rejected"},
        {"if": {"status": [200]}, "then": "accepted"},
        {"if": {"body_contains": "x", "path": "a"}, "then": "retry"},
        {"if": {"status": []}, "then": "retry"},
        "rejected"
    ], "partner_lead_id": "data.", "colour": "red"}));
    assert!(
        e["response.rules[1].if"].contains("equals and contains"),
        "{e:?}"
    );
    assert!(e["response.rules[2].if"].contains("path"), "{e:?}");
    assert!(
        e["response.rules[3].then"].contains("delivered, rejected"),
        "{e:?}"
    );
    assert!(e["response.rules[4].if"].contains("no path"), "{e:?}");
    assert!(e["response.rules[5].if"].contains("status codes"), "{e:?}");
    assert!(e.contains_key("response.rules[6]"), "{e:?}");
    assert!(e.contains_key("response.partner_lead_id"), "{e:?}");
    assert!(e.contains_key("response.colour"), "{e:?}");
    assert!(
        !e.keys().any(|k| k.starts_with("response.rules[0]")),
        "{e:?}"
    );
    assert!(
        errors(json!({"rules": [{"if": {}, "then": "retry"}]}))["response.rules[0].if"]
            .contains("needs one condition")
    );
    assert!(errors(json!("rejected")).contains_key("response"));
    assert_eq!(ResponseRules::parse(&Value::Null), Ok(None));
}

#[test]
fn a_setting_reads_back_as_it_was_written() {
    let written = json!({
        "rules": [
            {"if": {"path": "success", "equals": false}, "then": "rejected"},
            {"if": {"path": "error", "contains": "exist"}, "then": "duplicate"},
            {"if": {"path": "id", "exists": true}, "then": "delivered"},
            {"if": {"path": "state", "not_equals": "ok"}, "then": "rejected"},
            {"if": {"status": [409]}, "then": "duplicate"},
            {"if": {"body_contains": "try later"}, "then": "retry"}
        ],
        "partner_lead_id": "data.id",
        "redirect_url": "data.autologin_url",
        "reason": "message"
    });
    assert_eq!(json!(rules(written.clone())), written);
    assert_eq!(rules(json!(json!(rules(written.clone())))), rules(written));
}
