//! What the supplier portal reads: always one source's leads, their postbacks and its
//! days' counts. The source is a condition of every statement, so another source's lead is
//! simply not found, and no partner column is ever read.

use crate::postbacks::PostbackRow;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::postback::{supplier_status, REJECTED};
use leadrouter_core::status::{sql_list, LeadStatus};
use sqlx::Row;
use std::collections::BTreeMap;

/// A lead as its supplier sees it: our id, its own id, when it arrived, what became of it
/// (in the postbacks' words) and what it earns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierLead {
    pub lead_id: i64,
    pub external_id: Option<String>,
    pub received_at: EpochMillis,
    /// `delivered`, `returned`, `rejected` or `pending`.
    pub status: &'static str,
    /// Whether the buyer reported a conversion for it.
    pub converted: bool,
    /// What the supplier is paid for it: the source's price when it arrived, once it was
    /// delivered (nothing while pending, rejected or returned).
    pub earned_cents: i64,
}

/// One operator day of a supplier's leads, by the day they arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupplierDay {
    pub received: i64,
    pub delivered: i64,
    pub rejected: i64,
    pub returned: i64,
    pub pending: i64,
    pub earned_cents: i64,
}

impl SupplierDay {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &SupplierDay) {
        self.received += other.received;
        self.delivered += other.delivered;
        self.rejected += other.rejected;
        self.returned += other.returned;
        self.pending += other.pending;
        self.earned_cents += other.earned_cents;
    }
}

/// Where a page of a supplier's leads ends: the last lead's arrival and id.
pub type LeadCursor = (EpochMillis, i64);

const LEAD_COLUMNS: &str = "l.id, l.external_id, l.received_at, l.status, l.cost_cents, \
     CASE WHEN EXISTS (SELECT 1 FROM conversions c WHERE c.partner_id = l.partner_id \
     AND c.lead_id = l.id) THEN 1 ELSE 0 END AS converted";

fn lead_row(r: &sqlx::any::AnyRow) -> Result<SupplierLead, StoreError> {
    let status: String = r.try_get("status")?;
    let status = LeadStatus::parse(&status)
        .map(supplier_status)
        .unwrap_or("pending");
    let cost: i64 = r.try_get("cost_cents")?;
    Ok(SupplierLead {
        lead_id: r.try_get("id")?,
        external_id: r.try_get("external_id")?,
        received_at: r.try_get("received_at")?,
        status,
        converted: r.try_get::<i32, _>("converted")? == 1,
        earned_cents: if status == "delivered" { cost } else { 0 },
    })
}

impl Store {
    /// The source's leads, newest first, before `before`; `search` is our lead id or the
    /// supplier's own `external_id`.
    pub async fn supplier_leads(
        &self,
        source_id: i64,
        search: Option<&str>,
        before: Option<LeadCursor>,
        limit: i64,
    ) -> Result<Vec<SupplierLead>, StoreError> {
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        let id = search.and_then(|s| s.trim_start_matches('#').parse::<i64>().ok());
        let filter = match search {
            None => "",
            Some(_) => "AND (l.id = $5 OR l.external_id = $6)",
        };
        let (at, last) = before.unwrap_or((EpochMillis::MAX, i64::MAX));
        let sql = format!(
            "SELECT {LEAD_COLUMNS} FROM leads l WHERE l.source_id = $1 \
             AND (l.received_at < $2 OR (l.received_at = $2 AND l.id < $3)) {filter} \
             ORDER BY l.received_at DESC, l.id DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(source_id)
            .bind(at)
            .bind(last)
            .bind(limit);
        let rows = match search {
            None => rows,
            Some(s) => rows.bind(id.unwrap_or(-1)).bind(s),
        };
        let rows = rows.fetch_all(self.reader()).await?;
        rows.iter().map(lead_row).collect()
    }

    /// The source's lead with this id, if it is the source's.
    pub async fn supplier_lead(
        &self,
        source_id: i64,
        lead_id: i64,
    ) -> Result<Option<SupplierLead>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {LEAD_COLUMNS} FROM leads l WHERE l.source_id = $1 AND l.id = $2"
        ))
        .bind(source_id)
        .bind(lead_id)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(lead_row).transpose()
    }

    /// The postbacks of the source's lead, oldest first.
    pub async fn supplier_lead_postbacks(
        &self,
        source_id: i64,
        lead_id: i64,
    ) -> Result<Vec<PostbackRow>, StoreError> {
        let mut all = self.postbacks_where(source_id, Some(lead_id), 20).await?;
        all.reverse();
        Ok(all)
    }

    /// The source's leads by the operator day they arrived: `days` are `(label, start,
    /// end)`, in order; a day without leads has no entry.
    pub async fn supplier_days(
        &self,
        source_id: i64,
        days: &[(String, EpochMillis, EpochMillis)],
    ) -> Result<BTreeMap<String, SupplierDay>, StoreError> {
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            return Ok(BTreeMap::new());
        };
        // Only numbers and our own `YYYY-MM-DD` labels are written into the statement.
        let cases: Vec<String> = days
            .iter()
            .filter(|(label, _, _)| crate::analytics::raw::is_date(label))
            .map(|(label, s, e)| {
                format!("WHEN received_at >= {s} AND received_at < {e} THEN '{label}'")
            })
            .collect();
        if cases.is_empty() {
            return Ok(BTreeMap::new());
        }
        let rejected = sql_list(&REJECTED, LeadStatus::as_str);
        let rows = sqlx::query(&format!(
            "SELECT day, COUNT(*) AS received, \
             CAST(SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) AS BIGINT) AS delivered, \
             CAST(SUM(CASE WHEN status IN {rejected} THEN 1 ELSE 0 END) AS BIGINT) AS rejected, \
             CAST(SUM(CASE WHEN status = 'returned' THEN 1 ELSE 0 END) AS BIGINT) AS returned, \
             CAST(SUM(CASE WHEN status = 'delivered' THEN cost_cents ELSE 0 END) AS BIGINT) \
             AS earned FROM (SELECT CASE {} END AS day, status, cost_cents FROM leads \
             WHERE source_id = $1 AND received_at >= $2 AND received_at < $3) AS d \
             GROUP BY day",
            cases.join(" ")
        ))
        .bind(source_id)
        .bind(first.1)
        .bind(last.2)
        .fetch_all(self.reader())
        .await?;
        let mut out = BTreeMap::new();
        for r in &rows {
            let Some(day) = r.try_get::<Option<String>, _>("day")? else {
                continue;
            };
            let n = |c: &str| -> Result<i64, StoreError> {
                Ok(r.try_get::<Option<i64>, _>(c)?.unwrap_or(0))
            };
            let (received, delivered, rejected, returned) = (
                n("received")?,
                n("delivered")?,
                n("rejected")?,
                n("returned")?,
            );
            out.insert(
                day,
                SupplierDay {
                    received,
                    delivered,
                    rejected,
                    returned,
                    pending: received - delivered - rejected - returned,
                    earned_cents: n("earned")?,
                },
            );
        }
        Ok(out)
    }
}
