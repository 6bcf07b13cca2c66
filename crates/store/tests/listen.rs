//! A lead stored through one instance's store is heard at once by another instance
//! listening on the same PostgreSQL (LISTEN/NOTIFY, migration 25); SQLite has no one else
//! to hear it.

mod common;

use common::{fixture, submissions};
use leadrouter_core::source::LeadType;
use leadrouter_store::testing::TestDatabase;
use leadrouter_store::Store;
use std::time::Duration;

#[tokio::test]
async fn a_lead_stored_by_one_instance_is_heard_by_another_postgres() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let a = fixture(&db, 100).await;
    // Another instance: its own pools, its own listening connection.
    let b = Store::connect(&db.url).await.unwrap();
    let mut heard = b
        .work_listener()
        .await
        .unwrap()
        .expect("PostgreSQL listens");
    a.store
        .insert_leads(&submissions(a.source_id, 2, LeadType::Raw), 0)
        .await
        .unwrap();
    // (A bound for a broken build, not a wait: the announcement comes with the commit.)
    tokio::time::timeout(Duration::from_secs(30), heard.next())
        .await
        .expect("the other instance hears of the new leads")
        .unwrap();
}

#[tokio::test]
async fn sqlite_has_no_other_instance_to_hear() {
    let db = TestDatabase::sqlite();
    let store = fixture(&db, 100).await.store;
    assert!(store.work_listener().await.unwrap().is_none());
}
