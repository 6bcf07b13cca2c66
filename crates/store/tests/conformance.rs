//! One scenario, run against each backend: what works on SQLite must work the same on
//! PostgreSQL, and the two schemas must not drift apart.

use leadrouter_store::testing::TestDatabase;
use leadrouter_store::{Backend, Store, StoreError};
use sqlx::Row;
use std::collections::BTreeMap;

async fn migrated(db: &TestDatabase) -> Store {
    let store = Store::connect(&db.url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

async fn scenario(db: TestDatabase) {
    let store = migrated(&db).await;
    // A second run (another instance starting, a restart) applies nothing and fails nothing.
    store.migrate().await.expect("migrate again");
    assert_eq!(
        store.applied_migrations().await.unwrap(),
        Store::known_migrations(store.backend())
    );
    store.ping().await.expect("ping");

    let markets = store.list_markets().await.unwrap();
    let slugs: Vec<_> = markets.iter().map(|m| m.slug.as_str()).collect();
    assert_eq!(
        slugs,
        ["austria", "canada", "germany", "italy", "norway", "spain", "uk"]
    );
    let uk = markets.iter().find(|m| m.slug == "uk").unwrap();
    assert_eq!((uk.iso_code.as_str(), uk.phone_code), ("GB", 44));
    assert!(uk.aliases.iter().any(|a| a == "great britain"));
    assert_eq!(
        markets
            .iter()
            .find(|m| m.slug == "canada")
            .unwrap()
            .default_timezone,
        "America/Toronto"
    );
    let niches: Vec<_> = store
        .list_niches()
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.slug)
        .collect();
    assert_eq!(niches, ["forex", "recovery"]);

    let id = store
        .create_admin_user(
            "ops@example.com",
            "$argon2id$x",
            leadrouter_core::role::Role::Admin,
            1,
            &ops(),
        )
        .await
        .unwrap();
    assert!(id > 0);
    let again = store
        .create_admin_user(
            "ops@example.com",
            "$argon2id$y",
            leadrouter_core::role::Role::Admin,
            2,
            &ops(),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let user = store
        .admin_user_by_email("ops@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((user.id, user.password_hash.as_str()), (id, "$argon2id$x"));
    assert!(store
        .admin_user_by_email("nobody@example.com")
        .await
        .unwrap()
        .is_none());

    let token_id = store
        .create_admin_token("ci", "hash-1", "lra_abcd", 10, &ops())
        .await
        .unwrap();
    let token = store
        .use_admin_token("hash-1", 20)
        .await
        .unwrap()
        .expect("token found");
    assert_eq!((token.id, token.name.as_str()), (token_id, "ci"));
    assert!(store.use_admin_token("hash-2", 20).await.unwrap().is_none());
    let seen = store.use_admin_token("hash-1", 30).await.unwrap().unwrap();
    assert_eq!(seen.last_used_at, Some(20), "last use recorded");
    store
        .revoke_admin_token(token_id, 40, &ops())
        .await
        .unwrap();
    assert!(
        store.use_admin_token("hash-1", 50).await.unwrap().is_none(),
        "revoked"
    );
    assert!(matches!(
        store.revoke_admin_token(token_id, 60, &ops()).await,
        Err(StoreError::NotFound)
    ));
    store.close().await;
}

#[tokio::test]
async fn conformance_scenario_sqlite() {
    scenario(TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn conformance_scenario_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        scenario(db).await;
    }
}

#[tokio::test]
async fn sqlite_database_file_is_created_in_wal_mode() {
    let db = TestDatabase::sqlite();
    let path = db.url.sqlite_path().unwrap().to_string();
    assert!(!std::path::Path::new(&path).exists());
    let store = migrated(&db).await;
    assert!(std::path::Path::new(&path).exists());
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(
            &sqlx::AnyPool::connect(&format!("sqlite://{path}"))
                .await
                .unwrap(),
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(mode, "wal");
    store.close().await;
}

#[cfg(unix)]
#[tokio::test]
async fn sqlite_database_and_its_wal_are_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDatabase::sqlite();
    let path = db.url.sqlite_path().unwrap().to_string();
    let store = migrated(&db).await;
    // A write, so that the WAL and its index exist.
    store.list_markets().await.unwrap();
    for file in [path.clone(), format!("{path}-wal"), format!("{path}-shm")] {
        let mode = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{file} has mode {mode:o}");
    }
    store.close().await;
}

#[test]
fn both_migration_folders_hold_the_same_versions() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations");
    let names = |backend: &str| {
        let mut v: Vec<String> = std::fs::read_dir(format!("{dir}/{backend}"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let (sqlite, postgres) = (names("sqlite"), names("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres differ"
    );
    assert_eq!(
        Store::known_migrations(Backend::Sqlite),
        Store::known_migrations(Backend::Postgres)
    );
}

type Schema = BTreeMap<String, Vec<String>>;

async fn sqlite_schema(store: &Store, url: &str) -> Schema {
    let _ = store;
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let tables = sqlx::query(
        // (`lead_search…` is each backend's own search index: FTS5 tables on SQLite, a
        // table with a trigram index on PostgreSQL; migration 22.)
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' \
         AND name NOT LIKE 'lead\\_search%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for t in tables {
        let name: String = t.get(0);
        let cols = sqlx::query(&format!(
            "SELECT name FROM pragma_table_info('{name}') ORDER BY name"
        ))
        .fetch_all(&pool)
        .await
        .unwrap();
        schema.insert(name, cols.iter().map(|c| c.get::<String, _>(0)).collect());
    }
    schema
}

async fn postgres_schema(url: &str) -> Schema {
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' \
         AND table_name NOT LIKE 'lead\\_search%' \
         ORDER BY table_name, column_name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for r in rows {
        schema.entry(r.get(0)).or_default().push(r.get(1));
    }
    schema
}

#[tokio::test]
async fn both_backends_have_the_same_tables_and_columns() {
    let Some(pg) = TestDatabase::postgres().await else {
        return;
    };
    let lite = TestDatabase::sqlite();
    let (pg_store, lite_store) = (migrated(&pg).await, migrated(&lite).await);
    let lite_schema = sqlite_schema(
        &lite_store,
        &format!("sqlite://{}", lite.url.sqlite_path().unwrap()),
    )
    .await;
    let pg_schema = postgres_schema(pg.url.expose()).await;
    assert!(lite_schema.len() >= 15, "{lite_schema:?}");
    assert_eq!(lite_schema, pg_schema);
    pg_store.close().await;
    lite_store.close().await;
}

fn ops() -> leadrouter_store::audit::Actor {
    leadrouter_store::audit::Actor::system("test")
}
