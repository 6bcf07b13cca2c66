//! The audit trail's query as the JSON API and the console both read it (each value
//! checked, a bad one a 422 naming it).

use crate::ApiError;
use leadrouter_store::audit::AuditFilter;
use serde::Deserialize;

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    pub entity: Option<String>,
    #[param(value_type = Option<i64>)]
    pub entity_id: Option<String>,
    pub action: Option<String>,
    /// At most 200 entries are answered.
    #[param(value_type = Option<i64>, minimum = 1)]
    pub limit: Option<String>,
    #[param(value_type = Option<i64>)]
    pub before: Option<String>,
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn id_of(name: &str, s: &Option<String>) -> Result<Option<i64>, ApiError> {
    opt(s)
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| ApiError::validation_one(name, "must be a whole number"))
        })
        .transpose()
}

impl AuditQuery {
    pub(crate) fn filter(&self) -> Result<AuditFilter, ApiError> {
        let limit = id_of("limit", &self.limit)?.unwrap_or(100);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::validation_one("limit", "must be 1..500"));
        }
        Ok(AuditFilter {
            entity: opt(&self.entity),
            entity_id: id_of("entity_id", &self.entity_id)?,
            action: opt(&self.action),
            limit,
            before: id_of("before", &self.before)?,
        })
    }
}
