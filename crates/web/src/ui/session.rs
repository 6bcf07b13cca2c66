//! Operators' sessions: login (argon2id, throttled per e-mail and per client address),
//! first-run setup, logout, and the [`Operator`] extractor every page takes.
//!
//! The cookie carries a random session id signed with a key derived from `SESSION_SECRET`
//! (axum-extra's signed cookie jar); the database keeps only the id's SHA-256 with the
//! operator, its CSRF token and its idle and absolute expiry, so logout and expiry really
//! end a session. A cookie signed with another key is not even looked up.

use super::form::Fields;
use super::page::{render, render_status};
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite, SignedCookieJar};
use leadrouter_core::token::hash_secret;
use leadrouter_store::sessions::{Session, SessionLimits};
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

pub(crate) const COOKIE: &str = "leadrouter_session";

/// Sessions end after 12 idle hours, and 7 days after login whatever happens.
pub(crate) const LIMITS: SessionLimits = SessionLimits {
    idle_ms: 12 * 3_600_000,
    absolute_ms: 7 * 24 * 3_600_000,
};

/// Failed logins allowed per e-mail and per client address within [`THROTTLE_WINDOW_MS`].
const MAX_FAILURES: i64 = 5;
const THROTTLE_WINDOW_MS: i64 = 15 * 60_000;

/// A logged-in operator.
#[derive(Debug, Clone)]
pub(crate) struct Operator {
    pub user_id: i64,
    pub email: String,
    pub timezone: String,
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

/// Not logged in: pages send the browser to the login page.
pub(crate) struct ToLogin;

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to("/admin/login").into_response()
    }
}

/// The operator of a request's session cookie, if it is signed with our key and live.
pub(crate) async fn operator_of(parts: &Parts, state: &AppState) -> Option<Operator> {
    let jar = SignedCookieJar::from_headers(&parts.headers, state.settings().session_key.clone());
    let id = jar.get(COOKIE)?.value().to_string();
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
            csrf_token,
            ..
        })) => Some(Operator {
            user_id,
            email,
            timezone,
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
    type Rejection = ToLogin;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ToLogin> {
        operator_of(parts, state).await.ok_or(ToLogin)
    }
}

/// The address a login comes from: the connection's peer (a proxy in front should be the
/// only peer; forwarded headers are not trusted, as any client can send them).
pub(crate) fn client_of(connect: Option<&axum::Extension<ConnectInfo<SocketAddr>>>) -> String {
    connect.map_or_else(|| "unknown".into(), |c| c.0 .0.ip().to_string())
}

/// Which login form: the console's or the portal's (one template, two doors).
pub(crate) struct Door {
    pub heading: &'static str,
    pub title: &'static str,
    pub action: &'static str,
}

pub(crate) const CONSOLE_DOOR: Door = Door {
    heading: "leadrouter",
    title: "Log in",
    action: "/admin/login",
};

#[derive(askama::Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub door: &'static Door,
    pub email: String,
    pub error: Option<String>,
}

pub(crate) async fn login_page(State(state): State<AppState>) -> Response {
    if state.store().count_admin_users().await.unwrap_or(1) == 0 {
        return Redirect::to("/admin/setup").into_response();
    }
    render(&LoginPage {
        door: &CONSOLE_DOOR,
        email: String::new(),
        error: None,
    })
}

pub(crate) async fn login(
    State(state): State<AppState>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    jar: SignedCookieJar,
    fields: Fields,
) -> Response {
    let email = fields.text("email").to_lowercase();
    let password = fields.get("password").unwrap_or_default().to_string();
    let client = client_of(connect.as_ref());
    let page = |error: &str| LoginPage {
        door: &CONSOLE_DOOR,
        email: email.clone(),
        error: Some(error.to_string()),
    };
    let user = state
        .store()
        .admin_user_by_email(&email)
        .await
        .ok()
        .flatten();
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let too_many = page("Too many failed attempts. Try again in 15 minutes.");
    match (
        attempt(&state, &email, &client, password, stored, &too_many).await,
        user,
    ) {
        (Attempt::Answered(r), _) => r,
        (Attempt::Accepted, Some(u)) => match start_session(&state, jar, u.id).await {
            Ok(jar) => (jar, Redirect::to("/admin")).into_response(),
            Err(e) => e.into_response(),
        },
        _ => {
            tracing::info!("login failed");
            render_status(StatusCode::OK, &page("Invalid email or password"))
        }
    }
}

/// What a login attempt came to.
pub(crate) enum Attempt {
    /// Refused by the throttle (429), or the store failed: this is the answer.
    Answered(Response),
    Accepted,
    /// Wrong e-mail or password (recorded as a failure).
    Refused,
}

/// A login under `key` (an e-mail, or the portal's `portal:<e-mail>`) from `client`: the
/// throttle first, then `password` against the `stored` hash (none: an unknown user, who
/// costs the same work), and a failure recorded. The console and the portal share it.
pub(crate) async fn attempt(
    state: &AppState,
    key: &str,
    client: &str,
    password: String,
    stored: Option<String>,
    too_many: &impl askama::Template,
) -> Attempt {
    let now = state.now_ms();
    if let Some(refused) = throttled(state, key, client, now, too_many).await {
        return Attempt::Answered(refused);
    }
    let known = stored.is_some();
    if password_matches(password, stored).await && known {
        return Attempt::Accepted;
    }
    match state.store().record_login_failure(key, client, now).await {
        Ok(()) => Attempt::Refused,
        Err(e) => Attempt::Answered(crate::ApiError::from(e).into_response()),
    }
}

/// The signed session cookie for `path` (HttpOnly, SameSite=Lax, Secure behind https).
pub(crate) fn session_cookie(
    state: &AppState,
    name: &'static str,
    id: String,
    path: &'static str,
) -> Cookie<'static> {
    Cookie::build((name, id))
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings().public_url.starts_with("https://"))
        .build()
}

/// The answer to a login from `key` (an e-mail) or `client` after too many failures in the
/// window: 429 with `refused` and `Retry-After`; `None` when the login may go on.
async fn throttled(
    state: &AppState,
    key: &str,
    client: &str,
    now: i64,
    refused: &impl askama::Template,
) -> Option<Response> {
    let (failures, oldest) = match state
        .store()
        .login_failures(key, client, now - THROTTLE_WINDOW_MS)
        .await
    {
        Ok(f) => f,
        Err(e) => return Some(crate::ApiError::from(e).into_response()),
    };
    if failures < MAX_FAILURES {
        return None;
    }
    let retry = oldest.map_or(THROTTLE_WINDOW_MS, |o| o + THROTTLE_WINDOW_MS - now);
    tracing::warn!(failures, "login refused: too many failed attempts");
    let mut res = render_status(StatusCode::TOO_MANY_REQUESTS, refused);
    if let Ok(v) = ((retry.max(1000) / 1000).to_string()).parse() {
        res.headers_mut().insert("retry-after", v);
    }
    Some(res)
}

/// Whether `password` matches the stored hash; the same work when there is none (an
/// unknown e-mail), so timing does not tell.
async fn password_matches(password: String, stored: Option<String>) -> bool {
    let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
    tokio::task::spawn_blocking(move || crate::password::verify(&password, &stored))
        .await
        .unwrap_or(false)
}

/// An argon2id hash of nothing anyone knows, verified against when the e-mail is unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2ZVO6AkKXqSW0ivUXtY2cqrNYWVnxuNRPGyGGd2Mg2k";

async fn start_session(
    state: &AppState,
    jar: SignedCookieJar,
    user_id: i64,
) -> Result<SignedCookieJar, crate::ApiError> {
    let id = crate::secrets::random_token();
    let csrf = crate::secrets::random_token();
    state
        .store()
        .create_session(&hash_secret(&id), user_id, &csrf, state.now_ms(), LIMITS)
        .await?;
    tracing::info!(user_id, "operator logged in");
    Ok(jar.add(session_cookie(state, COOKIE, id, "/")))
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    op: Operator,
    jar: SignedCookieJar,
    fields: Fields,
) -> Response {
    if !op.csrf_ok(fields.get("_csrf")) {
        return super::form::forbidden();
    }
    if let Err(e) = state.store().end_session(&op.session_hash).await {
        return crate::ApiError::from(e).into_response();
    }
    tracing::info!(user_id = op.user_id, "operator logged out");
    (
        jar.remove(Cookie::build(COOKIE).path("/")),
        Redirect::to("/admin/login"),
    )
        .into_response()
}

#[derive(askama::Template)]
#[template(path = "setup.html")]
struct SetupPage {
    email: String,
    errors: std::collections::BTreeMap<String, String>,
}

impl SetupPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
}

async fn no_admin_yet(state: &AppState) -> Result<bool, crate::ApiError> {
    Ok(state.store().count_admin_users().await? == 0)
}

pub(crate) async fn setup_page(State(state): State<AppState>) -> Response {
    match no_admin_yet(&state).await {
        Ok(true) => render(&SetupPage {
            email: String::new(),
            errors: Default::default(),
        }),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => e.into_response(),
    }
}

/// Creates the first operator and logs it in. Only while no operator exists; a race of two
/// first-run posts is settled by the e-mail's uniqueness and this check.
pub(crate) async fn setup(
    State(state): State<AppState>,
    jar: SignedCookieJar,
    fields: Fields,
) -> Response {
    match no_admin_yet(&state).await {
        Ok(true) => {}
        Ok(false) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return e.into_response(),
    }
    let email = fields.text("email").to_lowercase();
    let password = fields.get("password").unwrap_or_default().to_string();
    let mut errors = super::users::password_problems(&password, fields.get("confirm"));
    if !email_address::EmailAddress::is_valid(&email) {
        errors.insert("email".into(), "must be an e-mail address".into());
    }
    if !errors.is_empty() {
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SetupPage { email, errors },
        );
    }
    let hash = match tokio::task::spawn_blocking(move || crate::password::hash(&password)).await {
        Ok(Ok(h)) => h,
        _ => {
            return crate::ApiError::Internal("hashing the password failed".into()).into_response()
        }
    };
    let id = match state
        .store()
        .create_admin_user(
            &email,
            &hash,
            state.now_ms(),
            &leadrouter_store::audit::Actor::system("first-run setup"),
        )
        .await
    {
        Ok(id) => id,
        Err(e) => return crate::ApiError::from(e).into_response(),
    };
    tracing::info!(user_id = id, "first admin user created");
    match start_session(&state, jar, id).await {
        Ok(jar) => (jar, Redirect::to("/admin")).into_response(),
        Err(e) => e.into_response(),
    }
}
