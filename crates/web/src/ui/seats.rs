//! The portals' sessions — a partner's people at `/portal`, a supplier's at `/supplier`:
//! the invitation link that sets a password, login (argon2id, throttled per e-mail and per
//! client address like the operators'), logout, and the extractors every portal page takes
//! ([`PortalUser`], [`SupplierUser`]). Each portal's cookie has its own name and path,
//! signed with the console's key, and carries a random id; the session row, in the
//! portal's own table, holds its hash and the owner (partner or source).

use super::client::{ClientAddr, DoorFields};
use super::form::{FormSession, Posted};
use super::page::{render, render_status};
use super::session::{log_in, removal_cookie, session_cookie, Door, LoginPage};
use crate::operator::LIMITS;
use crate::AppState;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::SignedCookieJar;
use leadrouter_core::token::hash_secret;
use leadrouter_store::portal::{MemberLogin, Portal, PortalSession};
use subtle::ConstantTimeEq;

/// One portal's door: its store side, where it lives, its cookie, its login form.
pub(crate) struct Seat {
    pub portal: Portal,
    /// Its pages' path (also the cookie's).
    pub path: &'static str,
    /// The cookie's name behind https (`__Secure-`, as the path is not `/`) and without.
    cookie: (&'static str, &'static str),
    pub door: Door,
    /// Failed logins are counted apart from the other doors' by e-mail (together by
    /// client address).
    throttle: &'static str,
}

pub(crate) const PARTNER_SEAT: Seat = Seat {
    portal: Portal::Partner,
    path: "/portal",
    cookie: ("__Secure-leadrouter_portal", "leadrouter_portal"),
    door: Door {
        heading: "Partner portal",
        title: "Partner portal",
        action: "/portal/login",
    },
    throttle: "portal",
};

pub(crate) const SUPPLIER_SEAT: Seat = Seat {
    portal: Portal::Supplier,
    path: "/supplier",
    cookie: ("__Secure-leadrouter_supplier", "leadrouter_supplier"),
    door: Door {
        heading: "Supplier portal",
        title: "Supplier portal",
        action: "/supplier/login",
    },
    throttle: "supplier",
};

impl Seat {
    fn cookie_name(&self, state: &AppState) -> &'static str {
        if state.settings().https() {
            self.cookie.0
        } else {
            self.cookie.1
        }
    }

    /// The live session of this portal the request's cookie names.
    async fn session(&self, parts: &Parts, state: &AppState) -> Option<(PortalSession, String)> {
        let jar =
            SignedCookieJar::from_headers(&parts.headers, state.settings().session_key.clone());
        let id = jar.get(self.cookie_name(state))?.value().to_string();
        let session_hash = hash_secret(&id);
        match state
            .store()
            .live_portal_session(self.portal, &session_hash, state.now_ms(), LIMITS)
            .await
        {
            Ok(Some(s)) => Some((s, session_hash)),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "reading a portal session failed");
                None
            }
        }
    }

    /// Login, logout and the invitation link, at the portal's own paths.
    pub(crate) fn routes<S: Side>(&'static self) -> Router<AppState> {
        Router::new()
            .route(
                &format!("{}/login", self.path),
                get(move || login_page(self)).post(move |s, c, j, f| login(self, s, c, j, f)),
            )
            .route(&format!("{}/logout", self.path), post(logout::<S>))
            .route(
                &format!("{}/accept/{{token}}", self.path),
                get(move |s, t| accept_page(self, s, t))
                    .post(move |s, t, j, f| accept(self, s, t, j, f)),
            )
    }
}

/// Which portal a [`Seated`] user is of.
pub(crate) trait Side: Send + Sync + 'static {
    const SEAT: &'static Seat;
}

/// The partner portal's side.
pub(crate) enum PartnerSide {}
/// The supplier portal's side.
pub(crate) enum SupplierSide {}

impl Side for PartnerSide {
    const SEAT: &'static Seat = &PARTNER_SEAT;
}
impl Side for SupplierSide {
    const SEAT: &'static Seat = &SUPPLIER_SEAT;
}

/// A logged-in user of a portal: every query of its pages is scoped by `owner_id`, its
/// partner's or its source's id.
#[derive(Debug)]
pub(crate) struct Seated<S: Side> {
    pub user_id: i64,
    pub owner_id: i64,
    pub email: String,
    pub csrf: String,
    pub session_hash: String,
    side: std::marker::PhantomData<S>,
}

/// A logged-in partner user.
pub(crate) type PortalUser = Seated<PartnerSide>;
/// A logged-in supplier user.
pub(crate) type SupplierUser = Seated<SupplierSide>;

/// Not logged in: to the portal's login page.
pub(crate) struct ToLogin(&'static Seat);

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to(self.0.door.action).into_response()
    }
}

impl<S: Side> FormSession for Seated<S> {
    fn csrf_ok(&self, token: Option<&str>) -> bool {
        token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(self.csrf.as_bytes())))
    }
}

impl<S: Side> FromRequestParts<AppState> for Seated<S> {
    type Rejection = ToLogin;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ToLogin> {
        let (s, session_hash) = S::SEAT
            .session(parts, state)
            .await
            .ok_or(ToLogin(S::SEAT))?;
        Ok(Seated {
            user_id: s.user_id,
            owner_id: s.owner_id,
            email: s.email,
            csrf: s.csrf_token,
            session_hash,
            side: std::marker::PhantomData,
        })
    }
}

async fn login_page(seat: &'static Seat) -> Response {
    render(&LoginPage {
        door: &seat.door,
        email: String::new(),
        error: None,
    })
}

async fn login(
    seat: &'static Seat,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    jar: SignedCookieJar,
    DoorFields(fields): DoorFields,
) -> Response {
    let email = fields.text("email").to_lowercase();
    let password = fields.get("password").unwrap_or_default().to_string();
    let key = format!("{}:{email}", seat.throttle);
    let user = state
        .store()
        .member_login(seat.portal, &email)
        .await
        .ok()
        .flatten()
        .map(|u| {
            let stored = u.password_hash.clone();
            (u, stored)
        });
    let st = &state;
    log_in(
        st,
        &seat.door,
        &email,
        &key,
        &client,
        password,
        user,
        |u| async move {
            match start(seat, st, jar, &u).await {
                Ok(jar) => (jar, Redirect::to(seat.path)).into_response(),
                Err(e) => e.into_response(),
            }
        },
    )
    .await
}

async fn start(
    seat: &Seat,
    state: &AppState,
    jar: SignedCookieJar,
    login: &MemberLogin,
) -> Result<SignedCookieJar, crate::ApiError> {
    let id = crate::secrets::random_token();
    let csrf = crate::secrets::random_token();
    state
        .store()
        .create_portal_session(
            seat.portal,
            &hash_secret(&id),
            login,
            &csrf,
            state.now_ms(),
            LIMITS,
        )
        .await?;
    tracing::info!(
        user_id = login.user_id,
        owner_id = login.owner_id,
        portal = ?seat.portal,
        "portal user logged in"
    );
    Ok(jar.add(session_cookie(
        state,
        seat.cookie_name(state),
        id,
        seat.path,
    )))
}

async fn logout<S: Side>(
    State(state): State<AppState>,
    jar: SignedCookieJar,
    Posted { op: user, .. }: Posted<Seated<S>>,
) -> Response {
    let seat = S::SEAT;
    if let Err(e) = state
        .store()
        .end_portal_session(seat.portal, &user.session_hash)
        .await
    {
        return crate::ApiError::from(e).into_response();
    }
    (
        jar.remove(removal_cookie(&state, seat.cookie_name(&state), seat.path)),
        Redirect::to(seat.door.action),
    )
        .into_response()
}

#[derive(askama::Template)]
#[template(path = "portal_accept.html")]
struct AcceptPage {
    seat: &'static Seat,
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
struct GonePage {
    seat: &'static Seat,
}

async fn accept_page(
    seat: &'static Seat,
    State(state): State<AppState>,
    crate::extract::PathParts(token): crate::extract::PathParts<String>,
) -> Response {
    match state
        .store()
        .invite_valid(seat.portal, &hash_secret(&token), state.now_ms())
        .await
    {
        Ok(true) => render(&AcceptPage {
            seat,
            token,
            errors: Default::default(),
        }),
        Ok(false) => render_status(StatusCode::NOT_FOUND, &GonePage { seat }),
        Err(e) => crate::ApiError::from(e).into_response(),
    }
}

/// Sets the invited user's password and logs it in; the link is used up.
async fn accept(
    seat: &'static Seat,
    State(state): State<AppState>,
    crate::extract::PathParts(token): crate::extract::PathParts<String>,
    jar: SignedCookieJar,
    DoorFields(fields): DoorFields,
) -> Response {
    let password = fields.get("password").unwrap_or_default().to_string();
    let errors = crate::password::problems(&password, fields.get("confirm"));
    if !errors.is_empty() {
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AcceptPage {
                seat,
                token,
                errors,
            },
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
        .accept_invite(seat.portal, &hash_secret(&token), &hash, state.now_ms())
        .await;
    let (user_id, owner_id) = match accepted {
        Ok(Some(ids)) => ids,
        Ok(None) => return render_status(StatusCode::NOT_FOUND, &GonePage { seat }),
        Err(e) => return crate::ApiError::from(e).into_response(),
    };
    tracing::info!(user_id, owner_id, portal = ?seat.portal, "portal user set a password");
    let login = MemberLogin {
        user_id,
        owner_id,
        password_hash: Some(hash),
    };
    match start(seat, &state, jar, &login).await {
        Ok(jar) => (jar, Redirect::to(seat.path)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// What every page of a portal has around its content (the shared `layout.html` asks its
/// frame of it): the owner's name as the brand, its own home and logout, no console
/// scripts, times in `timezone`.
pub(crate) struct PortalChrome {
    pub title: String,
    pub section: &'static str,
    /// The partner's or source's name.
    pub owner: String,
    pub email: String,
    pub csrf: String,
    pub timezone: String,
    pub seat: &'static Seat,
    pub nav: &'static [(&'static str, &'static str, &'static str)],
}

impl PortalChrome {
    pub fn console(&self) -> bool {
        false
    }

    pub fn brand(&self) -> &str {
        &self.owner
    }

    pub fn home(&self) -> &'static str {
        self.seat.path
    }

    pub fn logout(&self) -> String {
        format!("{}/logout", self.seat.path)
    }

    pub fn page_title(&self) -> String {
        format!("{} · {}", self.title, self.owner)
    }

    pub fn nav(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        self.nav
    }
}
