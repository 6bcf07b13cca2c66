//! What the partner portal reads: always one partner's deliveries, leads reached through
//! them, and its conversions. The partner is a condition of every statement, so another
//! partner's lead is simply not found.

use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use sqlx::Row;

/// A lead as its partner sees it in the list: our id, when it arrived, what became of the
/// delivery to this partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalLead {
    pub delivery_id: i64,
    pub lead_id: i64,
    pub received_at: EpochMillis,
    pub email: Option<String>,
    /// The delivery's status as the partner knows it: pending, delivered, rejected, failed,
    /// withdrawn (a pause ended it), or returned (delivered, then returned by the partner).
    pub status: String,
    pub delivered_at: Option<EpochMillis>,
    /// The partner's own id for the lead, from its answer.
    pub partner_lead_id: Option<String>,
}

/// A conversion the partner reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalConversion {
    pub lead_id: i64,
    pub conversion_type: String,
    pub value_cents: i64,
    pub external_transaction_id: String,
    pub created_at: EpochMillis,
}

fn lead_row(r: &sqlx::any::AnyRow) -> Result<PortalLead, StoreError> {
    let status: String = r.try_get("status")?;
    let completed: Option<i64> = r.try_get("completed_at")?;
    Ok(PortalLead {
        delivery_id: r.try_get("delivery_id")?,
        lead_id: r.try_get("lead_id")?,
        received_at: r.try_get("received_at")?,
        email: r.try_get("email")?,
        delivered_at: completed.filter(|_| matches!(status.as_str(), "delivered" | "returned")),
        status,
        partner_lead_id: r.try_get("partner_lead_id")?,
    })
}

impl Store {
    /// The partner's leads, newest delivery first, before the delivery id `before`;
    /// `search` is a lead id, a whole e-mail address, or the partner's own id for a lead.
    pub async fn portal_leads(
        &self,
        partner_id: i64,
        search: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<PortalLead>, StoreError> {
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        let id = search.and_then(|s| s.trim_start_matches('#').parse::<i64>().ok());
        let filter = match (search, id) {
            (None, _) => "",
            (Some(_), Some(_)) => "AND (l.id = $4 OR d.partner_lead_id = $5)",
            (Some(_), None) => "AND (l.email = $4 OR d.partner_lead_id = $5)",
        };
        let sql = format!(
            "SELECT d.id AS delivery_id, l.id AS lead_id, l.received_at, l.email, {PORTAL_STATUS}, \
             d.completed_at, d.partner_lead_id FROM deliveries d JOIN leads l ON l.id = d.lead_id \
             WHERE d.partner_id = $1 AND d.id < $2 {filter} ORDER BY d.id DESC LIMIT $3"
        );
        let q = sqlx::query(&sql)
            .bind(partner_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit);
        let q = match (search, id) {
            (None, _) => q,
            (Some(s), Some(id)) => q.bind(id).bind(s),
            (Some(s), None) => q.bind(s.to_lowercase()).bind(s),
        };
        let rows = q.fetch_all(self.reader()).await?;
        rows.iter().map(lead_row).collect()
    }

    /// The partner's delivery of this lead, if it had one.
    pub async fn portal_lead(
        &self,
        partner_id: i64,
        lead_id: i64,
    ) -> Result<Option<PortalLead>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT d.id AS delivery_id, l.id AS lead_id, l.received_at, l.email, {PORTAL_STATUS}, \
             d.completed_at, d.partner_lead_id FROM deliveries d JOIN leads l ON l.id = d.lead_id \
             WHERE d.partner_id = $1 AND d.lead_id = $2"
        ))
        .bind(partner_id)
        .bind(lead_id)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(lead_row).transpose()
    }

    /// The partner's reported conversions, newest first.
    pub async fn portal_conversions(
        &self,
        partner_id: i64,
        limit: i64,
    ) -> Result<Vec<PortalConversion>, StoreError> {
        let rows = sqlx::query(
            "SELECT lead_id, conversion_type, value_cents, external_transaction_id, created_at \
             FROM conversions WHERE partner_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(partner_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PortalConversion {
                    lead_id: r.try_get("lead_id")?,
                    conversion_type: r.try_get("conversion_type")?,
                    value_cents: r.try_get("value_cents")?,
                    external_transaction_id: r.try_get("external_transaction_id")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }
}

/// A delivery's status in the partner's eyes: a delivered lead the partner returned (and
/// the operator approved) reads `returned`.
const PORTAL_STATUS: &str = "CASE WHEN d.status = 'delivered' AND l.status = 'returned' \
     THEN 'returned' ELSE d.status END AS status";
