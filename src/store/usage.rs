//! Daily usage rollups per account: sends, deliveries, reads, failures, inbound messages and
//! billable messages per pricing category.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

use crate::db::schema::{usage_billable, usage_daily, usage_failures, usage_templates};
use crate::db::{DbConn, portable};
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

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.sent += o.sent;
        self.delivered += o.delivered;
        self.read += o.read;
        self.failed += o.failed;
        self.inbound += o.inbound;
    }
}

/// An account's day: tenant, account, day.
type Day = (i64, i64, chrono::NaiveDate);

/// Rollup increments gathered over a batch of changes and written at its end, in the batch's
/// transaction: one upsert per row touched instead of one per change, in key order (so two
/// batches never wait on each other's rows in opposite orders).
#[derive(Debug, Default)]
pub struct Tally {
    days: BTreeMap<Day, Counts>,
    templates: BTreeMap<(Day, String), Counts>,
    failures: BTreeMap<(Day, String), i64>,
    billable: BTreeMap<(Day, String), i64>,
}

impl Tally {
    /// Counts for an account's day.
    pub fn add(&mut self, tenant: i64, account: i64, day: chrono::NaiveDate, c: Counts) {
        *self.days.entry((tenant, account, day)).or_default() += c;
    }

    /// Counts for a template's day (sent, delivered, read, failed; `inbound` is ignored).
    pub fn add_template(&mut self, tenant: i64, account: i64, day: chrono::NaiveDate, name: &str, c: Counts) {
        *self.templates.entry(((tenant, account, day), name.to_string())).or_default() += c;
    }

    /// `n` failures with a code (the provider's, or our error name) on an account's day.
    pub fn add_failure(&mut self, tenant: i64, account: i64, day: chrono::NaiveDate, code: &str, n: i64) {
        *self.failures.entry(((tenant, account, day), code.to_string())).or_default() += n;
    }

    /// One billable message of a pricing category on an account's day.
    pub fn add_billable(&mut self, tenant: i64, account: i64, day: chrono::NaiveDate, category: &str) {
        *self.billable.entry(((tenant, account, day), category.to_string())).or_default() += 1;
    }

    /// Takes over another tally's counts (a change that applied cleanly, say).
    pub fn merge(&mut self, other: Tally) {
        for (k, c) in other.days {
            *self.days.entry(k).or_default() += c;
        }
        for (k, c) in other.templates {
            *self.templates.entry(k).or_default() += c;
        }
        for (k, n) in other.failures {
            *self.failures.entry(k).or_default() += n;
        }
        for (k, n) in other.billable {
            *self.billable.entry(k).or_default() += n;
        }
    }

    /// Adds every count to its rollup row. Call in the transaction of the changes counted.
    pub fn write(self, conn: &mut DbConn) -> QueryResult<()> {
        for ((tenant, account, day), c) in self.days {
            add(conn, tenant, account, day, c)?;
        }
        for (((tenant, account, day), name), c) in self.templates {
            add_template(conn, tenant, account, day, &name, c)?;
        }
        for (((tenant, account, day), code), n) in self.failures {
            add_failure(conn, tenant, account, day, &code, n)?;
        }
        for (((tenant, account, day), category), n) in self.billable {
            add_billable(conn, tenant, account, day, &category, n)?;
        }
        Ok(())
    }
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
fn add(conn: &mut DbConn, tenant: i64, account: i64, day: chrono::NaiveDate, c: Counts) -> QueryResult<()> {
    let sql = "INSERT INTO usage_daily (tenant_id, account_id, day, sent, delivered, read, failed, inbound) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account_id, day) DO UPDATE SET \
               sent = usage_daily.sent + excluded.sent, delivered = usage_daily.delivered + excluded.delivered, \
               read = usage_daily.read + excluded.read, failed = usage_daily.failed + excluded.failed, \
               inbound = usage_daily.inbound + excluded.inbound";
    let sql = portable(conn, sql);
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

/// Counts `n` failures with a code on an account's day.
fn add_failure(
    conn: &mut DbConn,
    tenant: i64,
    account: i64,
    day: chrono::NaiveDate,
    code: &str,
    n: i64,
) -> QueryResult<()> {
    let sql = portable(
        conn,
        "INSERT INTO usage_failures (tenant_id, account_id, day, code, count) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (account_id, day, code) DO UPDATE SET count = usage_failures.count + excluded.count",
    );
    diesel::sql_query(sql)
        .bind::<BigInt, _>(tenant)
        .bind::<BigInt, _>(account)
        .bind::<Date, _>(day)
        .bind::<Text, _>(code)
        .bind::<BigInt, _>(n)
        .execute(conn)
        .map(|_| ())
}

/// Counts `n` billable messages of a pricing category on an account's day.
fn add_billable(
    conn: &mut DbConn,
    tenant: i64,
    account: i64,
    day: chrono::NaiveDate,
    category: &str,
    n: i64,
) -> QueryResult<()> {
    let sql = portable(
        conn,
        "INSERT INTO usage_billable (tenant_id, account_id, day, category, count) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (account_id, day, category) DO UPDATE SET count = usage_billable.count + excluded.count",
    );
    diesel::sql_query(sql)
        .bind::<BigInt, _>(tenant)
        .bind::<BigInt, _>(account)
        .bind::<Date, _>(day)
        .bind::<Text, _>(category)
        .bind::<BigInt, _>(n)
        .execute(conn)
        .map(|_| ())
}

/// Billable messages per pricing category of a tenant (or one of its accounts) in `[from, to]`.
pub fn billable(
    conn: &mut DbConn,
    tenant: TenantId,
    account: Option<i64>,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> QueryResult<BTreeMap<String, i64>> {
    let mut q = usage_billable::table
        .filter(
            usage_billable::tenant_id.eq(tenant.0).and(usage_billable::day.ge(from)).and(usage_billable::day.le(to)),
        )
        .select((usage_billable::category, usage_billable::count))
        .into_boxed();
    if let Some(a) = account {
        q = q.filter(usage_billable::account_id.eq(a));
    }
    let mut totals = BTreeMap::new();
    for (category, n) in q.load::<(String, i64)>(conn)? {
        *totals.entry(category).or_default() += n;
    }
    Ok(totals)
}

/// Adds counts to a template's day.
fn add_template(
    conn: &mut DbConn,
    tenant: i64,
    account: i64,
    day: chrono::NaiveDate,
    name: &str,
    c: Counts,
) -> QueryResult<()> {
    let sql = portable(
        conn,
        "INSERT INTO usage_templates (tenant_id, account_id, day, template_name, sent, delivered, read, failed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account_id, day, template_name) DO UPDATE SET \
         sent = usage_templates.sent + excluded.sent, delivered = usage_templates.delivered + excluded.delivered, \
         read = usage_templates.read + excluded.read, failed = usage_templates.failed + excluded.failed",
    );
    diesel::sql_query(sql)
        .bind::<BigInt, _>(tenant)
        .bind::<BigInt, _>(account)
        .bind::<Date, _>(day)
        .bind::<Text, _>(name)
        .bind::<BigInt, _>(c.sent)
        .bind::<BigInt, _>(c.delivered)
        .bind::<BigInt, _>(c.read)
        .bind::<BigInt, _>(c.failed)
        .execute(conn)
        .map(|_| ())
}

/// Daily rows of a tenant (or one of its accounts) in `[from, to]`.
pub fn days(
    conn: &mut DbConn,
    tenant: TenantId,
    account: Option<i64>,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> QueryResult<Vec<UsageDay>> {
    let mut q = usage_daily::table
        .filter(usage_daily::tenant_id.eq(tenant.0).and(usage_daily::day.ge(from)).and(usage_daily::day.le(to)))
        .select(UsageDay::as_select())
        .into_boxed();
    if let Some(a) = account {
        q = q.filter(usage_daily::account_id.eq(a));
    }
    q.load(conn)
}

/// Failure counts by code in `[from, to]`, most frequent first.
pub fn failures(
    conn: &mut DbConn,
    tenant: TenantId,
    account: Option<i64>,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> QueryResult<Vec<(String, i64)>> {
    let mut q = usage_failures::table
        .filter(
            usage_failures::tenant_id.eq(tenant.0).and(usage_failures::day.ge(from)).and(usage_failures::day.le(to)),
        )
        .select((usage_failures::code, usage_failures::count))
        .into_boxed();
    if let Some(a) = account {
        q = q.filter(usage_failures::account_id.eq(a));
    }
    let mut totals: HashMap<String, i64> = HashMap::new();
    for (code, n) in q.load::<(String, i64)>(conn)? {
        *totals.entry(code).or_default() += n;
    }
    let mut out: Vec<_> = totals.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

/// Sent, delivered, read and failed per template of an account in `[from, to]`, by name.
pub fn templates(
    conn: &mut DbConn,
    tenant: TenantId,
    account: i64,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> QueryResult<Vec<(String, Counts)>> {
    type Row = (String, i64, i64, i64, i64);
    let rows: Vec<Row> = usage_templates::table
        .filter(usage_templates::tenant_id.eq(tenant.0).and(usage_templates::account_id.eq(account)))
        .filter(usage_templates::day.ge(from).and(usage_templates::day.le(to)))
        .select((
            usage_templates::template_name,
            usage_templates::sent,
            usage_templates::delivered,
            usage_templates::read,
            usage_templates::failed,
        ))
        .load(conn)?;
    let mut totals: BTreeMap<String, Counts> = BTreeMap::new();
    for (name, sent, delivered, read, failed) in rows {
        *totals.entry(name).or_default() += Counts { sent, delivered, read, failed, inbound: 0 };
    }
    Ok(totals.into_iter().collect())
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
