//! The `lead.erased` requests to partners' erasure webhooks: written by the erasure's
//! transaction, sent by the notice job with retries, their outcome recorded.

use crate::{Priority, Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use sqlx::Row;

/// A notice due to be sent.
#[derive(Debug, Clone)]
pub struct ErasureNotice {
    pub id: i64,
    pub partner_id: i64,
    pub body: String,
    pub attempts: i64,
}

/// A notice as listed (`GET /api/admin/privacy/notices`).
#[derive(Debug, Clone)]
pub struct ErasureNoticeRow {
    pub id: i64,
    pub partner_id: i64,
    pub status: leadrouter_core::status::NoticeStatus,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: EpochMillis,
    pub sent_at: Option<EpochMillis>,
}

/// What came of one attempt.
#[derive(Debug, Clone, Copy)]
pub enum NoticeOutcome<'a> {
    Sent {
        status: i64,
    },
    Retry {
        status: Option<i64>,
        error: &'a str,
        at: EpochMillis,
    },
    Failed {
        status: Option<i64>,
        error: &'a str,
    },
}

impl Store {
    /// The oldest pending notice due at `now`, taken for `lease_ms` (its next attempt is
    /// moved past the lease, so another sender leaves it alone meanwhile).
    pub async fn claim_erasure_notice(
        &self,
        now: EpochMillis,
        lease_ms: i64,
    ) -> Result<Option<ErasureNotice>, StoreError> {
        let row = sqlx::query(
            "UPDATE erasure_notices SET next_attempt_at = $1 WHERE id = (SELECT id \
             FROM erasure_notices WHERE status = 'pending' AND next_attempt_at <= $2 \
             ORDER BY id LIMIT 1) AND status = 'pending' AND next_attempt_at <= $2 \
             RETURNING id, partner_id, body, attempts",
        )
        .bind(now + lease_ms)
        .bind(now)
        .fetch_optional(self.write(Priority::Background).await.pool())
        .await?;
        row.map(|r| {
            Ok(ErasureNotice {
                id: r.try_get(0)?,
                partner_id: r.try_get(1)?,
                body: r.try_get(2)?,
                attempts: r.try_get(3)?,
            })
        })
        .transpose()
    }

    /// When the next pending notice falls due (for the sender's sleep).
    pub async fn next_erasure_notice_due(&self) -> Result<Option<EpochMillis>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(next_attempt_at) AS due FROM erasure_notices WHERE status = 'pending'",
        )
        .fetch_one(self.reader())
        .await?;
        Ok(row.try_get("due")?)
    }

    pub async fn record_erasure_notice(
        &self,
        id: i64,
        outcome: NoticeOutcome<'_>,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        let (status, code, error, next, sent) = match outcome {
            NoticeOutcome::Sent { status } => ("sent", Some(status), None, now, Some(now)),
            NoticeOutcome::Retry { status, error, at } => {
                ("pending", status, Some(error), at, None)
            }
            NoticeOutcome::Failed { status, error } => ("failed", status, Some(error), now, None),
        };
        sqlx::query(
            "UPDATE erasure_notices SET status = $1, last_status = $2, last_error = $3, \
             next_attempt_at = $4, sent_at = $5, attempts = attempts + 1 WHERE id = $6",
        )
        .bind(status)
        .bind(code)
        .bind(error)
        .bind(next)
        .bind(sent)
        .bind(id)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(())
    }

    /// Every notice, newest first.
    pub async fn list_erasure_notices(
        &self,
        limit: i64,
    ) -> Result<Vec<ErasureNoticeRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, partner_id, status, attempts, last_status, last_error, created_at, \
             sent_at FROM erasure_notices ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ErasureNoticeRow {
                    id: r.try_get(0)?,
                    partner_id: r.try_get(1)?,
                    status: crate::states::state(
                        r,
                        "status",
                        leadrouter_core::status::NoticeStatus::parse,
                    )?,
                    attempts: r.try_get(3)?,
                    last_status: r.try_get(4)?,
                    last_error: r.try_get(5)?,
                    created_at: r.try_get(6)?,
                    sent_at: r.try_get(7)?,
                })
            })
            .collect()
    }
}
