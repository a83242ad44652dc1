//! What the account answers to an inbound message: opt-out keywords (the contact joins the
//! tenant's opt-out list and is told once), then, with auto-reply on, a greeting on a contact's
//! first message, an out-of-hours reply outside business hours, or the fallback message.

use chrono::{NaiveTime, Timelike};

use crate::domain::account::BotSettings;

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
