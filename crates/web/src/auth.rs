//! Authentication extractors. `AdminAuth` guards every `/api/admin` endpoint.

use crate::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use leadrouter_core::token::hash_secret;

/// An operator, authenticated by an admin API token (`Authorization: Bearer lra_...`).
#[derive(Debug, Clone)]
pub struct AdminAuth {
    pub token_id: i64,
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
            return Err(ApiError::Unauthorized(
                "admin authentication required: send Authorization: Bearer <admin token>",
            ));
        };
        match state
            .store()
            .use_admin_token(&hash_secret(token), state.now_ms())
            .await?
        {
            Some(t) => Ok(AdminAuth { token_id: t.id }),
            None => Err(ApiError::Unauthorized("invalid or revoked admin token")),
        }
    }
}
