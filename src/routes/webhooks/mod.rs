//! Provider webhook endpoints (no auth; outside `/api/v1`): the verification handshake, and
//! signed bodies stored durably before the 200 (group-committed by the webhook writer), then
//! applied by the processor.

pub mod events;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;
use crate::store::accounts::Account;
use crate::webhooks::ingest;

/// Meta batches up to 3 MB of updates in one POST; provider webhooks may be that large.
const WEBHOOK_MAX_BYTES: usize = 3 * 1024 * 1024;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope::scope("/webhooks")
            .app_data(web::PayloadConfig::new(WEBHOOK_MAX_BYTES))
            .service(verify_platform_webhook)
            .service(receive_platform_webhook)
            .service(verify_meta_webhook)
            .service(receive_meta_webhook)
            .service(receive_tata_webhook),
    );
}

/// The query of Meta's verification request.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Handshake {
    /// Must be `subscribe`.
    #[serde(rename = "hub.mode")]
    pub mode: Option<String>,
    /// The verify token configured at Meta.
    #[serde(rename = "hub.verify_token")]
    pub verify_token: Option<String>,
    /// Echoed back on success.
    #[serde(rename = "hub.challenge")]
    pub challenge: Option<String>,
}

/// The query of a Tata callback that carries its token in the URL.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The account's verify token, when not sent as `X-Wabahub-Token`.
    pub token: Option<String>,
}

fn same_secret(given: Option<&str>, expected: Option<&str>) -> bool {
    match (given, expected) {
        (Some(g), Some(e)) if !e.is_empty() => g.as_bytes().ct_eq(e.as_bytes()).into(),
        _ => false,
    }
}

fn handshake(q: &Handshake, expected: Option<&str>) -> ApiResult<HttpResponse> {
    if q.mode.as_deref() == Some("subscribe") && same_secret(q.verify_token.as_deref(), expected) {
        Ok(HttpResponse::Ok().content_type("text/plain").body(q.challenge.clone().unwrap_or_default()))
    } else {
        Err(ApiError::forbidden("verification_failed", "hub.mode or hub.verify_token does not match"))
    }
}

/// Accounts by webhook key as last read, so a delivery needs no read before its commit. A body
/// checked against a cached row is stored only if the row is unchanged when the writer commits
/// it; otherwise (and whenever the cached row refuses it) the row is read again and decides.
#[derive(Clone, Default)]
pub struct AccountCache(Arc<Mutex<HashMap<String, Arc<Account>>>>);

impl AccountCache {
    fn get(&self, key: &str) -> Option<Arc<Account>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }
    fn set(&self, key: String, account: Option<Arc<Account>>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match account {
            Some(a) => map.insert(key, a),
            None => map.remove(&key),
        };
    }
}

/// The account holding a webhook key, read now (and cached for the next delivery).
async fn account_by_key(state: &AppState, key: String) -> ApiResult<Arc<Account>> {
    let k = key.clone();
    let account = state.db.run(move |c| store::accounts::by_webhook_key(c, &k)).await?.map(Arc::new);
    state.webhook_accounts.set(key, account.clone());
    account.ok_or_else(|| ApiError::not_found("webhook"))
}

/// Stores a body for the account holding `key` once `check` accepts it against that account,
/// answering once it is committed: first against the cached row, then against the stored one.
async fn accept<F>(state: &AppState, key: String, raw: web::Bytes, check: F) -> ApiResult<HttpResponse>
where
    F: Fn(&Account) -> ApiResult<()>,
{
    if let Some(account) = state.webhook_accounts.get(&key).filter(|a| check(a).is_ok()) {
        let event = ingest::event_for(&account, &raw, kind(&raw)?);
        if state.webhook_writer.store(vec![event], Some((account.id, account.updated_at))).await? {
            return Ok(HttpResponse::Ok().finish());
        }
    }
    let account = account_by_key(state, key).await?;
    check(&account)?;
    let event = ingest::event_for(&account, &raw, kind(&raw)?);
    state.webhook_writer.store(vec![event], None).await?;
    Ok(HttpResponse::Ok().finish())
}

fn verify_token(state: &AppState, a: &Account) -> Option<String> {
    a.verify_token_enc.as_deref().and_then(|t| state.vault.decrypt(t).ok())
}

fn not_an_object() -> ApiError {
    ApiError::bad_request("malformed_json", "the body is not a JSON object")
}

/// The body as JSON, with any U+0000 replaced (see [`ingest::replace_nul`]); anything but a JSON
/// object is refused with 400.
fn parse(raw: &[u8]) -> ApiResult<Value> {
    let mut body = serde_json::from_slice::<Value>(raw).ok().filter(Value::is_object).ok_or_else(not_an_object)?;
    if crate::extract::spells_nul(raw) {
        ingest::replace_nul(&mut body);
    }
    Ok(body)
}

/// The kind of a body that is a JSON object; anything else is refused with 400.
fn kind(raw: &[u8]) -> ApiResult<String> {
    ingest::kind_of(raw).ok_or_else(not_an_object)
}

fn signature(req: &HttpRequest) -> Option<&str> {
    req.headers().get("x-hub-signature-256").and_then(|h| h.to_str().ok())
}

/// Meta's verification handshake for the platform app (`META_VERIFY_TOKEN`).
#[utoipa::path(tag = "webhooks", security(), params(Handshake), responses(
    (status = 200, description = "the challenge", body = String, content_type = "text/plain"),
    (status = 403, description = "wrong mode or token", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/meta")]
pub async fn verify_platform_webhook(state: web::Data<AppState>, q: web::Query<Handshake>) -> ApiResult<HttpResponse> {
    handshake(&q, state.settings.meta_verify_token.as_deref())
}

/// A platform-app webhook signed with `META_APP_SECRET`; each change goes to the account holding
/// its phone number, changes for unknown numbers are stored quarantined.
#[utoipa::path(tag = "webhooks", security(), request_body(content = Object, content_type = "application/json"), responses(
    (status = 200, description = "stored, or already stored"),
    (status = 400, description = "not a JSON object", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 401, description = "missing or invalid X-Hub-Signature-256", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/meta")]
pub async fn receive_platform_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: web::Bytes,
) -> ApiResult<HttpResponse> {
    let secret = state.settings.meta_app_secret.clone().unwrap_or_default();
    if !crate::providers::meta::signature::verify(&secret, &raw, signature(&req)) {
        return Err(ApiError::unauthorized("invalid_signature", "X-Hub-Signature-256 is missing or wrong"));
    }
    let body = parse(&raw)?;
    let events = state.db.run(move |c| ingest::platform_events(c, &raw, &body)).await?;
    state.webhook_writer.store(events, None).await?;
    Ok(HttpResponse::Ok().finish())
}

/// Meta's verification handshake for one account (its verify token).
#[utoipa::path(tag = "webhooks", security(), params(("account_key" = String, Path), Handshake), responses(
    (status = 200, description = "the challenge", body = String, content_type = "text/plain"),
    (status = 403, description = "wrong mode or token", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, description = "unknown webhook key", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/meta/{account_key}")]
pub async fn verify_meta_webhook(
    state: web::Data<AppState>,
    key: web::Path<String>,
    q: web::Query<Handshake>,
) -> ApiResult<HttpResponse> {
    let account = account_by_key(&state, key.into_inner()).await?;
    handshake(&q, verify_token(&state, &account).as_deref())
}

/// A webhook for one account, signed with its app secret (`X-Hub-Signature-256`).
#[utoipa::path(tag = "webhooks", security(), params(("account_key" = String, Path)), request_body(content = Object, content_type = "application/json"), responses(
    (status = 200, description = "stored, or already stored"),
    (status = 400, description = "not a JSON object", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 401, description = "missing or invalid X-Hub-Signature-256", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, description = "unknown webhook key", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/meta/{account_key}")]
pub async fn receive_meta_webhook(
    state: web::Data<AppState>,
    key: web::Path<String>,
    req: HttpRequest,
    raw: web::Bytes,
) -> ApiResult<HttpResponse> {
    let header = signature(&req);
    accept(&state, key.into_inner(), raw.clone(), |account| {
        let provider = state.providers.get(account, None, &state.vault, &state.settings)?;
        if !provider.verify_signature(&raw, header) {
            return Err(ApiError::unauthorized("invalid_signature", "X-Hub-Signature-256 is missing or wrong"));
        }
        Ok(())
    })
    .await
}

/// A Tata callback for one Tata account, carrying the account's verify token as
/// `X-Wabahub-Token` (or `?token=`); other accounts' keys are unknown here (their bodies are signed).
#[utoipa::path(tag = "webhooks", security(), params(("account_key" = String, Path), TokenQuery), request_body(content = Object, content_type = "application/json"), responses(
    (status = 200, description = "stored, or already stored"),
    (status = 400, description = "not a JSON object", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 401, description = "missing or wrong token", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, description = "unknown webhook key, or not a Tata account's", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/tata/{account_key}")]
pub async fn receive_tata_webhook(
    state: web::Data<AppState>,
    key: web::Path<String>,
    q: web::Query<TokenQuery>,
    req: HttpRequest,
    raw: web::Bytes,
) -> ApiResult<HttpResponse> {
    let header = req.headers().get("x-wabahub-token").and_then(|h| h.to_str().ok());
    accept(&state, key.into_inner(), raw, |account| {
        if account.provider != "tata" {
            return Err(ApiError::not_found("webhook"));
        }
        if !same_secret(header.or(q.token.as_deref()), verify_token(&state, account).as_deref()) {
            return Err(ApiError::unauthorized("invalid_token", "X-Wabahub-Token is missing or wrong"));
        }
        Ok(())
    })
    .await
}
