//! Daily usage rollups per account: sends, deliveries, reads, failures and inbound messages.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date};

use crate::db::DbConn;
use crate::db::schema::usage_daily;
use crate::domain::TenantId;

/// Counts to add to (or read from) one account's day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
    pub inbound: i64,
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = usage_daily)]
pub struct UsageDay {
    pub id: i64,
    pub tenant_id: i64,
    pub account_id: i64,
    pub day: chrono::NaiveDate,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
    pub inbound: i64,
}

/// Adds counts to an account's day (an upsert; the same SQL on both backends).
pub fn add(conn: &mut DbConn, tenant: i64, account: i64, day: chrono::NaiveDate, c: Counts) -> QueryResult<()> {
    let sql = "INSERT INTO usage_daily (tenant_id, account_id, day, sent, delivered, read, failed, inbound) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account_id, day) DO UPDATE SET \
               sent = usage_daily.sent + excluded.sent, delivered = usage_daily.delivered + excluded.delivered, \
               read = usage_daily.read + excluded.read, failed = usage_daily.failed + excluded.failed, \
               inbound = usage_daily.inbound + excluded.inbound";
    let sql = if matches!(conn, DbConn::Sqlite(_)) { sql.replace('$', "?") } else { sql.to_string() };
    diesel::sql_query(sql)
        .bind::<BigInt, _>(tenant)
        .bind::<BigInt, _>(account)
        .bind::<Date, _>(day)
        .bind::<BigInt, _>(c.sent)
        .bind::<BigInt, _>(c.delivered)
        .bind::<BigInt, _>(c.read)
        .bind::<BigInt, _>(c.failed)
        .bind::<BigInt, _>(c.inbound)
        .execute(conn)
        .map(|_| ())
}

/// One account's days in `[from, to]`, oldest first.
pub fn range(
    conn: &mut DbConn,
    tenant: TenantId,
    account: i64,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> QueryResult<Vec<UsageDay>> {
    usage_daily::table
        .filter(usage_daily::tenant_id.eq(tenant.0).and(usage_daily::account_id.eq(account)))
        .filter(usage_daily::day.ge(from).and(usage_daily::day.le(to)))
        .order(usage_daily::day.asc())
        .select(UsageDay::as_select())
        .load(conn)
}

/// Messages sent by an account since `from` (inclusive), for the daily and monthly limits.
pub fn sent_since(conn: &mut DbConn, account: i64, from: chrono::NaiveDate) -> QueryResult<i64> {
    let days: Vec<i64> = usage_daily::table
        .filter(usage_daily::account_id.eq(account).and(usage_daily::day.ge(from)))
        .select(usage_daily::sent)
        .load(conn)?;
    Ok(days.into_iter().sum())
}
