use leadrouter_core::localtime::rfc3339;
use leadrouter_store::sources::Source;
use serde::Serialize;

/// A source as operators see it; its token only as a prefix.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourceView {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub default_country: Option<String>,
    pub default_niche: Option<String>,
    pub default_lead_type: Option<&'static str>,
    pub source_label: Option<String>,
    pub redirect_url: Option<String>,
    /// Seconds an inbound request waits for its lead's first outcome (0: none).
    pub wait_for_delivery: u8,
    /// `{"configured": true}` when Facebook credentials are set; never the credentials.
    pub facebook: Option<FacebookConfigured>,
    /// What the operator pays per delivered lead of this supplier, or null.
    #[schema(value_type = Option<f64>)]
    pub cost_per_lead: Option<leadrouter_core::money::Money>,
    /// Leads accepted per operator day, or null (no cap).
    pub daily_cap: Option<u32>,
    /// The URL template its tracker receives, or null.
    pub postback_url: Option<String>,
    /// The events it hears of.
    pub postback_events: Vec<String>,
    /// `active` or `disabled`.
    pub status: &'static str,
    pub token_prefix: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct FacebookConfigured {
    pub configured: bool,
}

impl SourceView {
    pub fn new(s: &Source) -> Self {
        let spec = &s.spec;
        SourceView {
            id: s.id,
            name: spec.name.clone(),
            kind: spec.kind.as_str(),
            default_country: spec.default_country.clone(),
            default_niche: spec.default_niche.clone(),
            default_lead_type: spec.default_lead_type.map(|t| t.as_str()),
            source_label: spec.source_label.clone(),
            redirect_url: spec.redirect_url.clone(),
            wait_for_delivery: spec.wait_for_delivery,
            facebook: spec
                .facebook
                .as_ref()
                .map(|_| FacebookConfigured { configured: true }),
            cost_per_lead: spec.cost_per_lead_cents.map(leadrouter_core::money::Money),
            daily_cap: spec.daily_cap,
            postback_url: spec.postback_url.as_ref().map(|p| p.as_str().to_string()),
            postback_events: spec.postback_events.clone(),
            status: if spec.active { "active" } else { "disabled" },
            token_prefix: s.token_prefix.clone(),
            created_at: rfc3339(s.created_at),
            updated_at: rfc3339(s.updated_at),
        }
    }
}
