//! The grouped figures of `GET /api/admin/analytics` (`group_by`, `day`): the store's
//! grouped queries, turned into rows with rates and latency percentiles.

use crate::time::date_start;
use crate::views::{FiguresView, Report, ReportRow};
use crate::{ApiError, AppState};
use leadrouter_store::analytics::{Figures, Grouping};

fn date(s: Option<&str>, name: &str) -> Result<Option<chrono::NaiveDate>, ApiError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::validation_one(name, "must be a date YYYY-MM-DD")),
    }
}

/// Rows and totals for the period `from..=to` (dates; default the last 30 days).
pub(crate) async fn grouped(
    state: &AppState,
    from: Option<&str>,
    to: Option<&str>,
    group_by: &str,
    day: &str,
    timezone: &str,
) -> Result<Report, ApiError> {
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        return Err(ApiError::validation_one(
            "timezone",
            "must be an IANA timezone such as Europe/Berlin",
        ));
    }
    // "Today" is the operator's.
    let today = chrono::NaiveDate::parse_from_str(
        &leadrouter_core::localtime::local_date(timezone, state.now_ms()),
        "%Y-%m-%d",
    )
    .unwrap_or_default();
    let to = date(to, "to")?.unwrap_or(today);
    let from = date(from, "from")?.unwrap_or(to - chrono::Duration::days(29));
    if from > to || (to - from).num_days() > 366 {
        return Err(ApiError::validation_one(
            "from",
            "must be before to, at most a year apart",
        ));
    }
    let start =
        |d: chrono::NaiveDate| date_start(&d.format("%Y-%m-%d").to_string(), timezone).unwrap_or(0);
    let (from_ms, to_ms) = (start(from), start(to + chrono::Duration::days(1)));
    let grouping = grouping_of(group_by, day, from, to, &start)?;
    let mut figures = state.store().analytics(&grouping, from_ms, to_ms).await?;
    if group_by == "day" {
        // Every day of the period has its row, a quiet one too.
        for d in from.iter_days().take_while(|d| *d <= to) {
            figures.entry(d.format("%Y-%m-%d").to_string()).or_default();
        }
    }
    let mut all = Figures::default();
    let rows = figures
        .iter()
        .map(|(k, f)| {
            all.add(f);
            ReportRow {
                key: k.clone(),
                figures: FiguresView::new(f),
            }
        })
        .collect();
    Ok(Report {
        rows,
        totals: FiguresView::new(&all),
        group_by: group_by.to_string(),
        day: day.to_string(),
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
    })
}

/// The store's grouping for `group_by` and `day`; `start` gives a date's first instant in
/// the operator's timezone.
fn grouping_of(
    group_by: &str,
    day: &str,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    start: &dyn Fn(chrono::NaiveDate) -> i64,
) -> Result<Grouping, ApiError> {
    Ok(match (group_by, day) {
        ("day", "operator") => Grouping::OperatorDay(
            from.iter_days()
                .take_while(|d| *d <= to)
                .map(|d| {
                    (
                        d.format("%Y-%m-%d").to_string(),
                        start(d),
                        start(d + chrono::Duration::days(1)),
                    )
                })
                .collect(),
        ),
        ("day", "partner") => Grouping::PartnerDay {
            from: from.format("%Y-%m-%d").to_string(),
            to: to.format("%Y-%m-%d").to_string(),
        },
        ("day", _) => {
            return Err(ApiError::validation_one(
                "day",
                "must be operator or partner",
            ))
        }
        ("partner", _) => Grouping::Partner,
        ("country", _) => Grouping::Country,
        ("niche", _) => Grouping::Niche,
        ("source", _) => Grouping::Source,
        _ => {
            return Err(ApiError::validation_one(
                "group_by",
                "must be one of: day, partner, country, niche, source",
            ))
        }
    })
}
