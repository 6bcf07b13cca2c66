//! `leadrouter leads import FILE.csv --source-id ID`: a file of leads through the same
//! validation, idempotency and dedupe as the webhook, in batched transactions.

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use leadrouter_core::clock::Clock;
use leadrouter_core::lead::normalize_lead;
use leadrouter_store::clock::SystemClock;
use leadrouter_store::leads::{Ingested, LeadStatus, Submission};
use leadrouter_store::Store;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Leads committed per transaction.
const BATCH: usize = 500;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub imported: usize,
    pub duplicates: usize,
    pub already_present: usize,
    /// (line number, what was wrong)
    pub rejected: Vec<(u64, String)>,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "imported: {}", self.imported)?;
        writeln!(f, "duplicates: {}", self.duplicates)?;
        writeln!(f, "already present: {}", self.already_present)?;
        writeln!(f, "rejected: {}", self.rejected.len())?;
        for (line, why) in &self.rejected {
            writeln!(f, "  line {line}: {why}")?;
        }
        Ok(())
    }
}

fn describe(fields: &BTreeMap<String, String>) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

pub async fn import_csv(
    store: &Store,
    path: &Path,
    source_id: i64,
    dedupe_window_ms: i64,
) -> anyhow::Result<ImportSummary> {
    let Some(source) = store.source(source_id).await? else {
        bail!("--source-id: there is no source {source_id}");
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("cannot read the header line of {}", path.display()))?
        .clone();
    let records: Vec<(u64, Result<csv::StringRecord, csv::Error>)> = reader
        .records()
        .map(|r| {
            let line = match &r {
                Ok(rec) => rec.position().map_or(0, |p| p.line()),
                Err(e) => e.position().map_or(0, |p| p.line()),
            };
            (line, r)
        })
        .collect();

    let progress =
        ProgressBar::with_draw_target(Some(records.len() as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} leads ({per_sec}, {eta} left)")
    {
        progress.set_style(style);
    }
    let catalog = store.catalog().await?;
    let defaults = source.spec.lead_defaults("csv_import");
    let mut summary = ImportSummary::default();
    let mut batch: Vec<Submission> = Vec::with_capacity(BATCH);
    let now = SystemClock.now_ms();

    for (line, record) in records {
        progress.inc(1);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let why = format!("malformed row: {e}");
                store
                    .record_rejection(
                        Some(source.id),
                        now,
                        &json!({"row": why}),
                        Some("text/csv"),
                        b"",
                    )
                    .await?;
                summary.rejected.push((line, why));
                continue;
            }
        };
        let row: Map<String, Value> = headers
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        match normalize_lead(&row, &defaults, &catalog) {
            Ok(lead) => batch.push(Submission {
                source_id: source.id,
                lead,
                idempotency_key: None,
                received_at: now,
            }),
            Err(fields) => {
                store
                    .record_rejection(
                        Some(source.id),
                        now,
                        &json!(fields),
                        Some("text/csv"),
                        Value::Object(row).to_string().as_bytes(),
                    )
                    .await?;
                summary.rejected.push((line, describe(&fields)));
            }
        }
        if batch.len() >= BATCH {
            tally(
                &mut summary,
                store.insert_leads(&batch, dedupe_window_ms).await?,
            );
            batch.clear();
        }
    }
    if !batch.is_empty() {
        tally(
            &mut summary,
            store.insert_leads(&batch, dedupe_window_ms).await?,
        );
    }
    progress.finish_and_clear();
    Ok(summary)
}

fn tally(summary: &mut ImportSummary, results: Vec<Ingested>) {
    for r in results {
        match r {
            Ingested::New {
                status: LeadStatus::Duplicate,
                ..
            } => summary.duplicates += 1,
            Ingested::New { .. } => summary.imported += 1,
            Ingested::Repeat { .. } => summary.already_present += 1,
        }
    }
}
