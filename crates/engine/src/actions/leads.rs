//! An operator's retry of a lead, and an operator's assignment of a lead to a partner of
//! their choice.

use crate::signals::Signals;
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::localtime::local_date;
use leadrouter_core::windows::charges;
use leadrouter_store::leads::{LeadRecord, LeadStatus};
use leadrouter_store::partners::Partner;
use leadrouter_store::redelivery::NotRetried;
use leadrouter_store::routing::{Reservation, Reserve};
use leadrouter_store::{Store, StoreError};
use serde_json::{json, Value};

/// Puts a held, failed or expired lead back into routing (partners already tried stay
/// excluded); `false` if the lead is in another state.
pub async fn retry_lead(
    store: &Store,
    signals: &Signals,
    lead_id: i64,
    now: EpochMillis,
) -> Result<bool, StoreError> {
    if !store.requeue_lead(lead_id, now).await? {
        return Ok(false);
    }
    tracing::info!(lead_id, "lead retried by an operator");
    signals.routing_changed();
    Ok(true)
}

/// An operator's retry of a failed delivery: the same partner, now. `Ok(Err(..))` says why
/// it could not be retried.
pub async fn retry_delivery(
    store: &Store,
    signals: &Signals,
    delivery_id: i64,
    now: EpochMillis,
) -> Result<Result<i64, NotRetried>, StoreError> {
    let Some((lead_id, partner_id)) = store.delivery_parties(delivery_id).await? else {
        return Ok(Err(NotRetried::NotFailed));
    };
    let (Some(partner), Some(lead)) =
        (store.partner(partner_id).await?, store.lead(lead_id).await?)
    else {
        return Ok(Err(NotRetried::NotFailed));
    };
    let day = local_date(&partner.spec.timezone, now);
    // The explanation says how the lead got there this time, not why it failed before.
    let routing = json!(operator_routing(
        &lead,
        &partner,
        "its failed delivery retried by an operator"
    ));
    // An operator's retry counts in the partner's windows as it does in its day, unguarded.
    let windows = charges(&partner.spec.limits(), &partner.spec.timezone, now, None);
    let retried = store
        .retry_delivery(delivery_id, &day, &windows, &routing, now)
        .await?;
    if let Ok(lead_id) = retried {
        tracing::info!(
            delivery_id,
            lead_id,
            partner_id,
            "failed delivery retried by an operator"
        );
        signals.delivery_due();
    }
    Ok(retried)
}

/// A lead given to a partner by an operator.
pub struct Assigned {
    pub delivery_id: i64,
    /// The partner's count for its today, this lead included, when that passed its limit.
    pub over_cap: Option<i64>,
}

/// Why an operator's assignment did not happen.
pub enum NotAssigned {
    /// The partner had this lead before.
    AlreadyTried,
    /// The lead is no longer in a state that can be assigned.
    NotAssignable,
}

/// Assigns a lead to the partner an operator chose, past its daily limit if need be, and
/// wakes the worker. (Whether the partner's webhook may be reached is the caller's check.)
pub async fn assign_lead(
    store: &Store,
    signals: &Signals,
    lead: &LeadRecord,
    partner: &Partner,
    now: EpochMillis,
) -> Result<Result<Assigned, NotAssigned>, StoreError> {
    let day = local_date(&partner.spec.timezone, now);
    let routing = json!(operator_routing(lead, partner, "assigned by an operator"));
    let outcome = store
        .reserve(
            &Reserve {
                lead_id: lead.id,
                partner_id: partner.id,
                day: &day,
                lead_type: lead.facts().lead_type,
                daily_limit: partner.spec.daily_limit,
                premium_ratio: partner.spec.premium_ratio,
                routing: &routing,
                from: LeadStatus::ASSIGNABLE,
                override_cap: true,
                counter_exists: false,
                windows: &charges(&partner.spec.limits(), &partner.spec.timezone, now, None),
            },
            now,
        )
        .await?;
    let (delivery_id, over_cap) = match outcome {
        Reservation::Assigned {
            delivery_id,
            over_cap,
        } => (delivery_id, over_cap),
        Reservation::AlreadyTried => return Ok(Err(NotAssigned::AlreadyTried)),
        Reservation::LeadGone | Reservation::NoCapacity => {
            return Ok(Err(NotAssigned::NotAssignable))
        }
    };
    let over_cap = if over_cap {
        let counts = store.day_counts(&[(partner.id, day)]).await?;
        Some(counts.get(&partner.id).map_or(0, |c| c.total))
    } else {
        None
    };
    tracing::info!(
        lead_id = lead.id,
        partner_id = partner.id,
        over_cap = over_cap.is_some(),
        "lead assigned by an operator"
    );
    signals.delivery_due();
    Ok(Ok(Assigned {
        delivery_id,
        over_cap,
    }))
}

/// The explanation after an operator's assignment: that partner first, then what routing
/// said of the others before.
fn operator_routing(lead: &LeadRecord, partner: &Partner, how: &str) -> Vec<Value> {
    let mut routing = vec![
        json!({"partner_id": partner.id, "partner_name": partner.spec.name,
        "eligible": true, "reason": how}),
    ];
    if let Some(Value::Array(before)) = &lead.routing {
        routing.extend(
            before
                .iter()
                .filter(|e| e["partner_id"] != json!(partner.id))
                .cloned(),
        );
    }
    routing
}
