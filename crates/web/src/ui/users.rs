//! Settings: the operator's own password and timezone. Users: the operator accounts, each
//! an `admin` or a `viewer` (add, change the role, remove).

use super::client::ClientAddr;
use super::form::Posted;
use super::page::{render, render_status, Chrome};
use super::session;
use crate::operator::Operator;
use crate::time;
use crate::ui::PageError;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::SignedCookieJar;
use leadrouter_core::role::Role;
use leadrouter_store::admin::AdminUser;
use std::collections::BTreeMap;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/settings", get(page))
        .route("/admin/settings/password", post(change_password))
        .route("/admin/settings/timezone", post(set_timezone))
        .route("/admin/users", get(users_page).post(add_user))
        .route("/admin/users/{id}/role", post(set_role))
        .route("/admin/users/{id}/remove", post(remove_user))
}

#[derive(askama::Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    errors: BTreeMap<String, String>,
    notice: Option<String>,
}

impl SettingsPage {
    fn error(&self, k: &str) -> String {
        self.errors.get(k).cloned().unwrap_or_default()
    }
}

#[derive(askama::Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<(AdminUser, String)>,
    me: i64,
    may_change: bool,
    roles: [Role; 2],
    errors: BTreeMap<String, String>,
    new_email: String,
    new_role: Role,
}

impl UsersPage {
    fn error(&self, k: &str) -> String {
        self.errors.get(k).cloned().unwrap_or_default()
    }
}

fn settings(
    op: &Operator,
    errors: BTreeMap<String, String>,
    notice: Option<String>,
) -> SettingsPage {
    SettingsPage {
        chrome: Chrome::new(op, "settings", "Settings"),
        errors,
        notice,
    }
}

async fn users_view(
    state: &AppState,
    op: &Operator,
    errors: BTreeMap<String, String>,
    new_email: String,
    new_role: Role,
) -> Result<UsersPage, PageError> {
    let users = state
        .store()
        .list_admin_users()
        .await?
        .into_iter()
        .map(|u| {
            let seen = time::local_opt(u.last_login_at, &op.timezone);
            (u, seen)
        })
        .collect();
    Ok(UsersPage {
        chrome: Chrome::new(op, "users", "Users"),
        users,
        me: op.user_id,
        may_change: op.role.may_change(),
        roles: Role::ALL,
        errors,
        new_email,
        new_role,
    })
}

async fn page(op: Operator) -> Response {
    render(&settings(&op, BTreeMap::new(), None))
}

async fn users_page(State(state): State<AppState>, op: Operator) -> Result<Response, PageError> {
    Ok(render(
        &users_view(&state, &op, BTreeMap::new(), String::new(), Role::Admin).await?,
    ))
}

/// The Users page again with what was wrong (422).
async fn users_refused(
    state: &AppState,
    op: &Operator,
    errors: BTreeMap<String, String>,
    new_email: String,
    new_role: Role,
) -> Result<Response, PageError> {
    let page = users_view(state, op, errors, new_email, new_role).await?;
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

fn refused(op: &Operator, errors: BTreeMap<String, String>) -> Response {
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &settings(op, errors, None),
    )
}

async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || crate::password::hash(&password))
        .await
        .map_err(|e| ApiError::internal("hashing a password", e))?
        .map_err(|e| ApiError::internal("hashing a password", e))
}

/// Changes the operator's own password, after the current one (guesses at it throttled
/// like logins); every session ends and this browser gets a new one.
async fn change_password(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    jar: SignedCookieJar,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { op, fields } = posted;
    let user = state
        .store()
        .admin_user(op.user_id)
        .await?
        .ok_or(ApiError::NotFound("no such user"))?;
    let current = fields.get("current").unwrap_or_default().to_string();
    let key = format!("password:{}", op.user_id);
    let mut errors = BTreeMap::new();
    let too_many = |wait| {
        BTreeMap::from([(
            "current".to_string(),
            session::too_many_text(wait).to_lowercase(),
        )])
    };
    match session::attempt_quietly(&state, &key, &client, current, Some(user.password_hash)).await?
    {
        session::Quiet::Accepted => {}
        session::Quiet::Refused => {
            errors.insert("current".into(), "is not your current password".into());
        }
        session::Quiet::Wait(ms) => {
            let mut res = render_status(
                StatusCode::TOO_MANY_REQUESTS,
                &settings(&op, too_many(ms), None),
            );
            session::retry_after(&mut res, ms);
            return Ok(res);
        }
    }
    let new = fields.get("password").unwrap_or_default().to_string();
    errors.extend(crate::password::problems(&new, fields.get("confirm")));
    if !errors.is_empty() {
        return Ok(refused(&op, errors));
    }
    state
        .store()
        .set_admin_password(op.user_id, &hash(new).await?, state.now_ms(), &op.actor())
        .await?;
    let (jar, op) = session::renew_session(&state, jar, &op).await?;
    tracing::info!(user_id = op.user_id, "operator changed its password");
    let page = settings(
        &op,
        BTreeMap::new(),
        Some("Password changed. Your other sessions have ended.".into()),
    );
    Ok((jar, render(&page)).into_response())
}

async fn set_timezone(
    State(state): State<AppState>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { op, fields } = posted;
    let tz = fields.text("timezone");
    if tz.parse::<chrono_tz::Tz>().is_err() {
        let errors = BTreeMap::from([(
            "timezone".to_string(),
            "must be an IANA timezone such as Europe/Berlin".to_string(),
        )]);
        return Ok(refused(&op, errors));
    }
    state
        .store()
        .set_admin_timezone(op.user_id, &tz, state.now_ms(), &op.actor())
        .await?;
    Ok(Redirect::to("/admin/settings").into_response())
}

async fn add_user(State(state): State<AppState>, posted: Posted) -> Result<Response, PageError> {
    let Posted { op, fields } = posted;
    let email = fields.text("email").to_lowercase();
    let password = fields.get("password").unwrap_or_default().to_string();
    let role = Role::parse(&fields.text("role"));
    let mut errors: BTreeMap<String, String> = crate::password::problems(&password, None)
        .into_values()
        .map(|v| ("new_user_password".to_string(), v))
        .collect();
    if !email_address::EmailAddress::is_valid(&email) {
        errors.insert("email".into(), "must be an e-mail address".into());
    }
    if role.is_none() {
        errors.insert("role".into(), "must be admin or viewer".into());
    }
    let role = role.unwrap_or_default();
    if !errors.is_empty() {
        return users_refused(&state, &op, errors, email, role).await;
    }
    match state
        .store()
        .create_admin_user(
            &email,
            &hash(password).await?,
            role,
            state.now_ms(),
            &op.actor(),
        )
        .await
    {
        Ok(id) => {
            tracing::info!(
                user_id = id,
                by = op.user_id,
                role = role.as_str(),
                "operator added"
            );
            Ok(Redirect::to("/admin/users").into_response())
        }
        Err(leadrouter_store::StoreError::Conflict(_)) => {
            let errors =
                BTreeMap::from([("email".to_string(), "already has an account".to_string())]);
            users_refused(&state, &op, errors, email, role).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn remove_user(
    State(state): State<AppState>,
    crate::extract::PathId(id): crate::extract::PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    if id == posted.op.user_id {
        let errors = BTreeMap::from([(
            "users".to_string(),
            "you cannot remove yourself".to_string(),
        )]);
        return users_refused(&state, &posted.op, errors, String::new(), Role::Admin).await;
    }
    match state
        .store()
        .delete_admin_user(id, state.now_ms(), &posted.op.actor())
        .await
    {
        Ok(()) => {
            tracing::info!(user_id = id, by = posted.op.user_id, "operator removed");
            Ok(Redirect::to("/admin/users").into_response())
        }
        Err(leadrouter_store::StoreError::Conflict(_)) => {
            let errors = last_admin_error();
            users_refused(&state, &posted.op, errors, String::new(), Role::Admin).await
        }
        Err(leadrouter_store::StoreError::NotFound) => {
            Err(ApiError::NotFound("no such user").into())
        }
        Err(e) => Err(e.into()),
    }
}

fn last_admin_error() -> BTreeMap<String, String> {
    BTreeMap::from([(
        "users".to_string(),
        "the console needs at least one admin: make another operator an admin first".to_string(),
    )])
}

/// Makes an operator an admin or a viewer (the last admin stays one).
async fn set_role(
    State(state): State<AppState>,
    crate::extract::PathId(id): crate::extract::PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { op, fields } = posted;
    let Some(role) = Role::parse(&fields.text("role")) else {
        let errors = BTreeMap::from([(
            "users".to_string(),
            "the role must be admin or viewer".to_string(),
        )]);
        return users_refused(&state, &op, errors, String::new(), Role::Admin).await;
    };
    match state
        .store()
        .set_admin_role(id, role, state.now_ms(), &op.actor())
        .await
    {
        Ok(()) => {
            tracing::info!(
                user_id = id,
                by = op.user_id,
                role = role.as_str(),
                "operator's role changed"
            );
            Ok(Redirect::to("/admin/users").into_response())
        }
        Err(leadrouter_store::StoreError::Conflict(_)) => {
            users_refused(&state, &op, last_admin_error(), String::new(), Role::Admin).await
        }
        Err(leadrouter_store::StoreError::NotFound) => {
            Err(ApiError::NotFound("no such user").into())
        }
        Err(e) => Err(e.into()),
    }
}
