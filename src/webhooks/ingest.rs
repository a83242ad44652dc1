//! What a received body is stored as: its kind, its dedupe key, and, for the platform app, the
//! account each change belongs to (changes for numbers nobody holds are quarantined). The
//! [`Writer`](super::writer::Writer) stores the events.

use std::borrow::Cow;
use std::collections::BTreeMap;

use diesel::QueryResult;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::{DbConn, now};
use crate::store::accounts::{self, Account};
use crate::store::phone_numbers;
use crate::store::webhook_events::NewEvent;

/// The `entry[]` of a body.
pub fn entries(body: &Value) -> &[Value] {
    body["entry"].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The `changes[]` of an entry.
pub fn changes(entry: &Value) -> &[Value] {
    entry["changes"].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The `field` of every change when they agree, `mixed` when not, `empty` without changes.
pub fn kind(body: &Value) -> String {
    kind_of_fields(entries(body).iter().flat_map(changes).map(|c| c["field"].as_str()))
}

/// The kind named by the changes' fields (`unknown` for a change without one, or with one holding
/// U+0000, which the kind column cannot store).
fn kind_of_fields<'a>(fields: impl Iterator<Item = Option<&'a str>>) -> String {
    let mut fields = fields.map(|f| f.filter(|f| !f.contains('\0')));
    let first = match fields.next() {
        None => return "empty".into(),
        Some(f) => f.unwrap_or("unknown"),
    };
    if fields.all(|f| f.unwrap_or("unknown") == first) { first.into() } else { "mixed".into() }
}

/// A body's changes' `field`s, read without building the whole document.
#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(default, borrow)]
    entry: Vec<EntryFields<'a>>,
}

#[derive(Deserialize)]
struct EntryFields<'a> {
    #[serde(default, borrow)]
    changes: Vec<ChangeField<'a>>,
}

#[derive(Deserialize)]
struct ChangeField<'a> {
    #[serde(default, borrow)]
    field: Option<Cow<'a, str>>,
}

/// The [`kind`] of a raw body, or `None` when it is not a JSON object. Bodies of the usual shape
/// are only scanned; any other object is parsed whole.
pub fn kind_of(raw: &[u8]) -> Option<String> {
    if raw.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    if let Ok(f) = serde_json::from_slice::<Fields>(raw) {
        return Some(kind_of_fields(f.entry.iter().flat_map(|e| &e.changes).map(|c| c.field.as_deref())));
    }
    serde_json::from_slice::<Value>(raw).ok().filter(Value::is_object).map(|body| kind(&body))
}

/// Replaces U+0000, which no text column can store, with U+FFFD in every string and object key of
/// a body (call it only for bodies that spell it, see [`crate::extract::spells_nul`]), so what is
/// applied from a body can always be stored.
pub fn replace_nul(body: &mut Value) {
    match body {
        Value::String(s) if s.contains('\0') => *s = s.replace('\0', "\u{fffd}"),
        Value::Array(items) => items.iter_mut().for_each(replace_nul),
        Value::Object(map) => {
            *map = std::mem::take(map)
                .into_iter()
                .map(|(k, mut v)| {
                    replace_nul(&mut v);
                    (k.replace('\0', "\u{fffd}"), v)
                })
                .collect();
        }
        _ => {}
    }
}

/// The SHA-256 of the raw body within a scope: the same body delivered again has the same key.
pub fn dedupe_key(scope: &str, raw: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(scope.as_bytes());
    h.update(b"\n");
    h.update(raw);
    hex::encode(h.finalize())
}

fn event(owner: Option<(i64, i64)>, provider: &str, scope: &str, raw: &[u8], kind: String) -> NewEvent {
    NewEvent {
        tenant_id: owner.map(|o| o.0),
        account_id: owner.map(|o| o.1),
        provider: provider.into(),
        kind,
        dedupe_key: dedupe_key(scope, raw),
        signature_valid: true,
        quarantined: owner.is_none(),
        payload: String::from_utf8_lossy(raw).into_owned(),
        received_at: now(),
    }
}

/// The event to store for a verified body of one account, of the given [`kind`].
pub fn event_for(account: &Account, raw: &[u8], kind: String) -> NewEvent {
    let scope = format!("account:{}", account.id);
    event(Some((account.tenant_id, account.id)), &account.provider, &scope, raw, kind)
}

/// The (tenant, account) a platform change belongs to: by its phone number id, else by the
/// entry's WABA id when exactly one account holds it.
fn owner(conn: &mut DbConn, entry: &Value, change: &Value) -> QueryResult<Option<(i64, i64)>> {
    let pid = change.pointer("/value/metadata/phone_number_id").and_then(Value::as_str);
    if let Some(pid) = pid {
        return Ok(phone_numbers::by_provider_id(conn, pid)?.map(|p| (p.tenant_id, p.account_id)));
    }
    let Some(waba) = entry["id"].as_str() else { return Ok(None) };
    let holders = accounts::by_waba_id(conn, waba)?;
    Ok(match holders.as_slice() {
        [a] => Some((a.tenant_id, a.id)),
        _ => None,
    })
}

/// The events to store for a verified platform-app body: one per owning account holding only its
/// changes, and one quarantined event with the changes nobody owns.
pub fn platform_events(conn: &mut DbConn, raw: &[u8], body: &Value) -> QueryResult<Vec<NewEvent>> {
    let mut parts: BTreeMap<Option<(i64, i64)>, Vec<Value>> = BTreeMap::new();
    for entry in entries(body) {
        let mut by_owner: BTreeMap<Option<(i64, i64)>, Vec<Value>> = BTreeMap::new();
        for change in changes(entry) {
            by_owner.entry(owner(conn, entry, change)?).or_default().push(change.clone());
        }
        for (who, changes) in by_owner {
            let mut part = entry.clone();
            part["changes"] = Value::Array(changes);
            parts.entry(who).or_default().push(part);
        }
    }
    let mut events = Vec::new();
    for (who, entries) in parts {
        let part = json!({ "object": body["object"], "entry": entries });
        let text = part.to_string();
        let scope = match who {
            Some((_, account)) => format!("platform:{account}"),
            None => "platform:quarantine".into(),
        };
        events.push(NewEvent {
            dedupe_key: dedupe_key(&scope, raw),
            ..event(who, "meta", &scope, text.as_bytes(), kind(&part))
        });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_the_field_when_all_changes_agree() {
        let one = json!({"entry": [{"changes": [{"field": "messages"}]}, {"changes": [{"field": "messages"}]}]});
        assert_eq!(kind(&one), "messages");
        let two = json!({"entry": [{"changes": [{"field": "messages"}, {"field": "account_update"}]}]});
        assert_eq!(kind(&two), "mixed");
        assert_eq!(kind(&json!({"entry": []})), "empty");
    }

    #[test]
    fn kind_of_scans_usual_bodies_and_parses_odd_objects_whole() {
        let usual =
            br#" {"entry": [{"id": "1", "changes": [{"field": "messages", "value": {"x": [1, {"y": null}]}}]}]}"#;
        assert_eq!(kind_of(usual).as_deref(), Some("messages"));
        let escaped = br#"{"entry": [{"changes": [{"field": "mess\u0061ges"}, {"field": "messages"}]}]}"#;
        assert_eq!(kind_of(escaped).as_deref(), Some("messages"));
        assert_eq!(kind_of(br#"{"entry": [{"changes": [{}]}]}"#).as_deref(), Some("unknown"));
        assert_eq!(kind_of(br#"{"entry": 5, "other": true}"#).as_deref(), Some("empty"));
        assert_eq!(kind_of(br#"{"entry": [{"changes": [{"field": 7}]}]}"#).as_deref(), Some("unknown"));
        assert_eq!(kind_of(br#"[{"entry": []}]"#), None);
        assert_eq!(kind_of(br#"{"entry": ["#), None);
        assert_eq!(kind_of(b""), None);
    }

    #[test]
    fn nul_never_reaches_a_kind_or_an_applied_string() {
        assert_eq!(kind_of(br#"{"entry": [{"changes": [{"field": "mess\u0000ages"}]}]}"#).as_deref(), Some("unknown"));
        let mut body = json!({"a\u{0}": ["x\u{0}y", {"b": "\u{0}"}], "n": 1});
        replace_nul(&mut body);
        assert_eq!(body, json!({"a\u{fffd}": ["x\u{fffd}y", {"b": "\u{fffd}"}], "n": 1}));
    }

    #[test]
    fn dedupe_keys_depend_on_scope_and_exact_bytes() {
        assert_eq!(dedupe_key("account:1", b"{}"), dedupe_key("account:1", b"{}"));
        assert_ne!(dedupe_key("account:1", b"{}"), dedupe_key("account:2", b"{}"));
        assert_ne!(dedupe_key("account:1", b"{}"), dedupe_key("account:1", b"{ }"));
    }
}
