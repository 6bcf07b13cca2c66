//! Erasing leads (GDPR Art. 17): in one transaction per batch, the personal fields of each
//! lead are cleared (a keyed hash of its e-mail and phone kept, so dedupe still finds it),
//! with every copy we made of them: the bodies sent to partners and their answers, history
//! details, return notes, conversion metadata. Ids, market, status, partner and times stay,
//! so the figures still count the lead. The notices to the partners that received the
//! leads (mails, and `lead.erased` requests to erasure webhooks) are written in the same
//! transaction, so none is lost.

use crate::many::Marks;
use crate::outbox::Mail;
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

    /// What we hold of a person: how many leads still carry this e-mail or phone, and how
    /// many were erased (found by the keyed hashes an erased lead keeps). What the
    /// "Erase a person" page answers, before and after.
    pub async fn contact_lookup(
        &self,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<(usize, usize), StoreError> {
        let live = self.leads_of_contact(email, phone).await?.len();
        let key = self.contact_key().await?;
        let (email_hash, phone_hash) = leadrouter_core::erasure::contact_hashes(key, email, phone);
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM leads WHERE erased_at IS NOT NULL \
             AND niche IN (SELECT slug FROM niches) AND (email_hash = $1 OR phone_hash = $2)",
        )
        .bind(email_hash)
        .bind(phone_hash)
        .fetch_one(self.reader())
        .await?;
        let erased: i64 = row.try_get("n")?;
        Ok((live, usize::try_from(erased).unwrap_or(0)))
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
        now: EpochMillis,
    ) -> Result<usize, StoreError> {
        if lead_ids.is_empty() {
            return Ok(0);
        }
        let key = self.contact_key().await?.to_vec();
        let mut tx = self.begin(Priority::Background).await?;
        let list = Marks::new(self.backend()).list(lead_ids.len());
        let sql = format!(
            "SELECT id, email, phone, consent, external_id, idempotency_key, first_name, \
             last_name FROM leads WHERE erased_at IS NULL AND id IN ({list})"
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
        self.queue_mails(&mut tx, &notices.mails, now).await?;
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

    /// Clears refused submissions and mails' texts that carry this e-mail or phone (they
    /// are not tied to a lead): refusals by the keyed hashes read from their bodies at
    /// refusal (any spelling), and both by their text (raw, form-encoded, the phone with
    /// and without `+`). Returns how many.
    pub async fn erase_contact_texts(
        &self,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<u64, StoreError> {
        use leadrouter_core::erasure::{contact_hash, phone_tail};
        let key = self.contact_key().await?.to_vec();
        let mut needles: Vec<String> = Vec::new();
        if let Some(e) = email.map(str::to_lowercase) {
            needles.push(url::form_urlencoded::byte_serialize(e.as_bytes()).collect());
            needles.push(e);
        }
        if let Some(p) = phone {
            needles.push(p.to_string());
            needles.push(p.trim_start_matches('+').to_string());
            needles.push(format!("%2b{}", p.trim_start_matches('+')));
        }
        let mut tx = self.begin(Priority::Background).await?;
        let mut cleared = sqlx::query(
            "UPDATE rejected_submissions SET body = '', email_hash = NULL, phone_hash = NULL \
             WHERE email_hash = $1 OR phone_hash = $2",
        )
        .bind(email.map(|e| contact_hash(&key, "email", &e.to_lowercase())))
        .bind(
            phone
                .and_then(phone_tail)
                .map(|t| contact_hash(&key, "phone_tail", &t)),
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        needles.sort();
        needles.dedup();
        for needle in needles.iter().filter(|n| n.len() >= 5) {
            let like = format!("%{}%", like_escaped(needle));
            cleared += sqlx::query(
                "UPDATE rejected_submissions SET body = '', email_hash = NULL, phone_hash = NULL \
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

    /// After an erasure: on SQLite the write-ahead log, which still holds the pages as
    /// they were, is moved into the database file and truncated (freed space there is
    /// already zeroed: `secure_delete`). PostgreSQL's dead row versions go with (auto)
    /// vacuum.
    pub async fn settle_erasure(&self) -> Result<(), StoreError> {
        self.truncate_log().await
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
    let names: Vec<String> = [r.try_get::<Option<String>, _>(6)?, r.try_get(7)?]
        .into_iter()
        .flatten()
        .collect();
    let person = Person {
        email: email.as_deref(),
        phone: phone.as_deref(),
        names: &names,
    };
    if let Some(c) = &consent {
        erase_naming_consent_text(tx, c, &person).await?;
    }
    erase_contact_transaction_ids(tx, key, id, &person).await?;
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

/// The person an erased lead was, as its texts may name them.
struct Person<'a> {
    email: Option<&'a str>,
    phone: Option<&'a str>,
    names: &'a [String],
}

impl Person<'_> {
    /// Whether `text` names this person: their e-mail, their phone's number (any
    /// spelling), or one of their names (of three letters or more), in any case.
    fn named_in(&self, text: &str) -> bool {
        let lower = text.to_lowercase();
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        self.email
            .is_some_and(|e| lower.contains(&e.to_lowercase()))
            || self
                .phone
                .and_then(leadrouter_core::erasure::phone_tail)
                .is_some_and(|t| digits.contains(&t))
            || self
                .names
                .iter()
                .filter(|n| n.chars().count() >= 3)
                .any(|n| lower.contains(&n.to_lowercase()))
    }
}

/// A consent text that names the person (a form that wrote "I, Zora Zweig
/// (zora@example.com), agree") is theirs alone: its words go; its hash stays as the
/// evidence that a text was shown.
async fn erase_naming_consent_text(
    tx: &mut sqlx::AnyConnection,
    consent: &str,
    person: &Person<'_>,
) -> Result<(), StoreError> {
    let v: serde_json::Value = serde_json::from_str(consent).unwrap_or_default();
    let Some(sha) = v.get("text_sha256").and_then(|s| s.as_str()) else {
        return Ok(());
    };
    let text: Option<String> = sqlx::query("SELECT text FROM consent_texts WHERE sha256 = $1")
        .bind(sha)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    if text.is_some_and(|t| person.named_in(&t)) {
        sqlx::query("UPDATE consent_texts SET text = $1 WHERE sha256 = $2")
            .bind(ERASED_CONSENT_TEXT)
            .bind(sha)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// What a consent text that named an erased person reads afterwards.
pub const ERASED_CONSENT_TEXT: &str = "(erased: the text named the person)";

/// A partner's conversion id made of the person's contact (`erika@example.com-1`) is
/// replaced by its keyed hash, as a source's key is.
async fn erase_contact_transaction_ids(
    tx: &mut sqlx::AnyConnection,
    key: &[u8],
    lead_id: i64,
    person: &Person<'_>,
) -> Result<(), StoreError> {
    use leadrouter_core::erasure::contact_hash;
    let rows =
        sqlx::query("SELECT id, external_transaction_id FROM conversions WHERE lead_id = $1")
            .bind(lead_id)
            .fetch_all(&mut *tx)
            .await?;
    for r in rows {
        let tx_id: Option<String> = r.try_get(1)?;
        // (Naming the person covers a key made of the contact: the e-mail, or the phone's
        // digits, of which the tail is a part.)
        let Some(t) = tx_id.filter(|t| person.named_in(t)) else {
            continue;
        };
        sqlx::query("UPDATE conversions SET external_transaction_id = $1 WHERE id = $2")
            .bind(format!("erased:{}", contact_hash(key, "key", &t)))
            .bind(r.try_get::<i64, _>(0)?)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
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
        // Mails that quote a lead (a failing partner's answer echoing it).
        format!("UPDATE notifications SET body = '', html_body = '' WHERE lead_id IN ({list})"),
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
                from: LeadStatus::ON_ITS_WAY,
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
