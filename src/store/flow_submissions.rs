//! Flow submissions: completed WhatsApp Flows (inbound `nfm_reply` messages), linked to the flow
//! whose message the contact answered.

use diesel::prelude::*;

use crate::db::schema::{flow_submissions, flows, messages};
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::pagination::Page;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = flow_submissions)]
pub struct FlowSubmission {
    pub id: i64,
    pub tenant_id: i64,
    pub account_id: i64,
    pub flow_id: Option<i64>,
    pub message_id: i64,
    pub lead_id: Option<i64>,
    pub phone: String,
    pub flow_token: Option<String>,
    pub response_json: String,
    pub created_at: chrono::NaiveDateTime,
}

/// A submission to store.
pub struct NewSubmission<'a> {
    pub tenant: TenantId,
    pub account_id: i64,
    pub flow_id: Option<i64>,
    pub message_id: i64,
    pub lead_id: Option<i64>,
    pub phone: &'a str,
    pub flow_token: Option<&'a str>,
    /// The submitted fields, as JSON text.
    pub response_json: &'a str,
}

pub fn insert(conn: &mut DbConn, s: NewSubmission) -> QueryResult<FlowSubmission> {
    diesel::insert_into(flow_submissions::table)
        .values((
            flow_submissions::tenant_id.eq(s.tenant.0),
            flow_submissions::account_id.eq(s.account_id),
            flow_submissions::flow_id.eq(s.flow_id),
            flow_submissions::message_id.eq(s.message_id),
            flow_submissions::lead_id.eq(s.lead_id),
            flow_submissions::phone.eq(s.phone),
            flow_submissions::flow_token.eq(s.flow_token),
            flow_submissions::response_json.eq(s.response_json),
            flow_submissions::created_at.eq(now()),
        ))
        .returning(flow_submissions::all_columns)
        .get_result(conn)
}

/// A flow's submissions, newest first.
pub fn list(conn: &mut DbConn, tenant: TenantId, flow: i64, page: Page) -> QueryResult<Vec<FlowSubmission>> {
    let mut q = flow_submissions::table
        .filter(flow_submissions::tenant_id.eq(tenant.0).and(flow_submissions::flow_id.eq(flow)))
        .select(FlowSubmission::as_select())
        .order(flow_submissions::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(flow_submissions::id.lt(before));
    }
    q.load(conn)
}

/// The flow an answer to our message `replied_to` (a provider message id) completes: the flow of
/// the interactive Flow message we sent, or the Flow button of the template we sent.
pub fn flow_of_reply(conn: &mut DbConn, account: i64, replied_to: &str) -> QueryResult<Option<i64>> {
    let sent: Option<(String, String, Option<String>)> = messages::table
        .filter(messages::account_id.eq(account).and(messages::provider_message_id.eq(replied_to)))
        .filter(messages::direction.eq("outbound"))
        .select((messages::kind, messages::payload, messages::template_name))
        .first(conn)
        .optional()?;
    let Some((kind, payload, template)) = sent else { return Ok(None) };
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
    let provider_flow_id = match (kind.as_str(), template) {
        ("template", Some(name)) => {
            let language = payload["language"].as_str().unwrap_or_default();
            let template = crate::store::templates::by_name(conn, account, &name, language)?;
            template.and_then(|t| template_flow_id(&serde_json::from_str(&t.components).unwrap_or_default()))
        }
        _ if payload.pointer("/action/type").and_then(|t| t.as_str()) == Some("flow") => {
            payload.pointer("/action/flow_id").and_then(|f| f.as_str()).map(str::to_string)
        }
        _ => None,
    };
    let Some(pid) = provider_flow_id else { return Ok(None) };
    flows::table
        .filter(flows::account_id.eq(account).and(flows::provider_flow_id.eq(pid)))
        .select(flows::id)
        .first(conn)
        .optional()
}

/// The `flow_id` of a template's first Flow button (Meta's creation format).
fn template_flow_id(components: &serde_json::Value) -> Option<String> {
    let buttons = components.as_array()?.iter().filter_map(|c| c["buttons"].as_array()).flatten();
    buttons.filter(|b| b["type"] == "FLOW").find_map(|b| match &b["flow_id"] {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_templates_flow_button_names_its_flow() {
        let components = json!([{"type": "BODY", "text": "Book"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "No"}, {"type": "FLOW", "text": "Book", "flow_id": 42}]}]);
        assert_eq!(super::template_flow_id(&components).as_deref(), Some("42"));
        assert_eq!(super::template_flow_id(&json!([{"type": "BODY", "text": "x"}])), None);
    }
}
