//! WABA accounts: create, list, get, update, delete. Secrets go in encrypted and never come out.

pub mod setup;
pub mod setup_steps;
pub mod signup;
pub mod types;
pub mod usage;

use actix_web::{HttpResponse, delete, get, patch, post, web};

use self::types::*;
use crate::auth::{AuthContext, tokens};
use crate::connect::provider_config;
use crate::crypto::{Vault, mask_hint};
use crate::db::{DbConn, now, write_tx};
use crate::domain::TenantId;
use crate::domain::account::{AccountStatus, ProviderKind, default_webhook_fields};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::extract::ValidatedJson;
use crate::pagination::{PageQuery, Paginated};
use crate::state::AppState;
use crate::store::{self, accounts::AccountChanges, accounts::NewAccount};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(setup::create_account_setup)
        .service(signup::embedded_signup)
        .service(list_accounts)
        .service(create_account)
        .service(get_account)
        .service(update_account)
        .service(delete_account)
        .service(setup::get_account_setup)
        .configure(setup_steps::configure)
        .service(usage::get_account_usage)
        .service(usage::list_health_logs)
        .service(usage::run_health_check);
}

/// Turns the writable fields of an input into column changes, encrypting every secret.
pub fn changes_from(input: &AccountInput, vault: &Vault) -> AccountChanges {
    AccountChanges {
        name: input.name.as_ref().map(|n| n.trim().to_string()),
        waba_id: input.waba_id.clone(),
        meta_business_account_id: input.meta_business_account_id.clone(),
        app_id: input.app_id.clone(),
        app_secret_enc: input.app_secret.as_deref().map(|s| vault.encrypt(s)),
        access_token_enc: input.access_token.as_deref().map(|s| vault.encrypt(s)),
        access_token_hint: input.access_token.as_deref().map(mask_hint),
        verify_token_enc: input.webhook_verify_token.as_deref().map(|s| vault.encrypt(s)),
        tata_auth_token_enc: input.tata_auth_token.as_deref().map(|s| vault.encrypt(s)),
        tata_base_url: input.tata_base_url.clone(),
        business_profile: input.business_profile.as_ref().map(to_json),
        bot_settings: input.bot_settings.as_ref().map(to_json),
        subscribed_events: input.subscribed_events.as_ref().map(to_json),
        limit_per_second: input.limits.as_ref().and_then(|l| l.messages_per_second),
        limit_per_minute: input.limits.as_ref().and_then(|l| l.messages_per_minute),
        limit_per_day: input.limits.as_ref().and_then(|l| l.messages_per_day),
        limit_per_month: input.limits.as_ref().and_then(|l| l.messages_per_month),
        ..Default::default()
    }
}

/// Adds `field`'s code when `url` is a Tata base URL the platform does not allow
/// ([`crate::providers::ProviderConfig::check_tata_base_url`]).
pub fn check_tata_base_url(state: &AppState, url: Option<&str>, field: &str, errors: &mut FieldErrors) {
    if let Some(Err(code)) = url.map(|u| provider_config(&state.settings).check_tata_base_url(u)) {
        errors.entry(field.to_string()).or_default().push(code.to_string());
    }
}

/// Serialises a value for a JSON text column (our own types always serialise).
pub fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// The caller's account `id` (404 when it is not the tenant's), inside a transaction or query.
pub fn require(conn: &mut DbConn, tenant: TenantId, id: i64) -> ApiResult<store::accounts::Account> {
    store::accounts::get(conn, tenant, id)?.ok_or_else(|| ApiError::not_found("account"))
}

/// The caller's account `id` (404 when it is not the tenant's).
pub async fn load(state: &AppState, tenant: TenantId, id: i64) -> ApiResult<store::accounts::Account> {
    state.db.run(move |c| require(c, tenant, id)).await
}

/// Creates a pending account row after checking the tenant's account quota.
/// Call inside a write transaction.
pub fn insert_account(
    conn: &mut DbConn,
    tenant: TenantId,
    name: &str,
    provider: ProviderKind,
) -> ApiResult<store::accounts::Account> {
    let t = store::tenants::get(conn, tenant)?.ok_or_else(|| ApiError::not_found("tenant"))?;
    if let Some(max) = t.max_accounts
        && store::accounts::count(conn, tenant)? >= max
    {
        return Err(ApiError::conflict(
            "account_quota_exceeded",
            format!("this tenant may hold at most {max} accounts"),
        ));
    }
    let ts = now();
    Ok(store::accounts::insert(
        conn,
        NewAccount {
            tenant_id: tenant.0,
            name: name.trim().to_string(),
            provider: provider.as_str().into(),
            status: AccountStatus::PendingSetup.as_str().into(),
            setup_step: 0,
            webhook_key: tokens::random_token(),
            business_profile: "{}".into(),
            bot_settings: "{}".into(),
            subscribed_events: to_json(&default_webhook_fields()),
            created_at: ts,
            updated_at: ts,
        },
    )?)
}

/// Lists the tenant's accounts, newest first.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(PageQuery, AccountFilter), responses((status = 200, body = Paginated<AccountOut>)))]
#[get("/accounts")]
pub async fn list_accounts(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
    f: web::Query<AccountFilter>,
) -> ApiResult<HttpResponse> {
    let page = q.page()?;
    let filter = store::accounts::ListFilter {
        provider: f.provider.map(|p| p.as_str().to_string()),
        status: f.status.map(|s| s.as_str().to_string()),
    };
    let rows = state.db.run(move |c| store::accounts::list(c, auth.tenant_id, &filter, page)).await?;
    let base = &state.settings.public_base_url;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |a| a.id, |a| AccountOut::new(a, base))))
}

/// Creates an account in `pending_setup`; finish it with the setup steps.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = AccountInput, responses(
    (status = 201, body = AccountOut),
    (status = 409, description = "the tenant's account quota is reached", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/accounts")]
pub async fn create_account(
    state: web::Data<AppState>,
    auth: AuthContext,
    body: ValidatedJson<AccountInput>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let input = body.0;
    let mut errors = FieldErrors::new();
    if input.name.is_none() {
        errors.insert("name".into(), vec!["required".into()]);
    }
    if input.status.is_some() {
        errors.insert("status".into(), vec!["read_only".into()]);
    }
    check_tata_base_url(&state, input.tata_base_url.as_deref(), "tata_base_url", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let changes = changes_from(&input, &state.vault);
    let provider = input.provider.unwrap_or_default();
    let name = input.name.unwrap_or_default();
    let account = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let created = insert_account(c, auth.tenant_id, &name, provider)?;
                store::accounts::update(c, auth.tenant_id, created.id, changes)?
                    .ok_or_else(|| ApiError::not_found("account"))
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(AccountOut::new(account, &state.settings.public_base_url)))
}

/// One account.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = AccountOut)))]
#[get("/accounts/{id}")]
pub async fn get_account(state: web::Data<AppState>, auth: AuthContext, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let account = state.db.run(move |c| store::accounts::get(c, auth.tenant_id, id)).await?;
    Ok(HttpResponse::Ok()
        .json(AccountOut::new(account.ok_or_else(|| ApiError::not_found("account"))?, &state.settings.public_base_url)))
}

/// Changes an account. Secrets sent here replace the stored ones.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = i64, Path)), request_body = AccountInput, responses(
    (status = 200, body = AccountOut),
    (status = 409, description = "cannot activate before setup is complete", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[patch("/accounts/{id}")]
pub async fn update_account(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<AccountInput>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    let input = body.0;
    if input.provider.is_some() {
        return Err(ApiError::field("provider", "read_only"));
    }
    if input.status.is_some_and(|s| !matches!(s, AccountStatus::Active | AccountStatus::Suspended)) {
        return Err(ApiError::field("status", "invalid_choice"));
    }
    let mut errors = FieldErrors::new();
    check_tata_base_url(&state, input.tata_base_url.as_deref(), "tata_base_url", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut changes = changes_from(&input, &state.vault);
    let status = input.status;
    let account = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let current = crate::routes::accounts::require(c, auth.tenant_id, id)?;
                if status == Some(AccountStatus::Active) && current.setup_step < 6 {
                    return Err(ApiError::conflict("setup_incomplete", "finish the six setup steps before activating"));
                }
                changes.status = status.map(|s| s.as_str().to_string());
                let new_credentials = changes.access_token_enc.is_some() || changes.tata_auth_token_enc.is_some();
                if new_credentials && current.status == AccountStatus::NeedsReauth.as_str() && status.is_none() {
                    changes.status = Some(AccountStatus::Active.as_str().into());
                    store::messages::release_waiting(c, id)?;
                }
                store::accounts::update(c, auth.tenant_id, id, changes)?.ok_or_else(|| ApiError::not_found("account"))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(AccountOut::new(account, &state.settings.public_base_url)))
}

/// Deletes an account with its phone numbers.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 204, description = "deleted")))]
#[delete("/accounts/{id}")]
pub async fn delete_account(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    if !state.db.run(move |c| store::accounts::delete(c, auth.tenant_id, id)).await? {
        return Err(ApiError::not_found("account"));
    }
    Ok(HttpResponse::NoContent().finish())
}
