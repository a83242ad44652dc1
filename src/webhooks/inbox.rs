//! What an applied inbound message adds besides its row: the contact's lead (created when missing)
//! with a note, and, for a completed Flow (`interactive.nfm_reply`), a typed submission relayed as
//! `flow.submission`.

use diesel::QueryResult;
use serde_json::{Value, json};

use crate::db::DbConn;
use crate::domain::TenantId;
use crate::store::flow_submissions::{self, NewSubmission};
use crate::store::leads::{self, LeadSeed};

/// Longest lead note kept for one message, in characters.
const NOTE_MAX: usize = 1000;

/// The contact's profile name from a change's `contacts` block: the entry for `wa_id`, else the
/// only one.
pub fn profile_name<'a>(value: &'a Value, wa_id: &str) -> Option<&'a str> {
    let contacts = value["contacts"].as_array()?;
    let contact = contacts.iter().find(|c| c["wa_id"].as_str() == Some(wa_id)).or(match contacts.as_slice() {
        [only] => Some(only),
        _ => None,
    })?;
    contact.pointer("/profile/name").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty())
}

fn str_at<'a>(m: &'a Value, pointer: &str) -> Option<&'a str> {
    m.pointer(pointer).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// A short note about an inbound message: its text, or what kind of message it was.
pub fn note(m: &Value) -> String {
    let kind = m["type"].as_str().unwrap_or("unknown");
    let text = match kind {
        "text" => str_at(m, "/text/body").unwrap_or("(empty text)").to_string(),
        "button" => format!("Tapped \"{}\"", str_at(m, "/button/text").unwrap_or("a button")),
        "interactive" => match m.pointer("/interactive/type").and_then(Value::as_str) {
            Some("button_reply") => {
                format!("Replied \"{}\"", str_at(m, "/interactive/button_reply/title").unwrap_or(""))
            }
            Some("list_reply") => format!("Chose \"{}\"", str_at(m, "/interactive/list_reply/title").unwrap_or("")),
            Some("nfm_reply") => "Submitted a WhatsApp Flow".to_string(),
            _ => "Sent an interactive reply".to_string(),
        },
        "image" | "video" | "audio" | "document" | "sticker" => match str_at(m, &format!("/{kind}/caption")) {
            Some(caption) => format!("Sent {} {kind}: {caption}", if kind == "image" { "an" } else { "a" }),
            None => format!("Sent {} {kind}", if kind == "image" || kind == "audio" { "an" } else { "a" }),
        },
        "location" => "Shared a location".to_string(),
        "contacts" => "Shared contacts".to_string(),
        "reaction" => format!("Reacted {}", str_at(m, "/reaction/emoji").unwrap_or("(removed)")),
        other => format!("Sent a message of type {other}"),
    };
    text.chars().take(NOTE_MAX).collect()
}

/// The contact's lead (created with source `whatsapp` and their profile name when missing), with a
/// note about this message. Returns the lead id. Call in the message's write transaction.
pub fn link_lead(conn: &mut DbConn, tenant: TenantId, sender: &str, name: Option<&str>, m: &Value) -> QueryResult<i64> {
    let seed = LeadSeed { source: "whatsapp", name, project_id: None };
    let (lead, _) = leads::find_or_create(conn, tenant, sender, seed)?;
    leads::add_note(conn, tenant, lead.id, "whatsapp", &note(m))?;
    Ok(lead.id)
}

/// Stores a completed Flow (`interactive.nfm_reply`) as a submission linked to the flow of the
/// message it answers, and relays it as `flow.submission`. Other messages are left alone.
pub fn flow_submission(
    conn: &mut DbConn,
    tenant: TenantId,
    account: i64,
    message_id: i64,
    lead_id: i64,
    sender: &str,
    m: &Value,
) -> QueryResult<()> {
    let Some(reply) = m.pointer("/interactive/nfm_reply").filter(|_| m["interactive"]["type"] == "nfm_reply") else {
        return Ok(());
    };
    // `response_json` is a JSON string; a provider sending an object is taken as is.
    let response = match &reply["response_json"] {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| json!({ "raw": s })),
        Value::Null => json!({}),
        other => other.clone(),
    };
    let token = response["flow_token"].as_str();
    let flow_id = match str_at(m, "/context/id") {
        Some(replied_to) => flow_submissions::flow_of_reply(conn, account, replied_to)?,
        None => None,
    };
    let text = response.to_string();
    let s = flow_submissions::insert(
        conn,
        NewSubmission {
            tenant,
            account_id: account,
            flow_id,
            message_id,
            lead_id: Some(lead_id),
            phone: sender,
            flow_token: token,
            response_json: &text,
        },
    )?;
    let data = json!({
        "submission_id": s.id, "flow_id": s.flow_id, "account_id": account, "message_id": message_id,
        "lead_id": lead_id, "from": sender, "flow_token": s.flow_token, "response": response,
    });
    crate::relay::emit(conn, tenant, "flow.submission", data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_carry_the_text_or_the_kind_of_message() {
        assert_eq!(note(&json!({"type": "text", "text": {"body": " hi there "}})), "hi there");
        assert_eq!(note(&json!({"type": "image", "image": {"id": "1"}})), "Sent an image");
        assert_eq!(note(&json!({"type": "document", "document": {"caption": "Quote"}})), "Sent a document: Quote");
        let nfm = json!({"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {}}});
        assert_eq!(note(&nfm), "Submitted a WhatsApp Flow");
        assert_eq!(note(&json!({"type": "button", "button": {"text": "Yes"}})), "Tapped \"Yes\"");
        assert_eq!(note(&json!({"type": "order"})), "Sent a message of type order");
        assert_eq!(note(&json!({"type": "text", "text": {"body": "x".repeat(5000)}})).len(), NOTE_MAX);
    }

    #[test]
    fn the_profile_name_is_the_senders() {
        let v = json!({"contacts": [{"wa_id": "1", "profile": {"name": "Ann"}}, {"wa_id": "2", "profile": {"name": "Bob"}}]});
        assert_eq!(profile_name(&v, "2"), Some("Bob"));
        assert_eq!(profile_name(&v, "3"), None);
        let one = json!({"contacts": [{"wa_id": "1", "profile": {"name": "  "}}]});
        assert_eq!(profile_name(&one, "1"), None);
        assert_eq!(profile_name(&json!({"contacts": [{"profile": {"name": "Cy"}}]}), "9"), Some("Cy"));
    }
}
