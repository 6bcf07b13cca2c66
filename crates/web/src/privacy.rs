//! A person's data as the JSON API and the console both handle it: erased on request (by
//! `engine::privacy`, which also tells the partners and writes the audit entry), said in a
//! sentence, and a lead's evidence as one document to download.

use crate::views::{ConsentView, Evidence, EvidenceDelivery, LeadEventView, Success};
use crate::views::{DeliveryView, LeadView};
use crate::{ApiError, AppState};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use leadrouter_core::erasure::read_erasure;
use leadrouter_core::localtime::rfc3339;
use leadrouter_engine::privacy::erase_person;
use serde_json::Value;

/// Erases every lead of the person with this e-mail and/or phone.
pub(crate) async fn erase_contact(
    state: &AppState,
    input: &serde_json::Map<String, Value>,
    actor: &leadrouter_store::audit::Actor,
) -> Result<leadrouter_engine::privacy::Erased, ApiError> {
    let catalog = state.catalog().await?;
    let who = read_erasure(input, &catalog).map_err(ApiError::Validation)?;
    let now = state.now_ms();
    Ok(erase_person(state.store(), state.signals(), &who, now, actor).await?)
}

/// What an erasure did, in a sentence for the operator.
pub(crate) fn erased_text(done: &leadrouter_engine::privacy::Erased) -> String {
    let mut text = format!(
        "Erased {} lead(s) of this person; {} partner(s) told.",
        done.erased_leads, done.notified_partners
    );
    if done.unnotified_partners > 0 {
        text.push_str(&format!(
            " {} partner(s) that received them have no e-mail address or erasure webhook: \
             tell them yourself.",
            done.unnotified_partners
        ));
    }
    text
}

/// The lead, its consent with the text agreed to, and where and when it was delivered
/// (each attempt), as one document to hand to an authority or a disputing partner.
async fn evidence_document(state: &AppState, id: i64) -> Result<Evidence, ApiError> {
    let store = state.store();
    let lead = store
        .lead(id)
        .await?
        .ok_or(ApiError::NotFound("no such lead"))?;
    let consent = store.lead_consent(&lead).await?;
    let ds = store.lead_deliveries(id).await?;
    let ids: Vec<i64> = ds.iter().map(|d| d.partner_id).collect();
    let partners = store.partners_by_ids(&ids).await?;
    let mut deliveries = Vec::new();
    for d in &ds {
        let attempts = store.delivery_attempts(d.id).await?;
        let partner = partners.get(&d.partner_id);
        deliveries.push(EvidenceDelivery {
            delivery: DeliveryView::new(d, &attempts),
            partner_name: partner.map(|p| p.spec.name.clone()),
            webhook_url: partner.map(|p| p.spec.webhook_url.clone()),
        });
    }
    let history = store.lead_events(id).await?;
    Ok(Evidence {
        exported_at: rfc3339(state.now_ms()),
        lead: LeadView::new(&lead).with_consent(consent.as_ref()),
        consent: consent.as_ref().map(ConsentView::whole),
        deliveries,
        history: history.iter().map(LeadEventView::new).collect(),
    })
}

/// The evidence document as a file to save (`lead-<id>-evidence.json`): the admin API's
/// answer and the console's "Export evidence".
pub(crate) async fn evidence_download(state: &AppState, id: i64) -> Result<Response, ApiError> {
    let doc = evidence_document(state, id).await?;
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"lead-{id}-evidence.json\""),
        )],
        Json(Success::of(doc)),
    )
        .into_response())
}
