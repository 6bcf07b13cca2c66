//! Routing's writes: claiming leads, reserving a partner's capacity together with the
//! assignment, holding leads with their reasons, expiring them, releasing reservations.

use crate::leads::LeadStatus;
use crate::many::{self, Marks, Script, Statement, CHUNK};
use crate::transition::{transition, Also, Transition};
use crate::{dialect, Store, StoreError};
use leadrouter_core::capacity::quotas;
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::source::LeadType;
use leadrouter_core::status::DeliveryStatus;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

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
}

/// A claim on deliveries being created: `owner` may finish them until `until`.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    pub owner: &'a str,
    pub until: EpochMillis,
}

/// A lead and the partner the router chose for it (see [`Store::assign_many`]).
#[derive(Debug, Clone)]
pub struct Assignment {
    pub lead_id: i64,
    pub partner_id: i64,
    /// The partner-local date whose counter is charged.
    pub day: String,
    pub lead_type: LeadType,
    pub daily_limit: u32,
    pub premium_ratio: u8,
    /// The explanation stored with the lead.
    pub routing: serde_json::Value,
    /// The day's counter row is known to exist.
    pub counter_exists: bool,
}

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
            .fetch_all(self.write(crate::Priority::Background).await.pool())
            .await?;
        many::sorted_ids(&rows)
    }

    /// The partners that already have a delivery of each of these leads, in one query.
    pub async fn tried_partners_of(
        &self,
        lead_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
        let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
        for chunk in lead_ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT lead_id, partner_id FROM deliveries WHERE lead_id IN ({})",
                Marks::new(self.backend()).list(chunk.len())
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
        let mut tx = self
            .write(crate::Priority::Background)
            .await
            .begin()
            .await?;
        if !r.counter_exists {
            sqlx::query(
                "INSERT INTO partner_daily_counts (partner_id, day, total, premium, raw) \
                 VALUES ($1, $2, 0, 0, 0) ON CONFLICT DO NOTHING",
            )
            .bind(r.partner_id)
            .bind(r.day)
            .execute(&mut *tx)
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
        .fetch_optional(&mut *tx)
        .await?;
        let Some(counted) = counted else {
            return Ok(Reservation::NoCapacity);
        };
        let total: i64 = counted.try_get(0)?;
        let over_cap = total > i64::from(r.daily_limit);
        let delivery = sqlx::query(
            "INSERT INTO deliveries (lead_id, partner_id, status, counted_day, lead_type, \
             over_cap, attempt_count, next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, 'pending', $3, $4, $5, 0, $6, $6, $6) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(r.lead_id)
        .bind(r.partner_id)
        .bind(r.day)
        .bind(r.lead_type.as_str())
        .bind(i16::from(over_cap))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(delivery) = delivery else {
            return Ok(Reservation::AlreadyTried);
        };
        let delivery_id: i64 = delivery.try_get(0)?;
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

    /// Assigns many leads at once, each to its chosen partner, in one transaction with a
    /// few statements: capacity is reserved with one guarded counter update per partner
    /// and day, for all of that partner's leads together. `None` (and nothing written) if
    /// anything moved meanwhile: a counter filled up, a lead was routed or a delivery
    /// exists; the caller then routes those leads one by one.
    ///
    /// With `lease`, the deliveries are created claimed by that lease (for a worker of this
    /// process to send at once, without claiming them).
    pub async fn assign_many(
        &self,
        batch: &[Assignment],
        now: EpochMillis,
        lease: Option<&Lease<'_>>,
    ) -> Result<Option<Vec<i64>>, StoreError> {
        if batch.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let backend = self.backend();
        let mut script = Script::default();
        // Today's counter rows, where they may not exist yet.
        let mut missing: Vec<(i64, &str)> = batch
            .iter()
            .filter(|a| !a.counter_exists)
            .map(|a| (a.partner_id, a.day.as_str()))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        for chunk in missing.chunks(CHUNK) {
            let mut st = Statement::new(format!(
                "INSERT INTO partner_daily_counts (partner_id, day, total, premium, raw) \
                 SELECT column1, column2, 0, 0, 0 FROM (VALUES {}) AS v WHERE TRUE \
                 ON CONFLICT DO NOTHING",
                Marks::new(backend).tuples(chunk.len(), 2)
            ));
            for (partner_id, day) in chunk {
                st.bind(*partner_id).bind(*day);
            }
            script.add(st);
        }
        // One guarded update for every partner and day: all of the leads fit, or none is
        // written.
        let mut charges: BTreeMap<(i64, &str), (i64, i64, &Assignment)> = BTreeMap::new();
        for a in batch {
            let c = charges
                .entry((a.partner_id, a.day.as_str()))
                .or_insert((0, 0, a));
            match a.lead_type {
                LeadType::Premium => c.0 += 1,
                LeadType::Raw => c.1 += 1,
            }
        }
        let mut st = Statement::new(format!(
            "UPDATE partner_daily_counts SET total = total + v.column3 + v.column4, \
             premium = premium + v.column3, raw = raw + v.column4 FROM (VALUES {}) AS v \
             WHERE partner_daily_counts.partner_id = v.column1 AND partner_daily_counts.day = v.column2 \
             AND total + v.column3 + v.column4 <= v.column5 \
             AND (v.column3 = 0 OR premium + v.column3 <= v.column6) \
             AND (v.column4 = 0 OR raw + v.column4 <= v.column7)",
            Marks::new(backend).tuples(charges.len(), 7)
        ));
        for ((partner_id, day), (premium, raw, a)) in &charges {
            let quota = quotas(a.daily_limit, a.premium_ratio);
            st.bind(*partner_id)
                .bind(*day)
                .bind(*premium)
                .bind(*raw)
                .bind(i64::from(a.daily_limit))
                .bind(i64::from(quota.premium))
                .bind(i64::from(quota.raw));
        }
        let counts = script.add(st);
        let mut lead_updates = Vec::new();
        for chunk in batch.chunks(CHUNK) {
            // The partner and the explanation of each lead, matched by CASE on its id.
            let mut m = Marks::new(backend);
            let mut st = Statement::default();
            let partner_case: String = chunk
                .iter()
                .map(|a| {
                    st.bind(a.lead_id).bind(a.partner_id);
                    format!(" WHEN {} THEN {}", m.next(), m.next())
                })
                .collect();
            let routing_case: String = chunk
                .iter()
                .map(|a| {
                    st.bind(a.lead_id).bind(a.routing.to_string());
                    format!(" WHEN {} THEN {}", m.next(), m.next())
                })
                .collect();
            st.bind(now);
            for a in chunk {
                st.bind(a.lead_id);
            }
            st.sql = format!(
                "UPDATE leads SET status = 'assigned', partner_id = CASE id{partner_case} END, \
                 routing = CASE id{routing_case} END, route_after = NULL, updated_at = {} \
                 WHERE id IN ({}) AND status IN ('queued', 'held')",
                m.next(),
                m.list(chunk.len())
            );
            lead_updates.push(st);
        }
        let leads = script.add_all(lead_updates);
        let mut inserts = Vec::new();
        for chunk in batch.chunks(CHUNK) {
            let mut m = Marks::new(backend);
            // A leased delivery is next due when its lease ends, as a claimed one.
            let mut st = Statement::default();
            st.bind(lease.map_or(now, |l| l.until))
                .bind(now)
                .bind(now)
                .bind(lease.map(|l| l.until))
                .bind(lease.map(|l| l.owner));
            for a in chunk {
                st.bind(a.lead_id)
                    .bind(a.partner_id)
                    .bind(a.day.as_str())
                    .bind(a.lead_type.as_str());
            }
            st.sql = format!(
                "INSERT INTO deliveries (lead_id, partner_id, status, counted_day, lead_type, \
                 over_cap, attempt_count, next_attempt_at, created_at, updated_at, lease_until, \
                 lease_owner) \
                 SELECT column1, column2, 'pending', column3, column4, 0, 0, {}, {}, {}, {}, {} \
                 FROM (VALUES {}) AS v WHERE TRUE ON CONFLICT DO NOTHING RETURNING id, lead_id",
                m.next(),
                m.next(),
                m.next(),
                m.next(),
                m.next(),
                m.tuples(chunk.len(), 4)
            );
            inserts.push(st);
        }
        let created = script.add_all(inserts);
        let events: Vec<_> = batch
            .iter()
            .map(|a| {
                (
                    a.lead_id,
                    "assigned",
                    Some(format!("partner {}", a.partner_id)),
                    now,
                )
            })
            .collect();
        script.add_all(crate::intake::events_statements(backend, &events));
        let mut tx = self
            .write(crate::Priority::Background)
            .await
            .begin()
            .await?;
        let done = script.run(&mut tx, backend).await?;
        let moved: u64 = done.of(leads).iter().map(|d| d.affected).sum();
        let mut deliveries = HashMap::with_capacity(batch.len());
        for d in done.of(created) {
            for r in &d.rows {
                deliveries.insert(r.try_get::<i64, _>(1)?, r.try_get::<i64, _>(0)?);
            }
        }
        if done.one(counts).affected != charges.len() as u64
            || moved != batch.len() as u64
            || deliveries.len() != batch.len()
        {
            // Dropping the transaction rolls it back.
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(batch.iter().map(|a| deliveries[&a.lead_id]).collect()))
    }

    /// Holds a lead nobody can take now, with the reasons, until `route_after`.
    pub async fn hold_lead(
        &self,
        lead_id: i64,
        routing: &serde_json::Value,
        route_after: EpochMillis,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        let mut tx = self
            .write(crate::Priority::Background)
            .await
            .begin()
            .await?;
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
                ],
                detail: None,
                now,
            },
        )
        .await?;
        if !started {
            // Already held: a new explanation and a new time to look again, same state.
            sqlx::query(
                "UPDATE leads SET routing = $1, route_after = $2, updated_at = $3 \
                 WHERE id = $4 AND status = 'held'",
            )
            .bind(routing.to_string())
            .bind(route_after)
            .bind(now)
            .bind(lead_id)
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
        let mut tx = self
            .write(crate::Priority::Background)
            .await
            .begin()
            .await?;
        transition(
            &mut tx,
            Transition {
                lead_id,
                from: &[LeadStatus::Queued, LeadStatus::Held],
                to: LeadStatus::Failed,
                also: vec![Also::Routing(routing.to_string()), Also::RouteAfter(None)],
                detail: Some("no partner left".into()),
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
        let mut tx = self
            .write(crate::Priority::Background)
            .await
            .begin()
            .await?;
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
        .execute(self.write(crate::Priority::Background).await.pool())
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
        let mut tx = self
            .write(crate::Priority::Background)
            .await
            .begin()
            .await?;
        let moved = transition(
            &mut tx,
            Transition {
                lead_id,
                from: &[LeadStatus::Held, LeadStatus::Failed, LeadStatus::Expired],
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
        let mut tx = self
            .write(crate::Priority::Background)
            .await
            .begin()
            .await?;
        let row = sqlx::query(
            "UPDATE deliveries SET status = $1, last_error = $2, completed_at = $3, updated_at = $3, \
             lease_until = NULL, attempt_count = attempt_count + $5 \
             WHERE id = $4 AND status = 'pending' AND ($6 IS NULL OR lease_owner = $6) \
             RETURNING lead_id, partner_id, counted_day, lead_type",
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
        let lead_id: i64 = row.try_get(0)?;
        let partner_id: i64 = row.try_get(1)?;
        let day: Option<String> = row.try_get(2)?;
        let lead_type: String = row.try_get(3)?;
        let is_premium = i64::from(lead_type == "premium");
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
                detail: Some(format!(
                    "delivery to partner {partner_id} {status}; routing again"
                )),
                now,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
