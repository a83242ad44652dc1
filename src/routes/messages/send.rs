//! `POST /messages` and `POST /accounts/{id}/send_message`: validate, check, queue.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::load_with_history;
use super::types::MessageOut;
use crate::auth::AuthContext;
use crate::db::write_tx;
use crate::domain::message_status::MessageStatus;
use crate::domain::phone::e164;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::outbox::admission::{self, Candidate, Origin, Verdict};
use crate::providers::MessageBody;
use crate::state::AppState;
use crate::store;
use crate::store::messages::Message;

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

/// Checks the media links, then has the outbox admit the message (see
/// [`crate::outbox::admission`]). Returns the message as queued and whether it is new (false: an
/// earlier send with the same idempotency key and body).
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
    let mut candidate = Candidate::of(&e164(&to), &message).map_err(ApiError::internal)?;
    candidate.idempotency_key = key;
    let (message, created) = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let account = crate::routes::accounts::require(c, tenant, account_id)?;
                let phone = match phone_number_id {
                    Some(pid) => store::phone_numbers::get(c, tenant, pid)?.filter(|p| p.account_id == account_id),
                    None => store::phone_numbers::default_for(c, tenant, account_id)?,
                }
                .ok_or_else(|| match admission::check_account(&account) {
                    // An account that cannot send says so before its missing number does.
                    Err(r) => r.problem("message"),
                    Ok(()) => ApiError::field("phone_number_id", "not_found"),
                })?;
                let origin = Origin { account, phone };
                match admission::admit(c, &origin, vec![candidate], &[])?.pop() {
                    Some(Verdict::Queued { id, created }) => {
                        let m = store::messages::get(c, tenant, id)?.ok_or_else(|| ApiError::not_found("message"))?;
                        Ok((m, created))
                    }
                    Some(Verdict::Refused(r)) => Err(r.problem("message.template.components")),
                    None => Err(ApiError::internal("admission gave no verdict")),
                }
            })
        })
        .await?;
    if created {
        state.wakeup.wake();
    }
    Ok((message, created))
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
        let pending = matches!(MessageStatus::parse(&out.status), Some(MessageStatus::Queued | MessageStatus::Sending));
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
/// earlier message when the same request was sent before with the same `Idempotency-Key`
/// (concurrent repeats included).
#[utoipa::path(tag = "messages", security(("bearer" = [])), params(SendQuery, ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key: a repeat of the same request returns the first message (200); the same key with another request is 422 `idempotency_key_reused`")),
    request_body = SendMessageRequest,
    responses(
        (status = 202, body = MessageOut, description = "queued"),
        (status = 201, body = MessageOut, description = "sent (with ?wait=true)"),
        (status = 200, body = MessageOut, description = "the earlier message for this Idempotency-Key"),
        (status = 409, description = "recipient opted out, account not active, or number quality RED", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation failed, template not approved, a free-form message outside the 24-hour customer-service window (`outside_service_window`), or an Idempotency-Key used before for another request (`idempotency_key_reused`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "the tenant's daily quota (`rate_limited`) or the account's day or month limit (`account_limit_reached`) is used up", body = crate::error::Problem, content_type = "application/problem+json"),
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
#[utoipa::path(tag = "messages", security(("bearer" = [])), params(("id" = i64, Path), SendQuery, ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key: a repeat of the same request returns the first message (200); the same key with another request is 422 `idempotency_key_reused`")),
    request_body = AccountSendRequest,
    responses(
        (status = 202, body = MessageOut, description = "queued"),
        (status = 201, body = MessageOut, description = "sent (with ?wait=true)"),
        (status = 200, body = MessageOut, description = "the earlier message for this Idempotency-Key"),
        (status = 409, description = "recipient opted out, account not active, or number quality RED", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation failed, template not approved, a free-form message outside the 24-hour customer-service window (`outside_service_window`), or an Idempotency-Key used before for another request (`idempotency_key_reused`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "the tenant's daily quota (`rate_limited`) or the account's day or month limit (`account_limit_reached`) is used up", body = crate::error::Problem, content_type = "application/problem+json"),
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
