//! Conversions partners report, and the figures built from them.

use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::conversion::{quality_score, ConversionReport};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct ConversionRow {
    pub id: i64,
    pub lead_id: i64,
    pub partner_id: i64,
    pub conversion_type: String,
    pub value_cents: i64,
    pub external_transaction_id: String,
    pub metadata: Option<serde_json::Value>,
    pub created_at: EpochMillis,
}

#[derive(Debug, Clone)]
pub struct LeadEvent {
    pub status: String,
    pub detail: Option<String>,
    pub at: EpochMillis,
}

/// A partner's results over a period (leads delivered in it, and their conversions).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cpa {
    pub total_leads: i64,
    /// Leads with at least one conversion.
    pub converted_leads: i64,
    pub conversion_events: i64,
    pub revenue_cents: i64,
    /// Sum of the converted leads' quality scores.
    pub quality_sum: i64,
}

impl Store {
    /// Whether the lead was delivered to this partner (the only leads it may touch).
    pub async fn delivered_to(&self, lead_id: i64, partner_id: i64) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 FROM deliveries WHERE lead_id = $1 AND partner_id = $2 AND status = 'delivered'",
        )
        .bind(lead_id)
        .bind(partner_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.is_some())
    }

    /// Records a conversion once per (partner, lead, external transaction id): a repeat,
    /// even a concurrent one, returns `false` and changes nothing.
    pub async fn record_conversion(
        &self,
        partner_id: i64,
        c: &ConversionReport,
        now: EpochMillis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let inserted = sqlx::query(
            "INSERT INTO conversions (lead_id, partner_id, conversion_type, value_cents, \
             external_transaction_id, metadata, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(c.lead_id)
        .bind(partner_id)
        .bind(c.conversion_type.as_str())
        .bind(c.value_cents)
        .bind(&c.external_transaction_id)
        .bind(c.metadata.as_ref().map(|m| m.to_string()))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            return Ok(false);
        }
        crate::leads::lead_event(
            &mut tx,
            c.lead_id,
            "converted",
            Some(c.conversion_type.as_str()),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn lead_conversions(&self, lead_id: i64) -> Result<Vec<ConversionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, lead_id, partner_id, conversion_type, value_cents, external_transaction_id, \
             metadata, created_at FROM conversions WHERE lead_id = $1 ORDER BY id",
        )
        .bind(lead_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let metadata: Option<String> = r.try_get("metadata")?;
                Ok(ConversionRow {
                    id: r.try_get("id")?,
                    lead_id: r.try_get("lead_id")?,
                    partner_id: r.try_get("partner_id")?,
                    conversion_type: r.try_get("conversion_type")?,
                    value_cents: r.try_get("value_cents")?,
                    external_transaction_id: r.try_get("external_transaction_id")?,
                    metadata: metadata.and_then(|m| serde_json::from_str(&m).ok()),
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn lead_events(&self, lead_id: i64) -> Result<Vec<LeadEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT status, detail, at FROM lead_events WHERE lead_id = $1 ORDER BY at, id",
        )
        .bind(lead_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LeadEvent {
                    status: r.try_get("status")?,
                    detail: r.try_get("detail")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    /// A lead's history as one partner may see it: built in SQL from that partner's own
    /// delivery, attempts and conversions only (never another partner's, never free text).
    /// Each entry: (status, at, status code of an attempt). Empty unless the partner was
    /// given the lead.
    pub async fn partner_lead_history(
        &self,
        lead_id: i64,
        partner_id: i64,
    ) -> Result<Vec<(String, EpochMillis, Option<i64>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT 'queued' AS status, l.received_at AS at, CAST(NULL AS BIGINT) AS code, 0 AS k \
             FROM leads l JOIN deliveries d ON d.lead_id = l.id \
             WHERE l.id = $1 AND d.partner_id = $2 \
             UNION ALL SELECT 'assigned', d.created_at, NULL, 1 FROM deliveries d \
             WHERE d.lead_id = $1 AND d.partner_id = $2 \
             UNION ALL SELECT a.outcome, a.at, a.status_code, 2 FROM delivery_attempts a \
             JOIN deliveries d ON d.id = a.delivery_id WHERE d.lead_id = $1 AND d.partner_id = $2 \
             UNION ALL SELECT 'converted', c.created_at, NULL, 3 FROM conversions c \
             WHERE c.lead_id = $1 AND c.partner_id = $2 \
             ORDER BY at, k",
        )
        .bind(lead_id)
        .bind(partner_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// A partner's figures for leads delivered in `[from, to)`.
    pub async fn partner_cpa(
        &self,
        partner_id: i64,
        from: EpochMillis,
        to: EpochMillis,
    ) -> Result<Cpa, StoreError> {
        Ok(self
            .cpa_by_partner(Some(partner_id), from, to)
            .await?
            .remove(&partner_id)
            .unwrap_or_default())
    }

    /// Every partner's (or one's) figures for leads delivered in `[from, to)`: two grouped
    /// queries, whatever the number of partners.
    pub async fn cpa_by_partner(
        &self,
        partner_id: Option<i64>,
        from: EpochMillis,
        to: EpochMillis,
    ) -> Result<std::collections::BTreeMap<i64, Cpa>, StoreError> {
        let one =
            |column: &str| partner_id.map_or_else(String::new, |id| format!("AND {column} = {id}"));
        let totals = sqlx::query(&format!(
            "SELECT partner_id, COUNT(*) AS n FROM deliveries WHERE status = 'delivered' \
             AND completed_at >= $1 AND completed_at < $2 {} GROUP BY partner_id",
            one("partner_id")
        ))
        .bind(from)
        .bind(to)
        .fetch_all(self.reader())
        .await?;
        let mut out: std::collections::BTreeMap<i64, Cpa> = Default::default();
        for r in &totals {
            out.entry(r.try_get("partner_id")?).or_default().total_leads = r.try_get("n")?;
        }
        let rows = sqlx::query(&format!(
            "SELECT c.partner_id, c.lead_id, c.conversion_type, c.value_cents FROM conversions c \
             JOIN deliveries d ON d.lead_id = c.lead_id AND d.partner_id = c.partner_id \
             WHERE d.status = 'delivered' AND d.completed_at >= $1 AND d.completed_at < $2 {} \
             ORDER BY c.partner_id, c.lead_id",
            one("c.partner_id")
        ))
        .bind(from)
        .bind(to)
        .fetch_all(self.reader())
        .await?;
        let mut per_lead: std::collections::BTreeMap<(i64, i64), Vec<String>> = Default::default();
        for r in &rows {
            let (partner, lead): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
            per_lead
                .entry((partner, lead))
                .or_default()
                .push(r.try_get(2)?);
            let cpa = out.entry(partner).or_default();
            cpa.revenue_cents += r.try_get::<i64, _>(3)?;
            cpa.conversion_events += 1;
        }
        for ((partner, _), types) in &per_lead {
            let cpa = out.entry(*partner).or_default();
            cpa.converted_leads += 1;
            cpa.quality_sum += quality_score(types.iter().map(String::as_str));
        }
        Ok(out)
    }
}
