//! Refresh tokens: stored hashed, rotated on every use, revocable.

use diesel::prelude::*;

use crate::db::schema::refresh_tokens;
use crate::db::{DbConn, now};

/// What presenting a refresh token found.
pub enum Refresh {
    /// Valid: the user it belongs to; the token is now revoked and must be replaced.
    Valid { user_id: i64 },
    /// Already used or revoked: every session of the user was revoked (token theft).
    Reused,
    /// Unknown or expired.
    Invalid,
}

pub fn create(conn: &mut DbConn, user_id: i64, token_hash: &str, ttl_secs: i64) -> QueryResult<()> {
    let ts = now();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::expires_at.eq(ts + chrono::Duration::seconds(ttl_secs)),
            refresh_tokens::created_at.eq(ts),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Consumes a refresh token. Call inside a write transaction.
pub fn consume(conn: &mut DbConn, token_hash: &str) -> QueryResult<Refresh> {
    let row: Option<(i64, i64, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((refresh_tokens::id, refresh_tokens::user_id, refresh_tokens::expires_at, refresh_tokens::revoked_at))
        .first(conn)
        .optional()?;
    let Some((id, user_id, expires_at, revoked_at)) = row else {
        return Ok(Refresh::Invalid);
    };
    let ts = now();
    if revoked_at.is_some() {
        revoke_all(conn, user_id)?;
        return Ok(Refresh::Reused);
    }
    if expires_at <= ts {
        return Ok(Refresh::Invalid);
    }
    diesel::update(refresh_tokens::table.find(id)).set(refresh_tokens::revoked_at.eq(ts)).execute(conn)?;
    Ok(Refresh::Valid { user_id })
}

/// Revokes one token (logout); true when it existed and was live.
pub fn revoke(conn: &mut DbConn, token_hash: &str) -> QueryResult<bool> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash).and(refresh_tokens::revoked_at.is_null())),
    )
    .set(refresh_tokens::revoked_at.eq(now()))
    .execute(conn)
    .map(|n| n > 0)
}

pub fn revoke_all(conn: &mut DbConn, user_id: i64) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table.filter(refresh_tokens::user_id.eq(user_id).and(refresh_tokens::revoked_at.is_null())),
    )
    .set(refresh_tokens::revoked_at.eq(now()))
    .execute(conn)
}
