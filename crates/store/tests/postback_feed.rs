//! The postback feed on PostgreSQL reads the leads' history in the order rows became
//! visible: an event whose transaction commits after a later id's is still fed once it
//! commits (an id cursor alone passed it for good), and nothing is fed twice.

mod common;

use common::{fixture, submissions, NOW};
use leadrouter_core::source::LeadType;
use leadrouter_store::testing::TestDatabase;
use sqlx::{Connection, Executor, Row};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_after_a_later_one_still_gets_its_postback_postgres() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let f = fixture(&db, 100).await;
    f.store
        .insert_leads(&submissions(f.source_id, 3, LeadType::Raw), 0)
        .await
        .unwrap();
    let url = db.url.to_string();
    let mut a = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut b = sqlx::PgConnection::connect(&url).await.unwrap();
    a.execute(
        "UPDATE sources SET postback_url = 'https://tracker.example/pb?l={lead_id}', \
         postback_events = '[\"delivered\"]'",
    )
    .await
    .unwrap();
    let leads: Vec<i64> = sqlx::query("SELECT id FROM leads ORDER BY id")
        .fetch_all(&mut a)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let event = |lead: i64| {
        format!("INSERT INTO lead_events (lead_id, status, at) VALUES ({lead}, 'delivered', {NOW})")
    };
    // The first lead's event takes its id in a transaction that stays open...
    a.execute("BEGIN").await.unwrap();
    a.execute(event(leads[0]).as_str()).await.unwrap();
    // ...while the second's, a later id, commits at once; then the feed runs.
    b.execute(event(leads[1]).as_str()).await.unwrap();
    f.store.feed_postbacks(NOW).await.unwrap();
    // The first commits; a third event comes; the feed runs again, twice.
    a.execute("COMMIT").await.unwrap();
    b.execute(event(leads[2]).as_str()).await.unwrap();
    for _ in 0..2 {
        f.store.feed_postbacks(NOW + 1_000).await.unwrap();
    }
    let fed: Vec<i64> = sqlx::query("SELECT lead_id FROM postbacks ORDER BY lead_id")
        .fetch_all(&mut b)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        fed, leads,
        "each lead's delivered event fed once, the late one too"
    );
}
