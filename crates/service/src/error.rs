//! What a service operation can answer instead of its result. Every text
//! here is Chinese and safe to show; the cause of an internal failure is
//! logged, never shown.

use pingan_store::StoreError;

/// Where in its input a problem is, in the coordinates of the channel the
/// input came through.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Loc {
    /// Nowhere in particular: the input as a whole.
    Whole,
    /// A file, at a line when there is one (`file:line`).
    File { file: String, line: Option<usize> },
    /// An item of a JSON array (0 first).
    Index { index: usize },
    /// A cell of a workbook (`Sheet "2024-06" C14`).
    Cell { sheet: String, cell: String },
    /// A field of a web form, named as the form shows it.
    Field { label: String },
}

/// One thing wrong with an input.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Problem {
    pub at: Loc,
    pub message: String,
}

impl Problem {
    /// Characters the reader cannot see, quoted from the input, are
    /// written out (`pingan_core::text::visible`).
    pub fn new(at: Loc, message: impl Into<String>) -> Problem {
        let message: String = message.into();
        let message = match pingan_core::text::visible(&message) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(m) => m,
        };
        Problem { at, message }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.at {
            Loc::Whole => write!(f, "{}", self.message),
            Loc::File {
                file,
                line: Some(line),
            } => write!(f, "{file}:{line}: {}", self.message),
            Loc::File { file, line: None } => write!(f, "{file}: {}", self.message),
            Loc::Index { index } => write!(f, "[{index}]: {}", self.message),
            Loc::Cell { sheet, cell } => write!(f, "Sheet \"{sheet}\" {cell}: {}", self.message),
            Loc::Field { label } => write!(f, "{label}：{}", self.message),
        }
    }
}

/// Why a sign-in was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    BadCredentials,
    Locked,
    Disabled,
    TotpRequired,
    RateLimited,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No valid session or token.
    #[error("未登录或登录已过期，请重新登录")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// The caller's roles do not grant this capability.
    #[error("{}", .0.refusal())]
    Denied(pingan_core::access::Cap),
    #[error("{0}")]
    NotFound(String),
    /// A value that cannot be used (422).
    #[error("{0}")]
    Invalid(String),
    /// A request that cannot be read (400).
    #[error("{0}")]
    BadRequest(String),
    /// The data changed state (already resolved, locked, drawn).
    #[error("{0}")]
    Conflict(String),
    #[error("{message}")]
    Refused { refusal: Refusal, message: String },
    /// An input refused whole, with every problem where it is.
    #[error("{}", problems_text(.0))]
    Rejected(Vec<Problem>),
    /// Too much heavy work already running or waiting: come back later.
    #[error("服务器正忙：正在进行其他计算，请 {retry_after} 秒后重试")]
    Busy { retry_after: u32 },
    /// The database cannot take writes now (disk full, read-only): nothing
    /// was written; reads still work.
    #[error("{0}")]
    Unavailable(String),
    /// A failure of ours: logged where it is made, shown as this.
    #[error("服务器内部错误，请稍后重试")]
    Internal(String),
}

/// Every problem on its own line, as `pingan_input` lists a file's.
fn problems_text(problems: &[Problem]) -> String {
    let mut s = problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    if problems.len() >= pingan_input::MAX_ERRORS {
        s.push_str(&format!(
            "\n（错误过多，仅显示前 {} 条）",
            pingan_input::MAX_ERRORS
        ));
    }
    s
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// What a `Busy` answer suggests as a wait, in seconds.
pub const BUSY_RETRY_SECS: u32 = 15;

impl ServiceError {
    pub fn forbidden(m: impl Into<String>) -> Self {
        ServiceError::Forbidden(m.into())
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        ServiceError::NotFound(m.into())
    }
    pub fn invalid(m: impl Into<String>) -> Self {
        ServiceError::Invalid(pingan_core::text::visible(&m.into()).into_owned())
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        ServiceError::Conflict(m.into())
    }
}

/// The store's refusals keep their meaning; its failures are logged with
/// their cause and become a plain internal error.
impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(m) => ServiceError::Invalid(m),
            StoreError::NotFound(m) => ServiceError::NotFound(m),
            StoreError::Forbidden(m) => ServiceError::Forbidden(m),
            StoreError::Conflict(m) => ServiceError::Conflict(m),
            e @ StoreError::Unwritable(_) => {
                tracing::error!(error = %e, "database refuses writes");
                ServiceError::Unavailable(e.to_string())
            }
            // Every connection busy for the pool's whole wait: a load
            // problem, not a fault; the client may retry.
            e if e.is_busy() => {
                tracing::warn!("database pool exhausted");
                ServiceError::Busy {
                    retry_after: BUSY_RETRY_SECS,
                }
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ServiceError::Internal(other.to_string())
            }
        }
    }
}

/// A file's problems, each at its line.
impl From<pingan_input::InputErrors> for ServiceError {
    fn from(errs: pingan_input::InputErrors) -> Self {
        ServiceError::Rejected(
            errs.0
                .into_iter()
                .map(|e| {
                    Problem::new(
                        Loc::File {
                            file: e.file,
                            line: e.line,
                        },
                        e.message,
                    )
                })
                .collect(),
        )
    }
}
