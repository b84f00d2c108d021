//! Events into SQLite through one prepared statement stepped once per row
//! (issue 19: ten million rows within 90 s). sqlx binds each text value
//! through its own `Arc<String>` and sends each statement to its worker
//! thread; here the transaction's own connection is locked out of that
//! worker and the C API binds borrowed text, so a row costs what SQLite's
//! B-trees cost. The statement runs inside the caller's transaction: an
//! error leaves it to be rolled back like any other.

use super::{NewEvent, UPSERT};
use crate::{Result, StoreError};
use libsqlite3_sys as ffi;
use std::ffi::{CStr, CString, c_int};
use std::ptr;

/// Insert or update `events` on `conn` (in its open transaction).
pub(super) async fn insert(
    conn: &mut sqlx::SqliteConnection,
    events: &[NewEvent<'_>],
    import_id: i64,
) -> Result<()> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let run = || {
        // SAFETY: `db` is this connection's handle, locked away from sqlx's
        // worker for as long as `handle` lives (past this call); SQLite is
        // used from this one thread meanwhile.
        unsafe { insert_raw(db, events, import_id) }
    };
    // A long load must not hold up the server's other tasks.
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
        _ => run(),
    }
}

/// Finalises the statement however the load ends.
struct Statement(*mut ffi::sqlite3_stmt);

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: made by sqlite3_prepare_v2 and finalised only here.
        unsafe {
            ffi::sqlite3_finalize(self.0);
        }
    }
}

unsafe fn failure(db: *mut ffi::sqlite3, rc: c_int) -> StoreError {
    // SAFETY: sqlite3_errmsg returns a string owned by the handle, copied
    // before anything else runs on it.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }
        .to_string_lossy()
        .into_owned();
    StoreError::Invalid(format!("写入事件记录失败（SQLite 代码 {rc}）：{message}"))
}

unsafe fn insert_raw(db: *mut ffi::sqlite3, events: &[NewEvent<'_>], import_id: i64) -> Result<()> {
    let sql = CString::new(format!(
        "{UPSERT} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) {}",
        super::ON_CONFLICT
    ))
    .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut raw = ptr::null_mut();
    // SAFETY: a valid handle and a NUL-terminated statement.
    let rc = unsafe { ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut raw, ptr::null_mut()) };
    if rc != ffi::SQLITE_OK {
        return Err(unsafe { failure(db, rc) });
    }
    let stmt = Statement(raw);
    let s = stmt.0;
    // Text is bound as borrowed (SQLITE_STATIC): each row's strings live
    // until the statement is reset after its step.
    let text = |i: c_int, v: &str| -> c_int {
        // SAFETY: `v` outlives the step that reads it; its length is given.
        unsafe {
            ffi::sqlite3_bind_text(
                s,
                i,
                v.as_ptr().cast(),
                v.len() as c_int,
                ffi::SQLITE_STATIC(),
            )
        }
    };
    let real = |i: c_int, v: Option<f64>| -> c_int {
        // SAFETY: binding a number or NULL to a parameter of `s`.
        unsafe {
            match v {
                Some(v) => ffi::sqlite3_bind_double(s, i, v),
                None => ffi::sqlite3_bind_null(s, i),
            }
        }
    };
    let pause = super::pause_after();
    for (n, e) in events.iter().enumerate() {
        if pause == Some(n) {
            super::pause_here();
        }
        let mut rc =
            text(1, e.event_id) | text(2, e.kind) | text(3, e.region) | text(4, e.category);
        rc |= match &e.urgency {
            Some(u) => text(5, u),
            None => real(5, None),
        };
        // SAFETY: binding integers to parameters of `s`.
        rc |= unsafe { ffi::sqlite3_bind_int64(s, 6, e.departments) };
        rc |= real(7, Some(e.reported_at))
            | real(8, e.handled_at)
            | real(9, e.dispatched_at)
            | real(10, e.arrived_at)
            | real(11, Some(e.updated_at))
            | text(12, e.month)
            | text(13, e.digest);
        rc |= unsafe { ffi::sqlite3_bind_int64(s, 14, import_id) };
        if rc != ffi::SQLITE_OK {
            return Err(unsafe { failure(db, rc) });
        }
        // SAFETY: a prepared statement with every parameter bound.
        let step = unsafe { ffi::sqlite3_step(s) };
        // SAFETY: reset before the next row's values are bound.
        unsafe { ffi::sqlite3_reset(s) };
        if step != ffi::SQLITE_DONE {
            return Err(unsafe { failure(db, step) });
        }
    }
    Ok(())
}
