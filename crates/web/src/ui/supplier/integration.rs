//! The supplier's integration: where and how to post (its inbound URL, the fields, an
//! example), its postbacks (the URL template, the events, how they are signed, the latest
//! with their status), and a test submission: a body read exactly as the inbound reads
//! one from this source (its defaults), answered with what would be stored or what is
//! wrong with each field, and whether a buyer would take it now — never which one. Nothing
//! is stored, routed or counted against the daily cap.

use super::chrome;
use crate::ui::form::Posted;
use crate::ui::page::render;
use crate::ui::seats::{PortalChrome, SupplierUser};
use crate::ui::sources::posting_example;
use crate::ui::SupplierError;
use crate::views::SourceView;
use crate::{time, ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leadrouter_core::lead::normalize_lead;
use leadrouter_store::postbacks::PostbackRow;
use serde_json::{Map, Value};

#[derive(askama::Template)]
#[template(path = "supplier_integration.html")]
struct IntegrationPage {
    chrome: PortalChrome,
    s: SourceView,
    public_url: String,
    postbacks: Vec<PostbackRow>,
}

impl IntegrationPage {
    fn posting_example(&self) -> String {
        posting_example(&self.s, &self.public_url)
    }

    fn when(&self, at: &i64) -> String {
        time::local(*at, &self.chrome.timezone)
    }
}

pub(crate) async fn show(
    State(state): State<AppState>,
    user: SupplierUser,
) -> Result<Response, SupplierError> {
    let (source, chrome) = chrome(&state, &user, "integration", "Integration").await?;
    let postbacks = state.store().list_postbacks(source.id, 50).await?;
    Ok(render(&IntegrationPage {
        chrome,
        s: SourceView::new(&source),
        public_url: state.settings().public_url.clone(),
        postbacks,
    }))
}

/// What a test submission came to.
struct Tried {
    /// Field → what is wrong with it (empty when the lead would be taken).
    errors: Vec<(String, String)>,
    /// The lead as it would be stored: (label, value).
    read: Vec<(&'static str, String)>,
    /// Whether a buyer would take it now, in the supplier's words.
    verdict: String,
}

#[derive(askama::Template)]
#[template(path = "supplier_test.html")]
struct TestPage {
    chrome: PortalChrome,
    body: String,
    tried: Option<Tried>,
}

/// A body to start from: the fields of the example, with this source's defaults.
fn example_body(s: &SourceView) -> String {
    let lead = serde_json::json!({
        "first_name": "John",
        "last_name": "Smith",
        "email": "john.smith@email.com",
        "phone": "+491234567890",
        "country": s.default_country.as_deref().unwrap_or("germany"),
        "niche": s.default_niche.as_deref().unwrap_or("forex"),
        "lead_type": "premium",
        "external_id": "your-own-id-of-this-lead",
    });
    serde_json::to_string_pretty(&lead).unwrap_or_default()
}

pub(crate) async fn test_page(
    State(state): State<AppState>,
    user: SupplierUser,
) -> Result<Response, SupplierError> {
    let (source, chrome) = chrome(&state, &user, "test", "Test submission").await?;
    Ok(render(&TestPage {
        chrome,
        body: example_body(&SourceView::new(&source)),
        tried: None,
    }))
}

pub(crate) async fn send_test(
    State(state): State<AppState>,
    posted: Posted<SupplierUser>,
) -> Result<Response, SupplierError> {
    let (source, chrome) = chrome(&state, &posted.op, "test", "Test submission").await?;
    let body = posted.fields.get("body").unwrap_or_default().to_string();
    let tried = match serde_json::from_str::<Value>(&body) {
        Ok(Value::Object(fields)) => try_lead(&state, &source, &fields).await?,
        _ => Tried {
            errors: vec![(
                "body".into(),
                "must be a JSON object, such as the example".into(),
            )],
            read: vec![],
            verdict: String::new(),
        },
    };
    tracing::info!(
        source_id = source.id,
        user_id = posted.op.user_id,
        taken = tried.errors.is_empty(),
        "supplier tried a submission"
    );
    let status = if tried.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        render(&TestPage {
            chrome,
            body,
            tried: Some(tried),
        }),
    )
        .into_response())
}

/// Reads `fields` as the source's inbound would, and asks the router's simulator where it
/// would go now; nothing is written.
async fn try_lead(
    state: &AppState,
    source: &leadrouter_store::sources::Source,
    fields: &Map<String, Value>,
) -> Result<Tried, SupplierError> {
    let defaults = source.spec.lead_defaults(source.spec.kind.as_str());
    let catalog = state.catalog().await?;
    let lead = match normalize_lead(fields, &defaults, &catalog) {
        Ok(lead) => lead,
        Err(errors) => {
            return Ok(Tried {
                errors: errors.into_iter().collect(),
                read: vec![],
                verdict: String::new(),
            })
        }
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let mut read = vec![
        ("First name", opt(&lead.first_name)),
        ("Last name", opt(&lead.last_name)),
        ("Email", opt(&lead.email)),
        ("Phone", opt(&lead.phone)),
        ("Country", lead.country.clone()),
        ("Niche", lead.niche.clone()),
        ("Lead type", lead.lead_type.as_str().to_string()),
        ("Your id", opt(&lead.external_id)),
    ];
    if !lead.custom_fields.is_empty() {
        read.push((
            "Other fields",
            Value::Object(lead.custom_fields.clone()).to_string(),
        ));
    }
    let sim = crate::simulation::simulate(state, fields, Some(source.id), state.now_ms())
        .await
        .map_err(|e| match e {
            ApiError::Validation(_) => ApiError::Internal("the lead read twice differently".into()),
            e => e,
        })?;
    let verdict = match sim.decision {
        "assign" => "A buyer would take this lead now.".to_string(),
        "fail" => {
            "It would be rejected: every buyer of its market already has this person.".to_string()
        }
        _ => "No buyer would take it right now: it would wait in line for one (or be rejected \
              if none takes it in time)."
            .to_string(),
    };
    Ok(Tried {
        errors: vec![],
        read,
        verdict,
    })
}
