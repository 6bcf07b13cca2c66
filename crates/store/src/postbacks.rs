//! Postbacks to suppliers' trackers (API.md "Suppliers"): fed from the leads' history and
//! the conversions (a cursor over each, so that the paths that deliver, fail, return and
//! convert leads write nothing more), one row per lead and event, claimed with a lease by
//! the notice runner, sent with retries and recorded.

use crate::many::{Marks, Statement, CHUNK};
use crate::{Backend, Priority, Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::status::{sql_list, LeadStatus};
use sqlx::Row;

/// Events of the leads' history read per feed.
const FEED_BATCH: i64 = 2_000;

/// What one feed did: postbacks queued, and whether more history waits to be read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fed {
    pub queued: u64,
    pub more: bool,
}

/// A postback due to be sent, with what its URL's placeholders take from its lead.
#[derive(Debug, Clone)]
pub struct PostbackDue {
    pub id: i64,
    pub source_id: i64,
    pub lead_id: i64,
    pub event: String,
    /// The lead's status the event left it in (`delivered`, `failed`, `converted`, …).
    pub lead_status: String,
    pub attempts: i64,
    /// The lead's values (`None`: the lead is gone).
    pub lead: Option<PostbackLead>,
}

/// What a postback's placeholders take from its lead.
#[derive(Debug, Clone)]
pub struct PostbackLead {
    pub external_id: Option<String>,
    pub cost_cents: i64,
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
}

/// What came of one attempt at a postback, to record.
#[derive(Debug, Clone)]
pub struct PostbackAttempt<'a> {
    pub id: i64,
    /// The URL it was sent to (none when it could not be made).
    pub url: Option<String>,
    pub outcome: PostbackOutcome<'a>,
}

/// A postback as listed (`GET /api/admin/sources/{id}/postbacks`).
#[derive(Debug, Clone)]
pub struct PostbackRow {
    pub id: i64,
    pub lead_id: i64,
    pub event: String,
    pub status: String,
    pub attempts: i64,
    pub url: Option<String>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: EpochMillis,
    pub sent_at: Option<EpochMillis>,
}

/// What came of one attempt: the erasure notices' outcome, one type for the outbox.
pub use crate::erasure_notices::NoticeOutcome as PostbackOutcome;

/// Where the feed has read a stream to: the transaction part (0 on SQLite, where rows
/// become visible in id order) and the id.
type Mark = (i64, i64);

/// One stream the feed reads: the leads' history or the conversions.
struct Stream {
    table: &'static str,
    /// The cursor's columns in `postback_feed`: (transaction, id).
    cursor: (&'static str, &'static str),
}

const EVENTS: Stream = Stream {
    table: "lead_events",
    cursor: ("lead_events_xid", "lead_events_after"),
};
const CONVERSIONS: Stream = Stream {
    table: "conversions",
    cursor: ("conversions_xid", "conversions_after"),
};

impl Stream {
    /// The condition "row `alias` lies after `from` and at or before `to`" with its four
    /// values bound from `$n` on: on PostgreSQL by (transaction, id), on SQLite by id.
    fn between(&self, backend: Backend, alias: &str, n: usize) -> String {
        match backend {
            Backend::Postgres => format!(
                "({alias}.xid, {alias}.id) > (${a}, ${b}) AND ({alias}.xid, {alias}.id) <= (${c}, ${d})",
                a = n,
                b = n + 1,
                c = n + 2,
                d = n + 3
            ),
            // The transaction parts are 0; bound anyway, so both read the same values.
            Backend::Sqlite => format!(
                "${a} = ${a} AND {alias}.id > ${b} AND ${c} = ${c} AND {alias}.id <= ${d}",
                a = n,
                b = n + 1,
                c = n + 2,
                d = n + 3
            ),
        }
    }

    /// How far the feed may read now: up to `FEED_BATCH` rows past `from` whose
    /// transactions ended before every transaction still running began (`horizon`), so
    /// that no row can later appear behind the cursor.
    async fn upto(
        &self,
        tx: &mut sqlx::AnyConnection,
        backend: Backend,
        from: Mark,
        horizon: i64,
    ) -> Result<(Mark, bool), StoreError> {
        let sql = match backend {
            Backend::Postgres => format!(
                "SELECT xid, id FROM {t} WHERE (xid, id) > ($1, $2) AND xid < $3 \
                 ORDER BY xid, id LIMIT $4",
                t = self.table
            ),
            Backend::Sqlite => format!(
                "SELECT 0 AS xid, id FROM {t} WHERE $1 = $1 AND id > $2 AND $3 = $3 \
                 ORDER BY id LIMIT $4",
                t = self.table
            ),
        };
        let rows = sqlx::query(&sql)
            .bind(from.0)
            .bind(from.1)
            .bind(horizon)
            .bind(FEED_BATCH)
            .fetch_all(&mut *tx)
            .await?;
        let full = rows.len() as i64 >= FEED_BATCH;
        match rows.last() {
            Some(r) => Ok(((r.try_get(0)?, r.try_get(1)?), full)),
            None => Ok((from, false)),
        }
    }
}

impl Store {
    /// Reads the leads' history and the conversions past the feed's cursor and queues a
    /// postback for each event a source with a postback URL chose (each lead and event
    /// once). Returns how many were queued.
    pub async fn feed_postbacks(&self, now: EpochMillis) -> Result<Fed, StoreError> {
        let backend = self.backend();
        // No source wants postbacks: the cursor simply moves to the end (one cheap look).
        let wanted = sqlx::query("SELECT 1 FROM sources WHERE postback_url IS NOT NULL LIMIT 1")
            .fetch_optional(self.reader())
            .await?
            .is_some();
        if !wanted {
            let last = |t: &str, col: &str| match backend {
                Backend::Postgres => {
                    format!("(SELECT COALESCE(MAX({col}), 0) FROM {t})")
                }
                Backend::Sqlite if col == "xid" => "0".to_string(),
                Backend::Sqlite => format!("(SELECT COALESCE(MAX({col}), 0) FROM {t})"),
            };
            sqlx::query(&format!(
                "UPDATE postback_feed SET lead_events_xid = {}, lead_events_after = {}, \
                 conversions_xid = {}, conversions_after = {} WHERE id = 1",
                last("lead_events", "xid"),
                last("lead_events", "id"),
                last("conversions", "xid"),
                last("conversions", "id"),
            ))
            .execute(self.write(Priority::Background).await.pool())
            .await?;
            return Ok(Fed::default());
        }
        let mut tx = self.begin(Priority::Background).await?;
        let cursor = sqlx::query(
            "SELECT lead_events_xid, lead_events_after, conversions_xid, conversions_after \
             FROM postback_feed WHERE id = 1",
        )
        .fetch_one(&mut *tx)
        .await?;
        let events_from: Mark = (cursor.try_get(0)?, cursor.try_get(1)?);
        let conversions_from: Mark = (cursor.try_get(2)?, cursor.try_get(3)?);
        // The oldest transaction still running: rows of older ones are all visible now.
        let horizon: i64 = match backend {
            Backend::Postgres => sqlx::query("SELECT txid_snapshot_xmin(txid_current_snapshot())")
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?,
            Backend::Sqlite => i64::MAX,
        };
        let (events_to, more_events) = EVENTS.upto(&mut tx, backend, events_from, horizon).await?;
        let (conversions_to, more_conversions) = CONVERSIONS
            .upto(&mut tx, backend, conversions_from, horizon)
            .await?;
        if events_to == events_from && conversions_to == conversions_from {
            return Ok(Fed::default());
        }
        let told = sql_list(
            &[LeadStatus::Delivered, LeadStatus::Returned],
            LeadStatus::as_str,
        );
        let rejected = sql_list(&leadrouter_core::postback::REJECTED, LeadStatus::as_str);
        let from_history = sqlx::query(&format!(
            "INSERT INTO postbacks (source_id, lead_id, event, lead_status, status, \
             next_attempt_at, created_at) \
             SELECT l.source_id, e.lead_id, CASE WHEN e.status IN {told} \
             THEN e.status ELSE 'rejected' END, e.status, 'pending', $1, $1 \
             FROM lead_events e JOIN leads l ON l.id = e.lead_id \
             JOIN sources s ON s.id = l.source_id \
             WHERE {} AND s.postback_url IS NOT NULL \
             AND ((e.status = 'delivered' AND s.postback_events LIKE '%\"delivered\"%') \
             OR (e.status = 'returned' AND s.postback_events LIKE '%\"returned\"%') \
             OR (e.status IN {rejected} \
             AND s.postback_events LIKE '%\"rejected\"%')) \
             ORDER BY e.id ON CONFLICT DO NOTHING",
            EVENTS.between(backend, "e", 2)
        ))
        .bind(now)
        .bind(events_from.0)
        .bind(events_from.1)
        .bind(events_to.0)
        .bind(events_to.1)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let from_conversions = sqlx::query(&format!(
            "INSERT INTO postbacks (source_id, lead_id, event, lead_status, status, \
             next_attempt_at, created_at) \
             SELECT l.source_id, c.lead_id, 'converted', 'converted', 'pending', $1, $1 \
             FROM conversions c JOIN leads l ON l.id = c.lead_id \
             JOIN sources s ON s.id = l.source_id \
             WHERE {} AND s.postback_url IS NOT NULL \
             AND s.postback_events LIKE '%\"converted\"%' \
             ORDER BY c.id ON CONFLICT DO NOTHING",
            CONVERSIONS.between(backend, "c", 2)
        ))
        .bind(now)
        .bind(conversions_from.0)
        .bind(conversions_from.1)
        .bind(conversions_to.0)
        .bind(conversions_to.1)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Another instance that read the same stretch first wins; ours is then dropped.
        let moved = sqlx::query(&format!(
            "UPDATE postback_feed SET {ex} = $1, {ei} = $2, {cx} = $3, {ci} = $4 \
             WHERE id = 1 AND {ex} = $5 AND {ei} = $6 AND {cx} = $7 AND {ci} = $8",
            ex = EVENTS.cursor.0,
            ei = EVENTS.cursor.1,
            cx = CONVERSIONS.cursor.0,
            ci = CONVERSIONS.cursor.1,
        ))
        .bind(events_to.0)
        .bind(events_to.1)
        .bind(conversions_to.0)
        .bind(conversions_to.1)
        .bind(events_from.0)
        .bind(events_from.1)
        .bind(conversions_from.0)
        .bind(conversions_from.1)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            return Ok(Fed::default());
        }
        tx.commit().await?;
        Ok(Fed {
            queued: from_history + from_conversions,
            more: more_events || more_conversions,
        })
    }

    /// Up to `limit` of the oldest pending postbacks due at `now`, taken for `lease_ms`
    /// (their next attempt is moved past the lease, so another sender leaves them alone).
    pub async fn claim_postbacks(
        &self,
        now: EpochMillis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<PostbackDue>, StoreError> {
        let rows = sqlx::query(
            "UPDATE postbacks SET next_attempt_at = $1 WHERE id IN (SELECT id FROM postbacks \
             WHERE status = 'pending' AND next_attempt_at <= $2 ORDER BY id LIMIT $3) \
             AND status = 'pending' AND next_attempt_at <= $2 \
             RETURNING id, source_id, lead_id, event, lead_status, attempts",
        )
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(self.write(Priority::Background).await.pool())
        .await?;
        let mut due = rows
            .iter()
            .map(|r| {
                Ok(PostbackDue {
                    id: r.try_get(0)?,
                    source_id: r.try_get(1)?,
                    lead_id: r.try_get(2)?,
                    event: r.try_get(3)?,
                    lead_status: r.try_get(4)?,
                    attempts: r.try_get(5)?,
                    lead: None,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        due.sort_by_key(|p| p.id);
        // Their leads' values, in one read.
        let mut ids: Vec<i64> = due.iter().map(|p| p.lead_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut leads = std::collections::HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT id, external_id, cost_cents, custom_fields FROM leads WHERE id IN ({})",
                Marks::new(self.backend()).list(chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.reader()).await? {
                let custom: String = r.try_get("custom_fields")?;
                leads.insert(
                    r.try_get::<i64, _>("id")?,
                    PostbackLead {
                        external_id: r.try_get("external_id")?,
                        cost_cents: r.try_get("cost_cents")?,
                        custom_fields: crate::json::from_text("custom_fields", &custom)?,
                    },
                );
            }
        }
        for p in &mut due {
            p.lead = leads.get(&p.lead_id).cloned();
        }
        Ok(due)
    }

    /// When the next pending postback falls due.
    pub async fn next_postback_due(&self) -> Result<Option<EpochMillis>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(next_attempt_at) AS due FROM postbacks WHERE status = 'pending'",
        )
        .fetch_one(self.reader())
        .await?;
        Ok(row.try_get("due")?)
    }

    /// What came of attempts at postbacks, recorded in one statement per
    /// [`CHUNK`] (one write for a whole batch sent at once).
    pub async fn record_postbacks(
        &self,
        attempts: &[PostbackAttempt<'_>],
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let backend = self.backend();
        let statements: Vec<Statement> = attempts
            .chunks(CHUNK)
            .map(|chunk| {
                let mut st = Statement::new(format!(
                    "UPDATE postbacks SET status = v.column2, last_status = v.column3, \
                     last_error = v.column4, next_attempt_at = v.column5, sent_at = v.column6, \
                     url = v.column7, attempts = attempts + 1 FROM (VALUES {}) AS v \
                     WHERE postbacks.id = v.column1",
                    Marks::new(backend).tuples(chunk.len(), 7)
                ));
                for a in chunk {
                    let (status, code, error, next, sent) = match a.outcome {
                        PostbackOutcome::Sent { status } => {
                            ("sent", Some(status), None, now, Some(now))
                        }
                        PostbackOutcome::Retry { status, error, at } => {
                            ("pending", status, Some(error), at, None)
                        }
                        PostbackOutcome::Failed { status, error } => {
                            ("failed", status, Some(error), now, None)
                        }
                    };
                    st.bind(a.id)
                        .bind(status.to_string())
                        .bind(code)
                        .bind(error.map(str::to_string))
                        .bind(next)
                        .bind(sent)
                        .bind(a.url.clone());
                }
                st
            })
            .collect();
        let mut tx = self.begin(Priority::Background).await?;
        crate::many::run(&mut tx, backend, &statements).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends a failed postback of `source_id` again, now (an operator's retry); false when
    /// there is no such failed postback.
    pub async fn retry_postback(
        &self,
        source_id: i64,
        id: i64,
        now: EpochMillis,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE postbacks SET status = 'pending', next_attempt_at = $1 \
             WHERE id = $2 AND source_id = $3 AND status = 'failed'",
        )
        .bind(now)
        .bind(id)
        .bind(source_id)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A source's postbacks, newest first.
    pub async fn list_postbacks(
        &self,
        source_id: i64,
        limit: i64,
    ) -> Result<Vec<PostbackRow>, StoreError> {
        self.postbacks_where(source_id, None, limit).await
    }

    /// A source's postbacks (of one lead, if given), newest first.
    pub(crate) async fn postbacks_where(
        &self,
        source_id: i64,
        lead_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<PostbackRow>, StoreError> {
        let one_lead = if lead_id.is_some() {
            "AND lead_id = $3"
        } else {
            ""
        };
        let q = format!(
            "SELECT id, lead_id, event, status, attempts, url, last_status, last_error, \
             created_at, sent_at FROM postbacks WHERE source_id = $1 {one_lead} \
             ORDER BY id DESC LIMIT $2"
        );
        let mut q = sqlx::query(&q).bind(source_id).bind(limit);
        if let Some(id) = lead_id {
            q = q.bind(id);
        }
        let rows = q.fetch_all(self.reader()).await?;
        rows.iter()
            .map(|r| {
                Ok(PostbackRow {
                    id: r.try_get("id")?,
                    lead_id: r.try_get("lead_id")?,
                    event: r.try_get("event")?,
                    status: r.try_get("status")?,
                    attempts: r.try_get("attempts")?,
                    url: r.try_get("url")?,
                    last_status: r.try_get("last_status")?,
                    last_error: r.try_get("last_error")?,
                    created_at: r.try_get("created_at")?,
                    sent_at: r.try_get("sent_at")?,
                })
            })
            .collect()
    }
}
