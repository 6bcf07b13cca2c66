//! HMAC-SHA256 signatures: Facebook's `X-Hub-Signature-256` on what it sends us.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `app_secret`.
/// The comparison takes the same time wherever the first wrong byte is.
pub fn facebook_signature_valid(app_secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// `sha256=<hex>` for `body`; what Facebook sends (used by tests and fakes).
pub fn facebook_signature(app_secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_correct_signature_verifies_and_anything_else_does_not() {
        let body = br#"{"object":"page","entry":[]}"#;
        let sig = facebook_signature("app-secret", body);
        assert!(facebook_signature_valid("app-secret", body, Some(&sig)));
        assert!(!facebook_signature_valid("other-secret", body, Some(&sig)));
        assert!(!facebook_signature_valid("app-secret", b"{}", Some(&sig)));
        assert!(!facebook_signature_valid("app-secret", body, None));
        assert!(!facebook_signature_valid(
            "app-secret",
            body,
            Some("sha1=abc")
        ));
        assert!(!facebook_signature_valid(
            "app-secret",
            body,
            Some("sha256=zz")
        ));
        assert!(!facebook_signature_valid(
            "app-secret",
            body,
            Some(&sig[..20])
        ));
    }

    #[test]
    fn matches_an_independently_computed_hmac() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
        assert_eq!(
            facebook_signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

/// Standard Webhooks signatures (<https://www.standardwebhooks.com>), made and checked by the
/// project's own `standardwebhooks` crate: HMAC-SHA256 over `"{id}.{timestamp}.{body}"` with
/// the base64 key after `whsec_`, sent as `v1,<base64>`; several signatures (a rotated
/// secret's overlap) separated by spaces.
pub mod standard {
    use standardwebhooks::Webhook;

    /// The `webhook-signature` header value. `None` if the secret is not a `whsec_` key
    /// (or the body is not UTF-8, which the crate signs as text).
    pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
        secret.strip_prefix("whsec_")?;
        Webhook::new(secret)
            .ok()?
            .sign(msg_id, timestamp, body)
            .ok()
    }

    /// The header value signed with every one of `secrets` (the current first).
    pub fn sign_all(secrets: &[&str], msg_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
        let signed: Option<Vec<String>> = secrets
            .iter()
            .map(|s| sign(s, msg_id, timestamp, body))
            .collect();
        signed.filter(|s| !s.is_empty()).map(|s| s.join(" "))
    }

    /// What a receiver does: whether any `v1` signature in the header matches (the
    /// timestamp's age is not judged here; see [`verify_now`]).
    pub fn verify(secret: &str, msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        let Some(expected) = sign(secret, msg_id, timestamp, body) else {
            return false;
        };
        header
            .split(' ')
            .any(|sig| subtle::ConstantTimeEq::ct_eq(sig.as_bytes(), expected.as_bytes()).into())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The specification's published test vector.
        #[test]
        fn the_specifications_test_vector() {
            let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
            let body = br#"{"test": 2432232314}"#;
            assert_eq!(
                sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).as_deref(),
                Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
            );
            assert!(verify(
                secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                body,
                "v1,bm90IHRoaXMgb25l v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
            ));
            assert!(!verify(
                secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265331,
                body,
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
            ));
            assert_eq!(sign("not-a-whsec", "m", 1, b""), None);
        }
    }
}
