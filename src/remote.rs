//! Operations that go to an account's provider and record the answer: template submission,
//! deletion and sync, flows, phone-number sync and registration, health checks.

use std::collections::HashMap;
use std::time::Instant;

use actix_web::http::StatusCode;

use crate::db::{now, write_tx};
use crate::domain::TenantId;
use crate::domain::account::ProviderKind;
use crate::error::{ApiError, ApiResult};
use crate::providers::{HealthStatus, LocalRefusal, ProviderError, ProviderErrorKind};
use crate::routes::templates::types::SyncReport;
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::flows::{Flow, FlowChanges};
use crate::store::templates::{NewTemplate, Template, TemplateChanges};
use crate::store::{self, health_logs::Check, health_logs::HealthLog};

/// A failed provider call as an API error. What was decided here, with nothing sent, is the
/// caller's to fix: 409 `account_credentials_missing` (the account lacks a token or id) or 422
/// `not_supported_by_provider` (`ERR_BUTTON_VARIABLES_UNSUPPORTED` for Tata's buttons), or 409
/// `ERR_PROVIDER_URL_NOT_ALLOWED` (a stored provider URL the platform does not allow). A
/// provider that refused or did not answer is a 502 with the seeds' code and its own code.
pub fn provider_error(e: ProviderError) -> ApiError {
    if e.kind == ProviderErrorKind::UrlNotAllowed {
        return ApiError::conflict(e.seed_code(), e.message);
    }
    match e.local {
        Some(LocalRefusal::CredentialsMissing) => ApiError::conflict("account_credentials_missing", e.message),
        Some(LocalRefusal::NotSupported) => {
            let code = match e.kind {
                ProviderErrorKind::ButtonVariablesUnsupported => e.seed_code(),
                _ => "not_supported_by_provider",
            };
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.message)
        }
        None => {
            let detail = match e.code {
                Some(code) => format!("the provider refused the request ({code}): {}", e.message),
                None => format!("the provider refused the request: {}", e.message),
            };
            ApiError::new(StatusCode::BAD_GATEWAY, e.seed_code(), detail)
        }
    }
}

/// Submits a draft for approval and records the provider's id and status.
pub async fn submit_template(state: &AppState, a: &Account, t: &Template) -> ApiResult<Template> {
    let provider = state.providers.get(a, None, &state.vault, &state.settings)?;
    let spec = crate::providers::NewTemplate {
        name: t.name.clone(),
        language: t.language.clone(),
        category: t.category.clone(),
        parameter_format: Some(t.parameter_format.clone()),
        components: serde_json::from_str(&t.components).unwrap_or_default(),
    };
    let created = provider.create_template(&spec).await.map_err(provider_error)?;
    if a.provider == "sandbox" {
        // The sandbox decides after a short delay; pick its verdict up then, as a webhook would.
        let (state, account) = (state.clone(), a.clone());
        let wait = std::time::Duration::from_secs(state.settings.sandbox_approval_secs)
            + std::time::Duration::from_millis(200);
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            if let Err(e) = sync_templates(&state, &account).await {
                tracing::warn!(account = account.id, error = ?e, "sandbox template sync failed");
            }
        });
    }
    let (id, ts) = (t.id, now());
    let changes = TemplateChanges {
        status: Some(created.status),
        provider_template_id: Some(created.provider_id),
        rejection_reason: Some(None),
        submitted_at: Some(ts),
        ..Default::default()
    };
    state.db.run(move |c| store::templates::update(c, id, changes)).await
}

/// Deletes a submitted template at the provider.
pub async fn delete_template(state: &AppState, a: &Account, t: &Template) -> ApiResult<()> {
    let provider = state.providers.get(a, None, &state.vault, &state.settings)?;
    provider.delete_template(&t.name, t.provider_template_id.as_deref()).await.map_err(provider_error)
}

/// Pulls every template from the provider: creates unknown ones, updates status and category
/// (recording a re-categorisation), marks ours that the provider no longer has as `DELETED`.
pub async fn sync_templates(state: &AppState, a: &Account) -> ApiResult<SyncReport> {
    let provider = state.providers.get(a, None, &state.vault, &state.settings)?;
    let remote = provider.list_templates().await.map_err(provider_error)?;
    let (account, tenant) = (a.id, a.tenant_id);
    // The sandbox forgets its templates when the process restarts; that is not a deletion.
    let mark_missing = a.provider != "sandbox";
    state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let ts = now();
                let mut report = SyncReport::default();
                let mut ours: HashMap<(String, String), Template> = store::templates::all_of(c, account)?
                    .into_iter()
                    .map(|t| ((t.name.clone(), t.language.clone()), t))
                    .collect();
                for r in remote {
                    let components = r.components.to_string();
                    match ours.remove(&(r.name.clone(), r.language.clone())) {
                        Some(t) => {
                            let recategorised = t.category != r.category && t.provider_template_id.is_some();
                            store::templates::update(
                                c,
                                t.id,
                                TemplateChanges {
                                    status: Some(r.status),
                                    category: Some(r.category),
                                    previous_category: recategorised.then(|| t.category.clone()),
                                    rejection_reason: Some(r.rejection_reason),
                                    provider_template_id: Some(r.provider_id),
                                    components: Some(components),
                                    synced_at: Some(ts),
                                    ..Default::default()
                                },
                            )?;
                            report.updated += 1;
                        }
                        None => {
                            store::templates::insert(
                                c,
                                NewTemplate {
                                    tenant_id: tenant,
                                    account_id: account,
                                    name: r.name,
                                    language: r.language,
                                    category: r.category,
                                    status: r.status,
                                    provider_template_id: Some(r.provider_id),
                                    components,
                                    parameter_format: "POSITIONAL".into(),
                                    synced_at: Some(ts),
                                    created_at: ts,
                                    updated_at: ts,
                                },
                            )?;
                            report.created += 1;
                        }
                    }
                }
                for t in ours
                    .into_values()
                    .filter(|t| mark_missing && t.provider_template_id.is_some() && t.status != "DELETED")
                {
                    let changes =
                        TemplateChanges { status: Some("DELETED".into()), synced_at: Some(ts), ..Default::default() };
                    store::templates::update(c, t.id, changes)?;
                    report.missing += 1;
                }
                Ok::<_, ApiError>(report)
            })
        })
        .await
}

/// Creates a flow at the provider and stores it as a draft.
pub async fn create_flow(state: &AppState, a: &Account, name: &str, categories: &[String]) -> ApiResult<Flow> {
    let provider = state.providers.get(a, None, &state.vault, &state.settings)?;
    let provider_id = provider.create_flow(name, categories).await.map_err(provider_error)?;
    let (tenant, account, name) = (TenantId(a.tenant_id), a.id, name.to_string());
    let categories = serde_json::to_string(categories).unwrap_or_default();
    state.db.run(move |c| store::flows::insert(c, tenant, account, &name, &categories, Some(&provider_id))).await
}

fn provider_flow_id(f: &Flow) -> ApiResult<&str> {
    f.provider_flow_id
        .as_deref()
        .ok_or_else(|| ApiError::conflict("flow_not_at_provider", "this flow has no provider id"))
}

/// Uploads the Flow JSON; the provider's validation errors are stored on the flow.
pub async fn upload_flow_json(state: &AppState, a: &Account, f: &Flow, json: &serde_json::Value) -> ApiResult<Flow> {
    let provider = state.providers.get(a, None, &state.vault, &state.settings)?;
    let errors = provider.upload_flow_json(provider_flow_id(f)?, json).await.map_err(provider_error)?;
    let changes = FlowChanges {
        flow_json: Some(json.to_string()),
        validation_errors: Some(serde_json::to_string(&errors).unwrap_or_else(|_| "[]".into())),
        status: (f.status == "PUBLISHED").then(|| "DRAFT".to_string()),
        ..Default::default()
    };
    let id = f.id;
    state.db.run(move |c| store::flows::update(c, id, changes)).await
}

/// Publishes or deprecates a flow at the provider and records the new status.
pub async fn flow_status(state: &AppState, a: &Account, f: &Flow, status: &'static str) -> ApiResult<Flow> {
    let provider = state.providers.get(a, None, &state.vault, &state.settings)?;
    let pid = provider_flow_id(f)?;
    let result =
        if status == "PUBLISHED" { provider.publish_flow(pid).await } else { provider.deprecate_flow(pid).await };
    result.map_err(provider_error)?;
    let id = f.id;
    state
        .db
        .run(move |c| store::flows::update(c, id, FlowChanges { status: Some(status.into()), ..Default::default() }))
        .await
}

/// Deletes a draft flow at the provider and here.
pub async fn delete_flow(state: &AppState, a: &Account, f: &Flow) -> ApiResult<()> {
    let provider = state.providers.get(a, None, &state.vault, &state.settings)?;
    provider.delete_flow(provider_flow_id(f)?).await.map_err(provider_error)?;
    let id = f.id;
    state.db.run(move |c| store::flows::delete(c, id)).await?;
    Ok(())
}

/// Runs one health check, records it, and moves the account to `needs_reauth` on an auth error.
pub async fn health_check(state: &AppState, a: &Account) -> ApiResult<HealthLog> {
    let (tenant, account) = (TenantId(a.tenant_id), a.id);
    let phone = state.db.run(move |c| store::phone_numbers::default_for(c, tenant, account)).await?;
    let provider = state.providers.get(a, phone.as_ref(), &state.vault, &state.settings)?;
    let started = Instant::now();
    let r = provider.health_check().await;
    let elapsed = started.elapsed().as_millis() as i64;
    let expected = crate::routes::accounts::types::webhook_url(
        &state.settings.public_base_url,
        ProviderKind::parse(&a.provider),
        &a.webhook_key,
    );
    let drift = r.callback_url.as_deref().is_some_and(|u| u != expected);
    let mut details = r.details.clone();
    if !details.is_object() {
        details = serde_json::json!({"provider": details});
    }
    details["can_send_message"] = serde_json::json!(r.can_send_message);
    details["webhook_drift"] = serde_json::json!(drift);
    details["expected_callback_url"] = serde_json::json!(expected);
    details["provider_callback_url"] = serde_json::json!(r.callback_url);
    let status = match r.status {
        HealthStatus::Healthy if drift => "degraded",
        HealthStatus::Healthy => "healthy",
        HealthStatus::Degraded => "degraded",
        HealthStatus::Unhealthy => "unhealthy",
    }
    .to_string();
    let reauth = r.details["kind"] == "ERR_AUTH_FAILED";
    let error = r.error.clone();
    let (tenant, account) = (a.tenant_id, a.id);
    state
        .db
        .run(move |c| {
            let check = Check {
                status: &status,
                response_time_ms: elapsed,
                details: &details.to_string(),
                error: error.as_deref(),
                needs_reauth: reauth,
            };
            store::health_logs::record(c, tenant, account, &check)
        })
        .await
}

/// What a phone-number sync changed.
#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct NumberSyncReport {
    pub created: usize,
    pub updated: usize,
    /// Numbers the provider lists that another tenant already holds (left alone).
    pub conflicts: usize,
}

/// Messages per second for a provider throughput level.
fn throughput_for(level: Option<&str>) -> Option<f64> {
    match level {
        Some("STANDARD") => Some(80.0),
        Some("HIGH") => Some(1000.0),
        _ => None,
    }
}

/// Pulls the account's numbers with quality, tier, throughput, name and status.
pub async fn sync_phone_numbers(state: &AppState, a: &Account) -> ApiResult<NumberSyncReport> {
    let provider = state.providers.get(a, None, &state.vault, &state.settings)?;
    let remote = provider.list_phone_numbers().await.map_err(provider_error)?;
    let (account, tenant, default_mps) =
        (a.id, TenantId(a.tenant_id), ProviderKind::parse(&a.provider).default_throughput());
    state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let mut report = NumberSyncReport::default();
                let page = crate::pagination::Page { limit: 10_000, before: None };
                let ours = store::phone_numbers::list(c, tenant, Some(account), page)?;
                for r in remote {
                    let changes = store::phone_numbers::PhoneNumberChanges {
                        display_phone_number: Some(r.display_phone_number.clone()),
                        verified_name: r.verified_name.clone(),
                        quality_rating: r.quality_rating.clone().map(|q| normalise_quality(&q)),
                        messaging_limit_tier: r.messaging_limit_tier.clone(),
                        throughput_mps: throughput_for(r.throughput_level.as_deref()),
                        status: r.status.clone(),
                        ..Default::default()
                    };
                    if let Some(existing) =
                        ours.iter().find(|p| p.provider_phone_number_id.as_deref() == Some(r.id.as_str()))
                    {
                        store::phone_numbers::update(c, tenant, existing.id, changes)?;
                        report.updated += 1;
                        continue;
                    }
                    let ts = now();
                    let new = store::phone_numbers::NewPhoneNumber {
                        tenant_id: tenant.0,
                        account_id: account,
                        phone_number: crate::domain::phone::e164(&format!(
                            "+{}",
                            r.display_phone_number.trim_start_matches('+')
                        )),
                        provider_phone_number_id: Some(r.id.clone()),
                        display_phone_number: r.display_phone_number.clone(),
                        verified_name: r.verified_name.clone(),
                        quality_rating: r.quality_rating.as_deref().map_or_else(|| "UNKNOWN".into(), normalise_quality),
                        messaging_limit_tier: r.messaging_limit_tier.clone(),
                        throughput_mps: throughput_for(r.throughput_level.as_deref()).unwrap_or(default_mps),
                        status: r.status.clone().unwrap_or_else(|| "PENDING".into()),
                        is_default: false,
                        created_at: ts,
                        updated_at: ts,
                    };
                    if store::phone_numbers::provider_id_taken(c, &r.id)?
                        || ours.iter().any(|p| p.phone_number == new.phone_number)
                    {
                        report.conflicts += 1;
                        continue;
                    }
                    store::phone_numbers::insert(c, new)?;
                    report.created += 1;
                }
                Ok::<_, ApiError>(report)
            })
        })
        .await
}

/// Our quality values: GREEN, YELLOW, RED or UNKNOWN (Meta also says NA).
fn normalise_quality(q: &str) -> String {
    match q.to_ascii_uppercase().as_str() {
        v @ ("GREEN" | "YELLOW" | "RED") => v.to_string(),
        _ => "UNKNOWN".to_string(),
    }
}
