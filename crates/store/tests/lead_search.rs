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
            c.execute("VACUUM ANALYZE leads").await.unwrap();
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
        Backend::Postgres => assert!(plan.contains("leads_search"), "{plan}"),
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
