//! Operators' sessions: login (argon2id, throttled per e-mail and per client address),
//! first-run setup, logout (the [`Operator`] extractor every page takes is
//! `crate::operator`'s).
//!
//! The cookie carries a random session id signed with a key derived from `SESSION_SECRET`
//! (axum-extra's signed cookie jar); the database keeps only the id's SHA-256 with the
//! operator, its CSRF token and its idle and absolute expiry, so logout and expiry really
//! end a session. A cookie signed with another key is not even looked up.

use super::client::{ClientAddr, DoorFields};
use super::form::Fields;
use super::page::{render, render_status};
use crate::operator::{cookie_name, Operator, LIMITS};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite, SignedCookieJar};
use leadrouter_core::token::hash_secret;
use subtle::ConstantTimeEq;

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
    ClientAddr(client): ClientAddr,
    jar: SignedCookieJar,
    DoorFields(fields): DoorFields,
) -> Response {
    let email = fields.text("email").to_lowercase();
    let password = fields.get("password").unwrap_or_default().to_string();
    let user = state
        .store()
        .admin_user_by_email(&email)
        .await
        .ok()
        .flatten()
        .map(|u| {
            let stored = Some(u.password_hash.clone());
            (u, stored)
        });
    let st = &state;
    log_in(
        st,
        &CONSOLE_DOOR,
        &email,
        &email,
        &client,
        password,
        user,
        |u| async move {
            match start_session(st, jar, u.id).await {
                Ok(jar) => (jar, Redirect::to("/admin")).into_response(),
                Err(e) => e.into_response(),
            }
        },
    )
    .await
}

/// What a password check came to, before any page is made of it.
pub(crate) enum Quiet {
    Accepted,
    /// Wrong (recorded as a failure).
    Refused,
    /// Too many failures: not checked; try again in this many milliseconds.
    Wait(i64),
}

/// What a refused login says: how long to wait, in whole minutes.
pub(crate) fn too_many_text(wait_ms: i64) -> String {
    let minutes = (wait_ms + 59_999) / 60_000;
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    format!("Too many failed attempts. Try again in {minutes} {unit}.")
}

/// `Retry-After` for a wait of `wait_ms`.
pub(crate) fn retry_after(res: &mut Response, wait_ms: i64) {
    if let Ok(v) = (((wait_ms + 999) / 1000).max(1).to_string()).parse() {
        res.headers_mut().insert("retry-after", v);
    }
}

/// A password check under `key` (an e-mail, the portal's `portal:<e-mail>`, or a password
/// change's `password:<user id>`) from `client`: the throttle first (see
/// `core::login`), then `password` against the `stored` hash (none: an unknown user, who
/// costs the same work), and a failure recorded.
pub(crate) async fn attempt_quietly(
    state: &AppState,
    key: &str,
    client: &str,
    password: String,
    stored: Option<String>,
) -> Result<Quiet, crate::ApiError> {
    use leadrouter_core::login::{kept_key, wait_until, WINDOW_MS};
    let now = state.now_ms();
    let key = kept_key(key);
    let failures = state
        .store()
        .login_failures(&key, client, now - WINDOW_MS)
        .await?;
    if let Some(until) = wait_until(&failures, now) {
        tracing::warn!(
            failures = failures.pair.n.max(failures.client.n),
            "login refused: too many failed attempts"
        );
        return Ok(Quiet::Wait(until - now));
    }
    let known = stored.is_some();
    if password_matches(password, stored).await && known {
        return Ok(Quiet::Accepted);
    }
    state
        .store()
        .record_login_failure(&key, client, now)
        .await?;
    Ok(Quiet::Refused)
}

/// A login at one of the doors: [`attempt_quietly`] for `user` (found by the address typed)
/// under the throttle's `key`; a wait answered 429 with `door`'s page and `Retry-After`, a
/// wrong address or password with the page's error, a right one by `start` for the user.
/// The console and both portals share it.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn log_in<U, Fut>(
    state: &AppState,
    door: &'static Door,
    email: &str,
    key: &str,
    client: &str,
    password: String,
    user: Option<(U, Option<String>)>,
    start: impl FnOnce(U) -> Fut,
) -> Response
where
    Fut: std::future::Future<Output = Response>,
{
    let page = |error: String| LoginPage {
        door,
        email: email.to_string(),
        error: Some(error),
    };
    let (user, stored) = match user {
        Some((u, stored)) => (Some(u), stored),
        None => (None, None),
    };
    match attempt_quietly(state, key, client, password, stored).await {
        Ok(Quiet::Accepted) => match user {
            Some(u) => start(u).await,
            None => render(&page("Invalid email or password".into())),
        },
        Ok(Quiet::Refused) => {
            tracing::info!(door = door.title, "login failed");
            render(&page("Invalid email or password".into()))
        }
        Ok(Quiet::Wait(ms)) => {
            let mut res = render_status(StatusCode::TOO_MANY_REQUESTS, &page(too_many_text(ms)));
            retry_after(&mut res, ms);
            res
        }
        Err(e) => e.into_response(),
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
        .secure(state.settings().https())
        .build()
}

/// The cookie that ends `name` in the browser (Secure like the cookie it replaces, which a
/// `__Host-` or `__Secure-` name requires).
pub(crate) fn removal_cookie(
    state: &AppState,
    name: &'static str,
    path: &'static str,
) -> Cookie<'static> {
    Cookie::build(name)
        .path(path)
        .secure(state.settings().https())
        .build()
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
    Ok(new_session(state, jar, user_id).await?.0)
}

/// A new session for `user_id`: its cookie added to `jar`, its id's hash and CSRF token.
async fn new_session(
    state: &AppState,
    jar: SignedCookieJar,
    user_id: i64,
) -> Result<(SignedCookieJar, String, String), crate::ApiError> {
    let id = crate::secrets::random_token();
    let csrf = crate::secrets::random_token();
    let id_hash = hash_secret(&id);
    state
        .store()
        .create_session(&id_hash, user_id, &csrf, state.now_ms(), LIMITS)
        .await?;
    tracing::info!(user_id, "operator logged in");
    Ok((
        jar.add(session_cookie(state, cookie_name(state), id, "/")),
        id_hash,
        csrf,
    ))
}

/// After a password change: every session of the operator ends, this one included, and
/// the browser gets a new one (new id, new CSRF token), so nothing known before the change
/// opens anything after it.
pub(crate) async fn renew_session(
    state: &AppState,
    jar: SignedCookieJar,
    op: &Operator,
) -> Result<(SignedCookieJar, Operator), crate::ApiError> {
    state.store().end_sessions_of(op.user_id, None).await?;
    let (jar, session_hash, csrf) = new_session(state, jar, op.user_id).await?;
    Ok((
        jar,
        Operator {
            csrf,
            session_hash,
            ..op.clone()
        },
    ))
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
        jar.remove(removal_cookie(&state, cookie_name(&state), "/")),
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

/// The first-run form's problems: the setup token (the deployer's secret: without it
/// setup would belong to whoever reaches a new deploy first), the e-mail, the password.
fn setup_problems(state: &AppState, fields: &Fields) -> std::collections::BTreeMap<String, String> {
    let password = fields.get("password").unwrap_or_default();
    let mut errors = crate::password::problems(password, fields.get("confirm"));
    let token = fields.text("setup_token");
    let expected = state.settings().setup_token.expose().as_bytes();
    if !bool::from(token.as_bytes().ct_eq(expected)) {
        errors.insert(
            "setup_token".into(),
            "is not this server's setup token".into(),
        );
    }
    if !email_address::EmailAddress::is_valid(&fields.text("email")) {
        errors.insert("email".into(), "must be an e-mail address".into());
    }
    errors
}

/// Creates the first operator and logs it in: only with the setup token, only from this
/// site, and only once however many posts race (the store's claim settles it).
pub(crate) async fn setup(
    State(state): State<AppState>,
    jar: SignedCookieJar,
    DoorFields(fields): DoorFields,
) -> Response {
    match no_admin_yet(&state).await {
        Ok(true) => {}
        Ok(false) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return e.into_response(),
    }
    let email = fields.text("email").to_lowercase();
    let errors = setup_problems(&state, &fields);
    if !errors.is_empty() {
        if errors.contains_key("setup_token") {
            tracing::warn!("first-run setup refused: wrong setup token");
        }
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SetupPage { email, errors },
        );
    }
    let password = fields.get("password").unwrap_or_default().to_string();
    let hash = match tokio::task::spawn_blocking(move || crate::password::hash(&password)).await {
        Ok(Ok(h)) => h,
        _ => {
            return crate::ApiError::Internal("hashing the password failed".into()).into_response()
        }
    };
    let id = match state
        .store()
        .create_first_admin_user(
            &email,
            &hash,
            state.now_ms(),
            &leadrouter_store::audit::Actor::system("first-run setup"),
        )
        .await
    {
        Ok(Some(id)) => id,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return crate::ApiError::from(e).into_response(),
    };
    tracing::info!(user_id = id, "first admin user created");
    match start_session(&state, jar, id).await {
        Ok(jar) => (jar, Redirect::to("/admin")).into_response(),
        Err(e) => e.into_response(),
    }
}
