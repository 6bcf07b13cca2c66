//! Returns: a partner gives a delivered lead back within the return window; an operator
//! approves (the lead becomes `returned` and, on the partner's same local day, its slot is
//! given back) or declines, with a remark. Every read names the partner when a partner
//! asks, in SQL.

use crate::transition::{transition, Transition};
use crate::{Priority, Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::localtime::local_date;
use leadrouter_core::returns::ReturnRequest;
use leadrouter_core::status::{LeadStatus, ReturnStatus};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A return as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRow {
    pub id: i64,
    pub lead_id: i64,
    pub partner_id: i64,
    pub partner_name: String,
    pub reason: String,
    pub note: Option<String>,
    pub status: leadrouter_core::status::ReturnStatus,
    pub remark: Option<String>,
    pub decided_by: Option<String>,
    pub created_at: EpochMillis,
    pub decided_at: Option<EpochMillis>,
}

/// Why a return was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReturnable {
    /// No lead with this id was delivered to the partner.
    NotDelivered,
    /// Delivered longer ago than the return window.
    PastWindow,
    /// The partner already returned it (pending, approved or declined).
    AlreadyReturned,
}

/// What an operator's decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    pub lead_id: i64,
    pub partner_id: i64,
    /// The partner's count for the lead's day went down by one (still the same local day).
    pub slot_given_back: bool,
}

const COLUMNS: &str = "r.id, r.lead_id, r.partner_id, p.name AS partner_name, r.reason, r.note, \
    r.status, r.remark, r.decided_by, r.created_at, r.decided_at";

fn row(r: &AnyRow) -> Result<ReturnRow, StoreError> {
    Ok(ReturnRow {
        id: r.try_get("id")?,
        lead_id: r.try_get("lead_id")?,
        partner_id: r.try_get("partner_id")?,
        partner_name: r.try_get("partner_name")?,
        reason: r.try_get("reason")?,
        note: r.try_get("note")?,
        status: crate::states::state(r, "status", leadrouter_core::status::ReturnStatus::parse)?,
        remark: r.try_get("remark")?,
        decided_by: r.try_get("decided_by")?,
        created_at: r.try_get("created_at")?,
        decided_at: r.try_get("decided_at")?,
    })
}

impl Store {
    /// Records `partner_id`'s return of a lead delivered to it at most `window_ms` ago.
    pub async fn request_return(
        &self,
        partner_id: i64,
        req: &ReturnRequest,
        window_ms: i64,
        now: EpochMillis,
    ) -> Result<Result<i64, NotReturnable>, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let delivery = sqlx::query(
            "SELECT id, completed_at FROM deliveries \
             WHERE lead_id = $1 AND partner_id = $2 AND status = 'delivered'",
        )
        .bind(req.lead_id)
        .bind(partner_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(delivery) = delivery else {
            return Ok(Err(NotReturnable::NotDelivered));
        };
        let delivered_at: Option<i64> = delivery.try_get("completed_at")?;
        if delivered_at.is_some_and(|t| t + window_ms < now) {
            return Ok(Err(NotReturnable::PastWindow));
        }
        let id = sqlx::query(
            "INSERT INTO returns (lead_id, partner_id, delivery_id, reason, note, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(req.lead_id)
        .bind(partner_id)
        .bind(delivery.try_get::<i64, _>("id")?)
        .bind(req.reason.as_str())
        .bind(req.note.as_deref())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Ok(Err(NotReturnable::AlreadyReturned));
        };
        tx.commit().await?;
        Ok(Ok(id.try_get("id")?))
    }

    /// Returns newest first, of one status and/or one partner, before the id `before`.
    pub async fn list_returns(
        &self,
        status: Option<ReturnStatus>,
        partner_id: Option<i64>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ReturnRow>, StoreError> {
        let mut filter = String::new();
        if let Some(s) = status {
            filter.push_str(&format!(" AND r.status = '{}'", s.as_str()));
        }
        if let Some(p) = partner_id {
            filter.push_str(&format!(" AND r.partner_id = {p}"));
        }
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM returns r JOIN partners p ON p.id = r.partner_id \
             WHERE r.id < $1{filter} ORDER BY r.id DESC LIMIT $2"
        ))
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(row).collect()
    }

    /// A lead's returns (for the console's lead page).
    pub async fn lead_returns(&self, lead_id: i64) -> Result<Vec<ReturnRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM returns r JOIN partners p ON p.id = r.partner_id \
             WHERE r.lead_id = $1 ORDER BY r.id"
        ))
        .bind(lead_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(row).collect()
    }

    /// One return; with `partner_id`, only if it is that partner's.
    pub async fn find_return(
        &self,
        id: i64,
        partner_id: Option<i64>,
    ) -> Result<Option<ReturnRow>, StoreError> {
        let r = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM returns r JOIN partners p ON p.id = r.partner_id \
             WHERE r.id = $1 AND ($2 IS NULL OR r.partner_id = $2)"
        ))
        .bind(id)
        .bind(partner_id)
        .fetch_optional(self.reader())
        .await?;
        r.as_ref().map(row).transpose()
    }

    /// Decides a pending return (`None` if there is none with this id). Approval marks the
    /// lead `returned` and, when the lead was counted on the partner's local today, takes
    /// it off that day's count, in the same transaction.
    pub async fn decide_return(
        &self,
        id: i64,
        approve: bool,
        remark: Option<&str>,
        actor: &str,
        now: EpochMillis,
    ) -> Result<Option<Decided>, StoreError> {
        let status = if approve {
            ReturnStatus::Approved
        } else {
            ReturnStatus::Declined
        };
        let mut tx = self.begin(Priority::Background).await?;
        let decided = sqlx::query(
            "UPDATE returns SET status = $1, remark = $2, decided_by = $3, decided_at = $4 \
             WHERE id = $5 AND status = 'pending' RETURNING lead_id, partner_id, delivery_id",
        )
        .bind(status.as_str())
        .bind(remark)
        .bind(actor)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(d) = decided else {
            return Ok(None);
        };
        let (lead_id, partner_id): (i64, i64) = (d.try_get("lead_id")?, d.try_get("partner_id")?);
        let mut slot_given_back = false;
        if approve {
            transition(
                &mut tx,
                Transition {
                    lead_id,
                    from: &[LeadStatus::Delivered],
                    to: LeadStatus::Returned,
                    also: vec![],
                    detail: Some(format!("returned by partner {partner_id}")),
                    now,
                },
            )
            .await?;
            slot_given_back =
                give_slot_back(&mut tx, self.backend(), d.try_get("delivery_id")?, now).await?;
            // Its cost leaves the figures of the half hour it was delivered in.
            crate::analytics::mark_delivery_stale(&mut tx, d.try_get("delivery_id")?, now).await?;
        }
        tx.commit().await?;
        Ok(Some(Decided {
            lead_id,
            partner_id,
            slot_given_back,
        }))
    }
}

/// Takes a returned lead off its partner's count when it was counted on the partner's
/// local today (an earlier day is over: nothing to give back), and off the windows of its
/// caps and budgets. Whether a slot was given back.
async fn give_slot_back(
    conn: &mut sqlx::AnyConnection,
    backend: crate::Backend,
    delivery_id: i64,
    now: EpochMillis,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "SELECT d.partner_id, d.counted_day, d.lead_type, d.counted_windows, d.price_cents, \
         p.timezone FROM deliveries d JOIN partners p ON p.id = d.partner_id WHERE d.id = $1",
    )
    .bind(delivery_id)
    .fetch_one(&mut *conn)
    .await?;
    // Its caps' and budgets' windows get it back (a window already over is never looked
    // at again: only one still open gains a slot).
    let windows: String = r.try_get("counted_windows")?;
    crate::routing::windows::give_back(
        &mut *conn,
        backend,
        r.try_get("partner_id")?,
        &windows,
        r.try_get("price_cents")?,
    )
    .await?;
    let windows_back = !windows.trim().is_empty();
    let day: Option<String> = r.try_get("counted_day")?;
    let timezone: String = r.try_get("timezone")?;
    if day.as_deref() != Some(local_date(&timezone, now).as_str()) {
        return Ok(windows_back);
    }
    let premium = i64::from(r.try_get::<String, _>("lead_type")? == "premium");
    let done = sqlx::query(
        "UPDATE partner_daily_counts SET total = total - 1, premium = premium - $3, \
         raw = raw - $4 WHERE partner_id = $1 AND day = $2 AND total > 0",
    )
    .bind(r.try_get::<i64, _>("partner_id")?)
    .bind(day)
    .bind(premium)
    .bind(1 - premium)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1 || windows_back)
}
