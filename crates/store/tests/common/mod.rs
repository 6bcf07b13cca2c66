//! Setup shared by the store tests: a migrated store with one partner and one source.
#![allow(dead_code)] // each test file uses its own part

use leadrouter_core::lead::NewLead;
use leadrouter_core::partner::validate_partner;
use leadrouter_core::source::LeadType;
use leadrouter_core::ssrf::AllowList;
use leadrouter_store::leads::Submission;
use leadrouter_store::partners::NewPartnerSecrets;
use leadrouter_store::testing::TestDatabase;
use leadrouter_store::Store;
use serde_json::json;

pub const NOW: i64 = 1_790_000_000_000;

pub struct Fixture {
    pub store: Store,
    pub partner_id: i64,
    pub source_id: i64,
}

/// A German forex partner taking `daily_limit` leads a day, half of them premium.
pub async fn fixture(db: &TestDatabase, daily_limit: u32) -> Fixture {
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let catalog = store.catalog().await.unwrap();
    let spec = validate_partner(
        json!({"name": "P", "country": "germany", "niche": "forex", "daily_limit": daily_limit,
               "premium_ratio": 50, "webhook_url": "https://partner.example/leads"})
        .as_object()
        .unwrap(),
        None,
        &catalog,
        &AllowList::default(),
    )
    .result
    .unwrap();
    let partner = store
        .create_partner(
            &spec,
            &NewPartnerSecrets {
                api_key_hash: "h",
                api_key_prefix: "p",
                signing_secret: "s",
            },
            NOW,
            &|_| vec![],
            &leadrouter_store::audit::Actor::system("test"),
        )
        .await
        .unwrap();
    let source = store
        .create_source(
            &webhook_source("s"),
            "hash",
            "prefix",
            NOW,
            &leadrouter_store::audit::Actor::system("test"),
        )
        .await
        .unwrap();
    Fixture {
        store,
        partner_id: partner.id,
        source_id: source.id,
    }
}

/// `n` distinct German forex leads of the given type.
pub fn submissions(source_id: i64, n: usize, lead_type: LeadType) -> Vec<Submission> {
    (0..n)
        .map(|i| Submission {
            source_id,
            lead: NewLead {
                first_name: Some(format!("L{i}")),
                last_name: None,
                email: Some(format!("l{i}-{}@example.com", lead_type.as_str())),
                phone: None,
                phone_valid: false,
                country: "germany".into(),
                niche: "forex".into(),
                lead_type,
                source_label: None,
                external_id: None,
                custom_fields: Default::default(),
                consent: None,
            },
            idempotency_key: None,
            received_at: NOW,
            cost_cents: 0,
        })
        .collect()
}

pub use leadrouter_store::testing::webhook_source;
