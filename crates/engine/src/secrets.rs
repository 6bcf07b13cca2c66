//! Fresh random secrets, in the formats API.md promises.

use leadrouter_core::token::{ADMIN_TOKEN_PREFIX, PARTNER_KEY_PREFIX};
use rand::distributions::{Alphanumeric, DistString};
use rand::rngs::OsRng;
use rand::RngCore;

/// `lra_` + 40 alphanumerics (≈238 bits).
pub fn new_admin_token() -> String {
    format!(
        "{ADMIN_TOKEN_PREFIX}{}",
        Alphanumeric.sample_string(&mut OsRng, 40)
    )
}

/// `pk_` + 32 alphanumerics (≈190 bits).
pub fn new_partner_key() -> String {
    format!(
        "{PARTNER_KEY_PREFIX}{}",
        Alphanumeric.sample_string(&mut OsRng, 32)
    )
}

/// A Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes.
pub fn new_signing_secret() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// 64 lower-case hex characters (256 bits): a source's inbound token.
pub fn new_source_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// 43 URL-safe characters (256 bits): session ids and CSRF tokens.
pub fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_as_documented() {
        let admin = new_admin_token();
        assert!(admin.starts_with("lra_") && admin.len() == 44, "{admin}");
        let key = new_partner_key();
        assert!(key.starts_with("pk_") && key.len() == 35, "{key}");
        assert!(key[3..].chars().all(|c| c.is_ascii_alphanumeric()));
        let token = new_source_token();
        assert_eq!(token.len(), 64);
        assert!(token
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(new_source_token(), token);
        let whsec = new_signing_secret();
        assert!(
            whsec.starts_with("whsec_") && whsec.len() == 6 + 44,
            "{whsec}"
        );
    }
}
