//! Connects an account (and one of its numbers) to its provider: decrypts the stored
//! credentials and builds the provider client, cached until the account changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::config::Settings;
use crate::crypto::Vault;
use crate::error::{ApiError, ApiResult};
use crate::providers::{self, Provider, ProviderConfig, ProviderCredentials};
use crate::store::accounts::Account;
use crate::store::phone_numbers::PhoneNumberRow;

/// Provider settings from the service settings.
pub fn provider_config(s: &Settings) -> ProviderConfig {
    ProviderConfig {
        timeout: std::time::Duration::from_secs(s.provider_timeout_secs),
        sandbox_approval_delay: std::time::Duration::from_secs(s.sandbox_approval_secs),
        ..ProviderConfig::from_settings(s)
    }
}

fn decrypt(vault: &Vault, v: &Option<String>) -> ApiResult<Option<String>> {
    v.as_deref()
        .map(|t| {
            vault
                .decrypt(t)
                .map_err(|_| ApiError::internal("a stored secret cannot be decrypted with the configured FERNET_KEYS"))
        })
        .transpose()
}

/// Built providers by (account, sending number), rebuilt when the account row changes.
/// Reuses HTTP connections, and keeps the sandbox's simulated state for the process's life.
#[derive(Clone, Default)]
pub struct ProviderCache {
    #[allow(clippy::type_complexity)]
    inner: Arc<Mutex<HashMap<(i64, Option<String>), (chrono::NaiveDateTime, Arc<dyn Provider>)>>>,
}

impl ProviderCache {
    /// The provider for an account, sending from `phone` when given.
    pub fn get(
        &self,
        account: &Account,
        phone: Option<&PhoneNumberRow>,
        vault: &Vault,
        settings: &Settings,
    ) -> ApiResult<Arc<dyn Provider>> {
        let phone_id = phone.and_then(|p| p.provider_phone_number_id.clone());
        let key = (account.id, phone_id.clone());
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((version, p)) = map.get(&key)
            && *version == account.updated_at
        {
            return Ok(p.clone());
        }
        let creds = ProviderCredentials {
            access_token: decrypt(vault, &account.access_token_enc)?,
            app_secret: decrypt(vault, &account.app_secret_enc)?,
            waba_id: account.waba_id.clone(),
            phone_number_id: phone_id,
            tata_token: decrypt(vault, &account.tata_auth_token_enc)?,
            tata_base_url: account.tata_base_url.clone(),
            tata_integration_id: account.app_id.clone(),
        };
        let sandbox_shared = account.provider == "sandbox";
        let provider = match map.iter().find(|((a, _), _)| sandbox_shared && *a == account.id) {
            Some((_, (_, p))) => p.clone(),
            None => providers::build(&account.provider, creds, &provider_config(settings)),
        };
        map.insert(key, (account.updated_at, provider.clone()));
        Ok(provider)
    }
}
