//! Secrets we issue (admin API tokens, partner API keys, source tokens) are random and long,
//! so a fast one-way hash is the right storage: the database never holds a usable secret,
//! and lookups stay an index probe. (Passwords, which are short and human-chosen, use argon2
//! elsewhere.)

use sha2::{Digest, Sha256};

/// Prefix of admin API tokens, so that a leaked one is recognisable in a scan.
pub const ADMIN_TOKEN_PREFIX: &str = "lra_";
/// Prefix of partner API keys, as the partner integration guide names them.
pub const PARTNER_KEY_PREFIX: &str = "pk_";

/// The stored form of an issued secret: lower-case hex SHA-256.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The part of a secret that may be shown again later (lists, logs of administrative
/// actions) to tell secrets apart without revealing them.
pub fn display_prefix(secret: &str) -> String {
    secret.chars().take(8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_hex_sha256() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn different_secrets_hash_differently() {
        assert_ne!(hash_secret("lra_a"), hash_secret("lra_b"));
    }

    #[test]
    fn display_prefix_keeps_only_eight_characters() {
        assert_eq!(display_prefix("lra_0123456789abcdef"), "lra_0123");
        assert_eq!(display_prefix("pk_1"), "pk_1");
    }
}
