//! pingan-store: the evaluation's memory — regions, framework versions,
//! values with provenance, benchmarks, stored scores and a hash-chained
//! audit ledger, in SQLite (embedded default) or PostgreSQL.
//!
//! One `Store` serves both backends. The SQL is written once where the two
//! dialects agree (`$1` parameters, `ON CONFLICT`), and `on_pool!` compiles
//! each such body once per backend; sqlx's generic database bounds would
//! cost more than they save here.

mod accounts;
mod audit;
mod backup;
mod cases;
mod db;
mod field;
pub(crate) mod imports;
mod quality;
mod review;
mod scores;
#[cfg(feature = "testing")]
pub mod testing;
pub mod totp;

pub use accounts::{LoginRefusal, NewUser, TokenInfo, User, random_token};
pub use audit::{Entry, Filter as AuditFilter, HashAlgo, NewEntry, Verification, VerifyError};
pub use backup::BackupSummary;
pub use cases::{
    CallbackEvidence, CallbackResult, Case, DEFAULT_CALLBACK_RATE, Draw, DrawnCase, MAX_SEED,
    SUCCESS_INDICATOR, choose as choose_callbacks, sample_size,
};
pub use db::{Backend, Store};
pub use field::{NewRecord, NewTask, PHOTO_LIMIT, Photo, Record, RecordOutcome, Task, TaskFilter};
pub use imports::{ImportKind, ImportSummary, Intake};
pub use quality::{CORRECTION_SOURCE, FlagFilter, Resolution, SaveSummary, StoredFlag, Submission};
pub use review::{DataSet, ReviewSummary, Reviewer, SetEvent, SetFilter, SetKey};
pub use scores::{StoredValue, VALUES_LIMIT};

/// Who did something and from where, for provenance and the ledger.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user: String,
    pub client: String,
}

impl Actor {
    pub fn cli(user: &str) -> Self {
        Actor {
            user: user.to_string(),
            client: "cli".to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("无法连接数据库 {url}：{message} / cannot open database")]
    Connect { url: String, message: String },
    #[error("数据库错误：{0}")]
    Db(#[from] sqlx::Error),
    #[error("数据库迁移失败：{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Input(#[from] pingan_input::InputErrors),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The row changed state since it was read (already resolved, locked).
    #[error("{0}")]
    Conflict(String),
    /// The caller's roles do not allow this step.
    #[error("{0}")]
    Forbidden(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// RFC 3339 UTC with milliseconds: sorts as text, reads as time.
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
