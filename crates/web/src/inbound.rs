//! `POST /api/webhook/{token}`: leads from sources, as JSON or as a plain HTML form post.

use crate::extract::{body_bytes, is_json};
use crate::views::{LeadOutcomeView, LeadReceivedView, Success};
use crate::{ApiError, AppState};
use axum::extract::{Request, State};
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

/// A submission being refused: recorded (what came, why) before the error is answered, so
/// that nothing is silently dropped.
struct Intake<'a> {
    state: &'a AppState,
    source_id: i64,
    received_at: i64,
    content_type: Option<String>,
}

impl Intake<'_> {
    async fn refuse(
        &self,
        reason: Value,
        body: &[u8],
        error: ApiError,
    ) -> Result<Response, ApiError> {
        self.state
            .store()
            .record_rejection(
                Some(self.source_id),
                self.received_at,
                &reason,
                self.content_type.as_deref(),
                body,
            )
            .await?;
        self.state.signals().metrics().received("rejected");
        Err(error)
    }
}

fn body_kind(content_type: Option<&str>) -> Option<BodyKind> {
    let media = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    if is_json(content_type) {
        Some(BodyKind::Json)
    } else if media.as_deref() == Some("application/x-www-form-urlencoded") {
        Some(BodyKind::Form)
    } else {
        None
    }
}

/// The `Idempotency-Key` header, if any; `Err` with the problem if it is not a usable key.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, String> {
    match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(k)) if !k.trim().is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY => {
            Ok(Some(k.trim().to_string()))
        }
        Some(_) => Err(format!(
            "must be 1 to {MAX_IDEMPOTENCY_KEY} visible characters"
        )),
    }
}

#[utoipa::path(post, path = "/api/webhook/{token}", tag = "inbound", params(("token" = String, Path, description = "the source's token"), ("Idempotency-Key" = Option<String>, Header, description = "the same key within a day: the same lead")), request_body(content((Object = "application/json"), (Object = "application/x-www-form-urlencoded")), description = "a lead (API.md: Inbound)"), responses((status = 202, description = "done", body = crate::views::LeadReceivedView), (status = 200, description = "a repeat, or delivered while the source waited", body = crate::views::LeadReceivedView), (status = 303, description = "a form post: on to the redirect URL")))]
async fn receive(
    State(state): State<AppState>,
    crate::extract::PathParts(token): crate::extract::PathParts<String>,
    headers: HeaderMap,
    req: Request,
) -> Result<Response, ApiError> {
    let received_at = state.now_ms();
    // While the database is known to be down, nothing is looked up: the source is told
    // at once to try again.
    if state.ingestor().database_down() {
        return Err(ApiError::Unavailable);
    }
    let source = active_source(&state, &token).await?;
    let intake = Intake {
        state: &state,
        source_id: source.id,
        received_at,
        content_type: headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let Some(kind) = body_kind(intake.content_type.as_deref()) else {
        let reason =
            json!({"content_type": "send JSON or an application/x-www-form-urlencoded form"});
        let e = ApiError::UnsupportedMediaType(
            "send JSON (application/json) or a form (application/x-www-form-urlencoded)".into(),
        );
        return intake.refuse(reason, b"", e).await;
    };
    let bytes = match body_bytes(req, &state).await {
        Ok(b) => b,
        Err(e) => return intake.refuse(json!({"body": e.to_string()}), b"", e).await,
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
            tracing::info!(source_id = source.id, fields = ?fields.keys().collect::<Vec<_>>(), "lead rejected");
            let reason = json!(fields);
            return intake
                .refuse(reason, &bytes, ApiError::Validation(fields))
                .await;
        }
    };
    let idempotency_key = match idempotency_key(&headers) {
        Ok(k) => k,
        Err(problem) => {
            let reason = json!({"Idempotency-Key": problem});
            let e = ApiError::validation_one("Idempotency-Key", problem);
            return intake.refuse(reason, &bytes, e).await;
        }
    };
    // A supplier's daily cap: a slot of its operator day, given back when the submission
    // makes no new lead.
    let slot = match source.spec.daily_cap {
        Some(cap) => {
            let day =
                leadrouter_core::localtime::local_date(&state.settings().timezone, received_at);
            if !state.store().take_source_slot(source.id, &day, cap).await? {
                // A repeat of a lead it already sent is answered as ever.
                if let Some(repeat) = state
                    .store()
                    .repeat_of(
                        source.id,
                        lead.external_id.as_deref(),
                        idempotency_key.as_deref(),
                    )
                    .await?
                {
                    return Ok(answer(repeat));
                }
                let next = leadrouter_core::routing::next_local_midnight(
                    &state.settings().timezone,
                    received_at,
                );
                let message = format!("daily cap of {cap} leads reached for this source");
                tracing::info!(
                    source_id = source.id,
                    cap,
                    "lead refused: the source's daily cap is reached"
                );
                let e = ApiError::LimitReached {
                    message: message.clone(),
                    retry_after_secs: ((next - received_at) as u64).div_ceil(1000),
                };
                return intake
                    .refuse(json!({"daily_cap": message}), &bytes, e)
                    .await;
            }
            Some(day)
        }
        None => None,
    };
    let submitted = state
        .ingestor()
        .submit(Submission {
            source_id: source.id,
            lead,
            idempotency_key,
            received_at,
            cost_cents: source.spec.cost_per_lead_cents.unwrap_or(0),
        })
        .await;
    if let Some(day) = &slot {
        if !matches!(submitted, Ok(Ingested::New { .. })) {
            state.store().give_back_source_slot(source.id, day).await?;
        }
    }
    let outcome = submitted?;
    tracing::debug!(source_id = source.id, lead_id = outcome.id(), "lead stored");
    // A source that waits: for a new lead's first outcome, then its autologin.
    let waited = match outcome {
        Ingested::New {
            id,
            status: LeadStatus::Queued,
            ..
        } if source.spec.wait_for_delivery > 0 => {
            crate::waiting::wait_for_outcome(&state, id, source.spec.wait_for_delivery).await?
        }
        _ => None,
    };
    if let (BodyKind::Form, SourceKind::LandingPage) = (&kind, source.spec.kind) {
        let autologin = waited.as_ref().and_then(|w| w.redirect_url.clone());
        if let Some(url) = autologin.or_else(|| source.spec.redirect_url.clone()) {
            return Ok((StatusCode::SEE_OTHER, [(LOCATION, url)]).into_response());
        }
    }
    Ok(match waited {
        Some(w) => (
            StatusCode::OK,
            Json(Success::of(LeadOutcomeView {
                lead_id: outcome.id(),
                status: w.status,
                partner_lead_id: w.partner_lead_id,
                redirect_url: w.redirect_url,
                message: match w.status {
                    LeadStatus::Delivered => "Lead received and delivered",
                    LeadStatus::Held => "Lead received; it waits for a partner",
                    _ => "Lead received; no partner took it",
                },
            })),
        )
            .into_response(),
        None => answer(outcome),
    })
}

fn answer(outcome: Ingested) -> Response {
    match outcome {
        Ingested::New {
            id,
            status: LeadStatus::Duplicate,
            duplicate_of,
        } => (
            StatusCode::OK,
            Json(Success::of(LeadReceivedView {
                lead_id: id,
                status: LeadStatus::Duplicate,
                duplicate_of,
                message: "Lead received; it duplicates an earlier lead and will not be distributed",
            })),
        )
            .into_response(),
        Ingested::New { id, status, .. } => (
            StatusCode::ACCEPTED,
            Json(Success::of(LeadReceivedView {
                lead_id: id,
                status,
                duplicate_of: None,
                message: "Lead received and queued for distribution",
            })),
        )
            .into_response(),
        Ingested::Repeat {
            id,
            status,
            duplicate_of,
        } => (
            StatusCode::OK,
            Json(Success::of(LeadReceivedView {
                lead_id: id,
                status,
                duplicate_of,
                message: "Lead already received (idempotent repeat); nothing new was created",
            })),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod fuzz {
    use super::{parse_body, BodyKind};
    use leadrouter_core::catalog::Catalog;
    use leadrouter_core::lead::{normalize_lead, SourceDefaults};
    use leadrouter_core::market::{Market, Niche};

    /// Any body a source sends, read as JSON and as a form, then checked as a lead: never a
    /// panic; a refusal names the body or the fields at fault.
    #[test]
    fn inbound_bodies() {
        let catalog = Catalog::new(
            vec![Market {
                slug: "germany".into(),
                iso_code: "DE".into(),
                name: "Germany".into(),
                aliases: vec!["de".into()],
                phone_region: "DE".into(),
                phone_code: 49,
                default_timezone: "Europe/Berlin".into(),
            }],
            vec![Niche {
                slug: "forex".into(),
                name: "Forex".into(),
            }],
        );
        let defaults = SourceDefaults::default();
        bolero::check!().for_each(|bytes: &[u8]| {
            for kind in [BodyKind::Json, BodyKind::Form] {
                match parse_body(&kind, bytes) {
                    Ok(fields) => {
                        if let Err(why) = normalize_lead(&fields, &defaults, &catalog) {
                            assert!(!why.is_empty(), "a refusal names its fields");
                        }
                    }
                    Err(why) => assert_eq!(why.keys().collect::<Vec<_>>(), ["body"]),
                }
            }
        });
    }
}
