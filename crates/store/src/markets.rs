//! Markets and niches, as stored.

use crate::audit::{self, Actor, Change};
use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::market::{Market, Niche};
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

fn market_from_row(r: &AnyRow) -> Result<Market, StoreError> {
    let aliases: String = r.try_get("aliases")?;
    let phone_code: i64 = r.try_get("phone_code")?;
    Ok(Market {
        slug: r.try_get("slug")?,
        iso_code: r.try_get("iso_code")?,
        name: r.try_get("name")?,
        aliases: serde_json::from_str(&aliases)
            .map_err(|e| StoreError::Corrupt(format!("market aliases: {e}")))?,
        phone_region: r.try_get("phone_region")?,
        phone_code: u16::try_from(phone_code)
            .map_err(|_| StoreError::Corrupt(format!("market phone code {phone_code}")))?,
        default_timezone: r.try_get("default_timezone")?,
    })
}

impl Store {
    pub async fn list_markets(&self) -> Result<Vec<Market>, StoreError> {
        let rows = sqlx::query(
            "SELECT slug, iso_code, name, aliases, phone_region, phone_code, default_timezone \
             FROM markets ORDER BY slug",
        )
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(market_from_row).collect()
    }

    pub async fn list_niches(&self) -> Result<Vec<Niche>, StoreError> {
        let rows = sqlx::query("SELECT slug, name FROM niches ORDER BY slug")
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Niche {
                    slug: r.try_get("slug")?,
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }
}

impl Store {
    /// Adds a market; [`StoreError::Conflict`] if its slug or ISO code is taken.
    pub async fn create_market(
        &self,
        m: &Market,
        now: i64,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        sqlx::query(
            "INSERT INTO markets (slug, iso_code, name, aliases, phone_region, phone_code, \
             default_timezone, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&m.slug)
        .bind(&m.iso_code)
        .bind(&m.name)
        .bind(crate::json::to_text(&m.aliases))
        .bind(&m.phone_region)
        .bind(i64::from(m.phone_code))
        .bind(&m.default_timezone)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_unique("market with this slug or ISO code"))?;
        let change = Change::new("create", "market", None)
            .field("slug", Value::Null, json!(m.slug))
            .field("iso_code", Value::Null, json!(m.iso_code))
            .field("name", Value::Null, json!(m.name))
            .field("aliases", Value::Null, json!(m.aliases))
            .field("default_timezone", Value::Null, json!(m.default_timezone));
        audit::commit_with(tx, actor, &change, now).await
    }

    /// Adds a niche; [`StoreError::Conflict`] if its slug is taken.
    pub async fn create_niche(&self, n: &Niche, now: i64, actor: &Actor) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        sqlx::query("INSERT INTO niches (slug, name, created_at) VALUES ($1, $2, $3)")
            .bind(&n.slug)
            .bind(&n.name)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::on_unique("niche with this slug"))?;
        let change = Change::new("create", "niche", None)
            .field("slug", Value::Null, json!(n.slug))
            .field("name", Value::Null, json!(n.name));
        audit::commit_with(tx, actor, &change, now).await
    }

    pub async fn catalog(&self) -> Result<leadrouter_core::catalog::Catalog, StoreError> {
        Ok(leadrouter_core::catalog::Catalog::new(
            self.list_markets().await?,
            self.list_niches().await?,
        ))
    }
}
