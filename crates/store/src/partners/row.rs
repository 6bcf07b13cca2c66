//! A partner as read from its row (its credentials opened when sealed).

use super::*;
use crate::json::from_text;
use crate::StoreError;
use leadrouter_core::hours::BusinessHours;
use leadrouter_core::partner::{ContentType, PartnerSpec, PhoneFormat};
use leadrouter_core::reply::ResponseRules;
use leadrouter_core::secret::Secret;
use sqlx::any::AnyRow;
use sqlx::Row;

pub(crate) const COLUMNS: &str = "id, name, email, country, niche, daily_limit, premium_ratio, timezone, \
    business_hours, webhook_url, phone_format, required_fields, field_mapping, default_values, \
    content_type, auth, valid_phone_only, daily_summary, price_per_lead_cents, erasure_webhook_url, response, filters, weight, priority, \
    cap_hourly, cap_weekly, cap_monthly, cap_total, budget_daily_cents, budget_monthly_cents, max_concurrency, status, paused_reason, \
    api_key_prefix, previous_api_key_until, signing_secret, previous_signing_secret, previous_secret_until, \
    consecutive_failures, knows_contacts, created_at, updated_at";

pub(crate) fn partner_from_row(
    r: &AnyRow,
    sealer: Option<&leadrouter_core::sealed::Sealer>,
) -> Result<Partner, StoreError> {
    let hours: Option<String> = r.try_get("business_hours")?;
    let business_hours = match hours {
        Some(text) => {
            let v: serde_json::Value = from_text("business_hours", &text)?;
            Some(BusinessHours::from_json(&v).map_err(StoreError::Corrupt)?)
        }
        None => None,
    };
    let auth: Option<String> = r.try_get("auth")?;
    let phone_format: String = r.try_get("phone_format")?;
    let content_type: String = r.try_get("content_type")?;
    let status: String = r.try_get("status")?;
    let daily_limit: i64 = r.try_get("daily_limit")?;
    let premium_ratio: i64 = r.try_get("premium_ratio")?;
    Ok(Partner {
        id: r.try_get("id")?,
        spec: PartnerSpec {
            name: r.try_get("name")?,
            email: r.try_get("email")?,
            country: r.try_get("country")?,
            niche: r.try_get("niche")?,
            daily_limit: u32::try_from(daily_limit)
                .map_err(|_| StoreError::Corrupt("daily_limit".into()))?,
            premium_ratio: u8::try_from(premium_ratio)
                .map_err(|_| StoreError::Corrupt("premium_ratio".into()))?,
            timezone: r.try_get("timezone")?,
            business_hours,
            webhook_url: r.try_get("webhook_url")?,
            phone_format: PhoneFormat::parse(&phone_format)
                .ok_or_else(|| StoreError::Corrupt(format!("phone_format {phone_format}")))?,
            required_fields: from_text(
                "required_fields",
                &r.try_get::<String, _>("required_fields")?,
            )?,
            field_mapping: from_text("field_mapping", &r.try_get::<String, _>("field_mapping")?)?,
            default_values: from_text(
                "default_values",
                &r.try_get::<String, _>("default_values")?,
            )?,
            content_type: if content_type == "form" {
                ContentType::Form
            } else {
                ContentType::Json
            },
            auth: auth
                .map(|a| from_text("auth", &crate::secrets::open(sealer, &a)?))
                .transpose()?,
            valid_phone_only: r.try_get::<i64, _>("valid_phone_only")? != 0,
            daily_summary: r.try_get::<i64, _>("daily_summary")? != 0,
            price_per_lead_cents: r.try_get("price_per_lead_cents")?,
            erasure_webhook_url: r.try_get("erasure_webhook_url")?,
            response: match r.try_get::<Option<String>, _>("response")? {
                None => None,
                Some(text) => {
                    let v: serde_json::Value = from_text("response", &text)?;
                    ResponseRules::parse(&v)
                        .map_err(|e| StoreError::Corrupt(format!("response: {e:?}")))?
                }
            },
            filters: {
                let v: serde_json::Value =
                    from_text("filters", &r.try_get::<String, _>("filters")?)?;
                leadrouter_core::filters::parse_filters(&v)
                    .map_err(|e| StoreError::Corrupt(format!("filters: {e:?}")))?
            },
            weight: u32::try_from(r.try_get::<i64, _>("weight")?)
                .map_err(|_| StoreError::Corrupt("weight".into()))?,
            priority: i32::try_from(r.try_get::<i64, _>("priority")?)
                .map_err(|_| StoreError::Corrupt("priority".into()))?,
            max_concurrency: r
                .try_get::<Option<i64>, _>("max_concurrency")?
                .map(|n| {
                    u32::try_from(n).map_err(|_| StoreError::Corrupt("max_concurrency".into()))
                })
                .transpose()?,
            caps: leadrouter_core::windows::Caps {
                hourly: cap(r, "cap_hourly")?,
                weekly: cap(r, "cap_weekly")?,
                monthly: cap(r, "cap_monthly")?,
                total: cap(r, "cap_total")?,
            },
            budget: leadrouter_core::windows::Budget {
                daily: r.try_get("budget_daily_cents")?,
                monthly: r.try_get("budget_monthly_cents")?,
            },
        },
        status: if status == "paused" {
            PartnerStatus::Paused
        } else {
            PartnerStatus::Active
        },
        paused_reason: r.try_get("paused_reason")?,
        api_key_prefix: r.try_get("api_key_prefix")?,
        previous_api_key_until: r.try_get("previous_api_key_until")?,
        signing_secret: Secret::new(crate::secrets::open(
            sealer,
            &r.try_get::<String, _>("signing_secret")?,
        )?),
        previous_signing_secret: r
            .try_get::<Option<String>, _>("previous_signing_secret")?
            .map(|v| crate::secrets::open(sealer, &v).map(Secret::new))
            .transpose()?,
        previous_secret_until: r.try_get("previous_secret_until")?,
        consecutive_failures: r.try_get("consecutive_failures")?,
        knows_contacts: r.try_get::<i64, _>("knows_contacts")? != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn cap(r: &AnyRow, column: &str) -> Result<Option<u32>, StoreError> {
    r.try_get::<Option<i64>, _>(column)?
        .map(|n| u32::try_from(n).map_err(|_| StoreError::Corrupt(column.into())))
        .transpose()
}
