//! Postbacks to suppliers' trackers (API.md "Suppliers"): fed from the leads' history and
//! the conversions (a cursor over each, so that the paths that deliver, fail, return and
//! convert leads write nothing more), one row per lead and event, claimed with a lease by
//! the notice runner, sent with retries and recorded.

use crate::many::{Marks, Statement, CHUNK};
use crate::{Priority, Store, StoreError};
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

impl Store {
    /// Reads the leads' history and the conversions past the feed's cursor and queues a
    /// postback for each event a source with a postback URL chose (each lead and event
    /// once). Returns how many were queued.
    pub async fn feed_postbacks(&self, now: EpochMillis) -> Result<Fed, StoreError> {
        // No source wants postbacks: the cursor simply moves to the end (one cheap look).
        let wanted = sqlx::query("SELECT 1 FROM sources WHERE postback_url IS NOT NULL LIMIT 1")
            .fetch_optional(self.reader())
            .await?
            .is_some();
        if !wanted {
            sqlx::query(
                "UPDATE postback_feed SET \
                 lead_events_after = (SELECT COALESCE(MAX(id), 0) FROM lead_events), \
                 conversions_after = (SELECT COALESCE(MAX(id), 0) FROM conversions) WHERE id = 1",
            )
            .execute(self.write(Priority::Background).await.pool())
            .await?;
            return Ok(Fed::default());
        }
        let mut tx = self.begin(Priority::Background).await?;
        let cursor = sqlx::query(
            "SELECT lead_events_after, conversions_after FROM postback_feed WHERE id = 1",
        )
        .fetch_one(&mut *tx)
        .await?;
        let (events_after, conversions_after): (i64, i64) =
            (cursor.try_get(0)?, cursor.try_get(1)?);
        let events_upto: i64 = sqlx::query(
            "SELECT COALESCE(MAX(id), $1) FROM (SELECT id FROM lead_events WHERE id > $1 \
             ORDER BY id LIMIT $2) AS next_events",
        )
        .bind(events_after)
        .bind(FEED_BATCH)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let conversions_upto: i64 = sqlx::query(
            "SELECT COALESCE(MAX(id), $1) FROM (SELECT id FROM conversions WHERE id > $1 \
             ORDER BY id LIMIT $2) AS next_conversions",
        )
        .bind(conversions_after)
        .bind(FEED_BATCH)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if events_upto == events_after && conversions_upto == conversions_after {
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
             THEN e.status ELSE 'rejected' END, e.status, 'pending', $3, $3 \
             FROM lead_events e JOIN leads l ON l.id = e.lead_id \
             JOIN sources s ON s.id = l.source_id \
             WHERE e.id > $1 AND e.id <= $2 AND s.postback_url IS NOT NULL \
             AND ((e.status = 'delivered' AND s.postback_events LIKE '%\"delivered\"%') \
             OR (e.status = 'returned' AND s.postback_events LIKE '%\"returned\"%') \
             OR (e.status IN {rejected} \
             AND s.postback_events LIKE '%\"rejected\"%')) \
             ORDER BY e.id ON CONFLICT DO NOTHING"
        ))
        .bind(events_after)
        .bind(events_upto)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let from_conversions = sqlx::query(
            "INSERT INTO postbacks (source_id, lead_id, event, lead_status, status, \
             next_attempt_at, created_at) \
             SELECT l.source_id, c.lead_id, 'converted', 'converted', 'pending', $3, $3 \
             FROM conversions c JOIN leads l ON l.id = c.lead_id \
             JOIN sources s ON s.id = l.source_id \
             WHERE c.id > $1 AND c.id <= $2 AND s.postback_url IS NOT NULL \
             AND s.postback_events LIKE '%\"converted\"%' \
             ORDER BY c.id ON CONFLICT DO NOTHING",
        )
        .bind(conversions_after)
        .bind(conversions_upto)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Another instance that read the same stretch first wins; ours is then dropped.
        let moved = sqlx::query(
            "UPDATE postback_feed SET lead_events_after = $1, conversions_after = $2 \
             WHERE id = 1 AND lead_events_after = $3 AND conversions_after = $4",
        )
        .bind(events_upto)
        .bind(conversions_upto)
        .bind(events_after)
        .bind(conversions_after)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            return Ok(Fed::default());
        }
        tx.commit().await?;
        Ok(Fed {
            queued: from_history + from_conversions,
            more: events_upto - events_after >= FEED_BATCH
                || conversions_upto - conversions_after >= FEED_BATCH,
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
