//! Storing inbound leads: idempotency, dedupe, and the record of what was refused.

use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::lead::NewLead;
use sqlx::any::AnyRow;
use sqlx::Row;

/// One lead to store, with where and when it came from.
#[derive(Debug, Clone)]
pub struct Submission {
    pub source_id: i64,
    pub lead: NewLead,
    /// The `Idempotency-Key` header, if the source sent one.
    pub idempotency_key: Option<String>,
    pub received_at: EpochMillis,
    /// What the operator pays its supplier for it if it is delivered (the source's
    /// `cost_per_lead` when it arrived), in cents; 0 for none.
    pub cost_cents: i64,
}

pub use leadrouter_core::status::LeadStatus;

/// What storing a submission did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// A new lead: queued for routing, or a duplicate of an earlier lead (not routed).
    New {
        id: i64,
        status: LeadStatus,
        duplicate_of: Option<i64>,
    },
    /// The same source already sent this lead (same `external_id` or `Idempotency-Key`):
    /// nothing was created.
    Repeat {
        id: i64,
        status: LeadStatus,
        duplicate_of: Option<i64>,
    },
}

impl Ingested {
    pub fn id(&self) -> i64 {
        match self {
            Ingested::New { id, .. } | Ingested::Repeat { id, .. } => *id,
        }
    }
}

/// Appends to a lead's history, inside the caller's transaction.
pub(crate) async fn lead_event(
    tx: &mut sqlx::AnyConnection,
    lead_id: i64,
    status: &str,
    detail: Option<&str>,
    at: EpochMillis,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO lead_events (lead_id, status, detail, at) VALUES ($1, $2, $3, $4)")
        .bind(lead_id)
        .bind(status)
        .bind(detail)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

impl Store {
    /// Records a submission we refused, so that nothing is silently dropped.
    pub async fn record_rejection(
        &self,
        source_id: Option<i64>,
        received_at: EpochMillis,
        reason: &serde_json::Value,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<i64, StoreError> {
        // The person's keyed hashes, so that erasure finds this refusal however the
        // contact was spelled in it.
        let (email_hash, phone_hash) =
            leadrouter_core::erasure::refused_contact_hashes(self.contact_key().await?, body);
        // Any bytes fit (NUL and broken UTF-8 escaped), and only so much of them.
        let body = leadrouter_core::text::storable_body(body);
        let row = sqlx::query(
            "INSERT INTO rejected_submissions (source_id, received_at, reason, content_type, body, \
             email_hash, phone_hash) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(source_id)
        .bind(received_at)
        .bind(reason.to_string())
        .bind(content_type.map(|c| leadrouter_core::text::storable_body(c.as_bytes())))
        .bind(body)
        .bind(email_hash)
        .bind(phone_hash)
        .fetch_one(self.write(Priority::Background).await.pool())
        .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn list_rejections(
        &self,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<Rejection>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, source_id, received_at, reason, content_type, body \
             FROM rejected_submissions WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let reason: String = r.try_get(3)?;
                Ok(Rejection {
                    id: r.try_get(0)?,
                    source_id: r.try_get(1)?,
                    received_at: r.try_get(2)?,
                    reason: serde_json::from_str(&reason)
                        .unwrap_or(serde_json::Value::String(reason)),
                    content_type: r.try_get(4)?,
                    body: r.try_get(5)?,
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct Rejection {
    pub id: i64,
    pub source_id: Option<i64>,
    pub received_at: EpochMillis,
    pub reason: serde_json::Value,
    pub content_type: Option<String>,
    pub body: String,
}

/// A stored lead, as operators read it.
#[derive(Debug, Clone)]
pub struct LeadRecord {
    pub id: i64,
    pub source_id: i64,
    pub external_id: Option<String>,
    pub status: LeadStatus,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub phone_valid: bool,
    pub country: String,
    pub niche: String,
    pub lead_type: leadrouter_core::lead::LeadType,
    pub source_label: Option<String>,
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
    /// What its supplier is paid for it if delivered (its source's price when it arrived).
    pub cost_cents: i64,
    pub partner_id: Option<i64>,
    pub routing: Option<serde_json::Value>,
    pub duplicate_of: Option<i64>,
    pub received_at: EpochMillis,
    pub updated_at: EpochMillis,
    /// Consent evidence as stored (its text apart, by `text_sha256`): see
    /// [`Store::lead_consent`].
    pub consent: Option<serde_json::Value>,
    pub erased_at: Option<EpochMillis>,
}

/// Filters of the operators' lead list; all optional.
#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub status: Option<String>,
    pub country: Option<String>,
    pub niche: Option<String>,
    pub partner_id: Option<i64>,
    pub source_id: Option<i64>,
    /// Matches e-mail, phone or name (case-insensitive, substring).
    pub q: Option<String>,
    /// Held for this reason (as the Overview's held backlog lists it).
    pub held_reason: Option<String>,
    /// Received at or after.
    pub from: Option<EpochMillis>,
    /// Received before.
    pub until: Option<EpochMillis>,
    pub limit: i64,
    pub before: Option<i64>,
}

const LEAD_COLUMNS: &str = "id, source_id, external_id, status, first_name, last_name, email, \
    phone, phone_valid, country, niche, lead_type, source_label, custom_fields, partner_id, routing, \
    duplicate_of, received_at, updated_at, consent, erased_at, cost_cents";

fn lead_from_row(r: &AnyRow) -> Result<LeadRecord, StoreError> {
    let status: String = r.try_get("status")?;
    let custom: String = r.try_get("custom_fields")?;
    let routing: Option<String> = r.try_get("routing")?;
    Ok(LeadRecord {
        cost_cents: r.try_get("cost_cents")?,
        id: r.try_get("id")?,
        source_id: r.try_get("source_id")?,
        external_id: r.try_get("external_id")?,
        status: LeadStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("lead status {status}")))?,
        first_name: r.try_get("first_name")?,
        last_name: r.try_get("last_name")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        phone_valid: r.try_get::<i64, _>("phone_valid")? != 0,
        country: r.try_get("country")?,
        niche: r.try_get("niche")?,
        lead_type: crate::states::state(r, "lead_type", leadrouter_core::lead::LeadType::parse)?,
        source_label: r.try_get("source_label")?,
        custom_fields: crate::json::from_text("custom_fields", &custom)?,
        partner_id: r.try_get("partner_id")?,
        routing: routing
            .map(|t| crate::json::from_text("routing", &t))
            .transpose()?,
        duplicate_of: r.try_get("duplicate_of")?,
        received_at: r.try_get("received_at")?,
        updated_at: r.try_get("updated_at")?,
        consent: r
            .try_get::<Option<String>, _>("consent")?
            .map(|t| crate::json::from_text("consent", &t))
            .transpose()?,
        erased_at: r.try_get("erased_at")?,
    })
}

impl LeadRecord {
    /// The lead as the routing and payload rules read it.
    pub fn facts(&self) -> leadrouter_core::routing::LeadFacts<'_> {
        leadrouter_core::routing::LeadFacts {
            lead_type: self.lead_type,
            first_name: self.first_name.as_deref(),
            last_name: self.last_name.as_deref(),
            email: self.email.as_deref(),
            phone: self.phone.as_deref(),
            phone_valid: self.phone.is_some() && self.phone_valid,
            country: &self.country,
            niche: &self.niche,
            source_label: self.source_label.as_deref(),
            source_id: Some(self.source_id),
            custom_fields: &self.custom_fields,
        }
    }
}

impl Store {
    pub async fn lead(&self, id: i64) -> Result<Option<LeadRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(lead_from_row).transpose()
    }

    /// Leads by id, in one query (absent ids are left out).
    pub async fn leads_by_ids(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, LeadRecord>, StoreError> {
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(crate::many::CHUNK) {
            let sql = format!(
                "SELECT {LEAD_COLUMNS} FROM leads WHERE id IN ({})",
                crate::many::Marks::new(self.backend()).list(chunk.len())
            );
            let mut q = crate::many::query(&sql, chunk.len());
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.reader()).await? {
                let lead = lead_from_row(&r)?;
                out.insert(lead.id, lead);
            }
        }
        Ok(out)
    }

    /// Newest first. Only the filters given become conditions: the partner, the e-mail
    /// (`niche, email`) and the dates (`received_at`) use their indexes; status and market
    /// are checked along the newest-first scan (a page of them comes at once; a status no
    /// lead has reads them all, a few milliseconds for 100,000). The
    /// search `q` is an exact e-mail when it is a whole address (indexed); a short number
    /// is a lead id or part of a phone number, a long one part of a phone number; anything
    /// else part of a name, e-mail or phone; and any of them a partner's own lead id. Those partial matches read the leads newest
    /// first until the page is full.
    pub async fn list_leads(&self, f: &LeadFilter) -> Result<Vec<LeadRecord>, StoreError> {
        let mut w = Where::default();
        w.and("id < ?", Bind::Int(f.before.unwrap_or(i64::MAX)));
        let plain = |col: &str| crate::dialect::unindexed(self.backend(), col);
        if let Some(v) = &f.status {
            w.and(&format!("{} = ?", plain("status")), Bind::Text(v.clone()));
        }
        if let Some(v) = &f.country {
            w.and(&format!("{} = ?", plain("country")), Bind::Text(v.clone()));
        }
        if let Some(v) = &f.niche {
            w.and(&format!("{} = ?", plain("niche")), Bind::Text(v.clone()));
        }
        if let Some(v) = &f.held_reason {
            w.and(
                &format!("{} = ?", plain("held_reason")),
                Bind::Text(v.clone()),
            );
        }
        if let Some(v) = f.partner_id {
            w.and("partner_id = ?", Bind::Int(v));
        }
        if let Some(v) = f.source_id {
            w.and("source_id = ?", Bind::Int(v));
        }
        if let Some(v) = f.from {
            w.and("received_at >= ?", Bind::Int(v));
        }
        if let Some(v) = f.until {
            w.and("received_at < ?", Bind::Int(v));
        }
        if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            self.search(&mut w, q, f.before).await?;
        }
        w.binds.push(Bind::Int(f.limit));
        let sql = format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE {} ORDER BY id DESC LIMIT ${}",
            w.conds.join(" AND "),
            w.binds.len()
        );
        let mut query = sqlx::query(&sql);
        for b in w.binds {
            query = match b {
                Bind::Text(t) => query.bind(t),
                Bind::Int(i) => query.bind(i),
            };
        }
        let rows = query.fetch_all(self.reader()).await?;
        rows.iter().map(lead_from_row).collect()
    }
}

/// `text` with the wildcards of `LIKE … ESCAPE '\'` escaped.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// `id IN (…)` of ids read from the database (numbers only), or a condition nothing meets.
fn ids_in(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "1 = 0".to_string();
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("id IN ({})", list.join(", "))
}

enum Bind {
    Text(String),
    Int(i64),
}

/// A `WHERE` built from the conditions given; each `?` of a condition is its one value.
#[derive(Default)]
struct Where {
    conds: Vec<String>,
    binds: Vec<Bind>,
}

impl Where {
    fn and(&mut self, cond: &str, value: Bind) {
        self.binds.push(value);
        self.conds
            .push(cond.replace('?', &format!("${}", self.binds.len())));
    }
}

impl Store {
    /// The search's condition (see [`Store::list_leads`]): a list of ids when the search
    /// index could say which leads have the text (then a search that finds nothing reads
    /// nothing), else conditions checked along the newest-first reading.
    async fn search(
        &self,
        w: &mut Where,
        typed: &str,
        before: Option<i64>,
    ) -> Result<(), StoreError> {
        let q = typed.to_lowercase();
        let below = before.unwrap_or(i64::MAX);
        let digits = q.trim_start_matches(['#', '+']);
        let whole_address = q
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        let numeric = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
        // A short number is a lead id too.
        let as_id = (numeric && digits.len() < 7).then(|| digits.parse::<i64>().unwrap_or(0));
        let indexed = if whole_address {
            self.leads_with_email(&q, below).await?
        } else if numeric {
            self.search_index(digits, below).await?
        } else {
            self.search_index(&q, below).await?
        };
        // Or the partner's own id for a lead (from its answer), exactly as it gave it.
        let partner_lead_id = typed.trim();
        if let Some(mut ids) = indexed {
            ids.extend(
                self.leads_by_partner_lead_id(partner_lead_id, below)
                    .await?,
            );
            ids.extend(as_id);
            w.conds.push(ids_in(&ids));
            return Ok(());
        }
        let cond = {
            let text = if numeric { digits } else { q.as_str() };
            w.binds
                .push(Bind::Text(format!("%{}%", like_escaped(text))));
            let n = w.binds.len();
            let like = if numeric {
                format!("phone LIKE ${n} ESCAPE '\\'")
            } else {
                // E-mails are stored in lower case (ingest folds them); `%` and `_` of the
                // text are themselves, not wildcards.
                format!(
                    "(email LIKE ${n} ESCAPE '\\' OR phone LIKE ${n} ESCAPE '\\' \
                     OR LOWER(COALESCE(first_name, '') || ' ' || COALESCE(last_name, '')) \
                     LIKE ${n} ESCAPE '\\')"
                )
            };
            match as_id {
                Some(id) => format!("(id = {id} OR {like})"),
                None => like,
            }
        };
        w.binds.push(Bind::Text(partner_lead_id.to_string()));
        w.conds.push(format!(
            "({cond} OR id IN (SELECT lead_id FROM deliveries WHERE partner_lead_id = ${}))",
            w.binds.len()
        ));
        Ok(())
    }

    /// How many leads are in each status (a count over the whole table: tests and the
    /// daily jobs, never a request anyone can repeat).
    pub async fn lead_status_counts(
        &self,
    ) -> Result<std::collections::BTreeMap<String, i64>, StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM leads GROUP BY status")
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect()
    }

    /// How many leads wait in each of the waiting states (queued, held, assigned), each
    /// counted through the (status, route_after) index: the rows that wait, not the table.
    pub async fn waiting_lead_counts(&self) -> Result<Vec<(LeadStatus, i64)>, StoreError> {
        let mut out = Vec::new();
        for status in [LeadStatus::Queued, LeadStatus::Held, LeadStatus::Assigned] {
            let n: i64 = sqlx::query(WAITING_COUNT)
                .bind(status.as_str())
                .fetch_one(self.reader())
                .await?
                .try_get(0)?;
            out.push((status, n));
        }
        Ok(out)
    }
}

/// One waiting state's count (see [`Store::waiting_lead_counts`]).
pub const WAITING_COUNT: &str = "SELECT COUNT(*) FROM leads WHERE status = $1";
