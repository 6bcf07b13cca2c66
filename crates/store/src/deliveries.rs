//! The delivery queue: claiming due deliveries with a lease, recording every attempt, and
//! finishing deliveries exactly once even when a lease ran out and another worker took over.

use crate::many::{self, Marks, Script, Statement, CHUNK};
use crate::Priority;
use crate::{dialect, Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::status::{AttemptOutcome, DeliveryStatus};
use sqlx::Row;
use std::collections::HashSet;

/// A delivery claimed by one worker until `lease_until`.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub lead_id: i64,
    pub partner_id: i64,
    /// Attempts already made.
    pub attempt_count: i64,
    /// This claim's token: only the holder of the current claim may finish the delivery.
    pub claim: String,
    /// When the claim runs out and another worker may take the delivery over.
    pub lease_until: EpochMillis,
}

#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: i64,
    pub lead_id: i64,
    pub partner_id: i64,
    pub status: leadrouter_core::status::DeliveryStatus,
    pub counted_day: Option<String>,
    pub lead_type: leadrouter_core::lead::LeadType,
    pub over_cap: bool,
    pub attempt_count: i64,
    pub created_at: EpochMillis,
    pub completed_at: Option<EpochMillis>,
    pub last_error: Option<String>,
    /// What the partner's answer said (by its `response` setting).
    pub said: Said,
}

/// What a partner's answer said, kept on the delivery: its own id for the lead, an
/// autologin URL for the person's first visit, and its reason for a refusal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Said {
    pub partner_lead_id: Option<String>,
    pub redirect_url: Option<String>,
    pub reason: Option<String>,
}

impl Said {
    pub fn is_empty(&self) -> bool {
        self.partner_lead_id.is_none() && self.redirect_url.is_none() && self.reason.is_none()
    }
}

/// One attempt, as recorded.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub attempt_no: i64,
    pub at: EpochMillis,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub outcome: AttemptOutcome,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    /// The body sent to the partner, as sent.
    pub request_body: Option<String>,
    /// What the answer said, written onto the delivery with the attempt (not a column of
    /// the attempt: read back empty).
    pub said: Said,
}

impl Store {
    /// The lead the partner knows by its own id (from its answer), when one was delivered
    /// to it (the latest, should it have given one id twice).
    pub async fn lead_of_partner_lead_id(
        &self,
        partner_id: i64,
        partner_lead_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT lead_id FROM deliveries WHERE partner_id = $1 AND partner_lead_id = $2 \
             AND status = 'delivered' ORDER BY id DESC LIMIT 1",
        )
        .bind(partner_id)
        .bind(partner_lead_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| r.try_get("lead_id")).transpose()?)
    }

    pub async fn lead_deliveries(&self, lead_id: i64) -> Result<Vec<DeliveryRow>, StoreError> {
        self.deliveries_where("lead_id = $1 ORDER BY id LIMIT $2", lead_id, 1000)
            .await
    }

    /// Deliveries matching `clause` (over `$1` = `id`, `$2` = `limit`).
    pub(crate) async fn deliveries_where(
        &self,
        clause: &str,
        id: i64,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT id, lead_id, partner_id, status, counted_day, lead_type, over_cap, \
             attempt_count, created_at, completed_at, last_error, partner_lead_id, redirect_url, \
             reason FROM deliveries WHERE {clause}"
        ))
        .bind(id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeliveryRow {
                    id: r.try_get("id")?,
                    lead_id: r.try_get("lead_id")?,
                    partner_id: r.try_get("partner_id")?,
                    status: crate::states::state(
                        r,
                        "status",
                        leadrouter_core::status::DeliveryStatus::parse,
                    )?,
                    counted_day: r.try_get("counted_day")?,
                    lead_type: crate::states::state(
                        r,
                        "lead_type",
                        leadrouter_core::lead::LeadType::parse,
                    )?,
                    over_cap: r.try_get::<i64, _>("over_cap")? != 0,
                    attempt_count: r.try_get("attempt_count")?,
                    said: Said {
                        partner_lead_id: r.try_get("partner_lead_id")?,
                        redirect_url: r.try_get("redirect_url")?,
                        reason: r.try_get("reason")?,
                    },
                    created_at: r.try_get("created_at")?,
                    completed_at: r.try_get("completed_at")?,
                    last_error: r.try_get("last_error")?,
                })
            })
            .collect()
    }
    /// Claims up to `limit` due deliveries of active partners for `lease_ms`.
    pub async fn claim_deliveries(
        &self,
        now: EpochMillis,
        lease_ms: i64,
        limit: i64,
        claim: &str,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        self.claim_deliveries_except(now, lease_ms, limit, claim, &[])
            .await
    }

    /// Gives back leases this worker holds but will not use in time (a partner's queue
    /// here is longer than it can send within a lease): each `(delivery, claim)` is due
    /// again at `now` for any claim, unless it is no longer pending under that claim.
    pub async fn release_deliveries(
        &self,
        held: &[(i64, String)],
        now: EpochMillis,
    ) -> Result<u64, StoreError> {
        if held.is_empty() {
            return Ok(0);
        }
        let backend = self.backend();
        let statements: Vec<Statement> = held
            .chunks(CHUNK)
            .map(|chunk| {
                let mut marks = Marks::new(backend);
                let at = marks.next();
                let mut st = Statement::new(format!(
                    "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL, \
                     next_attempt_at = {at} FROM (VALUES {}) AS v \
                     WHERE deliveries.id = v.column1 AND deliveries.lease_owner = v.column2 \
                     AND deliveries.status = 'pending'",
                    marks.tuples(chunk.len(), 2)
                ));
                st.bind(now);
                for (id, claim) in chunk {
                    st.bind(*id).bind(claim.clone());
                }
                st
            })
            .collect();
        let mut tx = self.begin(Priority::Background).await?;
        let done = many::run(&mut tx, backend, &statements).await?;
        tx.commit().await?;
        Ok(done.iter().map(|d| d.affected).sum())
    }

    /// [`Store::claim_deliveries`], leaving the deliveries of the `except` partners (whose
    /// slots are full in the claiming worker) for a later claim.
    pub async fn claim_deliveries_except(
        &self,
        now: EpochMillis,
        lease_ms: i64,
        limit: i64,
        claim: &str,
        except: &[i64],
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let sql = dialect::claim_deliveries_sql(self.backend(), except);
        let persistent = except.is_empty();
        let rows = sqlx::query(&sql)
            .persistent(persistent)
            .bind(now + lease_ms)
            .bind(claim)
            .bind(now)
            .bind(limit)
            .fetch_all(self.write(Priority::Background).await.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ClaimedDelivery {
                    id: r.try_get("id")?,
                    lead_id: r.try_get("lead_id")?,
                    partner_id: r.try_get("partner_id")?,
                    attempt_count: r.try_get("attempt_count")?,
                    claim: claim.to_string(),
                    lease_until: now + lease_ms,
                })
            })
            .collect()
    }

    /// Records an attempt (whatever its outcome) under the current claim.
    pub async fn record_attempt(&self, d: &ClaimedDelivery, a: &Attempt) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let mut statements = vec![attempts_statement(self.backend(), &[(d, a)])];
        statements.extend(said_statement(self.backend(), d, a));
        many::run(&mut tx, self.backend(), &statements).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the successful attempt and marks the delivery delivered, and the lead with
    /// it, in one transaction. `false` if the claim was lost (another worker finished the
    /// delivery): then only the attempt is recorded.
    pub async fn attempt_delivered(
        &self,
        d: &ClaimedDelivery,
        a: &Attempt,
        now: EpochMillis,
    ) -> Result<bool, StoreError> {
        Ok(self.attempts_delivered(&[(d, a)], now).await?[0])
    }

    /// [`Store::attempt_delivered`] for many deliveries in one transaction; on SQLite its
    /// statements go to the writer as one script. The answers match the input.
    pub async fn attempts_delivered(
        &self,
        done: &[(&ClaimedDelivery, &Attempt)],
        now: EpochMillis,
    ) -> Result<Vec<bool>, StoreError> {
        let backend = self.backend();
        let mut script = Script::default();
        // The statements that end deliveries, whose rows say which this claim still held.
        let mut ended = Vec::new();
        for chunk in done.chunks(CHUNK) {
            script.add(attempts_statement(backend, chunk));
            for (d, a) in chunk {
                if let Some(st) = said_statement(backend, d, a) {
                    script.add(st);
                }
            }
            // The deliveries this claim still holds, as a condition on `deliveries`; each
            // statement below repeats it, and the last one ends them.
            let held = |m: &mut Marks, st: &mut Statement| {
                for (d, _) in chunk {
                    st.bind(d.id);
                }
                for (d, _) in chunk {
                    st.bind(d.id).bind(d.claim.as_str());
                }
                format!(
                    "id IN ({}) AND status = 'pending' AND (id, lease_owner) IN (VALUES {})",
                    m.list(chunk.len()),
                    m.tuples(chunk.len(), 2)
                )
            };
            // `status || ''` keeps the planner on the primary key: an index on status
            // would walk every assigned lead.
            let mut m = Marks::new(backend);
            let mut st = Statement::default();
            st.bind(now);
            let first = m.next();
            st.sql = format!(
                "UPDATE leads SET status = 'delivered', updated_at = {first} WHERE id IN \
                 (SELECT lead_id FROM deliveries WHERE {}) AND status || '' = 'assigned'",
                held(&mut m, &mut st)
            );
            script.add(st);
            let mut m = Marks::new(backend);
            let mut st = Statement::default();
            st.bind(now);
            let first = m.next();
            st.sql = format!(
                "INSERT INTO lead_events (lead_id, status, detail, at) \
                 SELECT lead_id, 'delivered', 'partner ' || partner_id, {first} \
                 FROM deliveries WHERE {}",
                held(&mut m, &mut st)
            );
            script.add(st);
            // A delivery ends the partner's failure streak.
            let mut m = Marks::new(backend);
            let mut st = Statement::default();
            st.sql = format!(
                "UPDATE partners SET consecutive_failures = 0, failing_since = NULL \
                 WHERE consecutive_failures > 0 AND id IN (SELECT partner_id FROM deliveries WHERE {})",
                held(&mut m, &mut st)
            );
            script.add(st);
            let mut m = Marks::new(backend);
            let mut st = Statement::default();
            st.bind(now).bind(now);
            let (a, b) = (m.next(), m.next());
            st.sql = format!(
                "UPDATE deliveries SET status = 'delivered', attempt_count = attempt_count + 1, \
                 completed_at = {a}, updated_at = {b}, lease_until = NULL, last_error = NULL \
                 WHERE {} RETURNING id",
                held(&mut m, &mut st)
            );
            ended.push(script.add(st));
        }
        let mut tx = self.begin(Priority::Background).await?;
        let results = script.run(&mut tx, backend).await?;
        tx.commit().await?;
        let won: HashSet<i64> = ended
            .iter()
            .flat_map(|p| results.one(*p).rows.iter().map(|r| r.try_get::<i64, _>(0)))
            .collect::<Result<_, _>>()?;
        Ok(done.iter().map(|(d, _)| won.contains(&d.id)).collect())
    }

    /// Schedules another attempt. `false` if the claim was lost.
    pub async fn schedule_retry(
        &self,
        d: &ClaimedDelivery,
        next_attempt_at: EpochMillis,
        error: &str,
        now: EpochMillis,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE deliveries SET attempt_count = attempt_count + 1, next_attempt_at = $1, \
             last_error = $2, lease_until = NULL, updated_at = $3 \
             WHERE id = $4 AND status = 'pending' AND lease_owner = $5",
        )
        .bind(next_attempt_at)
        .bind(error)
        .bind(now)
        .bind(d.id)
        .bind(&d.claim)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends the delivery as rejected or failed under the current claim: capacity released,
    /// the lead back to routing. `false` if the claim was lost.
    pub async fn finish_unsuccessfully(
        &self,
        d: &ClaimedDelivery,
        status: DeliveryStatus,
        error: &str,
        now: EpochMillis,
    ) -> Result<bool, StoreError> {
        self.end_unsuccessfully(d.id, Some(&d.claim), status, error, now)
            .await
    }

    /// Counts a failed attempt against the partner; returns the streak.
    /// Counts a failed attempt in the partner's streak (which starts its clock on the
    /// first). From `alert_after` failures on, the mails `alert` writes are queued in the
    /// same transaction, keyed by the streak, so the streak mails once however long it
    /// lasts; below that they are not even written.
    pub async fn count_partner_failure(
        &self,
        partner_id: i64,
        now: EpochMillis,
        alert_after: i64,
        alert: &(dyn Fn() -> Vec<crate::outbox::Mail> + Send + Sync),
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let row = sqlx::query(
            "UPDATE partners SET consecutive_failures = consecutive_failures + 1, \
             failing_since = COALESCE(failing_since, $2) WHERE id = $1 \
             RETURNING consecutive_failures, failing_since",
        )
        .bind(partner_id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(0) };
        let streak: i64 = row.try_get("consecutive_failures")?;
        let since: i64 = row.try_get("failing_since")?;
        // Written only when due (the dedupe key makes one per streak).
        if streak >= alert_after {
            let keyed: Vec<crate::outbox::Mail> = alert()
                .into_iter()
                .map(|m| crate::outbox::Mail {
                    dedupe_key: Some(format!("{}:{partner_id}:{since}", m.kind)),
                    ..m
                })
                .collect();
            self.queue_mails(&mut tx, &keyed, now).await?;
        }
        tx.commit().await?;
        Ok(streak)
    }

    /// A partner's pending deliveries that no worker holds right now (to fail them over
    /// when it is paused; one in flight finishes on its own).
    pub async fn pending_deliveries_of(
        &self,
        partner_id: i64,
        now: EpochMillis,
    ) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM deliveries WHERE partner_id = $1 AND status = 'pending' \
             AND (lease_until IS NULL OR lease_until <= $2)",
        )
        .bind(partner_id)
        .bind(now)
        .fetch_all(self.reader())
        .await?;
        many::sorted_ids(&rows)
    }

    /// When the next pending delivery falls due (for the worker's sleep).
    pub async fn next_delivery_due(&self) -> Result<Option<EpochMillis>, StoreError> {
        let row =
            sqlx::query("SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'")
                .fetch_one(self.reader())
                .await?;
        Ok(row.try_get(0)?)
    }
}

/// Records attempts: one multi-row insert.
/// Writes what the answer said onto the delivery this claim still holds (nothing when it
/// said nothing: partners without a `response` setting cost no statement).
fn said_statement(backend: crate::Backend, d: &ClaimedDelivery, a: &Attempt) -> Option<Statement> {
    if a.said.is_empty() {
        return None;
    }
    let mut m = Marks::new(backend);
    let mut st = Statement::new(format!(
        "UPDATE deliveries SET partner_lead_id = COALESCE({}, partner_lead_id), \
         redirect_url = COALESCE({}, redirect_url), reason = {} \
         WHERE id = {} AND status = 'pending' AND lease_owner = {}",
        m.next(),
        m.next(),
        m.next(),
        m.next(),
        m.next()
    ));
    st.bind(a.said.partner_lead_id.as_deref())
        .bind(a.said.redirect_url.as_deref())
        .bind(a.said.reason.as_deref())
        .bind(d.id)
        .bind(d.claim.as_str());
    Some(st)
}

pub(crate) fn attempts_statement(
    backend: crate::Backend,
    attempts: &[(&ClaimedDelivery, &Attempt)],
) -> Statement {
    let mut st = Statement::new(format!(
        "INSERT INTO delivery_attempts (delivery_id, attempt_no, at, status_code, latency_ms, \
         outcome, error, response_excerpt, request_body) VALUES {}",
        Marks::new(backend).tuples(attempts.len(), 9)
    ));
    for (d, a) in attempts {
        st.bind(d.id)
            .bind(a.attempt_no)
            .bind(a.at)
            .bind(a.status_code)
            .bind(a.latency_ms)
            .bind(a.outcome.as_str())
            .bind(a.error.as_deref())
            .bind(a.response_excerpt.as_deref())
            .bind(a.request_body.as_deref());
    }
    st
}
