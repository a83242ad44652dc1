//! `POST /messages` and `POST /accounts/{id}/send_message`: validate, check, queue.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::load_with_history;
use super::types::MessageOut;
use crate::auth::AuthContext;
use crate::db::{now, write_tx};
use crate::domain::account::{AccountStatus, ProviderKind};
use crate::domain::phone::e164;
use crate::domain::template::body_parameter_count;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::providers::MessageBody;
use crate::state::AppState;
use crate::store;
use crate::store::messages::{Message, NewMessage};

/// How long `?wait=true` waits for the provider's answer.
const WAIT_LIMIT: Duration = Duration::from_secs(20);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    pub account_id: i64,
    /// The sending number (ours); the account's default when omitted.
    pub phone_number_id: Option<i64>,
    /// The recipient, E.164.
    #[validate(custom(function = "crate::domain::phone::validate_phone"))]
    #[schema(example = "+919876543210")]
    pub to: String,
    #[validate(nested)]
    pub message: MessageBody,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountSendRequest {
    pub phone_number_id: Option<i64>,
    #[validate(custom(function = "crate::domain::phone::validate_phone"))]
    #[schema(example = "+919876543210")]
    pub to: String,
    #[validate(nested)]
    pub message: MessageBody,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SendQuery {
    /// Wait (up to 20 s) for the provider's answer instead of returning at once.
    #[serde(default)]
    pub wait: bool,
}

fn idempotency_key(req: &HttpRequest) -> ApiResult<Option<String>> {
    match req.headers().get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let key = v
                .to_str()
                .map_err(|_| ApiError::bad_request("invalid_idempotency_key", "Idempotency-Key must be ASCII"))?;
            if key.is_empty() || key.len() > 200 {
                return Err(ApiError::bad_request(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1 to 200 characters",
                ));
            }
            Ok(Some(key.to_string()))
        }
    }
}

/// Checks everything that can be checked before queueing, then queues. Returns the message as
/// queued and whether it is new (false: an earlier send with the same idempotency key).
async fn queue(
    state: &AppState,
    auth: &AuthContext,
    account_id: i64,
    phone_number_id: Option<i64>,
    to: String,
    message: MessageBody,
    key: Option<String>,
) -> ApiResult<(Message, bool)> {
    let tenant = auth.tenant_id;
    let media_errors = crate::media::check_message(&message, state.settings.allow_private_urls).await;
    if !media_errors.is_empty() {
        return Err(ApiError::validation(media_errors));
    }
    let to = e164(&to);
    let payload = serde_json::to_value(&message).map_err(ApiError::internal)?;
    let kind = payload["type"].as_str().unwrap_or("text").to_string();
    let template = template_ref(&message);
    let (message, created) = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let account = crate::routes::accounts::require(c, tenant, account_id)?;
                match AccountStatus::parse(&account.status) {
                    AccountStatus::Active => {}
                    AccountStatus::NeedsReauth => {
                        return Err(ApiError::conflict(
                            "account_needs_reauth",
                            "the provider refused this account's credentials; save new ones first",
                        ));
                    }
                    _ => {
                        return Err(ApiError::conflict(
                            "account_not_active",
                            "finish the account's setup (or reactivate it) before sending",
                        ));
                    }
                }
                let phone = match phone_number_id {
                    Some(pid) => store::phone_numbers::get(c, tenant, pid)?.filter(|p| p.account_id == account_id),
                    None => store::phone_numbers::default_for(c, tenant, account_id)?,
                }
                .ok_or_else(|| ApiError::field("phone_number_id", "not_found"))?;
                if phone.quality_rating == "RED" {
                    return Err(ApiError::conflict(
                        "ERR_QUALITY_DEGRADED",
                        "this number's quality rating is RED; sending is paused",
                    ));
                }
                if let Some((name, language, params, button_vars)) = &template {
                    let t = store::templates::by_name(c, account_id, name, language)?;
                    let t = t.filter(|t| t.status == "APPROVED").ok_or_else(|| {
                        ApiError::new(
                            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                            "template_not_ready",
                            format!(
                                "ERR_TEMPLATE_NOT_READY: template {name} ({language}) is not approved on this account"
                            ),
                        )
                    })?;
                    let components: Vec<serde_json::Value> = serde_json::from_str(&t.components).unwrap_or_default();
                    let expected = body_parameter_count(&components);
                    if *params != expected {
                        return Err(ApiError::field(
                            "message.template.components",
                            &format!("expected_{expected}_body_parameters"),
                        ));
                    }
                    if ProviderKind::parse(&account.provider) == ProviderKind::Tata && *button_vars {
                        return Err(ApiError::field("message.template.components", "ERR_BUTTON_VARIABLES_UNSUPPORTED"));
                    }
                }
                if store::opt_outs::contains(c, tenant, &to)? {
                    return Err(ApiError::conflict(
                        "recipient_opted_out",
                        "this recipient opted out of messages from this tenant",
                    ));
                }
                if template.is_none() && !store::conversations::window_open(c, account_id, &to, now())? {
                    return Err(ApiError::new(
                        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                        "outside_service_window",
                        "the contact has not written to this account in the last 24 hours: only templates may be sent",
                    ));
                }
                if let Some(quota) = store::tenants::get(c, tenant)?.and_then(|t| t.daily_message_quota) {
                    let today = now().date().and_hms_opt(0, 0, 0).unwrap_or_default();
                    if store::messages::outbound_since(c, tenant, today)? >= quota {
                        let midnight = today + chrono::Duration::days(1);
                        let wait = (midnight - now()).num_seconds().max(1) as u64;
                        return Err(ApiError::rate_limited(
                            wait,
                            format!("the tenant's daily quota of {quota} messages is used up"),
                        ));
                    }
                }
                let ts = now();
                let (m, created) = store::messages::enqueue(
                    c,
                    NewMessage {
                        tenant_id: tenant.0,
                        account_id,
                        phone_number_id: phone.id,
                        direction: "outbound".into(),
                        recipient: to.clone(),
                        kind: kind.clone(),
                        payload: payload.to_string(),
                        status: "queued".into(),
                        next_attempt_at: ts,
                        idempotency_key: key,
                        campaign_id: None,
                        template_name: template.as_ref().map(|t| t.0.clone()),
                        created_at: ts,
                        updated_at: ts,
                    },
                )?;
                Ok((m, created))
            })
        })
        .await?;
    if created {
        state.wakeup.wake();
    }
    Ok((message, created))
}

/// A template send's name, language, body parameter count, and whether any button parameter
/// fills a variable (Tata refuses those).
fn template_ref(m: &MessageBody) -> Option<(String, String, usize, bool)> {
    match m {
        MessageBody::Template(t) => Some((
            t.name.clone(),
            t.language.clone(),
            t.components.body.len(),
            t.components.buttons.iter().any(|b| b.sub_type.is_variable()),
        )),
        _ => None,
    }
}

async fn respond(
    state: &AppState,
    auth: AuthContext,
    queued: Message,
    created: bool,
    wait: bool,
) -> ApiResult<HttpResponse> {
    let id = queued.id;
    let location = ("location", format!("/api/v1/messages/{id}"));
    if !wait {
        let mut res = if created { HttpResponse::Accepted() } else { HttpResponse::Ok() };
        return Ok(res.insert_header(location).json(MessageOut::from(queued)));
    }
    let started = std::time::Instant::now();
    loop {
        let out: MessageOut = load_with_history(state, auth.clone(), id).await?;
        let pending = out.status == "queued" || out.status == "sending";
        if !pending || started.elapsed() >= WAIT_LIMIT {
            let mut res = match (created, pending) {
                (false, _) => HttpResponse::Ok(),
                (true, false) => HttpResponse::Created(),
                (true, true) => HttpResponse::Accepted(),
            };
            return Ok(res.insert_header(location).json(out));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Queues a message (text, template, interactive, media or flow) from an account's number.
/// Free-form (non-template) messages need an open customer-service window: the contact wrote to
/// the account in the last 24 hours. 202 with the queued message; 201 with the provider's answer under `?wait=true`; 200 with the
/// earlier message when the `Idempotency-Key` was used before.
#[utoipa::path(tag = "messages", security(("bearer" = [])), params(SendQuery, ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key; a repeated key returns the first message")),
    request_body = SendMessageRequest,
    responses(
        (status = 202, body = MessageOut, description = "queued"),
        (status = 201, body = MessageOut, description = "sent (with ?wait=true)"),
        (status = 200, body = MessageOut, description = "the earlier message for this Idempotency-Key"),
        (status = 409, description = "recipient opted out, account not active, or number quality RED", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation failed, template not approved, or a free-form message outside the 24-hour customer-service window (`outside_service_window`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "the tenant's daily quota is used up", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/messages")]
pub async fn send_message(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<SendQuery>,
    body: ValidatedJson<SendMessageRequest>,
) -> ApiResult<HttpResponse> {
    let key = idempotency_key(&req)?;
    let b = body.0;
    let (queued, created) = queue(&state, &auth, b.account_id, b.phone_number_id, b.to, b.message, key).await?;
    respond(&state, auth, queued, created, q.wait).await
}

/// The same as `POST /messages`, with the account in the path (the seeds' name).
#[utoipa::path(tag = "messages", security(("bearer" = [])), params(("id" = i64, Path), SendQuery, ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    request_body = AccountSendRequest,
    responses(
        (status = 202, body = MessageOut, description = "queued"),
        (status = 201, body = MessageOut, description = "sent (with ?wait=true)"),
        (status = 200, body = MessageOut, description = "the earlier message for this Idempotency-Key"),
        (status = 409, description = "recipient opted out, account not active, or number quality RED", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation failed, template not approved, or a free-form message outside the 24-hour customer-service window (`outside_service_window`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "the tenant's daily quota is used up", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/accounts/{id}/send_message")]
pub async fn send_account_message(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    q: web::Query<SendQuery>,
    body: ValidatedJson<AccountSendRequest>,
) -> ApiResult<HttpResponse> {
    let key = idempotency_key(&req)?;
    let b = body.0;
    let (queued, created) = queue(&state, &auth, id.into_inner(), b.phone_number_id, b.to, b.message, key).await?;
    respond(&state, auth, queued, created, q.wait).await
}
