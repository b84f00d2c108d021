//! Opening a database by URL, migrations, and the dispatch between backends.

use crate::{Result, StoreError};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// Run `$body` with `$p` bound to the backend's pool; the body is compiled
/// once per backend.
macro_rules! on_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match &$store.pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Pg($p) => $body,
        }
    };
}
pub(crate) use on_pool;

#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: Pool,
    pub(crate) url: String,
    /// Framework versions parsed once: their rows are only ever inserted,
    /// never changed, so an id always means the same framework.
    pub(crate) parsed: std::sync::Arc<
        std::sync::Mutex<std::collections::HashMap<i64, std::sync::Arc<pingan_core::Framework>>>,
    >,
    /// Turns to hold the review lock (`begin_locked`).
    pub(crate) writers: std::sync::Arc<tokio::sync::Semaphore>,
    /// The ledger head while `watch_ledger` keeps it current.
    pub(crate) head: std::sync::Arc<crate::watch::HeadHint>,
    /// The database takes NOTIFY (PostgreSQL; not every compatible one).
    pub(crate) notify: bool,
}

/// Writers of one instance that may wait on the review lock at once.
const WRITERS: usize = 2;

fn connect_error(url: &str, e: impl std::fmt::Display) -> StoreError {
    let mut message = e.to_string().lines().next().unwrap_or_default().to_string();
    // SQLite in WAL mode writes its index file even to read: on a full disk
    // or a read-only file system opening fails with an I/O error.
    if message.contains("disk I/O error")
        || message.contains("readonly")
        || message.contains("disk is full")
    {
        message.push_str("（数据库所在磁盘可能已满或为只读）");
    }
    StoreError::Connect {
        url: redact(url),
        message,
    }
}

/// A URL with its password hidden, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The file a `sqlite:` URL names (None for PostgreSQL and in-memory
/// databases).
pub fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

impl Store {
    /// Open a database that must already exist: a SQLite file that is not
    /// there is an error naming it, not a new empty database (a mistyped
    /// path would otherwise give empty reports).
    pub async fn open_existing(url: &str) -> Result<Store> {
        if let Some(path) = sqlite_file(url)
            && !std::path::Path::new(path).exists()
        {
            return Err(StoreError::Connect {
                url: redact(url),
                message: format!("数据库文件 {path} 不存在：请检查 --db，或先用 pingan init 创建"),
            });
        }
        Store::open(url).await
    }

    /// Open (and create, for SQLite) the database and bring its schema up to date.
    pub async fn open(url: &str) -> Result<Store> {
        let pool = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| connect_error(url, e))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(opts)
                .await
                .map_err(|e| connect_error(url, e))?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .map_err(|e| connect_error(url, e))?;
            Pool::Pg(pool)
        } else {
            return Err(StoreError::Connect {
                url: redact(url),
                message: "数据库地址应以 sqlite:// 或 postgres:// 开头".into(),
            });
        };
        let notify = match &pool {
            Pool::Pg(p) => sqlx::query("SELECT pg_notify('pingan_probe', '')")
                .execute(p)
                .await
                .is_ok(),
            Pool::Sqlite(_) => false,
        };
        let store = Store {
            pool,
            url: url.to_string(),
            parsed: Default::default(),
            writers: std::sync::Arc::new(tokio::sync::Semaphore::new(WRITERS)),
            head: Default::default(),
            notify,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// A connection without migrations, to create and drop test databases.
    #[doc(hidden)]
    pub async fn open_admin(url: &str) -> Result<Store> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| connect_error(url, e))?;
        Ok(Store {
            pool: Pool::Pg(pool),
            url: url.to_string(),
            parsed: Default::default(),
            writers: std::sync::Arc::new(tokio::sync::Semaphore::new(WRITERS)),
            head: Default::default(),
            notify: false,
        })
    }

    async fn migrate(&self) -> Result<()> {
        // A database already at this version is left alone: a read-only one
        // (a standby, default_transaction_read_only, a read-only mount)
        // refuses even the migrator's CREATE TABLE IF NOT EXISTS, and reads
        // must go on there.
        if self.up_to_date().await {
            return Ok(());
        }
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Pool::Pg(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Every migration of this build is recorded as applied.
    async fn up_to_date(&self) -> bool {
        let versions: Vec<i64> = match &self.pool {
            Pool::Sqlite(_) => sqlx::migrate!("./migrations/sqlite")
                .migrations
                .iter()
                .map(|m| m.version)
                .collect(),
            Pool::Pg(_) => sqlx::migrate!("./migrations/postgres")
                .migrations
                .iter()
                .map(|m| m.version)
                .collect(),
        };
        let applied: std::result::Result<Vec<(i64,)>, sqlx::Error> = on_pool!(self, x => sqlx::query_as(
            "SELECT version FROM _sqlx_migrations WHERE success").fetch_all(x).await);
        let Ok(applied) = applied else {
            return false;
        };
        let applied: std::collections::HashSet<i64> = applied.into_iter().map(|r| r.0).collect();
        versions.iter().all(|v| applied.contains(v))
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Pg(_) => Backend::Postgres,
        }
    }

    pub fn url(&self) -> String {
        redact(&self.url)
    }

    pub async fn close(&self) {
        self.head.stop();
        on_pool!(self, p => p.close().await)
    }

    /// Keep the ledger head current on this instance (PostgreSQL with
    /// LISTEN/NOTIFY; see `watch`), so `ledger_seq` mostly needs no round
    /// trip. For long-running processes (`serve`); returns whether it runs.
    pub fn watch_ledger(&self) -> bool {
        match &self.pool {
            Pool::Pg(p) if self.notify && !self.head.watching() => {
                crate::watch::spawn(self.url.clone(), p.clone(), &self.head);
                true
            }
            _ => false,
        }
    }

    /// The ledger head's sequence number: what the watch last read while it
    /// is still current, else asked of the database.
    pub async fn ledger_seq(&self) -> Result<i64> {
        if let Some(seq) = self.head.get() {
            return Ok(seq);
        }
        Ok(self.audit_head().await?.0)
    }

    /// Run one statement as is. For tests that tamper with the ledger and
    /// for maintenance; never called with user input.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        let sql = sql.to_string();
        Ok(
            on_pool!(self, p => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.map(|r| r.rows_affected()))?,
        )
    }

    /// Rows in a table, for summaries and tests.
    #[doc(hidden)]
    pub async fn count(&self, table: &str) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let (n,): (i64,) =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(p).await)?;
        Ok(n)
    }

    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        let v: Option<(String,)> = on_pool!(self, p => sqlx::query_as("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(p)
            .await)?;
        Ok(v.map(|x| x.0))
    }

    pub(crate) async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(redact("sqlite://pingan.db"), "sqlite://pingan.db");
    }
}
