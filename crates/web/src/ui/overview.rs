//! The overview: today's leads (the operator's day), what waits (and why held leads do),
//! partners at or near their cap, partners failing, each partner's accept rate and p95
//! of the last 24 hours against the 7 days before, and the latest leads.

use super::page::{render, Chrome};
use super::partners::PartnerRow;
use crate::operator::Operator;
use crate::partners::with_today;
use crate::time;
use crate::ui::PageError;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use leadrouter_store::analytics::{Figures, Grouping, BUCKET_MS};
use leadrouter_store::console::Overview;
use leadrouter_store::leads::LeadFilter;

/// A partner counts as near its cap from this share of its limit.
const NEAR_CAP_PERCENT: i64 = 80;

#[derive(askama::Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    o: Overview,
    /// How long ago the oldest waiting lead arrived ("4 min ago"), and when.
    oldest: String,
    oldest_at: String,
    near_cap: Vec<PartnerRow>,
    failing: Vec<PartnerRow>,
    recent: Vec<(i64, String, String, String, String)>,
    health: Vec<Health>,
}

/// A partner's recent delivery figures beside the 7 days' before.
struct Health {
    id: i64,
    name: String,
    /// Delivered attempts per attempt, in percent: recent, and over 7 days.
    rate: (Option<f64>, Option<f64>),
    p95: (Option<i64>, Option<i64>),
}

impl Health {
    /// The accept rate, recent (`week` false) or over 7 days.
    fn rate_text(&self, week: bool) -> String {
        let r = if week { self.rate.1 } else { self.rate.0 };
        r.map_or_else(|| "—".into(), |r| format!("{r:.1}%"))
    }

    fn p95_text(&self, week: bool) -> String {
        let ms = if week { self.p95.1 } else { self.p95.0 };
        ms.map_or_else(|| "—".into(), |ms| format!("{ms} ms"))
    }

    /// Worse now than usual: 10 points fewer accepted, or half as slow again.
    fn worse(&self) -> bool {
        let rate = matches!(self.rate, (Some(now), Some(week)) if now + 10.0 < week);
        let slow = matches!(self.p95, (Some(now), Some(week)) if now * 2 > week * 3);
        rate || slow
    }
}

/// The health rows of the active partners: recent figures from `rows`, the 7 days' before
/// from the analytics figures by partner.
fn health_rows(
    rows: &[PartnerRow],
    week: &std::collections::BTreeMap<String, Figures>,
) -> Vec<Health> {
    rows.iter()
        .filter(|r| r.p.status == "active")
        .map(|r| {
            let w = week.get(&r.p.id.to_string()).cloned().unwrap_or_default();
            let rate = |delivered: i64, attempts: i64| {
                (attempts > 0).then(|| delivered as f64 * 100.0 / attempts as f64)
            };
            Health {
                id: r.p.id,
                name: r.p.name.clone(),
                rate: (
                    rate(r.h.delivered, r.h.attempts),
                    rate(w.delivered, w.attempts()),
                ),
                p95: (r.h.p95_ms, w.latency_percentile(0.95)),
            }
        })
        .collect()
}

impl OverviewPage {
    /// The leads list's query for the held leads of one reason.
    fn held_query(&self, reason: &str) -> String {
        serde_urlencoded::to_string([("status", "held"), ("held_reason", reason)])
            .unwrap_or_default()
    }

    fn today(&self, status: &str) -> i64 {
        self.o.today_by_status.get(status).copied().unwrap_or(0)
    }

    fn received(&self) -> i64 {
        self.o.today_by_status.values().sum()
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    op: Operator,
) -> Result<Response, PageError> {
    let now = state.now_ms();
    let o = state
        .store()
        .overview(time::start_of_day(now, &op.timezone))
        .await?;
    let partners = state.store().list_partners(500, None).await?;
    let views = with_today(&state, &partners).await?;
    let health = state
        .store()
        .partner_health(
            &partners.iter().map(|p| p.id).collect::<Vec<_>>(),
            now - super::partners::HEALTH_WINDOW_MS,
        )
        .await?;
    let rows: Vec<PartnerRow> = views
        .into_iter()
        .map(|p| PartnerRow {
            h: health.get(&p.id).copied().unwrap_or_default(),
            p,
        })
        .collect();
    // The 7 days before the recent window, in whole half hours (the roll-up's unit).
    let week_to = now - super::partners::HEALTH_WINDOW_MS;
    let week_to = week_to - week_to.rem_euclid(BUCKET_MS);
    let week = state
        .store()
        .analytics(&Grouping::Partner, week_to - 7 * 86_400_000, week_to)
        .await?;
    let health = health_rows(&rows, &week);
    let (mut near_cap, mut failing) = (Vec::new(), Vec::new());
    for r in rows {
        if r.h.failing_streak > 0 || r.p.status == "paused" {
            failing.push(r);
        } else if r.near(NEAR_CAP_PERCENT) {
            near_cap.push(r);
        }
    }
    let recent = state
        .store()
        .list_leads(&LeadFilter {
            limit: 10,
            ..LeadFilter::default()
        })
        .await?
        .into_iter()
        .map(|l| {
            (
                l.id,
                time::local(l.received_at, &op.timezone),
                l.email.clone().unwrap_or_default(),
                format!("{} / {}", l.country, l.niche),
                l.status.as_str().to_string(),
            )
        })
        .collect();
    Ok(render(&OverviewPage {
        chrome: Chrome::new(&op, "overview", "Overview"),
        oldest: o
            .oldest_waiting
            .map(|at| time::ago(at, state.now_ms()))
            .unwrap_or_default(),
        oldest_at: time::local_opt(o.oldest_waiting, &op.timezone),
        o,
        near_cap,
        failing,
        recent,
        health,
    }))
}
