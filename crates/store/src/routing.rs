//! Routing's writes: claiming leads, reserving a partner's capacity together with the
//! assignment, holding leads with their reasons, expiring them, releasing reservations.

use crate::leads::LeadStatus;
use crate::many::{self, Marks, CHUNK};
use crate::transition::{transition, Also, Transition};
use crate::Priority;
use crate::{dialect, Store, StoreError};
use leadrouter_core::capacity::quotas;
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::source::LeadType;
use leadrouter_core::status::DeliveryStatus;
use leadrouter_core::windows::Charge;
use sqlx::Row;
use std::collections::HashMap;

/// What a reservation attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The lead is assigned; the delivery exists and capacity is counted.
    Assigned { delivery_id: i64, over_cap: bool },
    /// The partner's limit or quota filled up first (another lead won the race).
    NoCapacity,
    /// The lead was routed meanwhile (another router) or is no longer routable.
    LeadGone,
    /// The partner already had a delivery of this lead.
    AlreadyTried,
}

/// The partner as the reservation needs it.
pub struct Reserve<'a> {
    pub lead_id: i64,
    pub partner_id: i64,
    /// The partner-local date whose counter is charged.
    pub day: &'a str,
    pub lead_type: LeadType,
    pub daily_limit: u32,
    pub premium_ratio: u8,
    /// The explanation stored with the lead.
    pub routing: &'a serde_json::Value,
    /// Statuses the lead may be in for this to go ahead.
    pub from: &'a [LeadStatus],
    /// Operator's manual assignment: count it even past the limit.
    pub override_cap: bool,
    /// The day's counter row is known to exist (saves creating it).
    pub counter_exists: bool,
    /// The windows of its caps and budgets it counts in (none without any).
    pub windows: &'a [Charge],
}

mod batch;
mod release;
pub(crate) mod windows;
pub use batch::{Assignment, Lease};

impl Store {
    /// Leads due for routing now, claimed for `lease_ms`.
    pub async fn claim_routable(
        &self,
        now: EpochMillis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(dialect::claim_routable_sql(self.backend()))
            .bind(now + lease_ms)
            .bind(now)
            .bind(limit)
            .fetch_all(self.write(Priority::Background).await.pool())
            .await?;
        many::sorted_ids(&rows)
    }

    /// The partners already tried for each of these leads (a delivery that was their try:
    /// one withdrawn by a pause is not), in one query.
    pub async fn tried_partners_of(
        &self,
        lead_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
        let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
        for chunk in lead_ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT lead_id, partner_id FROM deliveries WHERE lead_id IN ({}) \
                 AND status <> '{}'",
                Marks::new(self.backend()).list(chunk.len()),
                DeliveryStatus::Withdrawn.as_str()
            );
            let mut q = many::query(&sql, chunk.len());
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.reader()).await? {
                out.entry(r.try_get(0)?).or_default().push(r.try_get(1)?);
            }
        }
        Ok(out)
    }

    /// Assigns the lead and reserves the partner's capacity in one transaction, with one
    /// guarded counter update: under any concurrency no partner passes its limit or quota.
    pub async fn reserve(
        &self,
        r: &Reserve<'_>,
        now: EpochMillis,
    ) -> Result<Reservation, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let Some(total) = count_one(&mut tx, r).await? else {
            return Ok(Reservation::NoCapacity);
        };
        let charges: Vec<(i64, &Charge, i64)> =
            r.windows.iter().map(|c| (r.partner_id, c, 1)).collect();
        if !windows::charge(&mut tx, self.backend(), &charges, r.override_cap).await? {
            // A cap or budget filled first: nothing of this transaction is kept.
            return Ok(Reservation::NoCapacity);
        }
        let over_cap = total > i64::from(r.daily_limit);
        let Some(delivery_id) = new_delivery(&mut tx, r, over_cap, now).await? else {
            return Ok(Reservation::AlreadyTried);
        };
        let detail = format!(
            "partner {}{}",
            r.partner_id,
            if over_cap {
                " (over its daily limit, by an operator)"
            } else {
                ""
            }
        );
        // Last, so that its detail can say whether the cap was passed; if the lead moved
        // meanwhile, nothing of this transaction is kept.
        let moved = transition(
            &mut tx,
            Transition {
                lead_id: r.lead_id,
                from: r.from,
                to: LeadStatus::Assigned,
                also: vec![
                    Also::PartnerId(Some(r.partner_id)),
                    Also::Routing(r.routing.to_string()),
                    Also::RouteAfter(None),
                ],
                detail: Some(detail),
                now,
            },
        )
        .await?;
        if !moved {
            return Ok(Reservation::LeadGone);
        }
        tx.commit().await?;
        Ok(Reservation::Assigned {
            delivery_id,
            over_cap,
        })
    }

    /// Holds a lead nobody can take now, with the reasons (`reason` in a word or two, for
    /// the held backlog), until `route_after`.
    pub async fn hold_lead(
        &self,
        lead_id: i64,
        routing: &serde_json::Value,
        reason: &str,
        route_after: EpochMillis,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let started = transition(
            &mut tx,
            Transition {
                lead_id,
                from: &[LeadStatus::Queued],
                to: LeadStatus::Held,
                also: vec![
                    Also::Routing(routing.to_string()),
                    Also::RouteAfter(Some(route_after)),
                    Also::HeldSinceIfUnset,
                    Also::HeldReason(reason.to_string()),
                ],
                detail: None,
                now,
            },
        )
        .await?;
        if !started {
            // Already held: a new explanation and a new time to look again, same state.
            sqlx::query(
                "UPDATE leads SET routing = $1, route_after = $2, updated_at = $3, \
                 held_reason = $5 WHERE id = $4 AND status = 'held'",
            )
            .bind(routing.to_string())
            .bind(route_after)
            .bind(now)
            .bind(lead_id)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends a lead that every partner has tried: `failed`.
    pub async fn fail_lead(
        &self,
        lead_id: i64,
        routing: &serde_json::Value,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.end_unrouted(lead_id, routing, LeadStatus::Failed, "no partner left", now)
            .await
    }

    /// Ends a lead whose hold limit passed before a partner took it: `expired`.
    pub async fn expire_lead(
        &self,
        lead_id: i64,
        routing: &serde_json::Value,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        let why = "held longer than the hold limit";
        self.end_unrouted(lead_id, routing, LeadStatus::Expired, why, now)
            .await
    }

    async fn end_unrouted(
        &self,
        lead_id: i64,
        routing: &serde_json::Value,
        to: LeadStatus,
        detail: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        transition(
            &mut tx,
            Transition {
                lead_id,
                from: LeadStatus::ROUTABLE,
                to,
                also: vec![Also::Routing(routing.to_string()), Also::RouteAfter(None)],
                detail: Some(detail.into()),
                now,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Expires held leads received at or before `received_before`. Returns how many.
    pub async fn expire_held(
        &self,
        received_before: EpochMillis,
        now: EpochMillis,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        sqlx::query(
            "INSERT INTO lead_events (lead_id, status, detail, at) SELECT id, 'expired', \
             'held longer than the hold limit', $1 FROM leads WHERE status = 'held' AND received_at <= $2",
        )
        .bind(now)
        .bind(received_before)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query(
            "UPDATE leads SET status = 'expired', route_after = NULL, updated_at = $1 \
             WHERE status = 'held' AND received_at <= $2",
        )
        .bind(now)
        .bind(received_before)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Makes held leads of a market (or all) due now: something changed that may let a
    /// partner take them (a partner added, resumed, edited; capacity released).
    pub async fn recheck_held(
        &self,
        country: Option<&str>,
        niche: Option<&str>,
        now: EpochMillis,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE leads SET route_after = $1 WHERE status = 'held' \
             AND ($2 IS NULL OR country = $2) AND ($3 IS NULL OR niche = $3)",
        )
        .bind(now)
        .bind(country)
        .bind(niche)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// The earliest time a held lead is due for another look.
    pub async fn next_route_due(&self) -> Result<Option<EpochMillis>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(due) FROM (SELECT MIN(route_after) AS due FROM leads \
             WHERE status = 'queued' AND route_after IS NOT NULL UNION ALL \
             SELECT MIN(route_after) FROM leads WHERE status = 'held' AND route_after IS NOT NULL) \
             AS due_times",
        )
        .fetch_one(self.reader())
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Puts a held, failed or expired lead back into the routing queue (an operator's
    /// retry). Partners already tried stay excluded.
    pub async fn requeue_lead(&self, lead_id: i64, now: EpochMillis) -> Result<bool, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let moved = transition(
            &mut tx,
            Transition {
                lead_id,
                from: LeadStatus::RETRYABLE,
                to: LeadStatus::Queued,
                also: vec![Also::RouteAfter(None), Also::ClearHeldSince],
                detail: Some("retried by an operator".into()),
                now,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(moved)
    }
}

/// Counts the lead against the partner's day with one guarded update; the new total, or
/// `None` when the limit or the lead type's quota is reached (and not overridden).
async fn count_one(
    conn: &mut sqlx::AnyConnection,
    r: &Reserve<'_>,
) -> Result<Option<i64>, StoreError> {
    if !r.counter_exists {
        sqlx::query(
            "INSERT INTO partner_daily_counts (partner_id, day, total, premium, raw) \
             VALUES ($1, $2, 0, 0, 0) ON CONFLICT DO NOTHING",
        )
        .bind(r.partner_id)
        .bind(r.day)
        .execute(&mut *conn)
        .await?;
    }
    let q = quotas(r.daily_limit, r.premium_ratio);
    let is_premium = i64::from(r.lead_type == LeadType::Premium);
    let counted = sqlx::query(
        "UPDATE partner_daily_counts SET total = total + 1, premium = premium + $3, \
         raw = raw + $4 WHERE partner_id = $1 AND day = $2 AND ($8 = 1 OR (total < $5 \
         AND (($3 = 1 AND premium < $6) OR ($3 = 0 AND raw < $7)))) RETURNING total",
    )
    .bind(r.partner_id)
    .bind(r.day)
    .bind(is_premium)
    .bind(1 - is_premium)
    .bind(i64::from(r.daily_limit))
    .bind(i64::from(q.premium))
    .bind(i64::from(q.raw))
    .bind(i64::from(r.override_cap))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(counted.map(|row| row.try_get("total")).transpose()?)
}

/// The lead's delivery to the partner; `None` if the partner already had one for it.
async fn new_delivery(
    conn: &mut sqlx::AnyConnection,
    r: &Reserve<'_>,
    over_cap: bool,
    now: EpochMillis,
) -> Result<Option<i64>, StoreError> {
    let delivery = sqlx::query(&format!(
        "INSERT INTO deliveries (lead_id, partner_id, status, counted_day, lead_type, \
         over_cap, attempt_count, next_attempt_at, created_at, updated_at, price_cents, \
         counted_windows) \
         SELECT $1, $2, 'pending', $3, $4, $5, 0, $6, $6, $6, price_per_lead_cents, $7 \
         FROM partners WHERE id = $2 \
         ON CONFLICT (lead_id, partner_id) DO UPDATE SET {REVIVE} RETURNING id"
    ))
    .bind(r.lead_id)
    .bind(r.partner_id)
    .bind(r.day)
    .bind(r.lead_type.as_str())
    .bind(i16::from(over_cap))
    .bind(now)
    .bind(windows::keys_text(r.windows))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(delivery.map(|row| row.try_get("id")).transpose()?)
}

/// A delivery assigned again to the partner whose pause withdrew it: the same row (one per
/// lead and partner) comes back as a new pending delivery; its attempts so far stay
/// counted. Any other existing delivery means the partner had its try: nothing happens.
pub(crate) const REVIVE: &str = "status = 'pending', counted_day = excluded.counted_day, \
     lead_type = excluded.lead_type, over_cap = excluded.over_cap, \
     next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at, \
     completed_at = NULL, last_error = NULL, lease_until = excluded.lease_until, \
     lease_owner = excluded.lease_owner, price_cents = excluded.price_cents, \
     counted_windows = excluded.counted_windows \
     WHERE deliveries.status = 'withdrawn'";
