//! CTA clicks (tracked links and quick replies), and what the follow-ups they trigger need:
//! the number a lead was last written from.

use diesel::prelude::*;

use crate::db::schema::{accounts, cta_clicks, leads, messages, phone_numbers};
use crate::db::{DbConn, now};
use crate::domain::TenantId;

/// Records one click.
pub fn record(
    conn: &mut DbConn,
    tenant: TenantId,
    lead_id: i64,
    campaign_id: Option<i64>,
    action: &str,
    via: &str,
) -> QueryResult<()> {
    diesel::insert_into(cta_clicks::table)
        .values((
            cta_clicks::tenant_id.eq(tenant.0),
            cta_clicks::lead_id.eq(lead_id),
            cta_clicks::campaign_id.eq(campaign_id),
            cta_clicks::action.eq(action),
            cta_clicks::via.eq(via),
            cta_clicks::created_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The tenant a lead belongs to (for the public tracking link, whose token names only the lead).
pub fn lead_tenant(conn: &mut DbConn, lead_id: i64) -> QueryResult<Option<TenantId>> {
    leads::table.find(lead_id).select(leads::tenant_id).first(conn).optional().map(|t| t.map(TenantId))
}

/// Where to send a follow-up to `phone` from, as (account, phone number): the number of the
/// latest outbound message to it on an active account, else the default number of the tenant's
/// oldest active account.
pub fn sender_for(conn: &mut DbConn, tenant: TenantId, phone: &str) -> QueryResult<Option<(i64, i64)>> {
    let latest = messages::table
        .inner_join(accounts::table)
        .filter(
            messages::tenant_id
                .eq(tenant.0)
                .and(messages::recipient.eq(phone))
                .and(messages::direction.eq("outbound"))
                .and(accounts::status.eq("active")),
        )
        .order(messages::id.desc())
        .select((messages::account_id, messages::phone_number_id))
        .first::<(i64, i64)>(conn)
        .optional()?;
    if latest.is_some() {
        return Ok(latest);
    }
    phone_numbers::table
        .inner_join(accounts::table)
        .filter(
            accounts::tenant_id.eq(tenant.0).and(accounts::status.eq("active")).and(phone_numbers::is_default.eq(true)),
        )
        .order(accounts::id.asc())
        .select((accounts::id, phone_numbers::id))
        .first::<(i64, i64)>(conn)
        .optional()
}

/// Clicks per (campaign, action) since `from`, for the tenant.
pub fn counts_since(
    conn: &mut DbConn,
    tenant: TenantId,
    from: chrono::NaiveDateTime,
) -> QueryResult<Vec<(Option<i64>, String, i64)>> {
    cta_clicks::table
        .filter(cta_clicks::tenant_id.eq(tenant.0).and(cta_clicks::created_at.ge(from)))
        .group_by((cta_clicks::campaign_id, cta_clicks::action))
        .select((cta_clicks::campaign_id, cta_clicks::action, diesel::dsl::count_star()))
        .load(conn)
}

/// Outbound messages of campaigns that reached the provider (sent, delivered or read), per
/// campaign, created since `from`.
pub fn campaign_sent_since(
    conn: &mut DbConn,
    tenant: TenantId,
    from: chrono::NaiveDateTime,
) -> QueryResult<Vec<(Option<i64>, i64)>> {
    messages::table
        .filter(
            messages::tenant_id
                .eq(tenant.0)
                .and(messages::campaign_id.is_not_null())
                .and(messages::direction.eq("outbound"))
                .and(messages::status.eq_any(["sent", "delivered", "read"]))
                .and(messages::created_at.ge(from)),
        )
        .group_by(messages::campaign_id)
        .select((messages::campaign_id, diesel::dsl::count_star()))
        .load(conn)
}
