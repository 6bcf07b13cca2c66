//! An operator's retry of a failed delivery: the same lead to the same partner again,
//! counted in the partner's day (past its limit if need be, as an operator's assignment is),
//! provided the lead has not gone to another partner meanwhile.

use crate::transition::{transition, Also, Transition};
use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::status::LeadStatus;
use sqlx::Row;

/// Why a retry did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRetried {
    /// No such delivery, or it is not `failed`.
    NotFailed,
    /// The lead is assigned, delivered or otherwise taken care of since.
    LeadMoved,
}

/// The states a lead may be in for its failed delivery to be retried.
const RETRYABLE_FROM: &[LeadStatus] = &[LeadStatus::Failed, LeadStatus::Held, LeadStatus::Expired];

impl Store {
    /// The lead and the partner a delivery is for.
    pub async fn delivery_parties(
        &self,
        delivery_id: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let row = sqlx::query("SELECT lead_id, partner_id FROM deliveries WHERE id = $1")
            .bind(delivery_id)
            .fetch_optional(self.reader())
            .await?;
        row.map(|r| Ok((r.try_get("lead_id")?, r.try_get("partner_id")?)))
            .transpose()
    }

    /// Makes a failed delivery pending again, due now, counted on `day` (the partner's
    /// local today) and in `windows` (its caps' and budgets', unguarded: an operator's
    /// choice, like the day), at the partner's price now, and assigns its lead to that
    /// partner again, with `routing` as its explanation.
    pub async fn retry_delivery(
        &self,
        delivery_id: i64,
        day: &str,
        windows: &[leadrouter_core::windows::Charge],
        routing: &serde_json::Value,
        now: EpochMillis,
    ) -> Result<Result<i64, NotRetried>, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let row = sqlx::query(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, updated_at = $1, \
             lease_until = NULL, lease_owner = NULL, completed_at = NULL, counted_day = $2, \
             counted_windows = $4, price_cents = (SELECT price_per_lead_cents FROM partners \
             WHERE partners.id = deliveries.partner_id) \
             WHERE id = $3 AND status = 'failed' RETURNING lead_id, partner_id, lead_type",
        )
        .bind(now)
        .bind(day)
        .bind(delivery_id)
        .bind(crate::routing::windows::keys_text(windows))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Err(NotRetried::NotFailed));
        };
        let lead_id: i64 = row.try_get("lead_id")?;
        let partner_id: i64 = row.try_get("partner_id")?;
        let charges: Vec<_> = windows.iter().map(|c| (partner_id, c, 1)).collect();
        crate::routing::windows::charge(&mut tx, self.backend(), &charges, true).await?;
        let premium = i64::from(row.try_get::<String, _>("lead_type")? == "premium");
        sqlx::query(
            "INSERT INTO partner_daily_counts (partner_id, day, total, premium, raw) \
             VALUES ($1, $2, 0, 0, 0) ON CONFLICT DO NOTHING",
        )
        .bind(partner_id)
        .bind(day)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE partner_daily_counts SET total = total + 1, premium = premium + $3, \
             raw = raw + $4 WHERE partner_id = $1 AND day = $2",
        )
        .bind(partner_id)
        .bind(day)
        .bind(premium)
        .bind(1 - premium)
        .execute(&mut *tx)
        .await?;
        let moved = transition(
            &mut tx,
            Transition {
                lead_id,
                from: RETRYABLE_FROM,
                to: LeadStatus::Assigned,
                also: vec![
                    Also::PartnerId(Some(partner_id)),
                    Also::Routing(routing.to_string()),
                    Also::RouteAfter(None),
                    Also::ClearHeldSince,
                ],
                detail: Some(format!(
                    "delivery to partner {partner_id} retried by an operator"
                )),
                now,
            },
        )
        .await?;
        if !moved {
            return Ok(Err(NotRetried::LeadMoved));
        }
        tx.commit().await?;
        Ok(Ok(lead_id))
    }
}
