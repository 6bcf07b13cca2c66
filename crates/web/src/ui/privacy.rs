//! "Erase a person": look up what we hold of a person by e-mail or phone (leads that
//! still carry it, leads erased), erase them on request, and see the result and what the
//! partners were told, on a page of its own, so that an erasure can be checked afterwards.

use super::form::Posted;
use super::page::{render, render_status, Chrome};
use crate::operator::Operator;
use crate::time;
use crate::ui::PageError;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use leadrouter_core::erasure::read_erasure;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/privacy", get(page))
        .route("/admin/privacy/erase", post(erase))
}

/// What the form holds: as typed, and as read (normalised) when it was valid.
#[derive(Default, serde::Deserialize)]
struct Person {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    country: String,
}

impl Person {
    fn input(&self) -> Map<String, Value> {
        [
            ("email", &self.email),
            ("phone", &self.phone),
            ("country", &self.country),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.to_string(), Value::String(v.trim().to_string())))
        .collect()
    }

    /// The leads list's search for this person (by e-mail, else by phone).
    fn search(&self) -> String {
        let q = if self.email.trim().is_empty() {
            &self.phone
        } else {
            &self.email
        };
        serde_urlencoded::to_string([("q", q.trim())]).unwrap_or_default()
    }

    fn asked(&self) -> bool {
        !self.email.trim().is_empty() || !self.phone.trim().is_empty()
    }
}

/// Sent to partners about erasures: (partner, status, attempts, created, last error).
struct NoticeRow {
    partner: String,
    status: String,
    attempts: i64,
    at: String,
    error: String,
}

#[derive(askama::Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    chrome: Chrome,
    person: Person,
    markets: Vec<(String, String)>,
    errors: BTreeMap<String, String>,
    /// After a look-up: (leads that still carry the contact, leads erased).
    found: Option<(usize, usize)>,
    /// After an erasure: what it did.
    done: Option<String>,
    notices: Vec<NoticeRow>,
}

impl PrivacyPage {
    fn error(&self, k: &str) -> String {
        self.errors.get(k).cloned().unwrap_or_default()
    }
}

async fn view(
    state: &AppState,
    op: &Operator,
    person: Person,
    done: Option<String>,
) -> Result<(PrivacyPage, bool), PageError> {
    let catalog = state.catalog().await?;
    let mut errors = BTreeMap::new();
    let mut found = None;
    if person.asked() {
        match read_erasure(&person.input(), &catalog) {
            Ok(who) => {
                found = Some(
                    state
                        .store()
                        .contact_lookup(who.email.as_deref(), who.phone.as_deref())
                        .await?,
                );
            }
            Err(e) => errors = e,
        }
    }
    let rows = state.store().list_erasure_notices(50).await?;
    let ids: Vec<i64> = rows.iter().map(|n| n.partner_id).collect();
    let names = state.store().partner_names(&ids).await?;
    let notices = rows
        .into_iter()
        .map(|n| NoticeRow {
            partner: names
                .get(&n.partner_id)
                .cloned()
                .unwrap_or_else(|| format!("partner #{}", n.partner_id)),
            status: n.status.as_str().to_string(),
            attempts: n.attempts,
            at: time::local(n.created_at, &op.timezone),
            error: n.last_error.unwrap_or_default(),
        })
        .collect();
    let bad = !errors.is_empty();
    let markets = catalog
        .markets()
        .iter()
        .map(|m| (m.slug.clone(), m.name.clone()))
        .collect();
    Ok((
        PrivacyPage {
            chrome: Chrome::new(op, "privacy", "Erase a person"),
            person,
            markets,
            errors,
            found,
            done,
            notices,
        },
        bad,
    ))
}

fn answer((page, bad): (PrivacyPage, bool)) -> Response {
    if bad {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    }
}

/// The page; with `?email=` and/or `?phone=`, what we hold of that person.
async fn page(
    State(state): State<AppState>,
    op: Operator,
    crate::extract::QueryOf(person): crate::extract::QueryOf<Person>,
) -> Result<Response, PageError> {
    Ok(answer(view(&state, &op, person, None).await?))
}

/// Erases every lead of the person, then shows what was done and looks again.
async fn erase(State(state): State<AppState>, posted: Posted) -> Result<Response, PageError> {
    let Posted { op, fields } = posted;
    let person = Person {
        email: fields.text("email"),
        phone: fields.text("phone"),
        country: fields.text("country"),
    };
    if !person.asked() {
        let (mut page, _) = view(&state, &op, person, None).await?;
        page.errors.insert(
            "email".into(),
            "give the person's e-mail or phone (or both)".into(),
        );
        return Ok(answer((page, true)));
    }
    let done = match crate::privacy::erase_contact(&state, &person.input(), &op.actor()).await {
        Ok(done) => crate::privacy::erased_text(&done),
        Err(ApiError::Validation(_)) => {
            // The look-up below says which field is wrong.
            return Ok(answer(view(&state, &op, person, None).await?));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(answer(view(&state, &op, person, Some(done)).await?))
}
