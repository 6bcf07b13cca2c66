//! What the partner API answers a partner about its own leads: a conversion recorded, and
//! a lead's status as the guide's "Lead Status" shows it (only what happened between this
//! partner and the lead).

use leadrouter_core::localtime::rfc3339;
use leadrouter_core::money::Money;
use leadrouter_store::conversions::ConversionRow;
use serde::Serialize;
use serde_json::Value;

/// `POST /api/conversion/{partner_id}` and `/api/postback/{partner_id}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversionRecordedView {
    pub message: &'static str,
    pub lead_id: i64,
    pub conversion_type: &'static str,
    /// The partner's conversions of the lead so far, in money.
    #[schema(value_type = f64)]
    pub total_value: Money,
}

/// One step of the lead's history with this partner.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerHistoryView {
    pub status: String,
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
}

/// One conversion the partner reported.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerConversionView {
    pub conversion_type: String,
    #[schema(value_type = f64)]
    pub conversion_value: Money,
    pub external_transaction_id: String,
    pub metadata: Option<Value>,
    pub created_at: String,
}

impl PartnerConversionView {
    pub fn new(c: &ConversionRow) -> PartnerConversionView {
        PartnerConversionView {
            conversion_type: c.conversion_type.clone(),
            conversion_value: Money(c.value_cents),
            external_transaction_id: c.external_transaction_id.clone(),
            metadata: c.metadata.clone(),
            created_at: rfc3339(c.created_at),
        }
    }
}

/// `GET /api/lead/{lead_id}/status`: the lead as its partner sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerLeadView {
    pub id: i64,
    pub email: Option<String>,
    /// The lead's state, or `converted` once the partner reported a conversion.
    pub status: String,
    pub quality_score: i64,
    #[schema(value_type = f64)]
    pub conversion_value: Money,
    pub converted_at: Option<String>,
    pub partner_name: String,
    pub status_history: Vec<PartnerHistoryView>,
    pub conversions: Vec<PartnerConversionView>,
    pub conversion_count: usize,
}

/// `{"lead": …}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerLeadAnswer {
    pub lead: PartnerLeadView,
}
