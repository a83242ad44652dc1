//! Sessions (one per sign-in) and their refresh tokens: stored hashed, rotated on every use.
//! Revoking a session stops its refresh tokens and the access tokens that name it.

use diesel::prelude::*;

use crate::db::schema::{refresh_tokens, sessions};
use crate::db::{DbConn, now};

/// What presenting a refresh token found.
pub enum Refresh {
    /// Valid: the token is consumed and its successor stored in the same session.
    Valid { user_id: i64, session_id: i64 },
    /// Already used, or its session was signed out: every session of the user is now revoked.
    Reused,
    /// Unknown or expired.
    Invalid,
}

/// Starts a session for a user with its first refresh token; returns the session id.
/// Call inside a write transaction.
pub fn start(conn: &mut DbConn, user_id: i64, token_hash: &str, ttl_secs: i64) -> QueryResult<i64> {
    let session_id = diesel::insert_into(sessions::table)
        .values((sessions::user_id.eq(user_id), sessions::created_at.eq(now())))
        .returning(sessions::id)
        .get_result(conn)?;
    add_token(conn, user_id, session_id, token_hash, ttl_secs)?;
    Ok(session_id)
}

fn add_token(conn: &mut DbConn, user_id: i64, session_id: i64, token_hash: &str, ttl_secs: i64) -> QueryResult<()> {
    let ts = now();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::expires_at.eq(ts + chrono::Duration::seconds(ttl_secs)),
            refresh_tokens::created_at.eq(ts),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Consumes a refresh token and stores its successor (`new_hash`) in the same session.
///
/// The token is consumed by one conditional `UPDATE … RETURNING` (live token, unexpired, session
/// not revoked), so of concurrent requests presenting it exactly one wins: the others find it
/// consumed and revoke every session of its user. Call inside a write transaction.
pub fn rotate(conn: &mut DbConn, token_hash: &str, new_hash: &str, ttl_secs: i64) -> QueryResult<Refresh> {
    let ts = now();
    let live_sessions = sessions::table.filter(sessions::revoked_at.is_null()).select(sessions::id);
    let won: Option<(i64, i64)> = diesel::update(
        refresh_tokens::table.filter(
            refresh_tokens::token_hash
                .eq(token_hash)
                .and(refresh_tokens::revoked_at.is_null())
                .and(refresh_tokens::expires_at.gt(ts))
                .and(refresh_tokens::session_id.eq_any(live_sessions)),
        ),
    )
    .set(refresh_tokens::revoked_at.eq(ts))
    .returning((refresh_tokens::user_id, refresh_tokens::session_id))
    .get_result(conn)
    .optional()?;
    if let Some((user_id, session_id)) = won {
        add_token(conn, user_id, session_id, new_hash, ttl_secs)?;
        return Ok(Refresh::Valid { user_id, session_id });
    }
    let known: Option<(i64, chrono::NaiveDateTime)> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((refresh_tokens::user_id, refresh_tokens::expires_at))
        .first(conn)
        .optional()?;
    match known {
        Some((user_id, expires_at)) if expires_at > ts => {
            revoke_all(conn, user_id)?;
            Ok(Refresh::Reused)
        }
        _ => Ok(Refresh::Invalid),
    }
}

/// Signs out the session a refresh token belongs to (logout); true when it was live.
pub fn revoke(conn: &mut DbConn, token_hash: &str) -> QueryResult<bool> {
    let session =
        refresh_tokens::table.filter(refresh_tokens::token_hash.eq(token_hash)).select(refresh_tokens::session_id);
    diesel::update(sessions::table.filter(sessions::id.eq_any(session).and(sessions::revoked_at.is_null())))
        .set(sessions::revoked_at.eq(now()))
        .execute(conn)
        .map(|n| n > 0)
}

/// Signs out every session of a user.
fn revoke_all(conn: &mut DbConn, user_id: i64) -> QueryResult<usize> {
    diesel::update(sessions::table.filter(sessions::user_id.eq(user_id).and(sessions::revoked_at.is_null())))
        .set(sessions::revoked_at.eq(now()))
        .execute(conn)
}
