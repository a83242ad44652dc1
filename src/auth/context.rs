//! The `AuthContext` extractor: who is calling, for which tenant, with which role.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::Role;
use super::tokens::{API_KEY_PREFIX, sha256_hex};
use crate::domain::TenantId;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;

/// Header a platform admin sets to act inside another tenant.
pub const TENANT_HEADER: &str = "x-tenant-id";

/// The authenticated caller. Every tenant-scoped handler takes one.
#[derive(Clone, Debug)]
pub struct AuthContext {
    pub tenant_id: TenantId,
    pub user_id: Option<i64>,
    pub api_key_id: Option<i64>,
    pub role: Role,
    pub platform_admin: bool,
}

impl AuthContext {
    /// Owners and admins only.
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.role >= Role::Admin || self.platform_admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("insufficient_role", "this action needs the owner or admin role"))
        }
    }

    /// Platform admins only.
    pub fn require_platform_admin(&self) -> ApiResult<()> {
        if self.platform_admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("platform_admin_required", "this action needs a platform admin"))
        }
    }

    /// The user behind the request (API keys have none).
    pub fn user(&self) -> ApiResult<i64> {
        self.user_id
            .ok_or_else(|| ApiError::forbidden("user_required", "this action needs a user token, not an API key"))
    }
}

fn bearer(req: &HttpRequest) -> ApiResult<String> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing_credentials", "send Authorization: Bearer <token>"))?;
    let value = header.to_str().unwrap_or_default();
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("invalid_credentials", "the Authorization header must be Bearer <token>")
        })?;
    Ok(token.to_string())
}

async fn authenticate(req: HttpRequest) -> ApiResult<AuthContext> {
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal("AppState missing"))?.clone();
    let token = bearer(&req)?;
    let tenant_override = match req.headers().get(TENANT_HEADER) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .ok_or_else(|| ApiError::bad_request("invalid_tenant_header", "X-Tenant-Id must be a tenant id"))?,
        ),
    };
    let mut ctx = if token.starts_with(API_KEY_PREFIX) {
        let hash = sha256_hex(&token);
        state
            .db
            .run(move |c| store::api_keys::authenticate(c, &hash))
            .await?
            .ok_or_else(|| ApiError::unauthorized("invalid_api_key", "the API key is unknown or revoked"))?
    } else {
        let access = state
            .jwt
            .verify(&token)
            .ok_or_else(|| ApiError::unauthorized("invalid_token", "the access token is invalid or expired"))?;
        state.db.run(move |c| store::users::authenticate(c, access.user_id, access.session_id)).await?.ok_or_else(
            || ApiError::unauthorized("invalid_token", "the access token's session was signed out or its user is gone"),
        )?
    };
    if let Some(tid) = tenant_override {
        if !ctx.principal.platform_admin {
            return Err(ApiError::forbidden("platform_admin_required", "only platform admins may set X-Tenant-Id"));
        }
        let status = state.db.run(move |c| store::tenants::status(c, TenantId(tid))).await?;
        ctx.tenant_suspended = status.ok_or_else(|| ApiError::not_found("tenant"))? == "suspended";
        ctx.principal.tenant_id = TenantId(tid);
    }
    if ctx.tenant_suspended && !ctx.principal.platform_admin {
        return Err(ApiError::forbidden(
            "tenant_suspended",
            "this tenant is suspended; contact the platform administrator",
        ));
    }
    Ok(ctx.principal)
}

/// What the store returns for a credential: the principal and its tenant's state.
pub struct Authenticated {
    pub principal: AuthContext,
    pub tenant_suspended: bool,
}

impl FromRequest for AuthContext {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}
