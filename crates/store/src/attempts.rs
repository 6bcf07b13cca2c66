//! A delivery's attempts: written many at a time by the hot paths, read back per delivery
//! for the console's and the portal's lead pages.

use crate::deliveries::Attempt;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::status::AttemptOutcome;
use sqlx::Row;

/// Attempts whose bodies are cleared per transaction (the writer is never held long).
const CLEAR_BATCH: i64 = 500;

/// A partner's answer as recorded: its status and the first KiB of its body.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub attempt_id: i64,
    pub lead_id: i64,
    pub status_code: i64,
    pub excerpt: String,
    pub outcome: AttemptOutcome,
}

impl Store {
    /// Clears the response excerpt and the body sent of attempts made before `before`,
    /// oldest first from `from` (where the last pass ended), a batch per transaction.
    /// Returns where this pass ended (the next starts there) and how many were cleared.
    pub async fn clear_attempt_bodies(
        &self,
        from: EpochMillis,
        before: EpochMillis,
    ) -> Result<(EpochMillis, u64), StoreError> {
        let (mut at, mut cleared) = (from, 0);
        loop {
            let rows = sqlx::query(
                "SELECT id, at FROM delivery_attempts WHERE at >= $1 AND at < $2 \
                 AND (response_excerpt IS NOT NULL OR request_body IS NOT NULL) \
                 ORDER BY at LIMIT $3",
            )
            .bind(at)
            .bind(before)
            .bind(CLEAR_BATCH)
            .fetch_all(self.reader())
            .await?;
            let Some(last) = rows.last() else {
                return Ok((at.max(from), cleared));
            };
            at = last.try_get("at")?;
            let ids: Vec<String> = rows
                .iter()
                .map(|r| r.try_get::<i64, _>("id").map(|id| id.to_string()))
                .collect::<Result<_, _>>()?;
            let mut tx = self.begin(crate::Priority::Background).await?;
            let done = sqlx::query(&format!(
                "UPDATE delivery_attempts SET response_excerpt = NULL, request_body = NULL \
                 WHERE id IN ({})",
                ids.join(", ")
            ))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            cleared += done.rows_affected();
            if (rows.len() as i64) < CLEAR_BATCH {
                return Ok((at, cleared));
            }
        }
    }

    /// The partner's latest answers (attempts that got one), newest first.
    pub async fn partner_answers(
        &self,
        partner_id: i64,
        limit: i64,
    ) -> Result<Vec<StoredAnswer>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, d.lead_id, a.status_code, a.response_excerpt, a.outcome \
             FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id \
             WHERE d.partner_id = $1 AND a.status_code IS NOT NULL \
             ORDER BY d.id DESC, a.id DESC LIMIT $2",
        )
        .bind(partner_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredAnswer {
                    attempt_id: r.try_get("id")?,
                    lead_id: r.try_get("lead_id")?,
                    status_code: r.try_get("status_code")?,
                    excerpt: r
                        .try_get::<Option<String>, _>("response_excerpt")?
                        .unwrap_or_default(),
                    outcome: crate::states::state(r, "outcome", AttemptOutcome::parse)?,
                })
            })
            .collect()
    }

    pub async fn delivery_attempts(&self, delivery_id: i64) -> Result<Vec<Attempt>, StoreError> {
        let rows = sqlx::query(
            "SELECT attempt_no, at, status_code, latency_ms, outcome, error, response_excerpt, \
             request_body FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt_no, id",
        )
        .bind(delivery_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Attempt {
                    attempt_no: r.try_get("attempt_no")?,
                    at: r.try_get("at")?,
                    status_code: r.try_get("status_code")?,
                    latency_ms: r.try_get("latency_ms")?,
                    outcome: {
                        let o: String = r.try_get("outcome")?;
                        AttemptOutcome::parse(&o)
                            .ok_or_else(|| StoreError::Corrupt(format!("attempt outcome {o}")))?
                    },
                    error: r.try_get("error")?,
                    response_excerpt: r.try_get("response_excerpt")?,
                    request_body: r.try_get("request_body")?,
                    said: Default::default(),
                })
            })
            .collect()
    }
}
