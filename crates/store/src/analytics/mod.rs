//! The business in figures, grouped by day, partner, country, niche or source. A day is the
//! operator's (ranges of its timezone, computed by the caller) or the partner's own (the day
//! a delivery was counted on, which is the partner-local date).
//!
//! Figures of half hours that closed a while ago come from the roll-up (`figures`, one row
//! per half hour and group, see [`rollup`]); the stretch after it from the leads,
//! deliveries, conversions and attempts themselves ([`raw`]). Both are computed by the same
//! grouped queries, so they agree to the lead.

pub(crate) mod raw;
mod rollup;

use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use raw::{Key, Part, Shape};
use std::collections::BTreeMap;

pub use rollup::Rolled;
pub(crate) use rollup::{mark_delivery_stale, mark_lead_stale, mark_stale};

/// The roll-up's half hour: every timezone the users work in (Newfoundland's too) starts
/// its days on one.
pub const BUCKET_MS: EpochMillis = 30 * 60 * 1000;
/// How long after a half hour ends it is rolled up (no transaction takes this long, so no
/// event is written into a half hour after it was rolled).
pub const SETTLE_MS: EpochMillis = 10 * 60 * 1000;

/// The end of the last half hour that may be rolled at `now`.
pub fn closed_before(now: EpochMillis) -> EpochMillis {
    let t = now - SETTLE_MS;
    t - t.rem_euclid(BUCKET_MS)
}

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
    /// Deliveries the partner answered it already had the person (counted apart from
    /// rejections).
    pub duplicates: i64,
    pub failed: i64,
    pub returned: i64,
    /// Leads with a conversion reported in the period.
    pub conversions: i64,
    /// Every conversion's value.
    pub revenue_cents: i64,
    /// What the partners pay for the leads delivered (each delivery at the partner's
    /// `price_per_lead` when it was assigned).
    pub lead_revenue_cents: i64,
    /// What the operator pays the suppliers for the leads delivered (each lead at its
    /// source's `cost_per_lead` when it arrived; a returned lead costs nothing).
    pub cost_cents: i64,
    /// Attempts' latencies as (milliseconds, how many), for exact percentiles.
    pub latencies_ms: Vec<(i64, i64)>,
}

impl Figures {
    /// Adds `other`'s figures to these.
    pub fn add(&mut self, other: &Figures) {
        self.received += other.received;
        self.delivered += other.delivered;
        self.rejected += other.rejected;
        self.duplicates += other.duplicates;
        self.failed += other.failed;
        self.returned += other.returned;
        self.conversions += other.conversions;
        self.revenue_cents += other.revenue_cents;
        self.lead_revenue_cents += other.lead_revenue_cents;
        self.cost_cents += other.cost_cents;
        self.latencies_ms.extend_from_slice(&other.latencies_ms);
    }

    /// Attempts made (each has its latency counted).
    pub fn attempts(&self) -> i64 {
        self.latencies_ms.iter().map(|(_, n)| n).sum()
    }

    /// The `p` percentile (nearest rank) of the attempts' latencies.
    pub fn latency_percentile(&self, p: f64) -> Option<i64> {
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_unstable();
        let total: i64 = sorted.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * p).ceil().max(1.0) as i64;
        let mut seen = 0;
        for (ms, n) in &sorted {
            seen += n;
            if seen >= rank {
                return Some(*ms);
            }
        }
        sorted.last().map(|(ms, _)| *ms)
    }

    /// Latencies sorted, one pair per value.
    fn compact(&mut self) {
        self.latencies_ms.sort_unstable();
        self.latencies_ms.dedup_by(|later, kept| {
            if later.0 == kept.0 {
                kept.1 += later.1;
                true
            } else {
                false
            }
        });
    }
}

impl Grouping {
    /// The roll-up's kind holding this grouping's figures.
    fn kind(&self) -> rollup::Kind {
        match self {
            Grouping::OperatorDay(_) => rollup::Kind::Day,
            Grouping::PartnerDay { .. } => rollup::Kind::PartnerDay,
            Grouping::Partner => rollup::Kind::Partner,
            Grouping::Country => rollup::Kind::Country,
            Grouping::Niche => rollup::Kind::Niche,
            Grouping::Source => rollup::Kind::Source,
        }
    }

    fn key(&self) -> Key {
        match self {
            Grouping::OperatorDay(d) => Key::OperatorDay(d.clone()),
            Grouping::PartnerDay { from, to } => Key::CountedDay(Some((from.clone(), to.clone()))),
            Grouping::Partner => Key::Partner,
            Grouping::Country => Key::Country,
            Grouping::Niche => Key::Niche,
            Grouping::Source => Key::Source,
        }
    }

    /// Whether the roll-up's half hours fit the span `[from, upto)` it would serve exactly (a timezone whose days start
    /// at a quarter hour, such as Nepal's, reads everything from the leads themselves).
    fn fits_half_hours(&self, from: EpochMillis, upto: EpochMillis) -> bool {
        let whole = |t: EpochMillis| t.rem_euclid(BUCKET_MS) == 0;
        match self {
            Grouping::OperatorDay(d) => d.iter().all(|(_, s, e)| whole(*s) && whole(*e)),
            Grouping::PartnerDay { .. } => true,
            _ => whole(from) && whole(upto),
        }
    }

    /// The SQL giving a rolled-up row's group: the operator's day its half hour falls in,
    /// else its key. Only numbers and our own `YYYY-MM-DD` dates are written into the text.
    fn rolled_key(&self) -> String {
        match self {
            Grouping::OperatorDay(d) => {
                let days: Vec<String> = d
                    .iter()
                    .filter(|(label, _, _)| raw::is_date(label))
                    .map(|(label, s, e)| {
                        format!("WHEN bucket >= {s} AND bucket < {e} THEN '{label}'")
                    })
                    .collect();
                if days.is_empty() {
                    "''".into()
                } else {
                    format!("CASE {} END", days.join(" "))
                }
            }
            _ => "key".into(),
        }
    }
}

/// Consecutive half hours as `[start, end)` runs.
fn runs(buckets: &[EpochMillis]) -> Vec<(EpochMillis, EpochMillis)> {
    let mut out: Vec<(EpochMillis, EpochMillis)> = Vec::new();
    for &b in buckets {
        match out.last_mut() {
            Some((_, end)) if *end == b => *end = b + BUCKET_MS,
            _ => out.push((b, b + BUCKET_MS)),
        }
    }
    out
}

impl Store {
    /// Figures for `[from, to)` by `grouping` (by partner day: for the days named in it),
    /// keyed by the group's label.
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
        let rolled = self.rolled_until().await?;
        let by_day = matches!(grouping, Grouping::PartnerDay { .. });
        // Partner days take events of any time; the rest those of the period.
        let (from, to) = if by_day {
            (EpochMillis::MIN, EpochMillis::MAX)
        } else {
            (from, to)
        };
        // The roll-up serves `[from, upto)`; the rest is read from the leads themselves.
        let upto = rolled.min(to).max(from);
        let upto = if grouping.fits_half_hours(from, upto) {
            upto
        } else {
            from
        };
        let mut add = |parts: Vec<Part>| {
            for (_, key, f) in parts {
                out.entry(key).or_default().add(&f);
            }
        };
        if upto > from {
            let days = match grouping {
                Grouping::PartnerDay { from, to } => Some((from.as_str(), to.as_str())),
                _ => None,
            };
            // A stale half hour (one of its leads changed since it was rolled) is read from
            // the leads themselves until it is rolled again.
            let stale = self.stale_buckets(from, upto).await?;
            let parts = self
                .rolled_parts(
                    grouping.kind(),
                    &grouping.rolled_key(),
                    (from, upto),
                    days,
                    &stale,
                )
                .await?;
            add(parts);
            let shape = Shape::new(grouping.key(), false);
            for (start, end) in runs(&stale) {
                add(self.raw_figures(&shape, start, end).await?);
            }
        }
        if upto < to {
            let shape = Shape::new(grouping.key(), false);
            add(self.raw_figures(&shape, upto, to).await?);
        }
        out.values_mut().for_each(Figures::compact);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::Figures;

    #[test]
    fn percentiles_are_read_from_counted_latencies_by_nearest_rank() {
        let f = |l: &[(i64, i64)]| Figures {
            latencies_ms: l.to_vec(),
            ..Figures::default()
        };
        let many = f(&[(500, 1), (10, 1), (20, 18)]);
        assert_eq!(
            (many.latency_percentile(0.5), many.latency_percentile(0.95)),
            (Some(20), Some(20))
        );
        let few = f(&[(10, 1), (20, 1), (500, 1)]);
        assert_eq!(
            (few.latency_percentile(0.5), few.latency_percentile(0.95)),
            (Some(20), Some(500))
        );
        assert_eq!(f(&[]).latency_percentile(0.5), None);
        assert_eq!(many.attempts(), 20);
    }
}
