//! Signup, login, token refresh, logout and `GET /me`.

pub mod types;

use std::net::{IpAddr, Ipv4Addr};

use actix_web::{HttpRequest, HttpResponse, get, post, web};

use self::types::*;
use crate::auth::{AuthContext, Role, client, password, tokens};
use crate::db::write_tx;
use crate::domain::TenantId;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::state::AppState;
use crate::store::{self, sessions::Refresh, users::User};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(signup).service(login).service(refresh).service(logout).service(get_me);
}

/// Starts a session for a user: an access token naming it and its first refresh token.
pub async fn issue_tokens(state: &AppState, user_id: i64, tenant_id: i64) -> ApiResult<TokenPair> {
    let refresh_token = tokens::new_refresh_token();
    let hash = tokens::sha256_hex(&refresh_token);
    let ttl = state.settings.refresh_token_ttl_secs;
    let session_id = state.db.run(move |c| write_tx(c, |c| store::sessions::start(c, user_id, &hash, ttl))).await?;
    Ok(token_pair(state, user_id, tenant_id, session_id, refresh_token))
}

fn token_pair(state: &AppState, user_id: i64, tenant_id: i64, session_id: i64, refresh_token: String) -> TokenPair {
    TokenPair {
        access_token: state.jwt.issue(user_id, tenant_id, session_id),
        token_type: "Bearer",
        expires_in: state.jwt.ttl_secs(),
        refresh_token,
    }
}

/// The caller's address for throttling (see `auth::client`); unspecified when there is no peer.
fn client_ip(req: &HttpRequest, state: &AppState) -> IpAddr {
    client::client_addr(req, &state.settings.trusted_proxies).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Normalises an email for storage and lookup.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Creates a tenant and its owner, and signs the owner in. Limited per client address.
#[utoipa::path(tag = "auth", security(), request_body = SignupRequest, responses(
    (status = 201, body = SignupResponse),
    (status = 403, description = "signup is switched off", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, description = "email already registered", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, description = "too many signups from this address; see Retry-After", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/signup")]
pub async fn signup(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ValidatedJson<SignupRequest>,
) -> ApiResult<HttpResponse> {
    if !state.settings.allow_signup {
        return Err(ApiError::forbidden("signup_disabled", "signup is switched off on this server"));
    }
    state
        .throttle
        .begin_signup(client_ip(&req, &state))
        .map_err(|wait| ApiError::rate_limited(wait, "too many signups from this address; try again later"))?;
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

/// Exchanges email and password for tokens.
///
/// Attempts are throttled per (email, client address) with backoff, per address, and (slowed,
/// never locked) per email.
#[utoipa::path(tag = "auth", security(), request_body = LoginRequest, responses(
    (status = 200, body = TokenPair),
    (status = 401, description = "wrong email or password", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, description = "too many failed attempts; see Retry-After", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ValidatedJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let email = normalize_email(&body.0.email);
    let attempt = state
        .throttle
        .begin_login(&email, client_ip(&req, &state))
        .map_err(|wait| ApiError::rate_limited(wait, "too many failed login attempts; try again later"))?;
    let user: Option<User> = state.db.run(move |c| store::users::by_email(c, &email)).await?;
    let password = body.0.password;
    let (ok, user) = web::block(move || {
        let hash = user.as_ref().map_or(password::dummy_hash(), |u| u.password_hash.as_str());
        (password::verify(&password, hash) && user.is_some(), user)
    })
    .await?;
    let Some(user) = user.filter(|_| ok) else {
        return Err(ApiError::unauthorized("invalid_credentials", "wrong email or password"));
    };
    state.throttle.succeeded(attempt);
    Ok(HttpResponse::Ok().json(issue_tokens(&state, user.id, user.tenant_id).await?))
}

/// Trades a refresh token for a new pair in the same session; the old refresh token stops working.
///
/// Presenting a used refresh token again signs out every session of its user.
#[utoipa::path(tag = "auth", security(), request_body = RefreshRequest, responses(
    (status = 200, body = TokenPair),
    (status = 401, description = "unknown, expired or reused refresh token", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, body: ValidatedJson<RefreshRequest>) -> ApiResult<HttpResponse> {
    let hash = tokens::sha256_hex(&body.0.refresh_token);
    let refresh_token = tokens::new_refresh_token();
    let new_hash = tokens::sha256_hex(&refresh_token);
    let ttl = state.settings.refresh_token_ttl_secs;
    // The principal is read in the rotating transaction: once it commits, a concurrent reuse may
    // sign the session out, but this request has already won.
    let (outcome, auth) = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let outcome = store::sessions::rotate(c, &hash, &new_hash, ttl)?;
                let auth = match outcome {
                    Refresh::Valid { user_id, session_id } => store::users::authenticate(c, user_id, session_id)?,
                    _ => None,
                };
                Ok::<_, diesel::result::Error>((outcome, auth))
            })
        })
        .await?;
    let (user_id, session_id) = match outcome {
        Refresh::Valid { user_id, session_id } => (user_id, session_id),
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
    let auth = auth.ok_or_else(|| ApiError::unauthorized("invalid_refresh_token", "the user no longer exists"))?;
    if auth.tenant_suspended && !auth.principal.platform_admin {
        return Err(ApiError::forbidden(
            "tenant_suspended",
            "this tenant is suspended; contact the platform administrator",
        ));
    }
    let tenant_id = auth.principal.tenant_id.0;
    Ok(HttpResponse::Ok().json(token_pair(&state, user_id, tenant_id, session_id, refresh_token)))
}

/// Signs out the session of a refresh token.
///
/// Its refresh tokens and the access tokens issued from it stop working at once. Always 204, so it
/// reveals nothing about the token.
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
