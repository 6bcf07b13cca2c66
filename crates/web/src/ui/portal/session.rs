//! Partner users' sessions: the invitation link that sets a password, login (argon2id,
//! throttled per e-mail and per client address like the operators'), logout, and the
//! [`PortalUser`] extractor every portal page takes. The cookie (its own name, signed with
//! the console's key) carries a random id; the session row holds its hash and the partner.

use super::super::client::{ClientAddr, DoorFields};
use super::super::page::{render, render_status};
use super::super::session::{
    attempt, removal_cookie, session_cookie, too_many_text, Attempt, Door, LoginPage,
};
use crate::operator::LIMITS;
use crate::AppState;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::SignedCookieJar;
use leadrouter_core::token::hash_secret;
use leadrouter_store::portal::PartnerLogin;
use subtle::ConstantTimeEq;

/// The portal's cookie (path `/portal`, so `__Secure-` rather than `__Host-` behind https).
pub(crate) fn cookie_name(state: &AppState) -> &'static str {
    if state.settings().https() {
        "__Secure-leadrouter_portal"
    } else {
        "leadrouter_portal"
    }
}

/// A logged-in partner user: every portal query is scoped by `partner_id`.
#[derive(Debug, Clone)]
pub(crate) struct PortalUser {
    pub user_id: i64,
    pub partner_id: i64,
    pub email: String,
    pub csrf: String,
    pub session_hash: String,
}

impl super::super::form::FormSession for PortalUser {
    fn csrf_ok(&self, token: Option<&str>) -> bool {
        token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(self.csrf.as_bytes())))
    }
}

/// Not logged in: to the portal's login page.
pub(crate) struct ToPortalLogin;

impl IntoResponse for ToPortalLogin {
    fn into_response(self) -> Response {
        Redirect::to("/portal/login").into_response()
    }
}

impl FromRequestParts<AppState> for PortalUser {
    type Rejection = ToPortalLogin;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, ToPortalLogin> {
        let jar =
            SignedCookieJar::from_headers(&parts.headers, state.settings().session_key.clone());
        let id = jar
            .get(cookie_name(state))
            .ok_or(ToPortalLogin)?
            .value()
            .to_string();
        let session_hash = hash_secret(&id);
        match state
            .store()
            .live_portal_session(&session_hash, state.now_ms(), LIMITS)
            .await
        {
            Ok(Some(s)) => Ok(PortalUser {
                user_id: s.user_id,
                partner_id: s.partner_id,
                email: s.email,
                csrf: s.csrf_token,
                session_hash,
            }),
            Ok(None) => Err(ToPortalLogin),
            Err(e) => {
                tracing::warn!(error = %e, "reading a portal session failed");
                Err(ToPortalLogin)
            }
        }
    }
}

const PORTAL_DOOR: Door = Door {
    heading: "Partner portal",
    title: "Partner portal",
    action: "/portal/login",
};

pub(crate) async fn login_page() -> Response {
    render(&LoginPage {
        door: &PORTAL_DOOR,
        email: String::new(),
        error: None,
    })
}

pub(crate) async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    jar: SignedCookieJar,
    DoorFields(fields): DoorFields,
) -> Response {
    let email = fields.text("email").to_lowercase();
    let password = fields.get("password").unwrap_or_default().to_string();
    let page = |error: &str| LoginPage {
        door: &PORTAL_DOOR,
        email: email.clone(),
        error: Some(error.to_string()),
    };
    // Counted apart from the operators' logins by e-mail, together by client address.
    let key = format!("portal:{email}");
    let user = state.store().partner_login(&email).await.ok().flatten();
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    match (
        attempt(&state, &key, &client, password, stored, &|wait| {
            page(&too_many_text(wait))
        })
        .await,
        user,
    ) {
        (Attempt::Answered(r), _) => r,
        (Attempt::Accepted, Some(u)) => match start(&state, jar, &u).await {
            Ok(jar) => (jar, Redirect::to("/portal")).into_response(),
            Err(e) => e.into_response(),
        },
        _ => {
            tracing::info!("portal login failed");
            render(&page("Invalid email or password"))
        }
    }
}

async fn start(
    state: &AppState,
    jar: SignedCookieJar,
    login: &PartnerLogin,
) -> Result<SignedCookieJar, crate::ApiError> {
    let id = crate::secrets::random_token();
    let csrf = crate::secrets::random_token();
    state
        .store()
        .create_portal_session(&hash_secret(&id), login, &csrf, state.now_ms(), LIMITS)
        .await?;
    tracing::info!(
        user_id = login.user_id,
        partner_id = login.partner_id,
        "partner user logged in"
    );
    Ok(jar.add(session_cookie(state, cookie_name(state), id, "/portal")))
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    jar: SignedCookieJar,
    super::super::form::Posted { op: user, .. }: super::super::form::Posted<PortalUser>,
) -> Response {
    if let Err(e) = state.store().end_portal_session(&user.session_hash).await {
        return crate::ApiError::from(e).into_response();
    }
    (
        jar.remove(removal_cookie(&state, cookie_name(&state), "/portal")),
        Redirect::to("/portal/login"),
    )
        .into_response()
}

#[derive(askama::Template)]
#[template(path = "portal_accept.html")]
struct AcceptPage {
    token: String,
    errors: std::collections::BTreeMap<String, String>,
}

impl AcceptPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
}

#[derive(askama::Template)]
#[template(path = "portal_gone.html")]
struct GonePage;

pub(crate) async fn accept_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    match state
        .store()
        .invite_valid(&hash_secret(&token), state.now_ms())
        .await
    {
        Ok(true) => render(&AcceptPage {
            token,
            errors: Default::default(),
        }),
        Ok(false) => render_status(StatusCode::NOT_FOUND, &GonePage),
        Err(e) => crate::ApiError::from(e).into_response(),
    }
}

/// Sets the invited user's password and logs it in; the link is used up.
pub(crate) async fn accept(
    State(state): State<AppState>,
    Path(token): Path<String>,
    jar: SignedCookieJar,
    DoorFields(fields): DoorFields,
) -> Response {
    let password = fields.get("password").unwrap_or_default().to_string();
    let errors = crate::password::problems(&password, fields.get("confirm"));
    if !errors.is_empty() {
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AcceptPage { token, errors },
        );
    }
    let hash = match tokio::task::spawn_blocking(move || crate::password::hash(&password)).await {
        Ok(Ok(h)) => h,
        _ => {
            return crate::ApiError::Internal("hashing the password failed".into()).into_response()
        }
    };
    let accepted = state
        .store()
        .accept_invite(&hash_secret(&token), &hash, state.now_ms())
        .await;
    let (user_id, partner_id) = match accepted {
        Ok(Some(ids)) => ids,
        Ok(None) => return render_status(StatusCode::NOT_FOUND, &GonePage),
        Err(e) => return crate::ApiError::from(e).into_response(),
    };
    tracing::info!(user_id, partner_id, "partner user set a password");
    let login = PartnerLogin {
        user_id,
        partner_id,
        password_hash: Some(hash),
    };
    match start(&state, jar, &login).await {
        Ok(jar) => (jar, Redirect::to("/portal")).into_response(),
        Err(e) => e.into_response(),
    }
}
