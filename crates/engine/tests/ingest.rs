//! Group commit for inbound leads: concurrent submissions share one transaction, and one
//! that the database refuses fails alone. On both backends.

use leadrouter_engine::ingest::{IngestSettings, Ingestor};
use leadrouter_engine::signals::Signals;
use leadrouter_store::leads::{Ingested, LeadStatus, Submission};
use leadrouter_store::testing::{numbered_lead, webhook_source, TestDatabase};
use leadrouter_store::Store;

async fn scenario(db: TestDatabase) {
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let source = store
        .create_source(
            &webhook_source("s"),
            "hash",
            "prefix",
            0,
            &leadrouter_store::audit::Actor::system("test"),
        )
        .await
        .unwrap();
    let (ingestor, writer) =
        Ingestor::start(store.clone(), IngestSettings::default(), Signals::default());

    // On this single-threaded runtime every submission below is queued before the writer
    // first runs, so all of them must be committed together.
    let submissions = (0..100).map(|i| {
        ingestor.submit(Submission {
            source_id: source.id,
            lead: numbered_lead(i),
            idempotency_key: None,
            received_at: 1_000,
            cost_cents: 0,
        })
    });
    let results = futures::future::join_all(submissions).await;
    assert_eq!(ingestor.stats(), (1, 100), "100 leads, one commit");
    let ids: Vec<i64> = results.iter().map(|r| r.as_ref().unwrap().id()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "stored in arrival order"
    );
    assert!(results.iter().all(|r| matches!(
        r,
        Ok(Ingested::New {
            status: LeadStatus::Queued,
            ..
        })
    )));

    // A submission the database refuses (no such source) fails alone.
    let mixed = (0..10).map(|i| {
        let source_id = if i == 4 { 999_999 } else { source.id };
        ingestor.submit(Submission {
            source_id,
            lead: numbered_lead(100 + i),
            idempotency_key: None,
            received_at: 2_000,
            cost_cents: 0,
        })
    });
    let results = futures::future::join_all(mixed).await;
    assert!(results[4].is_err());
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 9);

    drop(ingestor);
    writer.await.unwrap();
    store.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn concurrent_leads_share_one_commit_sqlite() {
    scenario(TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "current_thread")]
async fn concurrent_leads_share_one_commit_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        scenario(db).await;
    }
}
