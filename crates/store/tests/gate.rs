//! SQLite has one writer: an arriving lead waits for at most the transaction in progress
//! and one background transaction, however many retries and failure counts a failing
//! partner queues meanwhile. (PostgreSQL has many connections and no turns.)

mod common;

use common::{fixture, submissions, NOW};
use leadrouter_core::source::LeadType;
use leadrouter_store::deliveries::ClaimedDelivery;
use leadrouter_store::testing::TestDatabase;
use std::sync::{Arc, Mutex};

/// Lets every spawned task run until it waits (current-thread runtime).
async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_arriving_lead_waits_for_one_background_write_at_most_while_a_partner_fails() {
    let db = TestDatabase::sqlite();
    let f = fixture(&db, 100).await;
    let store = f.store.clone();
    let done: Arc<Mutex<Vec<String>>> = Arc::default();
    let held = store.hold_background_write().await;
    let mut tasks = Vec::new();
    // A partner answering 500 to everything: each attempt schedules a retry and counts a
    // failure, all queued behind the transaction in progress.
    for i in 0..6 {
        let (store, done, partner_id) = (store.clone(), Arc::clone(&done), f.partner_id);
        tasks.push(tokio::spawn(async move {
            let d = ClaimedDelivery {
                id: 1_000 + i,
                lead_id: 1,
                partner_id,
                attempt_count: 0,
                claim: "c".into(),
                lease_until: NOW + 60_000,
            };
            store
                .schedule_retry(&d, NOW + 10_000, "HTTP 500", NOW)
                .await
                .unwrap();
            done.lock().unwrap().push(format!("retry {i}"));
            store
                .count_partner_failure(partner_id, 0, 3, &Vec::new)
                .await
                .unwrap();
            done.lock().unwrap().push(format!("failure {i}"));
        }));
        settle().await;
    }
    // Then a lead arrives.
    let lead = submissions(f.source_id, 1, LeadType::Raw);
    let (s2, d2) = (store.clone(), Arc::clone(&done));
    let ingest = tokio::spawn(async move {
        s2.insert_leads(&lead, 0).await.unwrap();
        d2.lock().unwrap().push("lead".into());
    });
    settle().await;
    drop(held);
    ingest.await.unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let order = done.lock().unwrap().clone();
    let at = order.iter().position(|x| x == "lead").unwrap();
    assert!(
        at <= 1,
        "the lead waited for {at} background writes: {order:?}"
    );
    assert_eq!(order.len(), 13);
    f.store.close().await;
}
