//! `/api/admin/partners/{id}/known-contacts`: the people a partner already has, uploaded as
//! CSV (a header row naming `email` and/or `phone`) or JSON lists, in clear or as SHA-256;
//! kept only as keyed hashes. Leads of those people are not offered to the partner.

use crate::auth::AdminAuth;
use crate::extract::PathId;
use crate::partners::find;
use crate::views::{KnownContactsAdded, KnownContactsTotal, Success};
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use leadrouter_core::known::Upload;
use serde_json::Value;

/// The largest upload: a broker's client list of some hundred thousand rows.
const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;
/// Problems listed in the answer (the rest counted).
const PROBLEMS_SHOWN: usize = 20;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/api/admin/partners/{id}/known-contacts",
        post(upload)
            .get(total)
            .delete(clear)
            .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    )
}

#[utoipa::path(post, path = "/api/admin/partners/{id}/known-contacts", tag = "partners", params(("id" = i64, Path, description = "the record's id")), request_body(content((Object = "application/json"), (String = "text/csv")), description = "JSON lists or a CSV with a header row"), responses((status = 200, description = "done", body = crate::views::KnownContactsAdded)), security(("admin" = [])))]
async fn upload(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Success<KnownContactsAdded>>, ApiError> {
    let partner = find(&state, id).await?;
    let region = state
        .catalog()
        .await?
        .market_by_slug(&partner.spec.country)
        .map(|m| m.phone_region.clone());
    let csv = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/csv"));
    let read = if csv {
        from_csv(&body, region.as_deref())?
    } else {
        from_json(&body, region.as_deref())?
    };
    if read.contacts.is_empty() {
        let why = read.skipped.first().cloned().unwrap_or_else(|| {
            "no e-mail address or phone number was given (emails, phones, email_sha256, \
             phone_sha256; or a CSV with an email or phone column)"
                .into()
        });
        return Err(ApiError::validation_one("contacts", why));
    }
    let done = state
        .store()
        .add_known_contacts(partner.id, &read.contacts, state.now_ms(), &auth.actor())
        .await?;
    tracing::info!(
        partner_id = partner.id,
        added = done.added,
        skipped = read.skipped.len(),
        "known contacts uploaded"
    );
    state.signals().routing_changed();
    Ok(Json(Success::of(KnownContactsAdded {
        added: done.added,
        total: done.total,
        skipped: read.skipped.len(),
        problems: read.skipped.into_iter().take(PROBLEMS_SHOWN).collect(),
    })))
}

#[utoipa::path(get, path = "/api/admin/partners/{id}/known-contacts", tag = "partners", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = crate::views::KnownContactsTotal)), security(("admin" = [])))]
async fn total(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Success<KnownContactsTotal>>, ApiError> {
    let partner = find(&state, id).await?;
    let total = state.store().known_contacts_total(partner.id).await?;
    Ok(Json(Success::of(KnownContactsTotal { total })))
}

#[utoipa::path(delete, path = "/api/admin/partners/{id}/known-contacts", tag = "partners", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = crate::views::KnownContactsTotal)), security(("admin" = [])))]
async fn clear(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Success<KnownContactsTotal>>, ApiError> {
    let partner = find(&state, id).await?;
    state
        .store()
        .clear_known_contacts(partner.id, state.now_ms(), &auth.actor())
        .await?;
    state.signals().routing_changed();
    Ok(Json(Success::of(KnownContactsTotal { total: 0 })))
}

/// `{"emails": [...], "phones": [...], "email_sha256": [...], "phone_sha256": [...]}`.
fn from_json(body: &[u8], region: Option<&str>) -> Result<Upload, ApiError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::validation_one("body", format!("is not JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::validation_one("body", "must be a JSON object of lists"))?;
    let mut upload = Upload::default();
    for (list, values) in obj {
        if !["emails", "phones", "email_sha256", "phone_sha256"].contains(&list.as_str()) {
            return Err(ApiError::validation_one(
                list,
                "is not a list of contacts (emails, phones, email_sha256, phone_sha256)",
            ));
        }
        let values = values
            .as_array()
            .ok_or_else(|| ApiError::validation_one(list, "must be a list of strings"))?;
        for (i, v) in values.iter().enumerate() {
            match v.as_str() {
                Some(s) => upload.add(list, i, s, region),
                None => upload.skipped.push(format!("{list}[{i}] is not a string")),
            }
        }
    }
    Ok(upload)
}

/// A CSV whose header row names an `email` and/or a `phone` column (any case; other
/// columns ignored).
fn from_csv(body: &[u8], region: Option<&str>) -> Result<Upload, ApiError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| ApiError::validation_one("body", format!("is not CSV: {e}")))?
        .clone();
    let column = |name: &str| {
        headers.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        })
    };
    let (email, phone) = (column("email"), column("phone"));
    if email.is_none() && phone.is_none() {
        return Err(ApiError::validation_one(
            "body",
            "the CSV's header row must name an email or a phone column",
        ));
    }
    let mut upload = Upload::default();
    for (i, row) in reader.records().enumerate() {
        let row =
            row.map_err(|e| ApiError::validation_one("body", format!("row {}: {e}", i + 2)))?;
        for (list, col) in [("email", email), ("phone", phone)] {
            if let Some(value) = col.and_then(|c| row.get(c)) {
                upload.add(list, i + 2, value, region);
            }
        }
    }
    Ok(upload)
}

/// Fuzz targets of the two upload formats (README "Fuzzing"): whatever a partner's list
/// holds, every contact read is a SHA-256 in hex, and every value left out says where it was.
#[cfg(test)]
mod fuzz {
    use super::{from_csv, from_json};

    fn check(upload: &leadrouter_core::known::Upload) {
        for (_, sha) in &upload.contacts {
            assert!(
                sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
                "{sha}"
            );
        }
        for why in &upload.skipped {
            assert!(why.contains('[') || why.contains("row"), "{why}");
        }
    }

    #[test]
    fn known_contact_uploads() {
        bolero::check!().for_each(|bytes: &[u8]| {
            for region in [None, Some("DE")] {
                if let Ok(upload) = from_json(bytes, region) {
                    check(&upload);
                }
                if let Ok(upload) = from_csv(bytes, region) {
                    check(&upload);
                }
                // As a CSV with the header a partner's export has.
                let mut csv = b"Email,Phone,Name\n".to_vec();
                csv.extend_from_slice(bytes);
                if let Ok(upload) = from_csv(&csv, region) {
                    check(&upload);
                }
            }
        });
    }
}
