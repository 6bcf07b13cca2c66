//! "Check against past answers": a candidate `response` setting run over the partner's
//! latest recorded answers, saving nothing; what the JSON API and the console both show.

use crate::views::{ResponsePreview, ResponseSample};
use crate::{ApiError, AppState};
use leadrouter_core::outcome::{recorded_word, verdict_word};
use leadrouter_core::reply::ResponseRules;

/// Most answers looked at.
pub(crate) const MAX_CHECKED: i64 = 1000;
/// Answers looked at unless asked otherwise.
pub(crate) const DEFAULT_CHECKED: i64 = 200;

/// How the partner's latest `limit` answers read under `rules` (none: by status code
/// alone), the changed ones first. Answers are judged on the first KiB kept of each.
pub(crate) async fn preview(
    state: &AppState,
    partner_id: i64,
    rules: Option<&ResponseRules>,
    limit: i64,
) -> Result<ResponsePreview, ApiError> {
    let answers = state.store().partner_answers(partner_id, limit).await?;
    let mut samples: Vec<ResponseSample> = answers
        .iter()
        .map(|a| {
            let status = u16::try_from(a.status_code).unwrap_or_default();
            ResponseSample {
                attempt_id: a.attempt_id,
                lead_id: a.lead_id,
                status_code: a.status_code,
                excerpt: a.excerpt.clone(),
                was: recorded_word(a.outcome),
                would_be: verdict_word(status, rules, &a.excerpt),
                reason: rules.and_then(|r| r.read(status, &a.excerpt).reason),
            }
        })
        .collect();
    // The changed ones first, each group newest first.
    samples.sort_by_key(|s| s.was == s.would_be);
    Ok(ResponsePreview {
        checked: samples.len(),
        changed: samples.iter().filter(|s| s.was != s.would_be).count(),
        samples,
    })
}
