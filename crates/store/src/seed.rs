//! History for measurements: `leads` leads spread over the `days` before `now`, each routed
//! to one of eight (paused) partners across the seven markets and both niches, with its
//! delivery, one attempt, some failures, returns and conversions, written with multi-row
//! statements a few thousand leads per transaction. For the bench only (`testing`).

use crate::backend::many::{self, Marks, Statement};
use crate::{Backend, Priority, Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::localtime::local_date;
use sqlx::Row;

const MARKETS: [(&str, &str); 8] = [
    ("germany", "Europe/Berlin"),
    ("austria", "Europe/Vienna"),
    ("spain", "Europe/Madrid"),
    ("canada", "America/St_Johns"),
    ("italy", "Europe/Rome"),
    ("uk", "Europe/London"),
    ("norway", "Europe/Oslo"),
    ("germany", "Europe/Berlin"),
];
const PER_TX: usize = 2_000;
const ROWS: usize = 200;

/// What was seeded.
#[derive(Debug, Clone, Copy)]
pub struct Seeded {
    pub leads: i64,
    pub first_lead_id: i64,
}

impl Store {
    /// Seeds `leads` leads over the `days` days before `now`.
    pub async fn seed_history(
        &self,
        leads: usize,
        days: i64,
        now: EpochMillis,
    ) -> Result<Seeded, StoreError> {
        let backend = self.backend();
        let source = self.seed_source(now).await?;
        let partners = self.seed_partners(now).await?;
        let next_id = |table: &'static str| async move {
            let r = sqlx::query(&format!("SELECT COALESCE(MAX(id), 0) AS m FROM {table}"))
                .fetch_one(self.reader())
                .await?;
            Ok::<i64, StoreError>(r.try_get::<i64, _>("m")? + 1)
        };
        let first = next_id("leads").await?;
        let first_delivery = next_id("deliveries").await?;
        let span = days * 86_400_000;
        let start = now - span;
        for batch in (0..leads).collect::<Vec<_>>().chunks(PER_TX) {
            let mut statements = Vec::new();
            for rows in batch.chunks(ROWS) {
                let seeds: Vec<Lead> = rows
                    .iter()
                    .map(|&i| Lead::new(i, leads, start, span, &partners))
                    .collect();
                statements.extend(seed_rows(backend, &seeds, first, first_delivery, source));
            }
            let mut tx = self.begin(Priority::Background).await?;
            many::run(&mut tx, backend, &statements).await?;
            tx.commit().await?;
        }
        self.seed_audit((leads / 10).max(1) as i64, start, span, partners[0].0)
            .await?;
        if backend == Backend::Postgres {
            let mut tx = self.begin(Priority::Background).await?;
            for table in [
                "leads",
                "deliveries",
                "delivery_attempts",
                "conversions",
                "audit_log",
            ] {
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                ))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            // As autovacuum would have by now on a server that gathered this over a year.
            sqlx::query("ANALYZE").execute(self.reader()).await?;
        }
        Ok(Seeded {
            leads: leads as i64,
            first_lead_id: first,
        })
    }

    /// `n` audit entries over the span: operators changing the seeded partners' limits.
    async fn seed_audit(
        &self,
        n: i64,
        start: EpochMillis,
        span: i64,
        first_partner: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        sqlx::query(
            "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, action, entity, \
             entity_id, changes) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
             WHERE i < $1) SELECT $2 + i * $3, 'token', 1, 'seed', 'update', 'partner', \
             $4 + i % 8, '{\"daily_limit\": {\"before\": 100, \"after\": 120}}' FROM n",
        )
        .bind(n)
        .bind(start)
        .bind(span / n)
        .bind(first_partner)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn seed_source(&self, now: EpochMillis) -> Result<i64, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let row = sqlx::query(
            "INSERT INTO sources (name, kind, token_hash, token_prefix, status, created_at, \
             updated_at) VALUES ('Seeded history', 'webhook', $1, 'seed', 'disabled', $2, $2) \
             RETURNING id",
        )
        .bind(format!("seeded-{now}"))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.try_get("id")?)
    }

    /// Eight paused partners (never sent anything live), `(id, timezone, market, price)`.
    async fn seed_partners(
        &self,
        now: EpochMillis,
    ) -> Result<Vec<(i64, &'static str, &'static str, i64)>, StoreError> {
        let mut out = Vec::new();
        let mut tx = self.begin(Priority::Background).await?;
        for (n, (market, tz)) in MARKETS.iter().enumerate() {
            let row = sqlx::query(
                "INSERT INTO partners (name, country, niche, daily_limit, premium_ratio, timezone, \
                 webhook_url, phone_format, status, paused_reason, api_key_hash, api_key_prefix, \
                 signing_secret, price_per_lead_cents, created_at, updated_at) \
                 VALUES ($1, $2, $3, 5000, 50, $4, $5, 'international', 'paused', \
                 'seeded history', $6, 'seed', 'seed', $7, $8, $8) RETURNING id",
            )
            .bind(format!("Seeded partner {} ({market})", n + 1))
            .bind(*market)
            .bind(if n % 3 == 2 { "recovery" } else { "forex" })
            .bind(*tz)
            .bind(format!("https://partner{n}.seed.invalid/leads"))
            .bind(format!("seeded-{now}-{n}"))
            .bind(800 + 150 * n as i64)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            out.push((row.try_get("id")?, *tz, *market, 800 + 150 * n as i64));
        }
        tx.commit().await?;
        Ok(out)
    }
}

/// One seeded lead and what became of it.
struct Lead {
    i: usize,
    received_at: EpochMillis,
    partner: (i64, &'static str, &'static str, i64),
    niche: &'static str,
    status: &'static str,
    latency_ms: i64,
    converted: bool,
}

impl Lead {
    fn new(
        i: usize,
        n: usize,
        start: EpochMillis,
        span: EpochMillis,
        partners: &[(i64, &'static str, &'static str, i64)],
    ) -> Lead {
        // A cheap, repeatable scatter (no two neighbours alike).
        let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33;
        let p = partners[(h % partners.len() as u64) as usize];
        let status = match h % 100 {
            0..=5 => "failed",
            6..=7 => "returned",
            _ => "delivered",
        };
        Lead {
            i,
            received_at: start + (span as i128 * i as i128 / n.max(1) as i128) as i64,
            partner: p,
            niche: if (h % partners.len() as u64) % 3 == 2 {
                "recovery"
            } else {
                "forex"
            },
            status,
            latency_ms: 40 + (h % 900) as i64,
            converted: status == "delivered" && h.is_multiple_of(31),
        }
    }
}

/// The statements for one chunk of seeded leads: leads, deliveries, attempts, conversions.
fn seed_rows(
    backend: Backend,
    seeds: &[Lead],
    first: i64,
    first_delivery: i64,
    source: i64,
) -> Vec<Statement> {
    let mut leads = Statement::default();
    let mut deliveries = Statement::default();
    let mut attempts = Statement::default();
    let mut conversions = Statement::default();
    let mut converted = 0;
    for s in seeds {
        let (id, delivery) = (first + s.i as i64, first_delivery + s.i as i64);
        let (partner, tz, market, price) = s.partner;
        let done = s.received_at + s.latency_ms + 150;
        leads
            .bind(id)
            .bind(source)
            .bind(s.status)
            .bind(format!("Seed{}", s.i))
            .bind("Historic")
            .bind(format!("seed{}@example.com", s.i))
            .bind(format!("+4915{:08}", s.i % 100_000_000))
            .bind(market)
            .bind(s.niche)
            .bind(if s.i % 2 == 0 { "premium" } else { "raw" })
            .bind(partner)
            .bind(s.received_at)
            .bind(done);
        let ok = s.status != "failed";
        deliveries
            .bind(delivery)
            .bind(id)
            .bind(partner)
            .bind(if ok { "delivered" } else { "failed" })
            .bind(local_date(tz, s.received_at))
            .bind(if s.i % 2 == 0 { "premium" } else { "raw" })
            .bind(s.received_at)
            .bind(done)
            .bind(price);
        attempts
            .bind(delivery)
            .bind(s.received_at + 150)
            .bind(if ok { 200 } else { 500 })
            .bind(s.latency_ms)
            .bind(if ok { "delivered" } else { "failed" });
        if s.converted {
            converted += 1;
            conversions
                .bind(id)
                .bind(partner)
                .bind(10_000 + (s.i as i64 % 40_000))
                .bind(format!("seed-{}", s.i))
                .bind(done + 3_600_000);
        }
    }
    with_sql(
        backend,
        seeds.len(),
        converted,
        [leads, deliveries, attempts, conversions],
    )
}

/// Gives the bound statements their multi-row SQL (`n` leads, `converted` of them with a
/// conversion).
fn with_sql(
    backend: Backend,
    n: usize,
    converted: usize,
    [mut leads, mut deliveries, mut attempts, mut conversions]: [Statement; 4],
) -> Vec<Statement> {
    let tuples = |rows: usize, cols: usize| Marks::new(backend).tuples(rows, cols);
    leads.sql = format!(
        "INSERT INTO leads (id, source_id, status, first_name, last_name, email, phone, country, \
         niche, lead_type, partner_id, received_at, updated_at) VALUES {}",
        tuples(n, 13)
    );
    deliveries.sql = format!(
        "INSERT INTO deliveries (id, lead_id, partner_id, status, counted_day, lead_type, \
         attempt_count, next_attempt_at, created_at, updated_at, completed_at, price_cents) \
         SELECT column1, column2, column3, column4, column5, column6, 1, column7, column7, \
         column8, column8, column9 FROM (VALUES {}) AS v",
        tuples(n, 9)
    );
    attempts.sql = format!(
        "INSERT INTO delivery_attempts (delivery_id, attempt_no, at, status_code, latency_ms, \
         outcome) SELECT column1, 1, column2, column3, column4, column5 FROM (VALUES {}) AS v",
        tuples(n, 5)
    );
    let mut out = vec![leads, deliveries, attempts];
    if converted > 0 {
        conversions.sql = format!(
            "INSERT INTO conversions (lead_id, partner_id, conversion_type, value_cents, \
             external_transaction_id, created_at) \
             SELECT column1, column2, 'deposit', column3, column4, column5 FROM (VALUES {}) AS v",
            tuples(converted, 5)
        );
        out.push(conversions);
    }
    out
}
