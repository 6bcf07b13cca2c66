//! Who is asking, on the console: the [`Operator`] of a request's session cookie (signed
//! with our key, live in the database), the extractor every console page and the admin
//! API's session door take, and what a viewer may not do. Beneath the console's pages and
//! the API alike, so that neither reaches into the other for it.

use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::SignedCookieJar;
use leadrouter_core::token::hash_secret;
use leadrouter_store::sessions::{Session, SessionLimits};
use subtle::ConstantTimeEq;

/// The console's cookie; behind https `__Host-` pins it to this host, secure, path `/`
/// (no sibling subdomain or plain-http answer can plant one).
pub(crate) fn cookie_name(state: &AppState) -> &'static str {
    if state.settings().https() {
        "__Host-leadrouter_session"
    } else {
        "leadrouter_session"
    }
}

/// Sessions end after 12 idle hours, and 7 days after login whatever happens.
pub(crate) const LIMITS: SessionLimits = SessionLimits {
    idle_ms: leadrouter_core::login::SESSION_IDLE_MS,
    absolute_ms: leadrouter_core::login::SESSION_ABSOLUTE_MS,
};

/// A logged-in operator.
#[derive(Debug, Clone)]
pub(crate) struct Operator {
    pub user_id: i64,
    pub email: String,
    pub timezone: String,
    pub role: leadrouter_core::role::Role,
    pub csrf: String,
    pub session_hash: String,
}

impl Operator {
    /// This operator as the audit trail names it.
    pub fn actor(&self) -> leadrouter_store::audit::Actor {
        leadrouter_store::audit::Actor::user(self.user_id, &self.email)
    }

    /// Whether `token` is this session's CSRF token.
    pub fn csrf_ok(&self, token: Option<&str>) -> bool {
        token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(self.csrf.as_bytes())))
    }
}

/// Not logged in: pages send the browser to the login page. A viewer asking for a change:
/// 403 (a page, by `ui::errors::html_errors`).
pub(crate) enum Refused {
    ToLogin,
    Viewer,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::ToLogin => Redirect::to("/admin/login").into_response(),
            // A rejection before any handler: `ui::errors::html_errors` makes it the page.
            Refused::Viewer => {
                crate::ApiError::Forbidden(crate::roles::VIEWER_REFUSED).into_response()
            }
        }
    }
}

/// The operator of a request's session cookie, if it is signed with our key and live.
pub(crate) async fn operator_of(parts: &Parts, state: &AppState) -> Option<Operator> {
    let jar = SignedCookieJar::from_headers(&parts.headers, state.settings().session_key.clone());
    let id = jar.get(cookie_name(state))?.value().to_string();
    let session_hash = hash_secret(&id);
    let found = state
        .store()
        .live_session(&session_hash, state.now_ms(), LIMITS)
        .await;
    match found {
        Ok(Some(Session {
            user_id,
            email,
            timezone,
            role,
            csrf_token,
            ..
        })) => Some(Operator {
            user_id,
            email,
            timezone,
            role,
            csrf: csrf_token,
            session_hash,
        }),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "reading a session failed");
            None
        }
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refused> {
        let op = operator_of(parts, state).await.ok_or(Refused::ToLogin)?;
        if !op.role.may_change() && !crate::roles::viewer_may(&parts.method, parts.uri.path()) {
            return Err(Refused::Viewer);
        }
        Ok(op)
    }
}
