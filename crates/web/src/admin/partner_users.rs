//! Partner users over the admin API: `POST /api/admin/partners/{id}/users` `{"email"}`
//! invites one (a `portal_invite` mail with a one-time link, valid 72 hours), `GET` lists
//! them, `DELETE .../users/{user_id}` removes one and ends its sessions. The console's
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
use leadrouter_store::portal::{Invitation, NotInvited, PartnerUser};
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
}

pub(crate) fn user_json(u: &PartnerUser) -> Value {
    json!({"id": u.id, "partner_id": u.partner_id, "email": u.email,
           "status": if u.accepted_at.is_some() { "active" } else { "invited" },
           "invite_expires_at": u.invite_expires_at.map(rfc3339),
           "last_login_at": u.last_login_at.map(rfc3339)})
}

/// Invites `email` to the partner's portal.
pub(crate) async fn invite(
    state: &AppState,
    partner_id: i64,
    email: &str,
    actor: &leadrouter_store::audit::Actor,
) -> Result<PartnerUser, ApiError> {
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
    let token = crate::secrets::random_token();
    let now = state.now_ms();
    let link = format!("{}/portal/accept/{token}", state.settings().public_url);
    let name = partner.spec.name.clone();
    let to = email.clone();
    let mail = move |user_id: i64| {
        leadrouter_engine::mail::simple(
            "portal_invite",
            Some(partner_id),
            to.clone(),
            format!("Your access to the {name} lead portal"),
            format!(
                "You have been invited to the partner portal of {name}: your leads, every \
                 delivery attempt, returns and conversions.\n\nSet your password here (the \
                 link works once, for 72 hours):\n{link}\n\nIf you did not expect this, \
                 ignore this message."
            ),
            format!("portal_invite:{user_id}"),
        )
    };
    let made = state
        .store()
        .invite_partner_user(
            Invitation {
                partner_id,
                email: &email,
                invite_hash: &hash_secret(&token),
                expires_at: now + INVITE_MS,
            },
            &mail,
            state.mailing().sending,
            now,
            actor,
        )
        .await?;
    state.signals().mail_queued();
    match made {
        Ok(u) => {
            tracing::info!(partner_id, user_id = u.id, "partner user invited");
            Ok(u)
        }
        Err(NotInvited::EmailTaken) => Err(ApiError::Conflict(
            "this e-mail address already has portal access".into(),
        )),
        Err(NotInvited::NoSuchPartner) => Err(ApiError::NotFound("no such partner")),
    }
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
    let u = invite(&state, id, email, &auth.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"success": true, "user": user_json(&u)})),
    ))
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
