//! "Integration": how leads reach the partner (an example in its own format, the headers,
//! how to verify them), "Rotate signing secret" (the old secret keeps signing beside the
//! new one for 24 hours) and a checker that verifies a pasted body and headers against the
//! partner's secrets with the Standard Webhooks library.

use super::super::seats::PortalChrome;
use super::super::seats::PortalUser;
use super::pages::chrome;
use crate::ui::PortalError;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use leadrouter_core::signing::standard;

use super::super::form::Posted;
use super::super::page::render;
use crate::time;

#[derive(askama::Template)]
#[template(path = "portal_integration.html")]
struct Page {
    chrome: PortalChrome,
    webhook_url: String,
    example: String,
    content_type: &'static str,
    /// When the previous secret stops signing, if it still does.
    overlap_until: Option<String>,
    /// The new secret, this once, after a rotation.
    new_secret: Option<String>,
    check: Option<Check>,
    form: (String, String, String, String),
    conversion_url: String,
}

/// What the checker found.
struct Check {
    ok: bool,
    lines: Vec<String>,
}

async fn page(
    state: &AppState,
    user: &PortalUser,
    check: Option<Check>,
    form: (String, String, String, String),
) -> Result<Response, PortalError> {
    let partner = state
        .store()
        .partner(user.owner_id)
        .await?
        .ok_or(ApiError::NotFound("no such partner"))?;
    let chrome = chrome(state, user, "integration", "Integration").await?;
    let (example, content_type) = leadrouter_engine::mail::example(&partner.spec);
    let now = state.now_ms();
    let flash = state
        .flashes()
        .take(&user.session_hash, "/portal/integration");
    Ok(render(&Page {
        overlap_until: partner
            .previous_secret_until
            .filter(|u| *u > now)
            .map(|u| time::local(u, &chrome.timezone)),
        new_secret: flash.secrets.into_iter().next().map(|(_, v)| v),
        webhook_url: partner.spec.webhook_url.clone(),
        conversion_url: format!(
            "{}/api/conversion/{}",
            state.settings().public_url,
            partner.id
        ),
        chrome,
        example,
        content_type,
        check,
        form,
    }))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    user: PortalUser,
) -> Result<Response, PortalError> {
    page(&state, &user, None, Default::default()).await
}

/// A new signing secret, shown once on the next view of the page.
pub(crate) async fn rotate(
    State(state): State<AppState>,
    Posted { op: user, .. }: Posted<PortalUser>,
) -> Result<Response, PortalError> {
    let answer = crate::partners::rotate_partner_secret(
        &state,
        user.owner_id,
        &leadrouter_store::audit::Actor::partner_user(user.user_id, &user.email),
    )
    .await?;
    tracing::info!(
        partner_id = user.owner_id,
        user_id = user.user_id,
        "signing secret rotated in the portal"
    );
    state.flashes().put(
        &user.session_hash,
        super::super::flash::Flash {
            notice: None,
            secrets: answer
                .signing_secret
                .map(|s| vec![("Signing secret".to_string(), s)])
                .unwrap_or_default(),
            for_path: "/portal/integration".into(),
        },
    );
    Ok(axum::response::Redirect::to("/portal/integration").into_response())
}

/// Verifies a pasted delivery: with each of the partner's live secrets, by the Standard
/// Webhooks library (timestamp tolerance included), and without the age check so that an
/// old delivery still says whether its signature was right.
pub(crate) async fn check(
    State(state): State<AppState>,
    Posted { op: user, fields }: Posted<PortalUser>,
) -> Result<Response, PortalError> {
    let form = (
        fields.get("body").unwrap_or_default().to_string(),
        fields.text("webhook_id"),
        fields.text("webhook_timestamp"),
        fields.text("webhook_signature"),
    );
    let partner = state
        .store()
        .partner(user.owner_id)
        .await?
        .ok_or(ApiError::NotFound("no such partner"))?;
    let now = state.now_ms();
    let secrets = partner.signing_secrets(now);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("webhook-id", &form.1),
        ("webhook-timestamp", &form.2),
        ("webhook-signature", &form.3),
    ] {
        if let Ok(v) = value.parse() {
            headers.insert(name, v);
        }
    }
    let body = form.0.as_bytes();
    let mut lines = Vec::new();
    let mut ok = false;
    for (i, secret) in secrets.iter().enumerate() {
        let which = if i == 0 {
            "your current secret"
        } else {
            "your previous secret (still signing)"
        };
        let lib = standardwebhooks::Webhook::new(secret.expose())
            .map_err(|e| e.to_string())
            .and_then(|wh| wh.verify(body, &headers).map_err(|e| e.to_string()));
        let timestamp = form.2.parse::<i64>().unwrap_or(0);
        let signed = standard::verify(secret.expose(), &form.1, timestamp, body, &form.3);
        match (lib, signed) {
            (Ok(()), _) => {
                ok = true;
                lines.push(format!("Verified with {which}."));
            }
            (Err(e), true) => lines.push(format!(
                "The signature matches {which}, but the Standard Webhooks library refuses the delivery: {e} (a timestamp more than 5 minutes away is refused as a replay)."
            )),
            (Err(_), false) => lines.push(format!("Does not verify with {which}: check that the body is exactly as received, byte for byte, and the three headers.")),
        }
    }
    page(&state, &user, Some(Check { ok, lines }), form).await
}
