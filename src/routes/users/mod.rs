//! Tenant users: create (invite), list, get, change name or role, remove. Writes need owner/admin.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{AuthContext, Role, password, tokens};
use crate::db::write_tx;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::pagination::{PageQuery, Paginated};
use crate::routes::auth::normalize_email;
use crate::routes::auth::types::UserOut;
use crate::state::AppState;
use crate::store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_users).service(create_user).service(get_user).service(update_user).service(delete_user);
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    pub email: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub role: Role,
    /// Optional; when omitted a temporary password is generated and returned once.
    #[validate(length(min = 8, max = 128))]
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub role: Option<Role>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub user: UserOut,
    /// Present only when the server generated the password; shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary_password: Option<String>,
}

/// Only owners may grant or touch the owner role.
fn check_role_change(auth: &AuthContext, target_current: Option<Role>, new_role: Option<Role>) -> ApiResult<()> {
    let touches_owner = target_current == Some(Role::Owner) || new_role == Some(Role::Owner);
    if touches_owner && auth.role != Role::Owner && !auth.platform_admin {
        return Err(ApiError::forbidden(
            "insufficient_role",
            "only an owner can grant, change or remove the owner role",
        ));
    }
    Ok(())
}

/// Lists the tenant's users, newest first.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Paginated<UserOut>)))]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = q.page()?;
    let rows = state.db.run(move |c| store::users::list(c, auth.tenant_id, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |u| u.id, UserOut::from)))
}

/// Adds a user to the tenant.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = CreateUserRequest, responses(
    (status = 201, body = CreatedUser),
    (status = 409, description = "email already registered", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    auth: AuthContext,
    body: ValidatedJson<CreateUserRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let req = body.0;
    check_role_change(&auth, None, Some(req.role))?;
    let temporary = req.password.is_none().then(|| tokens::random_token()[..16].to_string());
    let plain = req.password.clone().or_else(|| temporary.clone()).unwrap_or_default();
    let hash = web::block(move || password::hash(&plain)).await?;
    let email = normalize_email(&req.email);
    let tenant = auth.tenant_id;
    let user = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                if store::users::by_email(c, &email)?.is_some() {
                    return Err(ApiError::conflict("email_taken", "this email is already registered"));
                }
                Ok(store::users::create(
                    c,
                    store::users::NewUser {
                        tenant_id: tenant,
                        email: &email,
                        name: req.name.trim(),
                        password_hash: &hash,
                        role: req.role,
                        is_platform_admin: false,
                    },
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedUser { user: user.into(), temporary_password: temporary }))
}

/// One user of the tenant.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = UserOut)))]
#[get("/users/{id}")]
pub async fn get_user(state: web::Data<AppState>, auth: AuthContext, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let user = state.db.run(move |c| store::users::get(c, auth.tenant_id, id)).await?;
    Ok(HttpResponse::Ok().json(UserOut::from(user.ok_or_else(|| ApiError::not_found("user"))?)))
}

/// Changes a user's name or role. The last owner cannot be demoted.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateUserRequest, responses(
    (status = 200, body = UserOut),
    (status = 409, description = "would leave the tenant without an owner", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<UpdateUserRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    let req = body.0;
    let user = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let current = store::users::get(c, auth.tenant_id, id)?.ok_or_else(|| ApiError::not_found("user"))?;
                let current_role = Role::parse(&current.role);
                check_role_change(&auth, Some(current_role), req.role.filter(|r| *r != current_role))?;
                if current_role == Role::Owner
                    && req.role.is_some_and(|r| r != Role::Owner)
                    && store::users::count_owners(c, auth.tenant_id)? <= 1
                {
                    return Err(ApiError::conflict("last_owner", "the tenant must keep at least one owner"));
                }
                store::users::update(c, auth.tenant_id, id, req.name.as_deref().map(str::trim), req.role)?
                    .ok_or_else(|| ApiError::not_found("user"))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(UserOut::from(user)))
}

/// Removes a user and signs out its sessions. The last owner cannot be removed.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 204, description = "removed"),
    (status = 409, description = "would leave the tenant without an owner", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[delete("/users/{id}")]
pub async fn delete_user(state: web::Data<AppState>, auth: AuthContext, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let current = store::users::get(c, auth.tenant_id, id)?.ok_or_else(|| ApiError::not_found("user"))?;
                let role = Role::parse(&current.role);
                check_role_change(&auth, Some(role), None)?;
                if role == Role::Owner && store::users::count_owners(c, auth.tenant_id)? <= 1 {
                    return Err(ApiError::conflict("last_owner", "the tenant must keep at least one owner"));
                }
                store::users::delete(c, auth.tenant_id, id)?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
