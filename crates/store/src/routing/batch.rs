//! A routing batch written in one transaction: every lead's assignment, one guarded
//! counter update for all its partners and days, its deliveries and history, with
//! multi-row statements (on SQLite one script). All of it fits, or nothing is written.

use crate::many::{Marks, Script, Statement, CHUNK};
use crate::Priority;
use crate::{Backend, Store, StoreError};
use leadrouter_core::capacity::quotas;
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::source::LeadType;
use leadrouter_core::status::{sql_list, LeadStatus};
use leadrouter_core::windows::Charge;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

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
    /// The windows of its caps and budgets it counts in (none without any).
    pub windows: Vec<Charge>,
}

impl Store {
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
        script.add_all(counter_rows(backend, batch));
        let (charge, charged) = charges(backend, batch);
        let counts = script.add(charge);
        // Caps beside the daily limit and budgets: one guarded update for all their windows.
        let window_charges: Vec<(i64, &Charge, i64)> = batch
            .iter()
            .flat_map(|a| a.windows.iter().map(move |c| (a.partner_id, c, 1)))
            .collect();
        let windows = (!window_charges.is_empty()).then(|| {
            let (create, update, expected) =
                super::windows::charge_statements(backend, &window_charges, false);
            script.add_all(create);
            (script.add(update), expected)
        });
        let leads = script.add_all(lead_updates(backend, batch, now));
        let created = script.add_all(delivery_inserts(backend, batch, now, lease));
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
        // An older lead (held a while) now counts under its partner in the roll-up.
        let ids: Vec<i64> = batch.iter().map(|a| a.lead_id).collect();
        script.add_all(
            ids.chunks(CHUNK)
                .map(|c| crate::analytics::mark_stale(backend, c, now)),
        );
        let mut tx = self.begin(Priority::Background).await?;
        let done = script.run(&mut tx, backend).await?;
        let moved: u64 = done.of(leads).iter().map(|d| d.affected).sum();
        let mut deliveries = HashMap::with_capacity(batch.len());
        for d in done.of(created) {
            for r in &d.rows {
                deliveries.insert(r.try_get::<i64, _>(1)?, r.try_get::<i64, _>(0)?);
            }
        }
        let windows_fit = windows.is_none_or(|(part, n)| done.one(part).affected == n as u64);
        if done.one(counts).affected != charged as u64
            || !windows_fit
            || moved != batch.len() as u64
            || deliveries.len() != batch.len()
        {
            // Dropping the transaction rolls it back.
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(batch.iter().map(|a| deliveries[&a.lead_id]).collect()))
    }
}

/// Today's counter rows, where they may not exist yet.
fn counter_rows(backend: Backend, batch: &[Assignment]) -> Vec<Statement> {
    let mut out = Vec::new();
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
        out.push(st);
    }
    out
}

/// One guarded update for every partner and day: all of the leads fit, or none is
/// written. Also how many (partner, day) rows it must change.
fn charges(backend: Backend, batch: &[Assignment]) -> (Statement, usize) {
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
    let n = charges.len();
    (st, n)
}

/// Each lead assigned to its partner, with its explanation.
fn lead_updates(backend: Backend, batch: &[Assignment], now: EpochMillis) -> Vec<Statement> {
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
             WHERE id IN ({}) AND status IN {}",
            m.next(),
            m.list(chunk.len()),
            sql_list(LeadStatus::ROUTABLE, LeadStatus::as_str),
        );
        lead_updates.push(st);
    }
    lead_updates
}

/// The deliveries, created leased when `lease` is given.
fn delivery_inserts(
    backend: Backend,
    batch: &[Assignment],
    now: EpochMillis,
    lease: Option<&Lease<'_>>,
) -> Vec<Statement> {
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
                .bind(a.lead_type.as_str())
                .bind(super::windows::keys_text(&a.windows));
        }
        st.sql = format!(
            "INSERT INTO deliveries (lead_id, partner_id, status, counted_day, lead_type, \
             over_cap, attempt_count, next_attempt_at, created_at, updated_at, lease_until, \
             lease_owner, price_cents, counted_windows) \
             SELECT column1, column2, 'pending', column3, column4, 0, 0, {}, {}, {}, {}, {}, \
             (SELECT price_per_lead_cents FROM partners WHERE id = column2), column5 \
             FROM (VALUES {}) AS v WHERE TRUE ON CONFLICT (lead_id, partner_id) \
             DO UPDATE SET {} RETURNING id, lead_id",
            m.next(),
            m.next(),
            m.next(),
            m.next(),
            m.next(),
            m.tuples(chunk.len(), 5),
            crate::routing::REVIVE
        );
        inserts.push(st);
    }
    inserts
}
