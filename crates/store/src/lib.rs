//! pingan-store: the evaluation's record — regions, framework versions,
//! values with provenance, benchmarks, stored scores, the review, quality
//! flags, field verification, the mediation register, accounts and a
//! hash-chained audit ledger — in SQLite (embedded default) or PostgreSQL.
//!
//! One module per group of tables; each write is one function that runs
//! one transaction (`tx::Tx`) and appends its ledger entry in it. The rules
//! that decide what to write are the service's (`pingan-service`) and the
//! core's; this crate keeps what it is given.
//!
//! One `Store` serves both backends. The SQL is written once where the two
//! dialects agree (`$1` parameters, `ON CONFLICT`), and `on_pool!` /
//! `on_tx!` compile each such body once per backend; sqlx's generic
//! database bounds would cost more than they save here.

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod benchmarks;
pub mod boundaries;
pub mod callbacks;
pub mod cases;
pub mod consequences;
pub mod data_sets;
mod db;
pub mod events;
pub mod exports;
pub mod field;
pub mod flags;
pub mod frameworks;
pub mod ledger;
pub mod notices;
pub mod objections;
pub mod observations;
pub mod opinions;
pub mod publications;
pub mod rectify;
pub mod rectify_files;
pub mod regions;
pub mod report_edits;
pub mod risk;
pub mod scores;
pub mod sessions;
pub mod surveys;
#[cfg(feature = "testing")]
pub mod testing;
mod tx;
pub mod uses;
pub mod values;
mod watch;

pub use accounts::{Credentials, NewAccount, User};
pub use audit::Filter as AuditFilter;
pub use backup::BackupSummary;
pub use benchmarks::BenchmarkRecord;
pub use callbacks::{CallbackRow, Draw, DrawnCase, NewDraw};
pub use cases::{Case, CaseRecord, CasesWrite};
pub use consequences::{Deduction, Interview, NewInterview};
pub use data_sets::{DataSet, ReviewStep, SetEvent, SetFilter, StepsDone};
pub use db::{Backend, Store, sqlite_file};
pub use events::{
    EventBreakdown, EventCell, EventCursor, EventFilter, EventRecord, EventState, EventSumsBy,
    NewEvent, OpenEvent,
};
pub use exports::{ExportFile, ExportStatus};
pub use field::{NewRecord, NewTask, Photo, Recheck, Record, Task, TaskFilter};
pub use flags::{
    CORRECTION_SOURCE, Correction, FlagFilter, FlagTally, Resolution, SaveSummary, StoredFlag,
};
pub use frameworks::NewFramework;
pub use ledger::{Entry, HashAlgo, NewEntry, Verification, VerifyError};
pub use notices::{NewNotice, Notice};
pub use objections::{NewObjection, Objection};
pub use opinions::{NewProblem, Opinion, Problem};
pub use publications::Publication;
pub use rectify::{Item, NewItem, NewStep, Plan, Step};
pub use rectify_files::FileMeta;
pub use regions::RegionRecord;
pub use report_edits::{EditKey, ReportEdit};
pub use risk::{ForecastRow, RiskRun, RiskWarning};
pub use scores::{FrameworkVersion, NewScoreRun};
pub use sessions::{LoginAttempt, TokenInfo, random_token};
pub use surveys::{
    Claim, NewForm, NewResponse, ResponseTally, ResponsesWrite, StoredForm, StoredResponse,
    SurveyPlan,
};
pub use uses::{NewUse, ResultUse};
pub use values::{
    KEYED_MAX, NewValue, Recheck as ValuesRecheck, StoredValue, Submission, VALUES_LIMIT,
    ValueRecord, ValuesWrite,
};

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
    /// The database refused a write for want of space or permission (a
    /// full disk, a read-only file system or a read-only standby); the
    /// transaction was rolled back.
    #[error(
        "数据库无法写入（磁盘已满或数据库为只读）：本次操作没有写入任何内容，已有数据不受影响。请释放磁盘空间或恢复写权限后重试。（{0}）"
    )]
    Unwritable(String),
    #[error("数据库错误：{0}")]
    Db(sqlx::Error),
    #[error("数据库迁移失败：{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The row changed state since it was read (already resolved, locked).
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if unwritable(&e) {
            let first = e.to_string().lines().next().unwrap_or_default().to_string();
            return StoreError::Unwritable(first);
        }
        StoreError::Db(e)
    }
}

/// Whether the database refused for want of space or write permission.
/// PostgreSQL names it by SQLSTATE (five characters): disk_full,
/// insufficient_resources, read_only_sql_transaction. SQLite by its
/// numeric code, whose low byte is the primary code: READONLY (8), IOERR
/// (10, a write that failed), FULL (13).
pub(crate) fn unwritable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => match d.code().as_deref() {
            // SQLite's extended codes have at most four digits.
            Some(c) if c.len() == 5 => matches!(c, "53100" | "53000" | "25006"),
            Some(c) => c
                .parse::<i32>()
                .is_ok_and(|n| matches!(n & 0xff, 8 | 10 | 13)),
            None => false,
        },
        // ENOSPC, EROFS from the file system under SQLite.
        sqlx::Error::Io(io) => matches!(io.raw_os_error(), Some(28 | 30)),
        _ => false,
    }
}

impl StoreError {
    /// Every pooled connection stayed busy for the pool's whole wait.
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::PoolTimedOut))
    }
}

/// RFC 3339 UTC with milliseconds: sorts as text, reads as time.
pub fn now() -> String {
    stamp(time::OffsetDateTime::now_utc())
}

/// The time `seconds` from now (negative: ago), as `now` writes it.
pub fn time_from_now(seconds: i64) -> String {
    stamp(time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
}

fn stamp(t: time::OffsetDateTime) -> String {
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
