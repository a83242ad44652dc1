//! Applies one item of a webhook change to one account's data: a status, an inbound message,
//! a template, phone-number quality or account event. Unknown fields and keys are ignored.

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::schema::{messages, templates};
use crate::db::{DbConn, now, savepoint};
use crate::domain::TenantId;
use crate::domain::message_status::{MessageStatus, Reported};
use crate::relay::StatusSubscribers;
use crate::store::accounts;
use crate::store::health_logs::{self, Check};
use crate::store::messages::{NewMessage, add_event};
use crate::store::phone_numbers::{self, PhoneNumberChanges};
use crate::store::statuses::{self, Pricing, StatusEvent};
use crate::store::templates::{Template, TemplateChanges};
use crate::store::usage::{Counts, Tally};
use crate::webhooks::{bot, inbox};

/// The account an event speaks for.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub tenant: i64,
    pub account: i64,
}

/// Why one item could not be applied.
#[derive(Debug)]
pub struct Failure(pub String);

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Failure(format!("database: {e}"))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the items of a batch of events share: `message.status` subscribers, looked up once per
/// tenant, and the usage counts of the items that applied, written when the batch ends.
#[derive(Default)]
pub struct Batch {
    subscribers: StatusSubscribers,
    usage: Tally,
}

impl Batch {
    /// Applies one item in its own savepoint: when it fails, only its own changes are undone and
    /// its counts are dropped. Call in a write transaction.
    pub fn item(&mut self, conn: &mut DbConn, t: &Target, change: &Value, it: &Item) -> Result<(), Failure> {
        let mut usage = Tally::default();
        savepoint(conn, |c| item(c, &mut self.subscribers, &mut usage, t, change, it))?;
        self.usage.merge(usage);
        Ok(())
    }

    /// Writes the counts of every item applied. Call in the transaction that applied them.
    pub fn finish(self, conn: &mut DbConn) -> QueryResult<()> {
        self.usage.write(conn)
    }
}

/// One unit of a change, applied in its own savepoint.
pub enum Item<'a> {
    Status(&'a Value),
    Inbound(&'a Value),
    Whole,
}

/// The items of a change: each status and each inbound message of a `messages` change, or the
/// change as a whole.
pub fn items(change: &Value) -> Vec<Item<'_>> {
    let value = &change["value"];
    if change["field"] != "messages" {
        return vec![Item::Whole];
    }
    let list = |key: &str| value[key].as_array().map(Vec::as_slice).unwrap_or_default();
    list("statuses").iter().map(Item::Status).chain(list("messages").iter().map(Item::Inbound)).collect()
}

/// Applies one item, counting its usage in `usage`.
fn item(
    conn: &mut DbConn,
    subscribers: &mut StatusSubscribers,
    usage: &mut Tally,
    t: &Target,
    change: &Value,
    item: &Item,
) -> Result<(), Failure> {
    let value = &change["value"];
    match item {
        Item::Status(s) => status(conn, subscribers, usage, t, s),
        Item::Inbound(m) => inbound(conn, usage, t, value, m),
        Item::Whole => match change["field"].as_str().unwrap_or_default() {
            f @ ("message_template_status_update" | "message_template_quality_update" | "template_category_update") => {
                template(conn, t, f, value)
            }
            "phone_number_quality_update" => phone_quality(conn, t, value),
            "account_update" => account_update(conn, t, value),
            _ => Ok(()),
        },
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A string or number field as text (Meta sends ids and codes either way).
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A unix-seconds `timestamp` field, or now.
fn timestamp(v: &Value) -> chrono::NaiveDateTime {
    id_text(&v["timestamp"])
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or_else(now, |t| t.naive_utc())
}

fn status(
    conn: &mut DbConn,
    subscribers: &mut StatusSubscribers,
    usage: &mut Tally,
    t: &Target,
    s: &Value,
) -> Result<(), Failure> {
    let id = text(s, "id").ok_or_else(|| Failure("a status without id".into()))?;
    let Some(status) = s["status"].as_str().and_then(Reported::parse) else { return Ok(()) };
    let error = &s["errors"][0];
    let event = StatusEvent {
        provider_message_id: id.to_string(),
        our_id: text(s, "biz_opaque_callback_data").and_then(|c| c.parse().ok()),
        account_id: Some(t.account),
        status,
        at: timestamp(s),
        error_code: id_text(&error["code"]),
        error_title: text(error, "title").map(str::to_string),
        error_detail: error
            .pointer("/error_data/details")
            .and_then(Value::as_str)
            .or(text(error, "message"))
            .map(str::to_string),
        pricing: pricing(&s["pricing"]),
    };
    statuses::apply(conn, subscribers, usage, &event)?;
    Ok(())
}

/// A status's `pricing` block; `billable` (being deprecated) falls back to `type: regular`.
fn pricing(p: &Value) -> Option<Pricing> {
    if !p.is_object() {
        return None;
    }
    let pricing_type = text(p, "type").map(str::to_string);
    let billable = p["billable"].as_bool().unwrap_or(pricing_type.as_deref() == Some("regular"));
    Some(Pricing {
        category: text(p, "category").unwrap_or("unknown").to_string(),
        pricing_type,
        model: text(p, "pricing_model").map(str::to_string),
        billable,
    })
}

fn inbound(conn: &mut DbConn, usage: &mut Tally, t: &Target, value: &Value, m: &Value) -> Result<(), Failure> {
    let id = text(m, "id").ok_or_else(|| Failure("an inbound message without id".into()))?;
    let from = text(m, "from").ok_or_else(|| Failure("an inbound message without sender".into()))?;
    let seen: i64 = messages::table.filter(messages::provider_message_id.eq(id)).count().get_result(conn)?;
    if seen > 0 {
        return Ok(());
    }
    let by_provider = match value.pointer("/metadata/phone_number_id").and_then(id_text) {
        Some(pid) => phone_numbers::by_provider_id(conn, &pid)?.filter(|p| p.account_id == t.account),
        None => None,
    };
    let phone = match by_provider {
        Some(p) => p,
        None => phone_numbers::default_for(conn, TenantId(t.tenant), t.account)?
            .ok_or_else(|| Failure("the account has no phone number to receive on".into()))?,
    };
    let sender = crate::domain::phone::e164(&format!("+{}", from.trim_start_matches('+')));
    let earlier: i64 = messages::table
        .filter(
            messages::account_id
                .eq(t.account)
                .and(messages::direction.eq("inbound"))
                .and(messages::recipient.eq(&sender)),
        )
        .count()
        .get_result(conn)?;
    let ts = now();
    // When the contact sent it (never later than now): the customer-service window starts here.
    let at = timestamp(m).min(ts);
    let new = NewMessage {
        tenant_id: t.tenant,
        account_id: t.account,
        phone_number_id: phone.id,
        direction: "inbound".into(),
        recipient: sender.clone(),
        kind: text(m, "type").unwrap_or("unknown").to_string(),
        payload: m.to_string(),
        status: MessageStatus::Received.as_str().into(),
        next_attempt_at: at,
        idempotency_key: None,
        idempotency_hash: None,
        campaign_id: None,
        template_name: None,
        created_at: ts,
        updated_at: ts,
    };
    let mid: i64 = diesel::insert_into(messages::table).values(&new).returning(messages::id).get_result(conn)?;
    let tenant = TenantId(t.tenant);
    let lead = inbox::link_lead(conn, tenant, &sender, inbox::profile_name(value, from.trim_start_matches('+')), m)?;
    diesel::update(messages::table.find(mid))
        .set((messages::provider_message_id.eq(id), messages::sent_at.eq(at), messages::lead_id.eq(lead)))
        .execute(conn)?;
    add_event(conn, mid, MessageStatus::Received.as_str(), None)?;
    usage.add(t.tenant, t.account, at.date(), Counts { inbound: 1, ..Default::default() });
    let data = json!({
        "message_id": mid, "account_id": t.account, "phone_number_id": phone.id, "from": new.recipient,
        "type": new.kind, "provider_message_id": id, "lead_id": lead, "message": m,
    });
    crate::relay::emit(conn, tenant, "message.inbound", data)?;
    inbox::flow_submission(conn, tenant, t.account, mid, lead, &sender, m)?;
    crate::cta::quick_reply(conn, tenant, lead, m)?;
    // A message delivered after its window closed gets no reply: free-form messages would be refused.
    let fresh = ts - at < crate::store::conversations::SERVICE_WINDOW;
    bot::answer(conn, t, &phone, &sender, m, earlier == 0, fresh)
}

/// The template an event names: by provider id, else by name and language.
fn find_template(conn: &mut DbConn, account: i64, v: &Value) -> QueryResult<Option<Template>> {
    if let Some(pid) = id_text(&v["message_template_id"]) {
        let found = templates::table
            .filter(templates::account_id.eq(account).and(templates::provider_template_id.eq(pid)))
            .select(Template::as_select())
            .first(conn)
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    match (text(v, "message_template_name"), text(v, "message_template_language")) {
        (Some(name), Some(lang)) => crate::store::templates::by_name(conn, account, name, lang),
        _ => Ok(None),
    }
}

fn template(conn: &mut DbConn, t: &Target, field: &str, v: &Value) -> Result<(), Failure> {
    let Some(tpl) = find_template(conn, t.account, v)? else { return Ok(()) };
    let mut changes = TemplateChanges { synced_at: Some(now()), ..Default::default() };
    match field {
        "message_template_status_update" => {
            let event = text(v, "event").ok_or_else(|| Failure("a template status update without event".into()))?;
            let status = if event == "REINSTATED" { "APPROVED" } else { event };
            let reason = v.pointer("/rejection_info/reason").and_then(Value::as_str).or(text(v, "reason"));
            changes.rejection_reason =
                Some(reason.filter(|r| status == "REJECTED" && *r != "NONE").map(str::to_string));
            changes.status = Some(status.to_string());
        }
        "message_template_quality_update" => {
            changes.quality_score = text(v, "new_quality_score").map(str::to_string);
        }
        _ => {
            let new =
                text(v, "new_category").ok_or_else(|| Failure("a category update without new_category".into()))?;
            changes.previous_category = Some(text(v, "previous_category").unwrap_or(&tpl.category).to_string());
            changes.category = Some(new.to_string());
        }
    }
    let tpl = crate::store::templates::update(conn, tpl.id, changes)?;
    let data = json!({
        "template_id": tpl.id, "account_id": tpl.account_id, "name": tpl.name, "language": tpl.language,
        "status": tpl.status, "category": tpl.category, "previous_category": tpl.previous_category,
        "rejection_reason": tpl.rejection_reason, "quality_score": tpl.quality_score,
    });
    crate::relay::emit(conn, TenantId(t.tenant), "template.updated", data)?;
    Ok(())
}

/// The rating a quality update reports: an explicit rating, else what its event implies.
fn quality_rating(v: &Value) -> Option<&'static str> {
    let explicit = text(v, "quality_rating").or(text(v, "new_quality_score"));
    match explicit.or(text(v, "event"))? {
        "GREEN" | "HIGH" | "UNFLAGGED" => Some("GREEN"),
        "YELLOW" | "MEDIUM" => Some("YELLOW"),
        "RED" | "LOW" | "FLAGGED" => Some("RED"),
        _ => None,
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn phone_quality(conn: &mut DbConn, t: &Target, v: &Value) -> Result<(), Failure> {
    let shown = digits(text(v, "display_phone_number").unwrap_or_default());
    let phone = phone_numbers::of_account(conn, t.account)?
        .into_iter()
        .find(|p| digits(&p.display_phone_number) == shown || digits(&p.phone_number) == shown)
        .ok_or_else(|| Failure("no phone number of the account matches display_phone_number".into()))?;
    let rating = quality_rating(v);
    let changes = PhoneNumberChanges {
        quality_rating: rating.map(str::to_string),
        messaging_limit_tier: text(v, "current_limit").map(str::to_string),
        ..Default::default()
    };
    phone_numbers::update(conn, TenantId(t.tenant), phone.id, changes)?;
    let data =
        json!({"phone_number_id": phone.id, "account_id": t.account, "quality_rating": rating, "event": v["event"]});
    crate::relay::emit(conn, TenantId(t.tenant), "phone_number.quality", data)?;
    if rating == Some("RED") {
        crate::campaigns::control::on_quality_red(conn, phone.id)?;
        on_quality_red(conn, t, phone.id, &v["event"])?;
    }
    Ok(())
}

/// A number's quality went RED: new sends from it are refused (`ERR_QUALITY_DEGRADED`), its
/// queued messages wait (the outbox does not claim them) until the rating recovers, and the
/// account's health log says why.
fn on_quality_red(conn: &mut DbConn, t: &Target, phone: i64, event: &Value) -> Result<(), Failure> {
    let details = json!({ "source": "webhook", "phone_number_id": phone, "quality_rating": "RED", "event": event });
    health_logs::record(
        conn,
        t.tenant,
        t.account,
        &Check {
            status: "degraded",
            response_time_ms: 0,
            details: &details.to_string(),
            error: Some("ERR_QUALITY_DEGRADED: phone number quality is RED; sending from it is paused"),
            needs_reauth: false,
        },
    )?;
    Ok(())
}

fn account_update(conn: &mut DbConn, t: &Target, v: &Value) -> Result<(), Failure> {
    let event = text(v, "event").unwrap_or("UNKNOWN");
    let reinstated = v.pointer("/ban_info/waba_ban_state").and_then(Value::as_str) == Some("REINSTATE");
    let suspends =
        matches!(event, "ACCOUNT_DELETED" | "ACCOUNT_OFFBOARDED") || (event == "DISABLED_UPDATE" && !reinstated);
    let account = accounts::by_id(conn, t.account)?.ok_or_else(|| Failure("the account is gone".into()))?;
    let status = match event {
        _ if suspends => "unhealthy",
        "ACCOUNT_RESTRICTION" | "ACCOUNT_VIOLATION" => "degraded",
        _ if ["healthy", "degraded", "unhealthy"].contains(&account.health_status.as_str()) => &account.health_status,
        _ => "healthy",
    };
    let details = json!({ "source": "webhook", "field": "account_update", "value": v });
    let error = (status != "healthy").then(|| format!("account_update {event}"));
    health_logs::record(
        conn,
        t.tenant,
        t.account,
        &Check {
            status,
            response_time_ms: 0,
            details: &details.to_string(),
            error: error.as_deref(),
            needs_reauth: false,
        },
    )?;
    if suspends {
        accounts::suspend(conn, t.account)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_comes_from_an_explicit_rating_or_the_event() {
        assert_eq!(quality_rating(&json!({"event": "FLAGGED"})), Some("RED"));
        assert_eq!(quality_rating(&json!({"event": "UNFLAGGED"})), Some("GREEN"));
        assert_eq!(quality_rating(&json!({"event": "FLAGGED", "quality_rating": "YELLOW"})), Some("YELLOW"));
        assert_eq!(quality_rating(&json!({"event": "THROUGHPUT_UPGRADE"})), None);
    }

    #[test]
    fn a_messages_change_splits_into_its_statuses_and_messages() {
        let change = json!({"field": "messages", "value": {"statuses": [{}, {}], "messages": [{}]}});
        assert_eq!(items(&change).len(), 3);
        assert_eq!(items(&json!({"field": "account_update", "value": {}})).len(), 1);
    }

    #[test]
    fn pricing_keeps_category_and_billable_falls_back_to_the_type() {
        let p = pricing(&json!({"billable": true, "pricing_model": "PMP", "category": "marketing", "type": "regular"}));
        assert_eq!(p.as_ref().map(|p| (p.category.as_str(), p.billable)), Some(("marketing", true)));
        let free = pricing(&json!({"pricing_model": "PMP", "category": "service", "type": "free_customer_service"}));
        assert_eq!(free.map(|p| p.billable), Some(false));
        assert_eq!(
            pricing(&json!({"type": "regular"})).map(|p| (p.category, p.billable)),
            Some(("unknown".into(), true))
        );
        assert_eq!(pricing(&Value::Null), None);
    }

    #[test]
    fn timestamps_are_unix_seconds_as_text_or_number() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap().naive_utc();
        assert_eq!(timestamp(&json!({"timestamp": "1700000000"})), at);
        assert_eq!(timestamp(&json!({"timestamp": 1_700_000_000})), at);
    }
}
