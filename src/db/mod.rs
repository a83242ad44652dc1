//! Database access: one connection type over PostgreSQL and SQLite, a pool, and migrations.

pub mod schema;

use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::{Context, bail};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// A connection to either backend; the URL scheme decides which.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// The backend a `DATABASE_URL` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// `postgres://` / `postgresql://` or `sqlite://`; any other scheme is refused.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite://") {
            Ok(Backend::Sqlite)
        } else {
            bail!("unsupported database URL scheme (use postgres:// or sqlite://)")
        }
    }
}

/// Opens one connection, applying the SQLite pragmas first.
pub fn connect(url: &str) -> anyhow::Result<DbConn> {
    match Backend::from_url(url)? {
        Backend::Postgres => Ok(DbConn::Pg(PgConnection::establish(url).context("connecting to PostgreSQL")?)),
        Backend::Sqlite => {
            let path = &url["sqlite://".len()..];
            if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            let mut conn = SqliteConnection::establish(path).context("opening SQLite database")?;
            // Savepoint journals and RETURNING's buffers live in memory, not in temporary files:
            // they only ever undo within a transaction, and the WAL makes commits durable.
            conn.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;",
            )?;
            Ok(DbConn::Sqlite(conn))
        }
    }
}

/// r2d2 manager that builds `DbConn`s from the URL.
pub struct Manager {
    url: String,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        connect(&self.url)
            .map_err(|e| diesel::r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(format!("{e:#}"))))
    }
    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1").map_err(diesel::r2d2::Error::QueryError)
    }
    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// Runs all pending migrations for the connection's backend.
pub fn migrate(conn: &mut DbConn) -> anyhow::Result<usize> {
    let applied = match conn {
        DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

/// The shared pool handle given to handlers.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    /// Held while any handle lives; SQLite's checkpointer stops when it is gone.
    _alive: Arc<()>,
}

impl Db {
    /// Builds the pool and runs migrations once; on SQLite, starts the checkpointer.
    pub fn open(url: &str, size: u32) -> anyhow::Result<Self> {
        let backend = Backend::from_url(url)?;
        migrate(&mut connect(url)?)?;
        let pool = r2d2::Pool::builder()
            .max_size(size.max(1))
            .connection_timeout(Duration::from_secs(10))
            .build(Manager { url: url.to_string() })
            .context("building the database pool")?;
        let alive = Arc::new(());
        if backend == Backend::Sqlite {
            checkpointer(connect(url)?, Arc::downgrade(&alive))?;
        }
        Ok(Db { pool, backend, _alive: alive })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Pool statistics: (connections, idle).
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections)
    }

    /// Runs blocking database work on the blocking thread pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(ApiError::from)?;
            f(&mut conn).map_err(Into::into)
        })
        .await?
    }

    /// A connection for synchronous callers (CLI commands, workers).
    pub fn get(&self) -> Result<r2d2::PooledConnection<Manager>, ApiError> {
        Ok(self.pool.get()?)
    }
}

/// How often SQLite's write-ahead log is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Copies SQLite's write-ahead log back into the database on its own thread and connection, so no
/// commit pays for it (connections are opened with `wal_autocheckpoint = 0`). A passive
/// checkpoint never waits for writers or readers; it stops once every `Db` handle is dropped.
fn checkpointer(mut conn: DbConn, alive: Weak<()>) -> std::io::Result<()> {
    std::thread::Builder::new().name("sqlite-checkpoint".into()).spawn(move || {
        while alive.strong_count() > 0 {
            std::thread::sleep(CHECKPOINT_EVERY);
            if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
                tracing::warn!(error = %e, "SQLite checkpoint failed");
            }
        }
    })?;
    Ok(())
}

/// Serialises this process's SQLite write transactions: a writer waits here and is woken the moment
/// the previous one commits, instead of polling SQLite's lock through `busy_timeout`'s sleeps.
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` in a write transaction. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`, after this process's writer mutex) so concurrent writers queue instead of
/// failing. `f` must not open a nested transaction.
pub fn write_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    E: From<diesel::result::Error>,
    F: FnOnce(&mut DbConn) -> Result<T, E>,
{
    match conn {
        DbConn::Pg(_) => conn.transaction(f),
        DbConn::Sqlite(_) => {
            let _turn = SQLITE_WRITER.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            conn.batch_execute("BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(v) => {
                    conn.batch_execute("COMMIT")?;
                    Ok(v)
                }
                Err(e) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    Err(e)
                }
            }
        }
    }
}

/// Runs `f` inside a savepoint of the caller's transaction: when it fails, only its own changes are
/// undone and the transaction goes on (on PostgreSQL too, where an error would otherwise abort it).
pub fn savepoint<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    E: From<diesel::result::Error>,
    F: FnOnce(&mut DbConn) -> Result<T, E>,
{
    conn.batch_execute("SAVEPOINT item")?;
    match f(conn) {
        Ok(v) => {
            conn.batch_execute("RELEASE SAVEPOINT item")?;
            Ok(v)
        }
        Err(e) => {
            conn.batch_execute("ROLLBACK TO SAVEPOINT item; RELEASE SAVEPOINT item")?;
            Err(e)
        }
    }
}

/// Raw SQL written with PostgreSQL's `$n` placeholders, for either backend (SQLite reads `?n`).
pub fn portable(conn: &DbConn, sql: &str) -> String {
    if matches!(conn, DbConn::Sqlite(_)) { sql.replace('$', "?") } else { sql.to_string() }
}

/// The current time as stored in the database (UTC, microseconds).
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now).naive_utc()
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;

    use super::*;

    #[derive(QueryableByName)]
    struct TempStore {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        temp_store: i32,
    }

    /// A savepoint's journal is written for every page an applied webhook item changes first;
    /// in a temporary file that cost a system call per page.
    #[test]
    fn sqlite_journals_savepoints_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = connect(&format!("sqlite://{}/t.db", dir.path().display())).unwrap();
        let mode: TempStore = diesel::sql_query("PRAGMA temp_store").get_result(&mut conn).unwrap();
        assert_eq!(mode.temp_store, 2, "temp_store = MEMORY");
    }

    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = Text)]
        compile_options: String,
    }

    /// `.cargo/config.toml` builds SQLite with the query planner stability guarantee, so statements
    /// with bound `LIMIT`s stay prepared.
    #[test]
    fn sqlite_keeps_one_plan_per_statement() {
        let mut conn = connect("sqlite://:memory:").unwrap();
        let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options").load(&mut conn).unwrap();
        assert!(
            options.iter().any(|o| o.compile_options == "ENABLE_QPSG"),
            "SQLite was built without SQLITE_ENABLE_QPSG"
        );
    }
}
