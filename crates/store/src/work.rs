//! Whether the running system has anything to do now: for driving every loop until idle
//! (tests, and a future "drain" on shutdown).

use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use sqlx::Row;

/// What counts as work.
pub struct WorkQuery {
    pub now: EpochMillis,
    /// Held leads received at or before this are due to expire.
    pub expire_received_before: EpochMillis,
    /// Whether pending deliveries count (not on an instance that delivers nothing).
    pub deliveries: bool,
    /// Whether queued and held leads count (not on an instance that routes nothing).
    pub routing: bool,
}

impl Store {
    /// `true` while anything is due now or in progress: a lead queued (or being routed), a
    /// held lead due for a look or past its hold limit, a Facebook notification due, a
    /// delivery due to an active partner or leased to a worker, an erasure notice or a
    /// postback due.
    pub async fn work_due(&self, q: &WorkQuery) -> Result<bool, StoreError> {
        let deliveries = if q.deliveries {
            " UNION ALL SELECT 1 FROM (SELECT 1 AS one FROM deliveries d \
             JOIN partners p ON p.id = d.partner_id WHERE d.status = 'pending' \
             AND (d.lease_until > $1 OR (d.next_attempt_at <= $1 AND p.status = 'active')) \
             LIMIT 1) AS delivering"
        } else {
            ""
        };
        let routing = if q.routing {
            "SELECT 1 AS one FROM (SELECT 1 AS one FROM leads WHERE status = 'queued' LIMIT 1) AS queued \
             UNION ALL SELECT 1 FROM (SELECT 1 AS one FROM leads WHERE status = 'held' \
             AND (route_after <= $1 OR received_at <= $2) LIMIT 1) AS held UNION ALL "
        } else {
            // $2 is bound either way.
            "SELECT 1 AS one FROM (SELECT 1 AS one WHERE $2 < 0) AS nothing_to_route UNION ALL "
        };
        let sql = format!(
            "SELECT COUNT(*) AS due FROM ({routing}\
             SELECT 1 FROM (SELECT 1 AS one FROM facebook_notifications \
             WHERE status = 'pending' AND next_attempt_at <= $1 LIMIT 1) AS fetching \
             UNION ALL SELECT 1 FROM (SELECT 1 AS one FROM notifications \
             WHERE status = 'queued' AND next_attempt_at <= $1 LIMIT 1) AS mailing \
             UNION ALL SELECT 1 FROM (SELECT 1 AS one FROM erasure_notices \
             WHERE status = 'pending' AND next_attempt_at <= $1 LIMIT 1) AS telling \
             UNION ALL SELECT 1 FROM (SELECT 1 AS one FROM postbacks \
             WHERE status = 'pending' AND next_attempt_at <= $1 LIMIT 1) AS posting_back\
             {deliveries}) AS work"
        );
        let row = sqlx::query(&sql)
            .bind(q.now)
            .bind(q.expire_received_before)
            .fetch_one(self.reader())
            .await?;
        Ok(row.try_get::<i64, _>("due")? > 0)
    }
}
