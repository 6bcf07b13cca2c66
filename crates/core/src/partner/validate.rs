//! Checking an operator's partner settings: each field read by its own function through the
//! shared input reader, so that every problem is reported at once, each beside its field.

use super::parse::*;
use super::{
    normalize_key, ContentType, PartnerAuth, PartnerSpec, PartnerValidation, PhoneFormat,
    DEFAULT_DAILY_LIMIT, DEFAULT_PREMIUM_RATIO,
};
use crate::catalog::Catalog;
use crate::filters::{parse_filters, Filter};
use crate::hours::BusinessHours;
use crate::input::{Given, Input, Keys};
use crate::reply::ResponseRules;
use crate::ssrf::AllowList;
use crate::webhook_url::{parse_webhook_url, WebhookUrl};
use crate::windows::{Budget, Caps};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Fields that appear in our own responses: accepted in input (so a fetched partner can be
/// sent back) and ignored.
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "paused_reason",
    "created_at",
    "updated_at",
    "today",
    "quotas",
    "limits",
    "api_key",
    "api_key_prefix",
    "old_api_key_until",
    "signing_secret",
    "warnings",
    "success",
];

const FIELDS: &[&str] = &[
    "name",
    "email",
    "country",
    "niche",
    "daily_limit",
    "premium_ratio",
    "timezone",
    "business_hours",
    "webhook_url",
    "phone_format",
    "required_fields",
    "field_mapping",
    "default_values",
    "content_type",
    "auth",
    "valid_phone_only",
    "daily_summary",
    "price_per_lead",
    "erasure_webhook_url",
    "response",
    "filters",
    "weight",
    "priority",
    "max_concurrency",
    "caps",
    "budget",
];

const KEYS: Keys<'static> = Keys {
    normalize: normalize_key,
    known: FIELDS,
    read_only: READ_ONLY,
};

/// Checks operator input for a new partner (`base` = None) or a change to an existing one
/// (`base` = its current settings; absent fields keep their values, `null` clears optional
/// ones).
pub fn validate_partner(
    input: &Map<String, Value>,
    base: Option<&PartnerSpec>,
    catalog: &Catalog,
    allow: &AllowList,
) -> PartnerValidation {
    let mut f = Input::read(input, &KEYS);
    let mut warnings = Vec::new();
    let name = name(&mut f, base);
    let email = f.take("email", parse_email, |_| {
        Some(base.and_then(|b| b.email.clone()))
    });
    let country = market_field(&mut f, "country", base.map(|b| &b.country), |c| {
        catalog.known_market(c).map(|m| m.slug.clone())
    });
    let niche = market_field(&mut f, "niche", base.map(|b| &b.niche), |n| {
        catalog.known_niche(n).map(|x| x.slug.clone())
    });
    let (daily_limit, premium_ratio) = limits(&mut f, base, &mut warnings);
    let market_timezone = country
        .as_deref()
        .and_then(|c| catalog.market_by_slug(c))
        .map(|m| m.default_timezone.clone());
    let timezone = timezone(&mut f, base, market_timezone);
    let business_hours = business_hours(&mut f, base, &mut warnings);
    let (webhook_url, webhook) = webhook(&mut f, base, allow);
    let phone_format = phone_format(&mut f, base);
    let (required_fields, field_mapping, default_values) = fields(&mut f, base);
    let content_type = content_type(&mut f, base);
    let auth = f.take("auth", PartnerAuth::parse, |_| {
        Some(base.and_then(|b| b.auth.clone()))
    });
    let valid_phone_only = f.take("valid_phone_only", parse_bool, |_| {
        Some(base.is_some_and(|b| b.valid_phone_only))
    });
    let daily_summary = f.take("daily_summary", parse_bool, |_| {
        Some(base.is_some_and(|b| b.daily_summary))
    });
    let price_per_lead_cents = f.take(
        "price_per_lead",
        |v| match v {
            Value::Null => Ok(None),
            v => crate::conversion::parse_money(v).map(Some),
        },
        |_| Some(base.and_then(|b| b.price_per_lead_cents)),
    );
    let erasure_webhook_url = erasure_webhook(&mut f, base, allow);
    let response = response(&mut f, base);
    let filters = filters(&mut f, base);
    let weight = f.take(
        "weight",
        |v| {
            whole(v)
                .filter(|n| (1..=1000).contains(n))
                .map(|n| n as u32)
                .ok_or_else(|| "must be a whole number from 1 to 1000".to_string())
        },
        |_| Some(base.map_or(crate::routing::DEFAULT_WEIGHT, |b| b.weight)),
    );
    let priority = f.take(
        "priority",
        |v| {
            whole(v)
                .filter(|n| (-1000..=1000).contains(n))
                .map(|n| n as i32)
                .ok_or_else(|| {
                    "must be a whole number from -1000 to 1000 (lower goes first)".to_string()
                })
        },
        |_| Some(base.map_or(0, |b| b.priority)),
    );
    let max_concurrency = f.take(
        "max_concurrency",
        |v| match v {
            Value::Null => Ok(None),
            v => whole(v)
                .filter(|n| (1..=i64::from(super::MAX_CONCURRENCY)).contains(n))
                .map(|n| Some(n as u32))
                .ok_or_else(|| {
                    format!(
                        "must be a whole number from 1 to {} (empty: {}, the default)",
                        super::MAX_CONCURRENCY,
                        super::DEFAULT_CONCURRENCY
                    )
                }),
        },
        |_| Some(base.and_then(|b| b.max_concurrency)),
    );
    let caps = caps(&mut f, base);
    let budget = budget(&mut f, base, price_per_lead_cents.flatten().is_some());
    if let (Some(b), Some(None)) = (&budget, &price_per_lead_cents) {
        if *b != Budget::default() && f.raw("budget").is_none() {
            f.error(
                "price_per_lead",
                "a budget is set, and it counts what each lead costs: keep a price or clear the budget",
            );
        }
    }
    if let (Some(m), Some(r), Some(d)) = (&field_mapping, &required_fields, &default_values) {
        if let Some(problem) = mapping_collision(m, r, d) {
            f.error("field_mapping", problem);
        }
    }
    let spec = (|| {
        Some(PartnerSpec {
            name: name?,
            email: email?,
            country: country?,
            niche: niche?,
            daily_limit: daily_limit?,
            premium_ratio: premium_ratio?,
            timezone: timezone?,
            business_hours,
            webhook_url: webhook_url?,
            phone_format: phone_format?,
            required_fields: required_fields?,
            field_mapping: field_mapping?,
            default_values: default_values?,
            content_type: content_type?,
            auth: auth?,
            valid_phone_only: valid_phone_only?,
            daily_summary: daily_summary?,
            price_per_lead_cents: price_per_lead_cents?,
            erasure_webhook_url: erasure_webhook_url?,
            response: response?,
            filters: filters?,
            weight: weight?,
            priority: priority?,
            max_concurrency: max_concurrency?,
            caps: caps?,
            budget: budget?,
        })
    })();
    PartnerValidation {
        result: f.finish(spec),
        webhook,
        warnings,
    }
}

/// The daily limit and premium ratio; a new partner without them gets the defaults, and
/// is told so.
fn limits(
    f: &mut Input<'_>,
    base: Option<&PartnerSpec>,
    warnings: &mut Vec<String>,
) -> (Option<u32>, Option<u8>) {
    let daily_limit = f.take("daily_limit", parse_daily_limit, |_| {
        Some(base.map_or_else(
            || {
                warnings.push(format!(
                    "daily_limit not given: set to {DEFAULT_DAILY_LIMIT} leads per day"
                ));
                DEFAULT_DAILY_LIMIT
            },
            |b| b.daily_limit,
        ))
    });
    let premium_ratio = f.take("premium_ratio", parse_premium_ratio, |_| {
        Some(base.map_or_else(
            || {
                warnings.push(format!(
                    "premium_ratio not given: set to {DEFAULT_PREMIUM_RATIO}%"
                ));
                DEFAULT_PREMIUM_RATIO
            },
            |b| b.premium_ratio,
        ))
    });
    (daily_limit, premium_ratio)
}

type Fields = (
    Option<Vec<String>>,
    Option<BTreeMap<String, String>>,
    Option<BTreeMap<String, Value>>,
);

/// Required fields, field mapping and default values.
fn fields(f: &mut Input<'_>, base: Option<&PartnerSpec>) -> Fields {
    let required_fields = f.take("required_fields", parse_required_fields, |_| {
        Some(base.map_or_else(Vec::new, |b| b.required_fields.clone()))
    });
    let field_mapping = f.take("field_mapping", parse_field_mapping, |_| {
        Some(base.map_or_else(BTreeMap::new, |b| b.field_mapping.clone()))
    });
    let default_values = f.take("default_values", parse_default_values, |_| {
        Some(base.map_or_else(BTreeMap::new, |b| b.default_values.clone()))
    });
    (required_fields, field_mapping, default_values)
}

fn name(f: &mut Input<'_>, base: Option<&PartnerSpec>) -> Option<String> {
    f.take(
        "name",
        |v| match as_text(v) {
            Some(s) if !s.is_empty() && s.chars().count() <= 200 => Ok(s),
            Some(s) if !s.is_empty() => Err("must be at most 200 characters".into()),
            _ => Err("is required".into()),
        },
        |f| base.map(|b| b.name.clone()).or_else(|| f.required("name")),
    )
}

/// Country or niche: known to the catalog, stored as its slug.
fn market_field(
    f: &mut Input<'_>,
    k: &str,
    base: Option<&String>,
    known: impl FnOnce(&str) -> Result<String, String>,
) -> Option<String> {
    f.take(
        k,
        |v| match as_text(v) {
            Some(t) if !t.is_empty() => known(&t),
            _ => Err("is required".into()),
        },
        |f| base.cloned().or_else(|| f.required(k)),
    )
}

fn timezone(
    f: &mut Input<'_>,
    base: Option<&PartnerSpec>,
    market_timezone: Option<String>,
) -> Option<String> {
    match f.given("timezone") {
        Given::Absent => base.map(|b| b.timezone.clone()).or(market_timezone),
        Given::Null => market_timezone,
        Given::Value(v) => match as_text(v).filter(|t| !t.is_empty()) {
            Some(t) => match chrono_tz::Tz::from_str_insensitive(&t) {
                Ok(tz) => Some(tz.name().to_string()),
                Err(_) => {
                    f.error(
                        "timezone",
                        format!(
                            "unknown timezone \"{t}\" (use an IANA name such as Europe/Berlin)"
                        ),
                    );
                    None
                }
            },
            None => {
                f.error("timezone", "must be an IANA timezone name");
                None
            }
        },
    }
}

fn business_hours(
    f: &mut Input<'_>,
    base: Option<&PartnerSpec>,
    warnings: &mut Vec<String>,
) -> Option<BusinessHours> {
    match f.given("business_hours") {
        Given::Absent => base.and_then(|b| b.business_hours.clone()),
        Given::Null => None,
        Given::Value(v) => match BusinessHours::from_json(v) {
            Ok(h) => {
                if h.is_never_open() {
                    warnings.push(
                        "business_hours has no open day: this partner will receive no leads".into(),
                    );
                }
                Some(h)
            }
            Err(e) => {
                f.error("business_hours", e);
                None
            }
        },
    }
}

/// A whole number, given as a number or as its text (`"70"`).
fn whole(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// `filters`: conditions on the lead; each problem named by where it is
/// (`filters[0].op`).
fn filters(f: &mut Input<'_>, base: Option<&PartnerSpec>) -> Option<Vec<Filter>> {
    match f.given("filters") {
        Given::Absent => Some(base.map(|b| b.filters.clone()).unwrap_or_default()),
        Given::Null => Some(Vec::new()),
        Given::Value(v) => match parse_filters(v) {
            Ok(filters) => Some(filters),
            Err(problems) => {
                for (k, why) in problems {
                    f.error(&k, why);
                }
                None
            }
        },
    }
}

/// `response`: the rules that read the partner's answers; each problem named by where it
/// is (`response.rules[1].if`).
fn response(f: &mut Input<'_>, base: Option<&PartnerSpec>) -> Option<Option<ResponseRules>> {
    match f.given("response") {
        Given::Absent => Some(base.and_then(|b| b.response.clone())),
        Given::Null => Some(None),
        Given::Value(v) => match ResponseRules::parse(v) {
            Ok(rules) => Some(rules.filter(|r| *r != ResponseRules::default())),
            Err(problems) => {
                for (k, why) in problems {
                    f.error(&k, why);
                }
                None
            }
        },
    }
}

/// The URL as stored, and its parsed form when it passed the checks that need no DNS.
/// `erasure_webhook_url`: optional, under the same rules as the webhook.
fn erasure_webhook(
    f: &mut Input<'_>,
    base: Option<&PartnerSpec>,
    allow: &AllowList,
) -> Option<Option<String>> {
    f.take(
        "erasure_webhook_url",
        |v| match v.as_str().map(str::trim) {
            None if v.is_null() => Ok(None),
            None => Err("must be an https URL".to_string()),
            Some("") => Ok(None),
            Some(u) => parse_webhook_url(u, allow)
                .map(|w| Some(w.url.to_string()))
                .map_err(|p| p.to_string()),
        },
        |_| Some(base.and_then(|b| b.erasure_webhook_url.clone())),
    )
}

fn webhook(
    f: &mut Input<'_>,
    base: Option<&PartnerSpec>,
    allow: &AllowList,
) -> (Option<String>, Option<WebhookUrl>) {
    let given = match f.given("webhook_url") {
        Given::Value(v) => v.as_str().map(str::trim).filter(|s| !s.is_empty()),
        Given::Null => None,
        Given::Absent => {
            return match base {
                Some(b) => (
                    Some(b.webhook_url.clone()),
                    parse_webhook_url(&b.webhook_url, allow).ok(),
                ),
                None => (f.required("webhook_url"), None),
            }
        }
    };
    let Some(u) = given else {
        return (f.required("webhook_url"), None);
    };
    match parse_webhook_url(u, allow) {
        Ok(w) => (Some(w.url.to_string()), Some(w)),
        Err(p) => {
            f.error("webhook_url", p.to_string());
            (None, None)
        }
    }
}

fn phone_format(f: &mut Input<'_>, base: Option<&PartnerSpec>) -> Option<PhoneFormat> {
    match f.given("phone_format") {
        Given::Absent | Given::Null => {
            Some(base.map_or(PhoneFormat::International, |b| b.phone_format))
        }
        Given::Value(v) => v.as_str().and_then(PhoneFormat::parse).or_else(|| {
            f.error(
                "phone_format",
                "must be one of: international, national, local",
            );
            None
        }),
    }
}

fn content_type(f: &mut Input<'_>, base: Option<&PartnerSpec>) -> Option<ContentType> {
    match f.given("content_type") {
        Given::Absent | Given::Null => Some(base.map_or(ContentType::Json, |b| b.content_type)),
        Given::Value(v) => v.as_str().and_then(ContentType::parse).or_else(|| {
            f.error("content_type", "must be json or form");
            None
        }),
    }
}

/// The members of `key` (an object of optional members, or `null` for none), each read by
/// `read`; problems named `key.member`, unknown members refused.
fn members<T: Default>(
    f: &mut Input<'_>,
    key: &str,
    names: &[&str],
    kept: Option<T>,
    mut read: impl FnMut(&mut T, &str, &Value) -> Result<(), String>,
) -> Option<T> {
    let v = match f.given(key) {
        Given::Absent => return Some(kept.unwrap_or_default()),
        Given::Null => return Some(T::default()),
        Given::Value(v) => v,
    };
    let Some(obj) = v.as_object() else {
        f.error(
            key,
            format!("must be an object with any of: {}", names.join(", ")),
        );
        return None;
    };
    let mut out = T::default();
    let mut ok = true;
    for (k, v) in obj {
        let name = super::snake_case(k);
        let problem = if !names.contains(&name.as_str()) {
            Err(format!("unknown; one of: {}", names.join(", ")))
        } else if v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()) {
            Ok(())
        } else {
            read(&mut out, &name, v)
        };
        if let Err(why) = problem {
            f.error(&format!("{key}.{name}"), why);
            ok = false;
        }
    }
    ok.then_some(out)
}

/// `caps`: hourly, weekly, monthly and total caps, each a whole number of at least 1.
fn caps(f: &mut Input<'_>, base: Option<&PartnerSpec>) -> Option<Caps> {
    members(
        f,
        "caps",
        &["hourly", "weekly", "monthly", "total"],
        base.map(|b| b.caps),
        |caps, name, v| {
            let n = whole(v)
                .filter(|n| (1..=i64::from(super::MAX_DAILY_LIMIT) * 1000).contains(n))
                .ok_or("must be a whole number of at least 1")? as u32;
            match name {
                "hourly" => caps.hourly = Some(n),
                "weekly" => caps.weekly = Some(n),
                "monthly" => caps.monthly = Some(n),
                _ => caps.total = Some(n),
            }
            Ok(())
        },
    )
}

/// `budget`: daily and monthly amounts of money; they count `price_per_lead`, so need it.
fn budget(f: &mut Input<'_>, base: Option<&PartnerSpec>, priced: bool) -> Option<Budget> {
    members(
        f,
        "budget",
        &["daily", "monthly"],
        base.map(|b| b.budget),
        |budget, name, v| {
            let cents = crate::conversion::parse_money(v)?;
            if cents <= 0 {
                return Err("must be more than 0".into());
            }
            if !priced {
                return Err("needs price_per_lead: a budget counts what each lead costs".into());
            }
            match name {
                "daily" => budget.daily = Some(cents),
                _ => budget.monthly = Some(cents),
            }
            Ok(())
        },
    )
}
