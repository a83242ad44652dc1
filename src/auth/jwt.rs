//! Short-lived HS256 access tokens. Each names the session it was issued from (`sid`), so signing
//! the session out stops it before it expires.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Tenant id.
    pub tid: i64,
    /// Session id (`sessions.id`).
    pub sid: i64,
    pub iat: i64,
    pub exp: i64,
}

/// What a verified access token names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub user_id: i64,
    pub session_id: i64,
}

/// Signing and verification keys built once from `JWT_SECRET`.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl_secs: i64,
}

impl JwtKeys {
    pub fn new(secret: &str, ttl_secs: i64) -> Self {
        JwtKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            ttl_secs,
        }
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Issues a token for a user's session.
    pub fn issue(&self, user_id: i64, tenant_id: i64, session_id: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims =
            Claims { sub: user_id.to_string(), tid: tenant_id, sid: session_id, iat: now, exp: now + self.ttl_secs };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding with an in-memory key cannot fail")
    }

    /// Verifies signature and expiry; returns the user and session (a token without `sid` fails).
    pub fn verify(&self, token: &str) -> Option<Access> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        Some(Access { user_id: data.claims.sub.parse().ok()?, session_id: data.claims.sid })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects_tampering() {
        let keys = JwtKeys::new("0123456789abcdef0123456789abcdef", 60);
        let token = keys.issue(42, 7, 9);
        assert_eq!(keys.verify(&token), Some(Access { user_id: 42, session_id: 9 }));
        let other = JwtKeys::new("fedcba9876543210fedcba9876543210", 60);
        assert_eq!(other.verify(&token), None);
        let expired = JwtKeys::new("0123456789abcdef0123456789abcdef", -120).issue(42, 7, 9);
        assert_eq!(keys.verify(&expired), None);
    }

    /// Tokens issued before sessions existed name none; they are refused, not trusted.
    #[test]
    fn a_token_without_a_session_is_refused() {
        #[derive(Serialize)]
        struct Old {
            sub: String,
            tid: i64,
            iat: i64,
            exp: i64,
        }
        let keys = JwtKeys::new("0123456789abcdef0123456789abcdef", 60);
        let now = chrono::Utc::now().timestamp();
        let old = Old { sub: "42".into(), tid: 7, iat: now, exp: now + 60 };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &old, &keys.encoding).unwrap();
        assert_eq!(keys.verify(&token), None);
    }
}
