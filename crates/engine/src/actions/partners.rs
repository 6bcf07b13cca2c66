//! Pausing a partner (by an operator, after a 410, after too many failures), resuming it,
//! deleting it, and sending a partner's waiting deliveries elsewhere.

use crate::mail::{self, Mailing};
use crate::signals::Signals;
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::partner::PartnerSpec;
use leadrouter_core::status::DeliveryStatus;
use leadrouter_store::audit::Actor;
use leadrouter_store::partners::{Partner, PartnerStatus};
use leadrouter_store::{Store, StoreError};

/// Pauses a partner (if not already paused), queues the `partner_paused` mail with it,
/// and sends its waiting deliveries to other partners. `None` if the partner is gone.
pub async fn pause_partner(
    store: &Store,
    signals: &Signals,
    mailing: &Mailing,
    partner_id: i64,
    reason: &str,
    now: EpochMillis,
    actor: &Actor,
) -> Result<Option<Partner>, StoreError> {
    let Some(current) = store.partner(partner_id).await? else {
        return Ok(None);
    };
    if current.status == PartnerStatus::Paused {
        return Ok(Some(current));
    }
    let mails: Vec<_> = mail::paused(&mailing.ctx, partner_id, &current.spec, reason, now)
        .into_iter()
        .collect();
    let Some(paused) = store
        .pause_partner(partner_id, reason, now, &mails, actor)
        .await?
    else {
        // Paused meanwhile by another: that pause said so and moves the waiting leads.
        return store.partner(partner_id).await;
    };
    tracing::warn!(partner_id, reason, "partner paused");
    signals.mail_queued();
    // Not the partner's try: the leads wait for it (held) unless another partner takes
    // them, and come back to it after Resume.
    fail_over_pending(
        store,
        signals,
        partner_id,
        DeliveryStatus::Withdrawn,
        "the partner was paused",
        now,
    )
    .await?;
    Ok(Some(paused))
}

/// Resumes a partner and makes its market's held leads due now.
pub async fn resume_partner(
    store: &Store,
    signals: &Signals,
    partner_id: i64,
    now: EpochMillis,
    actor: &Actor,
) -> Result<Partner, StoreError> {
    let p = store
        .set_partner_status(partner_id, PartnerStatus::Active, None, now, actor)
        .await?;
    tracing::info!(partner_id, "partner resumed");
    partner_changed(store, signals, &p.spec, now).await?;
    Ok(p)
}

/// Deletes a partner (softly: its rows are referenced) and sends its waiting deliveries to
/// other partners.
pub async fn delete_partner(
    store: &Store,
    signals: &Signals,
    partner_id: i64,
    now: EpochMillis,
    actor: &Actor,
) -> Result<(), StoreError> {
    store.delete_partner(partner_id, now, actor).await?;
    tracing::info!(partner_id, "partner deleted");
    fail_over_pending(
        store,
        signals,
        partner_id,
        DeliveryStatus::Failed,
        "the partner was deleted",
        now,
    )
    .await?;
    Ok(())
}

/// A partner was created or changed: its market's held leads are due again now.
pub async fn partner_changed(
    store: &Store,
    signals: &Signals,
    spec: &PartnerSpec,
    now: EpochMillis,
) -> Result<(), StoreError> {
    recheck_held(store, signals, Some(&spec.country), Some(&spec.niche), now).await
}

/// Makes a market's held leads due now and wakes the router: something changed that may
/// let a partner take them.
pub async fn recheck_held(
    store: &Store,
    signals: &Signals,
    country: Option<&str>,
    niche: Option<&str>,
    now: EpochMillis,
) -> Result<(), StoreError> {
    store.recheck_held(country, niche, now).await?;
    signals.routing_changed();
    Ok(())
}

/// Ends a partner's waiting deliveries (not those in flight) so that their leads go to
/// another partner. Returns how many.
pub async fn fail_over_pending(
    store: &Store,
    signals: &Signals,
    partner_id: i64,
    status: DeliveryStatus,
    why: &str,
    now: EpochMillis,
) -> Result<usize, StoreError> {
    let mut moved = 0;
    for id in store.pending_deliveries_of(partner_id, now).await? {
        if store
            .end_delivery_unsuccessfully(id, status, why, now)
            .await?
        {
            moved += 1;
        }
    }
    if moved > 0 {
        signals.routing_changed();
    }
    Ok(moved)
}

/// A revert's status part: puts a partner back to `before` (paused or active) if it is not
/// there now, with the same consequences as an operator's Pause or Resume (the mail, the
/// waiting leads elsewhere or held; the held leads looked at again). `None` if nothing
/// changed.
pub async fn restore_status(
    store: &Store,
    signals: &Signals,
    mailing: &Mailing,
    partner_id: i64,
    before: PartnerStatus,
    now: EpochMillis,
    actor: &Actor,
) -> Result<Option<Partner>, StoreError> {
    let Some(current) = store.partner(partner_id).await? else {
        return Ok(None);
    };
    match (before, current.status) {
        (PartnerStatus::Paused, PartnerStatus::Active) => {
            let reason = "reverted to before an audit entry";
            pause_partner(store, signals, mailing, partner_id, reason, now, actor).await
        }
        (PartnerStatus::Active, PartnerStatus::Paused) => Ok(Some(
            resume_partner(store, signals, partner_id, now, actor).await?,
        )),
        _ => Ok(None),
    }
}
