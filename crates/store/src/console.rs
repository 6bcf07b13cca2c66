//! What the operator's console reads beyond the API's records: today's figures, queue
//! depths, partners' delivery health, the failed-deliveries queue. One grouped query per
//! figure, never one per partner or per row.

use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::status::{sql_list, LeadStatus};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

/// The overview's figures.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    /// Leads received since the start of the operator's day, by their status now.
    pub today_by_status: BTreeMap<String, i64>,
    pub queued: i64,
    pub held: i64,
    /// Deliveries waiting to be sent or retried.
    pub pending_deliveries: i64,
    /// When the longest-waiting queued or held lead arrived.
    pub oldest_waiting: Option<EpochMillis>,
    /// Held leads by why they wait, most first.
    /// (reason, how many); `None`: held with no reason recorded.
    pub held_by_reason: Vec<(Option<String>, i64)>,
}

/// A partner's deliveries over a period.
#[derive(Debug, Clone, Copy, Default)]
pub struct PartnerHealth {
    pub attempts: i64,
    pub delivered: i64,
    /// 95th percentile of attempt latency.
    pub p95_ms: Option<i64>,
    /// Failed attempts since the last success (the pause rule's streak).
    pub failing_streak: i64,
}

/// Deliveries (newest first) whose attempts make a partner's health figures.
pub const HEALTH_SAMPLE: i64 = 200;

/// A row of the failed-deliveries queue.
#[derive(Debug, Clone)]
pub struct FailedDelivery {
    pub id: i64,
    pub lead_id: i64,
    pub partner_id: i64,
    pub partner_name: String,
    pub lead_status: String,
    pub attempt_count: i64,
    pub last_error: Option<String>,
    pub completed_at: Option<EpochMillis>,
    /// When the next try is due (deliveries waiting to retry).
    pub next_attempt_at: Option<EpochMillis>,
}

impl Store {
    pub async fn overview(&self, since: EpochMillis) -> Result<Overview, StoreError> {
        let mut o = Overview::default();
        // Today's leads found by when they arrived, not every lead read in status order.
        let status = crate::dialect::unindexed(self.backend(), "status");
        let today = sqlx::query(&format!(
            "SELECT {status} AS status, COUNT(*) AS n FROM leads WHERE received_at >= $1 \
             GROUP BY {status}"
        ))
        .bind(since)
        .fetch_all(self.reader())
        .await?;
        for r in &today {
            o.today_by_status
                .insert(r.try_get("status")?, r.try_get("n")?);
        }
        let waiting = sqlx::query(&format!(
            "SELECT status, COUNT(*) AS n, MIN(received_at) AS oldest FROM leads \
             WHERE status IN {} GROUP BY status",
            sql_list(LeadStatus::ROUTABLE, LeadStatus::as_str)
        ))
        .fetch_all(self.reader())
        .await?;
        for r in &waiting {
            let status: String = r.try_get("status")?;
            let n: i64 = r.try_get("n")?;
            let oldest: Option<i64> = r.try_get("oldest")?;
            if status == "queued" {
                o.queued = n;
            } else {
                o.held = n;
            }
            o.oldest_waiting = match (o.oldest_waiting, oldest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let pending = sqlx::query("SELECT COUNT(*) AS n FROM deliveries WHERE status = 'pending'")
            .fetch_one(self.reader())
            .await?;
        o.pending_deliveries = pending.try_get("n")?;
        let reasons = sqlx::query(
            "SELECT held_reason, COUNT(*) AS n FROM leads WHERE status = 'held' \
             GROUP BY held_reason ORDER BY COUNT(*) DESC",
        )
        .fetch_all(self.reader())
        .await?;
        for r in &reasons {
            let reason: Option<String> = r.try_get("held_reason")?;
            o.held_by_reason.push((reason, r.try_get("n")?));
        }
        Ok(o)
    }

    /// The attempts of each partner's latest [`HEALTH_SAMPLE`] deliveries (none older than
    /// `since`): how many, how many delivered, the p95 latency; and its current failure
    /// streak. One short indexed read per partner (its newest deliveries first), whatever
    /// the number of attempts stored.
    pub async fn partner_health(
        &self,
        partner_ids: &[i64],
        since: EpochMillis,
    ) -> Result<HashMap<i64, PartnerHealth>, StoreError> {
        let mut out: HashMap<i64, PartnerHealth> = HashMap::new();
        let sql = format!(
            "SELECT latency_ms, outcome FROM delivery_attempts WHERE {} >= $2 AND delivery_id IN \
             (SELECT id FROM deliveries WHERE partner_id = $1 ORDER BY id DESC LIMIT $3)",
            crate::dialect::unindexed(self.backend(), "at")
        );
        for &partner in partner_ids {
            let rows = sqlx::query(&sql)
                .bind(partner)
                .bind(since)
                .bind(HEALTH_SAMPLE)
                .fetch_all(self.reader())
                .await?;
            let mut latencies = Vec::with_capacity(rows.len());
            let h = out.entry(partner).or_default();
            for r in &rows {
                let outcome: String = r.try_get("outcome")?;
                h.attempts += 1;
                h.delivered += i64::from(outcome == "delivered");
                latencies.push(r.try_get::<i64, _>("latency_ms")?);
            }
            latencies.sort_unstable();
            let at = ((latencies.len() as f64) * 0.95).ceil() as usize;
            h.p95_ms = latencies.get(at.saturating_sub(1)).copied();
        }
        let streaks = sqlx::query(
            "SELECT id, consecutive_failures FROM partners WHERE consecutive_failures > 0",
        )
        .fetch_all(self.reader())
        .await?;
        for r in &streaks {
            out.entry(r.try_get("id")?).or_default().failing_streak =
                r.try_get("consecutive_failures")?;
        }
        Ok(out)
    }

    /// Failed deliveries, newest first, optionally of one partner.
    pub async fn failed_deliveries(
        &self,
        partner_id: Option<i64>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<FailedDelivery>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT d.id, d.lead_id, d.partner_id, p.name AS partner_name, l.status AS lead_status, \
             d.attempt_count, d.last_error, d.completed_at, d.next_attempt_at FROM {} \
             JOIN partners p ON p.id = d.partner_id JOIN leads l ON l.id = d.lead_id \
             WHERE d.status = 'failed' AND d.id < $1 AND ($2 IS NULL OR d.partner_id = $2) \
             ORDER BY d.id DESC LIMIT $3",
            crate::dialect::failed_deliveries(self.backend())
        ))
        .bind(before.unwrap_or(i64::MAX))
        .bind(partner_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(delivery_row).collect()
    }

    /// Deliveries waiting to try again after a failed attempt, the soonest due first,
    /// optionally of one partner.
    pub async fn retrying_deliveries(
        &self,
        partner_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<FailedDelivery>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.id, d.lead_id, d.partner_id, p.name AS partner_name, l.status AS lead_status, \
             d.attempt_count, d.last_error, d.completed_at, d.next_attempt_at FROM deliveries d \
             JOIN partners p ON p.id = d.partner_id JOIN leads l ON l.id = d.lead_id \
             WHERE d.status = 'pending' AND d.attempt_count > 0 \
             AND ($1 IS NULL OR d.partner_id = $1) ORDER BY d.next_attempt_at, d.id LIMIT $2",
        )
        .bind(partner_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(delivery_row).collect()
    }

    /// The ids of every failed delivery matching the filter (for "Retry all matching").
    pub async fn failed_delivery_ids(
        &self,
        partner_id: Option<i64>,
    ) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM deliveries WHERE status = 'failed' AND ($1 IS NULL OR partner_id = $1) \
             ORDER BY id",
        )
        .bind(partner_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// A partner's latest deliveries, newest first.
    pub async fn partner_deliveries(
        &self,
        partner_id: i64,
        limit: i64,
    ) -> Result<Vec<crate::deliveries::DeliveryRow>, StoreError> {
        self.deliveries_where(
            "partner_id = $1 ORDER BY id DESC LIMIT $2",
            partner_id,
            limit,
        )
        .await
    }
}

fn delivery_row(r: &sqlx::any::AnyRow) -> Result<FailedDelivery, StoreError> {
    Ok(FailedDelivery {
        id: r.try_get("id")?,
        lead_id: r.try_get("lead_id")?,
        partner_id: r.try_get("partner_id")?,
        partner_name: r.try_get("partner_name")?,
        lead_status: r.try_get("lead_status")?,
        attempt_count: r.try_get("attempt_count")?,
        last_error: r.try_get("last_error")?,
        completed_at: r.try_get("completed_at")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
    })
}
