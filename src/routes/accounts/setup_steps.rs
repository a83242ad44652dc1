//! The setup wizard's `PUT` operations: one per step, each with its own body, and the numeric
//! path `PUT /accounts/{id}/setup/{step}` (1–6) kept as an alias. All save through
//! [`super::setup::save_step`].

use actix_web::{HttpRequest, HttpResponse, put, web};

use super::setup::{SetupState, SetupStepBody, save_step};
use crate::auth::AuthContext;
use crate::domain::account::{BotSettings, BusinessProfile};
use crate::domain::setup::{AccessTokensStep, BusinessAccountStep, PhoneNumberStep, WebhookStep, step_number};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Registers the named steps before the numeric alias, which would also match their names.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(put_setup_business_account)
        .service(put_setup_phone_number)
        .service(put_setup_access_tokens)
        .service(put_setup_business_profile)
        .service(put_setup_bot)
        .service(put_setup_webhook)
        .service(update_account_setup);
}

/// One step's operation: `PUT /accounts/{id}/setup/<name>` with that step's body.
macro_rules! step_operation {
    ($handler:ident, $path:literal, $step:literal, $body:ident, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = i64, Path)), request_body = $body, responses(
            (status = 200, body = SetupState),
            (status = 409, description = "an earlier step is not done yet (`setup_step_skipped`)", body = crate::error::Problem, content_type = "application/problem+json"),
        ))]
        #[put($path)]
        pub async fn $handler(
            req: HttpRequest,
            state: web::Data<AppState>,
            auth: AuthContext,
            id: web::Path<i64>,
            body: web::Bytes,
        ) -> ApiResult<HttpResponse> {
            save_step(req, state, auth, id.into_inner(), $step, body).await
        }
    };
}

step_operation!(
    put_setup_business_account,
    "/accounts/{id}/setup/business_account",
    1,
    BusinessAccountStep,
    "Step 1: the provider-side business account and WABA ids."
);
step_operation!(
    put_setup_phone_number,
    "/accounts/{id}/setup/phone_number",
    2,
    PhoneNumberStep,
    "Step 2: the account's default phone number."
);
step_operation!(
    put_setup_access_tokens,
    "/accounts/{id}/setup/access_tokens",
    3,
    AccessTokensStep,
    "Step 3: the provider credentials (write-only, stored encrypted)."
);
step_operation!(
    put_setup_business_profile,
    "/accounts/{id}/setup/business_profile",
    4,
    BusinessProfile,
    "Step 4: the business profile."
);
step_operation!(
    put_setup_bot,
    "/accounts/{id}/setup/bot",
    5,
    BotSettings,
    "Step 5: the bot settings (greeting, out-of-hours and fallback replies, opt-out keywords)."
);
step_operation!(
    put_setup_webhook,
    "/accounts/{id}/setup/webhook",
    6,
    WebhookStep,
    "Step 6: the webhook verify token and events; the account becomes `active` and the answer carries the webhook URL and token to register with the provider."
);

/// Saves step `step` (1–6) with that step's body, as the named operations do (an alias kept for
/// clients that number the steps).
#[utoipa::path(tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path), ("step" = i32, Path, minimum = 1, maximum = 6, description = "1 business_account, 2 phone_number, 3 access_tokens, 4 business_profile, 5 bot, 6 webhook")),
    request_body = SetupStepBody,
    responses(
        (status = 200, body = SetupState),
        (status = 409, description = "an earlier step is not done yet (`setup_step_skipped`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[put("/accounts/{id}/setup/{step}")]
pub async fn update_account_setup(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthContext,
    path: web::Path<(i64, String)>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let (id, step) = path.into_inner();
    let step = step_number(&step).ok_or_else(|| ApiError::not_found("setup step"))?;
    save_step(req, state, auth, id, step, body).await
}
