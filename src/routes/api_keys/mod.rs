//! API keys for integrators: created (shown once), listed by prefix, revoked.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{AuthContext, Role, tokens};
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::pagination::{PageQuery, Paginated};
use crate::routes::utc;
use crate::state::AppState;
use crate::store::{self, api_keys::ApiKey};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_api_keys).service(create_api_key).service(delete_api_key);
}

/// The role a key acts with: `admin` or `member` (keys can never be owners).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    Admin,
    #[default]
    Member,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(default)]
    pub role: KeyRole,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyOut {
    pub id: i64,
    pub name: String,
    /// The first characters of the key, to recognise it.
    #[schema(example = "whk_3kT9aQ2x")]
    pub prefix: String,
    pub role: Role,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<ApiKey> for ApiKeyOut {
    fn from(k: ApiKey) -> Self {
        ApiKeyOut {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            role: Role::parse(&k.role),
            last_used_at: k.last_used_at.map(utc),
            revoked_at: k.revoked_at.map(utc),
            created_at: utc(k.created_at),
        }
    }
}

/// A new key; `key` is shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKeyOut,
    pub key: String,
}

/// Lists the tenant's keys (prefixes only).
#[utoipa::path(tag = "api-keys", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Paginated<ApiKeyOut>)))]
#[get("/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let page = q.page()?;
    let rows = state.db.run(move |c| store::api_keys::list(c, auth.tenant_id, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |k| k.id, ApiKeyOut::from)))
}

/// Creates a key. Use it as `Authorization: Bearer whk_…`.
#[utoipa::path(tag = "api-keys", security(("bearer" = [])), request_body = CreateApiKeyRequest, responses((status = 201, body = CreatedApiKey)))]
#[post("/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    auth: AuthContext,
    body: ValidatedJson<CreateApiKeyRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let req = body.0;
    let role = match req.role {
        KeyRole::Admin => Role::Admin,
        KeyRole::Member => Role::Member,
    };
    if role > auth.role && !auth.platform_admin {
        return Err(ApiError::forbidden("insufficient_role", "a key cannot have more rights than its creator"));
    }
    let (key, prefix) = tokens::new_api_key();
    let hash = tokens::sha256_hex(&key);
    let created = state
        .db
        .run(move |c| store::api_keys::create(c, auth.tenant_id, req.name.trim(), &prefix, &hash, role, auth.user_id))
        .await?;
    Ok(HttpResponse::Created().json(CreatedApiKey { api_key: created.into(), key }))
}

/// Revokes a key; it stops working at once.
#[utoipa::path(tag = "api-keys", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 204, description = "revoked")))]
#[delete("/api-keys/{id}")]
pub async fn delete_api_key(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    state
        .db
        .run(move |c| store::api_keys::revoke(c, auth.tenant_id, id))
        .await?
        .ok_or_else(|| ApiError::not_found("api key"))?;
    Ok(HttpResponse::NoContent().finish())
}
