//! Admission to the outbox: the one place that decides whether a message may be queued, and
//! queues it. Every sender goes through [`admit`]: `POST /messages` (and the account route), the
//! campaign runner, bot replies and CTA brochures. The rules, in order:
//!
//! 1. idempotency: a key the tenant used before answers with the earlier message when the request
//!    is the same, and is refused (`idempotency_key_reused`) when it is not; nothing else is checked;
//! 2. the account is active (not pending, suspended or needing new credentials);
//! 3. the number's quality is not RED;
//! 4. a template is APPROVED on the account and gets exactly its body parameters;
//! 5. the provider can send it (Tata takes no button variables);
//! 6. the recipient is not on the tenant's opt-out list;
//! 7. a free-form (non-template) message goes to a contact inside the 24-hour service window;
//! 8. the tenant's daily quota and the account's day and month limits have room.
//!
//! A caller that does not apply a rule passes a [`Waiver`] saying why. A batch (the campaign
//! runner's) is checked with a fixed number of queries whatever its size; single-message callers
//! pass one candidate. Each caller turns a [`Refusal`] into its own outcome: a 4xx problem for the
//! API, a skip reason or a halt for the runner, a note or a log line for the bot and CTA.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;

use actix_web::http::StatusCode;
use chrono::Datelike;
use sha2::{Digest, Sha256};

use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::domain::account::{AccountStatus, ProviderKind};
use crate::domain::message_status::MessageStatus;
use crate::domain::template::body_parameter_count;
use crate::error::ApiError;
use crate::providers::MessageBody;
use crate::store::accounts::Account;
use crate::store::messages::{self, Enqueued, NewMessage};
use crate::store::phone_numbers::PhoneNumberRow;
use crate::store::{conversations, opt_outs, templates, tenants};

/// A sending rule, as a caller names it in a [`Waiver`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    OptOut,
    ServiceWindow,
}

/// A rule a caller does not apply, and why.
#[derive(Clone, Copy, Debug)]
pub struct Waiver {
    pub rule: Rule,
    pub why: &'static str,
}

/// Who sends: a tenant's account and one of its numbers, as the caller loaded them.
pub struct Origin {
    pub account: Account,
    pub phone: PhoneNumberRow,
}

impl Origin {
    fn tenant(&self) -> TenantId {
        TenantId(self.account.tenant_id)
    }
}

/// The template a message uses: name, language, how many body parameters it fills, and whether
/// a button parameter fills a variable.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TemplateUse {
    pub name: String,
    pub language: String,
    pub body_parameters: usize,
    pub button_variables: bool,
}

/// One message asking to be queued.
pub struct Candidate {
    /// E.164.
    pub recipient: String,
    /// The message as the provider layer reads it (a serialised [`MessageBody`]).
    pub payload: String,
    /// `text`, `template`, `interactive`, `media`.
    pub kind: String,
    pub template: Option<TemplateUse>,
    pub idempotency_key: Option<String>,
    pub campaign_id: Option<i64>,
}

impl Candidate {
    /// A message body to a recipient, with no key or campaign.
    pub fn of(recipient: &str, body: &MessageBody) -> Result<Self, serde_json::Error> {
        let payload = serde_json::to_value(body)?;
        let template = match body {
            MessageBody::Template(t) => Some(TemplateUse {
                name: t.name.clone(),
                language: t.language.clone(),
                body_parameters: t.components.body.len(),
                button_variables: t.components.buttons.iter().any(|b| b.sub_type.is_variable()),
            }),
            _ => None,
        };
        Ok(Candidate {
            recipient: recipient.to_string(),
            kind: payload["type"].as_str().unwrap_or("text").to_string(),
            payload: payload.to_string(),
            template,
            idempotency_key: None,
            campaign_id: None,
        })
    }

    /// The hash an idempotency key keeps: what is sent, from where, to whom.
    fn request_hash(&self, origin: &Origin) -> String {
        let mut h = Sha256::new();
        for part in [&origin.account.id.to_string(), &origin.phone.id.to_string(), &self.recipient, &self.payload] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        hex::encode(h.finalize())
    }
}

/// Why a message was not queued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    AccountNeedsReauth,
    AccountNotActive,
    QualityRed,
    TemplateNotReady { name: String, language: String },
    TemplateParameters { expected: usize },
    ButtonVariablesUnsupported,
    OptedOut,
    OutsideServiceWindow,
    TenantQuota { quota: i64, retry_after: u64 },
    AccountLimit { period: &'static str, limit: i64, retry_after: u64 },
    IdempotencyKeyReused,
}

impl Refusal {
    /// The name a refusal is recorded under (a campaign recipient's skip reason, a halt reason).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::AccountNeedsReauth => "account_needs_reauth",
            Refusal::AccountNotActive => "account_not_active",
            Refusal::QualityRed => "ERR_QUALITY_DEGRADED",
            Refusal::TemplateNotReady { .. } => "ERR_TEMPLATE_NOT_READY",
            Refusal::TemplateParameters { .. } => "template_parameters_mismatch",
            Refusal::ButtonVariablesUnsupported => "ERR_BUTTON_VARIABLES_UNSUPPORTED",
            Refusal::OptedOut => "opted_out",
            Refusal::OutsideServiceWindow => "outside_service_window",
            Refusal::TenantQuota { .. } => "tenant_quota_exceeded",
            Refusal::AccountLimit { .. } => "account_limit_reached",
            Refusal::IdempotencyKeyReused => "idempotency_key_reused",
        }
    }

    /// Whether it refuses every message of the origin (account, number, template, provider), not
    /// just this recipient.
    pub fn refuses_origin(&self) -> bool {
        matches!(
            self,
            Refusal::AccountNeedsReauth
                | Refusal::AccountNotActive
                | Refusal::QualityRed
                | Refusal::TemplateNotReady { .. }
                | Refusal::TemplateParameters { .. }
                | Refusal::ButtonVariablesUnsupported
        )
    }

    /// Whether it only says "not now": a quota or limit that frees up later.
    pub fn is_quota(&self) -> bool {
        matches!(self, Refusal::TenantQuota { .. } | Refusal::AccountLimit { .. })
    }

    /// The API's answer; the message's fields are under `field` (e.g. `message.template.components`).
    pub fn problem(&self, field: &str) -> ApiError {
        let detail = self.to_string();
        match self {
            Refusal::AccountNeedsReauth | Refusal::AccountNotActive | Refusal::QualityRed => {
                ApiError::conflict(self.code(), detail)
            }
            Refusal::OptedOut => ApiError::conflict("recipient_opted_out", detail),
            Refusal::TemplateNotReady { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "template_not_ready",
                format!("ERR_TEMPLATE_NOT_READY: {detail}"),
            ),
            Refusal::TemplateParameters { expected } => {
                ApiError::field(field, &format!("expected_{expected}_body_parameters"))
            }
            Refusal::ButtonVariablesUnsupported => ApiError::field(field, "ERR_BUTTON_VARIABLES_UNSUPPORTED"),
            Refusal::OutsideServiceWindow | Refusal::IdempotencyKeyReused => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, self.code(), detail)
            }
            Refusal::TenantQuota { retry_after, .. } => ApiError::rate_limited(*retry_after, detail),
            Refusal::AccountLimit { retry_after, .. } => ApiError::too_many(self.code(), *retry_after, detail),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::AccountNeedsReauth => {
                f.write_str("the provider refused the account's credentials; save new ones first")
            }
            Refusal::AccountNotActive => f.write_str("the account cannot send (finish its setup or reactivate it)"),
            Refusal::QualityRed => f.write_str("the number's quality rating is RED; sending is paused"),
            Refusal::TemplateNotReady { name, language } => {
                write!(f, "template {name} ({language}) is not approved on this account")
            }
            Refusal::TemplateParameters { expected } => write!(f, "the template takes {expected} body parameters"),
            Refusal::ButtonVariablesUnsupported => f.write_str("the provider takes no variables in buttons"),
            Refusal::OptedOut => f.write_str("the recipient opted out of messages from this tenant"),
            Refusal::OutsideServiceWindow => f.write_str(
                "the contact has not written to this account in the last 24 hours: only templates may be sent",
            ),
            Refusal::TenantQuota { quota, .. } => write!(f, "the tenant's daily quota of {quota} messages is used up"),
            Refusal::AccountLimit { period, limit, .. } => {
                write!(f, "the account's limit of {limit} messages per {period} is reached")
            }
            Refusal::IdempotencyKeyReused => {
                f.write_str("this Idempotency-Key was used before for a different request")
            }
        }
    }
}

/// What admission decided for one candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// In the outbox: a new message, or (`created` false) the earlier one for its key.
    Queued {
        id: i64,
        created: bool,
    },
    Refused(Refusal),
}

/// The account rule alone: it is active.
pub fn check_account(account: &Account) -> Result<(), Refusal> {
    match AccountStatus::parse(&account.status) {
        AccountStatus::Active => Ok(()),
        AccountStatus::NeedsReauth => Err(Refusal::AccountNeedsReauth),
        _ => Err(Refusal::AccountNotActive),
    }
}

/// The rules that hold for every message of an origin, with this template (if any): account
/// active, number not RED, template approved with its parameters, provider capabilities.
pub fn check_origin(
    conn: &mut DbConn,
    origin: &Origin,
    template: Option<&TemplateUse>,
) -> diesel::QueryResult<Result<(), Refusal>> {
    if let Err(r) = check_account(&origin.account) {
        return Ok(Err(r));
    }
    if origin.phone.quality_rating == "RED" {
        return Ok(Err(Refusal::QualityRed));
    }
    let Some(t) = template else { return Ok(Ok(())) };
    let Some(stored) =
        templates::by_name(conn, origin.account.id, &t.name, &t.language)?.filter(|s| s.status == "APPROVED")
    else {
        return Ok(Err(Refusal::TemplateNotReady { name: t.name.clone(), language: t.language.clone() }));
    };
    let components: Vec<serde_json::Value> = serde_json::from_str(&stored.components).unwrap_or_default();
    let expected = body_parameter_count(&components);
    if t.body_parameters != expected {
        return Ok(Err(Refusal::TemplateParameters { expected }));
    }
    if t.button_variables && ProviderKind::parse(&origin.account.provider) == ProviderKind::Tata {
        return Ok(Err(Refusal::ButtonVariablesUnsupported));
    }
    Ok(Ok(()))
}

/// Seconds until `at`, at least one.
fn seconds_until(at: chrono::NaiveDateTime) -> u64 {
    (at - now()).num_seconds().max(1) as u64
}

/// How many more messages the tenant's quota and the account's limits take now (`None`: no
/// limit), and the refusal once they are used up.
fn room(conn: &mut DbConn, origin: &Origin) -> diesel::QueryResult<Option<(i64, Refusal)>> {
    let today = now().date().and_hms_opt(0, 0, 0).unwrap_or_default();
    let tomorrow = today + chrono::Duration::days(1);
    let month = today.with_day(1).unwrap_or(today);
    let next_month = month.checked_add_months(chrono::Months::new(1)).unwrap_or(tomorrow);
    let mut tightest: Option<(i64, Refusal)> = None;
    let mut consider = |left: i64, refusal: Refusal| {
        if tightest.as_ref().is_none_or(|(l, _)| left < *l) {
            tightest = Some((left.max(0), refusal));
        }
    };
    if let Some(quota) = tenants::get(conn, origin.tenant())?.and_then(|t| t.daily_message_quota) {
        let used = messages::outbound_since(conn, origin.tenant(), today)?;
        consider(quota - used, Refusal::TenantQuota { quota, retry_after: seconds_until(tomorrow) });
    }
    let account = origin.account.id;
    if let Some(limit) = origin.account.limit_per_day {
        let used = messages::account_outbound_since(conn, account, today)?;
        consider(limit - used, Refusal::AccountLimit { period: "day", limit, retry_after: seconds_until(tomorrow) });
    }
    if let Some(limit) = origin.account.limit_per_month {
        let used = messages::account_outbound_since(conn, account, month)?;
        let retry_after = seconds_until(next_month);
        consider(limit - used, Refusal::AccountLimit { period: "month", limit, retry_after });
    }
    Ok(tightest)
}

/// Checks every candidate against the rules (less the caller's waivers) and queues those that
/// pass, in the caller's write transaction. Returns one verdict per candidate, in order. The
/// queries are fixed in number whatever the batch size.
pub fn admit(
    conn: &mut DbConn,
    origin: &Origin,
    candidates: Vec<Candidate>,
    waivers: &[Waiver],
) -> diesel::QueryResult<Vec<Verdict>> {
    for w in waivers {
        tracing::debug!(rule = ?w.rule, why = w.why, "admission rule waived");
    }
    let waived = |rule: Rule| waivers.iter().any(|w| w.rule == rule);
    let tenant = origin.tenant();
    let hashes: Vec<Option<String>> =
        candidates.iter().map(|c| c.idempotency_key.as_ref().map(|_| c.request_hash(origin))).collect();
    let keys: Vec<&str> = candidates.iter().filter_map(|c| c.idempotency_key.as_deref()).collect();
    let earlier = messages::key_uses(conn, tenant.0, &keys)?;
    let mut verdicts: Vec<Option<Verdict>> = candidates
        .iter()
        .zip(&hashes)
        .map(|(c, hash)| {
            let e = earlier.get(c.idempotency_key.as_deref()?)?;
            Some(match messages::replay(e, hash.as_deref()) {
                Enqueued::KeyReused => Verdict::Refused(Refusal::IdempotencyKeyReused),
                Enqueued::New(id) | Enqueued::Existing(id) => Verdict::Queued { id, created: false },
            })
        })
        .collect();
    let mut by_template: HashMap<Option<&TemplateUse>, Result<(), Refusal>> = HashMap::new();
    for c in candidates.iter().zip(&verdicts).filter(|(_, v)| v.is_none()).map(|(c, _)| c) {
        if let Entry::Vacant(e) = by_template.entry(c.template.as_ref()) {
            e.insert(check_origin(conn, origin, c.template.as_ref())?);
        }
    }
    let open = |v: &Option<Verdict>| v.is_none();
    let phones: Vec<&str> =
        candidates.iter().zip(&verdicts).filter(|(_, v)| open(v)).map(|(c, _)| c.recipient.as_str()).collect();
    let opted_out = if waived(Rule::OptOut) { HashSet::new() } else { opt_outs::among(conn, tenant, &phones)? };
    let free_form: Vec<&str> = candidates
        .iter()
        .zip(&verdicts)
        .filter(|(c, v)| open(v) && c.template.is_none())
        .map(|(c, _)| c.recipient.as_str())
        .collect();
    let windows = if waived(Rule::ServiceWindow) {
        HashSet::new()
    } else {
        conversations::open_windows(conn, origin.account.id, &free_form, now())?
    };
    for (c, v) in candidates.iter().zip(verdicts.iter_mut()).filter(|(_, v)| v.is_none()) {
        let refusal = match &by_template[&c.template.as_ref()] {
            Err(r) => Some(r.clone()),
            Ok(()) if opted_out.contains(&c.recipient) => Some(Refusal::OptedOut),
            Ok(()) if c.template.is_none() && !waived(Rule::ServiceWindow) && !windows.contains(&c.recipient) => {
                Some(Refusal::OutsideServiceWindow)
            }
            Ok(()) => None,
        };
        *v = refusal.map(Verdict::Refused);
    }
    if verdicts.iter().any(Option::is_none)
        && let Some((mut left, refusal)) = room(conn, origin)?
    {
        for v in verdicts.iter_mut().filter(|v| v.is_none()) {
            if left == 0 {
                *v = Some(Verdict::Refused(refusal.clone()));
            } else {
                left -= 1;
            }
        }
    }
    queue(conn, origin, candidates, hashes, verdicts)
}

/// Inserts the candidates still without a verdict and fills in theirs.
fn queue(
    conn: &mut DbConn,
    origin: &Origin,
    candidates: Vec<Candidate>,
    hashes: Vec<Option<String>>,
    mut verdicts: Vec<Option<Verdict>>,
) -> diesel::QueryResult<Vec<Verdict>> {
    let ts = now();
    let (slots, new): (Vec<usize>, Vec<NewMessage>) = candidates
        .into_iter()
        .zip(hashes)
        .enumerate()
        .filter(|(i, _)| verdicts[*i].is_none())
        .map(|(i, (c, hash))| {
            let m = NewMessage {
                tenant_id: origin.account.tenant_id,
                account_id: origin.account.id,
                phone_number_id: origin.phone.id,
                direction: "outbound".into(),
                recipient: c.recipient,
                kind: c.kind,
                payload: c.payload,
                status: MessageStatus::Queued.as_str().into(),
                next_attempt_at: ts,
                idempotency_key: c.idempotency_key,
                idempotency_hash: hash,
                campaign_id: c.campaign_id,
                template_name: c.template.map(|t| t.name),
                created_at: ts,
                updated_at: ts,
            };
            (i, m)
        })
        .unzip();
    for (slot, done) in slots.into_iter().zip(messages::enqueue(conn, new)?) {
        verdicts[slot] = Some(match done {
            Enqueued::New(id) => Verdict::Queued { id, created: true },
            Enqueued::Existing(id) => Verdict::Queued { id, created: false },
            Enqueued::KeyReused => Verdict::Refused(Refusal::IdempotencyKeyReused),
        });
    }
    verdicts.into_iter().collect::<Option<Vec<_>>>().ok_or(diesel::result::Error::NotFound)
}
