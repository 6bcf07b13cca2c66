//! A portal's users on the console — a partner's on its page, a supplier's on its
//! source's page: "Invite user" (by e-mail; without a mail service the link is shown this
//! once, to hand over), "Re-send invitation" and "Remove", each a plain form post back to
//! the owner's page.

use super::form::Posted;
use crate::operator::Operator;
use crate::ui::PageError;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use leadrouter_store::portal::Portal;

pub(crate) fn router() -> Router<AppState> {
    let mut r = Router::new();
    for portal in [Portal::Partner, Portal::Supplier] {
        let base = format!("{}/{{id}}/users", owners_path(portal));
        r = r
            .route(&base, post(move |s, p, f| invite_user(portal, s, p, f)))
            .route(
                &format!("{base}/{{user_id}}/reinvite"),
                post(move |s, p, f| reinvite_user(portal, s, p, f)),
            )
            .route(
                &format!("{base}/{{user_id}}/remove"),
                post(move |s, p, f| remove_user(portal, s, p, f)),
            );
    }
    r
}

/// Where the owners' pages are.
fn owners_path(portal: Portal) -> &'static str {
    match portal {
        Portal::Partner => "/admin/partners",
        Portal::Supplier => "/admin/sources",
    }
}

fn back(state: &AppState, op: &Operator, portal: Portal, id: i64, notice: &str) -> Response {
    let path = format!("{}/{id}", owners_path(portal));
    super::flash::redirect_with_notice(state, op, &path, notice)
}

/// "Invite user": a portal user of this partner or source, invited by e-mail.
async fn invite_user(
    portal: Portal,
    State(state): State<AppState>,
    crate::extract::PathParts(id): crate::extract::PathParts<i64>,
    posted: Posted,
) -> Result<Response, PageError> {
    let email = posted.fields.text("email");
    let answer = crate::invitations::invite(&state, portal, id, &email, &posted.op.actor()).await;
    let notice = match answer {
        Ok((u, link)) => return Ok(invited(&state, &posted.op, portal, id, &u.email, link)),
        Err(ApiError::Validation(e)) => format!(
            "Not invited: email {}.",
            e.values().cloned().collect::<Vec<_>>().join("; ")
        ),
        Err(ApiError::Conflict(m)) => format!("Not invited: {m}."),
        Err(e) => return Err(e.into()),
    };
    Ok(back(&state, &posted.op, portal, id, &notice))
}

/// "Re-send invitation": a new link for a user who has not set a password; the old one
/// stops working.
async fn reinvite_user(
    portal: Portal,
    State(state): State<AppState>,
    crate::extract::PathParts((id, user_id)): crate::extract::PathParts<(i64, i64)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let (u, link) =
        crate::invitations::reinvite(&state, portal, id, user_id, &posted.op.actor()).await?;
    Ok(invited(&state, &posted.op, portal, id, &u.email, link))
}

/// Back to the owner's page after an invitation: the link, when the operator must hand
/// it over, shown once like a secret.
fn invited(
    state: &AppState,
    op: &Operator,
    portal: Portal,
    id: i64,
    email: &str,
    link: Option<String>,
) -> Response {
    let path = format!("{}/{id}", owners_path(portal));
    let (notice, secrets) = match link {
        Some(url) => (
            format!("{email} invited. No mail service is set up: give them this link yourself (it works once, for 72 hours, and is not shown again)."),
            vec![("Invitation link".to_string(), url)],
        ),
        None => (
            format!("{email} invited: the link to set a password is on its way."),
            vec![],
        ),
    };
    super::flash::redirect_with(state, op, &path, Some(notice), secrets)
}

/// Removes a portal user; its sessions end at once.
async fn remove_user(
    portal: Portal,
    State(state): State<AppState>,
    crate::extract::PathParts((id, user_id)): crate::extract::PathParts<(i64, i64)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let notice = if state
        .store()
        .remove_member(portal, id, user_id, state.now_ms(), &posted.op.actor())
        .await?
    {
        "Portal user removed: its sessions have ended."
    } else {
        "No such portal user."
    };
    Ok(back(&state, &posted.op, portal, id, notice))
}
