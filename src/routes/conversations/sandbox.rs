//! `POST /accounts/{id}/sandbox/inbound`: a simulated contact writes to a sandbox account (a text,
//! or a completed Flow). The message goes through the same storage and apply path as a real
//! webhook, so it opens the customer-service window, links a lead, triggers the bot and records
//! Flow submissions like a real one.

use std::time::Duration;

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::AuthContext;
use crate::db::write_tx;
use crate::domain::phone::e164;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::providers::sandbox;
use crate::routes::messages::types::MessageOut;
use crate::state::AppState;
use crate::store;
use crate::webhooks::ingest;

/// How long the answer waits for the background processor when it took the event first.
const APPLY_WAIT: Duration = Duration::from_secs(10);

/// A text, or (with `flow_response`) a completed Flow; exactly one of the two.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "one_content"))]
pub struct SandboxInboundRequest {
    /// The contact writing in, E.164.
    #[validate(custom(function = "crate::domain::phone::validate_phone"))]
    #[schema(example = "+919876543210")]
    pub from: String,
    #[validate(length(min = 1, max = 4096))]
    #[schema(min_length = 1, max_length = 4096)]
    pub text: Option<String>,
    /// The fields the contact submitted in a Flow (sent as an `nfm_reply`); include the
    /// `flow_token` the Flow message was sent with.
    #[schema(value_type = Option<Object>)]
    pub flow_response: Option<serde_json::Value>,
    /// Our id of the message this answers (for a Flow: the Flow message that opened it).
    pub reply_to: Option<i64>,
    /// The contact's WhatsApp profile name (becomes the lead's name).
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
}

fn one_content(r: &SandboxInboundRequest) -> Result<(), validator::ValidationError> {
    match (&r.text, &r.flow_response) {
        (Some(_), None) => Ok(()),
        (None, Some(v)) if v.is_object() => Ok(()),
        _ => Err(validator::ValidationError::new("text_or_flow_response")),
    }
}

/// Simulates a contact's message to a sandbox account (a text, or a Flow completion answering
/// `reply_to`), as the provider's webhook would deliver it; answers with the stored inbound message.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = SandboxInboundRequest,
    responses(
        (status = 201, body = MessageOut, description = "the inbound message, stored and applied"),
        (status = 409, description = "not a sandbox account, or it has no phone number", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/accounts/{id}/sandbox/inbound")]
pub async fn create_sandbox_inbound(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<SandboxInboundRequest>,
) -> ApiResult<HttpResponse> {
    let (tenant, req) = (auth.tenant_id, body.0);
    let account = crate::routes::accounts::load(&state, tenant, id.into_inner()).await?;
    if account.provider != "sandbox" {
        return Err(ApiError::conflict(
            "not_sandbox_account",
            "only sandbox accounts simulate inbound messages; real providers deliver them by webhook",
        ));
    }
    let account_id = account.id;
    let phone = state.db.run(move |c| store::phone_numbers::default_for(c, tenant, account_id)).await?;
    let phone = phone.ok_or_else(|| ApiError::conflict("no_phone_number", "the account has no phone number"))?;
    let reply_to = match req.reply_to {
        Some(id) => {
            let m = state.db.run(move |c| store::messages::get(c, tenant, id)).await?;
            let sent = m.filter(|m| m.account_id == account_id && m.direction == "outbound");
            Some(sent.and_then(|m| m.provider_message_id).ok_or_else(|| ApiError::field("reply_to", "not_found"))?)
        }
        None => None,
    };
    let from = e164(&req.from);
    let content = match (&req.text, &req.flow_response) {
        (Some(text), _) => sandbox::Inbound::Text(text),
        (None, Some(response)) => sandbox::Inbound::FlowReply(response),
        (None, None) => return Err(ApiError::field("text", "text_or_flow_response")),
    };
    let (payload, wamid) = sandbox::inbound(
        account.waba_id.as_deref().unwrap_or("sandbox"),
        phone.provider_phone_number_id.as_deref().unwrap_or(sandbox::SANDBOX_PHONE_NUMBER_ID),
        from.trim_start_matches('+'),
        req.name.as_deref(),
        content,
        reply_to.as_deref(),
        chrono::Utc::now(),
    );
    let raw = payload.to_string();
    let new = ingest::event_for(&account, raw.as_bytes(), ingest::kind(&payload));
    let event = state.db.run(move |c| write_tx(c, |c| store::webhook_events::insert(c, &new))).await?;
    crate::webhooks::process(&state, event).await?;
    let started = std::time::Instant::now();
    loop {
        let key = wamid.clone();
        let (m, e) = state
            .db
            .run(move |c| {
                let m = store::messages::by_provider_id(c, tenant, &key)?;
                Ok::<_, diesel::result::Error>((m, store::webhook_events::get(c, tenant, event)?))
            })
            .await?;
        if let Some(m) = m {
            return Ok(HttpResponse::Created().json(MessageOut::from(m)));
        }
        // Applied (by us or the background processor) without storing the message: a bug.
        if let Some(error) = e.and_then(|e| e.processed_at.and(e.process_error)) {
            return Err(ApiError::internal(error));
        }
        if started.elapsed() >= APPLY_WAIT {
            return Err(ApiError::internal("the simulated inbound message was not applied"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
