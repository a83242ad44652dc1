//! Phone-number operations at the provider: sync, register, request and verify a code.

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::PhoneNumberOut;
use crate::auth::AuthContext;
use crate::domain::TenantId;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::remote::{self, NumberSyncReport, provider_error};
use crate::state::AppState;
use crate::store;
use crate::store::accounts::Account;
use crate::store::phone_numbers::{PhoneNumberChanges, PhoneNumberRow};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The number's two-step verification PIN (6 digits; sets it when none exists yet).
    #[validate(custom(function = "crate::domain::six_digits"))]
    #[schema(pattern = r"^[0-9]{6}$")]
    pub pin: String,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum CodeMethod {
    Sms,
    Voice,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestCodeRequest {
    pub code_method: CodeMethod,
    #[validate(length(min = 2, max = 15))]
    #[schema(min_length = 2, max_length = 15)]
    #[serde(default = "default_language")]
    pub language: String,
}

fn default_language() -> String {
    "en_US".into()
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyCodeRequest {
    #[validate(custom(function = "crate::domain::six_digits"))]
    #[schema(pattern = r"^[0-9]{6}$")]
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DoneOut {
    pub success: bool,
}

/// The number, its account, and the provider's id for it.
async fn load(state: &AppState, tenant: TenantId, id: i64) -> ApiResult<(PhoneNumberRow, Account, String)> {
    let (phone, account) = state
        .db
        .run(move |c| {
            let p = store::phone_numbers::get(c, tenant, id)?.ok_or_else(|| ApiError::not_found("phone number"))?;
            let a = crate::routes::accounts::require(c, tenant, p.account_id)?;
            Ok::<_, ApiError>((p, a))
        })
        .await?;
    let pid = phone
        .provider_phone_number_id
        .clone()
        .ok_or_else(|| ApiError::conflict("no_provider_id", "set the number's provider_phone_number_id first"))?;
    Ok((phone, account, pid))
}

/// Pulls the account's numbers from the provider (quality, tier, throughput, name, status).
#[utoipa::path(tag = "phone-numbers", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 200, body = NumberSyncReport),
    crate::openapi::ProviderProblems,
))]
#[post("/accounts/{id}/phone-numbers/sync")]
pub async fn sync_phone_numbers(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    let a = crate::routes::accounts::load(&state, auth.tenant_id, id).await?;
    Ok(HttpResponse::Ok().json(remote::sync_phone_numbers(&state, &a).await?))
}

/// Registers the number for Cloud API messaging with its PIN; it becomes `CONNECTED`.
#[utoipa::path(tag = "phone-numbers", security(("bearer" = [])), params(("id" = i64, Path)), request_body = RegisterRequest, responses(
    (status = 200, body = PhoneNumberOut),
    crate::openapi::ProviderProblems,
    (status = 409, description = "the number has no provider id (`no_provider_id`), or the account lacks a credential or id the call needs (`account_credentials_missing`)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/phone-numbers/{id}/register")]
pub async fn register_phone_number(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let (phone, account, pid) = load(&state, auth.tenant_id, id.into_inner()).await?;
    let provider = state.providers.get(&account, Some(&phone), &state.vault, &state.settings)?;
    provider.register_number(&pid, &body.0.pin).await.map_err(provider_error)?;
    let changes = PhoneNumberChanges { status: Some("CONNECTED".into()), ..Default::default() };
    let row = state.db.run(move |c| store::phone_numbers::update(c, auth.tenant_id, phone.id, changes)).await?;
    Ok(HttpResponse::Ok().json(PhoneNumberOut::from(row.ok_or_else(|| ApiError::not_found("phone number"))?)))
}

/// Asks the provider to send an ownership code by SMS or voice call.
#[utoipa::path(tag = "phone-numbers", security(("bearer" = [])), params(("id" = i64, Path)), request_body = RequestCodeRequest, responses(
    (status = 200, body = DoneOut),
    crate::openapi::ProviderProblems,
    (status = 409, description = "the number has no provider id (`no_provider_id`), or the account lacks a credential or id the call needs (`account_credentials_missing`)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/phone-numbers/{id}/request-code")]
pub async fn request_phone_code(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<RequestCodeRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let (phone, account, pid) = load(&state, auth.tenant_id, id.into_inner()).await?;
    let provider = state.providers.get(&account, Some(&phone), &state.vault, &state.settings)?;
    let method = match body.0.code_method {
        CodeMethod::Sms => crate::providers::CodeMethod::Sms,
        CodeMethod::Voice => crate::providers::CodeMethod::Voice,
    };
    provider.request_code(&pid, method, &body.0.language).await.map_err(provider_error)?;
    Ok(HttpResponse::Ok().json(DoneOut { success: true }))
}

/// Verifies the ownership code the provider sent.
#[utoipa::path(tag = "phone-numbers", security(("bearer" = [])), params(("id" = i64, Path)), request_body = VerifyCodeRequest, responses(
    (status = 200, body = DoneOut),
    crate::openapi::ProviderProblems,
    (status = 409, description = "the number has no provider id (`no_provider_id`), or the account lacks a credential or id the call needs (`account_credentials_missing`)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/phone-numbers/{id}/verify-code")]
pub async fn verify_phone_code(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<VerifyCodeRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let (phone, account, pid) = load(&state, auth.tenant_id, id.into_inner()).await?;
    let provider = state.providers.get(&account, Some(&phone), &state.vault, &state.settings)?;
    provider.verify_code(&pid, &body.0.code).await.map_err(provider_error)?;
    Ok(HttpResponse::Ok().json(DoneOut { success: true }))
}
