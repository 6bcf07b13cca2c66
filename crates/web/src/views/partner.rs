use leadrouter_core::capacity::{quotas, Quotas};
use leadrouter_core::hours::BusinessHours;
use leadrouter_core::localtime::rfc3339;
use leadrouter_core::money::Money;
use leadrouter_core::partner::PartnerAuth;
use leadrouter_store::partners::{DayCount, Partner};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A partner as operators see it: every setting but secrets, its status, today's count in
/// its own day, and the premium/raw split of its limit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartnerView {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub country: String,
    pub niche: String,
    pub daily_limit: u32,
    pub premium_ratio: u8,
    pub timezone: String,
    #[schema(value_type = Option<Object>)]
    pub business_hours: Option<BusinessHours>,
    pub webhook_url: String,
    pub phone_format: &'static str,
    pub required_fields: Vec<String>,
    pub field_mapping: BTreeMap<String, String>,
    pub default_values: BTreeMap<String, Value>,
    pub content_type: &'static str,
    /// The kind and the names that are not secret (`{"type": "bearer"}`).
    pub auth: Value,
    pub valid_phone_only: bool,
    pub daily_summary: bool,
    /// What it pays per delivered lead (a decimal number), or null.
    #[schema(value_type = Option<f64>)]
    pub price_per_lead: Option<Money>,
    pub erasure_webhook_url: Option<String>,
    /// How its answers are read (API.md "Partner replies"), or null.
    #[schema(value_type = Option<Object>)]
    pub response: Option<leadrouter_core::reply::ResponseRules>,
    /// Conditions every lead offered to it must meet.
    #[schema(value_type = Vec<Object>)]
    pub filters: Vec<leadrouter_core::filters::Filter>,
    /// Its share against the others of its tier.
    pub weight: u32,
    /// Its tier (lower goes first).
    pub priority: i32,
    /// Deliveries sent to it at once (null: the default, 256).
    pub max_concurrency: Option<u32>,
    /// Caps beside the daily limit (`{"hourly": 20}`).
    pub caps: Value,
    /// Budgets (`{"daily": 500.0}`).
    pub budget: Value,
    /// Each cap's and budget's use now (empty without any).
    #[schema(value_type = Vec<Object>)]
    pub limits: Vec<leadrouter_core::windows::Line>,
    pub status: &'static str,
    pub paused_reason: Option<String>,
    pub api_key_prefix: String,
    /// Until when the API key before the last rotation still works, if it was kept.
    pub old_api_key_until: Option<String>,
    pub today: TodayView,
    #[schema(value_type = Object)]
    pub quotas: Quotas,
    pub created_at: String,
    pub updated_at: String,
}

/// Today's count in the partner's own day.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TodayView {
    pub total: i64,
    pub premium: i64,
    pub raw: i64,
    /// The partner-local date, `YYYY-MM-DD`.
    pub date: String,
}

impl PartnerView {
    pub fn new(
        p: &Partner,
        today: DayCount,
        date: &str,
        limits: Vec<leadrouter_core::windows::Line>,
    ) -> Self {
        let s = &p.spec;
        PartnerView {
            id: p.id,
            name: s.name.clone(),
            email: s.email.clone(),
            country: s.country.clone(),
            niche: s.niche.clone(),
            daily_limit: s.daily_limit,
            premium_ratio: s.premium_ratio,
            timezone: s.timezone.clone(),
            business_hours: s.business_hours.clone(),
            webhook_url: s.webhook_url.clone(),
            phone_format: s.phone_format.as_str(),
            required_fields: s.required_fields.clone(),
            field_mapping: s.field_mapping.clone(),
            default_values: s.default_values.clone(),
            content_type: s.content_type.as_str(),
            auth: s.auth.as_ref().map_or(Value::Null, PartnerAuth::redacted),
            valid_phone_only: s.valid_phone_only,
            daily_summary: s.daily_summary,
            price_per_lead: s.price_per_lead_cents.map(Money),
            erasure_webhook_url: s.erasure_webhook_url.clone(),
            response: s.response.clone(),
            filters: s.filters.clone(),
            weight: s.weight,
            priority: s.priority,
            max_concurrency: s.max_concurrency,
            caps: s.caps.to_json(),
            budget: s.budget.to_json(),
            limits,
            status: p.status.as_str(),
            paused_reason: p.paused_reason.clone(),
            api_key_prefix: p.api_key_prefix.clone(),
            old_api_key_until: p
                .previous_api_key_until
                .map(leadrouter_core::localtime::rfc3339),
            today: TodayView {
                total: today.total,
                premium: today.premium,
                raw: today.raw,
                date: date.to_string(),
            },
            quotas: quotas(s.daily_limit, s.premium_ratio),
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
        }
    }
}
