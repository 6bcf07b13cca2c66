//! Partner users over the admin API: `POST /api/admin/partners/{id}/users` `{"email"}`
//! invites one (a `portal_invite` mail with a one-time link, valid 72 hours; without a
//! mail service the answer's `invite_url`, this once), `POST .../users/{user_id}/reinvite`
//! makes a new link and voids the old, `GET` lists them, `DELETE .../users/{user_id}`
//! removes one and ends its sessions. The console's
//! partner page invites and removes through the same functions.

use crate::auth::AdminAuth;
use crate::extract::JsonObject;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use leadrouter_core::localtime::rfc3339;
use leadrouter_core::token::hash_secret;
use leadrouter_store::outbox::{Mail, Sending};
use leadrouter_store::portal::{Invitation, NotInvited, PartnerUser, Reinvitation};
use serde_json::{json, Value};

/// How long an invitation link works.
pub(crate) const INVITE_MS: i64 = 72 * 3_600_000;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/partners/{id}/users", post(invite_one).get(list))
        .route(
            "/api/admin/partners/{id}/users/{user_id}",
            delete(remove_one),
        )
        .route(
            "/api/admin/partners/{id}/users/{user_id}/reinvite",
            post(reinvite_one),
        )
}

pub(crate) fn user_json(u: &PartnerUser) -> Value {
    json!({"id": u.id, "partner_id": u.partner_id, "email": u.email,
           "status": if u.accepted_at.is_some() { "active" } else { "invited" },
           "invite_expires_at": u.invite_expires_at.map(rfc3339),
           "last_login_at": u.last_login_at.map(rfc3339)})
}

/// A new invitation link and the `portal_invite` mail that carries it. The mail's stored
/// text holds only a mark where the link goes; the link itself is kept sealed beside it
/// until the mail service has it, and never listed. Without a mail service the link is
/// not kept at all: it is answered this once to the operator who invited, to hand over.
struct Link {
    token: String,
    url: String,
}

impl Link {
    fn new(state: &AppState) -> Link {
        let token = crate::secrets::random_token();
        let url = format!("{}/portal/accept/{token}", state.settings().public_url);
        Link { token, url }
    }

    fn mail(&self, partner_id: i64, to: &str, name: &str) -> impl Fn(i64) -> Mail {
        let (to, name, url) = (to.to_string(), name.to_string(), self.url.clone());
        // Each link its own mail (an invitation sent again is a new one).
        let n = hash_secret(&self.token)[..16].to_string();
        move |user_id: i64| {
            leadrouter_engine::mail::portal_invite(
                partner_id,
                &name,
                to.clone(),
                user_id,
                &n,
                url.clone(),
            )
        }
    }

    /// The link for the operator: only when no mail service sends it.
    fn shown(self, state: &AppState) -> Option<String> {
        (state.mailing().sending == Sending::Off).then_some(self.url)
    }
}

/// Invites `email` to the partner's portal; the link comes back when the operator must
/// hand it over (no mail service).
pub(crate) async fn invite(
    state: &AppState,
    partner_id: i64,
    email: &str,
    actor: &leadrouter_store::audit::Actor,
) -> Result<(PartnerUser, Option<String>), ApiError> {
    let email = email.trim().to_lowercase();
    if !email_address::EmailAddress::is_valid(&email) {
        return Err(ApiError::validation_one(
            "email",
            "must be an e-mail address",
        ));
    }
    let partner = state
        .store()
        .partner(partner_id)
        .await?
        .ok_or(ApiError::NotFound("no such partner"))?;
    let link = Link::new(state);
    let now = state.now_ms();
    let made = state
        .store()
        .invite_partner_user(
            Invitation {
                partner_id,
                email: &email,
                invite_hash: &hash_secret(&link.token),
                expires_at: now + INVITE_MS,
            },
            &link.mail(partner_id, &email, &partner.spec.name),
            state.mailing().sending,
            now,
            actor,
        )
        .await?;
    state.signals().mail_queued();
    match made {
        Ok(u) => {
            tracing::info!(partner_id, user_id = u.id, "partner user invited");
            Ok((u, link.shown(state)))
        }
        Err(NotInvited::EmailTaken) => Err(ApiError::Conflict(
            "this e-mail address already has portal access".into(),
        )),
        Err(NotInvited::NoSuchPartner) => Err(ApiError::NotFound("no such partner")),
    }
}

/// A new invitation for a user who has not set a password yet; the old link stops
/// working.
pub(crate) async fn reinvite(
    state: &AppState,
    partner_id: i64,
    user_id: i64,
    actor: &leadrouter_store::audit::Actor,
) -> Result<(PartnerUser, Option<String>), ApiError> {
    let partner = state
        .store()
        .partner(partner_id)
        .await?
        .ok_or(ApiError::NotFound("no such partner"))?;
    let users = state.store().list_partner_users(partner_id).await?;
    let invited = users
        .iter()
        .find(|u| u.id == user_id && u.accepted_at.is_none())
        .ok_or(ApiError::NotFound(
            "no invited user of this partner by that id",
        ))?;
    let link = Link::new(state);
    let now = state.now_ms();
    let u = state
        .store()
        .reinvite_partner_user(
            Reinvitation {
                partner_id,
                user_id,
                invite_hash: &hash_secret(&link.token),
                expires_at: now + INVITE_MS,
            },
            &link.mail(partner_id, &invited.email, &partner.spec.name),
            state.mailing().sending,
            now,
            actor,
        )
        .await?
        .ok_or(ApiError::NotFound(
            "no invited user of this partner by that id",
        ))?;
    state.signals().mail_queued();
    tracing::info!(partner_id, user_id, "partner user invited again");
    Ok((u, link.shown(state)))
}

fn invited_json(u: &PartnerUser, link: Option<String>) -> Value {
    let mut answer = json!({"success": true, "user": user_json(u)});
    if let Some(url) = link {
        answer["invite_url"] = json!(url);
    }
    answer
}

async fn invite_one(
    auth: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let email = body
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (u, link) = invite(&state, id, email, &auth.actor()).await?;
    Ok((StatusCode::CREATED, Json(invited_json(&u, link))))
}

async fn reinvite_one(
    auth: AdminAuth,
    State(state): State<AppState>,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    let (u, link) = reinvite(&state, id, user_id, &auth.actor()).await?;
    Ok(Json(invited_json(&u, link)))
}

async fn list(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let users = state.store().list_partner_users(id).await?;
    Ok(Json(
        json!({"success": true, "users": users.iter().map(user_json).collect::<Vec<_>>()}),
    ))
}

async fn remove_one(
    auth: AdminAuth,
    State(state): State<AppState>,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    if !state
        .store()
        .remove_partner_user(id, user_id, state.now_ms(), &auth.actor())
        .await?
    {
        return Err(ApiError::NotFound("no such user of this partner"));
    }
    tracing::info!(partner_id = id, user_id, "partner user removed");
    Ok(Json(json!({"success": true})))
}
