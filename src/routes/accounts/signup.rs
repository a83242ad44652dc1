//! Embedded Signup: turns the code, WABA id and phone-number id from Meta's popup into an active
//! account (token exchanged with the platform app, app subscribed, number registered).

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::insert_account;
use super::types::AccountOut;
use crate::auth::AuthContext;
use crate::connect::provider_config;
use crate::crypto::mask_hint;
use crate::db::{now, write_tx};
use crate::domain::account::{AccountStatus, ProviderKind, default_webhook_fields};
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::providers::meta::MetaProvider;
use crate::providers::meta::signup::exchange_code;
use crate::providers::{Provider, ProviderCredentials};
use crate::remote::provider_error;
use crate::routes::phone_numbers::PhoneNumberOut;
use crate::state::AppState;
use crate::store;
use crate::store::accounts::AccountChanges;
use crate::store::phone_numbers::NewPhoneNumber;

fn digits(v: &str) -> Result<(), validator::ValidationError> {
    v.bytes().all(|b| b.is_ascii_digit()).then_some(()).ok_or_else(|| validator::ValidationError::new("not_numeric"))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedSignupRequest {
    /// The code `FB.login` returned (valid for 30 seconds).
    #[validate(length(min = 1, max = 2048))]
    #[schema(min_length = 1, max_length = 2048)]
    pub code: String,
    #[validate(length(min = 1, max = 64), custom(function = "digits"))]
    #[schema(min_length = 1, max_length = 64, pattern = r"^[0-9]+$")]
    pub waba_id: String,
    #[validate(length(min = 1, max = 64), custom(function = "digits"))]
    #[schema(min_length = 1, max_length = 64, pattern = r"^[0-9]+$")]
    pub phone_number_id: String,
    #[validate(length(min = 1, max = 64), custom(function = "digits"))]
    #[schema(min_length = 1, max_length = 64, pattern = r"^[0-9]+$")]
    pub business_id: Option<String>,
    /// The account's name; the verified name of the number when omitted.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Two-step PIN to register the number with (6 digits); a random one when omitted.
    #[validate(custom(function = "crate::domain::six_digits"))]
    #[schema(pattern = r"^[0-9]{6}$")]
    pub pin: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmbeddedSignupResult {
    pub account: AccountOut,
    pub phone_number: PhoneNumberOut,
}

/// Completes Embedded Signup and creates an active Meta account with its number.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = EmbeddedSignupRequest, responses(
    (status = 201, body = EmbeddedSignupResult),
    (status = 409, description = "the platform app is not configured (META_APP_ID / META_APP_SECRET)", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 502, description = "Meta refused a step", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/accounts/embedded-signup")]
pub async fn embedded_signup(
    state: web::Data<AppState>,
    auth: AuthContext,
    body: ValidatedJson<EmbeddedSignupRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let req = body.0;
    let s = &state.settings;
    let (Some(app_id), Some(app_secret)) = (s.meta_app_id.clone(), s.meta_app_secret.clone()) else {
        return Err(ApiError::conflict(
            "embedded_signup_not_configured",
            "set META_APP_ID and META_APP_SECRET to use Embedded Signup",
        ));
    };
    let pnid = req.phone_number_id.clone();
    if state.db.run(move |c| store::phone_numbers::provider_id_taken(c, &pnid)).await? {
        return Err(ApiError::conflict("phone_number_id_taken", "this provider phone-number id is already registered"));
    }
    let cfg = provider_config(s);
    let token = exchange_code(&cfg, &app_id, &app_secret, &req.code).await.map_err(provider_error)?;
    let creds = ProviderCredentials {
        access_token: Some(token.clone()),
        app_secret: Some(app_secret.clone()),
        waba_id: Some(req.waba_id.clone()),
        phone_number_id: Some(req.phone_number_id.clone()),
        ..Default::default()
    };
    let meta = MetaProvider::new(creds, &cfg);
    meta.subscribe_app().await.map_err(provider_error)?;
    let pin = req.pin.clone().unwrap_or_else(|| format!("{:06}", rand::random::<u32>() % 1_000_000));
    meta.register_number(&req.phone_number_id, &pin).await.map_err(provider_error)?;
    let numbers = meta.list_phone_numbers().await.map_err(provider_error)?;
    let number = numbers.into_iter().find(|n| n.id == req.phone_number_id);
    let display = number.as_ref().map_or_else(|| req.phone_number_id.clone(), |n| n.display_phone_number.clone());
    let name = req
        .name
        .clone()
        .or_else(|| number.as_ref().and_then(|n| n.verified_name.clone()))
        .unwrap_or_else(|| display.clone());
    let vault = state.vault.clone();
    let (account, phone) = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                if store::phone_numbers::provider_id_taken(c, &req.phone_number_id)? {
                    return Err(ApiError::conflict(
                        "phone_number_id_taken",
                        "this provider phone-number id is already registered",
                    ));
                }
                let a = insert_account(c, auth.tenant_id, &name, ProviderKind::Meta)?;
                let ts = now();
                let phone = store::phone_numbers::insert(
                    c,
                    NewPhoneNumber {
                        tenant_id: auth.tenant_id.0,
                        account_id: a.id,
                        phone_number: crate::domain::phone::e164(&format!("+{}", display.trim_start_matches('+'))),
                        provider_phone_number_id: Some(req.phone_number_id.clone()),
                        display_phone_number: display.clone(),
                        verified_name: number.as_ref().and_then(|n| n.verified_name.clone()),
                        quality_rating: "UNKNOWN".into(),
                        messaging_limit_tier: number.as_ref().and_then(|n| n.messaging_limit_tier.clone()),
                        throughput_mps: ProviderKind::Meta.default_throughput(),
                        status: "CONNECTED".into(),
                        is_default: true,
                        created_at: ts,
                        updated_at: ts,
                    },
                )?;
                let changes = AccountChanges {
                    status: Some(AccountStatus::Active.as_str().into()),
                    setup_step: Some(6),
                    waba_id: Some(req.waba_id.clone()),
                    meta_business_account_id: req.business_id.clone(),
                    app_id: Some(app_id.clone()),
                    app_secret_enc: Some(vault.encrypt(&app_secret)),
                    access_token_enc: Some(vault.encrypt(&token)),
                    access_token_hint: Some(mask_hint(&token)),
                    verify_token_enc: Some(vault.encrypt(&crate::auth::tokens::random_token()[..24])),
                    subscribed_events: Some(super::to_json(&default_webhook_fields())),
                    ..Default::default()
                };
                let a = store::accounts::update(c, auth.tenant_id, a.id, changes)?
                    .ok_or_else(|| ApiError::not_found("account"))?;
                Ok::<_, ApiError>((a, phone))
            })
        })
        .await?;
    let base = &state.settings.public_base_url;
    Ok(HttpResponse::Created()
        .json(EmbeddedSignupResult { account: AccountOut::new(account, base), phone_number: phone.into() }))
}
