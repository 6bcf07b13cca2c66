//! What the retention job walks: leads received before the window (oldest first, from
//! where the walk got to, kept in `job_state` so a restart does not walk a year of erased
//! leads again), and refused submissions' bodies.

use crate::{Priority, Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use sqlx::Row;

const CURSOR: &str = "lead_retention";

impl Store {
    /// Up to `limit` leads not erased yet, received before `before`, oldest first, and the
    /// time of the last of them (where the next walk starts).
    pub async fn leads_past_retention(
        &self,
        before: EpochMillis,
        limit: i64,
    ) -> Result<(Vec<i64>, Option<EpochMillis>), StoreError> {
        let from: i64 = sqlx::query("SELECT value FROM job_state WHERE name = $1")
            .bind(CURSOR)
            .fetch_optional(self.reader())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(0);
        let rows = sqlx::query(
            "SELECT id, received_at FROM leads WHERE received_at >= $1 AND received_at < $2 \
             AND erased_at IS NULL ORDER BY received_at, id LIMIT $3",
        )
        .bind(from)
        .bind(before)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        let last = rows.last().map(|r| r.try_get(1)).transpose()?;
        let ids = rows
            .iter()
            .map(|r| r.try_get(0).map_err(StoreError::from))
            .collect::<Result<_, _>>()?;
        Ok((ids, last))
    }

    /// Remembers where the retention walk got to.
    pub async fn set_retention_cursor(&self, at: EpochMillis) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO job_state (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(CURSOR)
        .bind(at)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(())
    }

    /// Clears up to `limit` bodies of submissions refused before `before`; returns how many.
    pub async fn clear_old_rejections(
        &self,
        before: EpochMillis,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE rejected_submissions SET body = '', email_hash = NULL, phone_hash = NULL \
             WHERE id IN (SELECT id FROM rejected_submissions WHERE received_at < $1 \
             AND body <> '' ORDER BY received_at LIMIT $2)",
        )
        .bind(before)
        .bind(limit)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// Drops up to `limit` erased leads' keyed contact hashes once dedupe no longer looks
    /// at them (received before `before`, the dedupe window's start): after that they
    /// would only be something to guess the person back from. Returns how many.
    pub async fn forget_contact_hashes(
        &self,
        before: EpochMillis,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE leads SET email_hash = NULL, phone_hash = NULL WHERE id IN ( \
             SELECT id FROM leads WHERE email_hash IS NOT NULL AND received_at < $1 \
             UNION SELECT id FROM leads WHERE phone_hash IS NOT NULL AND received_at < $1 \
             LIMIT $2)",
        )
        .bind(before)
        .bind(limit)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(done.rows_affected())
    }
}
