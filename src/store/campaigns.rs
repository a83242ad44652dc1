//! Campaigns and their recipients (the per-recipient ledger). A recipient's delivery status is
//! its message's, read through `message_id`; the ledger itself only says pending, queued or skipped.

use std::collections::HashSet;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::db::schema::{campaign_recipients, campaigns, messages};
use crate::db::{DbConn, now, portable};
use crate::domain::TenantId;
use crate::pagination::Page;

/// Held messages wait with this due time until their campaign resumes.
pub fn held_until() -> chrono::NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(9000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    pub id: i64,
    pub tenant_id: i64,
    pub account_id: i64,
    pub phone_number_id: i64,
    pub name: String,
    pub template_name: String,
    pub template_language: String,
    pub definition: String,
    pub definition_hash: String,
    pub rate_mps: f64,
    pub status: String,
    pub halt_reason: Option<String>,
    pub halt_detail: Option<String>,
    pub exclusions: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub started_at: Option<chrono::NaiveDateTime>,
    pub finished_at: Option<chrono::NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = campaigns)]
pub struct NewCampaign {
    pub tenant_id: i64,
    pub account_id: i64,
    pub phone_number_id: i64,
    pub name: String,
    pub template_name: String,
    pub template_language: String,
    pub definition: String,
    pub definition_hash: String,
    pub rate_mps: f64,
    pub status: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = campaign_recipients)]
pub struct RecipientRow {
    pub id: i64,
    pub campaign_id: i64,
    pub tenant_id: i64,
    pub phone: String,
    pub lead_id: Option<i64>,
    pub project_id: Option<i64>,
    pub call_status: Option<String>,
    pub payload: String,
    pub status: String,
    pub skip_reason: Option<String>,
    pub message_id: Option<i64>,
    pub created_at: chrono::NaiveDateTime,
    pub queued_at: Option<chrono::NaiveDateTime>,
}

/// A recipient to store at start.
#[derive(Clone, Debug)]
pub struct NewRecipient {
    pub phone: String,
    pub lead_id: Option<i64>,
    pub project_id: Option<i64>,
    pub call_status: Option<&'static str>,
    pub payload: String,
    pub skip_reason: Option<&'static str>,
}

pub fn insert(conn: &mut DbConn, new: NewCampaign) -> QueryResult<CampaignRow> {
    diesel::insert_into(campaigns::table).values(new).returning(campaigns::all_columns).get_result(conn)
}

pub fn get(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<CampaignRow>> {
    campaigns::table
        .filter(campaigns::tenant_id.eq(tenant.0).and(campaigns::id.eq(id)))
        .select(CampaignRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConn, tenant: TenantId, page: Page) -> QueryResult<Vec<CampaignRow>> {
    let mut q = campaigns::table
        .filter(campaigns::tenant_id.eq(tenant.0))
        .select(CampaignRow::as_select())
        .order(campaigns::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(campaigns::id.lt(before));
    }
    q.load(conn)
}

/// Every running campaign (system use: the runner).
pub fn running(conn: &mut DbConn) -> QueryResult<Vec<CampaignRow>> {
    campaigns::table
        .filter(campaigns::status.eq("running"))
        .order(campaigns::id.asc())
        .select(CampaignRow::as_select())
        .load(conn)
}

/// Locks a campaign row for the rest of the transaction (PostgreSQL; SQLite's write lock is already
/// held) and returns its status, so a runner batch and a pause or cancel never interleave.
pub fn lock_status(conn: &mut DbConn, id: i64) -> QueryResult<Option<String>> {
    let q = campaigns::table.find(id).select(campaigns::status);
    match conn {
        DbConn::Pg(pg) => q.for_update().first(pg).optional(),
        DbConn::Sqlite(sqlite) => q.first(sqlite).optional(),
    }
}

/// Moves a campaign to `status`, with a halt reason or none.
pub fn set_status(
    conn: &mut DbConn,
    id: i64,
    status: &str,
    reason: Option<&str>,
    detail: Option<&str>,
) -> QueryResult<CampaignRow> {
    let ts = now();
    let finished = matches!(status, "completed" | "cancelled").then_some(ts);
    diesel::update(campaigns::table.find(id))
        .set((
            campaigns::status.eq(status),
            campaigns::halt_reason.eq(reason),
            campaigns::halt_detail.eq(detail),
            campaigns::updated_at.eq(ts),
            campaigns::finished_at.eq(finished),
        ))
        .returning(campaigns::all_columns)
        .get_result(conn)
}

/// Marks a draft started with its exclusion counts.
pub fn mark_started(conn: &mut DbConn, id: i64, exclusions: &str) -> QueryResult<CampaignRow> {
    let ts = now();
    diesel::update(campaigns::table.find(id))
        .set((
            campaigns::status.eq("running"),
            campaigns::exclusions.eq(exclusions),
            campaigns::started_at.eq(ts),
            campaigns::updated_at.eq(ts),
        ))
        .returning(campaigns::all_columns)
        .get_result(conn)
}

/// A SQL string literal (quotes doubled; NUL, which no text column may hold, dropped).
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\0', "").replace('\'', "''"))
}

fn opt_int(v: Option<i64>) -> String {
    v.map_or_else(|| "NULL".into(), |v| v.to_string())
}

/// Stores recipients with multi-row inserts (1,000 per statement). Call in a write transaction.
pub fn insert_recipients(conn: &mut DbConn, tenant: TenantId, campaign: i64, rows: &[NewRecipient]) -> QueryResult<()> {
    let ts = literal(&now().format("%Y-%m-%d %H:%M:%S%.6f").to_string());
    for chunk in rows.chunks(1000) {
        let mut sql = String::with_capacity(chunk.len() * 400);
        sql.push_str(
            "INSERT INTO campaign_recipients (campaign_id, tenant_id, phone, lead_id, project_id, call_status, \
             payload, status, skip_reason, created_at) VALUES ",
        );
        for (i, r) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            let status = if r.skip_reason.is_some() { "'skipped'" } else { "'pending'" };
            sql.push_str(&format!(
                "({campaign}, {}, {}, {}, {}, {}, {}, {status}, {}, {ts})",
                tenant.0,
                literal(&r.phone),
                opt_int(r.lead_id),
                opt_int(r.project_id),
                r.call_status.map_or_else(|| "NULL".into(), literal),
                literal(&r.payload),
                r.skip_reason.map_or_else(|| "NULL".into(), literal),
            ));
        }
        diesel::sql_query(sql).execute(conn)?;
    }
    Ok(())
}

/// The next pending recipients, oldest first, locked against other runners on PostgreSQL.
pub fn pending_batch(conn: &mut DbConn, campaign: i64, limit: i64) -> QueryResult<Vec<RecipientRow>> {
    macro_rules! query {
        () => {
            campaign_recipients::table
                .filter(campaign_recipients::campaign_id.eq(campaign).and(campaign_recipients::status.eq("pending")))
                .order(campaign_recipients::id.asc())
                .limit(limit)
                .select(RecipientRow::as_select())
        };
    }
    match conn {
        DbConn::Pg(pg) => query!().for_update().skip_locked().load(pg),
        DbConn::Sqlite(sqlite) => query!().load(sqlite),
    }
}

/// Records that recipients' messages are in the outbox: (recipient id, message id) pairs. One
/// `UPDATE … FROM (VALUES …)` on PostgreSQL; row by row on SQLite. Call in a write transaction.
pub fn mark_queued(conn: &mut DbConn, pairs: &[(i64, i64)]) -> QueryResult<()> {
    let ts = now();
    match conn {
        DbConn::Pg(pg) => {
            for chunk in pairs.chunks(1000) {
                let values: Vec<String> = chunk.iter().map(|(r, m)| format!("({r}::BIGINT, {m}::BIGINT)")).collect();
                let sql = format!(
                    "UPDATE campaign_recipients AS r SET status = 'queued', message_id = v.m, queued_at = $1 \
                     FROM (VALUES {}) AS v(id, m) WHERE r.id = v.id",
                    values.join(",")
                );
                diesel::sql_query(sql).bind::<Timestamp, _>(ts).execute(pg)?;
            }
        }
        DbConn::Sqlite(_) => {
            for (recipient, message) in pairs {
                diesel::update(campaign_recipients::table.find(recipient))
                    .set((
                        campaign_recipients::status.eq("queued"),
                        campaign_recipients::message_id.eq(message),
                        campaign_recipients::queued_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Records that recipients will not be sent to (one statement).
pub fn mark_skipped(conn: &mut DbConn, recipients: &[i64], reason: &str) -> QueryResult<()> {
    if recipients.is_empty() {
        return Ok(());
    }
    diesel::update(campaign_recipients::table.filter(campaign_recipients::id.eq_any(recipients)))
        .set((campaign_recipients::status.eq("skipped"), campaign_recipients::skip_reason.eq(reason)))
        .execute(conn)
        .map(|_| ())
}

/// The campaign's messages still waiting for, or in, a send: (queued, sending).
pub fn in_outbox(conn: &mut DbConn, campaign: i64) -> QueryResult<(i64, i64)> {
    let rows: Vec<(String, i64)> = messages::table
        .filter(messages::campaign_id.eq(campaign).and(messages::status.eq_any(["queued", "sending"])))
        .group_by(messages::status)
        .select((messages::status, diesel::dsl::count_star()))
        .load(conn)?;
    let get = |s: &str| rows.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
    Ok((get("queued"), get("sending")))
}

/// Whether any recipient is still pending.
pub fn has_pending(conn: &mut DbConn, campaign: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        campaign_recipients::table
            .filter(campaign_recipients::campaign_id.eq(campaign).and(campaign_recipients::status.eq("pending"))),
    ))
    .get_result(conn)
}

/// Holds the campaign's queued messages (pause, halt): the dispatcher does not claim them.
pub fn hold_messages(conn: &mut DbConn, campaign: i64) -> QueryResult<usize> {
    diesel::update(messages::table.filter(messages::campaign_id.eq(campaign).and(messages::status.eq("queued"))))
        .set(messages::next_attempt_at.eq(held_until()))
        .execute(conn)
}

/// Makes the campaign's held messages due again (resume).
pub fn release_messages(conn: &mut DbConn, campaign: i64) -> QueryResult<usize> {
    diesel::update(
        messages::table.filter(
            messages::campaign_id
                .eq(campaign)
                .and(messages::status.eq("queued"))
                .and(messages::next_attempt_at.ge(held_until())),
        ),
    )
    .set(messages::next_attempt_at.eq(now()))
    .execute(conn)
}

/// Fails the campaign's queued (never sent) messages with a reason (cancel); skips pending recipients.
pub fn cancel_outstanding(conn: &mut DbConn, campaign: i64, title: &str, detail: &str) -> QueryResult<usize> {
    use crate::domain::message_status::{Event, MessageStatus};
    use crate::store::statuses::{self, Change, ErrorInfo};
    let rows: Vec<crate::store::messages::Message> = messages::table
        .filter(messages::campaign_id.eq(campaign).and(messages::status.eq(MessageStatus::Queued.as_str())))
        .select(crate::store::messages::Message::as_select())
        .load(conn)?;
    let error = ErrorInfo { code: None, title: Some(title), detail: Some(detail) };
    let cancelled = statuses::write_all(conn, rows, Event::Cancel, error, Some(detail), Change::default())?.len();
    diesel::update(
        campaign_recipients::table
            .filter(campaign_recipients::campaign_id.eq(campaign).and(campaign_recipients::status.eq("pending"))),
    )
    .set((campaign_recipients::status.eq("skipped"), campaign_recipients::skip_reason.eq("cancelled")))
    .execute(conn)?;
    Ok(cancelled)
}

/// Phones that already got (or may have got) the message of an earlier campaign with this
/// definition: their message exists and did not fail.
pub fn already_sent(conn: &mut DbConn, tenant: TenantId, hash: &str, except: i64) -> QueryResult<HashSet<String>> {
    let phones: Vec<String> = campaign_recipients::table
        .inner_join(campaigns::table)
        .inner_join(messages::table.on(messages::id.nullable().eq(campaign_recipients::message_id)))
        .filter(
            campaigns::tenant_id
                .eq(tenant.0)
                .and(campaigns::definition_hash.eq(hash))
                .and(campaigns::id.ne(except))
                .and(messages::status.ne("failed")),
        )
        .select(campaign_recipients::phone)
        .load(conn)?;
    Ok(phones.into_iter().collect())
}

/// Running or paused campaigns sending from a number (to halt on quality RED).
pub fn active_on_number(conn: &mut DbConn, phone_number_id: i64) -> QueryResult<Vec<CampaignRow>> {
    campaigns::table
        .filter(campaigns::phone_number_id.eq(phone_number_id).and(campaigns::status.eq_any(["running", "paused"])))
        .select(CampaignRow::as_select())
        .load(conn)
}

/// A message's campaign, if it belongs to one.
pub fn of_message(conn: &mut DbConn, message_id: i64) -> QueryResult<Option<i64>> {
    messages::table.find(message_id).select(messages::campaign_id).first(conn).optional().map(Option::flatten)
}

/// The delivery status a recipient shows: the ledger's, or its message's once queued.
const EFFECTIVE: &str = "CASE WHEN r.status = 'queued' THEN \
     (CASE WHEN m.status IS NULL OR m.status = 'sending' THEN 'queued' ELSE m.status END) ELSE r.status END";

/// One (status, reason) bucket of a campaign's recipients.
#[derive(Debug, QueryableByName)]
pub struct StatusCount {
    #[diesel(sql_type = Text)]
    pub status: String,
    /// The skip reason, or the failure's error name.
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Recipient counts by effective status and reason.
pub fn counts(conn: &mut DbConn, campaign: i64) -> QueryResult<Vec<StatusCount>> {
    let sql = format!(
        "SELECT {EFFECTIVE} AS status, CASE WHEN r.status = 'skipped' THEN r.skip_reason \
         WHEN m.status = 'failed' THEN COALESCE(m.error_title, m.error_code) ELSE NULL END AS reason, \
         COUNT(*) AS n FROM campaign_recipients r LEFT JOIN messages m ON m.id = r.message_id \
         WHERE r.campaign_id = $1 GROUP BY 1, 2"
    );
    diesel::sql_query(portable(conn, &sql)).bind::<BigInt, _>(campaign).load(conn)
}

/// A recipient as the API shows it.
#[derive(Debug, QueryableByName)]
pub struct RecipientView {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub phone: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub lead_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub project_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub call_status: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub skip_reason: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub message_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub queued_at: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub sent_at: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub delivered_at: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub read_at: Option<chrono::NaiveDateTime>,
}

/// A campaign's recipients, newest first, optionally of one effective status; `page` None = all.
pub fn recipients(
    conn: &mut DbConn,
    campaign: i64,
    status: Option<&str>,
    page: Option<Page>,
) -> QueryResult<Vec<RecipientView>> {
    let (limit, before) = page.map_or((i64::MAX, i64::MAX), |p| (p.limit + 1, p.before.unwrap_or(i64::MAX)));
    let sql = format!(
        "SELECT * FROM (SELECT r.id, r.phone, r.lead_id, r.project_id, r.call_status, {EFFECTIVE} AS status, \
         r.skip_reason, r.message_id, COALESCE(m.error_title, m.error_code) AS error, r.queued_at, m.sent_at, \
         m.delivered_at, m.read_at FROM campaign_recipients r LEFT JOIN messages m ON m.id = r.message_id \
         WHERE r.campaign_id = $1 AND r.id < $2) x WHERE ($3 = '' OR x.status = $3) ORDER BY x.id DESC LIMIT $4"
    );
    diesel::sql_query(portable(conn, &sql))
        .bind::<BigInt, _>(campaign)
        .bind::<BigInt, _>(before)
        .bind::<Text, _>(status.unwrap_or(""))
        .bind::<BigInt, _>(limit)
        .load(conn)
}

/// Whether every one of these project ids is the tenant's.
pub fn projects_owned(conn: &mut DbConn, tenant: TenantId, ids: &[i64]) -> QueryResult<bool> {
    use crate::db::schema::projects;
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let n: i64 = projects::table
        .filter(projects::tenant_id.eq(tenant.0).and(projects::id.eq_any(&ids)))
        .count()
        .get_result(conn)?;
    Ok(n == ids.len() as i64)
}
