//! A lead changes state in one place: its status and its history row are written together,
//! inside the caller's transaction, and only if the lead is in one of the states the change
//! starts from (so a lead another task moved meanwhile is left alone).
//!
//! The batch paths (ingest, a routing batch, delivered outcomes) write the same two rows
//! with multi-row statements of their own.

use crate::StoreError;
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::status::LeadStatus;
use sqlx::AnyConnection;

/// Columns a change sets besides `status` and `updated_at`.
#[derive(Debug, Clone)]
pub(crate) enum Also {
    /// The routing explanation (JSON).
    Routing(String),
    PartnerId(Option<i64>),
    /// When the lead is due for routing again (`None`: not scheduled).
    RouteAfter(Option<EpochMillis>),
    /// When the lead started waiting in `held`; kept if it already was.
    HeldSinceIfUnset,
    /// Clears when the lead started waiting.
    ClearHeldSince,
    /// Why it waits, in a word or two.
    HeldReason(String),
}

/// One change of a lead's state.
pub(crate) struct Transition<'a> {
    pub lead_id: i64,
    pub from: &'a [LeadStatus],
    pub to: LeadStatus,
    pub also: Vec<Also>,
    /// The history row's detail.
    pub detail: Option<String>,
    pub now: EpochMillis,
}

/// Applies `t`; `false` (and nothing written) if the lead was not in a `from` state.
pub(crate) async fn transition(
    conn: &mut AnyConnection,
    t: Transition<'_>,
) -> Result<bool, StoreError> {
    let mut sets = vec!["status = $1".to_string(), "updated_at = $2".to_string()];
    let mut n = 3;
    for a in &t.also {
        sets.push(match a {
            Also::Routing(_) => format!("routing = ${n}"),
            Also::PartnerId(_) => format!("partner_id = ${n}"),
            Also::HeldReason(_) => format!("held_reason = ${n}"),
            Also::RouteAfter(_) => format!("route_after = ${n}"),
            Also::HeldSinceIfUnset => format!("held_since = COALESCE(held_since, ${n})"),
            Also::ClearHeldSince => {
                sets.push("held_since = NULL".into());
                continue;
            }
        });
        n += 1;
    }
    let from = t
        .from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE leads SET {} WHERE id = ${n} AND status IN ({from})",
        sets.join(", ")
    );
    let mut q = sqlx::query(&sql).bind(t.to.as_str()).bind(t.now);
    for a in &t.also {
        q = match a {
            Also::Routing(r) => q.bind(r.clone()),
            Also::PartnerId(p) => q.bind(*p),
            Also::HeldReason(r) => q.bind(r.clone()),
            Also::RouteAfter(at) => q.bind(*at),
            Also::HeldSinceIfUnset => q.bind(t.now),
            Also::ClearHeldSince => q,
        };
    }
    let moved = q.bind(t.lead_id).execute(&mut *conn).await?;
    if moved.rows_affected() == 0 {
        return Ok(false);
    }
    crate::leads::lead_event(conn, t.lead_id, t.to.as_str(), t.detail.as_deref(), t.now).await?;
    crate::analytics::mark_lead_stale(conn, t.lead_id, t.now).await?;
    Ok(true)
}
