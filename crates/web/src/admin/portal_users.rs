//! Portal users over the admin API, a partner's and a supplier's alike:
//! `POST /api/admin/partners/{id}/users` (or `/api/admin/sources/{id}/users`) `{"email"}`
//! invites one (a `portal_invite` or `supplier_invite` mail with a one-time link, valid 72
//! hours; without a mail service the answer's `invite_url`, this once),
//! `POST .../users/{user_id}/reinvite` makes a new link and voids the old, `GET` lists
//! them, `DELETE .../users/{user_id}` removes one and ends its sessions. The console's
//! partner and source pages invite and remove through the same functions.

use crate::auth::AdminAuth;
use crate::extract::JsonObject;
use crate::invitations::{invite, reinvite};
use crate::views::MemberView;
use crate::views::{Done, MemberInvited, MemberList, Success};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use leadrouter_store::portal::{Member, Portal};
use serde_json::Value;

pub(crate) fn router() -> Router<AppState> {
    let mut r = Router::new();
    for (portal, base) in [
        (Portal::Partner, "/api/admin/partners/{id}/users"),
        (Portal::Supplier, "/api/admin/sources/{id}/users"),
    ] {
        r = r
            .route(
                base,
                post(move |a, s, p, b| invite_one(portal, a, s, p, b))
                    .get(move |a, s, p| list(portal, a, s, p)),
            )
            .route(
                &format!("{base}/{{user_id}}"),
                delete(move |a, s, p| remove_one(portal, a, s, p)),
            )
            .route(
                &format!("{base}/{{user_id}}/reinvite"),
                post(move |a, s, p| reinvite_one(portal, a, s, p)),
            );
    }
    r
}

fn invited(portal: Portal, u: &Member, invite_url: Option<String>) -> Json<Success<MemberInvited>> {
    Json(Success::of(MemberInvited {
        user: MemberView::new(portal, u),
        invite_url,
    }))
}

async fn invite_one(
    portal: Portal,
    auth: AdminAuth,
    State(state): State<AppState>,
    crate::extract::PathParts(id): crate::extract::PathParts<i64>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Success<MemberInvited>>), ApiError> {
    let email = body
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (u, link) = invite(&state, portal, id, email, &auth.actor()).await?;
    Ok((StatusCode::CREATED, invited(portal, &u, link)))
}

async fn reinvite_one(
    portal: Portal,
    auth: AdminAuth,
    State(state): State<AppState>,
    crate::extract::PathParts((id, user_id)): crate::extract::PathParts<(i64, i64)>,
) -> Result<Json<Success<MemberInvited>>, ApiError> {
    let (u, link) = reinvite(&state, portal, id, user_id, &auth.actor()).await?;
    Ok(invited(portal, &u, link))
}

async fn list(
    portal: Portal,
    _: AdminAuth,
    State(state): State<AppState>,
    crate::extract::PathParts(id): crate::extract::PathParts<i64>,
) -> Result<Json<Success<MemberList>>, ApiError> {
    let users = state.store().list_members(portal, id).await?;
    Ok(Json(Success::of(MemberList {
        users: users.iter().map(|u| MemberView::new(portal, u)).collect(),
    })))
}

async fn remove_one(
    portal: Portal,
    auth: AdminAuth,
    State(state): State<AppState>,
    crate::extract::PathParts((id, user_id)): crate::extract::PathParts<(i64, i64)>,
) -> Result<Json<Success<Done>>, ApiError> {
    if !state
        .store()
        .remove_member(portal, id, user_id, state.now_ms(), &auth.actor())
        .await?
    {
        return Err(ApiError::NotFound("no such user of this account"));
    }
    tracing::info!(owner_id = id, user_id, portal = ?portal, "portal user removed");
    Ok(Json(Success::of(Done {})))
}

/// The routes above serve two portals from one set of closures; their documentation is
/// written once per portal here (`utoipa` documents functions, not closures).
pub(super) mod docs {
    use crate::views::{Done, MemberInvited, MemberList};

    macro_rules! portal_docs {
        ($base:literal, $tag:literal, $invite:ident, $list:ident, $remove:ident, $reinvite:ident) => {
            #[utoipa::path(post, path = $base, tag = $tag, params(("id" = i64, Path, description = "the record's id")),
                request_body(content = Object, content_type = "application/json", description = "{\"email\"}"),
                responses((status = 201, description = "invited", body = MemberInvited)), security(("admin" = [])))]
            #[allow(dead_code)]
            pub fn $invite() {}
            #[utoipa::path(get, path = $base, tag = $tag, params(("id" = i64, Path, description = "the record's id")),
                responses((status = 200, description = "done", body = MemberList)), security(("admin" = [])))]
            #[allow(dead_code)]
            pub fn $list() {}
            #[utoipa::path(delete, path = concat!($base, "/{user_id}"), tag = $tag,
                params(("id" = i64, Path, description = "the record's id"), ("user_id" = i64, Path, description = "the user's id")),
                responses((status = 200, description = "done", body = Done)), security(("admin" = [])))]
            #[allow(dead_code)]
            pub fn $remove() {}
            #[utoipa::path(post, path = concat!($base, "/{user_id}/reinvite"), tag = $tag,
                params(("id" = i64, Path, description = "the record's id"), ("user_id" = i64, Path, description = "the user's id")),
                responses((status = 200, description = "done", body = MemberInvited)), security(("admin" = [])))]
            #[allow(dead_code)]
            pub fn $reinvite() {}
        };
    }
    portal_docs!(
        "/api/admin/partners/{id}/users",
        "partners",
        partner_invite,
        partner_users,
        partner_remove,
        partner_reinvite
    );
    portal_docs!(
        "/api/admin/sources/{id}/users",
        "sources",
        supplier_invite,
        supplier_users,
        supplier_remove,
        supplier_reinvite
    );
}
