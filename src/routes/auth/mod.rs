//! Signup, login, token refresh, logout and `GET /me`.

pub mod types;

use actix_web::{HttpRequest, HttpResponse, get, post, web};

use self::types::*;
use crate::auth::{AuthContext, Role, password, tokens};
use crate::db::write_tx;
use crate::domain::TenantId;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::state::AppState;
use crate::store::{self, sessions::Refresh, users::User};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(signup).service(login).service(refresh).service(logout).service(get_me);
}

/// Issues an access token and a stored refresh token for a user.
pub async fn issue_tokens(state: &AppState, user_id: i64, tenant_id: i64) -> ApiResult<TokenPair> {
    let refresh_token = tokens::new_refresh_token();
    let hash = tokens::sha256_hex(&refresh_token);
    let ttl = state.settings.refresh_token_ttl_secs;
    state.db.run(move |c| store::sessions::create(c, user_id, &hash, ttl)).await?;
    Ok(TokenPair {
        access_token: state.jwt.issue(user_id, tenant_id),
        token_type: "Bearer",
        expires_in: state.jwt.ttl_secs(),
        refresh_token,
    })
}

/// Normalises an email for storage and lookup.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Creates a tenant and its owner, and signs the owner in.
#[utoipa::path(tag = "auth", security(), request_body = SignupRequest, responses(
    (status = 201, body = SignupResponse),
    (status = 403, description = "signup is switched off", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, description = "email already registered", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/signup")]
pub async fn signup(state: web::Data<AppState>, body: ValidatedJson<SignupRequest>) -> ApiResult<HttpResponse> {
    if !state.settings.allow_signup {
        return Err(ApiError::forbidden("signup_disabled", "signup is switched off on this server"));
    }
    let req = body.0;
    let email = normalize_email(&req.email);
    let hash = web::block(move || password::hash(&req.password)).await?;
    let (user, tenant) = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                if store::users::by_email(c, &email)?.is_some() {
                    return Err(ApiError::conflict("email_taken", "this email is already registered"));
                }
                let tenant = store::tenants::create(c, req.tenant_name.trim())?;
                let user = store::users::create(
                    c,
                    store::users::NewUser {
                        tenant_id: TenantId(tenant.id),
                        email: &email,
                        name: req.name.trim(),
                        password_hash: &hash,
                        role: Role::Owner,
                        is_platform_admin: false,
                    },
                )?;
                Ok((user, tenant))
            })
        })
        .await?;
    let tokens = issue_tokens(&state, user.id, tenant.id).await?;
    Ok(HttpResponse::Created().json(SignupResponse { user: user.into(), tenant: tenant.into(), tokens }))
}

/// Exchanges email and password for tokens. Failures are rate limited per email and per IP.
#[utoipa::path(tag = "auth", security(), request_body = LoginRequest, responses(
    (status = 200, body = TokenPair),
    (status = 401, description = "wrong email or password", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, description = "too many failed attempts", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ValidatedJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let email = normalize_email(&body.0.email);
    let ip = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    if let Some(wait) = state.login_limiter.check(&email, &ip) {
        return Err(ApiError::rate_limited(wait, "too many failed login attempts; try again later"));
    }
    let lookup = email.clone();
    let user: Option<User> = state.db.run(move |c| store::users::by_email(c, &lookup)).await?;
    let password = body.0.password;
    let (ok, user) = web::block(move || {
        let hash = user.as_ref().map_or(password::dummy_hash(), |u| u.password_hash.as_str());
        (password::verify(&password, hash) && user.is_some(), user)
    })
    .await?;
    let Some(user) = user.filter(|_| ok) else {
        state.login_limiter.fail(&email, &ip);
        return Err(ApiError::unauthorized("invalid_credentials", "wrong email or password"));
    };
    state.login_limiter.succeed(&email);
    Ok(HttpResponse::Ok().json(issue_tokens(&state, user.id, user.tenant_id).await?))
}

/// Trades a refresh token for a new pair; the old refresh token stops working.
#[utoipa::path(tag = "auth", security(), request_body = RefreshRequest, responses(
    (status = 200, body = TokenPair),
    (status = 401, description = "unknown, expired or reused refresh token", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, body: ValidatedJson<RefreshRequest>) -> ApiResult<HttpResponse> {
    let hash = tokens::sha256_hex(&body.0.refresh_token);
    let outcome = state.db.run(move |c| write_tx(c, |c| store::sessions::consume(c, &hash))).await?;
    let user_id = match outcome {
        Refresh::Valid { user_id } => user_id,
        Refresh::Reused => {
            return Err(ApiError::unauthorized(
                "refresh_token_reused",
                "this refresh token was already used; all sessions were signed out",
            ));
        }
        Refresh::Invalid => {
            return Err(ApiError::unauthorized("invalid_refresh_token", "the refresh token is invalid or expired"));
        }
    };
    let auth = state.db.run(move |c| store::users::authenticate(c, user_id)).await?;
    let auth = auth.ok_or_else(|| ApiError::unauthorized("invalid_refresh_token", "the user no longer exists"))?;
    if auth.tenant_suspended && !auth.principal.platform_admin {
        return Err(ApiError::forbidden(
            "tenant_suspended",
            "this tenant is suspended; contact the platform administrator",
        ));
    }
    Ok(HttpResponse::Ok().json(issue_tokens(&state, user_id, auth.principal.tenant_id.0).await?))
}

/// Revokes a refresh token. Always 204, so it reveals nothing about the token.
#[utoipa::path(tag = "auth", security(), request_body = RefreshRequest, responses((status = 204, description = "signed out")))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, body: ValidatedJson<RefreshRequest>) -> ApiResult<HttpResponse> {
    let hash = tokens::sha256_hex(&body.0.refresh_token);
    state.db.run(move |c| store::sessions::revoke(c, &hash)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller, its tenant and its role.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses((status = 200, body = MeResponse)))]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, auth: AuthContext) -> ApiResult<HttpResponse> {
    let (tid, uid) = (auth.tenant_id, auth.user_id);
    let (tenant, user) = state
        .db
        .run(move |c| {
            let tenant = store::tenants::get(c, tid)?.ok_or(diesel::result::Error::NotFound)?;
            let user = match uid {
                Some(id) => store::users::get(c, tid, id)?,
                None => None,
            };
            Ok::<_, diesel::result::Error>((tenant, user))
        })
        .await?;
    Ok(HttpResponse::Ok().json(MeResponse {
        user: user.map(Into::into),
        tenant: tenant.into(),
        role: auth.role,
        api_key_id: auth.api_key_id,
    }))
}
