//! `GET /flows/{id}/submissions`: what contacts entered in a flow (inbound `nfm_reply` messages
//! answering a message that opened it).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthContext;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{PageQuery, Paginated};
use crate::routes::utc;
use crate::state::AppState;
use crate::store;
use crate::store::flow_submissions::FlowSubmission;

#[derive(Debug, Serialize, ToSchema)]
pub struct FlowSubmissionOut {
    pub id: i64,
    pub flow_id: Option<i64>,
    pub account_id: i64,
    /// The inbound message that carried the submission.
    pub message_id: i64,
    pub lead_id: Option<i64>,
    /// The contact, E.164.
    pub phone: String,
    /// The token the flow message was sent with.
    pub flow_token: Option<String>,
    /// The submitted fields (the provider's `response_json`, parsed).
    #[schema(value_type = Object)]
    pub response: serde_json::Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<FlowSubmission> for FlowSubmissionOut {
    fn from(s: FlowSubmission) -> Self {
        FlowSubmissionOut {
            id: s.id,
            flow_id: s.flow_id,
            account_id: s.account_id,
            message_id: s.message_id,
            lead_id: s.lead_id,
            phone: s.phone,
            flow_token: s.flow_token,
            response: serde_json::from_str(&s.response_json).unwrap_or_default(),
            created_at: utc(s.created_at),
        }
    }
}

/// A flow's submissions, newest first.
#[utoipa::path(tag = "flows", security(("bearer" = [])), params(("id" = i64, Path, description = "The flow"), PageQuery), responses((status = 200, body = Paginated<FlowSubmissionOut>)))]
#[get("/flows/{id}/submissions")]
pub async fn list_flow_submissions(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (id, page, tenant) = (id.into_inner(), q.page()?, auth.tenant_id);
    let rows = state
        .db
        .run(move |c| {
            store::flows::of_tenant(c, tenant, id)?.ok_or_else(|| ApiError::not_found("flow"))?;
            Ok::<_, ApiError>(store::flow_submissions::list(c, tenant, id, page)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |s| s.id, FlowSubmissionOut::from)))
}
