//! Authentication extractors. `AdminAuth` guards every `/api/admin` endpoint.

use crate::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use leadrouter_core::token::hash_secret;

/// An operator, authenticated by an admin API token (`Authorization: Bearer lra_...`) or
/// by a console session (with its CSRF token in `X-CSRF-Token` for anything but reads).
#[derive(Debug, Clone)]
pub enum AdminAuth {
    Token { token_id: i64, name: String },
    Session { user_id: i64, email: String },
}

impl AdminAuth {
    /// Who is making the change, for the audit trail.
    pub fn actor(&self) -> leadrouter_store::audit::Actor {
        match self {
            AdminAuth::Token { token_id, name } => {
                leadrouter_store::audit::Actor::token(*token_id, name)
            }
            AdminAuth::Session { user_id, email } => {
                leadrouter_store::audit::Actor::user(*user_id, email)
            }
        }
    }
}

/// The credential of `Authorization: Bearer <credential>`, if that header is present.
pub(crate) fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credential.trim())
        .filter(|c| !c.is_empty())
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = bearer(parts) else {
            return session_auth(parts, state).await;
        };
        match state
            .store()
            .use_admin_token(&hash_secret(token), state.now_ms())
            .await?
        {
            Some(t) => Ok(AdminAuth::Token {
                token_id: t.id,
                name: t.name,
            }),
            None => Err(ApiError::Unauthorized("invalid or revoked admin token")),
        }
    }
}

/// The console's session as admin API credentials: reads need only the session; anything
/// that changes something also needs its CSRF token in `X-CSRF-Token`.
async fn session_auth(parts: &Parts, state: &AppState) -> Result<AdminAuth, ApiError> {
    let Some(op) = crate::operator::operator_of(parts, state).await else {
        return Err(ApiError::Unauthorized(
            "admin authentication required: send Authorization: Bearer <admin token>",
        ));
    };
    let safe = matches!(
        parts.method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let csrf = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok());
    if !op.role.may_change() && !crate::roles::viewer_may(&parts.method, parts.uri.path()) {
        return Err(ApiError::Forbidden(crate::roles::VIEWER_REFUSED));
    }
    if !safe && !op.csrf_ok(csrf) {
        return Err(ApiError::Forbidden(
            "a session's changes need its CSRF token in X-CSRF-Token",
        ));
    }
    Ok(AdminAuth::Session {
        user_id: op.user_id,
        email: op.email,
    })
}
