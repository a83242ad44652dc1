//! Request and response bodies of the auth endpoints.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::Role;
use crate::routes::utc;
use crate::store::tenants::Tenant;
use crate::store::users::User;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// The organisation's name.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    #[schema(example = "Acme Realty")]
    pub tenant_name: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    pub email: String,
    /// 8 to 128 characters.
    #[validate(length(min = 8, max = 128))]
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub refresh_token: String,
}

/// An access token (short-lived JWT) and a refresh token (rotated on use).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub refresh_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub tenant_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub is_platform_admin: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        UserOut {
            id: u.id,
            tenant_id: u.tenant_id,
            role: Role::parse(&u.role),
            email: u.email,
            name: u.name,
            is_platform_admin: u.is_platform_admin,
            created_at: utc(u.created_at),
            updated_at: utc(u.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantOut {
    pub id: i64,
    pub name: String,
    /// `active` or `suspended`.
    pub status: String,
    /// Null means unlimited.
    pub max_accounts: Option<i64>,
    /// Null means unlimited.
    pub daily_message_quota: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<Tenant> for TenantOut {
    fn from(t: Tenant) -> Self {
        TenantOut {
            id: t.id,
            name: t.name,
            status: t.status,
            max_accounts: t.max_accounts,
            daily_message_quota: t.daily_message_quota,
            created_at: utc(t.created_at),
        }
    }
}

/// The signed-up owner, the new tenant and the first session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    pub user: UserOut,
    pub tenant: TenantOut,
    pub tokens: TokenPair,
}

/// The caller: a user (with its tenant) or an API key.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// Null when the caller is an API key.
    pub user: Option<UserOut>,
    pub tenant: TenantOut,
    pub role: Role,
    pub api_key_id: Option<i64>,
}
