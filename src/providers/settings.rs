//! What a provider is built from: the account's decrypted credentials and the platform's
//! provider settings (base URLs, API version, timeouts, sandbox delay), and the rule for the one
//! endpoint an account may choose itself (its Tata base URL).

use std::fmt;
use std::time::Duration;

use crate::outbound::{check_literal, http_url};

/// Decrypted secrets and ids of one account. `Debug` shows which are set, never their values.
#[derive(Clone, Default)]
pub struct ProviderCredentials {
    pub access_token: Option<String>,
    pub app_secret: Option<String>,
    pub waba_id: Option<String>,
    pub phone_number_id: Option<String>,
    pub tata_token: Option<String>,
    pub tata_base_url: Option<String>,
    pub tata_integration_id: Option<String>,
}

impl fmt::Debug for ProviderCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |v: &Option<String>| if v.is_some() { "<set>" } else { "<none>" };
        f.debug_struct("ProviderCredentials")
            .field("access_token", &set(&self.access_token))
            .field("app_secret", &set(&self.app_secret))
            .field("waba_id", &self.waba_id)
            .field("phone_number_id", &self.phone_number_id)
            .field("tata_token", &set(&self.tata_token))
            .field("tata_base_url", &self.tata_base_url)
            .field("tata_integration_id", &self.tata_integration_id)
            .finish()
    }
}

/// Platform-wide provider settings.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// `META_GRAPH_URL`, e.g. `https://graph.facebook.com`.
    pub meta_graph_url: String,
    /// `META_API_VERSION`, e.g. `v23.0`.
    pub meta_api_version: String,
    /// `TATA_BASE_URL`, used when the account has no base URL of its own.
    pub tata_base_url: String,
    /// `TATA_ALLOWED_BASE_URLS`: the only other base URLs an account may use.
    pub tata_allowed_base_urls: Vec<String>,
    /// Where Tata's automation webhook (the send fallback) lives, when not on the send base URL.
    pub tata_fallback_base_url: Option<String>,
    /// Total time allowed for one provider call.
    pub timeout: Duration,
    /// How long the sandbox keeps a new template `PENDING`.
    pub sandbox_approval_delay: Duration,
    /// `ALLOW_PRIVATE_URLS`: provider URLs may be internal addresses (development and tests).
    pub allow_private_urls: bool,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig {
            meta_graph_url: "https://graph.facebook.com".into(),
            meta_api_version: "v23.0".into(),
            tata_base_url: "https://wb.omni.tatatelebusiness.com".into(),
            tata_allowed_base_urls: Vec::new(),
            tata_fallback_base_url: None,
            timeout: Duration::from_secs(15),
            sandbox_approval_delay: Duration::from_secs(2),
            allow_private_urls: false,
        }
    }
}

impl ProviderConfig {
    /// The settings from the application's configuration.
    pub fn from_settings(s: &crate::config::Settings) -> Self {
        ProviderConfig {
            meta_graph_url: s.meta_graph_url.clone(),
            meta_api_version: s.meta_api_version.clone(),
            tata_base_url: s.tata_base_url.clone(),
            tata_allowed_base_urls: s.tata_allowed_base_urls.clone(),
            allow_private_urls: s.allow_private_urls,
            ..ProviderConfig::default()
        }
    }

    /// Whether an account may use `url` as its Tata base URL: an http(s) URL equal to
    /// `TATA_BASE_URL` or to one of `TATA_ALLOWED_BASE_URLS` (scheme, host, port and path; a
    /// trailing slash aside), and not an internal IP address unless `ALLOW_PRIVATE_URLS` (names
    /// are checked when they are resolved, on every request). The error is the field code.
    pub fn check_tata_base_url(&self, url: &str) -> Result<(), &'static str> {
        let parsed = http_url(url).ok_or("invalid_url")?;
        let key = endpoint_key(&parsed).ok_or("invalid_url")?;
        let allowed = std::iter::once(&self.tata_base_url)
            .chain(&self.tata_allowed_base_urls)
            .any(|a| http_url(a).and_then(|a| endpoint_key(&a)).is_some_and(|a| a == key));
        if !allowed {
            return Err("not_in_allow_list");
        }
        check_literal(&parsed, self.allow_private_urls).map_err(|_| "url_not_allowed")
    }
}

/// What two base URLs must share to be the same endpoint: scheme, host, port and path without
/// its trailing slash. `None` for a URL with credentials, a query or a fragment.
fn endpoint_key(u: &reqwest::Url) -> Option<String> {
    if !u.username().is_empty() || u.password().is_some() || u.query().is_some() || u.fragment().is_some() {
        return None;
    }
    let port = u.port_or_known_default()?;
    Some(format!("{}://{}:{port}{}", u.scheme(), u.host_str()?, u.path().trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let creds = ProviderCredentials {
            access_token: Some("EAAG-secret-token".into()),
            app_secret: Some("app-secret-value".into()),
            tata_token: Some("jwt.secret.value".into()),
            waba_id: Some("1234".into()),
            ..Default::default()
        };
        let shown = format!("{creds:?}");
        for secret in ["EAAG-secret-token", "app-secret-value", "jwt.secret.value"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("1234") && shown.contains("<set>"), "{shown}");
    }

    #[test]
    fn a_tata_base_url_must_be_the_platforms_or_allow_listed_and_public() {
        let cfg = ProviderConfig {
            tata_base_url: "https://wb.omni.tatatelebusiness.com".into(),
            tata_allowed_base_urls: vec!["https://tata-eu.example.com/omni/".into(), "http://10.9.8.7:8080".into()],
            ..ProviderConfig::default()
        };
        for ok in [
            "https://wb.omni.tatatelebusiness.com",
            "https://wb.omni.tatatelebusiness.com/",
            "https://WB.omni.tatatelebusiness.com:443",
            "https://tata-eu.example.com/omni",
        ] {
            assert_eq!(cfg.check_tata_base_url(ok), Ok(()), "{ok}");
        }
        for (bad, code) in [
            ("file:///etc/passwd", "invalid_url"),
            ("gopher://x", "invalid_url"),
            ("not a url", "invalid_url"),
            ("https://user:pw@tata-eu.example.com/omni", "invalid_url"),
            ("https://tata-eu.example.com/omni?x=1", "invalid_url"),
            ("https://tata-eu.example.com", "not_in_allow_list"),
            ("https://tata-eu.example.com/omni/more", "not_in_allow_list"),
            ("http://wb.omni.tatatelebusiness.com", "not_in_allow_list"),
            ("http://127.0.0.1:9", "not_in_allow_list"),
            ("http://169.254.169.254", "not_in_allow_list"),
            ("http://[64:ff9b::a9fe:a9fe]/", "not_in_allow_list"),
            ("http://10.9.8.7:8080", "url_not_allowed"),
        ] {
            assert_eq!(cfg.check_tata_base_url(bad), Err(code), "{bad}");
        }
        let dev = ProviderConfig { allow_private_urls: true, ..cfg };
        assert_eq!(dev.check_tata_base_url("http://10.9.8.7:8080/"), Ok(()));
        assert_eq!(dev.check_tata_base_url("http://10.0.0.1"), Err("not_in_allow_list"));
    }
}
