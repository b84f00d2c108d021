//! Fresh databases for tests in this and other crates (feature `testing`):
//! a SQLite file in a temporary folder, or a new PostgreSQL database on
//! 127.0.0.1:5432 (trust auth, created from `test`) that is dropped after.
//! `PINGAN_TEST_PG=off` skips the PostgreSQL half with a printed reason.

use crate::Store;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database that exists for one test.
pub struct Fresh {
    pub store: Store,
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A fresh database of `kind`; `None` only for PostgreSQL when
/// `PINGAN_TEST_PG=off`.
pub async fn fresh(kind: Kind) -> Option<Fresh> {
    match kind {
        Kind::Sqlite => Some(sqlite().await),
        Kind::Postgres => postgres().await,
    }
}

pub async fn sqlite() -> Fresh {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    Fresh {
        store: Store::open(&url).await.expect("open SQLite"),
        url,
        pg_name: None,
        _dir: Some(dir),
    }
}

pub async fn postgres() -> Option<Fresh> {
    if std::env::var("PINGAN_TEST_PG").as_deref() == Ok("off") {
        eprintln!("PINGAN_TEST_PG=off: PostgreSQL test skipped");
        return None;
    }
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "pingan_t_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let admin = Store::open_admin(PG_ADMIN)
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 (set PINGAN_TEST_PG=off to skip)");
    admin
        .execute_raw(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .expect("drop old test database");
    admin
        .execute_raw(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await;
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let store = Store::open(&url).await.expect("open PostgreSQL");
    Some(Fresh {
        store,
        url,
        pg_name: Some(name),
        _dir: None,
    })
}

impl Fresh {
    /// Close and, for PostgreSQL, drop the database.
    pub async fn done(self) {
        self.store.close().await;
        if let Some(name) = self.pg_name
            && let Ok(admin) = Store::open_admin(PG_ADMIN).await
        {
            let _ = admin
                .execute_raw(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            admin.close().await;
        }
    }
}
