//! Facebook Lead Ads notifications: stored the moment Facebook tells us of a lead, then
//! fetched from the Graph API (with retries) by a background task.

use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct FacebookNotification {
    pub id: i64,
    pub source_id: i64,
    pub leadgen_id: String,
    /// The `value` of the change, as Facebook sent it (form, ad, page ids).
    pub payload: serde_json::Value,
    /// Fetch attempts made before this one.
    pub attempts: i64,
}

impl Store {
    /// Stores notifications; a `leadgen_id` already known for the source is ignored
    /// (Facebook re-sends). Returns how many were new.
    pub async fn insert_facebook_notifications(
        &self,
        source_id: i64,
        items: &[(String, serde_json::Value)],
        now: EpochMillis,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let mut new = 0;
        for (leadgen_id, payload) in items {
            new += sqlx::query(
                "INSERT INTO facebook_notifications (source_id, leadgen_id, payload, status, \
                 attempts, next_attempt_at, received_at, updated_at) \
                 VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4) ON CONFLICT DO NOTHING",
            )
            .bind(source_id)
            .bind(leadgen_id)
            .bind(payload.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Claims the oldest due notification for `lease_ms`: if the fetcher dies, another
    /// takes it over when the lease runs out.
    pub async fn claim_facebook_notification(
        &self,
        now: EpochMillis,
        lease_ms: i64,
    ) -> Result<Option<FacebookNotification>, StoreError> {
        let row = sqlx::query(
            "UPDATE facebook_notifications SET next_attempt_at = $1, updated_at = $2 \
             WHERE id = (SELECT id FROM facebook_notifications WHERE status = 'pending' \
                         AND next_attempt_at <= $2 ORDER BY id LIMIT 1) \
             AND status = 'pending' AND next_attempt_at <= $2 \
             RETURNING id, source_id, leadgen_id, payload, attempts",
        )
        .bind(now + lease_ms)
        .bind(now)
        .fetch_optional(self.write(Priority::Background).await.pool())
        .await?;
        row.map(|r| {
            let payload: String = r.try_get("payload")?;
            Ok(FacebookNotification {
                id: r.try_get("id")?,
                source_id: r.try_get("source_id")?,
                leadgen_id: r.try_get("leadgen_id")?,
                payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                attempts: r.try_get("attempts")?,
            })
        })
        .transpose()
    }

    /// Ends a notification: `fetched` (with its lead), `rejected` or `failed`.
    pub async fn finish_facebook_notification(
        &self,
        id: i64,
        status: &str,
        lead_id: Option<i64>,
        error: Option<&str>,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE facebook_notifications SET status = $1, lead_id = $2, last_error = $3, \
             attempts = attempts + 1, updated_at = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(lead_id)
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(())
    }

    /// Records a failed fetch and when to try again.
    pub async fn retry_facebook_notification(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: EpochMillis,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE facebook_notifications SET attempts = attempts + 1, last_error = $1, \
             next_attempt_at = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(error)
        .bind(next_attempt_at)
        .bind(now)
        .bind(id)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(())
    }
}

impl Store {
    /// When the next pending notification falls due, if any.
    pub async fn next_facebook_due(&self) -> Result<Option<EpochMillis>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(next_attempt_at) FROM facebook_notifications WHERE status = 'pending'",
        )
        .fetch_one(self.reader())
        .await?;
        Ok(row.try_get(0)?)
    }
}
