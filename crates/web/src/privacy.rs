//! A person's data as the JSON API and the console both handle it: erased on request (by
//! `engine::privacy`, which also tells the partners and writes the audit entry), said in a
//! sentence, and a lead's evidence as one document to download.

use crate::views::{DeliveryView, LeadView};
use crate::{ApiError, AppState};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use leadrouter_core::erasure::read_erasure;
use leadrouter_core::localtime::rfc3339;
use leadrouter_engine::privacy::erase_person;
use serde_json::{json, Value};

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
async fn evidence_document(state: &AppState, id: i64) -> Result<Value, ApiError> {
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
        let mut v = serde_json::to_value(DeliveryView::new(d, &attempts))
            .map_err(|e| ApiError::internal("evidence", e))?;
        if let Some(p) = partners.get(&d.partner_id) {
            v["partner_name"] = json!(p.spec.name);
            v["webhook_url"] = json!(p.spec.webhook_url);
        }
        deliveries.push(v);
    }
    let history: Vec<Value> = store
        .lead_events(id)
        .await?
        .iter()
        .map(|e| json!({"status": e.status, "detail": e.detail, "at": rfc3339(e.at)}))
        .collect();
    Ok(json!({
        "success": true,
        "exported_at": rfc3339(state.now_ms()),
        "lead": LeadView::new(&lead).with_consent(consent.as_ref()),
        "consent": consent.as_ref().map(crate::views::ConsentView::whole),
        "deliveries": deliveries,
        "history": history,
    }))
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
        Json(doc),
    )
        .into_response())
}
