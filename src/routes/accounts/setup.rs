//! The 6-step setup wizard: all steps in one call, or step by step with per-step state.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::types::{AccountOut, webhook_url};
use super::{insert_account, to_json};
use crate::auth::{AuthContext, tokens};
use crate::crypto::{Vault, mask_hint};
use crate::db::{DbConn, write_tx};
use crate::domain::TenantId;
use crate::domain::account::{AccountStatus, BotSettings, BusinessProfile, ProviderKind, default_webhook_fields};
use crate::domain::phone::e164;
use crate::domain::setup::*;
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::extract::{ValidatedJson, json_body};
use crate::routes::phone_numbers::{PhoneNumberOut, phone_conflict};
use crate::state::AppState;
use crate::store;
use crate::store::accounts::{Account, AccountChanges};
use crate::store::phone_numbers::{NewPhoneNumber, PhoneNumberChanges, PhoneNumberRow};

/// One step's state in the wizard.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepState {
    pub step: usize,
    pub name: &'static str,
    pub title: &'static str,
    pub complete: bool,
    /// Fields this step still needs for the account's provider.
    pub missing: Vec<String>,
}

/// Where the wizard stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupState {
    pub account_id: i64,
    pub status: AccountStatus,
    pub setup_step: i32,
    /// The step to fill next; null once all six are done.
    pub next_step: Option<i32>,
    pub steps: Vec<StepState>,
    /// Present in the answer to step 6: register these with the provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookConfig>,
}

/// The answer to a one-call setup.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupResult {
    pub account: AccountOut,
    pub phone_number: PhoneNumberOut,
    pub webhook: WebhookConfig,
}

/// Any one step's body, unwrapped (the path's step decides which).
#[derive(ToSchema)]
#[serde(untagged)]
pub enum SetupStepBody {
    BusinessAccount(BusinessAccountStep),
    PhoneNumber(PhoneNumberStep),
    AccessTokens(AccessTokensStep),
    BusinessProfile(BusinessProfile),
    Bot(BotSettings),
    Webhook(WebhookStep),
}

fn missing_fields(a: &Account, phone: Option<&PhoneNumberRow>, step: usize) -> Vec<String> {
    let provider = ProviderKind::parse(&a.provider);
    let meta = provider == ProviderKind::Meta;
    let mut out = Vec::new();
    let mut need = |cond: bool, field: &str| {
        if cond {
            out.push(field.to_string());
        }
    };
    match step {
        1 => {
            need(meta && a.meta_business_account_id.is_none(), "meta_business_account_id");
            need(meta && a.waba_id.is_none(), "waba_id");
        }
        2 => {
            need(phone.is_none(), "phone_number");
            need(meta && phone.is_none_or(|p| p.provider_phone_number_id.is_none()), "provider_phone_number_id");
        }
        3 => {
            need(meta && a.access_token_enc.is_none(), "access_token");
            need(meta && a.app_secret_enc.is_none(), "app_secret");
            need(provider == ProviderKind::Tata && a.tata_auth_token_enc.is_none(), "tata_auth_token");
        }
        4 => need(
            serde_json::from_str::<BusinessProfile>(&a.business_profile).map_or(true, |p| p.name.is_none()),
            "name",
        ),
        6 => need(a.verify_token_enc.is_none(), "verify_token"),
        _ => {}
    }
    out
}

fn setup_state(a: &Account, phone: Option<&PhoneNumberRow>, webhook: Option<WebhookConfig>) -> SetupState {
    SetupState {
        account_id: a.id,
        status: AccountStatus::parse(&a.status),
        setup_step: a.setup_step,
        next_step: (a.setup_step < 6).then_some(a.setup_step + 1),
        steps: (1..=6)
            .map(|n| StepState {
                step: n,
                name: STEPS[n - 1],
                title: TITLES[n - 1],
                complete: n as i32 <= a.setup_step,
                missing: missing_fields(a, phone, n),
            })
            .collect(),
        webhook,
    }
}

fn step1_changes(s: &BusinessAccountStep) -> AccountChanges {
    AccountChanges {
        meta_business_account_id: s.meta_business_account_id.clone(),
        waba_id: s.waba_id.clone(),
        app_id: s.app_id.clone(),
        ..Default::default()
    }
}

fn step3_changes(s: &AccessTokensStep, vault: &Vault) -> AccountChanges {
    AccountChanges {
        access_token_enc: s.access_token.as_deref().map(|t| vault.encrypt(t)),
        access_token_hint: s.access_token.as_deref().map(mask_hint),
        app_secret_enc: s.app_secret.as_deref().map(|t| vault.encrypt(t)),
        app_id: s.app_id.clone(),
        tata_auth_token_enc: s.tata_auth_token.as_deref().map(|t| vault.encrypt(t)),
        tata_base_url: s.tata_base_url.clone(),
        ..Default::default()
    }
}

/// Step 6: the verify token (given or generated) and the events; the account becomes active.
fn step6(s: &WebhookStep, vault: &Vault, base: &str, a: &Account) -> (AccountChanges, WebhookConfig) {
    let token = s.verify_token.clone().unwrap_or_else(|| tokens::random_token()[..24].to_string());
    let events = s.subscribed_events.clone().unwrap_or_else(default_webhook_fields);
    let changes = AccountChanges {
        verify_token_enc: Some(vault.encrypt(&token)),
        subscribed_events: Some(to_json(&events)),
        status: Some(AccountStatus::Active.as_str().into()),
        ..Default::default()
    };
    let config = WebhookConfig {
        url: webhook_url(base, ProviderKind::parse(&a.provider), &a.webhook_key),
        verify_token: token,
        subscribed_events: events,
    };
    (changes, config)
}

/// Creates or updates the account's default number from step 2.
fn save_phone(conn: &mut DbConn, tenant: TenantId, a: &Account, s: &PhoneNumberStep) -> ApiResult<PhoneNumberRow> {
    let provider = ProviderKind::parse(&a.provider);
    let result = match store::phone_numbers::default_for(conn, tenant, a.id)? {
        Some(existing) => store::phone_numbers::update(
            conn,
            tenant,
            existing.id,
            PhoneNumberChanges {
                phone_number: Some(e164(&s.phone_number)),
                display_phone_number: Some(e164(&s.phone_number)),
                provider_phone_number_id: s.provider_phone_number_id.clone(),
                verified_name: s.verified_name.clone(),
                ..Default::default()
            },
        )
        .map(|r| r.expect("the default number exists in this transaction")),
        None => {
            let ts = crate::db::now();
            store::phone_numbers::insert(
                conn,
                NewPhoneNumber {
                    tenant_id: tenant.0,
                    account_id: a.id,
                    phone_number: e164(&s.phone_number),
                    provider_phone_number_id: s.provider_phone_number_id.clone(),
                    display_phone_number: e164(&s.phone_number),
                    verified_name: s.verified_name.clone(),
                    quality_rating: "UNKNOWN".into(),
                    messaging_limit_tier: None,
                    throughput_mps: provider.default_throughput(),
                    status: if provider == ProviderKind::Sandbox { "CONNECTED" } else { "PENDING" }.into(),
                    is_default: true,
                    created_at: ts,
                    updated_at: ts,
                },
            )
        }
    };
    result.map_err(phone_conflict)
}

/// Runs all six steps in one call: creates an active account with its first phone number.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = FullSetup, responses(
    (status = 201, body = SetupResult),
    (status = 409, description = "quota reached, or the phone number is taken", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/accounts/setup")]
pub async fn create_account_setup(
    state: web::Data<AppState>,
    auth: AuthContext,
    body: ValidatedJson<FullSetup>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let setup = body.0;
    let mut errors = setup.check();
    let url = setup.access_tokens.tata_base_url.as_deref();
    super::check_tata_base_url(&state, url, "access_tokens.tata_base_url", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let st = state.clone();
    let (account, phone, webhook) = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let tenant = auth.tenant_id;
                let a = insert_account(c, tenant, &setup.name, setup.provider)?;
                let phone = save_phone(c, tenant, &a, &setup.phone_number)?;
                let (mut changes, webhook) = step6(&setup.webhook, &st.vault, &st.settings.public_base_url, &a);
                let s1 = step1_changes(&setup.business_account);
                let s3 = step3_changes(&setup.access_tokens, &st.vault);
                changes.meta_business_account_id = s1.meta_business_account_id;
                changes.waba_id = s1.waba_id;
                changes.app_id = s3.app_id.or(s1.app_id);
                changes.access_token_enc = s3.access_token_enc;
                changes.access_token_hint = s3.access_token_hint;
                changes.app_secret_enc = s3.app_secret_enc;
                changes.tata_auth_token_enc = s3.tata_auth_token_enc;
                changes.tata_base_url = s3.tata_base_url;
                changes.business_profile = Some(to_json(&setup.business_profile));
                changes.bot_settings = Some(to_json(&setup.bot));
                changes.setup_step = Some(6);
                let a =
                    store::accounts::update(c, tenant, a.id, changes)?.ok_or_else(|| ApiError::not_found("account"))?;
                Ok::<_, ApiError>((a, phone, webhook))
            })
        })
        .await?;
    let base = &state.settings.public_base_url;
    Ok(HttpResponse::Created().json(SetupResult {
        account: AccountOut::new(account, base),
        phone_number: phone.into(),
        webhook,
    }))
}

/// Each step's state and what is still missing.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = SetupState)))]
#[get("/accounts/{id}/setup")]
pub async fn get_account_setup(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (a, phone) = state
        .db
        .run(move |c| {
            let a = crate::routes::accounts::require(c, auth.tenant_id, id)?;
            let phone = store::phone_numbers::default_for(c, auth.tenant_id, id)?;
            Ok::<_, ApiError>((a, phone))
        })
        .await?;
    Ok(HttpResponse::Ok().json(setup_state(&a, phone.as_ref(), None)))
}

/// Refuses a step whose predecessor is not done.
fn skip_check(a: &Account, step: usize) -> ApiResult<()> {
    if step as i32 > a.setup_step + 1 {
        return Err(ApiError::conflict(
            "setup_step_skipped",
            format!("complete step {} ({}) first", a.setup_step + 1, STEPS[a.setup_step as usize]),
        ));
    }
    Ok(())
}

/// What one step writes.
enum StepWrite {
    Account(Box<AccountChanges>),
    Phone(PhoneNumberStep),
    Webhook(WebhookStep),
}

/// Validates and saves one step (1–6). Steps cannot be skipped; earlier steps can be redone.
/// After step 6 the account is `active` and the answer carries the webhook URL and token.
/// The HTTP operations, one per step, are in [`super::setup_steps`].
pub async fn save_step(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthContext,
    id: i64,
    step: usize,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let tenant = auth.tenant_id;
    let current = crate::routes::accounts::load(&state, tenant, id).await?;
    skip_check(&current, step)?;
    let provider = ProviderKind::parse(&current.provider);
    let parsed = match step {
        1 => SetupStepBody::BusinessAccount(json_body(&req, &body)?),
        2 => SetupStepBody::PhoneNumber(json_body(&req, &body)?),
        3 => SetupStepBody::AccessTokens(json_body(&req, &body)?),
        4 => SetupStepBody::BusinessProfile(json_body(&req, &body)?),
        5 => SetupStepBody::Bot(json_body(&req, &body)?),
        _ => SetupStepBody::Webhook(json_body(&req, &body)?),
    };
    let mut errors = FieldErrors::new();
    let write = match parsed {
        SetupStepBody::BusinessAccount(s) => {
            s.check(provider, "", &mut errors);
            StepWrite::Account(Box::new(step1_changes(&s)))
        }
        SetupStepBody::PhoneNumber(s) => {
            s.check(provider, "", &mut errors);
            StepWrite::Phone(s)
        }
        SetupStepBody::AccessTokens(s) => {
            s.check(provider, "", &mut errors);
            super::check_tata_base_url(&state, s.tata_base_url.as_deref(), "tata_base_url", &mut errors);
            StepWrite::Account(Box::new(step3_changes(&s, &state.vault)))
        }
        SetupStepBody::BusinessProfile(s) => {
            check_profile(&s, "", &mut errors);
            StepWrite::Account(Box::new(AccountChanges { business_profile: Some(to_json(&s)), ..Default::default() }))
        }
        SetupStepBody::Bot(s) => {
            StepWrite::Account(Box::new(AccountChanges { bot_settings: Some(to_json(&s)), ..Default::default() }))
        }
        SetupStepBody::Webhook(s) => StepWrite::Webhook(s),
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let st = state.clone();
    let (a, phone, webhook) = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let a = crate::routes::accounts::require(c, tenant, id)?;
                skip_check(&a, step)?;
                let (mut changes, webhook) = match write {
                    StepWrite::Account(changes) => (*changes, None),
                    StepWrite::Phone(s) => {
                        save_phone(c, tenant, &a, &s)?;
                        (AccountChanges::default(), None)
                    }
                    StepWrite::Webhook(s) => {
                        let (changes, config) = step6(&s, &st.vault, &st.settings.public_base_url, &a);
                        (changes, Some(config))
                    }
                };
                changes.setup_step = Some(a.setup_step.max(step as i32));
                if step == 3 && a.status == AccountStatus::NeedsReauth.as_str() {
                    changes.status = Some(AccountStatus::Active.as_str().into());
                    store::messages::release_waiting(c, id)?;
                }
                let a =
                    store::accounts::update(c, tenant, id, changes)?.ok_or_else(|| ApiError::not_found("account"))?;
                let phone = store::phone_numbers::default_for(c, tenant, id)?;
                Ok::<_, ApiError>((a, phone, webhook))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(setup_state(&a, phone.as_ref(), webhook)))
}
