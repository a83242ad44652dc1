//! Messages: the outbox rows and their status history. Claiming is atomic per backend
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer).

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::schema::{message_events, messages};
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::domain::message_status::MessageStatus;
use crate::pagination::Page;

#[derive(Clone, Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: i64,
    pub tenant_id: i64,
    pub account_id: i64,
    pub phone_number_id: i64,
    pub direction: String,
    pub recipient: String,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub provider_message_id: Option<String>,
    pub error_code: Option<String>,
    pub error_title: Option<String>,
    pub error_detail: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: chrono::NaiveDateTime,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<chrono::NaiveDateTime>,
    pub idempotency_key: Option<String>,
    pub campaign_id: Option<i64>,
    pub template_name: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub sent_at: Option<chrono::NaiveDateTime>,
    pub delivered_at: Option<chrono::NaiveDateTime>,
    pub read_at: Option<chrono::NaiveDateTime>,
    pub failed_at: Option<chrono::NaiveDateTime>,
    /// The contact's lead (inbound messages).
    pub lead_id: Option<i64>,
    /// The pricing the provider reported for a sent message.
    pub pricing_category: Option<String>,
    pub pricing_type: Option<String>,
    pub pricing_model: Option<String>,
    pub billable: Option<bool>,
    /// The hash of the request that first used `idempotency_key`.
    pub idempotency_hash: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = messages)]
pub struct NewMessage {
    pub tenant_id: i64,
    pub account_id: i64,
    pub phone_number_id: i64,
    pub direction: String,
    pub recipient: String,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub next_attempt_at: chrono::NaiveDateTime,
    pub idempotency_key: Option<String>,
    pub idempotency_hash: Option<String>,
    pub campaign_id: Option<i64>,
    pub template_name: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = message_events)]
pub struct MessageEvent {
    pub id: i64,
    pub message_id: i64,
    pub status: String,
    pub detail: Option<String>,
    pub created_at: chrono::NaiveDateTime,
}

/// What enqueueing one message did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enqueued {
    /// A new message with this id.
    New(i64),
    /// The key was used before by the same request: this is the earlier message.
    Existing(i64),
    /// The key was used before by another request (its hash differs).
    KeyReused,
}

/// An earlier message's id and request hash, by its idempotency key.
pub type KeyUses = HashMap<String, (i64, Option<String>)>;

/// The tenant's messages that already use any of these idempotency keys (one query).
pub fn key_uses(conn: &mut DbConn, tenant: i64, keys: &[&str]) -> QueryResult<KeyUses> {
    if keys.is_empty() {
        return Ok(KeyUses::new());
    }
    let rows: Vec<(i64, Option<String>, Option<String>)> = messages::table
        .filter(messages::tenant_id.eq(tenant).and(messages::idempotency_key.eq_any(keys)))
        .select((messages::id, messages::idempotency_key, messages::idempotency_hash))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, k, h)| k.map(|k| (k, (id, h)))).collect())
}

/// What an earlier use of a key means for a request with `hash`: the earlier message when the
/// requests match (or the earlier one's hash is unknown), else `KeyReused`.
pub fn replay(earlier: &(i64, Option<String>), hash: Option<&str>) -> Enqueued {
    match (&earlier.1, hash) {
        (Some(first), Some(this)) if first != this => Enqueued::KeyReused,
        _ => Enqueued::Existing(earlier.0),
    }
}

/// Inserts queued messages of one tenant with their first events, in the caller's write
/// transaction, and says for each what happened. A message whose idempotency key the tenant has
/// used is not inserted (see [`replay`]). On PostgreSQL keyed messages take three multi-row
/// statements whatever their number (insert skipping taken keys, look-up of the keys taken,
/// events), and a concurrent transaction inserting the same key is waited for, never failed;
/// SQLite (one writer, no network round trip) and unkeyed messages go one by one.
pub fn enqueue(conn: &mut DbConn, new: Vec<NewMessage>) -> QueryResult<Vec<Enqueued>> {
    if matches!(conn, DbConn::Sqlite(_)) || new.iter().any(|m| m.idempotency_key.is_none()) {
        return new.into_iter().map(|m| enqueue_one(conn, m)).collect();
    }
    let DbConn::Pg(pg) = conn else { return Ok(Vec::new()) };
    let Some(first) = new.first() else { return Ok(Vec::new()) };
    let (tenant, status) = (first.tenant_id, first.status.clone());
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(new.len());
    let mut fresh = Vec::with_capacity(new.len());
    for rows in new.chunks(PG_ROWS_PER_STATEMENT) {
        let inserted: Vec<(i64, Option<String>)> = diesel::insert_into(messages::table)
            .values(rows)
            .on_conflict((messages::tenant_id, messages::idempotency_key))
            .do_nothing()
            .returning((messages::id, messages::idempotency_key))
            .get_results(pg)?;
        for (id, key) in inserted {
            fresh.push(id);
            ids.extend(key.map(|k| (k, id)));
        }
    }
    add_events(pg, &fresh, &status)?;
    let taken: Vec<&str> =
        new.iter().filter_map(|m| m.idempotency_key.as_deref()).filter(|k| !ids.contains_key(*k)).collect();
    let earlier = if taken.is_empty() { KeyUses::new() } else { key_uses(conn, tenant, &taken)? };
    new.iter()
        .map(|m| {
            let key = m.idempotency_key.as_deref().unwrap_or_default();
            match (ids.get(key), earlier.get(key)) {
                (Some(id), _) => Ok(Enqueued::New(*id)),
                (None, Some(e)) => Ok(replay(e, m.idempotency_hash.as_deref())),
                (None, None) => Err(diesel::result::Error::NotFound),
            }
        })
        .collect()
}

/// One message, checked against its key's earlier use first.
fn enqueue_one(conn: &mut DbConn, new: NewMessage) -> QueryResult<Enqueued> {
    if let Some(key) = new.idempotency_key.as_deref()
        && let Some(e) = key_uses(conn, new.tenant_id, &[key])?.get(key)
    {
        return Ok(replay(e, new.idempotency_hash.as_deref()));
    }
    let status = new.status.clone();
    let id: i64 = diesel::insert_into(messages::table).values(new).returning(messages::id).get_result(conn)?;
    add_event(conn, id, &status, None)?;
    Ok(Enqueued::New(id))
}

/// The first event of each new message (multi-row statements).
fn add_events(pg: &mut diesel::PgConnection, ids: &[i64], status: &str) -> QueryResult<()> {
    let ts = now();
    for chunk in ids.chunks(PG_ROWS_PER_STATEMENT) {
        let events: Vec<_> = chunk
            .iter()
            .map(|id| {
                (
                    message_events::message_id.eq(*id),
                    message_events::status.eq(status),
                    message_events::created_at.eq(ts),
                )
            })
            .collect();
        diesel::insert_into(message_events::table).values(events).execute(pg)?;
    }
    Ok(())
}

/// Rows per PostgreSQL insert: at most fifteen binds each, under its 65,535 bind parameters.
const PG_ROWS_PER_STATEMENT: usize = 4000;

pub fn add_event(conn: &mut DbConn, message_id: i64, status: &str, detail: Option<&str>) -> QueryResult<()> {
    diesel::insert_into(message_events::table)
        .values((
            message_events::message_id.eq(message_id),
            message_events::status.eq(status),
            message_events::detail.eq(detail),
            message_events::created_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn get(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<Message>> {
    messages::table
        .filter(messages::tenant_id.eq(tenant.0).and(messages::id.eq(id)))
        .select(Message::as_select())
        .first(conn)
        .optional()
}

pub fn events(conn: &mut DbConn, message_id: i64) -> QueryResult<Vec<MessageEvent>> {
    message_events::table
        .filter(message_events::message_id.eq(message_id))
        .order(message_events::id.asc())
        .select(MessageEvent::as_select())
        .load(conn)
}

/// Filters of the message list.
#[derive(Default, Debug)]
pub struct ListFilter {
    pub account_id: Option<i64>,
    pub phone_number_id: Option<i64>,
    pub status: Option<String>,
    pub direction: Option<String>,
    pub recipient: Option<String>,
    pub campaign_id: Option<i64>,
    pub from: Option<chrono::NaiveDateTime>,
    pub to: Option<chrono::NaiveDateTime>,
}

pub fn list(conn: &mut DbConn, tenant: TenantId, f: &ListFilter, page: Page) -> QueryResult<Vec<Message>> {
    let mut q = messages::table
        .filter(messages::tenant_id.eq(tenant.0))
        .select(Message::as_select())
        .order(messages::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(messages::id.lt(before));
    }
    if let Some(v) = f.account_id {
        q = q.filter(messages::account_id.eq(v));
    }
    if let Some(v) = f.phone_number_id {
        q = q.filter(messages::phone_number_id.eq(v));
    }
    if let Some(v) = &f.status {
        q = q.filter(messages::status.eq(v.clone()));
    }
    if let Some(v) = &f.direction {
        q = q.filter(messages::direction.eq(v.clone()));
    }
    if let Some(v) = &f.recipient {
        q = q.filter(messages::recipient.eq(v.clone()));
    }
    if let Some(v) = f.campaign_id {
        q = q.filter(messages::campaign_id.eq(v));
    }
    if let Some(v) = f.from {
        q = q.filter(messages::created_at.ge(v));
    }
    if let Some(v) = f.to {
        q = q.filter(messages::created_at.lt(v));
    }
    q.load(conn)
}

/// Phone numbers that have messages due now (oldest first), for the dispatcher's round.
pub fn due_numbers(conn: &mut DbConn, at: chrono::NaiveDateTime, limit: i64) -> QueryResult<Vec<i64>> {
    messages::table
        .filter(messages::status.eq(MessageStatus::Queued.as_str()).and(messages::next_attempt_at.le(at)))
        .select(messages::phone_number_id)
        .distinct()
        .limit(limit)
        .load(conn)
}

/// Atomically claims up to `limit` due messages of one number for the calling process: they stay
/// `queued` (their requests have not started) but are hidden from other claims until `lease_until`,
/// when they are due again if this process stopped before sending them. Messages of accounts that
/// cannot send (suspended, needing re-auth) and of numbers whose quality is RED (sending paused:
/// `ERR_QUALITY_DEGRADED`) stay.
pub fn claim(
    conn: &mut DbConn,
    instance: &str,
    phone_number_id: i64,
    limit: i64,
    lease_until: chrono::NaiveDateTime,
) -> QueryResult<Vec<Message>> {
    const INNER: &str = "SELECT m.id FROM messages m JOIN accounts a ON a.id = m.account_id \
         JOIN phone_numbers p ON p.id = m.phone_number_id \
         WHERE m.status = 'queued' AND m.phone_number_id = $3 AND m.next_attempt_at <= $2 \
         AND a.status NOT IN ('suspended', 'needs_reauth') AND p.quality_rating <> 'RED' \
         ORDER BY m.next_attempt_at, m.id LIMIT $4";
    let lock = if matches!(conn, DbConn::Pg(_)) { " FOR UPDATE OF m SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE messages SET claimed_by = $1, claimed_at = $2, next_attempt_at = $5, updated_at = $2 \
         WHERE id IN ({INNER}{lock}) RETURNING *"
    );
    let sql = crate::db::portable(conn, &sql);
    let ts = now();
    diesel::sql_query(sql)
        .bind::<Text, _>(instance)
        .bind::<Timestamp, _>(ts)
        .bind::<BigInt, _>(phone_number_id)
        .bind::<BigInt, _>(limit)
        .bind::<Timestamp, _>(lease_until)
        .load(conn)
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Moves messages this process claimed to `sending` (the transition function's
/// [`Event::Claim`](crate::domain::message_status::Event::Claim)), each immediately before its
/// request is written, counting the attempt; returns the ids moved. A message cancelled or
/// claimed by another process meanwhile is not moved (and must not be sent). One statement.
pub fn mark_sending(conn: &mut DbConn, instance: &str, ids: &[i64]) -> QueryResult<Vec<i64>> {
    use crate::domain::message_status::{Current, Event, transition};
    let ts = now();
    let queued = Current { status: Some(MessageStatus::Queued), ..Default::default() };
    let Some(to) = transition(&queued, Event::Claim, ts).to else { return Ok(Vec::new()) };
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "UPDATE messages SET status = $1, attempts = attempts + 1, claimed_at = $2, updated_at = $2 \
         WHERE id IN ({list}) AND status = $3 AND claimed_by = $4 RETURNING id"
    );
    let sql = crate::db::portable(conn, &sql);
    let rows: Vec<Id> = diesel::sql_query(sql)
        .bind::<Text, _>(to.as_str())
        .bind::<Timestamp, _>(ts)
        .bind::<Text, _>(MessageStatus::Queued.as_str())
        .bind::<Text, _>(instance)
        .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Outbound messages a tenant queued since `from` (for the daily quota).
pub fn outbound_since(conn: &mut DbConn, tenant: TenantId, from: chrono::NaiveDateTime) -> QueryResult<i64> {
    messages::table
        .filter(
            messages::tenant_id.eq(tenant.0).and(messages::direction.eq("outbound")).and(messages::created_at.ge(from)),
        )
        .count()
        .get_result(conn)
}

/// Outbound messages an account queued since `from` (for its day and month limits).
pub fn account_outbound_since(conn: &mut DbConn, account: i64, from: chrono::NaiveDateTime) -> QueryResult<i64> {
    messages::table
        .filter(
            messages::account_id.eq(account).and(messages::direction.eq("outbound")).and(messages::created_at.ge(from)),
        )
        .count()
        .get_result(conn)
}

/// Makes an account's waiting messages due now (after its credentials were replaced).
pub fn release_waiting(conn: &mut DbConn, account: i64) -> QueryResult<usize> {
    let queued = messages::status.eq(MessageStatus::Queued.as_str());
    diesel::update(messages::table.filter(messages::account_id.eq(account).and(queued)))
        .set(messages::next_attempt_at.eq(now()))
        .execute(conn)
}

/// The tenant's messages with these ids.
pub fn by_ids(conn: &mut DbConn, tenant: TenantId, ids: &[i64]) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(messages::tenant_id.eq(tenant.0).and(messages::id.eq_any(ids)))
        .select(Message::as_select())
        .load(conn)
}

/// The tenant's message with this provider id (`wamid…`), if any.
pub fn by_provider_id(conn: &mut DbConn, tenant: TenantId, provider_id: &str) -> QueryResult<Option<Message>> {
    messages::table
        .filter(messages::tenant_id.eq(tenant.0).and(messages::provider_message_id.eq(provider_id)))
        .select(Message::as_select())
        .first(conn)
        .optional()
}
