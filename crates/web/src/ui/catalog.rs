//! The console's reference pages: markets and niches (with forms to add them), rejected
//! submissions with their field errors, and the notifications.

use super::form::{Fields, Posted};
use super::page::{render, render_status, Chrome};
use crate::markets;
use crate::operator::Operator;
use crate::time;
use crate::ui::PageError;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use leadrouter_core::market::{Market, Niche};
use leadrouter_store::outbox::NotificationRow;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/markets", get(markets_page))
        .route("/admin/markets/new", post(add_market))
        .route("/admin/niches/new", post(add_niche))
        .route("/admin/rejected", get(rejected))
        .route("/admin/notifications", get(notifications))
}

#[derive(askama::Template)]
#[template(path = "markets.html")]
struct MarketsPage {
    chrome: Chrome,
    markets: Vec<Market>,
    niches: Vec<Niche>,
    typed: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
}

impl MarketsPage {
    fn error(&self, k: &str) -> String {
        self.errors.get(k).cloned().unwrap_or_default()
    }
    fn typed(&self, k: &str) -> String {
        self.typed.get(k).cloned().unwrap_or_default()
    }
    /// The add-market form's inputs: (field, label, example).
    fn market_fields(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &[
            ("slug", "Slug", "france"),
            ("name", "Name", "France"),
            ("iso_code", "ISO code", "FR"),
            ("phone_code", "Phone code", "33"),
            ("phone_region", "Phone region (if not the ISO code)", "FR"),
            ("default_timezone", "Timezone", "Europe/Paris"),
            (
                "aliases",
                "Also written as (comma-separated)",
                "la france, frankreich",
            ),
        ]
    }
}

async fn markets_view(
    state: &AppState,
    op: &Operator,
    typed: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
) -> Result<MarketsPage, PageError> {
    Ok(MarketsPage {
        chrome: Chrome::new(op, "markets", "Markets and niches"),
        markets: state.store().list_markets().await?,
        niches: state.store().list_niches().await?,
        typed,
        errors,
    })
}

async fn markets_page(State(state): State<AppState>, op: Operator) -> Result<Response, PageError> {
    Ok(render(
        &markets_view(&state, &op, BTreeMap::new(), BTreeMap::new()).await?,
    ))
}

/// The typed values of a form, for showing them again; and the API's input from them.
fn typed(f: &Fields, keys: &[&str]) -> (BTreeMap<String, String>, Map<String, Value>) {
    let mut typed = BTreeMap::new();
    let mut input = Map::new();
    for k in keys {
        let v = f.text(k);
        typed.insert(k.to_string(), v.clone());
        if v.is_empty() {
            continue;
        }
        let value = match *k {
            "phone_code" => v.parse::<u64>().map(|n| json!(n)).unwrap_or(json!(v)),
            "aliases" => json!(v
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .collect::<Vec<_>>()),
            _ => json!(v),
        };
        input.insert(k.to_string(), value);
    }
    (typed, input)
}

async fn add_market(State(state): State<AppState>, posted: Posted) -> Result<Response, PageError> {
    let keys = [
        "slug",
        "iso_code",
        "name",
        "aliases",
        "phone_region",
        "phone_code",
        "default_timezone",
    ];
    let (typed, input) = typed(&posted.fields, &keys);
    match markets::add_market(&state, &input, &posted.op.actor()).await {
        Ok(_) => Ok(Redirect::to("/admin/markets").into_response()),
        Err(ApiError::Validation(errors)) => {
            let page = markets_view(&state, &posted.op, typed, errors).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(ApiError::Conflict(m)) => {
            let errors = BTreeMap::from([("slug".to_string(), format!("{m} exists already"))]);
            let page = markets_view(&state, &posted.op, typed, errors).await?;
            Ok(render_status(StatusCode::CONFLICT, &page))
        }
        Err(e) => Err(e.into()),
    }
}

async fn add_niche(State(state): State<AppState>, posted: Posted) -> Result<Response, PageError> {
    let (typed, input) = typed(&posted.fields, &["slug", "name"]);
    let typed: BTreeMap<String, String> = typed
        .into_iter()
        .map(|(k, v)| (format!("niche_{k}"), v))
        .collect();
    let errors = match markets::add_niche(&state, &input, &posted.op.actor()).await {
        Ok(_) => return Ok(Redirect::to("/admin/markets").into_response()),
        Err(ApiError::Validation(e)) => e,
        Err(ApiError::Conflict(_)) => {
            BTreeMap::from([("slug".to_string(), "this niche exists already".to_string())])
        }
        Err(e) => return Err(e.into()),
    };
    {
        {
            let errors = errors
                .into_iter()
                .map(|(k, v)| (format!("niche_{k}"), v))
                .collect();
            let page = markets_view(&state, &posted.op, typed, errors).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

#[derive(Deserialize, Default)]
struct Before {
    before: Option<i64>,
}

/// A refused submission: id, when (the operator's time), source, (field, why) pairs, and
/// the start of what was sent.
type RejectedRow = (i64, String, Option<i64>, Vec<(String, String)>, String);

#[derive(askama::Template)]
#[template(path = "rejected.html")]
struct RejectedPage {
    chrome: Chrome,
    rows: Vec<RejectedRow>,
    next_before: Option<i64>,
}

async fn rejected(
    State(state): State<AppState>,
    op: Operator,
    crate::extract::QueryOf(q): crate::extract::QueryOf<Before>,
) -> Result<Response, PageError> {
    const PAGE: i64 = 50;
    let items = state.store().list_rejections(PAGE, q.before).await?;
    let next_before = (items.len() as i64 == PAGE)
        .then(|| items.last().map(|r| r.id))
        .flatten();
    let rows = items
        .iter()
        .map(|r| {
            let reasons = match &r.reason {
                Value::Object(m) => m
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_string),
                        )
                    })
                    .collect(),
                other => vec![("".into(), other.to_string())],
            };
            let mut body = r.body.clone();
            if body.len() > 600 {
                let mut cut = 600;
                while !body.is_char_boundary(cut) {
                    cut -= 1;
                }
                body.truncate(cut);
                body.push('…');
            }
            (
                r.id,
                time::local(r.received_at, &op.timezone),
                r.source_id,
                reasons,
                body,
            )
        })
        .collect();
    Ok(render(&RejectedPage {
        chrome: Chrome::new(&op, "rejected", "Rejected submissions"),
        rows,
        next_before,
    }))
}

#[derive(askama::Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    rows: Vec<(NotificationRow, String)>,
}

async fn notifications(State(state): State<AppState>, op: Operator) -> Result<Response, PageError> {
    let rows = state
        .store()
        .list_notifications(None, None, 200)
        .await?
        .into_iter()
        .map(|n| {
            let at = time::local(n.created_at, &op.timezone);
            (n, at)
        })
        .collect();
    Ok(render(&NotificationsPage {
        chrome: Chrome::new(&op, "notifications", "Notifications"),
        rows,
    }))
}

/// (value, label) pairs of a `<select>`.
pub(crate) type Options = Vec<(String, String)>;

/// The markets and the niches, as (slug, name) options of `<select>`s.
pub(crate) fn options(catalog: &leadrouter_core::catalog::Catalog) -> (Options, Options) {
    (
        catalog
            .markets()
            .iter()
            .map(|m| (m.slug.clone(), m.name.clone()))
            .collect(),
        catalog
            .niches()
            .iter()
            .map(|n| (n.slug.clone(), n.name.clone()))
            .collect(),
    )
}
