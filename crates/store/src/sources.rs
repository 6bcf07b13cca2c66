//! Lead sources and their inbound tokens (stored hashed).

use crate::audit::{self, Actor, Change};
use crate::json::{from_text, to_text};
use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::source::{LeadType, SourceKind, SourceSpec};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct Source {
    pub id: i64,
    pub spec: SourceSpec,
    pub token_prefix: String,
    /// What its postbacks are signed with (made at creation, or when a postback URL is
    /// first set on an older source); shown only when made.
    pub signing_secret: Option<leadrouter_core::secret::Secret>,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
}

const COLUMNS: &str = "id, name, kind, token_prefix, default_country, default_niche, \
    default_lead_type, source_label, redirect_url, facebook, status, wait_for_delivery, \
    cost_per_lead_cents, daily_cap, postback_url, postback_events, signing_secret, created_at, \
    updated_at";

fn source_from_row(
    r: &AnyRow,
    sealer: Option<&leadrouter_core::sealed::Sealer>,
) -> Result<Source, StoreError> {
    let kind: String = r.try_get("kind")?;
    let lead_type: Option<String> = r.try_get("default_lead_type")?;
    let facebook: Option<String> = r.try_get("facebook")?;
    let status: String = r.try_get("status")?;
    Ok(Source {
        id: r.try_get("id")?,
        spec: SourceSpec {
            name: r.try_get("name")?,
            kind: SourceKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("source kind {kind}")))?,
            default_country: r.try_get("default_country")?,
            default_niche: r.try_get("default_niche")?,
            default_lead_type: lead_type.as_deref().and_then(LeadType::parse),
            source_label: r.try_get("source_label")?,
            redirect_url: r.try_get("redirect_url")?,
            facebook: facebook
                .map(|f| from_text("facebook", &crate::secrets::open(sealer, &f)?))
                .transpose()?,
            active: status == "active",
            wait_for_delivery: u8::try_from(r.try_get::<i64, _>("wait_for_delivery")?)
                .map_err(|_| StoreError::Corrupt("wait_for_delivery".into()))?,
            cost_per_lead_cents: r.try_get("cost_per_lead_cents")?,
            daily_cap: r
                .try_get::<Option<i64>, _>("daily_cap")?
                .map(|n| u32::try_from(n).map_err(|_| StoreError::Corrupt("daily_cap".into())))
                .transpose()?,
            postback_url: r
                .try_get::<Option<String>, _>("postback_url")?
                .map(leadrouter_core::postback::PostbackTemplate::stored),
            postback_events: from_text(
                "postback_events",
                &r.try_get::<String, _>("postback_events")?,
            )?,
        },
        token_prefix: r.try_get("token_prefix")?,
        signing_secret: r
            .try_get::<Option<String>, _>("signing_secret")?
            .map(|v| crate::secrets::open(sealer, &v).map(leadrouter_core::secret::Secret::new))
            .transpose()?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn status_text(spec: &SourceSpec) -> &'static str {
    if spec.active {
        "active"
    } else {
        "disabled"
    }
}

/// A source's settings for the audit trail (its Facebook credentials apart).
fn settings(spec: Option<&SourceSpec>) -> serde_json::Map<String, serde_json::Value> {
    let Some(s) = spec else {
        return serde_json::Map::new();
    };
    let v = serde_json::json!({
        "name": s.name,
        "kind": s.kind.as_str(),
        "default_country": s.default_country,
        "default_niche": s.default_niche,
        "default_lead_type": s.default_lead_type.map(LeadType::as_str),
        "source_label": s.source_label,
        "redirect_url": s.redirect_url,
        "status": status_text(s),
        "wait_for_delivery": s.wait_for_delivery,
        "cost_per_lead": s.cost_per_lead_cents.map(leadrouter_core::money::Money),
        "daily_cap": s.daily_cap,
        "postback_url": s.postback_url.as_ref().map(|p| p.as_str()),
        "postback_events": s.postback_events,
    });
    v.as_object().cloned().unwrap_or_default()
}

fn source_change(
    action: &'static str,
    id: i64,
    before: Option<&SourceSpec>,
    after: Option<&SourceSpec>,
) -> Change {
    let mut c = Change::new(action, "source", Some(id)).with(leadrouter_core::audit::diff(
        &settings(before),
        &settings(after),
    ));
    if before.and_then(|s| s.facebook.as_ref()) != after.and_then(|s| s.facebook.as_ref()) {
        c = c.secret("facebook");
    }
    c
}

impl Store {
    pub async fn create_source(
        &self,
        spec: &SourceSpec,
        token_hash: &str,
        token_prefix: &str,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<Source, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let row = sqlx::query(&format!(
            "INSERT INTO sources (name, kind, token_hash, token_prefix, default_country, \
             default_niche, default_lead_type, source_label, redirect_url, facebook, status, \
             wait_for_delivery, cost_per_lead_cents, daily_cap, postback_url, postback_events, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14, $15, $16, $17, $13, $13) \
             RETURNING {COLUMNS}"
        ))
        .bind(&spec.name)
        .bind(spec.kind.as_str())
        .bind(token_hash)
        .bind(token_prefix)
        .bind(&spec.default_country)
        .bind(&spec.default_niche)
        .bind(spec.default_lead_type.map(LeadType::as_str))
        .bind(&spec.source_label)
        .bind(&spec.redirect_url)
        .bind(
            spec.facebook
                .as_ref()
                .map(|f| leadrouter_core::sealed::store(self.sealer(), &to_text(f))),
        )
        .bind(status_text(spec))
        .bind(i64::from(spec.wait_for_delivery))
        .bind(now)
        .bind(spec.cost_per_lead_cents)
        .bind(spec.daily_cap.map(i64::from))
        .bind(spec.postback_url.as_ref().map(|p| p.as_str().to_string()))
        .bind(to_text(&spec.postback_events))
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::on_unique("source token"))?;
        let source = source_from_row(&row, self.sealer())?;
        let change = source_change("create", source.id, None, Some(spec)).secret("token");
        audit::record(&mut tx, actor, &change, now).await?;
        tx.commit().await?;
        Ok(source)
    }

    async fn source_in(&self, tx: &mut sqlx::AnyConnection, id: i64) -> Result<Source, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sources WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        crate::error::found(row, |r| source_from_row(r, self.sealer()))
    }

    pub async fn source(&self, id: i64) -> Result<Option<Source>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sources WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref()
            .map(|r| source_from_row(r, self.sealer()))
            .transpose()
    }

    /// The live source whose token hashes to `token_hash` (disabled ones included; the
    /// caller decides what a disabled source may do).
    pub async fn source_by_token(&self, token_hash: &str) -> Result<Option<Source>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sources WHERE token_hash = $1 AND deleted_at IS NULL"
        ))
        .bind(token_hash)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref()
            .map(|r| source_from_row(r, self.sealer()))
            .transpose()
    }

    pub async fn list_sources(
        &self,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<Source>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sources WHERE deleted_at IS NULL AND id < $1 \
             ORDER BY id DESC LIMIT $2"
        ))
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| source_from_row(r, self.sealer()))
            .collect()
    }

    pub async fn update_source(
        &self,
        id: i64,
        spec: &SourceSpec,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<Source, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let before = self.source_in(&mut tx, id).await?;
        let row = sqlx::query(&format!(
            "UPDATE sources SET name = $1, kind = $2, default_country = $3, default_niche = $4, \
             default_lead_type = $5, source_label = $6, redirect_url = $7, facebook = $8, \
             status = $9, wait_for_delivery = $10, updated_at = $11, cost_per_lead_cents = $13, \
             daily_cap = $14, postback_url = $15, postback_events = $16 \
             WHERE id = $12 AND deleted_at IS NULL RETURNING {COLUMNS}"
        ))
        .bind(&spec.name)
        .bind(spec.kind.as_str())
        .bind(&spec.default_country)
        .bind(&spec.default_niche)
        .bind(spec.default_lead_type.map(LeadType::as_str))
        .bind(&spec.source_label)
        .bind(&spec.redirect_url)
        .bind(
            spec.facebook
                .as_ref()
                .map(|f| leadrouter_core::sealed::store(self.sealer(), &to_text(f))),
        )
        .bind(status_text(spec))
        .bind(i64::from(spec.wait_for_delivery))
        .bind(now)
        .bind(id)
        .bind(spec.cost_per_lead_cents)
        .bind(spec.daily_cap.map(i64::from))
        .bind(spec.postback_url.as_ref().map(|p| p.as_str().to_string()))
        .bind(to_text(&spec.postback_events))
        .fetch_optional(&mut *tx)
        .await?;
        let after = crate::error::found(row, |r| source_from_row(r, self.sealer()))?;
        let change = source_change("update", id, Some(&before.spec), Some(&after.spec));
        audit::record(&mut tx, actor, &change, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Gives a source its postbacks' signing secret, unless it has one.
    pub async fn set_source_signing_secret(
        &self,
        id: i64,
        secret: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE sources SET signing_secret = $1 WHERE id = $2 AND signing_secret IS NULL",
        )
        .bind(leadrouter_core::sealed::store(self.sealer(), secret))
        .bind(id)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_source_token(
        &self,
        id: i64,
        token_hash: &str,
        token_prefix: &str,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<Source, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let row = sqlx::query(&format!(
            "UPDATE sources SET token_hash = $1, token_prefix = $2, updated_at = $3 \
             WHERE id = $4 AND deleted_at IS NULL RETURNING {COLUMNS}"
        ))
        .bind(token_hash)
        .bind(token_prefix)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::on_unique("source token"))?;
        let after = crate::error::found(row, |r| source_from_row(r, self.sealer()))?;
        let change = Change::new("rotate_key", "source", Some(id)).secret("token");
        audit::record(&mut tx, actor, &change, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Retires a source: its token stops working; its leads keep pointing at it.
    pub async fn delete_source(
        &self,
        id: i64,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let before = self.source_in(&mut tx, id).await?;
        let done = sqlx::query(
            "UPDATE sources SET deleted_at = $1, status = 'disabled', updated_at = $1 \
             WHERE id = $2 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let change = source_change("delete", id, Some(&before.spec), None);
        audit::commit_with(tx, actor, &change, now).await
    }
}
