//! A source's `daily_cap`: the leads it may send per operator day, counted in
//! `source_daily_counts` by one guarded update per lead (only for sources with a cap).

use crate::Priority;
use crate::{Store, StoreError};

impl Store {
    /// Takes one of the source's `cap` slots of `day`; false when none is left.
    pub async fn take_source_slot(
        &self,
        source_id: i64,
        day: &str,
        cap: u32,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin(Priority::Urgent).await?;
        sqlx::query(
            "INSERT INTO source_daily_counts (source_id, day, accepted) VALUES ($1, $2, 0) \
             ON CONFLICT DO NOTHING",
        )
        .bind(source_id)
        .bind(day)
        .execute(&mut *tx)
        .await?;
        let taken = sqlx::query(
            "UPDATE source_daily_counts SET accepted = accepted + 1 \
             WHERE source_id = $1 AND day = $2 AND accepted < $3",
        )
        .bind(source_id)
        .bind(day)
        .bind(i64::from(cap))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(taken)
    }

    /// Gives a slot back: the submission it was taken for made no new lead (a repeat) or
    /// failed.
    pub async fn give_back_source_slot(&self, source_id: i64, day: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE source_daily_counts SET accepted = accepted - 1 \
             WHERE source_id = $1 AND day = $2 AND accepted > 0",
        )
        .bind(source_id)
        .bind(day)
        .execute(self.write(Priority::Urgent).await.pool())
        .await?;
        Ok(())
    }

    /// What the source has sent on `day` against its cap.
    pub async fn source_day_count(&self, source_id: i64, day: &str) -> Result<i64, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT accepted FROM source_daily_counts WHERE source_id = $1 AND day = $2",
        )
        .bind(source_id)
        .bind(day)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map_or(0, |r| r.0))
    }
}

impl Store {
    /// The lead this source already sent with this `external_id` or `Idempotency-Key`, as
    /// a repeat (a repeat is answered even when the source's cap is reached).
    pub async fn repeat_of(
        &self,
        source_id: i64,
        external_id: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> Result<Option<crate::leads::Ingested>, StoreError> {
        use sqlx::Row;
        if external_id.is_none() && idempotency_key.is_none() {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT id, status, duplicate_of FROM leads WHERE source_id = $1 \
             AND (external_id = $2 OR idempotency_key = $3) ORDER BY id LIMIT 1",
        )
        .bind(source_id)
        .bind(external_id)
        .bind(idempotency_key)
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| {
            let status: String = r.try_get("status")?;
            Ok(crate::leads::Ingested::Repeat {
                id: r.try_get("id")?,
                status: crate::leads::LeadStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("lead status {status}")))?,
                duplicate_of: r.try_get("duplicate_of")?,
            })
        })
        .transpose()
    }
}
