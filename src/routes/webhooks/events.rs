//! The stored webhook events: a tenant's list and reprocessing, and the platform admins'
//! view of every event (quarantined ones included).

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthContext;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{PageQuery, Paginated};
use crate::routes::utc;
use crate::state::AppState;
use crate::store::webhook_events::{self, ListFilter, WebhookEvent};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_webhook_events).service(reprocess_webhook_event).service(list_all_webhook_events);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEventOut {
    pub id: i64,
    /// Null for a quarantined event.
    pub tenant_id: Option<i64>,
    pub account_id: Option<i64>,
    /// `meta`, `tata` or `sandbox`.
    pub provider: String,
    /// The changes' `field` (e.g. `messages`), `mixed` or `empty`.
    pub kind: String,
    pub signature_valid: bool,
    /// Names no known account; never applied.
    pub quarantined: bool,
    /// The body as received.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub received_at: chrono::DateTime<chrono::Utc>,
    pub processed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What could not be applied, per change.
    pub process_error: Option<String>,
    pub attempts: i32,
    /// The first delivery of the same body when this is a provider's redelivery: stored, not
    /// applied again.
    pub duplicate_of: Option<i64>,
}

impl From<WebhookEvent> for WebhookEventOut {
    fn from(e: WebhookEvent) -> Self {
        WebhookEventOut {
            id: e.id,
            tenant_id: e.tenant_id,
            account_id: e.account_id,
            provider: e.provider,
            kind: e.kind,
            signature_valid: e.signature_valid,
            quarantined: e.quarantined,
            payload: serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null),
            received_at: utc(e.received_at),
            processed_at: e.processed_at.map(utc),
            process_error: e.process_error,
            attempts: e.attempts,
            duplicate_of: e.duplicate_of,
        }
    }
}

/// Filters of `GET /webhook-events`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookEventFilter {
    pub account_id: Option<i64>,
    /// e.g. `messages`, `message_template_status_update`.
    pub kind: Option<String>,
    /// Applied (true) or waiting (false).
    pub processed: Option<bool>,
    pub signature_valid: Option<bool>,
    /// Received at or after (RFC 3339).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Received before (RFC 3339).
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

impl WebhookEventFilter {
    fn into_filter(self, quarantined: Option<bool>) -> ListFilter {
        ListFilter {
            account_id: self.account_id,
            kind: self.kind,
            processed: self.processed,
            signature_valid: self.signature_valid,
            quarantined,
            from: self.from.map(|t| t.naive_utc()),
            to: self.to.map(|t| t.naive_utc()),
        }
    }
}

/// Filters of the platform admins' list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuarantineFilter {
    /// Only events no account owns (true) or only owned ones (false).
    pub quarantined: Option<bool>,
}

/// The tenant's received webhook events, newest first.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])), params(PageQuery, WebhookEventFilter), responses((status = 200, body = Paginated<WebhookEventOut>)))]
#[get("/webhook-events")]
pub async fn list_webhook_events(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
    f: web::Query<WebhookEventFilter>,
) -> ApiResult<HttpResponse> {
    let page = q.page()?;
    let filter = f.into_inner().into_filter(None);
    let rows = state.db.run(move |c| webhook_events::list(c, Some(auth.tenant_id), &filter, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |e| e.id, WebhookEventOut::from)))
}

/// Applies a stored event again (statuses and inbound messages are idempotent); owner or admin.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 200, body = WebhookEventOut),
    (status = 404, description = "no such event in this tenant", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/webhook-events/{id}/reprocess")]
pub async fn reprocess_webhook_event(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let (id, tenant) = (id.into_inner(), auth.tenant_id);
    if !crate::webhooks::reprocess(&state, tenant, id).await? {
        return Err(ApiError::not_found("webhook event"));
    }
    let event = state.db.run(move |c| webhook_events::get(c, tenant, id)).await?;
    Ok(HttpResponse::Ok().json(WebhookEventOut::from(event.ok_or_else(|| ApiError::not_found("webhook event"))?)))
}

/// Every tenant's webhook events, and the quarantined ones; platform admins only.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(PageQuery, QuarantineFilter), responses((status = 200, body = Paginated<WebhookEventOut>)))]
#[get("/admin/webhook-events")]
pub async fn list_all_webhook_events(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
    f: web::Query<QuarantineFilter>,
) -> ApiResult<HttpResponse> {
    auth.require_platform_admin()?;
    let page = q.page()?;
    let filter = ListFilter { quarantined: f.quarantined, ..Default::default() };
    let rows = state.db.run(move |c| webhook_events::list(c, None, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |e| e.id, WebhookEventOut::from)))
}
