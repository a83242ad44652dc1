//! Conversations: everyone the tenant exchanged messages with, and the messages with one contact;
//! and simulated contacts writing to sandbox accounts ([`sandbox`]).

pub mod sandbox;

use std::collections::HashMap;

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthContext;
use crate::domain::PhoneNumber;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{PageQuery, Paginated};
use crate::routes::messages::types::MessageOut;
use crate::routes::utc;
use crate::state::AppState;
use crate::store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_conversations).service(list_conversation_messages).service(sandbox::create_sandbox_inbound);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationFilter {
    pub account_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationOut {
    /// The contact, E.164.
    pub contact: String,
    pub last_message: MessageOut,
    /// When the contact last wrote, if ever.
    pub last_inbound_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether a free-form (non-template) message may be sent now (the contact wrote in the last 24
    /// hours); outside it only templates are accepted (`outside_service_window`).
    pub service_window_open: bool,
}

/// Contacts with their latest message, most recent activity first.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(PageQuery, ConversationFilter), responses((status = 200, body = Paginated<ConversationOut>)))]
#[get("/conversations")]
pub async fn list_conversations(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
    f: web::Query<ConversationFilter>,
) -> ApiResult<HttpResponse> {
    let (page, account, tenant) = (q.page()?, f.account_id, auth.tenant_id);
    let (contacts, last, inbound) = state
        .db
        .run(move |c| {
            let contacts = store::conversations::contacts(c, tenant, account, page)?;
            let ids: Vec<i64> = contacts.iter().map(|(_, id)| *id).collect();
            let names: Vec<String> = contacts.iter().map(|(r, _)| r.clone()).collect();
            let last = store::messages::by_ids(c, tenant, &ids)?;
            let inbound = store::conversations::last_inbound(c, tenant, account, &names)?;
            Ok::<_, diesel::result::Error>((contacts, last, inbound))
        })
        .await?;
    let mut last: HashMap<i64, _> = last.into_iter().map(|m| (m.id, m)).collect();
    let inbound: HashMap<String, chrono::NaiveDateTime> = inbound.into_iter().collect();
    let now = chrono::Utc::now().naive_utc();
    let page_out = Paginated::from_rows(
        contacts,
        page,
        |(_, id)| *id,
        |(contact, id)| {
            let wrote = inbound.get(&contact).copied();
            ConversationOut {
                last_message: last.remove(&id).map(MessageOut::from).expect("the latest message exists"),
                last_inbound_at: wrote.map(utc),
                service_window_open: wrote.is_some_and(|t| now - t < store::conversations::SERVICE_WINDOW),
                contact,
            }
        },
    );
    Ok(HttpResponse::Ok().json(page_out))
}

/// Inbound and outbound messages with one contact, newest first.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("phone" = String, Path, description = "The contact, E.164"), PageQuery, ConversationFilter), responses((status = 200, body = Paginated<MessageOut>)))]
#[get("/conversations/{phone}/messages")]
pub async fn list_conversation_messages(
    state: web::Data<AppState>,
    auth: AuthContext,
    phone: web::Path<String>,
    q: web::Query<PageQuery>,
    f: web::Query<ConversationFilter>,
) -> ApiResult<HttpResponse> {
    let contact = PhoneNumber::parse(&phone).map_err(|e| ApiError::field("phone", e.code()))?;
    let page = q.page()?;
    let filter = store::messages::ListFilter {
        recipient: Some(contact.as_str().to_string()),
        account_id: f.account_id,
        ..Default::default()
    };
    let rows = state.db.run(move |c| store::messages::list(c, auth.tenant_id, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |m| m.id, MessageOut::from)))
}
