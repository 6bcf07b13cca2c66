//! The operators' search reads through the search index on each backend (FTS5 on SQLite,
//! pg_trgm on PostgreSQL): its cost follows the leads it finds, not the leads stored.

mod common;

use common::{fixture, NOW};
use leadrouter_store::dialect::{lead_search_sql, lead_search_term};
use leadrouter_store::testing::TestDatabase;
use leadrouter_store::Backend;
use sqlx::{Connection, Executor, Row};

/// The query plan of the search for `text`, one line per step.
async fn plan(db: &TestDatabase, backend: Backend, text: &str) -> String {
    let url = db.url.to_string();
    let sql = lead_search_sql(backend);
    let term = lead_search_term(backend, text);
    match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                .bind(term)
                .bind(i64::MAX)
                .bind(10_i64)
                .fetch_all(&mut c)
                .await
                .unwrap();
            rows.iter()
                .map(|r| r.get::<String, _>("detail"))
                .collect::<Vec<_>>()
                .join("\n")
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            // As autovacuum does after many inserts: statistics, and the index's list of
            // entries not yet merged (which the planner reckons with) merged.
            c.execute("VACUUM ANALYZE lead_search").await.unwrap();
            let rows = sqlx::query(&format!("EXPLAIN {sql}"))
                .bind(term)
                .bind(i64::MAX)
                .bind(10_i64)
                .fetch_all(&mut c)
                .await
                .unwrap();
            rows.iter()
                .map(|r| r.get::<String, _>(0))
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

async fn the_search_reads_through_the_index(db: TestDatabase) {
    let f = fixture(&db, 100).await;
    // A history of 20,000 leads: enough that reading them all costs more than the index.
    f.store.seed_history(20_000, 30, NOW).await.unwrap();
    let backend = f.store.backend();
    let plan = plan(&db, backend, "müller").await;
    match backend {
        Backend::Sqlite => assert!(
            plan.contains("VIRTUAL TABLE INDEX") && plan.contains("lead_search"),
            "{plan}"
        ),
        Backend::Postgres => assert!(plan.contains("lead_search_words"), "{plan}"),
    }
}

#[tokio::test]
async fn the_search_reads_through_the_index_sqlite() {
    the_search_reads_through_the_index(TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn the_search_reads_through_the_index_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        the_search_reads_through_the_index(db).await;
    }
}

/// Ids of the leads the lead list finds for `q`.
async fn listed(store: &leadrouter_store::Store, q: &str) -> Vec<i64> {
    store
        .list_leads(&leadrouter_store::leads::LeadFilter {
            q: Some(q.to_string()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect()
}

/// What the SQLite index itself has for `text`.
async fn in_index(db: &TestDatabase, text: &str) -> Vec<i64> {
    let mut c = sqlx::SqliteConnection::connect(&db.url.to_string())
        .await
        .unwrap();
    sqlx::query(lead_search_sql(Backend::Sqlite))
        .bind(lead_search_term(Backend::Sqlite, text))
        .bind(i64::MAX)
        .bind(100_i64)
        .fetch_all(&mut c)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn a_new_lead_is_found_before_and_after_it_is_indexed(db: TestDatabase) {
    let f = fixture(&db, 100).await;
    let backend = f.store.backend();
    let mut leads = common::submissions(f.source_id, 3, leadrouter_core::source::LeadType::Raw);
    leads[1].lead.first_name = Some("Jürgen".into());
    leads[1].lead.last_name = Some("MÜLLER".into());
    f.store.insert_leads(&leads, 0).await.unwrap();
    let ids: Vec<i64> = sqlx::query("SELECT id FROM leads ORDER BY id")
        .fetch_all(
            &mut sqlx::AnyConnection::connect(&db.url.to_string())
                .await
                .unwrap(),
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let batched = leadrouter_store::dialect::lead_search_batched(backend);
    if batched {
        assert_eq!(
            in_index(&db, "müller").await,
            Vec::<i64>::new(),
            "not indexed yet"
        );
    }
    // Found at once, by the search reading the leads after the last batch.
    assert_eq!(listed(&f.store, "müller").await, [ids[1]]);
    assert_eq!(listed(&f.store, "JÜRGEN m").await, [ids[1]]);
    let indexed = f.store.index_new_leads().await.unwrap();
    assert_eq!(indexed, if batched { 3 } else { 0 });
    assert_eq!(f.store.index_new_leads().await.unwrap(), 0, "nothing new");
    if batched {
        assert_eq!(in_index(&db, "müller").await, [ids[1]]);
    }
    assert_eq!(listed(&f.store, "müller").await, [ids[1]]);
    assert_eq!(listed(&f.store, "JÜRGEN m").await, [ids[1]]);
    // A changed name leaves the index with the change (as an erasure clears it).
    sqlx::query("UPDATE leads SET last_name = NULL WHERE id = $1")
        .bind(ids[1])
        .execute(
            &mut sqlx::AnyConnection::connect(&db.url.to_string())
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(listed(&f.store, "müller").await, Vec::<i64>::new());
    if batched {
        assert_eq!(in_index(&db, "müller").await, Vec::<i64>::new());
        assert_eq!(in_index(&db, "jürgen").await, [ids[1]]);
    }
}

#[tokio::test]
async fn a_new_lead_is_found_before_and_after_it_is_indexed_sqlite() {
    a_new_lead_is_found_before_and_after_it_is_indexed(TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn a_new_lead_is_found_before_and_after_it_is_indexed_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        a_new_lead_is_found_before_and_after_it_is_indexed(db).await;
    }
}
