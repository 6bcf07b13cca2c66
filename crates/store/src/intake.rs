//! Storing a batch of submissions in one transaction with a handful of statements: one
//! lookup of earlier leads with the same idempotency keys, one of possible duplicates, one
//! allocation of ids, then multi-row inserts of the leads and their first history entries.
//! Repeats and duplicates inside the batch are decided here, in arrival order, exactly as
//! if the submissions had been stored one after another.

use crate::backend::ids::{ids_statement, read_ids};
use crate::leads::{Ingested, LeadStatus, Submission};
use crate::many::{self, Script};
use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::erasure::contact_hashes;
use std::collections::HashMap;

/// A lead already stored (or planned earlier in this batch) that a submission may repeat.
#[derive(Debug, Clone)]
pub(super) struct Keyed {
    id: i64,
    source_id: i64,
    external_id: Option<String>,
    idempotency_key: Option<String>,
    status: LeadStatus,
    duplicate_of: Option<i64>,
}

impl Keyed {
    fn as_repeat(&self) -> Ingested {
        Ingested::Repeat {
            id: self.id,
            status: self.status,
            duplicate_of: self.duplicate_of,
        }
    }
}

/// A lead that later leads with the same e-mail or phone duplicate.
#[derive(Debug, Clone)]
pub(super) struct Original {
    id: i64,
    niche: String,
    email: Option<String>,
    phone: Option<String>,
    received_at: EpochMillis,
    /// An erased lead's keyed hashes of its e-mail and phone (which are gone).
    email_hash: Option<String>,
    phone_hash: Option<String>,
}

/// A submission's keyed contact hashes, to find erased originals: (e-mail, phone).
pub(super) type Hashes = (Option<String>, Option<String>);

/// The earlier leads a batch is decided against, indexed by what a submission matches
/// them on, so that each decision is a lookup however large the batch.
#[derive(Default)]
struct Earlier {
    /// (source, "external_id" or "idempotency_key", key) → the first lead with it.
    keyed: HashMap<(i64, &'static str, String), Keyed>,
    /// (niche, "email", "phone", "email_hash" or "phone_hash", value) → the originals
    /// with it.
    originals: HashMap<(String, &'static str, String), Vec<Original>>,
}

impl Earlier {
    fn add_keyed(&mut self, k: Keyed) {
        for (kind, key) in [
            ("external_id", &k.external_id),
            ("idempotency_key", &k.idempotency_key),
        ] {
            let Some(key) = key else { continue };
            let slot = self
                .keyed
                .entry((k.source_id, kind, key.clone()))
                .or_insert_with(|| k.clone());
            if k.id < slot.id {
                *slot = k.clone();
            }
        }
    }

    /// The first lead of the same source with the submission's `external_id` or
    /// `Idempotency-Key`.
    fn repeated_by(&self, s: &Submission) -> Option<&Keyed> {
        [
            ("external_id", &s.lead.external_id),
            ("idempotency_key", &s.idempotency_key),
        ]
        .into_iter()
        .filter_map(|(kind, key)| self.keyed.get(&(s.source_id, kind, key.clone()?)))
        .min_by_key(|k| k.id)
    }

    fn add_original(&mut self, o: Original) {
        for (kind, value) in [
            ("email", &o.email),
            ("phone", &o.phone),
            ("email_hash", &o.email_hash),
            ("phone_hash", &o.phone_hash),
        ] {
            let Some(value) = value else { continue };
            self.originals
                .entry((o.niche.clone(), kind, value.clone()))
                .or_default()
                .push(o.clone());
        }
    }

    /// The first original of the submission's niche with its e-mail or phone (or, erased,
    /// their keyed hashes), received within the window before it.
    fn duplicated_by(&self, s: &Submission, hashes: &Hashes, window_ms: i64) -> Option<i64> {
        [
            ("email", &s.lead.email),
            ("phone", &s.lead.phone),
            ("email_hash", &hashes.0),
            ("phone_hash", &hashes.1),
        ]
        .into_iter()
        .filter_map(|(kind, value)| {
            self.originals
                .get(&(s.lead.niche.clone(), kind, value.clone()?))
        })
        .flatten()
        .filter(|o| o.received_at >= s.received_at - window_ms)
        .map(|o| o.id)
        .min()
    }
}

/// A concurrent transaction stored one of the batch's idempotent leads first; the batch is
/// rolled back and stored one by one.
struct Raced;

enum Failure {
    Raced(Raced),
    Store(StoreError),
}

impl<E: Into<StoreError>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Store(e.into())
    }
}

mod statements;
pub(crate) use statements::events_statements;
use statements::{
    consent_text_statements, contacts_statements, insert_statements, keys_statements, read_keyed,
    read_originals,
};

impl Store {
    /// Stores submissions in one transaction, in order; the results match the input.
    /// Nothing is visible, and nothing may be acknowledged, before this returns `Ok`.
    pub async fn insert_leads(
        &self,
        submissions: &[Submission],
        dedupe_window_ms: i64,
    ) -> Result<Vec<Ingested>, StoreError> {
        match self.insert_batch(submissions, dedupe_window_ms).await {
            Ok(done) => Ok(done),
            Err(Failure::Store(e)) => Err(e),
            Err(Failure::Raced(Raced)) => {
                // Rare (PostgreSQL, several writers): one at a time, each sees the others.
                let mut out = Vec::with_capacity(submissions.len());
                for s in submissions {
                    match self
                        .insert_batch(std::slice::from_ref(s), dedupe_window_ms)
                        .await
                    {
                        Ok(mut one) => out.push(one.remove(0)),
                        Err(Failure::Store(e)) => return Err(e),
                        Err(Failure::Raced(Raced)) => {
                            return Err(StoreError::Conflict("lead".into()))
                        }
                    }
                }
                Ok(out)
            }
        }
    }

    async fn insert_batch(
        &self,
        submissions: &[Submission],
        dedupe_window_ms: i64,
    ) -> Result<Vec<Ingested>, Failure> {
        let backend = self.backend();
        // Earlier leads with the same keys or contacts, and ids for the new ones: one script.
        let mut script = Script::default();
        let (sources, key_lookups) = keys_statements(backend, submissions);
        let keyed = script.add_all(key_lookups);
        let (hashes, niches, contacts) =
            self.contact_lookups(submissions, dedupe_window_ms).await?;
        let contacts = script.add_all(contacts);
        let ids = script.add(ids_statement(backend, submissions.len()));
        let mut tx = self.begin(Priority::Urgent).await?;
        let found = script.run(&mut tx, backend).await?;
        let mut earlier = Earlier::default();
        for k in read_keyed(&sources, found.of(keyed))? {
            earlier.add_keyed(k);
        }
        for (niche, done) in niches.iter().zip(found.of(contacts)) {
            for o in read_originals(niche, done)? {
                earlier.add_original(o);
            }
        }
        let mut ids = read_ids(backend, found.one(ids), submissions.len())?.into_iter();

        let (out, new_rows) = decide(
            &mut earlier,
            submissions,
            &hashes,
            &mut ids,
            dedupe_window_ms,
        )?;

        let events: Vec<(i64, &str, Option<String>, EpochMillis)> = new_rows
            .iter()
            .map(|&(i, id, status, duplicate_of)| {
                (
                    id,
                    status.as_str(),
                    duplicate_of.map(|d| format!("duplicate of lead {d}")),
                    submissions[i].received_at,
                )
            })
            .collect();
        let mut script = Script::default();
        let inserts = script.add_all(insert_statements(backend, submissions, &new_rows));
        script.add_all(events_statements(backend, &events));
        let first_at = submissions.first().map_or(0, |s| s.received_at);
        script.add_all(consent_text_statements(
            backend,
            submissions,
            &new_rows,
            first_at,
        ));
        let done = script.run(&mut tx, backend).await?;
        let inserted: usize = done.of(inserts).iter().map(|d| d.rows.len()).sum();
        if inserted != new_rows.len() {
            // ON CONFLICT skipped a row: another transaction stored the same idempotent
            // lead since our lookup. Alone, it is a repeat of that lead.
            if let ([s], [_]) = (submissions, new_rows.as_slice()) {
                drop(tx);
                let mut tx = self.begin(Priority::Urgent).await?;
                let (sources, statements) = keys_statements(backend, submissions);
                let found = many::run(&mut tx, backend, &statements).await?;
                let mut stored = Earlier::default();
                for k in read_keyed(&sources, &found)? {
                    stored.add_keyed(k);
                }
                let k = stored
                    .repeated_by(s)
                    .ok_or_else(|| StoreError::Conflict("lead".into()))?;
                return Ok(vec![k.as_repeat()]);
            }
            return Err(Failure::Raced(Raced));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Each submission's keyed contact hashes (erased originals are found by them), and
    /// the lookups of possible originals per niche; nothing when dedupe is off.
    async fn contact_lookups(
        &self,
        submissions: &[Submission],
        dedupe_window_ms: i64,
    ) -> Result<(Vec<Hashes>, Vec<String>, Vec<many::Statement>), StoreError> {
        if dedupe_window_ms <= 0 {
            return Ok(Default::default());
        }
        let key = self.contact_key().await?;
        let hashes: Vec<Hashes> = submissions
            .iter()
            .map(|s| contact_hashes(key, s.lead.email.as_deref(), s.lead.phone.as_deref()))
            .collect();
        let (niches, statements) =
            contacts_statements(self.backend(), submissions, &hashes, dedupe_window_ms);
        Ok((hashes, niches, statements))
    }
}

/// A new lead to insert: (index of its submission, id, status, duplicate of).
type NewRow = (usize, i64, LeadStatus, Option<i64>);

/// Decides each submission in arrival order; new leads join `earlier`, so a later
/// submission in the same batch repeats or duplicates an earlier one.
fn decide(
    earlier: &mut Earlier,
    submissions: &[Submission],
    hashes: &[Hashes],
    ids: &mut impl Iterator<Item = i64>,
    dedupe_window_ms: i64,
) -> Result<(Vec<Ingested>, Vec<NewRow>), StoreError> {
    let mut out = Vec::with_capacity(submissions.len());
    let mut new_rows: Vec<NewRow> = Vec::new();
    for (i, s) in submissions.iter().enumerate() {
        if let Some(k) = earlier.repeated_by(s) {
            out.push(k.as_repeat());
            continue;
        }
        let duplicate_of = if dedupe_window_ms > 0 {
            earlier.duplicated_by(s, &hashes[i], dedupe_window_ms)
        } else {
            None
        };
        let status = if duplicate_of.is_some() {
            LeadStatus::Duplicate
        } else {
            LeadStatus::Queued
        };
        let id = ids
            .next()
            .ok_or_else(|| StoreError::Corrupt("too few lead ids allocated".into()))?;
        if s.lead.external_id.is_some() || s.idempotency_key.is_some() {
            earlier.add_keyed(Keyed {
                id,
                source_id: s.source_id,
                external_id: s.lead.external_id.clone(),
                idempotency_key: s.idempotency_key.clone(),
                status,
                duplicate_of,
            });
        }
        if duplicate_of.is_none() && (s.lead.email.is_some() || s.lead.phone.is_some()) {
            earlier.add_original(Original {
                id,
                niche: s.lead.niche.clone(),
                email: s.lead.email.clone(),
                phone: s.lead.phone.clone(),
                received_at: s.received_at,
                email_hash: None,
                phone_hash: None,
            });
        }
        new_rows.push((i, id, status, duplicate_of));
        out.push(Ingested::New {
            id,
            status,
            duplicate_of,
        });
    }
    Ok((out, new_rows))
}
