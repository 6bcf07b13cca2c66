use super::*;
use crate::catalog::tests::guide_catalog;
use serde_json::json;

fn check(v: Value) -> Result<SourceSpec, BTreeMap<String, String>> {
    validate_source(
        v.as_object().unwrap(),
        None,
        &guide_catalog(),
        &crate::ssrf::AllowList::default(),
    )
}

#[test]
fn a_landing_page_with_defaults_and_redirect() {
    let s = check(json!({
        "name": "DE forex landing", "kind": "landing_page", "default_country": "Deutschland",
        "default_niche": "Forex", "default_lead_type": "premium", "source_label": "lp_de",
        "redirect_url": "https://example.com/thanks"
    }))
    .unwrap();
    assert_eq!(s.default_country.as_deref(), Some("germany"));
    assert_eq!(s.default_niche.as_deref(), Some("forex"));
    assert_eq!(s.default_lead_type, Some(LeadType::Premium));
    assert_eq!(
        s.redirect_url.as_deref(),
        Some("https://example.com/thanks")
    );
    assert!(s.active);
}

#[test]
fn facebook_sources_need_their_credentials_and_hide_them() {
    let e = check(json!({"name": "FB", "kind": "facebook"})).unwrap_err();
    assert!(e["facebook"].contains("required"));
    let e = check(json!({"name": "FB", "kind": "facebook", "facebook": {"app_secret": "a"}}))
        .unwrap_err();
    assert!(e["facebook"].contains("verify_token"));
    let s = check(json!({"name": "FB", "kind": "facebook",
        "facebook": {"app_secret": "app-s3cret", "verify_token": "vt", "access_token": "EAAB"}}))
    .unwrap();
    assert!(!format!("{s:?}").contains("app-s3cret"));
}

#[test]
fn every_bad_field_is_named() {
    let e = check(json!({
        "name": " ", "kind": "carrier pigeon", "default_country": "atlantis",
        "default_niche": "crypto", "default_lead_type": "gold", "redirect_url": "javascript:alert(1)",
        "status": "maybe", "extra": 1
    }))
    .unwrap_err();
    let keys: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "default_country",
            "default_lead_type",
            "default_niche",
            "extra",
            "kind",
            "name",
            "redirect_url",
            "status"
        ]
    );
}

#[test]
fn only_landing_pages_redirect() {
    let e = check(json!({"name": "api", "kind": "webhook", "redirect_url": "https://x.example/"}))
        .unwrap_err();
    assert!(
        e.get("redirect_url")
            .is_some_and(|m| m.contains("landing_page")),
        "{e:?}"
    );
}

#[test]
fn kinds_are_spelled_several_ways_and_paths_follow_them() {
    assert_eq!(
        SourceKind::parse("Landing Page"),
        Some(SourceKind::LandingPage)
    );
    assert_eq!(
        SourceKind::parse("landing-page"),
        Some(SourceKind::LandingPage)
    );
    assert_eq!(SourceKind::parse("Facebook"), Some(SourceKind::Facebook));
    assert_eq!(SourceKind::Facebook.inbound_path("ab"), "/api/facebook/ab");
    assert_eq!(
        SourceKind::LandingPage.inbound_path("ab"),
        "/api/webhook/ab"
    );
}
