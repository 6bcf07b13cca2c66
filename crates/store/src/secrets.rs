//! Stored secrets (partners' auth and signing secrets, Facebook settings, the contact-hash
//! key, invitation links waiting to be mailed) sealed with
//! `LEADROUTER_SECRET_KEY`: [`Store::check_secret_key`] at start-up proves the key opens
//! what is stored (a wrong key is an error before anything is sent to a partner) and seals
//! what was stored before the key was set.

use crate::{Priority, Store, StoreError};
use leadrouter_core::sealed::{self, SealError, Sealer};
use sqlx::Row;

/// A sealed value opened, or a clear error.
pub(crate) fn open(sealer: Option<&Sealer>, stored: &str) -> Result<String, StoreError> {
    sealed::open(sealer, stored).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// What the start-up check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// No key, and nothing sealed: credentials are stored as they are.
    NoKey,
    /// The key opens every sealed value; `sealed_now` values stored before were sealed.
    Opens { sealed_now: usize },
}

/// The columns holding secrets we must be able to use again: (table, column). (API keys,
/// tokens, passwords and invitation links are kept as hashes instead.)
const SEALED: [(&str, &str); 6] = [
    ("partners", "auth"),
    ("partners", "signing_secret"),
    ("partners", "previous_signing_secret"),
    ("sources", "facebook"),
    ("server_keys", "value"),
    ("notifications", "secret"),
];

impl Store {
    /// Opens every stored credential with the configured key (or proves none is sealed
    /// when there is no key), and seals those stored in the clear before the key was set.
    pub async fn check_secret_key(&self) -> Result<KeyCheck, SealError> {
        let read = |e: StoreError| {
            tracing::error!(error = %e, "reading stored credentials failed");
            SealError::Damaged
        };
        let mut plain = Vec::new();
        for (table, column) in SEALED {
            let rows = sqlx::query(&format!(
                "SELECT id, {column} AS v FROM {table} WHERE {column} IS NOT NULL"
            ))
            .fetch_all(self.reader())
            .await
            .map_err(|e| read(e.into()))?;
            for r in &rows {
                let id: i64 = r.try_get("id").map_err(|e| read(e.into()))?;
                let v: String = r.try_get("v").map_err(|e| read(e.into()))?;
                let opened = sealed::open(self.sealer(), &v)?;
                if !sealed::is_sealed(&v) {
                    plain.push((table, column, id, opened));
                }
            }
        }
        let Some(sealer) = self.sealer() else {
            return Ok(KeyCheck::NoKey);
        };
        let sealed_now = plain.len();
        self.seal_all(sealer, plain).await.map_err(read)?;
        Ok(KeyCheck::Opens { sealed_now })
    }

    async fn seal_all(
        &self,
        sealer: &Sealer,
        plain: Vec<(&str, &str, i64, String)>,
    ) -> Result<(), StoreError> {
        if plain.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin(Priority::Background).await?;
        for (table, column, id, value) in plain {
            sqlx::query(&format!(
                "UPDATE {table} SET {column} = $1 WHERE id = $2 AND {column} = $3"
            ))
            .bind(sealer.seal(&value))
            .bind(id)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
