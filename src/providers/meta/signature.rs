//! Webhook signatures: `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body
//! with the app secret, compared in constant time (reference §4).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Whether `header` is the signature of `raw_body` under `app_secret`. A missing or malformed
/// header, or an empty secret, is `false`.
pub fn verify(app_secret: &str, raw_body: &[u8], header: Option<&str>) -> bool {
    let Some(given) = header.and_then(|h| h.trim().strip_prefix("sha256=")).and_then(|h| hex::decode(h).ok()) else {
        return false;
    };
    if app_secret.is_empty() {
        return false;
    }
    sign(app_secret, raw_body).ct_eq(&given).into()
}

/// The raw HMAC-SHA256 of `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;

    fn header(secret: &str, body: &[u8]) -> String {
        format!("sha256={}", hex::encode(sign(secret, body)))
    }

    #[test]
    fn accepts_a_valid_signature() {
        assert!(verify("app-secret", BODY, Some(&header("app-secret", BODY))));
    }

    #[test]
    fn known_vector_matches() {
        let expected = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8";
        assert!(verify("key", b"The quick brown fox jumps over the lazy dog", Some(expected)));
    }

    #[test]
    fn refuses_invalid_signatures() {
        let good = header("app-secret", BODY);
        assert!(!verify("other-secret", BODY, Some(&good)));
        assert!(!verify("app-secret", b"{\"tampered\":true}", Some(&good)));
        assert!(!verify("app-secret", BODY, Some(good.trim_start_matches("sha256="))));
        assert!(!verify("app-secret", BODY, Some("sha256=not-hex")));
        assert!(!verify("", BODY, Some(&header("", BODY))));
    }

    #[test]
    fn refuses_a_missing_header() {
        assert!(!verify("app-secret", BODY, None));
    }
}
