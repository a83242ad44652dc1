//! Connects an account (and one of its numbers) to its provider: decrypts the stored
//! credentials and builds the provider client.

use std::sync::Arc;

use crate::config::Settings;
use crate::crypto::Vault;
use crate::error::{ApiError, ApiResult};
use crate::providers::{self, Provider, ProviderConfig, ProviderCredentials};
use crate::store::accounts::Account;
use crate::store::phone_numbers::PhoneNumberRow;

/// Provider settings from the service settings.
pub fn provider_config(s: &Settings) -> ProviderConfig {
    ProviderConfig {
        meta_graph_url: s.meta_graph_url.clone(),
        meta_api_version: s.meta_api_version.clone(),
        tata_base_url: s.tata_base_url.clone(),
        timeout: std::time::Duration::from_secs(s.provider_timeout_secs),
        sandbox_approval_delay: std::time::Duration::from_secs(s.sandbox_approval_secs),
    }
}

fn decrypt(vault: &Vault, v: &Option<String>) -> ApiResult<Option<String>> {
    v.as_deref()
        .map(|t| vault.decrypt(t).map_err(|_| ApiError::internal("a stored secret cannot be decrypted with the configured FERNET_KEYS")))
        .transpose()
}

/// The provider for an account, sending from `phone` when given.
pub fn provider_for(account: &Account, phone: Option<&PhoneNumberRow>, vault: &Vault, settings: &Settings) -> ApiResult<Arc<dyn Provider>> {
    let creds = ProviderCredentials {
        access_token: decrypt(vault, &account.access_token_enc)?,
        app_secret: decrypt(vault, &account.app_secret_enc)?,
        waba_id: account.waba_id.clone(),
        phone_number_id: phone.and_then(|p| p.provider_phone_number_id.clone()),
        tata_token: decrypt(vault, &account.tata_auth_token_enc)?,
        tata_base_url: account.tata_base_url.clone(),
        tata_integration_id: account.app_id.clone(),
    };
    Ok(providers::build(&account.provider, creds, &provider_config(settings)))
}
