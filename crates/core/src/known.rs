//! People a partner already has (API.md "People a partner already has — `known contacts`"):
//! an e-mail or phone number is kept only as a keyed hash of the SHA-256 of its normalized
//! form (lower-case e-mail, E.164 phone). Hashing the SHA-256, not the value, lets a
//! partner's upload of bare SHA-256 hashes meet a lead's contact, while what is stored
//! cannot be matched against a list of addresses without the server's key.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Which contact a hash is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    Email,
    Phone,
}

impl ContactKind {
    fn as_str(self) -> &'static str {
        match self {
            ContactKind::Email => "email",
            ContactKind::Phone => "phone",
        }
    }
}

/// An e-mail address as it is hashed: trimmed, lower-case; none when it is no address.
pub fn normalized_email(value: &str) -> Option<String> {
    let e = value.trim().to_lowercase();
    email_address::EmailAddress::is_valid(&e).then_some(e)
}

/// A phone number as it is hashed: E.164, national numbers read in `region` (the
/// partner's market); none when it does not parse.
pub fn normalized_phone(value: &str, region: Option<&str>) -> Option<String> {
    crate::phone::to_e164(value, region)
}

/// The SHA-256 of a normalized value, in lower-case hex (what a partner may upload).
pub fn sha256_hex(normalized: &str) -> String {
    hex::encode(Sha256::digest(normalized.as_bytes()))
}

/// An uploaded SHA-256 in hex (any case), lower-cased; none when it is not one.
pub fn parse_sha256(value: &str) -> Option<String> {
    let v = value.trim();
    (v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())).then(|| v.to_ascii_lowercase())
}

/// What is stored: the server's keyed hash of the SHA-256.
pub fn known_hash(key: &[u8], kind: ContactKind, sha256: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"known-");
    mac.update(kind.as_str().as_bytes());
    mac.update(b":");
    mac.update(sha256.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The hashes a lead is known by: of its e-mail and of its phone (already E.164).
pub fn lead_hashes(key: &[u8], email: Option<&str>, phone: Option<&str>) -> Vec<String> {
    let mut out = Vec::with_capacity(2);
    if let Some(e) = email.and_then(normalized_email) {
        out.push(known_hash(key, ContactKind::Email, &sha256_hex(&e)));
    }
    if let Some(p) = phone.map(str::trim).filter(|p| p.starts_with('+')) {
        out.push(known_hash(key, ContactKind::Phone, &sha256_hex(p)));
    }
    out
}

/// An upload read: the contacts by kind and SHA-256, and what was left out (with where it
/// was and why).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Upload {
    pub contacts: Vec<(ContactKind, String)>,
    pub skipped: Vec<String>,
}

impl Upload {
    /// Adds one value of a list (`list` and `at` say where it was, for the problem).
    pub fn add(&mut self, list: &str, at: usize, value: &str, region: Option<&str>) {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        let read = match list {
            "emails" | "email" => normalized_email(value)
                .map(|e| (ContactKind::Email, sha256_hex(&e)))
                .ok_or("is not an e-mail address"),
            "phones" | "phone" => normalized_phone(value, region)
                .map(|p| (ContactKind::Phone, sha256_hex(&p)))
                .ok_or("is not a phone number"),
            "email_sha256" => parse_sha256(value)
                .map(|h| (ContactKind::Email, h))
                .ok_or("is not a SHA-256 in hex"),
            _ => parse_sha256(value)
                .map(|h| (ContactKind::Phone, h))
                .ok_or("is not a SHA-256 in hex"),
        };
        match read {
            Ok(c) => self.contacts.push(c),
            Err(why) => self.skipped.push(format!("{list}[{at}] {why}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a test key of the server";

    #[test]
    fn an_upload_in_clear_by_hash_and_a_lead_meet() {
        let lead = lead_hashes(KEY, Some("Anna.Berg@Example.DE"), Some("+4915112345678"));
        let email = normalized_email(" anna.berg@example.de ").unwrap();
        let phone = normalized_phone("0151 12345678", Some("DE")).unwrap();
        assert_eq!(
            lead[0],
            known_hash(KEY, ContactKind::Email, &sha256_hex(&email))
        );
        assert_eq!(
            lead[1],
            known_hash(KEY, ContactKind::Phone, &sha256_hex(&phone))
        );
        let uploaded = sha256_hex("anna.berg@example.de").to_uppercase();
        let parsed = parse_sha256(&uploaded).unwrap();
        assert_eq!(lead[0], known_hash(KEY, ContactKind::Email, &parsed));
        // Neither the value nor its bare SHA-256 is what is stored.
        assert!(!lead[0].contains("anna") && lead[0] != sha256_hex(&email));
        // Another server's key gives other hashes; an e-mail's hash is no phone's.
        assert_ne!(lead_hashes(b"another key", Some(&email), None)[0], lead[0]);
        assert_ne!(
            known_hash(KEY, ContactKind::Phone, &sha256_hex(&email)),
            lead[0]
        );
    }

    #[test]
    fn an_upload_keeps_what_it_can_read_and_says_what_it_left_out() {
        let mut u = Upload::default();
        u.add("emails", 0, "Anna@Example.de", None);
        u.add("emails", 1, "nobody", None);
        u.add("phones", 0, "0151 12345678", Some("DE"));
        u.add("phone_sha256", 0, &sha256_hex("+4915112345678"), None);
        u.add("email_sha256", 0, "xyz", None);
        u.add("phones", 1, "  ", None);
        assert_eq!(u.contacts.len(), 3);
        assert_eq!(
            u.contacts[1], u.contacts[2],
            "a phone in clear and its hash are one"
        );
        assert_eq!(
            u.skipped,
            [
                "emails[1] is not an e-mail address",
                "email_sha256[0] is not a SHA-256 in hex"
            ]
        );
    }

    #[test]
    fn what_is_no_contact_is_refused() {
        assert_eq!(normalized_email("not an address"), None);
        assert_eq!(parse_sha256("abc"), None);
        assert_eq!(parse_sha256(&"g".repeat(64)), None);
        assert!(lead_hashes(KEY, None, Some("0151 1234")).is_empty());
    }
}
