//! The webhook relay: normalised events queued durably for each subscribed endpoint of a tenant
//! (inside the caller's transaction), then POSTed signed by the [`worker`], retried and logged.

pub mod worker;

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use diesel::prelude::*;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::db::schema::messages;
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::outbound::{HostError, check_host, http_url};
use crate::store::webhook_endpoints::{self as store, Delivery, Endpoint, NewDelivery};

/// Event types an endpoint may subscribe to.
pub const EVENT_TYPES: [&str; 6] = [
    "message.status",
    "message.inbound",
    "flow.submission",
    "template.updated",
    "phone_number.quality",
    "campaign.progress",
];

/// The event sent by `POST /webhook-endpoints/{id}/test`, to that endpoint only.
pub const PING: &str = "ping";

/// A new stable event id: `evt_` and 24 hex characters.
fn event_id() -> String {
    let mut bytes = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("evt_{}", hex::encode(bytes))
}

/// The JSON body every receiver gets.
fn envelope(id: &str, event_type: &str, tenant: TenantId, data: serde_json::Value) -> String {
    serde_json::json!({
        "id": id,
        "type": event_type,
        "created_at": now().and_utc(),
        "tenant_id": tenant.0,
        "data": data,
    })
    .to_string()
}

/// Queues `data` as one event for every active endpoint of the tenant subscribed to `event_type`.
/// Call inside the transaction that made the change, so the event is kept exactly when it is.
pub fn emit(conn: &mut DbConn, tenant: TenantId, event_type: &str, data: serde_json::Value) -> QueryResult<()> {
    let endpoints = subscribed(conn, tenant, event_type)?;
    queue_for(conn, tenant, &endpoints, event_type, data)
}

/// The tenant's active endpoints subscribed to `event_type`.
fn subscribed(conn: &mut DbConn, tenant: TenantId, event_type: &str) -> QueryResult<Vec<Endpoint>> {
    Ok(store::active(conn, tenant)?.into_iter().filter(|e| e.types().iter().any(|t| t == event_type)).collect())
}

/// Queues one event (one id) for each of these endpoints.
fn queue_for(
    conn: &mut DbConn,
    tenant: TenantId,
    endpoints: &[Endpoint],
    event_type: &str,
    data: serde_json::Value,
) -> QueryResult<()> {
    if endpoints.is_empty() {
        return Ok(());
    }
    let id = event_id();
    let payload = envelope(&id, event_type, tenant, data);
    for e in endpoints {
        let new = NewDelivery { tenant, endpoint_id: e.id, event_id: &id, event_type, payload: &payload };
        store::queue(conn, new)?;
    }
    Ok(())
}

/// Queues a `ping` event for one endpoint (whatever it subscribes to).
pub fn ping(conn: &mut DbConn, tenant: TenantId, endpoint_id: i64) -> QueryResult<Delivery> {
    let id = event_id();
    let payload = envelope(&id, PING, tenant, serde_json::json!({"endpoint_id": endpoint_id}));
    let new = NewDelivery { tenant, endpoint_id, event_id: &id, event_type: PING, payload: &payload };
    store::queue(conn, new)
}

/// `message.status` subscribers, looked up once per tenant: for a batch of status changes.
#[derive(Default)]
pub struct StatusSubscribers(HashMap<i64, Vec<Endpoint>>);

impl StatusSubscribers {
    /// Emits `message.status` with the message's current state to the tenant's subscribers.
    pub fn emit(&mut self, conn: &mut DbConn, tenant: TenantId, message_id: i64) -> QueryResult<()> {
        let endpoints = match self.0.entry(tenant.0) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => v.insert(subscribed(conn, tenant, "message.status")?),
        };
        if endpoints.is_empty() {
            return Ok(());
        }
        let m = messages::table
            .filter(messages::tenant_id.eq(tenant.0).and(messages::id.eq(message_id)))
            .select(crate::store::messages::Message::as_select())
            .first(conn)?;
        let failed = m.status == "failed";
        let data = serde_json::json!({
            "message_id": m.id,
            "account_id": m.account_id,
            "phone_number_id": m.phone_number_id,
            "recipient": m.recipient,
            "status": m.status,
            "provider_message_id": m.provider_message_id,
            "campaign_id": m.campaign_id,
            "error": failed.then(|| serde_json::json!({"code": m.error_code, "title": m.error_title, "detail": m.error_detail})),
        });
        queue_for(conn, tenant, endpoints, "message.status", data)
    }
}

/// `X-Wabahub-Signature` for a body sent at unix time `t`: `t=<t>,v1=<hex HMAC-SHA256 of "t.body">`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// A new endpoint secret: `whsec_` and 32 random bytes.
pub fn new_secret() -> String {
    format!("whsec_{}", crate::auth::tokens::random_token())
}

/// Checks an endpoint URL's form: https (http only with `allow_private`) with a host. The error
/// is the field code.
pub fn check_scheme(url: &str, allow_private: bool) -> Result<reqwest::Url, &'static str> {
    let parsed = http_url(url).ok_or("invalid_url")?;
    if parsed.scheme() == "http" && !allow_private {
        return Err("https_required");
    }
    Ok(parsed)
}

/// Checks an endpoint URL: [`check_scheme`], then a host that resolves, and to no internal
/// address unless allowed. The error is the field code.
pub async fn check_url(url: &str, allow_private: bool) -> Result<(), &'static str> {
    let parsed = check_scheme(url, allow_private)?;
    check_host(&parsed, allow_private).await.map_err(|e| match e {
        HostError::Unresolvable => "url_unresolvable",
        HostError::Internal => "url_not_allowed",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_of_timestamp_dot_body() {
        let sig = signature("whsec_test", 1_700_000_000, "{}");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_test").unwrap();
        mac.update(b"1700000000.{}");
        assert_eq!(sig, format!("t=1700000000,v1={}", hex::encode(mac.finalize().into_bytes())));
    }

    #[actix_web::test]
    async fn urls_must_be_https_and_public() {
        assert_eq!(check_url("ftp://example.com", false).await, Err("invalid_url"));
        assert_eq!(check_url("http://example.com/hook", false).await, Err("https_required"));
        assert_eq!(check_url("https://127.0.0.1/hook", false).await, Err("url_not_allowed"));
        assert_eq!(check_url("https://[::1]/hook", false).await, Err("url_not_allowed"));
        assert_eq!(check_url("https://[64:ff9b::a9fe:a9fe]/hook", false).await, Err("url_not_allowed"));
        assert_eq!(check_url("https://localhost/hook", false).await, Err("url_not_allowed"));
        assert_eq!(check_url("http://127.0.0.1:9/hook", true).await, Ok(()));
    }
}
