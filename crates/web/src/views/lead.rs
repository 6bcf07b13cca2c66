use leadrouter_core::lead::full_name;
use leadrouter_core::localtime::rfc3339;
use leadrouter_core::money::Money;
use leadrouter_core::status::{AttemptOutcome, LeadStatus};
use leadrouter_store::conversions::ConversionRow;
use leadrouter_store::deliveries::{Attempt, DeliveryRow};
use leadrouter_store::leads::LeadRecord;
use serde::Serialize;
use serde_json::{Map, Value};

/// A lead as operators see it (API.md "the lead object"), without its deliveries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeadView {
    pub id: i64,
    #[schema(value_type = String)]
    pub status: LeadStatus,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub phone_valid: bool,
    pub country: String,
    pub niche: String,
    #[schema(value_type = String)]
    pub lead_type: leadrouter_core::lead::LeadType,
    pub source: Option<String>,
    pub source_id: i64,
    pub external_id: Option<String>,
    pub custom_fields: Map<String, Value>,
    pub received_at: String,
    pub updated_at: String,
    pub partner_id: Option<i64>,
    pub duplicate_of: Option<i64>,
    /// The routing explanation: one entry per partner considered.
    pub routing: Value,
    /// Consent evidence (`{"text", "text_sha256", "version", "given_at", "ip",
    /// "user_agent", "page_url"}`) or null; lists leave out the text (by its hash only).
    pub consent: Option<super::ConsentView>,
    pub erased_at: Option<String>,
}

impl LeadView {
    pub fn new(l: &LeadRecord) -> Self {
        LeadView {
            id: l.id,
            status: l.status,
            first_name: l.first_name.clone(),
            last_name: l.last_name.clone(),
            name: full_name(l.first_name.as_deref(), l.last_name.as_deref()),
            email: l.email.clone(),
            phone: l.phone.clone(),
            phone_valid: l.phone.is_some() && l.phone_valid,
            country: l.country.clone(),
            niche: l.niche.clone(),
            lead_type: l.lead_type,
            source: l.source_label.clone(),
            source_id: l.source_id,
            external_id: l.external_id.clone(),
            custom_fields: l.custom_fields.clone(),
            received_at: rfc3339(l.received_at),
            updated_at: rfc3339(l.updated_at),
            partner_id: l.partner_id,
            duplicate_of: l.duplicate_of,
            routing: l.routing.clone().unwrap_or_else(|| Value::Array(vec![])),
            consent: l.consent.as_ref().map(|stored| {
                super::ConsentView::without_text(&leadrouter_core::consent::Consent::from_stored(
                    stored,
                    String::new(),
                ))
            }),
            erased_at: l.erased_at.map(rfc3339),
        }
    }

    /// With the consent's text (one lead's page and API answer).
    pub fn with_consent(mut self, consent: Option<&leadrouter_core::consent::Consent>) -> Self {
        self.consent = consent.map(super::ConsentView::whole);
        self
    }
}

/// One delivery of a lead, with every attempt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    pub partner_id: i64,
    #[schema(value_type = String)]
    pub status: leadrouter_core::status::DeliveryStatus,
    #[schema(value_type = String)]
    pub lead_type: leadrouter_core::lead::LeadType,
    pub counted_day: Option<String>,
    pub over_cap: bool,
    pub attempt_count: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub completed_at: Option<String>,
    /// The partner's own id for the lead, from its answer.
    pub partner_lead_id: Option<String>,
    /// The autologin URL its answer gave for the person's first visit.
    pub redirect_url: Option<String>,
    /// Its reason, when it refused the lead or already had the person.
    pub reason: Option<String>,
    pub attempts: Vec<AttemptView>,
}

impl DeliveryView {
    pub fn new(d: &DeliveryRow, attempts: &[Attempt]) -> Self {
        DeliveryView {
            id: d.id,
            partner_id: d.partner_id,
            status: d.status,
            lead_type: d.lead_type,
            counted_day: d.counted_day.clone(),
            over_cap: d.over_cap,
            attempt_count: d.attempt_count,
            last_error: d.last_error.clone(),
            created_at: rfc3339(d.created_at),
            completed_at: d.completed_at.map(rfc3339),
            partner_lead_id: d.said.partner_lead_id.clone(),
            redirect_url: d.said.redirect_url.clone(),
            reason: d.said.reason.clone(),
            attempts: attempts.iter().map(AttemptView::new).collect(),
        }
    }
}

/// One attempt: when, what came back, how long it took, what followed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub attempt: i64,
    pub at: String,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    #[schema(value_type = String)]
    pub outcome: AttemptOutcome,
    pub response_excerpt: Option<String>,
    /// The body exactly as sent (kept `LEADROUTER_ATTEMPT_BODY_RETENTION`).
    pub request_body: Option<String>,
}

impl AttemptView {
    pub fn new(a: &Attempt) -> Self {
        AttemptView {
            attempt: a.attempt_no,
            at: rfc3339(a.at),
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            error: a.error.clone(),
            outcome: a.outcome,
            response_excerpt: a.response_excerpt.clone(),
            request_body: a.request_body.clone(),
        }
    }
}

/// A conversion a partner reported for a lead; money as an exact decimal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConversionView {
    pub partner_id: i64,
    pub conversion_type: String,
    #[schema(value_type = f64)]
    pub conversion_value: Money,
    pub external_transaction_id: String,
    pub metadata: Option<Value>,
    pub created_at: String,
}

impl ConversionView {
    pub fn new(c: &ConversionRow) -> Self {
        ConversionView {
            partner_id: c.partner_id,
            conversion_type: c.conversion_type.clone(),
            conversion_value: Money(c.value_cents),
            external_transaction_id: c.external_transaction_id.clone(),
            metadata: c.metadata.clone(),
            created_at: rfc3339(c.created_at),
        }
    }
}
