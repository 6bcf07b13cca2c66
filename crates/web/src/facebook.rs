//! Facebook Lead Ads webhooks: the verification handshake, and notifications of new leads
//! (signature checked over the raw body, stored before Facebook gets its 200).

use crate::extract::body_bytes;
use crate::views::{FacebookReceived, Success};
use crate::{ApiError, AppState};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use leadrouter_core::facebook::leadgen_changes;
use leadrouter_core::signing::facebook_signature_valid;
use leadrouter_core::source::SourceKind;
use leadrouter_core::token::hash_secret;
use serde::Deserialize;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/facebook/{token}", get(verify).post(notify))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, "verification failed").into_response()
}

#[utoipa::path(get, path = "/api/facebook/{token}", tag = "inbound", params(("token" = String, Path, description = "the source's token"), Handshake), responses((status = 200, description = "done", body = String), (status = 403, description = "verification failed", body = String, content_type = "text/plain")))]
async fn verify(
    State(state): State<AppState>,
    crate::extract::PathParts(token): crate::extract::PathParts<String>,
    crate::extract::QueryOf(q): crate::extract::QueryOf<Handshake>,
) -> Result<Response, ApiError> {
    let source = state.source_by_token_hash(&hash_secret(&token)).await?;
    let Some(fb) = source
        .filter(|s| s.spec.active && s.spec.kind == SourceKind::Facebook)
        .and_then(|s| s.spec.facebook)
    else {
        return Ok(forbidden());
    };
    let given = q.verify_token.unwrap_or_default();
    let token_ok: bool = given
        .as_bytes()
        .ct_eq(fb.verify_token.expose().as_bytes())
        .into();
    match (q.mode.as_deref(), token_ok, q.challenge) {
        (Some("subscribe"), true, Some(challenge)) => {
            tracing::info!("Facebook webhook subscription verified");
            Ok(([(CONTENT_TYPE, "text/plain; charset=utf-8")], challenge).into_response())
        }
        _ => Ok(forbidden()),
    }
}

#[utoipa::path(post, path = "/api/facebook/{token}", tag = "inbound", params(("token" = String, Path, description = "the source's token")), request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 200, description = "done", body = crate::views::FacebookReceived)))]
async fn notify(
    State(state): State<AppState>,
    crate::extract::PathParts(token): crate::extract::PathParts<String>,
    headers: HeaderMap,
    req: Request,
) -> Result<Json<Success<FacebookReceived>>, ApiError> {
    let received_at = state.now_ms();
    let source = state.source_by_token_hash(&hash_secret(&token)).await?;
    let Some((source, fb)) = source
        .filter(|s| s.spec.active && s.spec.kind == SourceKind::Facebook)
        .and_then(|s| s.spec.facebook.clone().map(|fb| (s, fb)))
    else {
        return Err(ApiError::Unauthorized(
            "unknown or disabled Facebook source",
        ));
    };
    let bytes = body_bytes(req, &state).await?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !facebook_signature_valid(fb.app_secret.expose(), &bytes, signature) {
        // Unauthenticated: anyone may send it, so only the reason is kept, not the body.
        let reason = json!({"X-Hub-Signature-256": "missing or does not match the body"});
        state
            .store()
            .record_rejection(
                Some(source.id),
                received_at,
                &reason,
                Some("application/json"),
                b"",
            )
            .await?;
        tracing::warn!(
            source_id = source.id,
            "Facebook notification with a bad signature"
        );
        return Err(ApiError::Unauthorized("X-Hub-Signature-256 does not match"));
    }
    let changes = serde_json::from_slice::<Value>(&bytes)
        .map_err(|e| format!("is not valid JSON: {e}"))
        .and_then(|body| leadgen_changes(&body));
    let changes = match changes {
        Ok(c) => c,
        Err(problem) => {
            let reason = json!({"body": problem});
            state
                .store()
                .record_rejection(
                    Some(source.id),
                    received_at,
                    &reason,
                    Some("application/json"),
                    &bytes,
                )
                .await?;
            return Err(ApiError::validation_one("body", problem));
        }
    };
    let new = state
        .store()
        .insert_facebook_notifications(source.id, &changes, received_at)
        .await?;
    if new > 0 {
        state.signals().facebook_pending();
    }
    tracing::info!(
        source_id = source.id,
        leads = changes.len(),
        new,
        "Facebook notification stored"
    );
    Ok(Json(Success::of(FacebookReceived {
        received: changes.len(),
    })))
}
