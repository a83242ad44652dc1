//! What a CTA click does, from a tracked link (`GET /t/{lead_id}`) or a quick-reply button whose
//! payload is `cta:interested` / `cta:not_interested` (optionally `:<campaign_id>`): the lead's
//! status and stage change, a timestamped note is added, the click is recorded, and the follow-up
//! runs: *interested* queues the project's brochure as a document (through the outbox's
//! admission: the note says why when it is refused) and marks the lead for a call;
//! *not interested* puts the number on the opt-out list (source `cta`). A click that repeats the
//! lead's current answer changes nothing.

use serde_json::Value;

use crate::db::DbConn;
use crate::domain::TenantId;
use crate::domain::cta::CtaAction;
use crate::outbox::admission::{self, Candidate, Origin, Verdict};
use crate::providers::MessageBody;
use crate::providers::message::{MediaBody, MediaKind};
use crate::store::leads::{self, LeadChanges, LeadRow};
use crate::store::{accounts, clicks, opt_outs, phone_numbers, projects};

/// The quick-reply payload prefix campaigns use for CTA buttons.
pub const PAYLOAD_PREFIX: &str = "cta:";

/// How the click arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Url,
    QuickReply,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Url => "url",
            Via::QuickReply => "quick_reply",
        }
    }
}

/// The result of a click on an existing lead.
#[derive(Debug)]
pub struct Outcome {
    pub lead: LeadRow,
    /// False when the lead already had this answer (nothing was changed).
    pub changed: bool,
    /// A brochure was queued in the outbox.
    pub queued: bool,
}

fn stage(action: CtaAction) -> &'static str {
    match action {
        CtaAction::Interested => "follow_up_call",
        CtaAction::NotInterested => "closed",
    }
}

/// Applies a click to the tenant's lead; `None` when there is no such lead. Call in a write
/// transaction.
pub fn apply_click(
    conn: &mut DbConn,
    tenant: TenantId,
    lead_id: i64,
    action: CtaAction,
    via: Via,
    campaign_id: Option<i64>,
) -> diesel::QueryResult<Option<Outcome>> {
    let Some(lead) = leads::get(conn, tenant, lead_id)? else { return Ok(None) };
    if lead.status == action.as_str() {
        return Ok(Some(Outcome { lead, changed: false, queued: false }));
    }
    let changes = LeadChanges {
        status: Some(action.as_str().to_string()),
        stage: Some(Some(stage(action).to_string())),
        follow_up: Some(action == CtaAction::Interested),
        ..Default::default()
    };
    let lead = leads::update(conn, tenant, lead_id, changes)?.ok_or(diesel::result::Error::NotFound)?;
    clicks::record(conn, tenant, lead_id, campaign_id, action.as_str(), via.as_str())?;
    let how = match via {
        Via::Url => "the tracked link",
        Via::QuickReply => "a quick reply",
    };
    let campaign = campaign_id.map(|c| format!(" (campaign {c})")).unwrap_or_default();
    leads::add_note(conn, tenant, lead_id, "cta", &format!("Answered \"{}\" via {how}{campaign}.", action.label()))?;
    let mut queued = false;
    match action {
        CtaAction::Interested => match brochure(conn, tenant, &lead)? {
            Ok(message_id) => {
                queued = true;
                leads::add_note(conn, tenant, lead_id, "cta", &format!("Brochure queued as message {message_id}."))?;
            }
            Err(why) => {
                leads::add_note(conn, tenant, lead_id, "cta", &format!("Brochure not sent: {why}."))?;
            }
        },
        CtaAction::NotInterested => {
            opt_outs::add(conn, tenant, &lead.phone, "cta", Some("answered Not interested"))?;
        }
    }
    Ok(Some(Outcome { lead, changed: true, queued }))
}

/// Queues the lead's project brochure as a document message through the outbox's admission;
/// `Err` says why it was not sent.
fn brochure(conn: &mut DbConn, tenant: TenantId, lead: &LeadRow) -> diesel::QueryResult<Result<i64, String>> {
    let Some(project) = lead.project_id else { return Ok(Err("the lead has no project".into())) };
    let Some(url) = projects::get(conn, tenant, project)?.and_then(|p| p.row.brochure_url) else {
        return Ok(Err("the project has no brochure_url".into()));
    };
    let Some((account_id, phone_number_id)) = clicks::sender_for(conn, tenant, &lead.phone)? else {
        return Ok(Err("no active account with a phone number to send from".into()));
    };
    let (Some(account), Some(phone)) =
        (accounts::by_id(conn, account_id)?, phone_numbers::by_id(conn, phone_number_id)?)
    else {
        return Err(diesel::result::Error::NotFound);
    };
    let body = MessageBody::Media(MediaBody {
        kind: MediaKind::Document,
        link: url,
        caption: Some("Here is the brochure you asked for.".into()),
        filename: Some("brochure.pdf".into()),
    });
    let candidate =
        Candidate::of(&lead.phone, &body).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    match admission::admit(conn, &Origin { account, phone }, vec![candidate], &[])?.pop() {
        Some(Verdict::Queued { id, .. }) => Ok(Ok(id)),
        Some(Verdict::Refused(why)) => Ok(Err(why.to_string())),
        None => Err(diesel::result::Error::NotFound),
    }
}

/// Reads a CTA quick-reply payload: `cta:<action>` or `cta:<action>:<campaign_id>`.
pub fn parse_payload(payload: &str) -> Option<(CtaAction, Option<i64>)> {
    let rest = payload.trim().strip_prefix(PAYLOAD_PREFIX)?;
    let (action, campaign) = match rest.split_once(':') {
        Some((a, c)) => (a, Some(c.parse().ok()?)),
        None => (rest, None),
    };
    let action = match action {
        "interested" => CtaAction::Interested,
        "not_interested" => CtaAction::NotInterested,
        _ => return None,
    };
    Some((action, campaign))
}

/// Applies an inbound message as a click when it is a CTA quick reply (a template `button` or an
/// interactive `button_reply` with a `cta:` payload) from the sender's lead (already linked by the
/// webhook path). Returns whether a brochure was queued. Call in a write transaction.
pub fn quick_reply(conn: &mut DbConn, tenant: TenantId, lead_id: i64, m: &Value) -> diesel::QueryResult<bool> {
    let payload =
        m.pointer("/button/payload").or_else(|| m.pointer("/interactive/button_reply/id")).and_then(Value::as_str);
    let Some((action, campaign)) = payload.and_then(parse_payload) else { return Ok(false) };
    let outcome = apply_click(conn, tenant, lead_id, action, Via::QuickReply, campaign)?;
    Ok(outcome.is_some_and(|o| o.queued))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_an_action_and_maybe_a_campaign() {
        assert_eq!(parse_payload("cta:interested"), Some((CtaAction::Interested, None)));
        assert_eq!(parse_payload("cta:not_interested:42"), Some((CtaAction::NotInterested, Some(42))));
        assert_eq!(parse_payload("cta:maybe"), None);
        assert_eq!(parse_payload("cta:interested:x"), None);
        assert_eq!(parse_payload("interested"), None);
    }
}
