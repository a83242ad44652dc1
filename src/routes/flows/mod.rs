//! WhatsApp Flows of an account: create, upload the Flow JSON, publish, deprecate, delete a draft;
//! and what contacts submitted ([`submissions`]).

pub mod submissions;

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::AuthContext;
use crate::domain::TenantId;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::pagination::{PageQuery, Paginated};
use crate::routes::utc;
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::flows::Flow;
use crate::{remote, store};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_flows)
        .service(create_flow)
        .service(get_flow)
        .service(upload_flow_json)
        .service(publish_flow)
        .service(deprecate_flow)
        .service(delete_flow)
        .service(submissions::list_flow_submissions);
}

/// Flow categories Meta accepts.
const CATEGORIES: [&str; 8] = [
    "SIGN_UP",
    "SIGN_IN",
    "APPOINTMENT_BOOKING",
    "LEAD_GENERATION",
    "CONTACT_US",
    "CUSTOMER_SUPPORT",
    "SURVEY",
    "OTHER",
];

fn valid_categories(c: &[String]) -> Result<(), validator::ValidationError> {
    if !c.is_empty() && c.iter().all(|x| CATEGORIES.contains(&x.as_str())) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("invalid_choice"))
    }
}

/// A Flow JSON must be an object with a `version` string and a non-empty `screens` array.
pub fn check_flow_json(v: &serde_json::Value) -> Result<(), validator::ValidationError> {
    let ok = v.get("version").is_some_and(serde_json::Value::is_string)
        && v.get("screens").and_then(serde_json::Value::as_array).is_some_and(|s| !s.is_empty());
    if ok { Ok(()) } else { Err(validator::ValidationError::new("invalid_flow_json")) }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFlowRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// e.g. `["SIGN_UP"]`; default `["OTHER"]`.
    #[validate(custom(function = "valid_categories"))]
    #[serde(default = "default_categories")]
    pub categories: Vec<String>,
    /// The Flow JSON to upload at once (optional).
    #[validate(custom(function = "check_flow_json"))]
    #[schema(value_type = Option<Object>)]
    pub flow_json: Option<serde_json::Value>,
}

fn default_categories() -> Vec<String> {
    vec!["OTHER".into()]
}

/// The body of `PUT …/json`: a Flow JSON document, as it is (not wrapped).
#[derive(Debug, Deserialize, Validate)]
#[serde(transparent)]
pub struct FlowJson {
    #[validate(custom(function = "check_flow_json"))]
    pub json: serde_json::Value,
}

impl utoipa::PartialSchema for FlowJson {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, Type};
        ObjectBuilder::new()
            .description(Some("A Flow JSON document: a `version` string and a non-empty `screens` array."))
            .property("version", ObjectBuilder::new().schema_type(Type::String))
            .property("screens", ArrayBuilder::new().items(Object::new()).min_items(Some(1)))
            .required("version")
            .required("screens")
            .into()
    }
}

impl ToSchema for FlowJson {}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlowOut {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub categories: Vec<String>,
    /// `DRAFT`, `PUBLISHED`, `DEPRECATED`, `THROTTLED` or `BLOCKED`.
    pub status: String,
    pub provider_flow_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub flow_json: Option<serde_json::Value>,
    /// The provider's validation errors for the uploaded JSON.
    #[schema(value_type = Vec<Object>)]
    pub validation_errors: serde_json::Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Flow> for FlowOut {
    fn from(f: Flow) -> Self {
        FlowOut {
            id: f.id,
            account_id: f.account_id,
            name: f.name,
            categories: serde_json::from_str(&f.categories).unwrap_or_default(),
            status: f.status,
            provider_flow_id: f.provider_flow_id,
            flow_json: f.flow_json.and_then(|j| serde_json::from_str(&j).ok()),
            validation_errors: serde_json::from_str(&f.validation_errors).unwrap_or_default(),
            created_at: utc(f.created_at),
            updated_at: utc(f.updated_at),
        }
    }
}

async fn flow(state: &AppState, tenant: TenantId, account: i64, id: i64) -> ApiResult<Flow> {
    state.db.run(move |c| store::flows::get(c, tenant, account, id)).await?.ok_or_else(|| ApiError::not_found("flow"))
}

/// The account and flow a write names, for an owner or admin.
async fn writable(state: &AppState, auth: &AuthContext, (id, fid): (i64, i64)) -> ApiResult<(Account, Flow)> {
    auth.require_admin()?;
    let a = crate::routes::accounts::load(state, auth.tenant_id, id).await?;
    Ok((a, flow(state, auth.tenant_id, id, fid).await?))
}

/// An account's flows, newest first.
#[utoipa::path(tag = "flows", security(("bearer" = [])), params(("id" = i64, Path), PageQuery), responses((status = 200, body = Paginated<FlowOut>)))]
#[get("/accounts/{id}/flows")]
pub async fn list_flows(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (id, page) = (id.into_inner(), q.page()?);
    crate::routes::accounts::load(&state, auth.tenant_id, id).await?;
    let rows = state.db.run(move |c| store::flows::list(c, auth.tenant_id, id, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |f| f.id, FlowOut::from)))
}

/// Creates a flow (a draft at the provider), optionally uploading its JSON.
#[utoipa::path(tag = "flows", security(("bearer" = [])), params(("id" = i64, Path)), request_body = CreateFlowRequest, responses(
    (status = 201, body = FlowOut),
    crate::openapi::ProviderProblems,
))]
#[post("/accounts/{id}/flows")]
pub async fn create_flow(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<CreateFlowRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let a = crate::routes::accounts::load(&state, auth.tenant_id, id.into_inner()).await?;
    let req = body.0;
    let mut f = remote::create_flow(&state, &a, &req.name, &req.categories).await?;
    if let Some(json) = req.flow_json {
        f = remote::upload_flow_json(&state, &a, &f, &json).await?;
    }
    Ok(HttpResponse::Created().json(FlowOut::from(f)))
}

/// One flow.
#[utoipa::path(tag = "flows", security(("bearer" = [])), params(("id" = i64, Path), ("flow_id" = i64, Path)), responses((status = 200, body = FlowOut)))]
#[get("/accounts/{id}/flows/{flow_id}")]
pub async fn get_flow(
    state: web::Data<AppState>,
    auth: AuthContext,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, fid) = path.into_inner();
    Ok(HttpResponse::Ok().json(FlowOut::from(flow(&state, auth.tenant_id, id, fid).await?)))
}

/// Uploads or replaces the Flow JSON; the provider's validation errors are kept on the flow.
#[utoipa::path(tag = "flows", security(("bearer" = [])), params(("id" = i64, Path), ("flow_id" = i64, Path)), request_body = FlowJson, responses(
    (status = 200, body = FlowOut),
    crate::openapi::ProviderProblems,
    (status = 409, description = "the flow is deprecated (`flow_deprecated`) or has no provider id (`flow_not_at_provider`), or the account lacks a credential or id the call needs (`account_credentials_missing`)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[put("/accounts/{id}/flows/{flow_id}/json")]
pub async fn upload_flow_json(
    state: web::Data<AppState>,
    auth: AuthContext,
    path: web::Path<(i64, i64)>,
    body: ValidatedJson<FlowJson>,
) -> ApiResult<HttpResponse> {
    let (a, f) = writable(&state, &auth, path.into_inner()).await?;
    if f.status == "DEPRECATED" {
        return Err(ApiError::conflict("flow_deprecated", "a deprecated flow cannot change"));
    }
    let f = remote::upload_flow_json(&state, &a, &f, &body.0.json).await?;
    Ok(HttpResponse::Ok().json(FlowOut::from(f)))
}

/// Publishes a draft flow (it can then be sent; its JSON can no longer change in place).
#[utoipa::path(tag = "flows", security(("bearer" = [])), params(("id" = i64, Path), ("flow_id" = i64, Path)), responses(
    (status = 200, body = FlowOut),
    crate::openapi::ProviderProblems,
    (status = 409, description = "the flow is not a draft (`flow_not_draft`), has no JSON (`flow_json_missing`) or no provider id (`flow_not_at_provider`), or the account lacks a credential or id the call needs (`account_credentials_missing`)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/accounts/{id}/flows/{flow_id}/publish")]
pub async fn publish_flow(
    state: web::Data<AppState>,
    auth: AuthContext,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (a, f) = writable(&state, &auth, path.into_inner()).await?;
    if f.status != "DRAFT" {
        return Err(ApiError::conflict(
            "flow_not_draft",
            format!("only a DRAFT flow can be published; this one is {}", f.status),
        ));
    }
    if f.flow_json.is_none() {
        return Err(ApiError::conflict("flow_json_missing", "upload the Flow JSON before publishing"));
    }
    Ok(HttpResponse::Ok().json(FlowOut::from(remote::flow_status(&state, &a, &f, "PUBLISHED").await?)))
}

/// Deprecates a published flow (irreversible: it can no longer be sent).
#[utoipa::path(tag = "flows", security(("bearer" = [])), params(("id" = i64, Path), ("flow_id" = i64, Path)), responses(
    (status = 200, body = FlowOut),
    crate::openapi::ProviderProblems,
    (status = 409, description = "the flow is not published (`flow_not_published`) or has no provider id (`flow_not_at_provider`), or the account lacks a credential or id the call needs (`account_credentials_missing`)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/accounts/{id}/flows/{flow_id}/deprecate")]
pub async fn deprecate_flow(
    state: web::Data<AppState>,
    auth: AuthContext,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (a, f) = writable(&state, &auth, path.into_inner()).await?;
    if f.status == "DRAFT" || f.status == "DEPRECATED" {
        return Err(ApiError::conflict(
            "flow_not_published",
            format!("only a published flow can be deprecated; this one is {}", f.status),
        ));
    }
    Ok(HttpResponse::Ok().json(FlowOut::from(remote::flow_status(&state, &a, &f, "DEPRECATED").await?)))
}

/// Deletes a draft flow (here and at the provider).
#[utoipa::path(tag = "flows", security(("bearer" = [])), params(("id" = i64, Path), ("flow_id" = i64, Path)), responses(
    (status = 204, description = "deleted"),
    crate::openapi::ProviderProblems,
    (status = 409, description = "the flow is not a draft (`flow_not_draft`) or has no provider id (`flow_not_at_provider`), or the account lacks a credential or id the call needs (`account_credentials_missing`)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[delete("/accounts/{id}/flows/{flow_id}")]
pub async fn delete_flow(
    state: web::Data<AppState>,
    auth: AuthContext,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (a, f) = writable(&state, &auth, path.into_inner()).await?;
    if f.status != "DRAFT" {
        return Err(ApiError::conflict("flow_not_draft", "only DRAFT flows can be deleted; deprecate a published one"));
    }
    remote::delete_flow(&state, &a, &f).await?;
    Ok(HttpResponse::NoContent().finish())
}
