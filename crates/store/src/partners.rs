//! Partners: their settings, status, secrets (hashed API key; signing secret) and daily
//! counters.

use crate::audit::{self, Actor, Change};
use crate::json::to_text;
use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::partner::PartnerSpec;
use leadrouter_core::secret::Secret;
use sqlx::Row;
use std::collections::HashMap;

mod status;

pub use leadrouter_core::status::PartnerStatus;

#[derive(Debug, Clone)]
pub struct Partner {
    pub id: i64,
    pub spec: PartnerSpec,
    pub status: PartnerStatus,
    pub paused_reason: Option<String>,
    pub api_key_prefix: String,
    /// Until when the API key before the last rotation still works (if it does).
    pub previous_api_key_until: Option<EpochMillis>,
    /// The Standard Webhooks `whsec_` secret; needed in clear to sign deliveries.
    pub signing_secret: Secret,
    /// The secret before the last rotation, signing beside the current one until
    /// `previous_secret_until`.
    pub previous_signing_secret: Option<Secret>,
    pub previous_secret_until: Option<EpochMillis>,
    pub consecutive_failures: i64,
    /// Whether it has told us of people it already has (or answered a duplicate).
    pub knows_contacts: bool,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
}

/// One partner's count for one partner-local day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCount {
    pub total: i64,
    pub premium: i64,
    pub raw: i64,
}

mod row;
pub(crate) use row::{partner_from_row, COLUMNS};

fn hours_text(spec: &PartnerSpec) -> Option<String> {
    spec.business_hours.as_ref().map(|h| h.to_string())
}

/// Secrets issued to a new partner, stored as given (the key already hashed).
pub struct NewPartnerSecrets<'a> {
    pub api_key_hash: &'a str,
    pub api_key_prefix: &'a str,
    pub signing_secret: &'a str,
}

/// Binds a partner's settings as `$1`..`$29`, the order in which both the INSERT and the
/// UPDATE list them.
fn bind_spec<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    spec: &'q PartnerSpec,
    sealer: Option<&leadrouter_core::sealed::Sealer>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&spec.name)
        .bind(&spec.email)
        .bind(&spec.country)
        .bind(&spec.niche)
        .bind(i64::from(spec.daily_limit))
        .bind(i64::from(spec.premium_ratio))
        .bind(&spec.timezone)
        .bind(hours_text(spec))
        .bind(&spec.webhook_url)
        .bind(spec.phone_format.as_str())
        .bind(to_text(&spec.required_fields))
        .bind(to_text(&spec.field_mapping))
        .bind(to_text(&spec.default_values))
        .bind(spec.content_type.as_str())
        .bind(
            spec.auth
                .as_ref()
                .map(|a| leadrouter_core::sealed::store(sealer, &to_text(a))),
        )
        .bind(i16::from(spec.valid_phone_only))
        .bind(i16::from(spec.daily_summary))
        .bind(spec.price_per_lead_cents)
        .bind(&spec.erasure_webhook_url)
        .bind(spec.response.as_ref().map(to_text))
        .bind(leadrouter_core::filters::filters_json(&spec.filters).to_string())
        .bind(i64::from(spec.weight))
        .bind(i64::from(spec.priority))
        .bind(spec.caps.hourly.map(i64::from))
        .bind(spec.caps.weekly.map(i64::from))
        .bind(spec.caps.monthly.map(i64::from))
        .bind(spec.caps.total.map(i64::from))
        .bind(spec.budget.daily)
        .bind(spec.budget.monthly)
        .bind(spec.max_concurrency.map(i64::from))
}

impl Partner {
    /// The secrets deliveries are signed with at `now`: the current one, and the previous
    /// one while its overlap lasts.
    pub fn signing_secrets(&self, now: EpochMillis) -> Vec<&Secret> {
        let mut out = vec![&self.signing_secret];
        if let (Some(previous), Some(until)) =
            (&self.previous_signing_secret, self.previous_secret_until)
        {
            if now < until {
                out.push(previous);
            }
        }
        out
    }
}

impl Store {
    /// Creates a partner; `welcome` gives the mails its creation queues (it is told the new
    /// id), written in the same transaction.
    pub async fn create_partner(
        &self,
        spec: &PartnerSpec,
        secrets: &NewPartnerSecrets<'_>,
        now: EpochMillis,
        welcome: &(dyn Fn(i64) -> Vec<crate::outbox::Mail> + Send + Sync),
        actor: &Actor,
    ) -> Result<Partner, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let sql = format!(
            "INSERT INTO partners (name, email, country, niche, daily_limit, premium_ratio, \
             timezone, business_hours, webhook_url, phone_format, required_fields, field_mapping, \
             default_values, content_type, auth, valid_phone_only, daily_summary, \
             price_per_lead_cents, erasure_webhook_url, response, filters, weight, priority, \
             cap_hourly, cap_weekly, cap_monthly, cap_total, budget_daily_cents, \
             budget_monthly_cents, max_concurrency, status, \
             api_key_hash, api_key_prefix, signing_secret, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, 'active', $31, $32, \
             $33, $34, $34) RETURNING {COLUMNS}"
        );
        let row = bind_spec(sqlx::query(&sql), spec, self.sealer())
            .bind(secrets.api_key_hash)
            .bind(secrets.api_key_prefix)
            .bind(leadrouter_core::sealed::store(
                self.sealer(),
                secrets.signing_secret,
            ))
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::on_unique("partner API key"))?;
        let partner = partner_from_row(&row, self.sealer())?;
        self.queue_mails(&mut tx, &welcome(partner.id), now).await?;
        let change = Change::new("create", "partner", Some(partner.id))
            .with(leadrouter_core::audit::partner_changes(None, Some(spec)))
            .secret("api_key")
            .secret("signing_secret");
        audit::record(&mut tx, actor, &change, now).await?;
        tx.commit().await?;
        Ok(partner)
    }

    /// The partner as it is inside a write transaction (the before of an audit entry).
    pub(crate) async fn partner_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        id: i64,
    ) -> Result<Partner, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM partners WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        crate::error::found(row, |r| partner_from_row(r, self.sealer()))
    }

    pub async fn partner(&self, id: i64) -> Result<Option<Partner>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM partners WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref()
            .map(|r| partner_from_row(r, self.sealer()))
            .transpose()
    }

    /// The partner rows of these ids that `filter` keeps, reading `columns`, in one query.
    async fn partner_rows(
        &self,
        columns: &str,
        filter: &str,
        ids: &[i64],
    ) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {columns} FROM partners WHERE {filter} id IN ({})",
            crate::many::Marks::new(self.backend()).list(ids.len())
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for id in ids {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(self.reader()).await?)
    }

    /// Live partners by id, in one query (absent ids are left out).
    pub async fn partners_by_ids(&self, ids: &[i64]) -> Result<HashMap<i64, Partner>, StoreError> {
        self.partner_rows(COLUMNS, "deleted_at IS NULL AND", ids)
            .await?
            .iter()
            .map(|r| partner_from_row(r, self.sealer()).map(|p| (p.id, p)))
            .collect()
    }

    /// The names of these partners, deleted ones too (marked so): for pages that name
    /// the partners of past deliveries, history and notices.
    pub async fn partner_names(&self, ids: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
        self.partner_rows("id, name, deleted_at", "", ids)
            .await?
            .iter()
            .map(|r| {
                let name: String = r.try_get("name")?;
                let deleted: Option<i64> = r.try_get("deleted_at")?;
                let name = match deleted {
                    Some(_) => format!("{name} (deleted)"),
                    None => name,
                };
                Ok((r.try_get("id")?, name))
            })
            .collect()
    }

    /// Newest first; `before` is the id to continue after (exclusive).
    pub async fn list_partners(
        &self,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<Partner>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM partners WHERE deleted_at IS NULL AND id < $1 \
             ORDER BY id DESC LIMIT $2"
        ))
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| partner_from_row(r, self.sealer()))
            .collect()
    }

    /// Changes a partner's settings; `action` is `update`, or `revert` when the settings
    /// are an earlier entry's.
    pub async fn update_partner(
        &self,
        id: i64,
        spec: &PartnerSpec,
        now: EpochMillis,
        actor: &Actor,
        action: &'static str,
    ) -> Result<Partner, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let before = self.partner_in(&mut tx, id).await?;
        let sql = format!(
            "UPDATE partners SET name = $1, email = $2, country = $3, niche = $4, \
             daily_limit = $5, premium_ratio = $6, timezone = $7, business_hours = $8, \
             webhook_url = $9, phone_format = $10, required_fields = $11, field_mapping = $12, \
             default_values = $13, content_type = $14, auth = $15, valid_phone_only = $16, \
             daily_summary = $17, price_per_lead_cents = $18, erasure_webhook_url = $19, \
             response = $20, filters = $21, weight = $22, priority = $23, cap_hourly = $24, \
             cap_weekly = $25, cap_monthly = $26, cap_total = $27, budget_daily_cents = $28, \
             budget_monthly_cents = $29, max_concurrency = $30, updated_at = $31 \
             WHERE id = $32 AND deleted_at IS NULL \
             RETURNING {COLUMNS}"
        );
        let row = bind_spec(sqlx::query(&sql), spec, self.sealer())
            .bind(now)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let after = crate::error::found(row, |r| partner_from_row(r, self.sealer()))?;
        let change = Change::new(action, "partner", Some(id)).with(
            leadrouter_core::audit::partner_changes(Some(&before.spec), Some(&after.spec)),
        );
        audit::record(&mut tx, actor, &change.before_partner(&before), now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A new API key; with `old_until`, the key it replaces keeps working until then
    /// (else it stops at once).
    pub async fn set_partner_api_key(
        &self,
        id: i64,
        api_key_hash: &str,
        api_key_prefix: &str,
        old_until: Option<EpochMillis>,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<Partner, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let row = sqlx::query(&format!(
            "UPDATE partners SET \
             previous_api_key_hash = CASE WHEN $5 IS NULL THEN NULL ELSE api_key_hash END, \
             previous_api_key_until = $5, \
             api_key_hash = $1, api_key_prefix = $2, updated_at = $3 \
             WHERE id = $4 AND deleted_at IS NULL RETURNING {COLUMNS}"
        ))
        .bind(api_key_hash)
        .bind(api_key_prefix)
        .bind(now)
        .bind(id)
        .bind(old_until)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::on_unique("partner API key"))?;
        let after = crate::error::found(row, |r| partner_from_row(r, self.sealer()))?;
        let mut change = Change::new("rotate_key", "partner", Some(id)).secret("api_key");
        if let Some(until) = old_until {
            change = change.field(
                "previous_api_key_until",
                serde_json::Value::Null,
                serde_json::json!(leadrouter_core::localtime::rfc3339(until)),
            );
        }
        audit::record(&mut tx, actor, &change, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A new signing secret; the one it replaces keeps signing beside it until
    /// `overlap_until`.
    pub async fn set_partner_signing_secret(
        &self,
        id: i64,
        signing_secret: &str,
        overlap_until: EpochMillis,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<Partner, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let row = sqlx::query(&format!(
            "UPDATE partners SET previous_signing_secret = signing_secret, \
             previous_secret_until = $4, signing_secret = $1, updated_at = $2 \
             WHERE id = $3 AND deleted_at IS NULL RETURNING {COLUMNS}"
        ))
        .bind(leadrouter_core::sealed::store(
            self.sealer(),
            signing_secret,
        ))
        .bind(now)
        .bind(id)
        .bind(overlap_until)
        .fetch_optional(&mut *tx)
        .await?;
        let after = crate::error::found(row, |r| partner_from_row(r, self.sealer()))?;
        let change = Change::new("rotate_secret", "partner", Some(id)).secret("signing_secret");
        audit::record(&mut tx, actor, &change, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Live partners of several markets, (country, niche) each, in one query (paused ones
    /// too: they are part of a routing explanation): every market asked for is in the
    /// answer (with no partner, an empty list).
    pub async fn partners_for_markets(
        &self,
        markets: &[(String, String)],
    ) -> Result<HashMap<(String, String), Vec<Partner>>, StoreError> {
        let mut out: HashMap<(String, String), Vec<Partner>> =
            markets.iter().map(|m| (m.clone(), Vec::new())).collect();
        if markets.is_empty() {
            return Ok(out);
        }
        let list = crate::many::Marks::new(self.backend()).tuples(markets.len(), 2);
        // `(country, niche) IN ((..), ..)`: a row value list both backends take.
        let sql = format!(
            "SELECT {COLUMNS} FROM partners WHERE deleted_at IS NULL \
             AND (country, niche) IN ({list}) ORDER BY id"
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for (country, niche) in markets {
            q = q.bind(country.as_str()).bind(niche.as_str());
        }
        for r in q.fetch_all(self.reader()).await? {
            let p = partner_from_row(&r, self.sealer())?;
            let key = (p.spec.country.clone(), p.spec.niche.clone());
            if let Some(list) = out.get_mut(&key) {
                list.push(p);
            }
        }
        Ok(out)
    }

    /// The live partner whose API key hashes to `api_key_hash`: its current key, or the
    /// one it replaced while that still overlaps (`now`).
    pub async fn partner_by_api_key(
        &self,
        api_key_hash: &str,
        now: EpochMillis,
    ) -> Result<Option<Partner>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM partners WHERE deleted_at IS NULL AND (api_key_hash = $1 \
             OR (previous_api_key_hash = $1 AND previous_api_key_until > $2))"
        ))
        .bind(api_key_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref()
            .map(|r| partner_from_row(r, self.sealer()))
            .transpose()
    }

    /// The stored hashes of a partner's API keys that work at `now`: the current one, and
    /// the one it replaced while that overlaps.
    pub async fn partner_key_hashes(
        &self,
        id: i64,
        now: EpochMillis,
    ) -> Result<Vec<String>, StoreError> {
        let row = sqlx::query(
            "SELECT api_key_hash, CASE WHEN previous_api_key_until > $2 \
             THEN previous_api_key_hash END AS previous \
             FROM partners WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        let Some(r) = row else { return Ok(Vec::new()) };
        let mut out = vec![r.try_get::<String, _>("api_key_hash")?];
        out.extend(r.try_get::<Option<String>, _>("previous")?);
        Ok(out)
    }

    /// Counts for the given (partner, partner-local day) pairs; absent pairs count zero.
    pub async fn day_counts(
        &self,
        keys: &[(i64, String)],
    ) -> Result<HashMap<i64, DayCount>, StoreError> {
        let mut out = HashMap::new();
        if keys.is_empty() {
            return Ok(out);
        }
        let conditions: Vec<String> = (0..keys.len())
            .map(|i| format!("(partner_id = ${} AND day = ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "SELECT partner_id, total, premium, raw FROM partner_daily_counts WHERE {}",
            conditions.join(" OR ")
        );
        let mut q = sqlx::query(&sql);
        for (id, day) in keys {
            q = q.bind(*id).bind(day.as_str());
        }
        for r in q.fetch_all(self.reader()).await? {
            out.insert(
                r.try_get::<i64, _>(0)?,
                DayCount {
                    total: r.try_get("total")?,
                    premium: r.try_get("premium")?,
                    raw: r.try_get("raw")?,
                },
            );
        }
        Ok(out)
    }
}

impl Change {
    /// Keeps the partner's settings and status as they were, for a revert.
    pub fn before_partner(mut self, p: &Partner) -> Change {
        let mut before = leadrouter_core::audit::partner_settings(&p.spec);
        before.insert(
            "status".into(),
            serde_json::Value::String(p.status.as_str().into()),
        );
        self.before = Some(before);
        self
    }
}
