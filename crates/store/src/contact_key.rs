//! The server's contact key: the HMAC key of the hashes an erased lead keeps of its e-mail
//! and phone. Made once, at random, and kept in `server_keys` (sealed with
//! `LEADROUTER_SECRET_KEY` like the credentials when that is set), so that every process
//! and every restart hash alike.

use crate::{Priority, Store, StoreError};
use sqlx::Row;

const NAME: &str = "contact_hash";

impl Store {
    /// Reads (or makes and stores) the contact key now: every lead's intake uses it, and
    /// the first lead would otherwise wait for it.
    pub async fn load_contact_key_now(&self) -> Result<(), StoreError> {
        self.contact_key().await.map(|_| ())
    }

    /// The contact key, read (or made and stored) on first use.
    pub(crate) async fn contact_key(&self) -> Result<&[u8], StoreError> {
        self.contact_key
            .get_or_try_init(|| self.load_contact_key())
            .await
            .map(Vec::as_slice)
    }

    async fn load_contact_key(&self) -> Result<Vec<u8>, StoreError> {
        if let Some(k) = self.stored_contact_key().await? {
            return Ok(k);
        }
        let made = leadrouter_core::sealed::random_key_text();
        let stored = leadrouter_core::sealed::store(self.sealer(), &made);
        sqlx::query(
            "INSERT INTO server_keys (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(NAME)
        .bind(stored)
        .bind(leadrouter_core::clock::Clock::now_ms(
            &crate::clock::SystemClock,
        ))
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        self.stored_contact_key()
            .await?
            .ok_or_else(|| StoreError::Corrupt("the contact key was not stored".into()))
    }

    async fn stored_contact_key(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT value FROM server_keys WHERE name = $1")
            .bind(NAME)
            .fetch_optional(self.reader())
            .await?;
        let Some(row) = row else { return Ok(None) };
        // The key is the text of 32 random bytes in base64; HMAC takes it as it is.
        let opened = crate::secrets::open(self.sealer(), &row.try_get::<String, _>(0)?)?;
        Ok(Some(opened.into_bytes()))
    }
}
