//! Fresh databases for tests: a temporary SQLite file, or a new database on the PostgreSQL
//! server named by `LEADROUTER_TEST_POSTGRES_URL` (dropped again when the test ends).
//!
//! When no PostgreSQL URL is given, [`TestDatabase::postgres`] returns `None` and says so
//! loudly on stderr, unless `LEADROUTER_TEST_REQUIRE_POSTGRES=1`, in which case it panics:
//! CI sets that, so the PostgreSQL half can never be skipped there unnoticed.

use crate::DatabaseUrl;
use crate::Priority;
use rand::Rng;
use sqlx::{Connection, Executor};

pub const POSTGRES_URL_VAR: &str = "LEADROUTER_TEST_POSTGRES_URL";
pub const REQUIRE_POSTGRES_VAR: &str = "LEADROUTER_TEST_REQUIRE_POSTGRES";

pub struct TestDatabase {
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir for a test database");
        let path = dir.path().join("leadrouter-test.db");
        let url = format!("sqlite://{}", path.display())
            .parse()
            .expect("sqlite test URL");
        TestDatabase {
            url,
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A new, empty PostgreSQL database, or `None` when no server was given (see module doc).
    pub async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            if std::env::var(REQUIRE_POSTGRES_VAR).is_ok_and(|v| v == "1") {
                panic!("{POSTGRES_URL_VAR} is not set but {REQUIRE_POSTGRES_VAR}=1");
            }
            eprintln!("SKIPPED (PostgreSQL half): {POSTGRES_URL_VAR} is not set; run scripts/test");
            return None;
        };
        let name = format!(
            "lrtest_{}_{:08x}",
            std::process::id(),
            rand::thread_rng().gen::<u32>()
        );
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("connect to {POSTGRES_URL_VAR}: {e}"));
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        conn.close().await.ok();
        let url = replace_database(&admin_url, &name)
            .parse()
            .expect("postgres test URL");
        Some(TestDatabase {
            url,
            _dir: None,
            postgres: Some((admin_url, name)),
        })
    }
}

/// `postgres://u@h:p/olddb?x` → `postgres://u@h:p/newdb?x`
fn replace_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{host_part}/{db}{query}")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on; a short-lived
        // thread with its own runtime does the clean-up.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for test clean-up");
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = conn
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// An active webhook source without defaults.
pub fn webhook_source(name: &str) -> leadrouter_core::source::SourceSpec {
    leadrouter_core::source::SourceSpec {
        name: name.into(),
        kind: leadrouter_core::source::SourceKind::Webhook,
        default_country: None,
        default_niche: None,
        default_lead_type: None,
        source_label: None,
        redirect_url: None,
        facebook: None,
        active: true,
        wait_for_delivery: 0,
        cost_per_lead_cents: None,
        daily_cap: None,
        postback_url: None,
        postback_events: Vec::new(),
    }
}

/// The `i`th of a run of distinct German forex raw leads, known by e-mail only.
pub fn numbered_lead(i: usize) -> leadrouter_core::lead::NewLead {
    leadrouter_core::lead::NewLead {
        first_name: Some(format!("Lead{i}")),
        last_name: None,
        email: Some(format!("lead{i}@example.com")),
        phone: None,
        phone_valid: false,
        country: "germany".into(),
        niche: "forex".into(),
        lead_type: leadrouter_core::source::LeadType::Raw,
        source_label: None,
        external_id: None,
        custom_fields: Default::default(),
        consent: None,
    }
}

/// A write transaction held open by a test, to see who gets the writer next.
pub struct HeldWrite<'a>(#[allow(dead_code)] crate::gate::WriteTx<'a>);

impl crate::Store {
    /// On SQLite, moves the write-ahead log into the database file (so the file holds
    /// everything written).
    pub async fn checkpoint_for_tests(&self) {
        if self.backend() == crate::Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(self.write(crate::Priority::Background).await.pool())
                .await
                .expect("checkpoint");
        }
    }

    /// How many rows of `table` match `condition` (SQL).
    pub async fn count_where_for_tests(&self, table: &str, condition: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(&format!("SELECT COUNT(*) FROM {table} WHERE {condition}"))
            .fetch_one(self.reader())
            .await
            .expect("count")
            .get(0)
    }

    /// SQLite's plan for `sql`, a line per step (`SEARCH leads USING ...`).
    pub async fn query_plan_for_tests(&self, sql: &str) -> Vec<String> {
        use sqlx::Row;
        sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
            .fetch_all(self.reader())
            .await
            .expect("plan")
            .iter()
            .map(|r| r.get::<String, _>("detail"))
            .collect()
    }

    /// How many rows `table` holds.
    pub async fn count_rows_for_tests(&self, table: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(self.reader())
            .await
            .expect("count")
            .get(0)
    }

    /// Every `table.column` of text whose value anywhere contains `needle` (a scan of the
    /// whole database, for tests that prove a value is not stored).
    pub async fn text_containing_for_tests(&self, needle: &str) -> Vec<String> {
        use sqlx::Row;
        let columns: Vec<(String, String)> = match self.backend() {
            crate::Backend::Sqlite => {
                let tables = sqlx::query(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                )
                .fetch_all(self.reader())
                .await
                .expect("tables");
                let mut out = Vec::new();
                for t in tables {
                    let table: String = t.get(0);
                    let cols = sqlx::query(&format!(
                        "SELECT name, type FROM pragma_table_info('{table}')"
                    ))
                    .fetch_all(self.reader())
                    .await
                    .expect("columns");
                    for c in cols {
                        let (name, kind): (String, String) = (c.get(0), c.get(1));
                        if kind.eq_ignore_ascii_case("TEXT") {
                            out.push((table.clone(), name));
                        }
                    }
                }
                out
            }
            crate::Backend::Postgres => sqlx::query(
                "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND data_type = 'text'",
            )
            .fetch_all(self.reader())
            .await
            .expect("columns")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect(),
        };
        let mut found = Vec::new();
        for (table, column) in columns {
            let n: i64 = sqlx::query(&format!(
                "SELECT COUNT(*) FROM {table} WHERE {column} LIKE $1"
            ))
            .bind(format!("%{needle}%"))
            .fetch_one(self.reader())
            .await
            .expect("scan")
            .get(0);
            if n > 0 {
                found.push(format!("{table}.{column}"));
            }
        }
        found
    }

    /// What a test waiting for idle is still waiting on: leads (id, status, when due, when
    /// received), mails and deliveries not finished, and on PostgreSQL what each session
    /// of this database is doing.
    pub async fn work_left_for_tests(&self) -> String {
        use leadrouter_core::status::{sql_list, LeadStatus};
        use sqlx::Row;
        let leads_on_their_way = format!(
            "SELECT 'lead ' || id || ' ' || status || ' due ' || COALESCE(CAST(route_after AS TEXT), '-') \
             || ' received ' || CAST(received_at AS TEXT) FROM leads WHERE status IN {}",
            sql_list(LeadStatus::ON_ITS_WAY, LeadStatus::as_str)
        );
        let mut parts = vec![
            &leads_on_their_way,
            "SELECT 'mail ' || id || ' ' || status || ' due ' || COALESCE(CAST(next_attempt_at AS TEXT), '-') \
             FROM notifications WHERE status = 'queued'",
            "SELECT 'delivery ' || id || ' ' || status FROM deliveries WHERE status = 'pending'",
        ];
        if self.backend() == crate::Backend::Postgres {
            parts.push(
                "SELECT 'session ' || COALESCE(state, '') || ' ' || COALESCE(wait_event_type, '') \
                 || ' ' || left(query, 120) FROM pg_stat_activity WHERE datname = current_database()",
            );
        }
        let mut out = Vec::new();
        for sql in parts {
            for r in sqlx::query(sql)
                .fetch_all(self.reader())
                .await
                .unwrap_or_default()
            {
                out.push(r.get::<String, _>(0));
            }
        }
        out.join("; ")
    }

    /// Forgets the analytics roll-up: figures are read from the leads themselves again.
    pub async fn forget_figures_for_tests(&self) {
        let mut tx = self
            .begin(crate::Priority::Background)
            .await
            .expect("begin");
        for sql in [
            "DELETE FROM figures",
            "DELETE FROM figures_stale",
            "UPDATE figures_state SET rolled_until = 0",
        ] {
            sqlx::query(sql).execute(&mut *tx).await.expect(sql);
        }
        tx.commit().await.expect("commit");
    }

    /// The roll-up's rows, its stale half hours and where it ends.
    pub async fn figures_state_for_tests(&self) -> (i64, i64, i64) {
        let count = |sql: &'static str| async move {
            use sqlx::Row;
            sqlx::query(sql)
                .fetch_one(self.reader())
                .await
                .expect(sql)
                .get::<i64, _>(0)
        };
        (
            count("SELECT COUNT(*) FROM figures").await,
            count("SELECT COUNT(*) FROM figures_stale").await,
            count("SELECT rolled_until FROM figures_state").await,
        )
    }

    /// Marks a lead `returned` (returns themselves come with the partner portal).
    pub async fn mark_returned_for_tests(&self, lead_id: i64) {
        let mut tx = self
            .begin(crate::Priority::Background)
            .await
            .expect("begin");
        sqlx::query("UPDATE leads SET status = 'returned' WHERE id = $1")
            .bind(lead_id)
            .execute(&mut *tx)
            .await
            .expect("mark returned");
        crate::analytics::mark_lead_stale(&mut tx, lead_id, i64::MAX)
            .await
            .expect("mark stale");
        tx.commit().await.expect("commit");
    }

    /// Begins a background write transaction and keeps it (and its turn) until dropped.
    pub async fn hold_background_write(&self) -> HeldWrite<'_> {
        HeldWrite(
            self.write(Priority::Background)
                .await
                .begin()
                .await
                .expect("begin"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn database_name_is_replaced_keeping_host_and_options() {
        assert_eq!(
            replace_database(
                "postgres://pg@127.0.0.1:5433/postgres?sslmode=disable",
                "t1"
            ),
            "postgres://pg@127.0.0.1:5433/t1?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://pg@h", "t2"),
            "postgres://pg@h/t2"
        );
    }
}
