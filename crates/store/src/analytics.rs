//! The business in figures, grouped by day, partner, country, niche or source: one grouped
//! query per family of figures (leads, deliveries, conversions, attempt latencies), never
//! one per partner or per day. A day is the operator's (ranges of its timezone, computed by
//! the caller, picked by a `CASE`) or the partner's own (the day a delivery was counted on,
//! which is the partner-local date).

use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use sqlx::Row;
use std::collections::BTreeMap;

/// What the figures are grouped by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grouping {
    /// The operator's days: `(label, start, end)` each, in order.
    OperatorDay(Vec<(String, EpochMillis, EpochMillis)>),
    /// The partner's own local days `from..=to` (`YYYY-MM-DD`): deliveries' counted day.
    PartnerDay {
        from: String,
        to: String,
    },
    Partner,
    Country,
    Niche,
    Source,
}

/// One group's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub received: i64,
    pub delivered: i64,
    pub rejected: i64,
    pub failed: i64,
    pub returned: i64,
    /// Leads with a conversion reported in the period.
    pub conversions: i64,
    /// Every conversion's value.
    pub revenue_cents: i64,
    /// Attempts' latencies as (milliseconds, how many), for exact percentiles.
    pub latencies_ms: Vec<(i64, i64)>,
}

impl Store {
    /// Figures for `[from, to)` by `grouping`, keyed by the group's label.
    pub async fn analytics(
        &self,
        grouping: &Grouping,
        from: EpochMillis,
        to: EpochMillis,
    ) -> Result<BTreeMap<String, Figures>, StoreError> {
        let mut out: BTreeMap<String, Figures> = BTreeMap::new();
        if matches!(grouping, Grouping::OperatorDay(d) if d.is_empty()) {
            return Ok(out);
        }
        let shape = Shape::new(grouping);
        self.lead_figures(&shape, from, to, &mut out).await?;
        self.delivery_figures(&shape, from, to, &mut out).await?;
        self.conversion_figures(&shape, from, to, &mut out).await?;
        self.latency_figures(&shape, from, to, &mut out).await?;
        Ok(out)
    }

    /// Leads received in the period, and of those the failed and the returned.
    async fn lead_figures(
        &self,
        shape: &Shape<'_>,
        from: EpochMillis,
        to: EpochMillis,
        out: &mut BTreeMap<String, Figures>,
    ) -> Result<(), StoreError> {
        let (from_leads, key) = shape.of(
            "leads l",
            "l.received_at",
            "JOIN deliveries d ON d.lead_id = l.id AND d.id = (SELECT MAX(id) FROM deliveries WHERE lead_id = l.id)",
        );
        let time = period(shape.grouping, "l.received_at", from, to);
        let rows = sqlx::query(&format!(
            "SELECT {key} AS k, COUNT(*) AS received, \
             SUM(CASE WHEN l.status = 'failed' THEN 1 ELSE 0 END) AS failed, \
             SUM(CASE WHEN l.status = 'returned' THEN 1 ELSE 0 END) AS returned \
             FROM {from_leads} WHERE 1 = 1 {time} GROUP BY {key}"
        ))
        .fetch_all(self.reader())
        .await?;
        for r in &rows {
            let f = out.entry(label(r)?).or_default();
            f.received += r.try_get::<i64, _>("received")?;
            f.failed += r.try_get::<Option<i64>, _>("failed")?.unwrap_or(0);
            f.returned += r.try_get::<Option<i64>, _>("returned")?.unwrap_or(0);
        }
        Ok(())
    }

    /// Deliveries ended in the period.
    async fn delivery_figures(
        &self,
        shape: &Shape<'_>,
        from: EpochMillis,
        to: EpochMillis,
        out: &mut BTreeMap<String, Figures>,
    ) -> Result<(), StoreError> {
        let base = if shape.needs_lead() {
            "deliveries d JOIN leads l ON l.id = d.lead_id"
        } else {
            "deliveries d"
        };
        let (from_d, key) = shape.of(base, "d.completed_at", "");
        let time = period(shape.grouping, "d.completed_at", from, to);
        let rows = sqlx::query(&format!(
            "SELECT {key} AS k, \
             SUM(CASE WHEN d.status = 'delivered' THEN 1 ELSE 0 END) AS delivered, \
             SUM(CASE WHEN d.status = 'rejected' THEN 1 ELSE 0 END) AS rejected \
             FROM {from_d} WHERE d.completed_at IS NOT NULL {time} GROUP BY {key}"
        ))
        .fetch_all(self.reader())
        .await?;
        for r in &rows {
            let f = out.entry(label(r)?).or_default();
            f.delivered += r.try_get::<Option<i64>, _>("delivered")?.unwrap_or(0);
            f.rejected += r.try_get::<Option<i64>, _>("rejected")?.unwrap_or(0);
        }
        Ok(())
    }

    /// Conversions reported in the period.
    async fn conversion_figures(
        &self,
        shape: &Shape<'_>,
        from: EpochMillis,
        to: EpochMillis,
        out: &mut BTreeMap<String, Figures>,
    ) -> Result<(), StoreError> {
        let base = if shape.needs_lead() {
            "conversions c JOIN leads l ON l.id = c.lead_id"
        } else {
            "conversions c"
        };
        let (from_c, key) = shape.of(
            base,
            "c.created_at",
            "JOIN deliveries d ON d.lead_id = c.lead_id AND d.partner_id = c.partner_id",
        );
        let time = period(shape.grouping, "c.created_at", from, to);
        let rows = sqlx::query(&format!(
            "SELECT {key} AS k, COUNT(DISTINCT c.lead_id) AS n, CAST(SUM(c.value_cents) AS BIGINT) AS cents \
             FROM {from_c} WHERE 1 = 1 {time} GROUP BY {key}"
        ))
        .fetch_all(self.reader())
        .await?;
        for r in &rows {
            let f = out.entry(label(r)?).or_default();
            f.conversions += r.try_get::<i64, _>("n")?;
            f.revenue_cents += r.try_get::<Option<i64>, _>("cents")?.unwrap_or(0);
        }
        Ok(())
    }

    /// Attempt latencies in the period, counted per distinct millisecond value (a few
    /// thousand rows however many attempts).
    async fn latency_figures(
        &self,
        shape: &Shape<'_>,
        from: EpochMillis,
        to: EpochMillis,
        out: &mut BTreeMap<String, Figures>,
    ) -> Result<(), StoreError> {
        let base = match (shape.needs_lead(), shape.needs_delivery()) {
            (true, _) => {
                "delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id \
                          JOIN leads l ON l.id = d.lead_id"
            }
            (false, true) => "delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id",
            (false, false) => "delivery_attempts a",
        };
        let (from_a, key) = shape.of(base, "a.at", "");
        let time = period(shape.grouping, "a.at", from, to);
        let rows = sqlx::query(&format!(
            "SELECT {key} AS k, a.latency_ms AS ms, COUNT(*) AS n FROM {from_a} WHERE 1 = 1 {time} \
             GROUP BY {key}, a.latency_ms"
        ))
        .fetch_all(self.reader())
        .await?;
        for r in &rows {
            out.entry(label(r)?)
                .or_default()
                .latencies_ms
                .push((r.try_get("ms")?, r.try_get("n")?));
        }
        Ok(())
    }
}

/// How each family's rows are joined and keyed for a grouping.
struct Shape<'a> {
    grouping: &'a Grouping,
    /// The operator's days as `WHEN` branches over a time column `{at}` (for `OperatorDay`).
    days: String,
}

impl<'a> Shape<'a> {
    fn new(grouping: &'a Grouping) -> Shape<'a> {
        let days = match grouping {
            Grouping::OperatorDay(d) => d
                .iter()
                .filter(|(label, _, _)| is_date(label))
                .map(|(label, s, e)| format!("WHEN {{at}} >= {s} AND {{at}} < {e} THEN '{label}'"))
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::new(),
        };
        Shape { grouping, days }
    }

    /// Whether the key is a lead's (its country, niche or source): only then is the lead
    /// joined in.
    fn needs_lead(&self) -> bool {
        matches!(
            self.grouping,
            Grouping::Country | Grouping::Niche | Grouping::Source
        )
    }

    /// Whether the key is a delivery's (its partner or counted day).
    fn needs_delivery(&self) -> bool {
        matches!(
            self.grouping,
            Grouping::Partner | Grouping::PartnerDay { .. }
        )
    }

    /// (FROM-and-JOIN clause, key expression) for a family whose rows are `base`, with its
    /// time column `at` and `via_delivery` the join that reaches its delivery `d`.
    fn of(&self, base: &str, at: &str, via_delivery: &str) -> (String, String) {
        let days = &self.days;
        match self.grouping {
            // Each row read once, its day picked by a CASE over the period's days (a join
            // with a table of days would read the rows once per day).
            Grouping::OperatorDay(_) => (
                base.into(),
                format!("CASE {} END", days.replace("{at}", at)),
            ),
            Grouping::PartnerDay { .. } => {
                (format!("{base} {via_delivery}"), "d.counted_day".into())
            }
            Grouping::Partner => (
                format!("{base} {via_delivery}"),
                "CAST(d.partner_id AS TEXT)".into(),
            ),
            Grouping::Country => (base.into(), "l.country".into()),
            Grouping::Niche => (base.into(), "l.niche".into()),
            Grouping::Source => (base.into(), "CAST(l.source_id AS TEXT)".into()),
        }
    }
}

/// The period's condition on a family's time column (or, by partner day, on the counted
/// day). Only numbers and our own `YYYY-MM-DD` dates are written into the text.
fn period(grouping: &Grouping, at: &str, from: EpochMillis, to: EpochMillis) -> String {
    match grouping {
        Grouping::PartnerDay { from, to } if is_date(from) && is_date(to) => {
            format!("AND d.counted_day >= '{from}' AND d.counted_day <= '{to}'")
        }
        Grouping::PartnerDay { .. } => "AND 1 = 0".into(),
        _ => format!("AND {at} >= {from} AND {at} < {to}"),
    }
}

fn is_date(s: &str) -> bool {
    s.len() == 10
        && s.chars().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        })
}

fn label(r: &sqlx::any::AnyRow) -> Result<String, StoreError> {
    Ok(r.try_get::<Option<String>, _>("k")?.unwrap_or_default())
}
