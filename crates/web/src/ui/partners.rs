//! Partners in the console: the list with today's counts and delivery health, Add Partner
//! (the guide's form), a partner's page, edit, pause / resume, test lead, rotations.

use super::form::Posted;
use super::page::{render, render_status, Chrome};
use super::partner_form::PartnerForm;
use super::partner_page as page;
use crate::extract::PathId;
use crate::operator::Operator;
use crate::partners as api;
use crate::ui::PageError;
use crate::views::PartnerView;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use leadrouter_core::reply::ResponseRules;
use leadrouter_store::console::PartnerHealth;
use std::collections::BTreeMap;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/partners", get(list).post(create))
        .route("/admin/partners/new", get(new))
        .route("/admin/partners/{id}", get(page::show).post(update))
        .route("/admin/partners/{id}/edit", get(edit))
        .route("/admin/partners/{id}/response/preview", post(check_replies))
        .route("/admin/partners/{id}/pause", post(page::pause))
        .route("/admin/partners/{id}/resume", post(page::resume))
        .route("/admin/partners/{id}/test", post(page::test))
        .route("/admin/partners/{id}/rotate-key", post(page::rotate_key))
        .route(
            "/admin/partners/{id}/rotate-secret",
            post(page::rotate_secret),
        )
}

/// One row of the partners list.
pub(crate) struct PartnerRow {
    pub p: PartnerView,
    pub h: PartnerHealth,
}

impl PartnerRow {
    pub fn count(&self) -> String {
        format!("{} / {}", self.p.today.total, self.p.daily_limit)
    }

    /// Today's premium share against the target, e.g. `64% (target 70%)`.
    pub fn mix(&self) -> String {
        let t = &self.p.today;
        if t.total == 0 {
            return format!("— (target {}%)", self.p.premium_ratio);
        }
        format!(
            "{}% (target {}%)",
            (t.premium * 100 + t.total / 2) / t.total,
            self.p.premium_ratio
        )
    }

    pub fn success(&self) -> String {
        if self.h.attempts == 0 {
            return "—".into();
        }
        format!(
            "{:.1}%",
            self.h.delivered as f64 * 100.0 / self.h.attempts as f64
        )
    }

    pub fn p95(&self) -> String {
        self.h
            .p95_ms
            .map_or_else(|| "—".into(), |ms| format!("{ms} ms"))
    }

    /// Share of the limit used today in tens of percent (0..=100), for the bar's class.
    pub fn used(&self) -> u32 {
        let limit = u64::from(self.p.daily_limit.max(1));
        let pct = (self.p.today.total.max(0) as u64 * 100 / limit).min(100) as u32;
        (pct + 5) / 10 * 10
    }

    pub fn full(&self) -> bool {
        self.p.today.total >= i64::from(self.p.daily_limit)
            || self.p.limits.iter().any(|l| l.reached)
    }

    /// Today's use of each type's quota, e.g. `premium 3/35 · raw 15/15 (full)`: a partner
    /// can be far from its limit and still take no lead of one type.
    pub fn quota(&self) -> String {
        let (t, q) = (&self.p.today, &self.p.quotas);
        let one = |name: &str, n: i64, of: u32| {
            let full = if n >= i64::from(of) { " (full)" } else { "" };
            format!("{name} {n}/{of}{full}")
        };
        let mut out = format!(
            "{} · {}",
            one("premium", t.premium, q.premium),
            one("raw", t.raw, q.raw)
        );
        // Caps and budgets near or at their end, e.g. `hourly cap 10/10 (full)`.
        for l in self.p.limits.iter().filter(|l| l.reached || l.near()) {
            let full = if l.reached { " (full)" } else { "" };
            out.push_str(&format!(" · {} {} {}{full}", l.window, l.kind, l.text));
        }
        out
    }

    /// Whether today's use of the limit or of either type's quota is at `percent` or more.
    pub fn near(&self, percent: i64) -> bool {
        let (t, q) = (&self.p.today, &self.p.quotas);
        let at = |n: i64, of: i64| of > 0 && n * 100 >= of * percent;
        at(t.total, i64::from(self.p.daily_limit))
            || at(t.premium, i64::from(q.premium))
            || at(t.raw, i64::from(q.raw))
            || self.p.limits.iter().any(|l| l.reached || l.near())
    }
}

/// Health figures come from each partner's latest 200 attempts of the last 24 hours.
pub(crate) const HEALTH_WINDOW_MS: i64 = 24 * 3_600_000;

#[derive(askama::Template)]
#[template(path = "partners.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<PartnerRow>,
}

async fn list(State(state): State<AppState>, op: Operator) -> Result<Response, PageError> {
    let partners = state.store().list_partners(500, None).await?;
    let views = api::with_today(&state, &partners).await?;
    let health = state
        .store()
        .partner_health(
            &partners.iter().map(|p| p.id).collect::<Vec<_>>(),
            state.now_ms() - HEALTH_WINDOW_MS,
        )
        .await?;
    let rows = views
        .into_iter()
        .map(|p| PartnerRow {
            h: health.get(&p.id).copied().unwrap_or_default(),
            p,
        })
        .collect();
    Ok(render(&ListPage {
        chrome: Chrome::new(&op, "partners", "Partners"),
        rows,
    }))
}

#[derive(askama::Template)]
#[template(path = "partner_form.html")]
pub(crate) struct FormPage {
    chrome: Chrome,
    form: PartnerForm,
    errors: BTreeMap<String, String>,
    /// `None` for Add Partner.
    id: Option<i64>,
    markets: Vec<(String, String)>,
    niches: Vec<(String, String)>,
    currency: String,
    /// "Check against past answers": how the rules as typed read the latest answers.
    preview: Option<crate::views::ResponsePreview>,
}

impl FormPage {
    pub fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    /// Whether the whole week is outlined: an error of the hours as a whole, not of the
    /// days marked one by one.
    pub fn hours_outlined(&self) -> bool {
        self.errors.contains_key("business_hours")
            && !self.errors.keys().any(|k| k.starts_with("hours_"))
    }

    /// The error of the `i`th reply rule (any part of it).
    pub fn rule_error(&self, i: &usize) -> String {
        self.row_error(&format!("response.rules[{i}]"))
    }

    /// The error of the `i`th filter (any part of it).
    pub fn filter_error(&self, i: &usize) -> String {
        self.row_error(&format!("filters[{i}]"))
    }

    /// Every error of one row of a list setting (`filters[2]`: its field, op and value).
    fn row_error(&self, prefix: &str) -> String {
        self.errors
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The operators a filter may have.
    pub fn operators(&self) -> &'static [(&'static str, &'static str)] {
        &super::filter_rows::OPERATORS
    }

    /// The conditions and outcomes a reply rule may have.
    pub fn conditions(&self) -> &'static [(&'static str, &'static str)] {
        &super::reply_rules::CONDITIONS
    }

    pub fn outcomes(&self) -> &'static [&'static str] {
        &super::reply_rules::OUTCOMES
    }

    /// The error of one day's business hours (the `i`th of the week).
    pub fn day_error(&self, i: &usize) -> String {
        self.error(&format!("hours_{i}"))
    }

    /// The caps beside the daily limit and the budgets, as the API names them.
    pub fn caps_names(&self) -> &'static [&'static str] {
        &super::partner_form::CAPS
    }

    pub fn budget_names(&self) -> &'static [&'static str] {
        &super::partner_form::BUDGETS
    }

    /// `hourly` → `Hourly`.
    pub fn cap_label(&self, k: &str) -> String {
        let mut c = k.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    }

    /// The defaults a blank Daily Limit and Premium Ratio take (said as placeholders).
    pub fn default_limit(&self) -> u32 {
        leadrouter_core::partner::DEFAULT_DAILY_LIMIT
    }

    pub fn default_ratio(&self) -> u8 {
        leadrouter_core::partner::DEFAULT_PREMIUM_RATIO
    }

    pub fn action(&self) -> String {
        self.id.map_or_else(
            || "/admin/partners".into(),
            |id| format!("/admin/partners/{id}"),
        )
    }

    /// The guide's phone formats as (value, label).
    pub fn phone_formats(&self) -> [(&'static str, &'static str); 3] {
        [
            ("international", "International (+1234567890)"),
            ("national", "National (491234567890)"),
            ("local", "Local (49-123-456-7890)"),
        ]
    }

    /// Field errors the form has no place for, so that none goes unseen.
    pub fn other_errors(&self) -> Vec<(String, String)> {
        const SHOWN: &[&str] = &[
            "name",
            "email",
            "country",
            "niche",
            "daily_limit",
            "premium_ratio",
            "timezone",
            "webhook_url",
            "phone_format",
            "required_fields",
            "business_hours",
            "field_mapping",
            "default_values",
            "content_type",
            "auth",
            "valid_phone_only",
            "daily_summary",
            "price_per_lead",
            "erasure_webhook_url",
        ];
        self.errors
            .iter()
            .filter(|(k, _)| {
                !SHOWN.contains(&k.as_str())
                    && !k.starts_with("hours_")
                    && !k.starts_with("response")
                    && !k.starts_with("filters")
                    && !k.starts_with("caps.")
                    && !k.starts_with("budget.")
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Every error of the submission for the summary on top: (the field's anchor, what
    /// to read), each a link to its field.
    pub fn summary(&self) -> Vec<(String, String)> {
        self.errors
            .iter()
            .filter(|(k, _)| !k.starts_with("hours_"))
            .map(|(k, v)| {
                // `filters[2].op` → "Filters, filter 3", at the filters; rules alike.
                for (prefix, anchor, what) in [
                    ("filters[", "filters", "Filters, filter"),
                    ("response.rules[", "replies", "Partner replies, rule"),
                ] {
                    if let Some(rest) = k.strip_prefix(prefix) {
                        let n: usize = rest
                            .split(']')
                            .next()
                            .and_then(|n| n.parse().ok())
                            .unwrap_or_default();
                        return (anchor.to_string(), format!("{what} {}: {v}", n + 1));
                    }
                }
                // `caps.hourly` → "Hourly cap", at its input; budgets alike.
                for (prefix, input, what) in
                    [("caps.", "cap_", "cap"), ("budget.", "budget_", "budget")]
                {
                    if let Some(window) = k.strip_prefix(prefix) {
                        return (
                            format!("{input}{window}"),
                            format!("{} {what}: {v}", self.cap_label(window)),
                        );
                    }
                }
                let anchor = match k.as_str() {
                    "auth" => "auth_type",
                    "response" => "replies",
                    "response.partner_lead_id" => "response_partner_lead_id",
                    "response.redirect_url" => "response_redirect_url",
                    "response.reason" => "response_reason",
                    "business_hours" => "hours_0",
                    "field_mapping" => "mapping-rows",
                    "default_values" => "default-rows",
                    other => other,
                };
                let label = match k.as_str() {
                    "name" => "Partner Name".to_string(),
                    "webhook_url" => "Webhook URL".to_string(),
                    "erasure_webhook_url" => "Erasure Webhook URL".to_string(),
                    "auth" => "Authentication".to_string(),
                    "response" => "Partner replies".to_string(),
                    "response.partner_lead_id" => "Partner lead id at".to_string(),
                    "response.redirect_url" => "Autologin URL at".to_string(),
                    "response.reason" => "Reason at".to_string(),
                    other => {
                        let words = other.replace('_', " ");
                        let mut c = words.chars();
                        c.next()
                            .map(|f| f.to_uppercase().chain(c).collect())
                            .unwrap_or_default()
                    }
                };
                (anchor.to_string(), format!("{label}: {v}"))
            })
            .collect()
    }
}

async fn form_page(
    state: &AppState,
    op: &Operator,
    form: PartnerForm,
    errors: BTreeMap<String, String>,
    id: Option<i64>,
) -> Result<FormPage, PageError> {
    let (markets, niches) = super::catalog::options(&*state.catalog().await?);
    let title = if id.is_some() {
        format!("Edit {}", form.name)
    } else {
        "Add Partner".to_string()
    };
    Ok(FormPage {
        chrome: Chrome::new(op, "partners", title),
        form,
        errors,
        id,
        markets,
        niches,
        currency: state.settings().currency.clone(),
        preview: None,
    })
}

async fn new(State(state): State<AppState>, op: Operator) -> Result<Response, PageError> {
    let mut form = PartnerForm::blank();
    let (_, niches) = super::catalog::options(&*state.catalog().await?);
    // No market is chosen for the operator (a partner saved in the wrong country would
    // receive another country's leads); a lone niche is.
    if let [only] = niches.as_slice() {
        form.niche = only.0.clone();
    }
    Ok(render(
        &form_page(&state, &op, form, BTreeMap::new(), None).await?,
    ))
}

/// The form again, with what was typed and the messages beside their fields.
async fn refused(
    state: &AppState,
    op: &Operator,
    form: PartnerForm,
    errors: BTreeMap<String, String>,
    id: Option<i64>,
) -> Result<Response, PageError> {
    let page = form_page(state, op, form, errors, id).await?;
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

async fn create(State(state): State<AppState>, posted: Posted) -> Result<Response, PageError> {
    let Posted { op, fields } = posted;
    let form = PartnerForm::read(&fields);
    let (input, mut errors) = form.to_input(&fields, None);
    if !errors.is_empty() {
        // Every error at once: the form's own and the settings' (never in two rounds).
        for (k, v) in api::problems(&state, &input, None).await? {
            errors.entry(k).or_insert(v);
        }
        return refused(&state, &op, form, errors, None).await;
    }
    match api::create_partner(&state, &input, &op.actor()).await {
        Ok(answer) => Ok(page::to_partner(&state, &op, &answer, "Partner saved.")),
        Err(ApiError::Validation(e)) => {
            errors.extend(e);
            refused(&state, &op, form, errors, None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit(
    State(state): State<AppState>,
    op: Operator,
    PathId(id): PathId,
) -> Result<Response, PageError> {
    let partner = api::find(&state, id).await?;
    let view = api::one(&state, &partner).await?;
    let page = form_page(
        &state,
        &op,
        PartnerForm::of(&view),
        BTreeMap::new(),
        Some(id),
    )
    .await?;
    Ok(render(&page))
}

/// "Check against past answers": the Edit form as typed, with how its reply rules would
/// read the partner's latest answers. Nothing is saved.
async fn check_replies(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { op, fields } = posted;
    let partner = api::find(&state, id).await?;
    let form = PartnerForm::read(&fields);
    let candidate = form.replies.to_input(true).unwrap_or_default();
    let (preview, errors) = match ResponseRules::parse(&candidate) {
        Ok(rules) => (
            Some(
                crate::replies::preview(
                    &state,
                    partner.id,
                    rules.as_ref(),
                    crate::replies::DEFAULT_CHECKED,
                )
                .await?,
            ),
            BTreeMap::new(),
        ),
        Err(errors) => (None, errors),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut page = form_page(&state, &op, form, errors, Some(id)).await?;
    page.preview = preview;
    Ok(render_status(status, &page))
}

async fn update(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { op, fields } = posted;
    let partner = api::find(&state, id).await?;
    let current = api::one(&state, &partner).await?;
    let form = PartnerForm::read(&fields);
    let (input, mut errors) = form.to_input(&fields, Some(&current));
    if !errors.is_empty() {
        for (k, v) in api::problems(&state, &input, Some(&partner.spec)).await? {
            errors.entry(k).or_insert(v);
        }
        return refused(&state, &op, form, errors, Some(id)).await;
    }
    match api::update_partner(&state, id, &input, &op.actor(), "update").await {
        Ok(answer) => Ok(page::to_partner(&state, &op, &answer, "Changes saved.")),
        Err(ApiError::Validation(e)) => {
            errors.extend(e);
            refused(&state, &op, form, errors, Some(id)).await
        }
        Err(e) => Err(e.into()),
    }
}
