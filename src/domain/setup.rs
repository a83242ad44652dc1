//! The six setup steps: their bodies, and which fields each provider requires.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::account::{BotSettings, BusinessProfile, ProviderKind, WebhookField};
use crate::error::FieldErrors;

/// Step names in order; step `n` is `STEPS[n - 1]`.
pub const STEPS: [&str; 6] =
    ["business_account", "phone_number", "access_tokens", "business_profile", "bot", "webhook"];

/// Human titles of the steps, for the wizard.
pub const TITLES: [&str; 6] = [
    "Meta business account",
    "Phone number",
    "Access tokens",
    "Business profile",
    "Bot configuration",
    "Webhook configuration",
];

/// Parses `1`..`6` or a step name.
pub fn step_number(s: &str) -> Option<usize> {
    s.parse::<usize>()
        .ok()
        .filter(|n| (1..=6).contains(n))
        .or_else(|| STEPS.iter().position(|x| *x == s).map(|i| i + 1))
}

/// Step 1: the provider-side business and WABA ids.
#[derive(Clone, Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessAccountStep {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub meta_business_account_id: Option<String>,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub waba_id: Option<String>,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub app_id: Option<String>,
}

/// Step 2: the account's first (default) phone number.
#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneNumberStep {
    /// E.164, e.g. `+919876543210`; +91 numbers must be 10 digits starting with 6–9.
    #[validate(custom(function = "super::phone::validate_phone"))]
    #[schema(example = "+919876543210")]
    pub phone_number: String,
    /// The provider's id for the number (Meta's phone-number id).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub provider_phone_number_id: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub verified_name: Option<String>,
}

/// Step 3: credentials (stored encrypted, never returned).
#[derive(Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessTokensStep {
    #[validate(length(min = 8, max = 4096))]
    #[schema(min_length = 8, max_length = 4096)]
    pub access_token: Option<String>,
    #[validate(length(min = 8, max = 256))]
    #[schema(min_length = 8, max_length = 256)]
    pub app_secret: Option<String>,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub app_id: Option<String>,
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
}

impl std::fmt::Debug for AccessTokensStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokensStep").field("app_id", &self.app_id).finish_non_exhaustive()
    }
}

/// Step 6: how the provider reaches us.
#[derive(Clone, Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookStep {
    /// The token the provider echoes in the verification handshake; generated when omitted.
    #[validate(length(min = 8, max = 128))]
    #[schema(min_length = 8, max_length = 128)]
    pub verify_token: Option<String>,
    pub subscribed_events: Option<Vec<WebhookField>>,
}

/// All six steps in one body, for `POST /accounts/setup`.
#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FullSetup {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    pub provider: ProviderKind,
    #[validate(nested)]
    #[serde(default)]
    pub business_account: BusinessAccountStep,
    #[validate(nested)]
    pub phone_number: PhoneNumberStep,
    #[validate(nested)]
    #[serde(default)]
    pub access_tokens: AccessTokensStep,
    #[validate(nested)]
    pub business_profile: BusinessProfile,
    #[validate(nested)]
    #[serde(default)]
    pub bot: BotSettings,
    #[validate(nested)]
    #[serde(default)]
    pub webhook: WebhookStep,
}

/// What a step-6 save hands back: where to point the provider, and the verify token.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WebhookConfig {
    pub url: String,
    pub verify_token: String,
    pub subscribed_events: Vec<WebhookField>,
}

fn numeric(v: &Option<String>) -> bool {
    v.as_deref().is_none_or(|s| s.bytes().all(|b| b.is_ascii_digit()))
}

/// Adds `required` / `not_numeric` errors for fields the provider needs, under `prefix`.
fn need(errors: &mut FieldErrors, prefix: &str, field: &str, present: bool, numeric_ok: bool) {
    let key = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
    if !present {
        errors.entry(key).or_default().push("required".into());
    } else if !numeric_ok {
        errors.entry(key).or_default().push("not_numeric".into());
    }
}

impl BusinessAccountStep {
    /// Meta needs its numeric business and WABA ids; Tata and the sandbox need none.
    pub fn check(&self, provider: ProviderKind, prefix: &str, errors: &mut FieldErrors) {
        if provider == ProviderKind::Meta {
            need(
                errors,
                prefix,
                "meta_business_account_id",
                self.meta_business_account_id.is_some(),
                numeric(&self.meta_business_account_id),
            );
            need(errors, prefix, "waba_id", self.waba_id.is_some(), numeric(&self.waba_id));
            need(errors, prefix, "app_id", true, numeric(&self.app_id));
        }
    }
}

impl PhoneNumberStep {
    /// Meta needs the phone-number id it assigned.
    pub fn check(&self, provider: ProviderKind, prefix: &str, errors: &mut FieldErrors) {
        if provider == ProviderKind::Meta {
            let id = &self.provider_phone_number_id;
            need(errors, prefix, "provider_phone_number_id", id.is_some(), numeric(id));
        }
    }
}

impl AccessTokensStep {
    /// Meta needs an access token and the app secret (to verify webhooks); Tata its JWT.
    pub fn check(&self, provider: ProviderKind, prefix: &str, errors: &mut FieldErrors) {
        match provider {
            ProviderKind::Meta => {
                need(errors, prefix, "access_token", self.access_token.is_some(), true);
                need(errors, prefix, "app_secret", self.app_secret.is_some(), true);
            }
            ProviderKind::Tata => need(errors, prefix, "tata_auth_token", self.tata_auth_token.is_some(), true),
            ProviderKind::Sandbox => {}
        }
    }
}

/// Step 4 needs at least the business name.
pub fn check_profile(p: &BusinessProfile, prefix: &str, errors: &mut FieldErrors) {
    need(errors, prefix, "name", p.name.is_some(), true);
}

impl FullSetup {
    /// Every provider-specific requirement of all six steps, with step-prefixed field names.
    pub fn check(&self) -> FieldErrors {
        let mut errors = FieldErrors::new();
        self.business_account.check(self.provider, "business_account", &mut errors);
        self.phone_number.check(self.provider, "phone_number", &mut errors);
        self.access_tokens.check(self.provider, "access_tokens", &mut errors);
        check_profile(&self.business_profile, "business_profile", &mut errors);
        errors
    }
}
