//! Request and response bodies of the account endpoints.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::domain::account::{AccountStatus, BotSettings, BusinessProfile, Limits, ProviderKind, WebhookField};
use crate::routes::utc;
use crate::store::accounts::Account;

/// The body of `POST /accounts` (where `name` is required) and `PATCH /accounts/{id}`.
/// Secrets are write-only: they are stored encrypted and never returned.
#[derive(Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// `meta`, `tata` or `sandbox` (the default); set at creation only.
    pub provider: Option<ProviderKind>,
    /// On update only: `active` (after setup) or `suspended`.
    pub status: Option<AccountStatus>,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub waba_id: Option<String>,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub meta_business_account_id: Option<String>,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub app_id: Option<String>,
    #[validate(length(min = 8, max = 256))]
    #[schema(min_length = 8, max_length = 256)]
    pub app_secret: Option<String>,
    #[validate(length(min = 8, max = 4096))]
    #[schema(min_length = 8, max_length = 4096)]
    pub access_token: Option<String>,
    #[validate(length(min = 8, max = 128))]
    #[schema(min_length = 8, max_length = 128)]
    pub webhook_verify_token: Option<String>,
    /// Tata Omni JWT.
    #[validate(length(min = 8, max = 4096))]
    #[schema(min_length = 8, max_length = 4096)]
    pub tata_auth_token: Option<String>,
    /// The Tata API base URL for this account: only the platform's own or one on its allow-list
    /// (`TATA_ALLOWED_BASE_URLS`); anything else is 422 `not_in_allow_list` (or `invalid_url`,
    /// `url_not_allowed`). Omitted: the platform's.
    #[validate(url, length(max = 512))]
    #[schema(max_length = 512)]
    pub tata_base_url: Option<String>,
    #[validate(nested)]
    pub business_profile: Option<BusinessProfile>,
    #[validate(nested)]
    pub bot_settings: Option<BotSettings>,
    pub subscribed_events: Option<Vec<WebhookField>>,
    #[validate(nested)]
    pub limits: Option<Limits>,
}

/// Which secrets are stored, never their values.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialsOut {
    pub has_access_token: bool,
    /// The token's last four characters, e.g. `****x9Qz`.
    pub access_token_hint: Option<String>,
    pub has_app_secret: bool,
    pub has_webhook_verify_token: bool,
    pub has_tata_auth_token: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    pub id: i64,
    pub name: String,
    pub provider: ProviderKind,
    pub status: AccountStatus,
    /// Setup steps completed, 0 to 6.
    pub setup_step: i32,
    pub waba_id: Option<String>,
    pub meta_business_account_id: Option<String>,
    pub app_id: Option<String>,
    pub tata_base_url: Option<String>,
    pub credentials: CredentialsOut,
    pub business_profile: BusinessProfile,
    pub bot_settings: BotSettings,
    pub subscribed_events: Vec<WebhookField>,
    pub limits: Limits,
    /// Where the provider must send webhooks for this account.
    pub webhook_url: String,
    pub health_status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The webhook URL of an account: `/webhooks/{meta|tata}/{key}` under the public base URL.
pub fn webhook_url(base: &str, provider: ProviderKind, key: &str) -> String {
    let path = if provider == ProviderKind::Tata { "tata" } else { "meta" };
    format!("{}/webhooks/{path}/{key}", base.trim_end_matches('/'))
}

impl AccountOut {
    pub fn new(a: Account, public_base_url: &str) -> Self {
        let provider = ProviderKind::parse(&a.provider);
        AccountOut {
            id: a.id,
            provider,
            status: AccountStatus::parse(&a.status),
            setup_step: a.setup_step,
            credentials: CredentialsOut {
                has_access_token: a.access_token_enc.is_some(),
                access_token_hint: a.access_token_hint,
                has_app_secret: a.app_secret_enc.is_some(),
                has_webhook_verify_token: a.verify_token_enc.is_some(),
                has_tata_auth_token: a.tata_auth_token_enc.is_some(),
            },
            business_profile: serde_json::from_str(&a.business_profile).unwrap_or_default(),
            bot_settings: serde_json::from_str(&a.bot_settings).unwrap_or_default(),
            subscribed_events: serde_json::from_str(&a.subscribed_events).unwrap_or_default(),
            limits: Limits {
                messages_per_second: a.limit_per_second,
                messages_per_minute: a.limit_per_minute,
                messages_per_day: a.limit_per_day,
                messages_per_month: a.limit_per_month,
            },
            webhook_url: webhook_url(public_base_url, provider, &a.webhook_key),
            name: a.name,
            waba_id: a.waba_id,
            meta_business_account_id: a.meta_business_account_id,
            app_id: a.app_id,
            tata_base_url: a.tata_base_url,
            health_status: a.health_status,
            created_at: utc(a.created_at),
            updated_at: utc(a.updated_at),
        }
    }
}

/// Filters of `GET /accounts`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilter {
    pub provider: Option<ProviderKind>,
    pub status: Option<AccountStatus>,
}
