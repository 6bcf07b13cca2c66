//! Partner users over the admin API: `POST /api/admin/partners/{id}/users` `{"email"}`
//! invites one (a `portal_invite` mail with a one-time link, valid 72 hours; without a
//! mail service the answer's `invite_url`, this once), `POST .../users/{user_id}/reinvite`
//! makes a new link and voids the old, `GET` lists them, `DELETE .../users/{user_id}`
//! removes one and ends its sessions. The console's
//! partner page invites and removes through the same functions.

use crate::auth::AdminAuth;
use crate::extract::JsonObject;
use crate::invitations::{invite, reinvite};
use crate::views::PartnerUserView;
use crate::views::{Done, PartnerUserInvited, PartnerUserList, Success};
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use leadrouter_store::portal::PartnerUser;
use serde_json::Value;

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

fn invited(u: &PartnerUser, invite_url: Option<String>) -> Json<Success<PartnerUserInvited>> {
    Json(Success::of(PartnerUserInvited {
        user: PartnerUserView::new(u),
        invite_url,
    }))
}

async fn invite_one(
    auth: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Success<PartnerUserInvited>>), ApiError> {
    let email = body
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (u, link) = invite(&state, id, email, &auth.actor()).await?;
    Ok((StatusCode::CREATED, invited(&u, link)))
}

async fn reinvite_one(
    auth: AdminAuth,
    State(state): State<AppState>,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<Json<Success<PartnerUserInvited>>, ApiError> {
    let (u, link) = reinvite(&state, id, user_id, &auth.actor()).await?;
    Ok(invited(&u, link))
}

async fn list(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Success<PartnerUserList>>, ApiError> {
    let users = state.store().list_partner_users(id).await?;
    Ok(Json(Success::of(PartnerUserList {
        users: users.iter().map(PartnerUserView::new).collect(),
    })))
}

async fn remove_one(
    auth: AdminAuth,
    State(state): State<AppState>,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<Json<Success<Done>>, ApiError> {
    if !state
        .store()
        .remove_partner_user(id, user_id, state.now_ms(), &auth.actor())
        .await?
    {
        return Err(ApiError::NotFound("no such user of this partner"));
    }
    tracing::info!(partner_id = id, user_id, "partner user removed");
    Ok(Json(Success::of(Done {})))
}
