//! `leadrouter leads import FILE.csv --source-id ID`: a file of leads through the same
//! validation, idempotency and dedupe as the webhook, in batched transactions.

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use leadrouter_core::catalog::Catalog;
use leadrouter_core::clock::{Clock, EpochMillis};
use leadrouter_core::lead::{normalize_lead, SourceDefaults};
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
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (headers, records) = read_rows(file)
        .with_context(|| format!("cannot read the header line of {}", path.display()))?;
    let progress = progress_bar(records.len() as u64);
    let mut import = Import {
        store,
        source_id: source.id,
        defaults: source.spec.lead_defaults("csv_import"),
        cost_cents: source.spec.cost_per_lead_cents.unwrap_or(0),
        catalog: store.catalog().await?,
        dedupe_window_ms,
        now: SystemClock.now_ms(),
        summary: ImportSummary::default(),
        batch: Vec::with_capacity(BATCH),
    };
    for (line, record) in records {
        progress.inc(1);
        match record {
            Ok(r) => import.row(line, &headers, &r).await?,
            Err(e) => import.reject_malformed(line, e).await?,
        }
        if import.batch.len() >= BATCH {
            import.flush().await?;
        }
    }
    import.flush().await?;
    progress.finish_and_clear();
    Ok(import.summary)
}

type Rows = Vec<(u64, Result<csv::StringRecord, csv::Error>)>;

/// The header line and every row with its line number (a malformed row is kept, to be
/// reported on its line).
fn read_rows(file: impl std::io::Read) -> Result<(csv::StringRecord, Rows), csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(file);
    let headers = reader.headers()?.clone();
    let records = reader
        .records()
        .map(|r| {
            let line = match &r {
                Ok(rec) => rec.position().map_or(0, |p| p.line()),
                Err(e) => e.position().map_or(0, |p| p.line()),
            };
            (line, r)
        })
        .collect();
    Ok((headers, records))
}

/// A row as the inbound API would have received it: each named, non-empty cell.
fn row_fields(headers: &csv::StringRecord, record: &csv::StringRecord) -> Map<String, Value> {
    headers
        .iter()
        .zip(record.iter())
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect()
}

fn progress_bar(len: u64) -> ProgressBar {
    let progress = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} leads ({per_sec}, {eta} left)")
    {
        progress.set_style(style);
    }
    progress
}

/// One import in progress: rows checked as the inbound API checks them, stored in batches
/// through the ingest path, every refusal recorded with its line.
struct Import<'a> {
    store: &'a Store,
    source_id: i64,
    defaults: SourceDefaults,
    /// The source's cost per lead now, recorded on each lead.
    cost_cents: i64,
    catalog: Catalog,
    dedupe_window_ms: i64,
    now: EpochMillis,
    summary: ImportSummary,
    batch: Vec<Submission>,
}

impl Import<'_> {
    async fn row(
        &mut self,
        line: u64,
        headers: &csv::StringRecord,
        record: &csv::StringRecord,
    ) -> anyhow::Result<()> {
        let row = row_fields(headers, record);
        match normalize_lead(&row, &self.defaults, &self.catalog) {
            Ok(lead) => self.batch.push(Submission {
                source_id: self.source_id,
                lead,
                idempotency_key: None,
                received_at: self.now,
                cost_cents: self.cost_cents,
            }),
            Err(fields) => {
                self.store
                    .record_rejection(
                        Some(self.source_id),
                        self.now,
                        &json!(fields),
                        Some("text/csv"),
                        Value::Object(row).to_string().as_bytes(),
                    )
                    .await?;
                self.summary.rejected.push((line, describe(&fields)));
            }
        }
        Ok(())
    }

    async fn reject_malformed(&mut self, line: u64, e: csv::Error) -> anyhow::Result<()> {
        let why = format!("malformed row: {e}");
        self.store
            .record_rejection(
                Some(self.source_id),
                self.now,
                &json!({"row": why}),
                Some("text/csv"),
                b"",
            )
            .await?;
        self.summary.rejected.push((line, why));
        Ok(())
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        if !self.batch.is_empty() {
            let results = self
                .store
                .insert_leads(&self.batch, self.dedupe_window_ms)
                .await?;
            tally(&mut self.summary, results);
            self.batch.clear();
        }
        Ok(())
    }
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

#[cfg(test)]
mod fuzz {
    use super::{read_rows, row_fields};
    use leadrouter_core::catalog::Catalog;
    use leadrouter_core::lead::{normalize_lead, SourceDefaults};
    use leadrouter_core::market::{Market, Niche};

    /// Any file an operator imports: read row by row (a malformed row kept with its line),
    /// each row checked as the inbound API checks a lead; never a panic, every refusal
    /// naming its fields, line numbers in order.
    #[test]
    fn csv_import_files() {
        let catalog = Catalog::new(
            vec![Market {
                slug: "germany".into(),
                iso_code: "DE".into(),
                name: "Germany".into(),
                aliases: vec!["de".into(), "deutschland".into()],
                phone_region: "DE".into(),
                phone_code: 49,
                default_timezone: "Europe/Berlin".into(),
            }],
            vec![Niche {
                slug: "forex".into(),
                name: "Forex".into(),
            }],
        );
        let defaults = SourceDefaults::default();
        bolero::check!().for_each(|bytes: &[u8]| {
            for file in [
                bytes.to_vec(),
                // With the header an export has, so that the rows are read as leads.
                [b"first_name,email,phone,country,niche\n".as_slice(), bytes].concat(),
            ] {
                let Ok((headers, rows)) = read_rows(file.as_slice()) else {
                    continue;
                };
                let mut last = 0;
                for (line, row) in rows {
                    assert!(line >= last, "line {line} after {last}");
                    last = line;
                    let Ok(record) = row else { continue };
                    let fields = row_fields(&headers, &record);
                    assert!(fields
                        .values()
                        .all(|v| v.as_str().is_some_and(|s| !s.is_empty())));
                    if let Err(why) = normalize_lead(&fields, &defaults, &catalog) {
                        assert!(!why.is_empty(), "a refusal names its fields");
                    }
                }
            }
        });
    }
}
