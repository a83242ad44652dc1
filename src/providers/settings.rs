//! What a provider is built from: the account's decrypted credentials and the platform's
//! provider settings (base URLs, API version, timeouts, sandbox delay).

use std::fmt;
use std::time::Duration;

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
    /// Where Tata's automation webhook (the send fallback) lives, when not on the send base URL.
    pub tata_fallback_base_url: Option<String>,
    /// Total time allowed for one provider call.
    pub timeout: Duration,
    /// How long the sandbox keeps a new template `PENDING`.
    pub sandbox_approval_delay: Duration,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig {
            meta_graph_url: "https://graph.facebook.com".into(),
            meta_api_version: "v23.0".into(),
            tata_base_url: "https://wb.omni.tatatelebusiness.com".into(),
            tata_fallback_base_url: None,
            timeout: Duration::from_secs(15),
            sandbox_approval_delay: Duration::from_secs(2),
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
            ..ProviderConfig::default()
        }
    }
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
}
