//! Conversations: the contacts a tenant exchanged messages with, newest activity first.

use std::collections::HashSet;

use diesel::dsl::max;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::messages;
use crate::domain::TenantId;
use crate::pagination::Page;

/// (contact, id of the latest message with them), newest first; `Page::before` is a message id.
pub fn contacts(
    conn: &mut DbConn,
    tenant: TenantId,
    account: Option<i64>,
    page: Page,
) -> QueryResult<Vec<(String, i64)>> {
    let mut q = messages::table
        .filter(messages::tenant_id.eq(tenant.0))
        .group_by(messages::recipient)
        .select((messages::recipient, max(messages::id)))
        .order(max(messages::id).desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(a) = account {
        q = q.filter(messages::account_id.eq(a));
    }
    if let Some(before) = page.before {
        q = q.having(max(messages::id).lt(before));
    }
    let rows: Vec<(String, Option<i64>)> = q.load(conn)?;
    Ok(rows.into_iter().filter_map(|(r, id)| id.map(|id| (r, id))).collect())
}

/// When each of these contacts last wrote to the tenant (or one of its accounts): the provider's
/// timestamp of their latest inbound message.
pub fn last_inbound(
    conn: &mut DbConn,
    tenant: TenantId,
    account: Option<i64>,
    contacts: &[String],
) -> QueryResult<Vec<(String, chrono::NaiveDateTime)>> {
    let mut q = messages::table
        .filter(
            messages::tenant_id
                .eq(tenant.0)
                .and(messages::direction.eq("inbound"))
                .and(messages::recipient.eq_any(contacts)),
        )
        .group_by(messages::recipient)
        .select((messages::recipient, max(messages::sent_at)))
        .into_boxed();
    if let Some(a) = account {
        q = q.filter(messages::account_id.eq(a));
    }
    let rows: Vec<(String, Option<chrono::NaiveDateTime>)> = q.load(conn)?;
    Ok(rows.into_iter().filter_map(|(r, t)| t.map(|t| (r, t))).collect())
}

/// The customer-service window: free-form (non-template) messages may be sent to a contact this
/// long after they last wrote to the account.
pub const SERVICE_WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// Which of these contacts (E.164) wrote to the account within [`SERVICE_WINDOW`] before `at`
/// (one query).
pub fn open_windows(
    conn: &mut DbConn,
    account: i64,
    contacts: &[&str],
    at: chrono::NaiveDateTime,
) -> QueryResult<HashSet<String>> {
    if contacts.is_empty() {
        return Ok(HashSet::new());
    }
    let since = at - SERVICE_WINDOW;
    let open: Vec<String> = messages::table
        .filter(messages::account_id.eq(account).and(messages::recipient.eq_any(contacts)))
        .filter(messages::direction.eq("inbound").and(messages::sent_at.gt(since)))
        .select(messages::recipient)
        .distinct()
        .load(conn)?;
    Ok(open.into_iter().collect())
}
