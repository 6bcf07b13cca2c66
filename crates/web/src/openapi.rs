//! The API as a machine-readable contract: an OpenAPI 3.1 document generated from the
//! handlers' `#[utoipa::path]` annotations and the types they answer with (the views),
//! served at `/api/openapi.json`. Every operation also lists the error answers every route
//! may give, in the one error shape (`{"success": false, "error": {...}}`).

use crate::error::Failure;
use std::sync::OnceLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref};
use utoipa::{OpenApi, PartialSchema, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "leadrouter",
        description = "Lead distribution: sources send leads, leadrouter routes each to one partner and delivers it. Admin routes take an admin token (`Authorization: Bearer`) or a console session; the partner API takes the partner's key (`Authorization: Bearer pk_...` or `x-api-key`). Every answer is `{\"success\": true, ...}` or `{\"success\": false, \"error\": {\"code\", \"message\", \"fields\"?}}`."
    ),
    paths(
        crate::ops::healthz,
        crate::ops::readyz,
        crate::ops::metrics,
        contract,
        crate::inbound::receive,
        crate::facebook::verify,
        crate::facebook::notify,
        crate::partner_api::conversion,
        crate::partner_api::postback,
        crate::partner_api::lead_status,
        crate::partner_api::cpa,
        crate::returns::request,
        crate::returns::partner_returns,
        crate::returns::list,
        crate::returns::decide_one,
    ),
    components(schemas(Failure))
)]
struct Root;

pub(crate) fn router() -> axum::Router<crate::AppState> {
    axum::Router::new().route("/api/openapi.json", axum::routing::get(contract))
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "the OpenAPI 3.1 document of every JSON route", body = Object)))]
async fn contract() -> axum::Json<&'static Document> {
    axum::Json(document())
}

/// The error answers any operation may give besides its own.
const ERRORS: &[(&str, &str)] = &[
    ("400", "the request could not be read"),
    ("401", "no valid credentials"),
    ("403", "not allowed for these credentials"),
    ("404", "no such record (or not this caller's)"),
    ("405", "not a method of this path"),
    ("409", "conflicts with what is stored"),
    ("413", "the body is too large"),
    ("415", "the body's content type is not taken here"),
    ("422", "invalid fields, each named in `error.fields`"),
    (
        "429",
        "too many requests; `Retry-After` says when to try again",
    ),
    ("500", "an internal error (no details)"),
    (
        "503",
        "the database cannot be reached now; `Retry-After` says when to try again",
    ),
];

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(Failure::name())))
                .build(),
        )
        .build()
}

fn with_errors(op: &mut Operation) {
    for (status, description) in ERRORS {
        op.responses
            .responses
            .entry((*status).to_string())
            .or_insert_with(|| error_response(description).into());
    }
}

/// The whole document (built once).
pub fn document() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = Root::openapi();
        doc.merge(crate::admin::AdminApi::openapi());
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                with_errors(op);
            }
        }
        let components = doc.components.get_or_insert_with(Default::default);
        components
            .schemas
            .entry(Failure::name().to_string())
            .or_insert_with(Failure::schema);
        let bearer = |what: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(what))
                    .build(),
            )
        };
        components.add_security_scheme(
            "admin",
            bearer("an admin token (`leadrouter admin create-token`)"),
        );
        components.add_security_scheme("partner_key", bearer("the partner's API key, `pk_...`"));
        components.add_security_scheme(
            "partner_key_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
        );
        components.add_security_scheme("metrics", bearer("LEADROUTER_METRICS_TOKEN"));
        doc
    })
}
