//! `POST /api/webhook/{token}`: leads from sources, as JSON or as a plain HTML form post.

use crate::extract::{body_bytes, is_json};
use crate::{ApiError, AppState};
use axum::extract::{Path, Request, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use leadrouter_core::lead::normalize_lead;
use leadrouter_core::source::SourceKind;
use leadrouter_core::token::hash_secret;
use leadrouter_store::leads::{Ingested, LeadStatus, Submission};
use leadrouter_store::sources::Source;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/webhook/{token}", post(receive))
}

/// Longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 200;

pub(crate) async fn active_source(state: &AppState, token: &str) -> Result<Source, ApiError> {
    let source = state.source_by_token_hash(&hash_secret(token)).await?;
    match source {
        Some(s) if s.spec.active => Ok(s),
        Some(_) => Err(ApiError::Unauthorized("this source is disabled")),
        None => Err(ApiError::Unauthorized("unknown source token")),
    }
}

enum BodyKind {
    Json,
    Form,
}

fn parse_body(
    kind: &BodyKind,
    bytes: &[u8],
) -> Result<Map<String, Value>, BTreeMap<String, String>> {
    let one = |m: String| BTreeMap::from([("body".to_string(), m)]);
    match kind {
        BodyKind::Json => match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(one("must be a JSON object".into())),
            Err(e) => Err(one(format!("is not valid JSON: {e}"))),
        },
        BodyKind::Form => serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
            .map(|pairs| {
                pairs
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect()
            })
            .map_err(|e| one(format!("is not a valid form body: {e}"))),
    }
}

async fn receive(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    req: Request,
) -> Result<Response, ApiError> {
    let received_at = state.now_ms();
    let source = active_source(&state, &token).await?;
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let media = content_type
        .as_deref()
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    let kind = if is_json(content_type.as_deref()) {
        BodyKind::Json
    } else if media.as_deref() == Some("application/x-www-form-urlencoded") {
        BodyKind::Form
    } else {
        let reason =
            json!({"content_type": "send JSON or an application/x-www-form-urlencoded form"});
        state
            .store()
            .record_rejection(
                Some(source.id),
                received_at,
                &reason,
                content_type.as_deref(),
                b"",
            )
            .await?;
        return Err(ApiError::UnsupportedMediaType(
            "send JSON (application/json) or a form (application/x-www-form-urlencoded)".into(),
        ));
    };
    let bytes = match body_bytes(req, &state).await {
        Ok(b) => b,
        Err(e) => {
            let reason = json!({"body": e.to_string()});
            state
                .store()
                .record_rejection(
                    Some(source.id),
                    received_at,
                    &reason,
                    content_type.as_deref(),
                    b"",
                )
                .await?;
            return Err(e);
        }
    };
    let catalog = state.catalog().await?;
    let checked = parse_body(&kind, &bytes).and_then(|fields| {
        normalize_lead(
            &fields,
            &source.spec.lead_defaults(source.spec.kind.as_str()),
            &catalog,
        )
    });
    let lead = match checked {
        Ok(lead) => lead,
        Err(fields) => {
            state
                .store()
                .record_rejection(
                    Some(source.id),
                    received_at,
                    &json!(fields),
                    content_type.as_deref(),
                    &bytes,
                )
                .await?;
            tracing::info!(source_id = source.id, fields = ?fields.keys().collect::<Vec<_>>(), "lead rejected");
            return Err(ApiError::Validation(fields));
        }
    };
    let idempotency_key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) if !k.trim().is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY => {
            Some(k.trim().to_string())
        }
        Some(_) => {
            let problem = format!("must be 1 to {MAX_IDEMPOTENCY_KEY} visible characters");
            state
                .store()
                .record_rejection(
                    Some(source.id),
                    received_at,
                    &json!({"Idempotency-Key": problem}),
                    content_type.as_deref(),
                    &bytes,
                )
                .await?;
            return Err(ApiError::validation_one("Idempotency-Key", problem));
        }
    };
    let outcome = state
        .ingestor()
        .submit(Submission {
            source_id: source.id,
            lead,
            idempotency_key,
            received_at,
        })
        .await?;
    tracing::debug!(source_id = source.id, lead_id = outcome.id(), "lead stored");

    if let (BodyKind::Form, Some(url), SourceKind::LandingPage) =
        (&kind, &source.spec.redirect_url, source.spec.kind)
    {
        return Ok((StatusCode::SEE_OTHER, [(LOCATION, url.clone())]).into_response());
    }
    Ok(answer(outcome))
}

fn answer(outcome: Ingested) -> Response {
    match outcome {
        Ingested::New { id, status: LeadStatus::Duplicate, duplicate_of } => (
            StatusCode::OK,
            Json(json!({"success": true, "lead_id": id, "status": "duplicate",
                "duplicate_of": duplicate_of,
                "message": "Lead received; it duplicates an earlier lead and will not be distributed"})),
        )
            .into_response(),
        Ingested::New { id, status, .. } => (
            StatusCode::ACCEPTED,
            Json(json!({"success": true, "lead_id": id, "status": status.as_str(),
                "message": "Lead received and queued for distribution"})),
        )
            .into_response(),
        Ingested::Repeat { id, status, duplicate_of } => {
            let mut body = json!({"success": true, "lead_id": id, "status": status.as_str(),
                "message": "Lead already received (idempotent repeat); nothing new was created"});
            if let Some(d) = duplicate_of {
                body["duplicate_of"] = json!(d);
            }
            (StatusCode::OK, Json(body)).into_response()
        }
    }
}
