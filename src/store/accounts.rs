//! WABA accounts. Secret columns hold Fernet tokens; this module never sees plaintext.

use diesel::prelude::*;

use crate::crypto::Vault;
use crate::db::schema::accounts;
use crate::db::{DbConn, now, write_tx};
use crate::domain::TenantId;
use crate::pagination::Page;

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    pub provider: String,
    pub status: String,
    pub setup_step: i32,
    pub waba_id: Option<String>,
    pub meta_business_account_id: Option<String>,
    pub app_id: Option<String>,
    pub app_secret_enc: Option<String>,
    pub access_token_enc: Option<String>,
    pub access_token_hint: Option<String>,
    pub verify_token_enc: Option<String>,
    pub tata_auth_token_enc: Option<String>,
    pub tata_base_url: Option<String>,
    pub webhook_key: String,
    pub business_profile: String,
    pub bot_settings: String,
    pub subscribed_events: String,
    pub limit_per_second: Option<f64>,
    pub limit_per_minute: Option<i64>,
    pub limit_per_day: Option<i64>,
    pub limit_per_month: Option<i64>,
    pub health_status: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// A new account's columns.
#[derive(Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount {
    pub tenant_id: i64,
    pub name: String,
    pub provider: String,
    pub status: String,
    pub setup_step: i32,
    pub webhook_key: String,
    pub business_profile: String,
    pub bot_settings: String,
    pub subscribed_events: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// Columns to change; `None` leaves a column as it is.
#[derive(Default, AsChangeset)]
#[diesel(table_name = accounts)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub status: Option<String>,
    pub setup_step: Option<i32>,
    pub waba_id: Option<String>,
    pub meta_business_account_id: Option<String>,
    pub app_id: Option<String>,
    pub app_secret_enc: Option<String>,
    pub access_token_enc: Option<String>,
    pub access_token_hint: Option<String>,
    pub verify_token_enc: Option<String>,
    pub tata_auth_token_enc: Option<String>,
    pub tata_base_url: Option<String>,
    pub business_profile: Option<String>,
    pub bot_settings: Option<String>,
    pub subscribed_events: Option<String>,
    pub limit_per_second: Option<f64>,
    pub limit_per_minute: Option<i64>,
    pub limit_per_day: Option<i64>,
    pub limit_per_month: Option<i64>,
    pub health_status: Option<String>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, new: NewAccount) -> QueryResult<Account> {
    diesel::insert_into(accounts::table).values(new).returning(accounts::all_columns).get_result(conn)
}

pub fn get(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<Account>> {
    accounts::table
        .filter(accounts::tenant_id.eq(tenant.0).and(accounts::id.eq(id)))
        .select(Account::as_select())
        .first(conn)
        .optional()
}

pub fn count(conn: &mut DbConn, tenant: TenantId) -> QueryResult<i64> {
    accounts::table.filter(accounts::tenant_id.eq(tenant.0)).count().get_result(conn)
}

/// Filters of the account list.
#[derive(Default)]
pub struct ListFilter {
    pub provider: Option<String>,
    pub status: Option<String>,
}

pub fn list(conn: &mut DbConn, tenant: TenantId, filter: &ListFilter, page: Page) -> QueryResult<Vec<Account>> {
    let mut q = accounts::table
        .filter(accounts::tenant_id.eq(tenant.0))
        .select(Account::as_select())
        .order(accounts::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(accounts::id.lt(before));
    }
    if let Some(p) = &filter.provider {
        q = q.filter(accounts::provider.eq(p.clone()));
    }
    if let Some(s) = &filter.status {
        q = q.filter(accounts::status.eq(s.clone()));
    }
    q.load(conn)
}

/// Applies changes and returns the updated row; `None` when the tenant has no such account.
pub fn update(
    conn: &mut DbConn,
    tenant: TenantId,
    id: i64,
    mut changes: AccountChanges,
) -> QueryResult<Option<Account>> {
    changes.updated_at = Some(now());
    let target = accounts::table.filter(accounts::tenant_id.eq(tenant.0).and(accounts::id.eq(id)));
    if diesel::update(target).set(&changes).execute(conn)? == 0 {
        return Ok(None);
    }
    get(conn, tenant, id)
}

pub fn delete(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<bool> {
    diesel::delete(accounts::table.filter(accounts::tenant_id.eq(tenant.0).and(accounts::id.eq(id))))
        .execute(conn)
        .map(|n| n > 0)
}

/// Re-encrypts every stored account secret under the vault's newest key; returns how many changed.
pub fn rotate_secrets(conn: &mut DbConn, vault: &Vault) -> anyhow::Result<usize> {
    type Secrets = (i64, Option<String>, Option<String>, Option<String>, Option<String>);
    write_tx(conn, |c| {
        let rows: Vec<Secrets> = accounts::table
            .select((
                accounts::id,
                accounts::app_secret_enc,
                accounts::access_token_enc,
                accounts::verify_token_enc,
                accounts::tata_auth_token_enc,
            ))
            .load(c)?;
        let mut changed = 0;
        for (id, app_secret, access_token, verify_token, tata) in rows {
            let mut rotate = |v: Option<String>| -> anyhow::Result<Option<String>> {
                let Some(token) = v else { return Ok(None) };
                let new = vault.rotate(&token).map_err(|e| anyhow::anyhow!("account {id}: {e}"))?;
                changed += usize::from(new.is_some());
                Ok(new)
            };
            let changes = AccountChanges {
                app_secret_enc: rotate(app_secret)?,
                access_token_enc: rotate(access_token)?,
                verify_token_enc: rotate(verify_token)?,
                tata_auth_token_enc: rotate(tata)?,
                updated_at: Some(now()),
                ..Default::default()
            };
            if changes.app_secret_enc.is_some()
                || changes.access_token_enc.is_some()
                || changes.verify_token_enc.is_some()
                || changes.tata_auth_token_enc.is_some()
            {
                diesel::update(accounts::table.find(id)).set(&changes).execute(c)?;
            }
        }
        Ok(changed)
    })
}

/// An account by id alone, for background workers acting on the system's behalf.
/// Handlers must use `get`, which is scoped to the caller's tenant.
pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<Account>> {
    accounts::table.find(id).select(Account::as_select()).first(conn).optional()
}

/// Every active account, for background jobs acting on the system's behalf.
pub fn all_active(conn: &mut DbConn) -> QueryResult<Vec<Account>> {
    accounts::table
        .filter(accounts::status.eq("active"))
        .order(accounts::id.asc())
        .select(Account::as_select())
        .load(conn)
}

/// The account a webhook URL names, in any tenant (webhook keys are unique).
pub fn by_webhook_key(conn: &mut DbConn, key: &str) -> QueryResult<Option<Account>> {
    accounts::table.filter(accounts::webhook_key.eq(key)).select(Account::as_select()).first(conn).optional()
}

/// Accounts holding a WABA id, in any tenant (a platform webhook names the WABA).
pub fn by_waba_id(conn: &mut DbConn, waba_id: &str) -> QueryResult<Vec<Account>> {
    accounts::table.filter(accounts::waba_id.eq(waba_id)).select(Account::as_select()).load(conn)
}

/// Suspends an account (the provider disabled or deleted it).
pub fn suspend(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::update(accounts::table.find(id))
        .set((accounts::status.eq("suspended"), accounts::updated_at.eq(now())))
        .execute(conn)
        .map(|_| ())
}
