//! Assigning a batch of routed leads: all of it is written, or (when a cap, a quota or a
//! concurrent router stands in the way) none of it. On both backends.

mod common;

use common::{fixture, submissions, Fixture, NOW};
use leadrouter_core::source::LeadType;
use leadrouter_store::routing::{Assignment, Lease};
use leadrouter_store::testing::TestDatabase;
use leadrouter_store::Store;
use serde_json::json;

const DAY: &str = "2026-09-21";

fn assignments(partner_id: i64, lead_ids: &[i64], lead_type: LeadType) -> Vec<Assignment> {
    lead_ids
        .iter()
        .map(|&lead_id| Assignment {
            lead_id,
            partner_id,
            day: DAY.into(),
            lead_type,
            daily_limit: 10,
            premium_ratio: 50,
            routing: json!([{"partner_id": partner_id, "reason": "chosen"}]),
            counter_exists: false,
            windows: Default::default(),
        })
        .collect()
}

async fn counts(store: &Store, partner_id: i64) -> (i64, i64, i64) {
    let c = store
        .day_counts(&[(partner_id, DAY.to_string())])
        .await
        .unwrap()
        .get(&partner_id)
        .copied()
        .unwrap_or_default();
    (c.total, c.premium, c.raw)
}

async fn scenario(db: TestDatabase) {
    let Fixture {
        store,
        partner_id,
        source_id,
    } = fixture(&db, 10).await;
    let mut all = submissions(source_id, 8, LeadType::Raw);
    all.extend(submissions(source_id, 4, LeadType::Premium));
    let ids: Vec<i64> = store
        .insert_leads(&all, 0)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id())
        .collect();
    let (raw, premium) = ids.split_at(8);

    // Six raw leads where the raw quota is 5 of 10: nothing is written.
    assert_eq!(
        store
            .assign_many(
                &assignments(partner_id, &raw[..6], LeadType::Raw),
                NOW,
                None
            )
            .await
            .unwrap(),
        None
    );
    assert_eq!(counts(&store, partner_id).await, (0, 0, 0));
    let statuses = store.lead_status_counts().await.unwrap();
    assert_eq!(statuses.get("queued"), Some(&12));
    assert!(store.lead_deliveries(raw[0]).await.unwrap().is_empty());

    // Five fit exactly: each lead gets its delivery, its partner and its history entry.
    let delivered = store
        .assign_many(
            &assignments(partner_id, &raw[..5], LeadType::Raw),
            NOW,
            None,
        )
        .await
        .unwrap()
        .expect("five raw leads fit the raw quota");
    assert_eq!(delivered.len(), 5);
    assert_eq!(counts(&store, partner_id).await, (5, 0, 5));
    for (lead_id, delivery_id) in raw[..5].iter().zip(&delivered) {
        let lead = store.lead(*lead_id).await.unwrap().unwrap();
        assert_eq!(lead.status.as_str(), "assigned");
        assert_eq!(lead.partner_id, Some(partner_id));
        assert_eq!(lead.routing.unwrap()[0]["reason"], "chosen");
        let d = store.lead_deliveries(*lead_id).await.unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].id, *delivery_id);
        assert_eq!(d[0].counted_day.as_deref(), Some(DAY));
    }

    // A batch holding a lead that another router assigned meanwhile: nothing is written.
    let mut stale = assignments(partner_id, &premium[..2], LeadType::Premium);
    stale.extend(assignments(partner_id, &raw[4..5], LeadType::Raw));
    stale[2].counter_exists = true;
    assert_eq!(store.assign_many(&stale, NOW, None).await.unwrap(), None);
    assert_eq!(counts(&store, partner_id).await, (5, 0, 5));
    assert_eq!(
        store
            .lead(premium[0])
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "queued"
    );

    // Premium leads still fit their own quota, and the counter row is found to exist.
    let mut fresh = assignments(partner_id, &premium[..4], LeadType::Premium);
    fresh.iter_mut().for_each(|a| a.counter_exists = true);
    // Created leased to this process's worker: no other claim takes them before the lease
    // ends.
    let lease = Lease {
        owner: "router-1",
        until: NOW + 10_000,
    };
    let leased = store
        .assign_many(&fresh, NOW, Some(&lease))
        .await
        .unwrap()
        .expect("premium leads fit their quota");
    assert_eq!(counts(&store, partner_id).await, (9, 4, 5));
    let mut claimed: Vec<i64> = store
        .claim_deliveries(NOW + 1, 1_000, 100, "worker")
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    claimed.sort_unstable();
    assert_eq!(claimed, delivered, "only the unleased deliveries");
    // A worker whose slots for this partner are full leaves its deliveries alone.
    let skipped = store
        .claim_deliveries_except(NOW + 10_001, 1_000, 100, "busy", &[partner_id])
        .await
        .unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    let later: Vec<i64> = store
        .claim_deliveries(NOW + 10_001, 1_000, 100, "worker")
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert!(
        leased.iter().all(|id| later.contains(id)),
        "after the lease, anyone's"
    );
    store.close().await;
}

#[tokio::test]
async fn a_batch_of_assignments_is_written_whole_or_not_at_all_sqlite() {
    scenario(TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn a_batch_of_assignments_is_written_whole_or_not_at_all_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        scenario(db).await;
    }
}
