//! Recording delivered leads in batches: each delivery is finished exactly once, by the
//! holder of its current claim, and a batch does for each delivery what one-by-one would.
//! On both backends.

mod common;

use common::{fixture, submissions, Fixture, NOW};
use leadrouter_core::source::LeadType;
use leadrouter_store::deliveries::Attempt;
use leadrouter_store::leads::LeadStatus;
use leadrouter_store::routing::{Reservation, Reserve};
use leadrouter_store::testing::TestDatabase;
use serde_json::json;

fn attempt(at: i64) -> Attempt {
    Attempt {
        attempt_no: 1,
        at,
        status_code: Some(200),
        latency_ms: 5,
        outcome: leadrouter_core::status::AttemptOutcome::Delivered,
        error: None,
        response_excerpt: Some("ok".into()),
        request_body: Some("{\"lead_id\":\"1\"}".into()),
        said: Default::default(),
    }
}

async fn scenario(db: TestDatabase) {
    let Fixture {
        store,
        partner_id,
        source_id,
    } = fixture(&db, 100).await;
    let submissions = submissions(source_id, 70, LeadType::Raw);
    let leads = store.insert_leads(&submissions, 0).await.unwrap();
    for lead in &leads {
        let reserved = store
            .reserve(
                &Reserve {
                    lead_id: lead.id(),
                    partner_id,
                    day: "2026-09-21",
                    lead_type: LeadType::Raw,
                    daily_limit: 100,
                    premium_ratio: 0,
                    routing: &json!([]),
                    from: &[LeadStatus::Queued],
                    override_cap: false,
                    counter_exists: false,
                    windows: &[],
                },
                NOW,
            )
            .await
            .unwrap();
        assert!(matches!(reserved, Reservation::Assigned { .. }));
    }

    // A first worker claims everything; its lease runs out and a second worker claims the
    // first 10 again. The first worker finishes all 70 late (more than one chunk of rows).
    let first = store
        .claim_deliveries(NOW, 1_000, 100, "first")
        .await
        .unwrap();
    assert_eq!(first.len(), 70);
    let second = store
        .claim_deliveries(NOW + 2_000, 1_000, 10, "second")
        .await
        .unwrap();
    assert_eq!(second.len(), 10);
    let a = attempt(NOW + 2_500);
    let late: Vec<_> = first.iter().map(|d| (d, &a)).collect();
    let won = store.attempts_delivered(&late, NOW + 2_500).await.unwrap();
    let retaken: Vec<i64> = second.iter().map(|d| d.id).collect();
    for (d, won) in first.iter().zip(&won) {
        assert_eq!(*won, !retaken.contains(&d.id), "delivery {}", d.id);
    }
    // The second worker finishes its 10; a repeat of the same finish changes nothing.
    let b = attempt(NOW + 3_000);
    let mine: Vec<_> = second.iter().map(|d| (d, &b)).collect();
    assert!(store
        .attempts_delivered(&mine, NOW + 3_000)
        .await
        .unwrap()
        .iter()
        .all(|w| *w));
    assert!(store
        .attempts_delivered(&mine, NOW + 3_100)
        .await
        .unwrap()
        .iter()
        .all(|w| !*w));

    let counts = store.lead_status_counts().await.unwrap();
    assert_eq!(counts.get("delivered"), Some(&70));
    for d in &second {
        let rows = store.lead_deliveries(d.lead_id).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].status,
            leadrouter_core::status::DeliveryStatus::Delivered
        );
        assert_eq!(rows[0].attempt_count, 1, "finished once");
        // Every attempt is on record, the late one too.
        assert_eq!(store.delivery_attempts(d.id).await.unwrap().len(), 3);
    }
    store.close().await;
}

#[tokio::test]
async fn batched_finishes_keep_exactly_once_under_lost_claims_sqlite() {
    scenario(TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn batched_finishes_keep_exactly_once_under_lost_claims_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        scenario(db).await;
    }
}
