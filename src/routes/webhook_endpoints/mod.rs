//! Webhook endpoints of a tenant: where the relay POSTs signed events, their secret (shown once),
//! the delivery log with every attempt, replay and a test ping.

mod types;

use actix_web::{HttpResponse, delete, get, patch, post, web};

use crate::auth::AuthContext;
use crate::domain::TenantId;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::pagination::{PageQuery, Paginated};
use crate::state::AppState;
use crate::store::webhook_endpoints::{self as store, Delivery, EndpointChanges};
use crate::{db::write_tx, relay};
pub use types::*;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_webhook_endpoints)
        .service(create_webhook_endpoint)
        .service(get_webhook_endpoint)
        .service(update_webhook_endpoint)
        .service(delete_webhook_endpoint)
        .service(rotate_webhook_endpoint_secret)
        .service(list_webhook_deliveries)
        .service(replay_webhook_delivery)
        .service(test_webhook_endpoint);
}

/// Refuses a URL that is not https or points at an internal address (422 on `url`).
async fn check_url(state: &AppState, url: &str) -> ApiResult<()> {
    relay::check_url(url, state.settings.allow_private_urls).await.map_err(|code| ApiError::field("url", code))
}

fn event_types_json(types: &[String]) -> String {
    serde_json::to_string(types).unwrap_or_else(|_| "[]".into())
}

async fn found(state: &AppState, tenant: TenantId, id: i64) -> ApiResult<store::Endpoint> {
    state.db.run(move |c| store::get(c, tenant, id)).await?.ok_or_else(|| ApiError::not_found("webhook endpoint"))
}

/// Deliveries with their attempt logs.
fn with_attempts(c: &mut crate::db::DbConn, rows: Vec<Delivery>) -> diesel::QueryResult<Vec<WebhookDeliveryOut>> {
    let ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
    let mut attempts = store::attempts(c, &ids)?;
    Ok(rows
        .into_iter()
        .map(|d| {
            let (mine, rest) = attempts.drain(..).partition(|a| a.delivery_id == d.id);
            attempts = rest;
            WebhookDeliveryOut::new(d, mine)
        })
        .collect())
}

/// Lists the tenant's webhook endpoints (secrets are never listed).
#[utoipa::path(tag = "webhook-endpoints", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Paginated<WebhookEndpointOut>)))]
#[get("/webhook-endpoints")]
pub async fn list_webhook_endpoints(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = q.page()?;
    let rows = state.db.run(move |c| store::list(c, auth.tenant_id, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |e| e.id, WebhookEndpointOut::from)))
}

/// Registers an endpoint. Its signing `secret` is returned only in this response.
#[utoipa::path(tag = "webhook-endpoints", security(("bearer" = [])), request_body = CreateWebhookEndpointRequest, responses(
    (status = 201, body = WebhookEndpointWithSecret),
    (status = 422, description = "invalid fields, or a URL that is not https or not public", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/webhook-endpoints")]
pub async fn create_webhook_endpoint(
    state: web::Data<AppState>,
    auth: AuthContext,
    body: ValidatedJson<CreateWebhookEndpointRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let req = body.0;
    let url = req.url.trim().to_string();
    check_url(&state, &url).await?;
    let secret = relay::new_secret();
    let secret_enc = state.vault.encrypt(&secret);
    let types = event_types_json(&req.event_types);
    let created = state
        .db
        .run(move |c| store::insert(c, auth.tenant_id, &url, &types, &secret_enc, req.description.as_deref()))
        .await?;
    Ok(HttpResponse::Created().json(WebhookEndpointWithSecret { endpoint: created.into(), secret }))
}

/// One endpoint.
#[utoipa::path(tag = "webhook-endpoints", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 200, body = WebhookEndpointOut),
    (status = 404, description = "no such endpoint", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/webhook-endpoints/{id}")]
pub async fn get_webhook_endpoint(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let endpoint = found(&state, auth.tenant_id, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(WebhookEndpointOut::from(endpoint)))
}

/// Changes the URL, the event types, the description, or pauses/resumes the endpoint.
#[utoipa::path(tag = "webhook-endpoints", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateWebhookEndpointRequest, responses(
    (status = 200, body = WebhookEndpointOut),
    (status = 404, description = "no such endpoint", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid fields", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[patch("/webhook-endpoints/{id}")]
pub async fn update_webhook_endpoint(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<UpdateWebhookEndpointRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    found(&state, auth.tenant_id, id).await?;
    let req = body.0;
    let url = req.url.map(|u| u.trim().to_string());
    if let Some(u) = &url {
        check_url(&state, u).await?;
    }
    let changes = EndpointChanges {
        url,
        event_types: req.event_types.as_deref().map(event_types_json),
        active: req.active,
        description: req.description.map(Some),
        ..Default::default()
    };
    let updated = state
        .db
        .run(move |c| store::update(c, auth.tenant_id, id, changes))
        .await?
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))?;
    Ok(HttpResponse::Ok().json(WebhookEndpointOut::from(updated)))
}

/// Deletes an endpoint and its delivery log.
#[utoipa::path(tag = "webhook-endpoints", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 204, description = "deleted"),
    (status = 404, description = "no such endpoint", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[delete("/webhook-endpoints/{id}")]
pub async fn delete_webhook_endpoint(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    if !state.db.run(move |c| store::delete(c, auth.tenant_id, id)).await? {
        return Err(ApiError::not_found("webhook endpoint"));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Replaces the signing secret at once; the new one is returned only in this response.
#[utoipa::path(tag = "webhook-endpoints", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 200, body = WebhookEndpointWithSecret),
    (status = 404, description = "no such endpoint", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/webhook-endpoints/{id}/rotate-secret")]
pub async fn rotate_webhook_endpoint_secret(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    let secret = relay::new_secret();
    let changes = EndpointChanges { secret_enc: Some(state.vault.encrypt(&secret)), ..Default::default() };
    let updated = state
        .db
        .run(move |c| store::update(c, auth.tenant_id, id, changes))
        .await?
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))?;
    Ok(HttpResponse::Ok().json(WebhookEndpointWithSecret { endpoint: updated.into(), secret }))
}

/// The endpoint's deliveries, newest first, each with every attempt.
#[utoipa::path(tag = "webhook-endpoints", security(("bearer" = [])), params(("id" = i64, Path), PageQuery, DeliveryFilter), responses(
    (status = 200, body = Paginated<WebhookDeliveryOut>),
    (status = 404, description = "no such endpoint", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/webhook-endpoints/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    q: web::Query<PageQuery>,
    f: web::Query<DeliveryFilter>,
) -> ApiResult<HttpResponse> {
    let page = q.page()?;
    let status = f.into_inner().status;
    if status.as_deref().is_some_and(|s| !["pending", "delivered", "failed"].contains(&s)) {
        return Err(ApiError::field("status", "invalid_choice"));
    }
    let id = id.into_inner();
    found(&state, auth.tenant_id, id).await?;
    let rows = state
        .db
        .run(move |c| {
            let rows = store::deliveries(c, auth.tenant_id, id, status.as_deref(), page)?;
            with_attempts(c, rows)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |d| d.id, |d| d)))
}

/// Sends a delivery again (delivered or failed alike) with the same event id.
#[utoipa::path(tag = "webhook-endpoints", security(("bearer" = [])), params(("id" = i64, Path), ("delivery_id" = i64, Path)), responses(
    (status = 202, body = WebhookDeliveryOut),
    (status = 404, description = "no such endpoint or delivery", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/webhook-endpoints/{id}/deliveries/{delivery_id}/replay")]
pub async fn replay_webhook_delivery(
    state: web::Data<AppState>,
    auth: AuthContext,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let (id, delivery_id) = path.into_inner();
    let out = state
        .db
        .run(move |c| {
            let Some(d) = store::requeue(c, auth.tenant_id, id, delivery_id)? else { return Ok(None) };
            with_attempts(c, vec![d]).map(|mut v| v.pop())
        })
        .await?
        .ok_or_else(|| ApiError::not_found("webhook delivery"))?;
    Ok(HttpResponse::Accepted().json(out))
}

/// Queues a `ping` event for this endpoint only, to check the URL and the signature.
#[utoipa::path(tag = "webhook-endpoints", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 202, body = WebhookDeliveryOut),
    (status = 404, description = "no such endpoint", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/webhook-endpoints/{id}/test")]
pub async fn test_webhook_endpoint(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    found(&state, auth.tenant_id, id).await?;
    let tenant = auth.tenant_id;
    let out = state
        .db
        .run(move |c| {
            let d = write_tx(c, |c| relay::ping(c, tenant, id))?;
            with_attempts(c, vec![d]).map(|mut v| v.pop())
        })
        .await?
        .ok_or_else(|| ApiError::internal("the queued ping was not returned"))?;
    Ok(HttpResponse::Accepted().json(out))
}
