//! A partner's settings and credentials, as operators change them: created (with its API
//! key and signing secret, and the welcome mail), changed, its key or secret rotated. Each
//! re-looks at its market's held leads when what it changed may let the partner take them.
//! The input is a [`PartnerSpec`] already read and checked (core's rules, and the
//! presenter's look at the webhook's DNS); what is issued comes back to be shown once.

use super::partners::recheck_held;
use super::ActionError;
use crate::mail::{self, Mailing};
use crate::secrets;
use crate::signals::Signals;
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::partner::PartnerSpec;
use leadrouter_core::token::{display_prefix, hash_secret};
use leadrouter_store::audit::Actor;
use leadrouter_store::partners::{NewPartnerSecrets, Partner};
use leadrouter_store::Store;

/// The longest a rotated API key may keep working beside the new one.
pub const MAX_KEY_OVERLAP_HOURS: i64 = 7 * 24;

/// How long a rotated signing secret keeps signing beside the new one.
pub const SECRET_OVERLAP_MS: i64 = 24 * 3_600_000;

/// Secrets just issued, shown this once and never again.
#[derive(Debug, Default)]
pub struct Issued {
    pub api_key: Option<String>,
    pub signing_secret: Option<String>,
}

/// Creates a partner with a new API key and signing secret; queues its welcome mail in the
/// same transaction; its market's held leads are looked at again.
pub async fn create_partner(
    store: &Store,
    signals: &Signals,
    mailing: &Mailing,
    spec: &PartnerSpec,
    now: EpochMillis,
    actor: &Actor,
) -> Result<(Partner, Issued), ActionError> {
    let api_key = secrets::new_partner_key();
    let signing_secret = secrets::new_signing_secret();
    let partner = store
        .create_partner(
            spec,
            &NewPartnerSecrets {
                api_key_hash: &hash_secret(&api_key),
                api_key_prefix: &display_prefix(&api_key),
                signing_secret: &signing_secret,
            },
            now,
            &|id| mail::welcome(&mailing.ctx, id, spec).into_iter().collect(),
            actor,
        )
        .await?;
    signals.mail_queued();
    tracing::info!(partner_id = partner.id, "partner created");
    recheck_held(store, signals, Some(&spec.country), Some(&spec.niche), now).await?;
    Ok((
        partner,
        Issued {
            api_key: Some(api_key),
            signing_secret: Some(signing_secret),
        },
    ))
}

/// Changes a partner's settings to `spec`; `action` is `update`, or `revert` for an
/// earlier entry's settings (the audit trail says which).
pub async fn update_partner(
    store: &Store,
    signals: &Signals,
    id: i64,
    spec: &PartnerSpec,
    now: EpochMillis,
    actor: &Actor,
    action: &'static str,
) -> Result<Partner, ActionError> {
    let partner = store.update_partner(id, spec, now, actor, action).await?;
    tracing::info!(partner_id = id, "partner updated");
    recheck_held(store, signals, Some(&spec.country), Some(&spec.niche), now).await?;
    Ok(partner)
}

/// A new API key; the old one keeps working for `keep_old_hours` (0: it stops at once, as
/// for a leaked key; at most [`MAX_KEY_OVERLAP_HOURS`]).
pub async fn rotate_partner_key(
    store: &Store,
    id: i64,
    keep_old_hours: i64,
    now: EpochMillis,
    actor: &Actor,
) -> Result<(Partner, Issued), ActionError> {
    if !(0..=MAX_KEY_OVERLAP_HOURS).contains(&keep_old_hours) {
        return Err(ActionError::Invalid(
            [(
                "keep_old_hours".to_string(),
                format!("must be a whole number of hours from 0 to {MAX_KEY_OVERLAP_HOURS}"),
            )]
            .into(),
        ));
    }
    let api_key = secrets::new_partner_key();
    let old_until = (keep_old_hours > 0).then(|| now + keep_old_hours * 3_600_000);
    let partner = store
        .set_partner_api_key(
            id,
            &hash_secret(&api_key),
            &display_prefix(&api_key),
            old_until,
            now,
            actor,
        )
        .await?;
    tracing::info!(partner_id = id, keep_old_hours, "partner API key rotated");
    Ok((
        partner,
        Issued {
            api_key: Some(api_key),
            ..Issued::default()
        },
    ))
}

/// A new signing secret; the old one keeps signing beside it for 24 hours (both `v1,`
/// signatures in `webhook-signature`).
pub async fn rotate_partner_secret(
    store: &Store,
    id: i64,
    now: EpochMillis,
    actor: &Actor,
) -> Result<(Partner, Issued), ActionError> {
    let signing_secret = secrets::new_signing_secret();
    let partner = store
        .set_partner_signing_secret(id, &signing_secret, now + SECRET_OVERLAP_MS, now, actor)
        .await?;
    tracing::info!(partner_id = id, "partner signing secret rotated");
    Ok((
        partner,
        Issued {
            signing_secret: Some(signing_secret),
            ..Issued::default()
        },
    ))
}
