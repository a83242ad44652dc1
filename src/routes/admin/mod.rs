//! The platform admin API: every tenant, with usage, status and quotas.

use actix_web::{HttpResponse, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{AuthContext, Role, password};
use crate::db::write_tx;
use crate::domain::TenantId;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::pagination::{PageQuery, Paginated};
use crate::routes::auth::normalize_email;
use crate::routes::auth::types::{TenantOut, UserOut};
use crate::state::AppState;
use crate::store::{self, tenants::Usage};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_tenants)
        .service(create_tenant)
        .service(get_tenant)
        .service(suspend_tenant)
        .service(reactivate_tenant)
        .service(set_tenant_quotas);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantUsageOut {
    pub users: i64,
    pub accounts: i64,
    pub phone_numbers: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminTenantOut {
    #[serde(flatten)]
    pub tenant: TenantOut,
    pub usage: TenantUsageOut,
}

impl AdminTenantOut {
    fn new(t: store::tenants::Tenant, u: Usage) -> Self {
        AdminTenantOut {
            tenant: t.into(),
            usage: TenantUsageOut { users: u.users, accounts: u.accounts, phone_numbers: u.phone_numbers },
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOwner {
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    pub email: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(min = 8, max = 128))]
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenantRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The tenant's first owner (optional).
    #[validate(nested)]
    pub owner: Option<NewOwner>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTenant {
    pub tenant: TenantOut,
    pub owner: Option<UserOut>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotasRequest {
    /// Most WABA accounts the tenant may hold; null for unlimited.
    #[validate(range(min = 0, max = 100000))]
    #[schema(minimum = 0, maximum = 100000)]
    pub max_accounts: Option<i64>,
    /// Most messages the tenant may send per day; null for unlimited.
    #[validate(range(min = 0, max = 1000000000))]
    #[schema(minimum = 0, maximum = 1000000000)]
    pub daily_message_quota: Option<i64>,
}

async fn load_one(state: &AppState, id: i64) -> ApiResult<AdminTenantOut> {
    state
        .db
        .run(move |c| {
            let t = store::tenants::get(c, TenantId(id))?.ok_or_else(|| ApiError::not_found("tenant"))?;
            let usage = store::tenants::usage(c, &[id])?.remove(&id).unwrap_or_default();
            Ok::<_, ApiError>(AdminTenantOut::new(t, usage))
        })
        .await
}

/// Every tenant with its usage, newest first.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Paginated<AdminTenantOut>)))]
#[get("/admin/tenants")]
pub async fn list_tenants(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    auth.require_platform_admin()?;
    let page = q.page()?;
    let (rows, mut usage) = state
        .db
        .run(move |c| {
            let rows = store::tenants::list(c, page)?;
            let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
            Ok::<_, diesel::result::Error>((rows, store::tenants::usage(c, &ids)?))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(
        rows,
        page,
        |t| t.id,
        |t| {
            let u = usage.remove(&t.id).unwrap_or_default();
            AdminTenantOut::new(t, u)
        },
    )))
}

/// Creates a tenant, optionally with its first owner.
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = CreateTenantRequest, responses(
    (status = 201, body = CreatedTenant),
    (status = 409, description = "owner email already registered", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/admin/tenants")]
pub async fn create_tenant(
    state: web::Data<AppState>,
    auth: AuthContext,
    body: ValidatedJson<CreateTenantRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_platform_admin()?;
    let req = body.0;
    let owner = match req.owner {
        Some(o) => {
            let pw = o.password.clone();
            let hash = web::block(move || password::hash(&pw)).await?;
            Some((normalize_email(&o.email), o.name, hash))
        }
        None => None,
    };
    let (tenant, owner) = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let tenant = store::tenants::create(c, req.name.trim())?;
                let owner = match owner {
                    None => None,
                    Some((email, name, hash)) => {
                        if store::users::by_email(c, &email)?.is_some() {
                            return Err(ApiError::conflict("email_taken", "this email is already registered"));
                        }
                        Some(store::users::create(
                            c,
                            store::users::NewUser {
                                tenant_id: TenantId(tenant.id),
                                email: &email,
                                name: name.trim(),
                                password_hash: &hash,
                                role: Role::Owner,
                                is_platform_admin: false,
                            },
                        )?)
                    }
                };
                Ok((tenant, owner))
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedTenant { tenant: tenant.into(), owner: owner.map(Into::into) }))
}

/// One tenant with its usage.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = AdminTenantOut)))]
#[get("/admin/tenants/{id}")]
pub async fn get_tenant(state: web::Data<AppState>, auth: AuthContext, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    auth.require_platform_admin()?;
    Ok(HttpResponse::Ok().json(load_one(&state, id.into_inner()).await?))
}

async fn set_status(state: &AppState, auth: &AuthContext, id: i64, status: &'static str) -> ApiResult<HttpResponse> {
    auth.require_platform_admin()?;
    state
        .db
        .run(move |c| store::tenants::set_status(c, TenantId(id), status))
        .await?
        .ok_or_else(|| ApiError::not_found("tenant"))?;
    Ok(HttpResponse::Ok().json(load_one(state, id).await?))
}

/// Suspends a tenant: its users and keys get 403 `tenant_suspended` until reactivated.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = AdminTenantOut)))]
#[post("/admin/tenants/{id}/suspend")]
pub async fn suspend_tenant(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    set_status(&state, &auth, id.into_inner(), "suspended").await
}

/// Reactivates a suspended tenant.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = AdminTenantOut)))]
#[post("/admin/tenants/{id}/reactivate")]
pub async fn reactivate_tenant(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    set_status(&state, &auth, id.into_inner(), "active").await
}

/// Sets the tenant's quotas (null = unlimited).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)), request_body = QuotasRequest, responses((status = 200, body = AdminTenantOut)))]
#[put("/admin/tenants/{id}/quotas")]
pub async fn set_tenant_quotas(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<QuotasRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_platform_admin()?;
    let id = id.into_inner();
    let q = body.0;
    state
        .db
        .run(move |c| store::tenants::set_quotas(c, TenantId(id), q.max_accounts, q.daily_message_quota))
        .await?
        .ok_or_else(|| ApiError::not_found("tenant"))?;
    Ok(HttpResponse::Ok().json(load_one(&state, id).await?))
}
