//! A partner's service: paused (with a reason, and the mails that say so), resumed, or
//! removed.

use super::{partner_from_row, Partner, PartnerStatus, COLUMNS};
use crate::audit::{self, Actor, Change};
use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use serde_json::json;

impl Store {
    /// Pauses (with a reason) or resumes a partner; resuming clears the failure streak.
    pub async fn set_partner_status(
        &self,
        id: i64,
        status: PartnerStatus,
        reason: Option<&str>,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<Partner, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let before = self.partner_in(&mut tx, id).await?;
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
        .fetch_optional(&mut *tx)
        .await?;
        let after = crate::error::found(row, |r| partner_from_row(r, self.sealer()))?;
        let action = match status {
            PartnerStatus::Active => "resume",
            PartnerStatus::Paused => "pause",
        };
        audit::record(&mut tx, actor, &status_change(action, &before, &after), now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Pauses a partner and queues the mails that say so, in one transaction. `None` when
    /// it was paused already (by a racing pause: that one wrote the mail and the entry).
    pub async fn pause_partner(
        &self,
        id: i64,
        reason: &str,
        now: EpochMillis,
        mails: &[crate::outbox::Mail],
        actor: &Actor,
    ) -> Result<Option<Partner>, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let before = self.partner_in(&mut tx, id).await?;
        let row = sqlx::query(&format!(
            "UPDATE partners SET status = 'paused', paused_reason = $1, updated_at = $2 \
             WHERE id = $3 AND deleted_at IS NULL AND status <> 'paused' RETURNING {COLUMNS}"
        ))
        .bind(reason)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let partner = partner_from_row(&row, self.sealer())?;
        self.queue_mails(&mut tx, mails, now).await?;
        audit::record(
            &mut tx,
            actor,
            &status_change("pause", &before, &partner),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(partner))
    }

    /// Removes a partner from service. The row stays (its leads, deliveries and conversions
    /// refer to it) but it is gone from every list and lookup, and its API key stops working.
    pub async fn delete_partner(
        &self,
        id: i64,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let before = self.partner_in(&mut tx, id).await?;
        let done = sqlx::query(
            "UPDATE partners SET deleted_at = $1, status = 'paused', \
             paused_reason = 'deleted', updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let change = Change::new("delete", "partner", Some(id))
            .with(leadrouter_core::audit::partner_changes(
                Some(&before.spec),
                None,
            ))
            .before_partner(&before);
        audit::commit_with(tx, actor, &change, now).await
    }
}

/// A pause or resume: the status and its reason before and after.
fn status_change(action: &'static str, before: &Partner, after: &Partner) -> Change {
    Change::new(action, "partner", Some(after.id))
        .field(
            "status",
            json!(before.status.as_str()),
            json!(after.status.as_str()),
        )
        .field(
            "paused_reason",
            json!(before.paused_reason),
            json!(after.paused_reason),
        )
        .before_partner(before)
}
