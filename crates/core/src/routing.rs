//! Routing rules (PRODUCT.md §3): which partners may take a lead now, why the others may
//! not, and which one gets it.

use crate::capacity::quotas;
use crate::clock::EpochMillis;
use crate::hours::{BusinessHours, DAYS};
use crate::lead::lead_has_field;
use crate::lead::LeadType;
use crate::localtime::{local_moment, parse_tz};
use crate::windows::{first_limit, Limits, Reached, Used, Window};
use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A partner as routing sees it at one instant.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub name: String,
    pub active: bool,
    pub required_fields: Vec<String>,
    /// Takes only leads whose phone libphonenumber knows as valid.
    pub valid_phone_only: bool,
    pub business_hours: Option<BusinessHours>,
    pub timezone: String,
    pub daily_limit: u32,
    pub premium_ratio: u8,
    /// Counts for the partner-local today.
    pub total: i64,
    pub premium: i64,
    pub raw: i64,
    /// Already tried for this lead (a delivery exists).
    pub tried: bool,
    /// Already has this lead's person (by its known contacts).
    pub known: bool,
    /// Conditions the lead must meet.
    pub filters: Vec<crate::filters::Filter>,
    /// Its share against the others of its tier: the lowest `count / weight` wins.
    pub weight: u32,
    /// Its tier: only the lowest tier among the eligible competes (a waterfall).
    pub priority: i32,
    /// Its caps beside the daily limit and its budgets.
    pub limits: Limits,
    /// What each window of its clock has taken so far.
    pub used: Used,
    /// What one lead costs it, in cents (what its budgets count).
    pub price_cents: i64,
}

/// A partner's weight and priority when none is set: the guide's rule (lowest count first).
pub const DEFAULT_WEIGHT: u32 = 100;

pub use crate::lead::LeadFacts;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ineligible {
    Paused,
    AlreadyTried,
    AlreadyKnown,
    MissingFields(Vec<String>),
    PhoneNotValid,
    /// A filter the lead does not meet, as its reason.
    Filter(String),
    /// Closed now; `opens` is the next opening in the partner's time, if any within a week.
    Closed {
        opens: Option<String>,
    },
    DailyLimit {
        total: i64,
        limit: u32,
    },
    Quota {
        kind: LeadType,
        count: i64,
        quota: u32,
    },
    /// A cap beside the daily limit, or a budget, is full.
    Limit(Reached),
}

impl Ineligible {
    pub fn reason(&self, timezone: &str) -> String {
        match self {
            Ineligible::Paused => "paused".into(),
            Ineligible::AlreadyTried => "already tried for this lead".into(),
            Ineligible::AlreadyKnown => "already known to the partner".into(),
            Ineligible::MissingFields(f) => format!("lead lacks required fields: {}", f.join(", ")),
            Ineligible::PhoneNotValid => "phone number not valid".into(),
            Ineligible::Filter(why) => why.clone(),
            Ineligible::Closed { opens: Some(o) } => {
                format!("outside business hours, opens {o} {timezone}")
            }
            Ineligible::Closed { opens: None } => "outside business hours (never open)".into(),
            Ineligible::DailyLimit { total, limit } => {
                format!("daily limit reached {total}/{limit}")
            }
            Ineligible::Quota { kind, count, quota } => {
                format!("{} quota reached {count}/{quota}", kind.as_str())
            }
            Ineligible::Limit(r) => r.reason(),
        }
    }

    /// The kind of reason, as the held backlog is counted by.
    pub fn kind(&self) -> &'static str {
        match self {
            Ineligible::Paused => "paused",
            Ineligible::AlreadyTried => "already tried",
            Ineligible::AlreadyKnown => "already known",
            Ineligible::MissingFields(_) => "lacks required fields",
            Ineligible::PhoneNotValid => "phone not valid",
            Ineligible::Filter(_) => "filter",
            Ineligible::Closed { .. } => "outside business hours",
            Ineligible::DailyLimit { .. } => "daily limit reached",
            Ineligible::Quota { .. } => "quota reached",
            Ineligible::Limit(r) => r.kind(),
        }
    }

    /// Whether time alone (an opening, a new day) can lift this.
    pub fn lifts_with_time(&self) -> bool {
        match self {
            Ineligible::Closed { .. }
            | Ineligible::DailyLimit { .. }
            | Ineligible::Quota { .. } => true,
            Ineligible::Limit(r) => r.window() != Window::Total,
            _ => false,
        }
    }
}

/// The next opening after `at`, in the partner's words: `09:00` today, `Mon 09:00` later.
pub(crate) fn next_opening(
    hours: &BusinessHours,
    tz: Tz,
    at: EpochMillis,
) -> Option<(EpochMillis, String)> {
    let now = local_moment(tz, at);
    let utc = DateTime::<Utc>::from_timestamp_millis(at)?;
    let today = utc.with_timezone(&tz).date_naive();
    for offset in 0..8 {
        let date = today + ChronoDuration::days(offset);
        let day = date.weekday().num_days_from_monday() as usize;
        for &(open, _) in &hours.days[day] {
            if offset == 0 && open <= now.minute {
                continue;
            }
            let time = NaiveTime::from_hms_opt(u32::from(open / 60), u32::from(open % 60), 0)?;
            // An opening inside a DST gap happens at the first valid instant after it.
            let local = tz
                .from_local_datetime(&date.and_time(time))
                .earliest()
                .or_else(|| {
                    tz.from_local_datetime(&(date.and_time(time) + ChronoDuration::hours(1)))
                        .earliest()
                })?;
            let label = format!("{:02}:{:02}", open / 60, open % 60);
            let label = if offset == 0 {
                label
            } else {
                let d = DAYS[day];
                format!("{}{} {label}", d[..1].to_uppercase(), &d[1..])
            };
            return Some((local.timestamp_millis(), label));
        }
    }
    None
}

/// The first instant of the partner's next local day, when its counts start afresh.
pub fn next_local_midnight(timezone: &str, at: EpochMillis) -> EpochMillis {
    let tz = parse_tz(timezone).unwrap_or(Tz::UTC);
    let Some(utc) = DateTime::<Utc>::from_timestamp_millis(at) else {
        return at + 86_400_000;
    };
    let tomorrow = utc.with_timezone(&tz).date_naive() + ChronoDuration::days(1);
    let midnight = tomorrow.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.timestamp_millis())
        .unwrap_or(at + 86_400_000)
}

/// Whether `c` may take `lead` at `at`, and if not, why (the first rule that fails, in
/// PRODUCT.md's order). Also returns when time alone could change the answer.
pub fn eligibility(c: &Candidate, lead: &LeadFacts<'_>, at: EpochMillis) -> Result<(), Ineligible> {
    if !c.active {
        return Err(Ineligible::Paused);
    }
    if c.tried {
        return Err(Ineligible::AlreadyTried);
    }
    if c.known {
        return Err(Ineligible::AlreadyKnown);
    }
    let missing: Vec<String> = c
        .required_fields
        .iter()
        .filter(|f| !lead_has_field(lead, f))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(Ineligible::MissingFields(missing));
    }
    if c.valid_phone_only && !lead.phone_valid {
        return Err(Ineligible::PhoneNotValid);
    }
    if let Some(why) = crate::filters::unmet(&c.filters, lead) {
        return Err(Ineligible::Filter(why));
    }
    let tz = parse_tz(&c.timezone).unwrap_or(Tz::UTC);
    if let Some(hours) = &c.business_hours {
        let now = local_moment(tz, at);
        if !hours.is_open(now.weekday, now.minute) {
            return Err(Ineligible::Closed {
                opens: next_opening(hours, tz, at).map(|(_, label)| label),
            });
        }
    }
    if c.total >= i64::from(c.daily_limit) {
        return Err(Ineligible::DailyLimit {
            total: c.total,
            limit: c.daily_limit,
        });
    }
    let q = quotas(c.daily_limit, c.premium_ratio);
    let (count, quota) = match lead.lead_type {
        LeadType::Premium => (c.premium, q.premium),
        LeadType::Raw => (c.raw, q.raw),
    };
    if count >= i64::from(quota) {
        return Err(Ineligible::Quota {
            kind: lead.lead_type,
            count,
            quota,
        });
    }
    if let Some(reached) = first_limit(&c.limits, &c.used, c.price_cents) {
        return Err(Ineligible::Limit(reached));
    }
    Ok(())
}

/// When time alone could make `c` eligible: its next opening or its next local midnight.
pub fn reconsider_at(c: &Candidate, why: &Ineligible, at: EpochMillis) -> Option<EpochMillis> {
    let tz = parse_tz(&c.timezone).unwrap_or(Tz::UTC);
    match why {
        Ineligible::Closed { .. } => c
            .business_hours
            .as_ref()
            .and_then(|h| next_opening(h, tz, at))
            .map(|(t, _)| t),
        Ineligible::DailyLimit { .. } | Ineligible::Quota { .. } => {
            Some(next_local_midnight(&c.timezone, at))
        }
        Ineligible::Limit(r) => r.window().end(&c.timezone, at),
        _ => None,
    }
}

/// One line of a lead's routing explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Considered {
    pub partner_id: i64,
    pub partner_name: String,
    pub eligible: bool,
    pub reason: String,
}

/// The decision for one lead at one instant.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Eligible partners in the order to try them: lowest count first, ties shuffled.
    pub order: Vec<i64>,
    pub explanation: Vec<Considered>,
    /// The earliest instant time alone could change the outcome (for held leads).
    pub reconsider_at: Option<EpochMillis>,
    /// The kinds of reason the partners that cannot take it have (see [`Ineligible::kind`]).
    pub blocked_by: std::collections::BTreeSet<&'static str>,
}

impl Plan {
    /// Why nobody takes the lead now, for the held backlog: "no partner for its market", or
    /// the kinds of reason of the partners not tried yet (`outside business hours + daily
    /// limit reached`).
    pub fn hold_reason(&self) -> String {
        if self.explanation.is_empty() {
            return "no partner for its market".into();
        }
        let open: Vec<&str> = self
            .blocked_by
            .iter()
            .copied()
            .filter(|k| *k != "already tried" && *k != "already known")
            .collect();
        if open.is_empty() {
            "tried by every partner".into()
        } else {
            open.join(" + ")
        }
    }

    /// Says in the explanation why this partner got the lead.
    pub fn mark_chosen(&mut self, c: &Candidate) {
        for entry in &mut self.explanation {
            if entry.partner_id == c.id {
                entry.reason = if c.weight == DEFAULT_WEIGHT && c.priority == 0 {
                    format!("chosen: lowest count today ({}/{})", c.total, c.daily_limit)
                } else {
                    format!(
                        "chosen: lowest count for its weight in the first tier ({}/{}, weight {}, priority {})",
                        c.total, c.daily_limit, c.weight, c.priority
                    )
                };
            }
        }
    }

    /// The chosen partner's capacity went to a concurrent lead before ours was counted:
    /// says so, and looks again at that partner's next local midnight at the latest.
    pub fn capacity_taken(&mut self, c: &Candidate, now: EpochMillis) {
        for entry in &mut self.explanation {
            if entry.partner_id == c.id {
                entry.eligible = false;
                entry.reason = "capacity taken by a concurrent lead".into();
            }
        }
        self.blocked_by.insert("daily limit reached");
        // Whichever of its windows was filled, the first to end may free a slot.
        let soonest = c
            .limits
            .windows()
            .filter_map(|w| w.end(&c.timezone, now))
            .fold(next_local_midnight(&c.timezone, now), i64::min);
        self.reconsider_at = Some(self.reconsider_at.map_or(soonest, |r| r.min(soonest)));
    }
}

impl Candidate {
    /// Counts a lead given to this partner, so that later leads of a batch see it.
    pub fn count(&mut self, lead_type: LeadType) {
        self.total += 1;
        self.used.count(self.price_cents);
        match lead_type {
            LeadType::Premium => self.premium += 1,
            LeadType::Raw => self.raw += 1,
        }
    }
}

/// Evaluates every candidate. `unit_random` yields numbers in `[0, 1)` for tie-breaks.
pub fn plan(
    candidates: &[Candidate],
    lead: &LeadFacts<'_>,
    at: EpochMillis,
    mut unit_random: impl FnMut() -> f64,
) -> Plan {
    // (priority, count, weight, id, random tie-break)
    let mut eligible: Vec<(i32, i64, u32, i64, f64)> = Vec::new();
    let mut explanation = Vec::with_capacity(candidates.len());
    let mut reconsider: Option<EpochMillis> = None;
    let mut blocked_by = std::collections::BTreeSet::new();
    for c in candidates {
        match eligibility(c, lead, at) {
            Ok(()) => {
                eligible.push((c.priority, c.total, c.weight.max(1), c.id, unit_random()));
                explanation.push(Considered {
                    partner_id: c.id,
                    partner_name: c.name.clone(),
                    eligible: true,
                    reason: format!("eligible: {}/{} today", c.total, c.daily_limit),
                });
            }
            Err(why) => {
                blocked_by.insert(why.kind());
                if let Some(t) = reconsider_at(c, &why, at) {
                    reconsider = Some(reconsider.map_or(t, |r: EpochMillis| r.min(t)));
                }
                explanation.push(Considered {
                    partner_id: c.id,
                    partner_name: c.name.clone(),
                    eligible: false,
                    reason: why.reason(&c.timezone),
                });
            }
        }
    }
    // The lowest tier first; in it the lowest count for its weight (compared exactly, as
    // count × the other's weight); among equals a random key orders them uniformly. With
    // every weight and priority at its default this is the guide's lowest count first.
    eligible.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then((i128::from(a.1) * i128::from(b.2)).cmp(&(i128::from(b.1) * i128::from(a.2))))
            .then(a.4.total_cmp(&b.4))
    });
    Plan {
        order: eligible.into_iter().map(|(_, _, _, id, _)| id).collect(),
        explanation,
        reconsider_at: reconsider,
        blocked_by,
    }
}

/// What becomes of a lead no partner took in this pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unrouted {
    /// Every partner of its market has had it: nobody is left.
    Fail,
    /// Wait until this instant (an opening, a new day, or the hold limit, whichever is
    /// first), or until something changes.
    HoldUntil(EpochMillis),
    /// Its hold limit has passed (it waited, or arrived, longer ago than that): it ends
    /// `expired` now rather than being held until a time already gone.
    Expire,
}

/// The step for a lead none of `candidates` could take now: failed when it has been tried
/// and every partner of the market has had it (a paused partner that has not had it may be
/// resumed, so then it waits), else held until time may change things or it `expires`
/// (expired at once if that is `now` or past).
pub fn decide(
    plan: &Plan,
    candidates: &[Candidate],
    tried_any: bool,
    expires: EpochMillis,
    now: EpochMillis,
) -> Unrouted {
    // A partner that has the person will not take it later either.
    let untried = candidates.iter().any(|c| !c.tried && !c.known);
    let known_any = candidates.iter().any(|c| c.known);
    if (tried_any || known_any) && !untried {
        return Unrouted::Fail;
    }
    if expires <= now {
        return Unrouted::Expire;
    }
    Unrouted::HoldUntil(plan.reconsider_at.map_or(expires, |t| t.min(expires)))
}

pub mod batch;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
