//! Erasing leads (GDPR Art. 17): in one transaction per batch, the personal fields of each
//! lead are cleared (a keyed hash of its e-mail and phone kept, so dedupe still finds it),
//! with every copy we made of them: the bodies sent to partners and their answers, history
//! details, return notes, conversion metadata. Ids, market, status, partner and times stay,
//! so the figures still count the lead. The notices to the partners that received the
//! leads (mails, and `lead.erased` requests to erasure webhooks) are written in the same
//! transaction, so none is lost.

use crate::many::Marks;
use crate::outbox::{Mail, Sending};
use crate::transition::{transition, Also, Transition};
use crate::{Priority, Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::erasure::page_without_query;
use leadrouter_core::status::LeadStatus;
use sqlx::Row;
use std::collections::BTreeMap;

/// Leads erased per transaction (each its own statements: the writer is not held long).
pub const ERASE_BATCH: usize = 100;

/// What partners are told of a batch: mails, and erasure webhook bodies per partner.
#[derive(Debug, Default)]
pub struct Notices {
    pub mails: Vec<Mail>,
    pub webhooks: Vec<(i64, String)>,
}

impl Store {
    /// The leads, not yet erased, with this e-mail or this phone (oldest first).
    pub async fn leads_of_contact(
        &self,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<Vec<i64>, StoreError> {
        // `niche IN (...)` lets the (niche, email) and (niche, phone) indexes answer, one
        // each.
        let rows = sqlx::query(
            "SELECT id FROM leads WHERE erased_at IS NULL \
             AND niche IN (SELECT slug FROM niches) AND email = $1 \
             UNION SELECT id FROM leads WHERE erased_at IS NULL \
             AND niche IN (SELECT slug FROM niches) AND phone = $2 ORDER BY id",
        )
        .bind(email)
        .bind(phone)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| r.try_get(0).map_err(StoreError::from))
            .collect()
    }

    /// The partners a request carrying each lead was sent to: partner → its leads.
    pub async fn lead_recipients(
        &self,
        lead_ids: &[i64],
    ) -> Result<BTreeMap<i64, Vec<i64>>, StoreError> {
        if lead_ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let sql = format!(
            "SELECT DISTINCT partner_id, lead_id FROM deliveries \
             WHERE attempt_count > 0 AND lead_id IN ({}) ORDER BY partner_id, lead_id",
            Marks::new(self.backend()).list(lead_ids.len())
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for id in lead_ids {
            q = q.bind(*id);
        }
        let mut out: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for r in q.fetch_all(self.reader()).await? {
            out.entry(r.try_get(0)?).or_default().push(r.try_get(1)?);
        }
        Ok(out)
    }

    /// Erases these leads (those not erased already) and queues `notices`, in one
    /// transaction. Returns how many were erased.
    pub async fn erase_leads(
        &self,
        lead_ids: &[i64],
        notices: &Notices,
        sending: Sending,
        now: EpochMillis,
    ) -> Result<usize, StoreError> {
        if lead_ids.is_empty() {
            return Ok(0);
        }
        let key = self.contact_key().await?.to_vec();
        let mut tx = self.begin(Priority::Background).await?;
        let list = Marks::new(self.backend()).list(lead_ids.len());
        let sql = format!(
            "SELECT id, email, phone, consent, external_id, idempotency_key FROM leads \
             WHERE erased_at IS NULL AND id IN ({list})"
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for id in lead_ids {
            q = q.bind(*id);
        }
        let found = q.fetch_all(&mut *tx).await?;
        let mut erased = Vec::with_capacity(found.len());
        for r in &found {
            erased.push(erase_row(&mut tx, &key, r, now).await?);
        }
        if !erased.is_empty() {
            clear_copies(&mut tx, self.backend(), &erased, now).await?;
        }
        crate::outbox::enqueue(&mut tx, &notices.mails, sending, now).await?;
        for (partner_id, body) in &notices.webhooks {
            sqlx::query(
                "INSERT INTO erasure_notices (partner_id, body, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $3)",
            )
            .bind(*partner_id)
            .bind(body)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(erased.len())
    }

    /// Clears refused submissions' bodies and mails' texts that carry this e-mail or phone
    /// (they are not tied to a lead, so they are found by their text). Returns how many.
    pub async fn erase_contact_texts(
        &self,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<u64, StoreError> {
        let mut needles: Vec<String> = Vec::new();
        needles.extend(email.map(str::to_lowercase));
        if let Some(p) = phone {
            needles.push(p.to_string());
            needles.push(p.trim_start_matches('+').to_string());
        }
        let mut tx = self.begin(Priority::Background).await?;
        let mut cleared = 0;
        for needle in needles.iter().filter(|n| n.len() >= 5) {
            let like = format!("%{}%", like_escaped(needle));
            cleared += sqlx::query(
                "UPDATE rejected_submissions SET body = '' \
                 WHERE LOWER(body) LIKE $1 ESCAPE '\\'",
            )
            .bind(&like)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            cleared += sqlx::query(
                "UPDATE notifications SET body = '', html_body = '' \
                 WHERE LOWER(body) LIKE $1 ESCAPE '\\' OR LOWER(html_body) LIKE $1 ESCAPE '\\'",
            )
            .bind(&like)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(cleared)
    }
}

/// Clears one lead's personal fields and keeps the keyed hashes of its contacts; its
/// `external_id` or `Idempotency-Key`, when a source put the e-mail or phone in it, is
/// replaced by its keyed hash too. Returns the lead's id.
async fn erase_row(
    tx: &mut sqlx::AnyConnection,
    key: &[u8],
    r: &sqlx::any::AnyRow,
    now: EpochMillis,
) -> Result<i64, StoreError> {
    use leadrouter_core::erasure::{contact_hash, contact_hashes, key_carries_contact};
    let id: i64 = r.try_get(0)?;
    let email: Option<String> = r.try_get(1)?;
    let phone: Option<String> = r.try_get(2)?;
    let consent: Option<String> = r.try_get(3)?;
    let (email_hash, phone_hash) = contact_hashes(key, email.as_deref(), phone.as_deref());
    let keyed = |v: Option<String>| {
        v.map(
            |k| match key_carries_contact(&k, email.as_deref(), phone.as_deref()) {
                true => format!("erased:{}", contact_hash(key, "key", &k)),
                false => k,
            },
        )
    };
    sqlx::query(
        "UPDATE leads SET first_name = NULL, last_name = NULL, email = NULL, \
         phone = NULL, custom_fields = '{}', consent = $1, email_hash = $2, \
         phone_hash = $3, erased_at = $4, updated_at = $4, external_id = $5, \
         idempotency_key = $6 WHERE id = $7",
    )
    .bind(consent.as_deref().map(erased_consent))
    .bind(email_hash)
    .bind(phone_hash)
    .bind(now)
    .bind(keyed(r.try_get(4)?))
    .bind(keyed(r.try_get(5)?))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// Every copy of the erased leads' personal data outside the lead rows.
async fn clear_copies(
    tx: &mut sqlx::AnyConnection,
    backend: crate::Backend,
    ids: &[i64],
    now: EpochMillis,
) -> Result<(), StoreError> {
    let list = Marks::new(backend).list(ids.len());
    let statements = [
        format!(
            "UPDATE delivery_attempts SET request_body = NULL, response_excerpt = NULL \
             WHERE delivery_id IN (SELECT id FROM deliveries WHERE lead_id IN ({list}))"
        ),
        format!("UPDATE lead_events SET detail = NULL WHERE lead_id IN ({list})"),
        format!("UPDATE returns SET note = NULL WHERE lead_id IN ({list})"),
        format!("UPDATE conversions SET metadata = NULL WHERE lead_id IN ({list})"),
    ];
    for sql in &statements {
        let mut q = sqlx::query(sql).persistent(false);
        for id in ids {
            q = q.bind(*id);
        }
        q.execute(&mut *tx).await?;
    }
    // A lead still on its way is not sent on without its person: its waiting deliveries
    // end, and it is failed with the reason in its history.
    let mut m = Marks::new(backend);
    let (at, at2) = (m.next(), m.next());
    let sql = format!(
        "UPDATE deliveries SET status = 'failed', last_error = 'the lead was erased', \
         completed_at = {at}, updated_at = {at2} WHERE status = 'pending' AND lead_id IN ({})",
        m.list(ids.len())
    );
    let mut q = sqlx::query(&sql).persistent(false).bind(now).bind(now);
    for id in ids {
        q = q.bind(*id);
    }
    q.execute(&mut *tx).await?;
    for id in ids {
        transition(
            tx,
            Transition {
                lead_id: *id,
                from: &[LeadStatus::Queued, LeadStatus::Held, LeadStatus::Assigned],
                to: LeadStatus::Failed,
                also: vec![Also::RouteAfter(None)],
                detail: Some("the lead was erased".into()),
                now,
            },
        )
        .await?;
    }
    Ok(())
}

/// A lead's consent evidence once erased: the text (by hash), version and time stay; the
/// address, the browser and the page's query go.
fn erased_consent(stored: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(stored).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("ip".into(), serde_json::Value::Null);
        o.insert("user_agent".into(), serde_json::Value::Null);
        if let Some(page) = o
            .get("page_url")
            .and_then(|p| p.as_str())
            .map(page_without_query)
        {
            o.insert("page_url".into(), serde_json::Value::String(page));
        }
    }
    v.to_string()
}

fn like_escaped(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
