//! Phone numbers of an account. A provider phone-number id belongs to one tenant only.

use diesel::prelude::*;

use crate::db::schema::phone_numbers;
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::pagination::Page;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = phone_numbers)]
pub struct PhoneNumberRow {
    pub id: i64,
    pub tenant_id: i64,
    pub account_id: i64,
    pub phone_number: String,
    pub provider_phone_number_id: Option<String>,
    pub display_phone_number: String,
    pub verified_name: Option<String>,
    pub quality_rating: String,
    pub messaging_limit_tier: Option<String>,
    pub throughput_mps: f64,
    pub status: String,
    pub is_default: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = phone_numbers)]
pub struct NewPhoneNumber {
    pub tenant_id: i64,
    pub account_id: i64,
    pub phone_number: String,
    pub provider_phone_number_id: Option<String>,
    pub display_phone_number: String,
    pub verified_name: Option<String>,
    pub quality_rating: String,
    pub messaging_limit_tier: Option<String>,
    pub throughput_mps: f64,
    pub status: String,
    pub is_default: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// Columns to change; `None` leaves a column as it is.
#[derive(Default, AsChangeset)]
#[diesel(table_name = phone_numbers)]
pub struct PhoneNumberChanges {
    pub phone_number: Option<String>,
    pub provider_phone_number_id: Option<String>,
    pub display_phone_number: Option<String>,
    pub verified_name: Option<String>,
    pub quality_rating: Option<String>,
    pub messaging_limit_tier: Option<String>,
    pub throughput_mps: Option<f64>,
    pub status: Option<String>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

/// Inserts a number; the account's first number becomes its default. Call in a write transaction.
pub fn insert(conn: &mut DbConn, mut new: NewPhoneNumber) -> QueryResult<PhoneNumberRow> {
    let existing: i64 =
        phone_numbers::table.filter(phone_numbers::account_id.eq(new.account_id)).count().get_result(conn)?;
    if existing == 0 {
        new.is_default = true;
    } else if new.is_default {
        clear_default(conn, new.account_id)?;
    }
    diesel::insert_into(phone_numbers::table).values(new).returning(phone_numbers::all_columns).get_result(conn)
}

fn clear_default(conn: &mut DbConn, account_id: i64) -> QueryResult<usize> {
    diesel::update(
        phone_numbers::table.filter(phone_numbers::account_id.eq(account_id).and(phone_numbers::is_default.eq(true))),
    )
    .set(phone_numbers::is_default.eq(false))
    .execute(conn)
}

pub fn get(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<PhoneNumberRow>> {
    phone_numbers::table
        .filter(phone_numbers::tenant_id.eq(tenant.0).and(phone_numbers::id.eq(id)))
        .select(PhoneNumberRow::as_select())
        .first(conn)
        .optional()
}

/// The account's default number, if any.
pub fn default_for(conn: &mut DbConn, tenant: TenantId, account_id: i64) -> QueryResult<Option<PhoneNumberRow>> {
    phone_numbers::table
        .filter(
            phone_numbers::tenant_id
                .eq(tenant.0)
                .and(phone_numbers::account_id.eq(account_id))
                .and(phone_numbers::is_default.eq(true)),
        )
        .select(PhoneNumberRow::as_select())
        .first(conn)
        .optional()
}

/// The tenant's numbers, optionally of one account, newest first.
pub fn list(
    conn: &mut DbConn,
    tenant: TenantId,
    account_id: Option<i64>,
    page: Page,
) -> QueryResult<Vec<PhoneNumberRow>> {
    let mut q = phone_numbers::table
        .filter(phone_numbers::tenant_id.eq(tenant.0))
        .select(PhoneNumberRow::as_select())
        .order(phone_numbers::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(phone_numbers::id.lt(before));
    }
    if let Some(a) = account_id {
        q = q.filter(phone_numbers::account_id.eq(a));
    }
    q.load(conn)
}

pub fn update(
    conn: &mut DbConn,
    tenant: TenantId,
    id: i64,
    mut changes: PhoneNumberChanges,
) -> QueryResult<Option<PhoneNumberRow>> {
    changes.updated_at = Some(now());
    let target = phone_numbers::table.filter(phone_numbers::tenant_id.eq(tenant.0).and(phone_numbers::id.eq(id)));
    if diesel::update(target).set(&changes).execute(conn)? == 0 {
        return Ok(None);
    }
    get(conn, tenant, id)
}

/// Makes a number its account's default. Call in a write transaction.
pub fn make_default(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<PhoneNumberRow>> {
    let Some(row) = get(conn, tenant, id)? else {
        return Ok(None);
    };
    clear_default(conn, row.account_id)?;
    diesel::update(phone_numbers::table.find(id))
        .set((phone_numbers::is_default.eq(true), phone_numbers::updated_at.eq(now())))
        .execute(conn)?;
    get(conn, tenant, id)
}

/// Deletes a number; when it was the default, the oldest remaining number takes over.
/// Call in a write transaction.
pub fn delete(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<bool> {
    let Some(row) = get(conn, tenant, id)? else {
        return Ok(false);
    };
    diesel::delete(phone_numbers::table.find(id)).execute(conn)?;
    if row.is_default {
        let next: Option<i64> = phone_numbers::table
            .filter(phone_numbers::account_id.eq(row.account_id))
            .select(phone_numbers::id)
            .order(phone_numbers::id.asc())
            .first(conn)
            .optional()?;
        if let Some(next) = next {
            diesel::update(phone_numbers::table.find(next)).set(phone_numbers::is_default.eq(true)).execute(conn)?;
        }
    }
    Ok(true)
}

/// What the dispatcher needs about a number: its account, throughput and the account's limits.
#[derive(Clone, Debug)]
pub struct DispatchInfo {
    pub account_id: i64,
    pub throughput_mps: f64,
    pub limit_per_minute: Option<i64>,
    pub limit_per_day: Option<i64>,
    pub limit_per_month: Option<i64>,
}

/// Dispatch settings of a number (system use: the outbox worker).
pub fn dispatch_info(conn: &mut DbConn, id: i64) -> QueryResult<Option<DispatchInfo>> {
    use crate::db::schema::accounts;
    type Row = (i64, f64, Option<f64>, Option<i64>, Option<i64>, Option<i64>);
    let row: Option<Row> = phone_numbers::table
        .inner_join(accounts::table)
        .filter(phone_numbers::id.eq(id))
        .select((
            phone_numbers::account_id,
            phone_numbers::throughput_mps,
            accounts::limit_per_second,
            accounts::limit_per_minute,
            accounts::limit_per_day,
            accounts::limit_per_month,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(account_id, mps, account_mps, minute, day, month)| DispatchInfo {
        account_id,
        throughput_mps: account_mps.map_or(mps, |a| a.min(mps)),
        limit_per_minute: minute,
        limit_per_day: day,
        limit_per_month: month,
    }))
}

/// Whether any tenant already holds this provider phone-number id.
pub fn provider_id_taken(conn: &mut DbConn, provider_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        phone_numbers::table.filter(phone_numbers::provider_phone_number_id.eq(provider_id)),
    ))
    .get_result(conn)
}

/// A number by id alone, for background workers acting on the system's behalf.
pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<PhoneNumberRow>> {
    phone_numbers::table.find(id).select(PhoneNumberRow::as_select()).first(conn).optional()
}

/// The number with this provider id, in any tenant (provider ids are unique across tenants).
pub fn by_provider_id(conn: &mut DbConn, provider_id: &str) -> QueryResult<Option<PhoneNumberRow>> {
    phone_numbers::table
        .filter(phone_numbers::provider_phone_number_id.eq(provider_id))
        .select(PhoneNumberRow::as_select())
        .first(conn)
        .optional()
}

/// Every number of an account, for background workers acting on the system's behalf.
pub fn of_account(conn: &mut DbConn, account: i64) -> QueryResult<Vec<PhoneNumberRow>> {
    phone_numbers::table
        .filter(phone_numbers::account_id.eq(account))
        .order(phone_numbers::id.asc())
        .select(PhoneNumberRow::as_select())
        .load(conn)
}
