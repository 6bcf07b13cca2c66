//! The console's sessions and the failed logins that throttle it. A session row is found
//! by the hash of its id (the cookie carries the id, signed); it ends at logout, at its
//! absolute expiry, or after being idle too long.

use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use sqlx::Row;

/// A live session and its operator.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: i64,
    pub email: String,
    pub timezone: String,
    pub role: leadrouter_core::role::Role,
    pub csrf_token: String,
    pub last_seen_at: EpochMillis,
}

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub idle_ms: i64,
    pub absolute_ms: i64,
}

/// Whose sessions: the console's operators, the portal's partner users or the supplier
/// portal's users (each its own table, so a session of one can never pass for another).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Realm {
    Console,
    Portal,
    Supplier,
}

impl Realm {
    pub(crate) const ALL: [Realm; 3] = [Realm::Console, Realm::Portal, Realm::Supplier];

    pub(crate) fn table(self) -> &'static str {
        match self {
            Realm::Console => "admin_sessions",
            Realm::Portal => "partner_sessions",
            Realm::Supplier => "supplier_sessions",
        }
    }
}

/// `last_seen_at` is refreshed at most this often (a page view is not a write each time).
const TOUCH_EVERY_MS: i64 = 60_000;

impl Store {
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        now: EpochMillis,
        limits: SessionLimits,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        sqlx::query(
            "INSERT INTO admin_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, \
             expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .bind(now + limits.absolute_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE admin_users SET last_login_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live session with this id hash (not expired, not idle too long), refreshing its
    /// last use now and then.
    pub async fn live_session(
        &self,
        id_hash: &str,
        now: EpochMillis,
        limits: SessionLimits,
    ) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(
            "SELECT s.user_id, u.email, u.timezone, u.role, s.csrf_token, s.last_seen_at \
             FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3",
        )
        .bind(id_hash)
        .bind(now)
        .bind(now - limits.idle_ms)
        .fetch_optional(self.reader())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let session = Session {
            user_id: r.try_get("user_id")?,
            email: r.try_get("email")?,
            timezone: r.try_get("timezone")?,
            role: crate::admin::role_of(&r.try_get::<String, _>("role")?)?,
            csrf_token: r.try_get("csrf_token")?,
            last_seen_at: r.try_get("last_seen_at")?,
        };
        self.touch_session(Realm::Console, id_hash, session.last_seen_at, now)
            .await?;
        Ok(Some(session))
    }

    pub async fn end_session(&self, id_hash: &str) -> Result<(), StoreError> {
        self.delete_session(Realm::Console, id_hash).await
    }

    /// Refreshes a live session's last use, at most once a minute.
    pub(crate) async fn touch_session(
        &self,
        realm: Realm,
        id_hash: &str,
        last_seen_at: EpochMillis,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        if now - last_seen_at < TOUCH_EVERY_MS {
            return Ok(());
        }
        sqlx::query(&format!(
            "UPDATE {} SET last_seen_at = $1 WHERE id_hash = $2",
            realm.table()
        ))
        .bind(now)
        .bind(id_hash)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(())
    }

    /// Ends one session (logout).
    pub(crate) async fn delete_session(
        &self,
        realm: Realm,
        id_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(&format!("DELETE FROM {} WHERE id_hash = $1", realm.table()))
            .bind(id_hash)
            .execute(self.write(Priority::Background).await.pool())
            .await?;
        Ok(())
    }

    /// Ends an operator's sessions, all or all but one (after a password change).
    pub async fn end_sessions_of(
        &self,
        user_id: i64,
        except_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM admin_sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user_id)
            .bind(except_hash.unwrap_or(""))
            .execute(self.write(Priority::Background).await.pool())
            .await?;
        Ok(())
    }

    pub async fn record_login_failure(
        &self,
        email: &str,
        client: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO login_failures (email, client, at) VALUES ($1, $2, $3)")
            .bind(email)
            .bind(client)
            .bind(now)
            .execute(self.write(Priority::Background).await.pool())
            .await?;
        Ok(())
    }

    /// Failed logins since `since`, counted for this key from this client, from this
    /// client for any key, and for this key from any client, each with its latest.
    pub async fn login_failures(
        &self,
        key: &str,
        client: &str,
        since: EpochMillis,
    ) -> Result<leadrouter_core::login::Failures, StoreError> {
        use leadrouter_core::login::{Count, Failures};
        let row = sqlx::query(
            "SELECT \
             COUNT(CASE WHEN email = $1 AND client = $2 THEN 1 END) AS pair_n, \
             MAX(CASE WHEN email = $1 AND client = $2 THEN at END) AS pair_last, \
             COUNT(CASE WHEN client = $2 THEN 1 END) AS client_n, \
             MAX(CASE WHEN client = $2 THEN at END) AS client_last, \
             COUNT(CASE WHEN email = $1 THEN 1 END) AS key_n, \
             MAX(CASE WHEN email = $1 THEN at END) AS key_last \
             FROM login_failures WHERE at > $3 AND (email = $1 OR client = $2)",
        )
        .bind(key)
        .bind(client)
        .bind(since)
        .fetch_one(self.reader())
        .await?;
        let count = |n: &str, last: &str| -> Result<Count, StoreError> {
            Ok(Count {
                n: row.try_get(n)?,
                last: row.try_get(last)?,
            })
        };
        Ok(Failures {
            pair: count("pair_n", "pair_last")?,
            client: count("client_n", "client_last")?,
            account: count("key_n", "key_last")?,
        })
    }

    /// Deletes failed logins older than `before` and sessions past their absolute expiry
    /// or idle since before `idle_before`; returns how many rows went.
    pub async fn purge_logins(
        &self,
        before: EpochMillis,
        now: EpochMillis,
        idle_before: EpochMillis,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let mut gone = sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        for table in Realm::ALL.map(Realm::table) {
            gone += sqlx::query(&format!(
                "DELETE FROM {table} WHERE expires_at <= $1 OR last_seen_at < $2"
            ))
            .bind(now)
            .bind(idle_before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(gone)
    }
}
