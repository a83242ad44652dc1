//! `POST /accounts/{id}/sandbox/inbound`: a simulated contact writes to a sandbox account. The
//! message goes through the same storage and apply path as a real webhook, so it opens the
//! customer-service window, links a lead and triggers the bot like a real one.

use std::time::Duration;

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::AuthContext;
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

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxInboundRequest {
    /// The contact writing in, E.164.
    #[validate(custom(function = "crate::domain::phone::validate_phone"))]
    #[schema(example = "+919876543210")]
    pub from: String,
    #[validate(length(min = 1, max = 4096))]
    pub text: String,
    /// The contact's WhatsApp profile name (becomes the lead's name).
    #[validate(length(min = 1, max = 200))]
    pub name: Option<String>,
}

/// Simulates a contact's text message to a sandbox account, as the provider's webhook would
/// deliver it; answers with the stored inbound message.
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
    let from = e164(&req.from);
    let (payload, wamid) = sandbox::inbound_text(
        account.waba_id.as_deref().unwrap_or("sandbox"),
        phone.provider_phone_number_id.as_deref().unwrap_or(sandbox::SANDBOX_PHONE_NUMBER_ID),
        from.trim_start_matches('+'),
        req.name.as_deref(),
        &req.text,
        chrono::Utc::now(),
    );
    let raw = payload.to_string();
    let stored = state.db.run(move |c| ingest::store_for(c, &account, raw.as_bytes(), &payload)).await?;
    if let Some(event) = stored {
        crate::webhooks::process(&state, event).await?;
    }
    let started = std::time::Instant::now();
    loop {
        let key = wamid.clone();
        if let Some(m) = state.db.run(move |c| store::messages::by_provider_id(c, tenant, &key)).await? {
            return Ok(HttpResponse::Created().json(MessageOut::from(m)));
        }
        if started.elapsed() >= APPLY_WAIT {
            return Err(ApiError::internal("the simulated inbound message was not applied"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
