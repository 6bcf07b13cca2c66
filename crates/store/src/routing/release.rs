//! Ending a delivery that did not succeed: its capacity is given back to the partner's
//! day and its lead returns to routing, which skips the partners already tried.

use crate::transition::{transition, Also, Transition};
use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::status::{DeliveryStatus, LeadStatus};
use sqlx::Row;

impl Store {
    /// Ends a pending delivery as `rejected` or `failed`: its capacity is given back and the
    /// lead returns to routing (which skips the partners already tried).
    pub async fn end_delivery_unsuccessfully(
        &self,
        delivery_id: i64,
        status: DeliveryStatus,
        error: &str,
        now: EpochMillis,
    ) -> Result<bool, StoreError> {
        self.end_unsuccessfully(delivery_id, None, status, error, now)
            .await
    }

    /// As [`Store::end_delivery_unsuccessfully`]; with `claim`, only if that claim still
    /// holds the delivery, and the attempt just made is counted.
    pub(crate) async fn end_unsuccessfully(
        &self,
        delivery_id: i64,
        claim: Option<&str>,
        status: DeliveryStatus,
        error: &str,
        now: EpochMillis,
    ) -> Result<bool, StoreError> {
        // A duplicate teaches us the partner has this person (the key read first: reading
        // it may write).
        let key = match status {
            DeliveryStatus::Duplicate => Some(self.contact_key().await?.to_vec()),
            _ => None,
        };
        let mut tx = self.begin(Priority::Background).await?;
        let row = sqlx::query(
            "UPDATE deliveries SET status = $1, last_error = $2, completed_at = $3, updated_at = $3, \
             lease_until = NULL, attempt_count = attempt_count + $5 \
             WHERE id = $4 AND status = 'pending' AND ($6 IS NULL OR lease_owner = $6) \
             RETURNING lead_id, partner_id, counted_day, lead_type, counted_windows, price_cents",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(now)
        .bind(delivery_id)
        .bind(i64::from(claim.is_some()))
        .bind(claim)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let lead_id: i64 = row.try_get("lead_id")?;
        let partner_id: i64 = row.try_get("partner_id")?;
        let day: Option<String> = row.try_get("counted_day")?;
        let lead_type: String = row.try_get("lead_type")?;
        let is_premium = i64::from(lead_type == "premium");
        if let Some(key) = &key {
            crate::known_contacts::learn_from_lead(
                &mut tx,
                self.backend(),
                key,
                partner_id,
                lead_id,
                now,
            )
            .await?;
        }
        super::windows::give_back(
            &mut tx,
            self.backend(),
            partner_id,
            &row.try_get::<String, _>("counted_windows")?,
            row.try_get("price_cents")?,
        )
        .await?;
        if let Some(day) = day {
            sqlx::query(
                "UPDATE partner_daily_counts SET total = total - 1, premium = premium - $3, \
                 raw = raw - $4 WHERE partner_id = $1 AND day = $2 AND total > 0",
            )
            .bind(partner_id)
            .bind(day)
            .bind(is_premium)
            .bind(1 - is_premium)
            .execute(&mut *tx)
            .await?;
        }
        transition(
            &mut tx,
            Transition {
                lead_id,
                from: &[LeadStatus::Assigned],
                to: LeadStatus::Queued,
                also: vec![Also::PartnerId(None), Also::RouteAfter(None)],
                detail: Some(match status {
                    DeliveryStatus::Withdrawn => format!(
                        "delivery to partner {partner_id} withdrawn ({error}; not its try); \
                         routing again"
                    ),
                    _ => format!("delivery to partner {partner_id} {status}; routing again"),
                }),
                now,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
