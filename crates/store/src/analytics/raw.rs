//! The figures read from the leads, deliveries, conversions and attempts themselves: one
//! grouped query per family of figures, never one per partner or per day. Used for the
//! recent stretch not rolled up yet, and by the roll-up itself (grouped by half hour too).

use super::{Figures, BUCKET_MS};
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use sqlx::Row;

/// What a query's rows are keyed by.
#[derive(Debug, Clone)]
pub(super) enum Key {
    /// The operator's days as `(label, start, end)`.
    OperatorDay(Vec<(String, EpochMillis, EpochMillis)>),
    /// The delivery's counted day (the partner-local date), within `from..=to` if given.
    CountedDay(Option<(String, String)>),
    Partner,
    Country,
    Niche,
    Source,
    /// One group of everything (key `''`).
    Total,
}

/// One group's figures in one half hour (`bucket`, or 0 when not grouped by half hour).
pub(super) type Part = (EpochMillis, String, Figures);

/// How each family's rows are joined, keyed and (for the roll-up) cut into half hours.
pub(super) struct Shape {
    key: Key,
    /// The operator's days as `WHEN` branches over a time column `{at}`.
    days: String,
    by_bucket: bool,
}

impl Shape {
    pub(super) fn new(key: Key, by_bucket: bool) -> Shape {
        let days = match &key {
            Key::OperatorDay(d) => d
                .iter()
                .filter(|(label, _, _)| is_date(label))
                .map(|(label, s, e)| format!("WHEN {{at}} >= {s} AND {{at}} < {e} THEN '{label}'"))
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::new(),
        };
        Shape {
            key,
            days,
            by_bucket,
        }
    }

    /// Whether the key is a lead's (its country, niche or source): only then is the lead
    /// joined in.
    fn needs_lead(&self) -> bool {
        matches!(self.key, Key::Country | Key::Niche | Key::Source)
    }

    /// Whether the key is a delivery's (its partner or counted day).
    fn needs_delivery(&self) -> bool {
        matches!(self.key, Key::Partner | Key::CountedDay(_))
    }

    /// (FROM-and-JOIN clause, key expression, half-hour expression) for a family whose rows
    /// are `base`, with its time column `at` and `via_delivery` the join that reaches its
    /// delivery `d`.
    fn of(&self, base: &str, at: &str, via_delivery: &str) -> (String, String, String) {
        let (from, key) = match &self.key {
            // Each row read once, its day picked by a CASE over the period's days (a join
            // with a table of days would read the rows once per day).
            Key::OperatorDay(_) if self.days.is_empty() => (base.into(), "''".into()),
            Key::OperatorDay(_) => (
                base.into(),
                format!("CASE {} END", self.days.replace("{at}", at)),
            ),
            Key::CountedDay(_) => (format!("{base} {via_delivery}"), "d.counted_day".into()),
            Key::Partner => (
                format!("{base} {via_delivery}"),
                "CAST(d.partner_id AS TEXT)".into(),
            ),
            Key::Country => (base.into(), "l.country".into()),
            Key::Niche => (base.into(), "l.niche".into()),
            Key::Source => (base.into(), "CAST(l.source_id AS TEXT)".into()),
            Key::Total => (base.into(), "''".into()),
        };
        let bucket = if self.by_bucket {
            format!("({at} - {at} % {BUCKET_MS})")
        } else {
            "CAST(0 AS BIGINT)".into()
        };
        (from, key, bucket)
    }

    /// `GROUP BY` over the key, the half hour (for the roll-up) and `extra`; a constant key
    /// (one group of everything) is left out, as PostgreSQL refuses to group by a constant.
    fn group_by(&self, key: &str, bucket: &str, extra: &[&str]) -> String {
        let mut columns: Vec<&str> = Vec::new();
        if key != "''" {
            columns.push(key);
        }
        if self.by_bucket {
            columns.push(bucket);
        }
        columns.extend_from_slice(extra);
        if columns.is_empty() {
            String::new()
        } else {
            format!("GROUP BY {}", columns.join(", "))
        }
    }

    /// The period's condition on a family's time column, and on the counted day when the
    /// key is a range of them. Only numbers and our own `YYYY-MM-DD` dates are written into
    /// the text.
    fn period(&self, at: &str, from: EpochMillis, to: EpochMillis) -> String {
        let time = format!("AND {at} >= {from} AND {at} < {to}");
        match &self.key {
            Key::CountedDay(Some((f, t))) if is_date(f) && is_date(t) => {
                format!("{time} AND d.counted_day >= '{f}' AND d.counted_day <= '{t}'")
            }
            Key::CountedDay(Some(_)) => "AND 1 = 0".into(),
            _ => time,
        }
    }
}

/// One family of figures: its rows (`base`, and `base_with_lead` when the key is a lead's),
/// their time column, the join that reaches their delivery `d` (when the key is a
/// delivery's), what is counted, and how a result row becomes figures.
struct Family {
    base: &'static str,
    base_with_lead: &'static str,
    /// When the key is a delivery's but the rows have none of their own.
    base_with_delivery: Option<&'static str>,
    at: &'static str,
    via_delivery: &'static str,
    select: &'static str,
    /// A condition of its own.
    only: &'static str,
    /// Grouped by this too (one result row per distinct value).
    per: Option<&'static str>,
    read: fn(&sqlx::any::AnyRow) -> Result<Figures, StoreError>,
}

const LEADS: Family = Family {
    base: "leads l",
    base_with_lead: "leads l",
    base_with_delivery: None,
    at: "l.received_at",
    via_delivery: "JOIN deliveries d ON d.lead_id = l.id \
        AND d.id = (SELECT MAX(id) FROM deliveries WHERE lead_id = l.id)",
    select: "COUNT(*) AS received, \
        SUM(CASE WHEN l.status = 'failed' THEN 1 ELSE 0 END) AS failed, \
        SUM(CASE WHEN l.status = 'returned' THEN 1 ELSE 0 END) AS returned",
    only: "",
    per: None,
    read: |r| {
        Ok(Figures {
            received: r.try_get("received")?,
            failed: sum(r, "failed")?,
            returned: sum(r, "returned")?,
            ..Figures::default()
        })
    },
};

/// Deliveries ended in the period, what the delivered ones are paid and what they cost
/// (their lead's cost, unless the lead was returned).
const DELIVERIES: Family = Family {
    base: "deliveries d JOIN leads l ON l.id = d.lead_id",
    base_with_lead: "deliveries d JOIN leads l ON l.id = d.lead_id",
    base_with_delivery: None,
    at: "d.completed_at",
    via_delivery: "",
    select: "SUM(CASE WHEN d.status = 'delivered' THEN 1 ELSE 0 END) AS delivered, \
        SUM(CASE WHEN d.status = 'rejected' THEN 1 ELSE 0 END) AS rejected, \
        SUM(CASE WHEN d.status = 'duplicate' THEN 1 ELSE 0 END) AS duplicates, \
        CAST(SUM(CASE WHEN d.status = 'delivered' THEN d.price_cents ELSE 0 END) AS BIGINT) AS price, \
        CAST(SUM(CASE WHEN d.status = 'delivered' AND l.status <> 'returned' THEN l.cost_cents \
        ELSE 0 END) AS BIGINT) AS cost",
    only: "AND d.completed_at IS NOT NULL",
    per: None,
    read: |r| {
        Ok(Figures {
            delivered: sum(r, "delivered")?,
            rejected: sum(r, "rejected")?,
            duplicates: sum(r, "duplicates")?,
            lead_revenue_cents: sum(r, "price")?,
            cost_cents: sum(r, "cost")?,
            ..Figures::default()
        })
    },
};

/// Conversions reported in the period.
const CONVERSIONS: Family = Family {
    base: "conversions c",
    base_with_lead: "conversions c JOIN leads l ON l.id = c.lead_id",
    base_with_delivery: None,
    at: "c.created_at",
    via_delivery: "JOIN deliveries d ON d.lead_id = c.lead_id AND d.partner_id = c.partner_id",
    select: "COUNT(DISTINCT c.lead_id) AS n, CAST(SUM(c.value_cents) AS BIGINT) AS cents",
    only: "",
    per: None,
    read: |r| {
        Ok(Figures {
            conversions: r.try_get("n")?,
            revenue_cents: sum(r, "cents")?,
            ..Figures::default()
        })
    },
};

/// Attempt latencies in the period, counted per distinct millisecond value (a few thousand
/// rows however many attempts).
const LATENCIES: Family = Family {
    base: "delivery_attempts a",
    base_with_lead: "delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id \
        JOIN leads l ON l.id = d.lead_id",
    base_with_delivery: Some("delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id"),
    at: "a.at",
    via_delivery: "",
    select: "a.latency_ms AS ms, COUNT(*) AS n",
    only: "",
    per: Some("a.latency_ms"),
    read: |r| {
        Ok(Figures {
            latencies_ms: vec![(r.try_get("ms")?, r.try_get("n")?)],
            ..Figures::default()
        })
    },
};

impl Store {
    /// Every family's figures for `[from, to)` shaped by `shape`.
    pub(super) async fn raw_figures(
        &self,
        shape: &Shape,
        from: EpochMillis,
        to: EpochMillis,
    ) -> Result<Vec<Part>, StoreError> {
        let mut parts = Vec::new();
        for family in [&LEADS, &DELIVERIES, &CONVERSIONS, &LATENCIES] {
            parts.extend(self.family_figures(family, shape, from, to).await?);
        }
        Ok(parts)
    }

    /// One family's grouped query.
    async fn family_figures(
        &self,
        family: &Family,
        shape: &Shape,
        from: EpochMillis,
        to: EpochMillis,
    ) -> Result<Vec<Part>, StoreError> {
        let base = match (
            shape.needs_lead(),
            shape.needs_delivery(),
            family.base_with_delivery,
        ) {
            (true, _, _) => family.base_with_lead,
            (false, true, Some(with_delivery)) => with_delivery,
            _ => family.base,
        };
        let (rows_from, key, b) = shape.of(base, family.at, family.via_delivery);
        let time = shape.period(family.at, from, to);
        let group = shape.group_by(&key, &b, family.per.as_slice());
        let rows = sqlx::query(&format!(
            "SELECT {key} AS k, {b} AS b, {} FROM {rows_from} WHERE 1 = 1 {} {time} {group}",
            family.select, family.only
        ))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| part(r, (family.read)(r)?)).collect()
    }
}

pub(crate) fn is_date(s: &str) -> bool {
    s.len() == 10
        && s.chars().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        })
}

fn sum(r: &sqlx::any::AnyRow, column: &str) -> Result<i64, StoreError> {
    Ok(r.try_get::<Option<i64>, _>(column)?.unwrap_or(0))
}

fn part(r: &sqlx::any::AnyRow, f: Figures) -> Result<Part, StoreError> {
    let key = r.try_get::<Option<String>, _>("k")?.unwrap_or_default();
    Ok((r.try_get("b")?, key, f))
}
