//! What the account answers to an inbound message: opt-out keywords (the contact joins the
//! tenant's opt-out list and is told once), then, with auto-reply on, a greeting on a contact's
//! first message, an out-of-hours reply outside business hours, or the fallback message. A reply
//! goes through the outbox's admission like any other message; a refused one is logged.

use chrono::{NaiveTime, Timelike};
use serde_json::Value;

use super::apply::{Failure, Target};
use crate::db::DbConn;
use crate::domain::TenantId;
use crate::domain::account::BotSettings;
use crate::outbox::admission::{self, Candidate, Origin, Rule, Verdict, Waiver};
use crate::providers::MessageBody;
use crate::providers::message::TextBody;
use crate::store::phone_numbers::PhoneNumberRow;
use crate::store::{accounts, opt_outs};

/// A reply answers the inbound message just applied, and is only sent when that message was
/// written inside the window, so the look-up would find what the caller already knows.
const ANSWERS_THIS_MESSAGE: Waiver = Waiver {
    rule: Rule::ServiceWindow,
    why: "a reply answers the inbound message just applied, sent only when that message opened the window",
};

/// The acknowledgement goes to a number that has just opted out, once, to say so.
const ACKNOWLEDGES_OPT_OUT: Waiver =
    Waiver { rule: Rule::OptOut, why: "the acknowledgement tells a contact who just opted out, once, that it worked" };

/// Keywords that always opt a contact out.
const OPT_OUT: [&str; 2] = ["STOP", "UNSUBSCRIBE"];

/// The acknowledgement of an opt-out.
pub const OPT_OUT_ACK: &str = "You have been unsubscribed and will not receive further messages from us.";

/// Whether a text is an opt-out keyword for these settings.
pub fn is_opt_out(bot: &BotSettings, text: &str) -> bool {
    let word = text.trim().to_uppercase();
    OPT_OUT.contains(&word.as_str()) || bot.opt_out_keywords.iter().any(|k| k.trim().to_uppercase() == word)
}

/// Whether `now` (UTC) falls inside the configured business hours; always true when none are set.
pub fn within_hours(bot: &BotSettings, now: chrono::DateTime<chrono::Utc>) -> bool {
    let (Some(start), Some(end), Some(tz)) = (&bot.business_hours_start, &bot.business_hours_end, &bot.timezone) else {
        return true;
    };
    let (Ok(start), Ok(end), Ok(tz)) = (
        NaiveTime::parse_from_str(start, "%H:%M"),
        NaiveTime::parse_from_str(end, "%H:%M"),
        tz.parse::<chrono_tz::Tz>(),
    ) else {
        return true;
    };
    let local = now.with_timezone(&tz).time();
    let local = NaiveTime::from_hms_opt(local.hour(), local.minute(), 0).unwrap_or(local);
    if start <= end { local >= start && local < end } else { local >= start || local < end }
}

/// The automatic reply to a (non-opt-out) inbound message, if any.
pub fn reply(bot: &BotSettings, first_contact: bool, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    if !bot.enable_auto_reply {
        return None;
    }
    if !within_hours(bot, now)
        && let Some(m) = &bot.out_of_hours_message
    {
        return Some(m.clone());
    }
    if first_contact && let Some(m) = &bot.greeting_message {
        return Some(m.clone());
    }
    bot.fallback_message.clone()
}

/// Handles opt-out keywords and the account's automatic replies for one inbound message from
/// `sender` to `phone`; `window_open`: the message was written inside the service window (a
/// message delivered after its window closed gets no reply).
pub fn answer(
    conn: &mut DbConn,
    t: &Target,
    phone: &PhoneNumberRow,
    sender: &str,
    m: &Value,
    first_contact: bool,
    window_open: bool,
) -> Result<(), Failure> {
    let account = accounts::by_id(conn, t.account)?.ok_or_else(|| Failure("the account is gone".into()))?;
    let bot: BotSettings = serde_json::from_str(&account.bot_settings).unwrap_or_default();
    let body = m.pointer("/text/body").or_else(|| m.pointer("/button/text")).and_then(Value::as_str);
    let (reply, waivers) = match body {
        Some(text) if is_opt_out(&bot, text) => {
            let added = opt_outs::add(conn, TenantId(t.tenant), sender, "keyword", Some(text.trim()))?;
            (added.then(|| OPT_OUT_ACK.to_string()), [ANSWERS_THIS_MESSAGE, ACKNOWLEDGES_OPT_OUT].as_slice())
        }
        _ => (reply(&bot, first_contact, chrono::Utc::now()), [ANSWERS_THIS_MESSAGE].as_slice()),
    };
    let Some(text) = reply.filter(|_| window_open) else { return Ok(()) };
    let body = MessageBody::Text(TextBody { body: text, preview_url: false });
    let candidate = Candidate::of(sender, &body).map_err(|e| Failure(format!("the reply: {e}")))?;
    let origin = Origin { account, phone: phone.clone() };
    if let Some(Verdict::Refused(why)) = admission::admit(conn, &origin, vec![candidate], waivers)?.pop() {
        tracing::info!(account = t.account, reason = why.code(), "automatic reply not sent: {why}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn bot() -> BotSettings {
        BotSettings {
            enable_auto_reply: true,
            greeting_message: Some("Hello!".into()),
            fallback_message: Some("We will get back to you.".into()),
            out_of_hours_message: Some("We are closed.".into()),
            business_hours_start: Some("09:00".into()),
            business_hours_end: Some("18:00".into()),
            timezone: Some("Asia/Kolkata".into()),
            opt_out_keywords: vec!["band karo".into()],
            ..Default::default()
        }
    }

    #[test]
    fn opt_out_keywords_match_whole_words_in_any_case() {
        assert!(is_opt_out(&bot(), " stop "));
        assert!(is_opt_out(&bot(), "Unsubscribe"));
        assert!(is_opt_out(&bot(), "BAND KARO"));
        assert!(!is_opt_out(&bot(), "please stop sending"));
    }

    #[test]
    fn replies_follow_hours_and_first_contact() {
        let open = chrono::Utc.with_ymd_and_hms(2026, 11, 23, 6, 0, 0).unwrap(); // 11:30 in Kolkata
        let closed = chrono::Utc.with_ymd_and_hms(2026, 11, 23, 14, 0, 0).unwrap(); // 19:30 in Kolkata
        assert_eq!(reply(&bot(), true, open).as_deref(), Some("Hello!"));
        assert_eq!(reply(&bot(), false, open).as_deref(), Some("We will get back to you."));
        assert_eq!(reply(&bot(), true, closed).as_deref(), Some("We are closed."));
        let off = BotSettings { enable_auto_reply: false, ..bot() };
        assert_eq!(reply(&off, true, open), None);
    }

    #[test]
    fn overnight_hours_wrap_around_midnight() {
        let night = BotSettings {
            business_hours_start: Some("22:00".into()),
            business_hours_end: Some("06:00".into()),
            ..bot()
        };
        let at = |h| chrono::Utc.with_ymd_and_hms(2026, 11, 23, h, 0, 0).unwrap();
        assert!(within_hours(&night, at(17))); // 22:30 local
        assert!(!within_hours(&night, at(6))); // 11:30 local
    }
}
