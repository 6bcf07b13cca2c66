//! The figures the analytics answers carry: the grouped report (`rows`, `totals`) and the
//! cost-per-acquisition figures of a partner's conversions.

use leadrouter_core::money::Money;
use leadrouter_store::analytics::Figures;
use leadrouter_store::conversions::Cpa;
use leadrouter_store::partners::Partner;
use serde::Serialize;

/// Percent with two decimals, or none when nothing was counted.
fn percent(num: i64, den: i64) -> Option<f64> {
    (den != 0).then(|| ((num as f64 / den as f64) * 10_000.0).round() / 100.0)
}

/// A money amount as text with two decimals (for tables that keep `10.50`).
fn money_text(cents: i64) -> String {
    leadrouter_core::money::two_places(cents)
}

/// One group's figures (or the period's totals).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FiguresView {
    pub received: i64,
    pub delivered: i64,
    pub rejected: i64,
    /// Deliveries answered as a person the partner already had.
    pub duplicates: i64,
    pub failed: i64,
    pub returned: i64,
    pub conversions: i64,
    #[schema(value_type = f64)]
    pub revenue: Money,
    pub revenue_text: String,
    #[schema(value_type = f64)]
    pub lead_revenue: Money,
    pub lead_revenue_text: String,
    /// What the suppliers are paid for the leads delivered (returned ones cost nothing).
    #[schema(value_type = f64)]
    pub cost: Money,
    pub cost_text: String,
    /// `lead_revenue − cost`.
    #[schema(value_type = f64)]
    pub profit: Money,
    pub profit_text: String,
    pub conversion_rate: Option<f64>,
    pub success_rate: Option<f64>,
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
}

impl FiguresView {
    pub fn new(f: &Figures) -> Self {
        FiguresView {
            received: f.received,
            delivered: f.delivered,
            rejected: f.rejected,
            duplicates: f.duplicates,
            failed: f.failed,
            returned: f.returned,
            conversions: f.conversions,
            revenue: Money(f.revenue_cents),
            revenue_text: money_text(f.revenue_cents),
            lead_revenue: Money(f.lead_revenue_cents),
            lead_revenue_text: money_text(f.lead_revenue_cents),
            cost: Money(f.cost_cents),
            cost_text: money_text(f.cost_cents),
            profit: Money(f.lead_revenue_cents - f.cost_cents),
            profit_text: money_text(f.lead_revenue_cents - f.cost_cents),
            conversion_rate: percent(f.conversions, f.delivered),
            success_rate: percent(f.delivered, f.delivered + f.rejected),
            latency_p50_ms: f.latency_percentile(0.50),
            latency_p95_ms: f.latency_percentile(0.95),
        }
    }
}

/// A group's key (a day, a partner id, a country, a niche, a source) and its figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportRow {
    pub key: String,
    #[serde(flatten)]
    pub figures: FiguresView,
}

/// The grouped report of a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub rows: Vec<ReportRow>,
    pub totals: FiguresView,
    pub group_by: String,
    pub day: String,
    pub from: String,
    pub to: String,
}

/// Cost per acquisition: the leads delivered in a period and what their conversions made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CpaView {
    pub total_leads: i64,
    /// Leads converted.
    pub conversions: i64,
    pub conversion_events: i64,
    #[schema(value_type = f64)]
    pub revenue: Money,
    pub avg_quality_score: f64,
    pub conversion_rate: f64,
    #[schema(value_type = f64)]
    pub avg_conversion_value: Money,
}

impl CpaView {
    pub fn new(c: &Cpa) -> Self {
        let ratio = |num: i64, den: i64, scale: f64| {
            if den == 0 {
                0.0
            } else {
                ((num as f64 * scale / den as f64) * 100.0).round() / 100.0
            }
        };
        CpaView {
            total_leads: c.total_leads,
            conversions: c.converted_leads,
            conversion_events: c.conversion_events,
            revenue: Money(c.revenue_cents),
            avg_quality_score: ratio(c.quality_sum, c.converted_leads, 1.0),
            conversion_rate: ratio(c.converted_leads, c.total_leads, 100.0),
            avg_conversion_value: Money(if c.converted_leads == 0 {
                0
            } else {
                c.revenue_cents / c.converted_leads
            }),
        }
    }
}

/// One partner's figures, named.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartnerCpaView {
    pub partner_id: i64,
    pub partner_name: String,
    #[serde(flatten)]
    pub figures: CpaView,
}

impl PartnerCpaView {
    pub fn new(partner: &Partner, c: &Cpa) -> Self {
        PartnerCpaView {
            partner_id: partner.id,
            partner_name: partner.spec.name.clone(),
            figures: CpaView::new(c),
        }
    }
}

/// The period's figures and the dates they cover.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CpaSummary {
    #[serde(flatten)]
    pub figures: CpaView,
    pub date_from: String,
    pub date_to: String,
}

/// `GET /api/partner/analytics`: the partner's own row and the period's summary.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartnerAnalytics {
    pub analytics: Vec<PartnerCpaView>,
    pub summary: CpaSummary,
}

/// `GET /api/admin/analytics`: every partner's conversions, and the grouped report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminAnalytics {
    pub from: String,
    pub to: String,
    pub partners: Vec<PartnerCpaView>,
    pub partner_totals: CpaView,
    pub rows: Vec<ReportRow>,
    pub totals: FiguresView,
}
