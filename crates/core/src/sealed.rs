//! Credentials encrypted at rest (`LEADROUTER_SECRET_KEY`): ChaCha20-Poly1305 with a random
//! nonce per value, stored as `sealed:v1:<base64(nonce || ciphertext)>`. A value without
//! the prefix is one written before a key was set; it reads as it is.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

const PREFIX: &str = "sealed:v1:";
const NONCE_BYTES: usize = 12;

/// The key that seals and opens stored credentials.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

/// Why a stored value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the stored secret does not open with LEADROUTER_SECRET_KEY (a different key?)")]
    WrongKey,
    #[error("the stored secret is encrypted: set LEADROUTER_SECRET_KEY")]
    NoKey,
    #[error("the stored secret is damaged")]
    Damaged,
}

/// 32 random bytes in base64: a new key the server makes for itself.
pub fn random_key_text() -> String {
    STANDARD.encode(ChaCha20Poly1305::generate_key(&mut OsRng))
}

impl Sealer {
    /// The key from its configured text: 32 bytes in base64 (`openssl rand -base64 32`).
    pub fn from_config(text: &str) -> Result<Sealer, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| "must be 32 bytes in base64 (openssl rand -base64 32)".to_string())?;
        if bytes.len() != 32 {
            return Err(format!(
                "must be 32 bytes in base64 (openssl rand -base64 32), not {}",
                bytes.len()
            ));
        }
        Ok(Sealer {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
        })
    }

    pub fn seal(&self, plain: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .expect("ChaCha20-Poly1305 encrypts any text");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    fn open_sealed(&self, body: &str) -> Result<String, SealError> {
        let bytes = STANDARD.decode(body).map_err(|_| SealError::Damaged)?;
        if bytes.len() < NONCE_BYTES {
            return Err(SealError::Damaged);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SealError::Damaged)
    }
}

/// Whether a stored value is sealed.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// A stored value as written: sealed when there is a key.
pub fn store(sealer: Option<&Sealer>, plain: &str) -> String {
    sealer.map_or_else(|| plain.to_string(), |s| s.seal(plain))
}

/// A stored value as it reads: opened when sealed (which needs the key), else as it is.
pub fn open(sealer: Option<&Sealer>, stored: &str) -> Result<String, SealError> {
    match (stored.strip_prefix(PREFIX), sealer) {
        (None, _) => Ok(stored.to_string()),
        (Some(body), Some(s)) => s.open_sealed(body),
        (Some(_), None) => Err(SealError::NoKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Sealer {
        Sealer::from_config(&STANDARD.encode([byte; 32])).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_only() {
        let k = key(7);
        let stored = store(Some(&k), r#"{"type":"bearer","token":"partner-s3cret"}"#);
        assert!(
            is_sealed(&stored) && !stored.contains("partner-s3cret"),
            "{stored}"
        );
        assert_eq!(
            open(Some(&k), &stored).unwrap(),
            r#"{"type":"bearer","token":"partner-s3cret"}"#
        );
        assert_ne!(
            store(Some(&k), "x"),
            store(Some(&k), "x"),
            "a fresh nonce each time"
        );
        assert_eq!(open(Some(&key(8)), &stored), Err(SealError::WrongKey));
        assert_eq!(open(None, &stored), Err(SealError::NoKey));
        assert_eq!(
            open(Some(&k), "plain, from before the key"),
            Ok("plain, from before the key".into())
        );
    }

    #[test]
    fn the_key_is_32_bytes_of_base64() {
        assert!(Sealer::from_config("not base64 at all!").is_err());
        assert!(Sealer::from_config(&STANDARD.encode([1u8; 16]))
            .unwrap_err()
            .contains("not 16"));
    }
}
