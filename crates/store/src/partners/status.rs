//! A partner's service: paused (with a reason, and the mails that say so), resumed, or
//! removed.

use super::{partner_from_row, Partner, PartnerStatus, COLUMNS};
use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;

impl Store {
    /// Pauses (with a reason) or resumes a partner; resuming clears the failure streak.
    pub async fn set_partner_status(
        &self,
        id: i64,
        status: PartnerStatus,
        reason: Option<&str>,
        now: EpochMillis,
    ) -> Result<Partner, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE partners SET status = $1, paused_reason = $2, updated_at = $3, \
             consecutive_failures = CASE WHEN $1 = 'active' THEN 0 ELSE consecutive_failures END, \
             failing_since = CASE WHEN $1 = 'active' THEN NULL ELSE failing_since END \
             WHERE id = $4 AND deleted_at IS NULL RETURNING {COLUMNS}"
        ))
        .bind(status.as_str())
        .bind(reason)
        .bind(now)
        .bind(id)
        .fetch_optional(self.write(Priority::Background).await.pool())
        .await?;
        crate::error::found(row, |r| partner_from_row(r, self.sealer()))
    }

    /// Pauses a partner and queues the mails that say so, in one transaction.
    pub async fn pause_partner(
        &self,
        id: i64,
        reason: &str,
        now: EpochMillis,
        mails: &[crate::outbox::Mail],
        sending: crate::outbox::Sending,
    ) -> Result<Partner, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let row = sqlx::query(&format!(
            "UPDATE partners SET status = 'paused', paused_reason = $1, updated_at = $2 \
             WHERE id = $3 AND deleted_at IS NULL RETURNING {COLUMNS}"
        ))
        .bind(reason)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let partner = crate::error::found(row, |r| partner_from_row(r, self.sealer()))?;
        crate::outbox::enqueue(&mut tx, mails, sending, now).await?;
        tx.commit().await?;
        Ok(partner)
    }

    /// Removes a partner from service. The row stays (its leads, deliveries and conversions
    /// refer to it) but it is gone from every list and lookup, and its API key stops working.
    pub async fn delete_partner(&self, id: i64, now: EpochMillis) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE partners SET deleted_at = $1, status = 'paused', \
             paused_reason = 'deleted', updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
