//! People a partner already has: keyed hashes (see `core::known`), uploaded by an operator
//! or learned from a `duplicate` answer. A partner's row says whether it has any, so that
//! routing looks them up only for partners that do.

use crate::audit::{self, Actor, Change};
use crate::many::{Marks, CHUNK};
use crate::{Priority, Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::known::{known_hash, lead_hashes, ContactKind};
use serde_json::json;
use sqlx::Row;
use std::collections::HashMap;

/// What an upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownAdded {
    /// Contacts new to the partner.
    pub added: i64,
    /// All it has now.
    pub total: i64,
}

impl Store {
    /// Adds contacts (each by the SHA-256 of its normalized value) to what the partner
    /// has; those it already had are not counted again.
    pub async fn add_known_contacts(
        &self,
        partner_id: i64,
        contacts: &[(ContactKind, String)],
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<KnownAdded, StoreError> {
        let key = self.contact_key().await?.to_vec();
        let mut hashes: Vec<String> = contacts
            .iter()
            .map(|(kind, sha)| known_hash(&key, *kind, sha))
            .collect();
        hashes.sort();
        hashes.dedup();
        let mut tx = self.begin(Priority::Background).await?;
        let exists = sqlx::query("SELECT id FROM partners WHERE id = $1 AND deleted_at IS NULL")
            .bind(partner_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let added = insert_hashes(&mut tx, self.backend(), partner_id, &hashes, now).await?;
        sqlx::query("UPDATE partners SET knows_contacts = 1 WHERE id = $1 AND knows_contacts = 0")
            .bind(partner_id)
            .execute(&mut *tx)
            .await?;
        let total = count(&mut tx, partner_id).await?;
        let change = Change::new("known_contacts", "partner", Some(partner_id)).field(
            "known_contacts",
            json!(total - added),
            json!(total),
        );
        audit::record(&mut tx, actor, &change, now).await?;
        tx.commit().await?;
        Ok(KnownAdded { added, total })
    }

    /// How many deliveries to the partner ended as duplicates since `since` (its answers
    /// saying it already had the person).
    pub async fn partner_duplicates_since(
        &self,
        partner_id: i64,
        since: EpochMillis,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM deliveries WHERE partner_id = $1 AND status = 'duplicate' \
             AND completed_at >= $2",
        )
        .bind(partner_id)
        .bind(since)
        .fetch_one(self.reader())
        .await?;
        Ok(row.try_get("n")?)
    }

    /// How many contacts the partner has.
    pub async fn known_contacts_total(&self, partner_id: i64) -> Result<i64, StoreError> {
        let mut conn = self.reader().acquire().await?;
        count(&mut conn, partner_id).await
    }

    /// Forgets every contact the partner has; returns how many there were.
    pub async fn clear_known_contacts(
        &self,
        partner_id: i64,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let done = sqlx::query("DELETE FROM known_contacts WHERE partner_id = $1")
            .bind(partner_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE partners SET knows_contacts = 0 WHERE id = $1")
            .bind(partner_id)
            .execute(&mut *tx)
            .await?;
        let removed = done.rows_affected() as i64;
        let change = Change::new("known_contacts", "partner", Some(partner_id)).field(
            "known_contacts",
            json!(removed),
            json!(0),
        );
        audit::record(&mut tx, actor, &change, now).await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// Of `partners` (those that have any known contact), which know each lead's person:
    /// lead id → partner ids. Leads are `(id, email, phone)`.
    pub async fn partners_knowing(
        &self,
        leads: &[(i64, Option<&str>, Option<&str>)],
        partners: &[i64],
    ) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
        let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
        if leads.is_empty() || partners.is_empty() {
            return Ok(out);
        }
        let key = self.contact_key().await?.to_vec();
        let mut by_hash: HashMap<String, Vec<i64>> = HashMap::new();
        for (id, email, phone) in leads {
            for h in lead_hashes(&key, *email, *phone) {
                by_hash.entry(h).or_default().push(*id);
            }
        }
        let hashes: Vec<&String> = by_hash.keys().collect();
        for chunk in hashes.chunks(CHUNK) {
            let mut m = Marks::new(self.backend());
            let sql = format!(
                "SELECT partner_id, hash FROM known_contacts WHERE hash IN ({}) \
                 AND partner_id IN ({})",
                m.list(chunk.len()),
                m.list(partners.len())
            );
            let mut q = sqlx::query(&sql);
            for h in chunk {
                q = q.bind(h.as_str());
            }
            for p in partners {
                q = q.bind(*p);
            }
            for row in q.fetch_all(self.reader()).await? {
                let partner: i64 = row.try_get("partner_id")?;
                let hash: String = row.try_get("hash")?;
                for lead in by_hash.get(&hash).into_iter().flatten() {
                    let known = out.entry(*lead).or_default();
                    if !known.contains(&partner) {
                        known.push(partner);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The partner has learned, from its own `duplicate` answer, that it has this lead's
/// person: in the transaction that ends the delivery (`key`, the contact key, read before
/// it began: reading it may write).
pub(crate) async fn learn_from_lead(
    conn: &mut sqlx::AnyConnection,
    backend: crate::Backend,
    key: &[u8],
    partner_id: i64,
    lead_id: i64,
    now: EpochMillis,
) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT email, phone FROM leads WHERE id = $1")
        .bind(lead_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(()) };
    let email: Option<String> = row.try_get("email")?;
    let phone: Option<String> = row.try_get("phone")?;
    let hashes = lead_hashes(key, email.as_deref(), phone.as_deref());
    if hashes.is_empty() {
        return Ok(());
    }
    insert_hashes(conn, backend, partner_id, &hashes, now).await?;
    sqlx::query("UPDATE partners SET knows_contacts = 1 WHERE id = $1 AND knows_contacts = 0")
        .bind(partner_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn insert_hashes(
    conn: &mut sqlx::AnyConnection,
    backend: crate::Backend,
    partner_id: i64,
    hashes: &[String],
    now: EpochMillis,
) -> Result<i64, StoreError> {
    let mut added = 0;
    for chunk in hashes.chunks(CHUNK * 4) {
        let sql = format!(
            "INSERT INTO known_contacts (partner_id, hash, learned_at) VALUES {} \
             ON CONFLICT DO NOTHING",
            Marks::new(backend).tuples(chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for h in chunk {
            q = q.bind(partner_id).bind(h.as_str()).bind(now);
        }
        added += q.execute(&mut *conn).await?.rows_affected() as i64;
    }
    Ok(added)
}

async fn count(conn: &mut sqlx::AnyConnection, partner_id: i64) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM known_contacts WHERE partner_id = $1")
        .bind(partner_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get("n")?)
}
