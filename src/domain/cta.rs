//! CTA click-tracking tokens: `<lead_id>.<issued_at>.<signature>`, where the signature is the hex
//! HMAC-SHA256 of `"<lead_id>.<issued_at>"` under a key derived from the JWT secret. A link that
//! names a campaign (`&c=<campaign_id>`) signs `"<lead_id>.<issued_at>.c<campaign_id>"` instead, so
//! the campaign cannot be changed or added without breaking the signature.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The two actions a CTA link or quick reply can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CtaAction {
    Interested,
    NotInterested,
}

impl CtaAction {
    pub fn as_str(self) -> &'static str {
        match self {
            CtaAction::Interested => "interested",
            CtaAction::NotInterested => "not_interested",
        }
    }

    /// The button label shown to the contact.
    pub fn label(self) -> &'static str {
        match self {
            CtaAction::Interested => "Interested",
            CtaAction::NotInterested => "Not interested",
        }
    }
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
    /// Signed for another lead than the link names.
    WrongLead,
    Expired,
}

/// Signs and checks tokens with one key.
#[derive(Clone)]
pub struct CtaSigner {
    key: [u8; 32],
    ttl_secs: i64,
}

impl CtaSigner {
    /// A signer whose key is derived from `secret` (the JWT secret) for this purpose only.
    pub fn new(secret: &str, ttl_secs: i64) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(b"wabahub cta token v1");
        CtaSigner { key: mac.finalize().into_bytes().into(), ttl_secs }
    }

    fn mac(&self, lead_id: i64, issued_at: i64, campaign: Option<i64>) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        match campaign {
            None => mac.update(format!("{lead_id}.{issued_at}").as_bytes()),
            Some(c) => mac.update(format!("{lead_id}.{issued_at}.c{c}").as_bytes()),
        }
        mac
    }

    /// A token for a lead, issued at `issued_at` (unix seconds).
    pub fn issue(&self, lead_id: i64, issued_at: i64) -> String {
        self.issue_for(lead_id, None, issued_at)
    }

    /// A token for a lead and, when given, the campaign whose message carries the link.
    pub fn issue_for(&self, lead_id: i64, campaign: Option<i64>, issued_at: i64) -> String {
        let sig = hex::encode(self.mac(lead_id, issued_at, campaign).finalize().into_bytes());
        format!("{lead_id}.{issued_at}.{sig}")
    }

    /// Checks a token against the lead the link names, at `now` (unix seconds); the signature is
    /// compared in constant time.
    pub fn verify(&self, token: &str, lead_id: i64, now: i64) -> Result<(), TokenError> {
        self.verify_for(token, lead_id, None, now)
    }

    /// As `verify`, for a link that names a campaign (`None`: it names none).
    pub fn verify_for(&self, token: &str, lead_id: i64, campaign: Option<i64>, now: i64) -> Result<(), TokenError> {
        let mut parts = token.splitn(3, '.');
        let (Some(lead), Some(issued), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(TokenError::Malformed);
        };
        let token_lead: i64 = lead.parse().map_err(|_| TokenError::Malformed)?;
        let issued_at: i64 = issued.parse().map_err(|_| TokenError::Malformed)?;
        let sig = hex::decode(sig).map_err(|_| TokenError::Malformed)?;
        self.mac(token_lead, issued_at, campaign).verify_slice(&sig).map_err(|_| TokenError::BadSignature)?;
        if token_lead != lead_id {
            return Err(TokenError::WrongLead);
        }
        if now < issued_at - 300 || now - issued_at > self.ttl_secs {
            return Err(TokenError::Expired);
        }
        Ok(())
    }

    /// The tracking URL for a lead and action under `base` (the public base URL).
    pub fn link(&self, base: &str, lead_id: i64, action: CtaAction, now: i64) -> String {
        self.link_for(base, lead_id, action, None, now)
    }

    /// The tracking URL for a lead, action and (optionally) the campaign that sends it: `&c=<id>`.
    pub fn link_for(&self, base: &str, lead_id: i64, action: CtaAction, campaign: Option<i64>, now: i64) -> String {
        let token = self.issue_for(lead_id, campaign, now);
        let base = base.trim_end_matches('/');
        let c = campaign.map(|c| format!("&c={c}")).unwrap_or_default();
        format!("{base}/t/{lead_id}?token={token}&action={}{c}", action.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> CtaSigner {
        CtaSigner::new("a-test-secret-that-is-long-enough-000", 3600)
    }

    #[test]
    fn accepts_its_own_tokens_within_the_expiry() {
        let s = signer();
        let t = s.issue(42, 1_000_000);
        assert_eq!(s.verify(&t, 42, 1_000_000 + 3600), Ok(()));
    }

    #[test]
    fn refuses_tampered_foreign_expired_and_malformed_tokens() {
        let s = signer();
        let t = s.issue(42, 1_000_000);
        assert_eq!(s.verify(&t, 43, 1_000_001), Err(TokenError::WrongLead));
        assert_eq!(s.verify(&t, 42, 1_000_000 + 3601), Err(TokenError::Expired));
        let forged = t.replacen("42.", "43.", 1);
        assert_eq!(s.verify(&forged, 43, 1_000_001), Err(TokenError::BadSignature));
        let other = CtaSigner::new("another-secret-that-is-long-enough-0000", 3600).issue(42, 1_000_000);
        assert_eq!(s.verify(&other, 42, 1_000_001), Err(TokenError::BadSignature));
        for bad in ["", "42", "42.x.ab", "42.1000000.zz"] {
            assert_eq!(s.verify(bad, 42, 1_000_001), Err(TokenError::Malformed), "{bad}");
        }
    }

    #[test]
    fn links_carry_the_lead_token_and_action() {
        let s = signer();
        let url = s.link("https://hub.example.com/", 7, CtaAction::NotInterested, 1_000_000);
        assert!(url.starts_with("https://hub.example.com/t/7?token=7.1000000."), "{url}");
        assert!(url.ends_with("&action=not_interested"), "{url}");
    }

    #[test]
    fn a_campaign_is_covered_by_the_signature() {
        let s = signer();
        let url = s.link_for("https://hub.example.com", 7, CtaAction::Interested, Some(5), 1_000_000);
        assert!(url.ends_with("&action=interested&c=5"), "{url}");
        let t = s.issue_for(7, Some(5), 1_000_000);
        assert_eq!(s.verify_for(&t, 7, Some(5), 1_000_001), Ok(()));
        assert_eq!(s.verify_for(&t, 7, Some(6), 1_000_001), Err(TokenError::BadSignature));
        assert_eq!(s.verify(&t, 7, 1_000_001), Err(TokenError::BadSignature));
        assert_eq!(s.verify_for(&s.issue(7, 1_000_000), 7, Some(5), 1_000_001), Err(TokenError::BadSignature));
    }
}
