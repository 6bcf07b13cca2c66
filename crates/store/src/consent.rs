//! Consent evidence read back: a lead's stored evidence with its text, which is kept once
//! per distinct text in `consent_texts`.

use crate::leads::LeadRecord;
use crate::{Store, StoreError};
use leadrouter_core::consent::Consent;
use sqlx::Row;

impl Store {
    /// The lead's consent evidence with its text, if it came with any.
    pub async fn lead_consent(&self, lead: &LeadRecord) -> Result<Option<Consent>, StoreError> {
        let Some(stored) = &lead.consent else {
            return Ok(None);
        };
        let sha = stored
            .get("text_sha256")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let text: Option<String> = sqlx::query("SELECT text FROM consent_texts WHERE sha256 = $1")
            .bind(sha)
            .fetch_optional(self.reader())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        let text = text.ok_or_else(|| StoreError::Corrupt(format!("consent text {sha}")))?;
        Ok(Some(Consent::from_stored(stored, text)))
    }
}
