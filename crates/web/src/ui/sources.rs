//! Sources in the console: create one (its inbound URL and token shown once, with a
//! copy-paste HTML form for landing pages), Facebook settings, rotate the token, disable.

use super::flash::Flash;
use super::form::{Fields, Posted};
use super::page::{render, render_status, Chrome};
use crate::extract::PathId;
use crate::operator::Operator;
use crate::sources as api;
use crate::time;
use crate::ui::PageError;
use crate::views::SourceView;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use leadrouter_store::sources::Source;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/sources", get(list).post(create))
        .route("/admin/sources/new", get(new))
        .route("/admin/sources/{id}", get(show).post(update))
        .route("/admin/sources/{id}/rotate-token", post(rotate))
        .route("/admin/sources/{id}/status", post(set_status))
        .route(
            "/admin/sources/{id}/postbacks/{postback_id}/retry",
            post(retry_postback),
        )
}

#[derive(askama::Template)]
#[template(path = "sources.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<(SourceView, String)>,
}

async fn list(State(state): State<AppState>, op: Operator) -> Result<Response, PageError> {
    let sources = state.store().list_sources(500, None).await?;
    let rows = sources
        .iter()
        .map(|s| (SourceView::new(s), time::local(s.created_at, &op.timezone)))
        .collect();
    Ok(render(&ListPage {
        chrome: Chrome::new(&op, "sources", "Sources"),
        rows,
    }))
}

/// What the new-source form holds.
#[derive(Default, Clone)]
pub(crate) struct SourceForm {
    pub name: String,
    pub kind: String,
    pub default_country: String,
    pub default_niche: String,
    pub default_lead_type: String,
    pub source_label: String,
    pub redirect_url: String,
    pub cost_per_lead: String,
    pub daily_cap: String,
}

impl SourceForm {
    fn read(f: &Fields) -> SourceForm {
        SourceForm {
            name: f.text("name"),
            kind: f.text("kind"),
            default_country: f.text("default_country"),
            default_niche: f.text("default_niche"),
            default_lead_type: f.text("default_lead_type"),
            source_label: f.text("source_label"),
            redirect_url: f.text("redirect_url"),
            cost_per_lead: f.text("cost_per_lead"),
            daily_cap: f.text("daily_cap"),
        }
    }
}

/// The API's input from a form: empty optional fields left out (new) or cleared (edit);
/// Facebook credentials only when all three are typed.
fn input_of(f: &Fields, editing: bool) -> Map<String, Value> {
    let mut input = Map::new();
    for k in [
        "name",
        "kind",
        "default_country",
        "default_niche",
        "default_lead_type",
        "source_label",
        "redirect_url",
        "cost_per_lead",
        "daily_cap",
        "postback_url",
    ] {
        if editing && k == "kind" {
            continue;
        }
        match f.get(k).map(str::trim) {
            Some(v) if !v.is_empty() => {
                input.insert(k.into(), json!(v));
            }
            Some(_) if editing && k != "name" => {
                input.insert(k.into(), Value::Null);
            }
            _ => {}
        }
    }
    let fb: Vec<String> = ["app_secret", "verify_token", "access_token"]
        .iter()
        .map(|k| f.text(&format!("facebook_{k}")))
        .collect();
    if fb.iter().any(|v| !v.is_empty()) {
        input.insert(
            "facebook".into(),
            json!({"app_secret": fb[0], "verify_token": fb[1], "access_token": fb[2]}),
        );
    }
    input
}

#[derive(askama::Template)]
#[template(path = "source_form.html")]
struct FormPage {
    chrome: Chrome,
    form: SourceForm,
    errors: BTreeMap<String, String>,
    markets: Vec<String>,
    niches: Vec<String>,
}

impl FormPage {
    fn error(&self, k: &str) -> String {
        self.errors.get(k).cloned().unwrap_or_default()
    }
}

async fn form_page(
    state: &AppState,
    op: &Operator,
    form: SourceForm,
    errors: BTreeMap<String, String>,
) -> Result<FormPage, PageError> {
    let catalog = state.catalog().await?;
    Ok(FormPage {
        chrome: Chrome::new(op, "sources", "New source"),
        form,
        errors,
        markets: catalog.markets().iter().map(|m| m.slug.clone()).collect(),
        niches: catalog.niches().iter().map(|n| n.slug.clone()).collect(),
    })
}

/// "Retry" of a failed postback: it is sent again now.
async fn retry_postback(
    State(state): State<AppState>,
    crate::extract::PathParts((id, postback_id)): crate::extract::PathParts<(i64, i64)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { op, .. } = posted;
    let source = api::find(&state, id).await?;
    let notice = if state
        .store()
        .retry_postback(source.id, postback_id, state.now_ms())
        .await?
    {
        state.signals().notices_queued();
        format!("Postback #{postback_id} is sent again.")
    } else {
        format!("Postback #{postback_id} has not failed: nothing to retry.")
    };
    Ok(super::flash::redirect_with_notice(
        &state,
        &op,
        &format!("/admin/sources/{id}"),
        &notice,
    ))
}

async fn new(State(state): State<AppState>, op: Operator) -> Result<Response, PageError> {
    let form = SourceForm {
        kind: "webhook".into(),
        ..Default::default()
    };
    Ok(render(
        &form_page(&state, &op, form, BTreeMap::new()).await?,
    ))
}

/// To the source's page, showing its URL and token (and the landing-page snippet) once.
fn to_source(state: &AppState, op: &Operator, s: &Source, token: &str, notice: &str) -> Response {
    let path = format!("/admin/sources/{}", s.id);
    state.flashes().put(
        &op.session_hash,
        Flash {
            notice: Some(notice.to_string()),
            secrets: vec![
                ("Inbound URL".into(), api::inbound_url(state, s, token)),
                ("Token".into(), token.to_string()),
            ],
            for_path: path.clone(),
        },
    );
    Redirect::to(&path).into_response()
}

async fn create(State(state): State<AppState>, posted: Posted) -> Result<Response, PageError> {
    let Posted { op, fields } = posted;
    match api::create_source(&state, &input_of(&fields, false), &op.actor()).await {
        Ok((source, token)) => Ok(to_source(&state, &op, &source, &token, "Source created.")),
        Err(ApiError::Validation(errors)) => {
            let page = form_page(&state, &op, SourceForm::read(&fields), errors).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(askama::Template)]
#[template(path = "source.html")]
struct ShowPage {
    chrome: Chrome,
    s: SourceView,
    flash: Flash,
    errors: BTreeMap<String, String>,
    markets: Vec<String>,
    niches: Vec<String>,
    /// The server's public URL (the inbound URL starts with it).
    public_url: String,
    /// Its latest postbacks: (id, lead, event, status, attempts, last error, when).
    postbacks: Vec<leadrouter_store::postbacks::PostbackRow>,
    /// Its people with access to the supplier portal.
    users: Vec<leadrouter_store::portal::Member>,
    timezone: String,
}

impl ShowPage {
    fn when(&self, at: &i64) -> String {
        crate::time::local(*at, &self.timezone)
    }

    fn posting_example(&self) -> String {
        posting_example(&self.s, &self.public_url)
    }

    fn members_base(&self) -> String {
        format!("/admin/sources/{}/users", self.s.id)
    }

    fn members_empty(&self) -> &'static str {
        "Nobody of this supplier has access to the supplier portal yet."
    }

    fn members_placeholder(&self) -> &'static str {
        "someone@supplier.com"
    }

    fn yours(&self, at: &i64) -> String {
        self.when(at)
    }

    fn error(&self, k: &str) -> String {
        self.errors.get(k).cloned().unwrap_or_default()
    }

    /// The inbound URL just issued (only right after creation or rotation).
    fn url(&self) -> Option<String> {
        self.flash
            .secrets
            .iter()
            .find(|(k, _)| k == "Inbound URL")
            .map(|(_, v)| v.clone())
    }

    /// A form a landing page can carry as it is; it posts to the source's URL and comes
    /// back to the redirect URL (or a JSON answer).
    fn snippet(&self, url: &str) -> String {
        format!(
            r#"<form method="post" action="{url}">
  <label>First name <input name="first_name" required></label>
  <label>Last name <input name="last_name" required></label>
  <label>Email <input name="email" type="email" required></label>
  <label>Phone <input name="phone" type="tel" required></label>
  <input type="hidden" name="country" value="{country}">
  <input type="hidden" name="niche" value="{niche}">
  <button type="submit">Send</button>
</form>"#,
            country = self
                .s
                .default_country
                .clone()
                .unwrap_or_else(|| "germany".into()),
            niche = self
                .s
                .default_niche
                .clone()
                .unwrap_or_else(|| "forex".into()),
        )
    }
}

/// The posting specification a supplier needs, any time: where, how, which fields, and
/// an example (the token stands as a placeholder: it is shown only when issued).
pub(crate) fn posting_example(s: &SourceView, public_url: &str) -> String {
    let country = s.default_country.as_deref().unwrap_or("germany");
    let niche = s.default_niche.as_deref().unwrap_or("forex");
    format!(
        r#"curl -X POST '{public_url}/api/webhook/YOUR_TOKEN' \
  -H 'Content-Type: application/json' \
  -H 'Idempotency-Key: your-own-id-of-this-lead' \
  -d '{{"first_name": "John", "last_name": "Smith", "email": "john.smith@email.com",
       "phone": "+491234567890", "country": "{country}", "niche": "{niche}",
       "lead_type": "premium", "source": "facebook_ads"}}'"#
    )
}

async fn show_page(
    state: &AppState,
    op: &Operator,
    source: &Source,
    errors: BTreeMap<String, String>,
) -> Result<ShowPage, PageError> {
    let catalog = state.catalog().await?;
    let s = SourceView::new(source);
    Ok(ShowPage {
        public_url: state.settings().public_url.clone(),
        chrome: Chrome::new(op, "sources", s.name.clone()),
        flash: state
            .flashes()
            .take(&op.session_hash, &format!("/admin/sources/{}", s.id)),
        s,
        errors,
        markets: catalog.markets().iter().map(|m| m.slug.clone()).collect(),
        niches: catalog.niches().iter().map(|n| n.slug.clone()).collect(),
        postbacks: state.store().list_postbacks(source.id, 50).await?,
        users: state
            .store()
            .list_members(leadrouter_store::portal::Portal::Supplier, source.id)
            .await?,
        timezone: op.timezone.clone(),
    })
}

async fn show(
    State(state): State<AppState>,
    op: Operator,
    PathId(id): PathId,
) -> Result<Response, PageError> {
    let source = api::find(&state, id).await?;
    Ok(render(
        &show_page(&state, &op, &source, BTreeMap::new()).await?,
    ))
}

async fn update(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { op, fields } = posted;
    match api::update_source(&state, id, &input_of(&fields, true), &op.actor()).await {
        Ok(_) => Ok(super::flash::redirect_with_notice(
            &state,
            &op,
            &format!("/admin/sources/{id}"),
            "Changes saved.",
        )),
        Err(ApiError::Validation(errors)) => {
            let source = api::find(&state, id).await?;
            let page = show_page(&state, &op, &source, errors).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e.into()),
    }
}

async fn rotate(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    let (source, token) = api::rotate_source_token(&state, id, &posted.op.actor()).await?;
    Ok(to_source(
        &state,
        &posted.op,
        &source,
        &token,
        "New token: the old URL no longer accepts leads.",
    ))
}

async fn set_status(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    let status = if posted.fields.text("status") == "active" {
        "active"
    } else {
        "disabled"
    };
    api::update_source(
        &state,
        id,
        &Map::from_iter([("status".into(), json!(status))]),
        &posted.op.actor(),
    )
    .await?;
    let notice = if status == "active" {
        "Source enabled."
    } else {
        "Source disabled: its URL now refuses leads."
    };
    Ok(super::flash::redirect_with_notice(
        &state,
        &posted.op,
        &format!("/admin/sources/{id}"),
        notice,
    ))
}
