//! The roll-up: each closed half hour's figures by kind of grouping, written once by a timed
//! job and written again when a change to one of its leads marks it stale.
//!
//! Which writes mark a half hour stale: a change of an older lead's state (it may now count
//! as failed or returned, or under another partner) and a new delivery of an older lead. The
//! other figures are counted at the time of their own event (a delivery's end, an attempt,
//! a conversion), which is always in a half hour not rolled yet.

use super::raw::{Key, Part, Shape};
use super::{closed_before, Figures, BUCKET_MS};
use crate::backend::many::{self, Marks, Statement};
use crate::{Priority, Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use sqlx::Row;
use std::collections::BTreeMap;

/// A UTC day: the span of the day rows (see [`Kind::by_day`]).
const DAY_MS: EpochMillis = 24 * 60 * 60 * 1000;
/// How much is rolled in one transaction: a day of half hours.
const SPAN_MS: EpochMillis = DAY_MS;
/// Stale half hours rolled again per pass.
const STALE_PER_PASS: i64 = 100;
/// Rows per insert statement.
const CHUNK: usize = 200;

/// The roll-up's kinds of grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    Day,
    PartnerDay,
    Partner,
    Country,
    Niche,
    Source,
}

const KINDS: [Kind; 6] = [
    Kind::Day,
    Kind::PartnerDay,
    Kind::Partner,
    Kind::Country,
    Kind::Niche,
    Kind::Source,
];

impl Kind {
    /// The kind of this kind's day rows: one row per UTC day and group, the sum of its
    /// half hours, so that a year by partner (or country, niche, source) reads 365 rows
    /// a group and a day's latencies merged, not 17,520 rows a group. The kinds grouped
    /// by day have none (an operator's or partner's day is not a UTC day).
    fn by_day(self) -> Option<&'static str> {
        match self {
            Kind::Partner => Some("partner:day"),
            Kind::Country => Some("country:day"),
            Kind::Niche => Some("niche:day"),
            Kind::Source => Some("source:day"),
            Kind::Day | Kind::PartnerDay => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::Day => "day",
            Kind::PartnerDay => "partner_day",
            Kind::Partner => "partner",
            Kind::Country => "country",
            Kind::Niche => "niche",
            Kind::Source => "source",
        }
    }

    fn key(self) -> Key {
        match self {
            Kind::Day => Key::Total,
            Kind::PartnerDay => Key::CountedDay(None),
            Kind::Partner => Key::Partner,
            Kind::Country => Key::Country,
            Kind::Niche => Key::Niche,
            Kind::Source => Key::Source,
        }
    }
}

/// What one pass of the roll-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rolled {
    /// Half hours rolled for the first time.
    pub new: i64,
    /// Stale half hours rolled again.
    pub again: i64,
}

impl Store {
    /// Where the roll-up ends: figures before it are rolled up.
    pub async fn rolled_until(&self) -> Result<EpochMillis, StoreError> {
        let row = sqlx::query("SELECT rolled_until FROM figures_state WHERE id = 1")
            .fetch_one(self.reader())
            .await?;
        Ok(row.try_get("rolled_until")?)
    }

    /// The stale half hours in `[from, to)`, in order.
    pub(super) async fn stale_buckets(
        &self,
        from: EpochMillis,
        to: EpochMillis,
    ) -> Result<Vec<EpochMillis>, StoreError> {
        let rows = sqlx::query(
            "SELECT bucket FROM figures_stale WHERE bucket >= $1 AND bucket < $2 ORDER BY bucket",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| Ok(r.try_get("bucket")?)).collect()
    }

    /// Rolls up the half hours closed by `now`, a day per transaction, then rolls again
    /// the half hours marked stale.
    pub async fn roll_figures(&self, now: EpochMillis) -> Result<Rolled, StoreError> {
        let closed = closed_before(now);
        let mut at = self.rolled_until().await?;
        let first_roll = at == 0;
        if first_roll {
            // The first roll starts at the first lead.
            let first = sqlx::query("SELECT MIN(received_at) AS t FROM leads")
                .fetch_one(self.reader())
                .await?
                .try_get::<Option<i64>, _>("t")?;
            at = first.map_or(closed, |t| (t - t.rem_euclid(BUCKET_MS)).min(closed));
        }
        let mut done = Rolled::default();
        loop {
            let end = (at + SPAN_MS).min(closed);
            if end <= at {
                break;
            }
            self.roll_span(at, end, None).await?;
            done.new += (end - at) / BUCKET_MS;
            at = end;
        }
        let stale = sqlx::query(&format!(
            "SELECT bucket, version FROM figures_stale ORDER BY bucket LIMIT {STALE_PER_PASS}"
        ))
        .fetch_all(self.reader())
        .await?;
        for r in stale {
            let bucket: i64 = r.try_get("bucket")?;
            self.roll_span(
                bucket,
                bucket + BUCKET_MS,
                Some((bucket, r.try_get("version")?)),
            )
            .await?;
            done.again += 1;
        }
        if first_roll && done.new == 0 {
            self.set_rolled_until(at).await?;
        }
        Ok(done)
    }

    /// Marks where the roll-up ends when nothing needed rolling (an empty database).
    async fn set_rolled_until(&self, at: EpochMillis) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        sqlx::query(
            "UPDATE figures_state SET rolled_until = $1 WHERE id = 1 AND rolled_until < $1",
        )
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rolls `[from, to)`: reads every kind's figures by half hour, then replaces the
    /// span's rows in one transaction (which also moves the roll-up's end, or, for a stale
    /// half hour, clears its mark unless it was marked again meanwhile).
    async fn roll_span(
        &self,
        from: EpochMillis,
        to: EpochMillis,
        stale: Option<(EpochMillis, i64)>,
    ) -> Result<(), StoreError> {
        let mut rows: BTreeMap<(Kind, EpochMillis, String), Figures> = BTreeMap::new();
        for kind in KINDS {
            let shape = Shape::new(kind.key(), true);
            for (bucket, key, f) in self.raw_figures(&shape, from, to).await? {
                rows.entry((kind, bucket, key)).or_default().add(&f);
            }
        }
        let backend = self.backend();
        let mut statements = vec![Statement::new(format!(
            "DELETE FROM figures WHERE kind IN ({}) AND bucket >= {from} AND bucket < {to}",
            KINDS.map(|k| format!("'{}'", k.as_str())).join(", ")
        ))];
        // The day rows of the UTC days the span touches, summed again from their half
        // hours: those rolled now and those already rolled (a stale one among them keeps
        // its day read by half hours until it is rolled again).
        let mut day_rows: Vec<(&'static str, EpochMillis, String, Figures)> = Vec::new();
        let mut day = from - from.rem_euclid(DAY_MS);
        while day < to {
            for kind in KINDS {
                let Some(day_kind) = kind.by_day() else {
                    continue;
                };
                let mut sums: BTreeMap<String, Figures> = BTreeMap::new();
                for ((_, _, key), f) in
                    rows.range((kind, day, String::new())..(kind, day + DAY_MS, String::new()))
                {
                    sums.entry(key.clone()).or_default().add(f);
                }
                for span in [(day, from.max(day)), (to.min(day + DAY_MS), day + DAY_MS)] {
                    if span.0 < span.1 {
                        for (_, key, f) in self
                            .rolled_figures(kind.as_str(), "key", span, None, &[])
                            .await?
                        {
                            sums.entry(key).or_default().add(&f);
                        }
                    }
                }
                statements.push(Statement::new(format!(
                    "DELETE FROM figures WHERE kind = '{day_kind}' AND bucket = {day}"
                )));
                day_rows.extend(sums.into_iter().map(|(key, f)| (day_kind, day, key, f)));
            }
            day += DAY_MS;
        }
        let rows: Vec<_> = rows
            .into_iter()
            .map(|((kind, bucket, key), f)| (kind.as_str(), bucket, key, f))
            .chain(day_rows)
            .collect();
        for chunk in rows.chunks(CHUNK) {
            let mut m = Marks::new(backend);
            let mut st = Statement::default();
            for (kind, bucket, key, f) in chunk {
                let mut f = f.clone();
                f.compact();
                st.bind(*kind)
                    .bind(*bucket)
                    .bind(key.as_str())
                    .bind(f.received)
                    .bind(f.delivered)
                    .bind(f.rejected)
                    .bind(f.duplicates)
                    .bind(f.failed)
                    .bind(f.returned)
                    .bind(f.conversions)
                    .bind(f.revenue_cents)
                    .bind(f.lead_revenue_cents)
                    .bind(f.cost_cents)
                    .bind(encode(&f.latencies_ms));
            }
            st.sql = format!(
                "INSERT INTO figures (kind, bucket, key, received, delivered, rejected, duplicates, \
                 failed, returned, conversions, revenue_cents, lead_revenue_cents, cost_cents, \
                 latencies) VALUES {}",
                m.tuples(chunk.len(), 14)
            );
            statements.push(st);
        }
        statements.push(Statement::new(match stale {
            Some((bucket, version)) => {
                format!("DELETE FROM figures_stale WHERE bucket = {bucket} AND version = {version}")
            }
            None => format!(
                "UPDATE figures_state SET rolled_until = {to} WHERE id = 1 AND rolled_until < {to}"
            ),
        }));
        let mut tx = self.begin(Priority::Background).await?;
        many::run(&mut tx, backend, &statements).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The rolled-up figures of `kind` in `[from, to)` but for the stale half hours
    /// `stale`: the whole UTC days inside the span from their day rows (but for days with a
    /// stale half hour), the rest from half hours.
    pub(super) async fn rolled_parts(
        &self,
        kind: Kind,
        key: &str,
        (from, to): (EpochMillis, EpochMillis),
        days: Option<(&str, &str)>,
        stale: &[EpochMillis],
    ) -> Result<Vec<Part>, StoreError> {
        let first = from + (DAY_MS - from.rem_euclid(DAY_MS)) % DAY_MS;
        let last = to - to.rem_euclid(DAY_MS);
        let Some(day_kind) = kind.by_day().filter(|_| first < last) else {
            return self
                .rolled_figures(kind.as_str(), key, (from, to), days, stale)
                .await;
        };
        let mut stale_days: Vec<EpochMillis> = stale
            .iter()
            .map(|b| b - b.rem_euclid(DAY_MS))
            .filter(|d| (first..last).contains(d))
            .collect();
        stale_days.dedup();
        let mut parts = self
            .rolled_figures(day_kind, key, (first, last), days, &stale_days)
            .await?;
        let mut spans = vec![(from, first), (last, to)];
        spans.extend(stale_days.iter().map(|d| (*d, d + DAY_MS)));
        for span in spans.into_iter().filter(|(a, b)| a < b) {
            parts.extend(
                self.rolled_figures(kind.as_str(), key, span, days, stale)
                    .await?,
            );
        }
        Ok(parts)
    }

    /// The rolled-up figures of `kind` in `[from, to)` but for the half hours `except`,
    /// summed per group (`key`: the SQL giving a row's group from its `bucket` and `key`);
    /// by partner day only those counted on `days`.
    pub(super) async fn rolled_figures(
        &self,
        kind: &str,
        key: &str,
        span: (EpochMillis, EpochMillis),
        days: Option<(&str, &str)>,
        except: &[EpochMillis],
    ) -> Result<Vec<Part>, StoreError> {
        let (from, to) = span;
        let except = if except.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = except.iter().map(i64::to_string).collect();
            format!("AND bucket NOT IN ({})", list.join(", "))
        };
        let latencies = crate::dialect::joined_text(
            self.backend(),
            "CASE WHEN latencies = '' THEN NULL ELSE latencies END",
        );
        // (PostgreSQL refuses to group by a constant.)
        let group = if key == "''" {
            String::new()
        } else {
            format!("GROUP BY {key}")
        };
        let sql = format!(
            "SELECT {key} AS k, CAST(SUM(received) AS BIGINT) AS received, \
             CAST(SUM(delivered) AS BIGINT) AS delivered, CAST(SUM(rejected) AS BIGINT) AS rejected, \
             CAST(SUM(duplicates) AS BIGINT) AS duplicates, \
             CAST(SUM(failed) AS BIGINT) AS failed, CAST(SUM(returned) AS BIGINT) AS returned, \
             CAST(SUM(conversions) AS BIGINT) AS conversions, \
             CAST(SUM(revenue_cents) AS BIGINT) AS revenue_cents, \
             CAST(SUM(lead_revenue_cents) AS BIGINT) AS lead_revenue_cents, \
             CAST(SUM(cost_cents) AS BIGINT) AS cost_cents, \
             {latencies} AS latencies FROM figures \
             WHERE kind = $1 AND bucket >= $2 AND bucket < $3 AND key >= $4 AND key <= $5 {except} \
             {group}"
        );
        let mut q = sqlx::query(&sql).bind(kind).bind(from).bind(to);
        q = match days {
            Some((first, last)) => q.bind(first).bind(last),
            None => q.bind("").bind("\u{10FFFF}"),
        };
        let rows = q.fetch_all(self.reader()).await?;
        rows.iter()
            .map(|r| {
                let f = Figures {
                    received: r.try_get("received")?,
                    delivered: r.try_get("delivered")?,
                    rejected: r.try_get("rejected")?,
                    duplicates: r.try_get("duplicates")?,
                    failed: r.try_get("failed")?,
                    returned: r.try_get("returned")?,
                    conversions: r.try_get("conversions")?,
                    revenue_cents: r.try_get("revenue_cents")?,
                    lead_revenue_cents: r.try_get("lead_revenue_cents")?,
                    cost_cents: r.try_get("cost_cents")?,
                    latencies_ms: decode(
                        &r.try_get::<Option<String>, _>("latencies")?
                            .unwrap_or_default(),
                    )?,
                };
                let key = r.try_get::<Option<String>, _>("k")?.unwrap_or_default();
                Ok((0, key, f))
            })
            .collect()
    }
}

/// Marks stale the half hours of the leads `ids` received before the half hours closed at
/// `now` (one statement; for fresh leads it writes nothing).
pub(crate) fn mark_stale(backend: crate::Backend, ids: &[i64], now: EpochMillis) -> Statement {
    let mut m = Marks::new(backend);
    let mut st = Statement::default();
    for id in ids {
        st.bind(*id);
    }
    let closed = closed_before(now);
    st.sql = format!(
        "INSERT INTO figures_stale (bucket, version) \
         SELECT DISTINCT received_at - received_at % {BUCKET_MS}, 1 FROM leads \
         WHERE id IN ({}) AND received_at < {closed} \
         ON CONFLICT (bucket) DO UPDATE SET version = figures_stale.version + 1",
        m.list(ids.len())
    );
    st
}

/// [`mark_stale`] for one lead, on the caller's transaction.
pub(crate) async fn mark_lead_stale(
    conn: &mut sqlx::AnyConnection,
    lead_id: i64,
    now: EpochMillis,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO figures_stale (bucket, version) \
         SELECT received_at - received_at % {BUCKET_MS}, 1 FROM leads \
         WHERE id = $1 AND received_at < $2 \
         ON CONFLICT (bucket) DO UPDATE SET version = figures_stale.version + 1"
    ))
    .bind(lead_id)
    .bind(closed_before(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks the half hour a delivery ended in for a new roll-up (a return approved later takes
/// its lead's cost off the figures of that half hour).
pub(crate) async fn mark_delivery_stale(
    conn: &mut sqlx::AnyConnection,
    delivery_id: i64,
    now: EpochMillis,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO figures_stale (bucket, version) \
         SELECT completed_at - completed_at % {BUCKET_MS}, 1 FROM deliveries \
         WHERE id = $1 AND completed_at IS NOT NULL AND completed_at < $2 \
         ON CONFLICT (bucket) DO UPDATE SET version = figures_stale.version + 1"
    ))
    .bind(delivery_id)
    .bind(closed_before(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Latencies as `ms:count` pairs separated by spaces.
fn encode(latencies: &[(i64, i64)]) -> String {
    latencies
        .iter()
        .map(|(ms, n)| format!("{ms}:{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn decode(s: &str) -> Result<Vec<(i64, i64)>, StoreError> {
    s.split_whitespace()
        .map(|pair| {
            pair.split_once(':')
                .and_then(|(ms, n)| Some((ms.parse().ok()?, n.parse().ok()?)))
                .ok_or_else(|| StoreError::Corrupt(format!("a rolled-up latency {pair:?}")))
        })
        .collect()
}
