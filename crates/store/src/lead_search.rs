//! The operators' search index (migration 22): which leads have a text in their words
//! (name, e-mail, phone). On PostgreSQL a table of words with a trigram index, kept by
//! triggers as leads arrive and change; on SQLite an FTS5 trigram table filled in batches
//! by a timed job ([`Store::index_new_leads`]), the leads after the last batch read by
//! the search itself.

use crate::{Priority, Store, StoreError};
use sqlx::Row;

/// The most leads a search takes from the index as a list of ids: a text more leads share
/// is looked for along the lead list's newest-first reading, which fills a page at once.
pub(crate) const SEARCH_FOUND: usize = 2_000;

/// The first column of each row: lead ids.
fn ids_of(rows: &[sqlx::any::AnyRow]) -> Result<Vec<i64>, StoreError> {
    rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
}

/// `ids` when a search takes them as a list (at most [`SEARCH_FOUND`]).
fn at_most_found(ids: Vec<i64>) -> Option<Vec<i64>> {
    (ids.len() <= SEARCH_FOUND).then_some(ids)
}

/// New leads indexed in one statement (and one transaction) on SQLite.
pub const INDEX_BATCH: usize = 5_000;

impl Store {
    /// The leads below `before` whose words contain `text` (any case), newest first: all
    /// of them when they are at most [`SEARCH_FOUND`]; `None` when the text is too short
    /// for the index (under 3 characters) or more leads have it.
    pub(crate) async fn search_index(
        &self,
        text: &str,
        before: i64,
    ) -> Result<Option<Vec<i64>>, StoreError> {
        if text.chars().count() < 3 {
            return Ok(None);
        }
        let backend = self.backend();
        // The leads not indexed yet (SQLite: those after the last batch, a second's worth),
        // read and matched here.
        let mut ids = match crate::dialect::lead_search_batched(backend) {
            true => self.unindexed_with(text, before).await?,
            false => Vec::new(),
        };
        let rows = sqlx::query(crate::dialect::lead_search_sql(backend))
            .bind(crate::dialect::lead_search_term(backend, text))
            .bind(before)
            .bind((SEARCH_FOUND + 1) as i64)
            .fetch_all(self.reader())
            .await?;
        ids.extend(ids_of(&rows)?);
        Ok(at_most_found(ids))
    }

    /// The leads below `before` with the e-mail address `email`, through the dedupe index
    /// (`niche, email`, one range per niche: they are few), as [`Store::search_index`]
    /// answers.
    pub(crate) async fn leads_with_email(
        &self,
        email: &str,
        before: i64,
    ) -> Result<Option<Vec<i64>>, StoreError> {
        let niches = self.list_niches().await?;
        if niches.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let marks = crate::many::Marks::new(self.backend()).list(niches.len());
        let n = niches.len();
        let sql = format!(
            "SELECT id FROM leads WHERE niche IN ({marks}) AND email = ${} AND id < ${} \
             ORDER BY id DESC LIMIT ${}",
            n + 1,
            n + 2,
            n + 3
        );
        let mut query = sqlx::query(&sql);
        for niche in &niches {
            query = query.bind(niche.slug.as_str());
        }
        let rows = query
            .bind(email)
            .bind(before)
            .bind((SEARCH_FOUND + 1) as i64)
            .fetch_all(self.reader())
            .await?;
        Ok(at_most_found(ids_of(&rows)?))
    }

    /// The leads below `before` a partner gave `id` as its own id for them.
    pub(crate) async fn leads_by_partner_lead_id(
        &self,
        id: &str,
        before: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT lead_id FROM deliveries WHERE partner_lead_id = $1 AND lead_id < $2",
        )
        .bind(id)
        .bind(before)
        .fetch_all(self.reader())
        .await?;
        ids_of(&rows)
    }

    /// The leads after the index's last batch and below `before` whose words contain
    /// `text`, newest first.
    async fn unindexed_with(&self, text: &str, before: i64) -> Result<Vec<i64>, StoreError> {
        let through = self.indexed_through().await?;
        if through + 1 >= before {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT id, first_name, last_name, email, phone FROM leads \
             WHERE id > $1 AND id < $2 ORDER BY id DESC",
        )
        .bind(through)
        .bind(before)
        .fetch_all(self.reader())
        .await?;
        let text = text.to_lowercase();
        let mut ids = Vec::new();
        for r in &rows {
            let part = |c: &str| -> Result<String, StoreError> {
                Ok(r.try_get::<Option<String>, _>(c)?.unwrap_or_default())
            };
            let words = format!(
                "{} {}\n{}\n{}",
                part("first_name")?,
                part("last_name")?,
                part("email")?,
                part("phone")?
            );
            if words.to_lowercase().contains(&text) {
                ids.push(r.try_get("id")?);
            }
        }
        Ok(ids)
    }

    /// The last lead in the SQLite search index.
    async fn indexed_through(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT indexed_through FROM lead_search_state WHERE id = 1")
                .fetch_optional(self.reader())
                .await?
                .map(|r| r.try_get::<i64, _>(0))
                .transpose()?
                .unwrap_or(0),
        )
    }

    /// Adds up to [`INDEX_BATCH`] leads received since the last batch to the SQLite search
    /// index, in one statement; returns how many (always 0 on PostgreSQL, whose index
    /// keeps itself).
    pub async fn index_new_leads(&self) -> Result<usize, StoreError> {
        if !crate::dialect::lead_search_batched(self.backend()) {
            return Ok(0);
        }
        // Nothing new: no write.
        let newest: Option<i64> = sqlx::query("SELECT MAX(id) FROM leads")
            .fetch_one(self.reader())
            .await?
            .try_get(0)?;
        if newest.unwrap_or(0) <= self.indexed_through().await? {
            return Ok(0);
        }
        let mut tx = self.begin(Priority::Background).await?;
        let through: i64 =
            sqlx::query("SELECT indexed_through FROM lead_search_state WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        let upto: Option<i64> = sqlx::query(
            "SELECT MAX(id) FROM (SELECT id FROM leads WHERE id > $1 ORDER BY id LIMIT $2)",
        )
        .bind(through)
        .bind(INDEX_BATCH as i64)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let Some(upto) = upto else {
            return Ok(0);
        };
        let added = sqlx::query(crate::dialect::LEAD_SEARCH_FILL)
            .bind(through)
            .bind(upto)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("UPDATE lead_search_state SET indexed_through = $1 WHERE id = 1")
            .bind(upto)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(added as usize)
    }
}
