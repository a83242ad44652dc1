//! The transition table: (current state, event) → (new state, history appended, counters).

use super::*;
use MessageStatus as S;

fn at(secs: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap().naive_utc()
}

fn cur(status: S) -> Current {
    Current { status: Some(status), ..Default::default() }
}

/// A message the provider accepted at 0 and reported as `status`, with the usual timestamps.
fn accepted_as(status: S) -> Current {
    let mut c = Current { status: Some(status), sent_at: Some(at(0)), at_provider: true, ..Default::default() };
    if matches!(status, S::Delivered | S::Read) {
        c.delivered_at = Some(at(10));
    }
    if status == S::Read {
        c.read_at = Some(at(20));
    }
    c
}

fn counts(sent: i64, delivered: i64, read: i64, failed: i64) -> Counts {
    Counts { sent, delivered, read, failed }
}

/// (current, event) → (new status or None when it stays, history, counters).
type Row = (Current, Event, Option<S>, Vec<&'static str>, Counts);

#[test]
fn every_change_of_status_follows_the_table() {
    let now = at(5);
    let rep = |r, s| Event::Reported(r, at(s));
    let table: Vec<Row> = vec![
        // The outbox.
        (cur(S::Queued), Event::Claim, Some(S::Sending), vec![], counts(0, 0, 0, 0)),
        (cur(S::Sending), Event::Claim, None, vec![], counts(0, 0, 0, 0)),
        (cur(S::Sending), Event::Accepted, Some(S::Sent), vec!["sent"], counts(1, 0, 0, 0)),
        (cur(S::Sending), Event::Retry, Some(S::Queued), vec!["retry_scheduled"], counts(0, 0, 0, 0)),
        (cur(S::Sending), Event::Refused, Some(S::Failed), vec!["failed"], counts(0, 0, 0, 1)),
        (cur(S::Sending), Event::InDoubt, Some(S::Unknown), vec!["unknown"], counts(0, 0, 0, 0)),
        (cur(S::Unknown), Event::Accepted, Some(S::Sent), vec!["sent"], counts(1, 0, 0, 0)),
        // The outbox's outcomes never overwrite a report that came first.
        (accepted_as(S::Delivered), Event::InDoubt, None, vec![], counts(0, 0, 0, 0)),
        (accepted_as(S::Delivered), Event::Retry, None, vec![], counts(0, 0, 0, 0)),
        (accepted_as(S::Delivered), Event::Refused, None, vec![], counts(0, 0, 0, 0)),
        (accepted_as(S::Delivered), Event::Accepted, None, vec![], counts(0, 0, 0, 0)),
        (accepted_as(S::Sent), Event::Accepted, None, vec![], counts(0, 0, 0, 0)),
        // Provider reports: forward only, implied states filled in, counted once.
        (cur(S::Sending), rep(Reported::Sent, 1), Some(S::Sent), vec!["sent"], counts(1, 0, 0, 0)),
        (
            cur(S::Sending),
            rep(Reported::Delivered, 1),
            Some(S::Delivered),
            vec!["sent", "delivered"],
            counts(1, 1, 0, 0),
        ),
        (cur(S::Unknown), rep(Reported::Read, 1), Some(S::Read), vec!["sent", "delivered", "read"], counts(1, 1, 1, 0)),
        (
            cur(S::Unconfirmed),
            rep(Reported::Delivered, 1),
            Some(S::Delivered),
            vec!["sent", "delivered"],
            counts(1, 1, 0, 0),
        ),
        (accepted_as(S::Sent), rep(Reported::Sent, 1), None, vec![], counts(0, 0, 0, 0)),
        (accepted_as(S::Sent), rep(Reported::Read, 30), Some(S::Read), vec!["delivered", "read"], counts(0, 1, 1, 0)),
        (accepted_as(S::Read), rep(Reported::Delivered, 10), None, vec![], counts(0, 0, 0, 0)),
        (accepted_as(S::Delivered), rep(Reported::Delivered, 10), None, vec![], counts(0, 0, 0, 0)),
        // `failed` from the provider: the later timestamp wins; a tie goes to `failed`.
        (accepted_as(S::Sent), rep(Reported::Failed, 1), Some(S::Failed), vec!["failed"], counts(0, 0, 0, 1)),
        (accepted_as(S::Delivered), rep(Reported::Failed, 30), Some(S::Failed), vec!["failed"], counts(0, -1, 0, 1)),
        (accepted_as(S::Delivered), rep(Reported::Failed, 10), Some(S::Failed), vec!["failed"], counts(0, -1, 0, 1)),
        (accepted_as(S::Delivered), rep(Reported::Failed, 9), None, vec![], counts(0, 0, 0, 0)),
        (accepted_as(S::Read), rep(Reported::Failed, 30), Some(S::Failed), vec!["failed"], counts(0, -1, -1, 1)),
        (cur(S::Sending), rep(Reported::Failed, 1), Some(S::Failed), vec!["failed"], counts(1, 0, 0, 1)),
        (
            Current { failed_at: Some(at(30)), ..accepted_as(S::Failed) },
            rep(Reported::Delivered, 10),
            None,
            vec![],
            counts(0, 0, 0, 0),
        ),
        (
            Current { failed_at: Some(at(30)), delivered_at: None, ..accepted_as(S::Failed) },
            rep(Reported::Delivered, 40),
            Some(S::Delivered),
            vec!["delivered"],
            counts(0, 1, 0, -1),
        ),
        (
            Current { failed_at: Some(at(30)), ..accepted_as(S::Failed) },
            rep(Reported::Failed, 31),
            None,
            vec![],
            counts(0, 0, 0, 0),
        ),
        // A failure decided here is final.
        (
            Current { failed_at: Some(at(0)), ..cur(S::Failed) },
            rep(Reported::Delivered, 40),
            None,
            vec![],
            counts(0, 0, 0, 0),
        ),
        (cur(S::Failed), Event::Accepted, None, vec![], counts(0, 0, 0, 0)),
        // In doubt, settling, resending, cancelling.
        (cur(S::Unknown), Event::SettleExpired, Some(S::Unconfirmed), vec!["unconfirmed"], counts(0, 0, 0, 0)),
        (accepted_as(S::Sent), Event::SettleExpired, None, vec![], counts(0, 0, 0, 0)),
        (cur(S::Unconfirmed), Event::Resend, Some(S::Queued), vec!["queued"], counts(0, 0, 0, 0)),
        (cur(S::Unknown), Event::Resend, None, vec![], counts(0, 0, 0, 0)),
        (accepted_as(S::Sent), Event::Resend, None, vec![], counts(0, 0, 0, 0)),
        (cur(S::Queued), Event::Cancel, Some(S::Failed), vec!["failed"], counts(0, 0, 0, 0)),
        (cur(S::Sending), Event::Cancel, None, vec![], counts(0, 0, 0, 0)),
        // Inbound messages have no delivery path.
        (cur(S::Received), rep(Reported::Read, 1), None, vec![], counts(0, 0, 0, 0)),
    ];
    for (i, (current, event, to, history, want)) in table.into_iter().enumerate() {
        let t = transition(&current, event, now);
        assert_eq!(t.to, to, "row {i}: {current:?} + {event:?}");
        assert_eq!(t.history, history, "row {i}: {current:?} + {event:?}");
        assert_eq!(t.counts, want, "row {i}: {current:?} + {event:?}");
    }
}

#[test]
fn success_clears_the_error_and_stamps_what_it_implies() {
    let t = transition(&cur(S::Sending), Event::Accepted, at(5));
    assert_eq!((t.error, t.sent_at), (ErrorChange::Clear, Stamp::Set(at(5))));
    let t = transition(&cur(S::Unknown), Event::Reported(Reported::Read, at(7)), at(9));
    assert_eq!(t.error, ErrorChange::Clear);
    assert_eq!((t.sent_at, t.delivered_at, t.read_at), (Stamp::Set(at(7)), Stamp::Set(at(7)), Stamp::Set(at(7))));
    // The answer after a report: only the missing send time.
    let reported = Current { sent_at: None, ..accepted_as(S::Delivered) };
    let t = transition(&reported, Event::Accepted, at(5));
    assert_eq!((t.to, t.history.len(), t.sent_at), (None, 0, Stamp::Set(at(5))));
}

#[test]
fn a_late_delivered_corrects_the_time_a_read_implied() {
    let implied = Current { delivered_at: Some(at(20)), ..accepted_as(S::Read) };
    let t = transition(&implied, Event::Reported(Reported::Delivered, at(10)), at(30));
    assert_eq!((t.to, t.history.len(), t.delivered_at, t.counts), (None, 0, Stamp::Set(at(10)), Counts::default()));
}

#[test]
fn failed_winning_over_delivered_clears_what_it_undoes() {
    let t = transition(&accepted_as(S::Read), Event::Reported(Reported::Failed, at(30)), at(31));
    assert_eq!((t.delivered_at, t.read_at, t.failed_at), (Stamp::Clear, Stamp::Clear, Stamp::Set(at(30))));
    assert_eq!(t.error, ErrorChange::Set);
}

#[test]
fn statuses_round_trip_through_their_spelling() {
    for s in MessageStatus::ALL {
        assert_eq!(MessageStatus::parse(s.as_str()), Some(s));
    }
    assert_eq!(MessageStatus::parse("sending "), None);
    assert_eq!(Reported::parse("played"), Some(Reported::Read));
}
