//! Sending and reading messages. A send is validated, queued in the outbox and answered 202;
//! `?wait=true` waits for the provider's answer.

pub mod send;
pub mod types;

use actix_web::{HttpResponse, get, post, web};

use self::types::*;
use crate::auth::AuthContext;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{PageQuery, Paginated};
use crate::state::AppState;
use crate::store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(send::send_message)
        .service(send::send_account_message)
        .service(list_messages)
        .service(get_message)
        .service(resend_message);
}

/// The tenant's messages, newest first.
#[utoipa::path(tag = "messages", security(("bearer" = [])), params(PageQuery, MessageFilter), responses((status = 200, body = Paginated<MessageOut>)))]
#[get("/messages")]
pub async fn list_messages(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
    f: web::Query<MessageFilter>,
) -> ApiResult<HttpResponse> {
    let page = q.page()?;
    let f = f.into_inner();
    if f.direction.as_deref().is_some_and(|d| d != "outbound" && d != "inbound") {
        return Err(ApiError::field("direction", "invalid_choice"));
    }
    let filter = store::messages::ListFilter {
        account_id: f.account_id,
        phone_number_id: f.phone_number_id,
        status: f.status,
        direction: f.direction,
        recipient: f.recipient.map(|r| crate::domain::phone::e164(&r)),
        campaign_id: f.campaign_id,
        from: f.from.map(|t| t.naive_utc()),
        to: f.to.map(|t| t.naive_utc()),
    };
    let rows = state.db.run(move |c| store::messages::list(c, auth.tenant_id, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |m| m.id, MessageOut::from)))
}

/// One message with its status history and error.
#[utoipa::path(tag = "messages", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = MessageOut)))]
#[get("/messages/{id}")]
pub async fn get_message(state: web::Data<AppState>, auth: AuthContext, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let out = load_with_history(&state, auth, id).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// A message and its history, scoped to the caller's tenant.
pub async fn load_with_history(state: &AppState, auth: AuthContext, id: i64) -> ApiResult<MessageOut> {
    state
        .db
        .run(move |c| {
            let m = store::messages::get(c, auth.tenant_id, id)?.ok_or_else(|| ApiError::not_found("message"))?;
            let history = store::messages::events(c, m.id)?;
            let mut out = MessageOut::from(m);
            out.history = Some(history.into_iter().map(Into::into).collect());
            Ok::<_, ApiError>(out)
        })
        .await
}

/// Who asked, as recorded in a message's history: a user or an API key.
pub fn requester(auth: &AuthContext) -> String {
    match (auth.user_id, auth.api_key_id) {
        (Some(user), _) => format!("user {user}"),
        (None, Some(key)) => format!("api key {key}"),
        (None, None) => "an operator".into(),
    }
}

/// Sends an `unconfirmed` message again (owners and admins). It was in doubt (the provider may
/// have received it) and no status report settled it within `UNKNOWN_SETTLE_SECS`, so its
/// recipient may get it twice: only an explicit request resends it. It goes back to the queue
/// with a history entry naming who asked; 202 with the message. Any other status is 409
/// `not_unconfirmed`.
#[utoipa::path(tag = "messages", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 202, body = MessageOut, description = "queued again"),
        (status = 404, description = "no such message", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "the message is not `unconfirmed` (`not_unconfirmed`)", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/messages/{id}/resend")]
pub async fn resend_message(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let (tenant, id, by) = (auth.tenant_id, id.into_inner(), requester(&auth));
    state
        .db
        .run(move |c| {
            let m = store::messages::get(c, tenant, id)?.ok_or_else(|| ApiError::not_found("message"))?;
            let which = store::outbox::Resend::Message(m.id);
            if store::outbox::resend(c, tenant, which, &by, crate::db::now())?.is_empty() {
                let detail = format!("only an unconfirmed message can be resent; this one is {}", m.status);
                return Err(ApiError::conflict("not_unconfirmed", detail));
            }
            Ok(())
        })
        .await?;
    state.wakeup.wake();
    let out = load_with_history(&state, auth, id).await?;
    Ok(HttpResponse::Accepted().insert_header(("location", format!("/api/v1/messages/{id}"))).json(out))
}
