//! The statements of an ingest batch and the readers of their answers.

use super::{Hashes, Keyed, Original};
use crate::json::to_text;
use crate::leads::{LeadStatus, Submission};
use crate::many::{self, Marks, Statement, CHUNK};
use crate::{Backend, StoreError};
use leadrouter_core::clock::EpochMillis;
use sqlx::Row;
use std::collections::{BTreeMap, HashSet};

/// Per source with keys in the batch: its stored leads with one of those `external_id`s
/// or `Idempotency-Key`s.
pub(super) fn keys_statements(
    backend: Backend,
    submissions: &[Submission],
) -> (Vec<i64>, Vec<Statement>) {
    let mut by_source: BTreeMap<i64, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for s in submissions {
        if s.lead.external_id.is_none() && s.idempotency_key.is_none() {
            continue;
        }
        let (ext, idem) = by_source.entry(s.source_id).or_default();
        ext.extend(s.lead.external_id.as_deref());
        idem.extend(s.idempotency_key.as_deref());
    }
    by_source
        .into_iter()
        .map(|(source_id, (ext, idem))| {
            let mut m = Marks::new(backend);
            let mut st = Statement::default();
            let mut parts = Vec::new();
            for (column, keys) in [("external_id", &ext), ("idempotency_key", &idem)] {
                if keys.is_empty() {
                    continue;
                }
                st.bind(source_id);
                for k in keys {
                    st.bind(*k);
                }
                parts.push(format!(
                    "SELECT id, status, duplicate_of, external_id, idempotency_key FROM leads \
                     WHERE source_id = {} AND {column} IN ({})",
                    m.next(),
                    m.list(keys.len())
                ));
            }
            st.sql = parts.join(" UNION ALL ");
            (source_id, st)
        })
        .unzip()
}

/// The answers to [`keys_statements`] (the first of `found`, one per source).
pub(super) fn read_keyed(sources: &[i64], found: &[many::Done]) -> Result<Vec<Keyed>, StoreError> {
    sources
        .iter()
        .zip(found)
        .flat_map(|(source_id, done)| done.rows.iter().map(move |r| (*source_id, r)))
        .map(|(source_id, r)| {
            let status: String = r.try_get(1)?;
            Ok(Keyed {
                id: r.try_get(0)?,
                source_id,
                status: LeadStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("lead status {status}")))?,
                duplicate_of: r.try_get(2)?,
                external_id: r.try_get(3)?,
                idempotency_key: r.try_get(4)?,
            })
        })
        .collect()
}

/// The e-mails, phones and their keyed hashes of one niche's submissions, and the earliest
/// time an original of them may have been received.
#[derive(Default)]
struct Contacts<'a> {
    email: HashSet<&'a str>,
    phone: HashSet<&'a str>,
    email_hash: HashSet<&'a str>,
    phone_hash: HashSet<&'a str>,
    since: EpochMillis,
}

/// Per niche in the batch: its stored, non-duplicate leads with one of the batch's e-mails
/// or phones (or, erased, their keyed hashes), received within the window before the
/// earliest submission.
pub(super) fn contacts_statements(
    backend: Backend,
    submissions: &[Submission],
    hashes: &[Hashes],
    window_ms: i64,
) -> (Vec<String>, Vec<Statement>) {
    let mut by_niche: BTreeMap<&str, Contacts<'_>> = BTreeMap::new();
    for (s, (email_hash, phone_hash)) in submissions.iter().zip(hashes) {
        if s.lead.email.is_none() && s.lead.phone.is_none() {
            continue;
        }
        let c = by_niche
            .entry(s.lead.niche.as_str())
            .or_insert_with(|| Contacts {
                since: EpochMillis::MAX,
                ..Default::default()
            });
        c.email.extend(s.lead.email.as_deref());
        c.phone.extend(s.lead.phone.as_deref());
        c.email_hash.extend(email_hash.as_deref());
        c.phone_hash.extend(phone_hash.as_deref());
        c.since = c.since.min(s.received_at - window_ms);
    }
    by_niche
        .into_iter()
        .map(|(niche, c)| {
            let since = c.since;
            let mut m = Marks::new(backend);
            let mut st = Statement::default();
            let mut parts = Vec::new();
            for (column, values) in [
                ("email", &c.email),
                ("phone", &c.phone),
                ("email_hash", &c.email_hash),
                ("phone_hash", &c.phone_hash),
            ] {
                if values.is_empty() {
                    continue;
                }
                st.bind(niche).bind(since);
                for v in values {
                    st.bind(*v);
                }
                parts.push(format!(
                    "SELECT id, email, phone, received_at, email_hash, phone_hash FROM leads \
                     WHERE niche = {} \
                     AND received_at >= {} AND duplicate_of IS NULL AND {column} IN ({})",
                    m.next(),
                    m.next(),
                    m.list(values.len())
                ));
            }
            st.sql = parts.join(" UNION ALL ");
            (niche.to_string(), st)
        })
        .unzip()
}

pub(super) fn read_originals(niche: &str, done: &many::Done) -> Result<Vec<Original>, StoreError> {
    done.rows
        .iter()
        .map(|r| {
            Ok(Original {
                id: r.try_get(0)?,
                niche: niche.to_string(),
                email: r.try_get(1)?,
                phone: r.try_get(2)?,
                received_at: r.try_get(3)?,
                email_hash: r.try_get(4)?,
                phone_hash: r.try_get(5)?,
            })
        })
        .collect()
}

/// Inserts of the new leads; each returns the ids it inserted (fewer when a concurrent
/// transaction stored one with the same idempotency key first).
pub(super) fn insert_statements(
    backend: Backend,
    submissions: &[Submission],
    rows: &[(usize, i64, LeadStatus, Option<i64>)],
) -> Vec<Statement> {
    const COLS: usize = 20;
    rows.chunks(CHUNK)
        .map(|chunk| {
            let mut st = Statement::new(format!(
                "INSERT INTO leads (id, source_id, external_id, idempotency_key, status, \
                 first_name, last_name, email, phone, phone_valid, country, niche, lead_type, \
                 source_label, custom_fields, duplicate_of, received_at, updated_at, consent, cost_cents) \
                 VALUES {} \
                 ON CONFLICT DO NOTHING RETURNING id",
                Marks::new(backend).tuples(chunk.len(), COLS)
            ));
            for &(i, id, status, duplicate_of) in chunk {
                let s = &submissions[i];
                let lead = &s.lead;
                st.bind(id)
                    .bind(s.source_id)
                    .bind(lead.external_id.as_deref())
                    .bind(s.idempotency_key.as_deref())
                    .bind(status.as_str())
                    .bind(lead.first_name.as_deref())
                    .bind(lead.last_name.as_deref())
                    .bind(lead.email.as_deref())
                    .bind(lead.phone.as_deref())
                    .bind(i64::from(lead.phone_valid))
                    .bind(lead.country.as_str())
                    .bind(lead.niche.as_str())
                    .bind(lead.lead_type.as_str())
                    .bind(lead.source_label.as_deref())
                    .bind(to_text(&lead.custom_fields))
                    .bind(duplicate_of)
                    .bind(s.received_at)
                    .bind(s.received_at)
                    .bind(lead.consent.as_ref().map(|c| to_text(&c.stored_json())))
                    .bind(s.cost_cents);
            }
            st
        })
        .collect()
}

/// The consent texts of the new leads, each distinct text once (kept if already stored).
pub(super) fn consent_text_statements(
    backend: Backend,
    submissions: &[Submission],
    rows: &[(usize, i64, LeadStatus, Option<i64>)],
    now: EpochMillis,
) -> Vec<Statement> {
    let mut seen = HashSet::new();
    let texts: Vec<_> = rows
        .iter()
        .filter_map(|&(i, ..)| submissions[i].lead.consent.as_ref())
        .filter(|c| seen.insert(c.text_sha256.as_str()))
        .collect();
    texts
        .chunks(CHUNK)
        .map(|chunk| {
            let mut st = Statement::new(format!(
                "INSERT INTO consent_texts (sha256, text, created_at) VALUES {} \
                 ON CONFLICT DO NOTHING",
                Marks::new(backend).tuples(chunk.len(), 3)
            ));
            for c in chunk {
                st.bind(c.text_sha256.as_str())
                    .bind(c.text.as_str())
                    .bind(now);
            }
            st
        })
        .collect()
}

/// History entries `(lead, status, detail, at)` to append, many per statement.
pub(crate) fn events_statements(
    backend: Backend,
    events: &[(i64, &str, Option<String>, EpochMillis)],
) -> Vec<many::Statement> {
    events
        .chunks(CHUNK)
        .map(|chunk| {
            let mut st = many::Statement::new(format!(
                "INSERT INTO lead_events (lead_id, status, detail, at) VALUES {}",
                Marks::new(backend).tuples(chunk.len(), 4)
            ));
            for (lead_id, status, detail, at) in chunk {
                st.bind(*lead_id)
                    .bind(*status)
                    .bind(detail.as_deref())
                    .bind(*at);
            }
            st
        })
        .collect()
}
