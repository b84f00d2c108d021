//! The download centre (下载中心): a whole-data export too large to make
//! while the browser waits is made in the background and kept here, in
//! parts, until its owner fetches it. Its request is in the ledger (who
//! exported what); its parts are its content, not a change to the record.

use crate::db::{Store, on_pool};
use crate::tx::on_tx;
use crate::{Actor, NewEntry, Result};
use pingan_core::labels::LedgerAction;
use serde::Serialize;
use serde_json::json;

/// How long a finished or failed file is kept.
pub const KEPT_DAYS: i64 = 7;
/// Files kept per person: a year's events are about 70 MB, and the database
/// should not grow by a person asking again and again.
pub const KEPT_PER_OWNER: i64 = 5;
/// A file still being made whose last sign of life is older than this was
/// cut short (its instance stopped): it is shown as failed.
pub const STALL_SECONDS: i64 = 600;

/// An export as its owner sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExportFile {
    pub id: i64,
    pub owner: String,
    /// What was exported (`events`).
    pub kind: String,
    /// The file's name.
    pub title: String,
    /// The filter it was made with, as the page's query.
    pub params: String,
    pub status: ExportStatus,
    pub rows: i64,
    pub size: i64,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    Running,
    Done,
    Failed,
}

#[derive(sqlx::FromRow)]
struct ExportRow {
    id: i64,
    owner: String,
    kind: String,
    title: String,
    params: String,
    status: String,
    row_count: i64,
    byte_size: i64,
    error: Option<String>,
    created_at: String,
    updated_at: String,
}

const COLS: &str =
    "id, owner, kind, title, params, status, row_count, byte_size, error, created_at, updated_at";

impl ExportRow {
    /// The row as shown at `stalled_before`: one still running without a
    /// sign of life since then was cut short.
    fn shown(self, stalled_before: &str) -> ExportFile {
        let (status, error) = match self.status.as_str() {
            "done" => (ExportStatus::Done, None),
            "running" if self.updated_at.as_str() >= stalled_before => {
                (ExportStatus::Running, None)
            }
            "running" => (
                ExportStatus::Failed,
                Some("生成中断（服务已停止或重启），请重新导出".to_string()),
            ),
            _ => (ExportStatus::Failed, self.error),
        };
        ExportFile {
            id: self.id,
            owner: self.owner,
            kind: self.kind,
            title: self.title,
            params: self.params,
            status,
            rows: self.row_count,
            size: self.byte_size,
            error,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl Store {
    /// Record a new export of `kind` for `actor` (running, no parts yet)
    /// and take out the files older than a week and the actor's beyond the
    /// newest `KEPT_PER_OWNER`.
    pub async fn create_export(
        &self,
        kind: &str,
        title: &str,
        params: &str,
        actor: &Actor,
    ) -> Result<i64> {
        let now = crate::now();
        let expired = crate::time_from_now(-KEPT_DAYS * 86_400);
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query("DELETE FROM exports WHERE created_at < $1")
            .bind(&expired).execute(&mut **c).await.map(|_| ()))?;
        on_tx!(tx, c => sqlx::query(
            "DELETE FROM exports WHERE owner = $1 AND id NOT IN \
             (SELECT id FROM exports WHERE owner = $1 ORDER BY id DESC LIMIT $2)")
            .bind(&actor.user).bind(KEPT_PER_OWNER - 1).execute(&mut **c).await.map(|_| ()))?;
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO exports (owner, kind, title, params, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'running', $5, $5) RETURNING id")
            .bind(&actor.user).bind(kind).bind(title).bind(params).bind(&now)
            .fetch_one(&mut **c).await)?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::Export,
                &format!("export:{id}"),
                json!({"id": id, "kind": kind, "title": title, "filter": params}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Keep part `n` of export `id`; `rows` written so far. Also the
    /// export's sign of life.
    pub async fn add_export_part(&self, id: i64, n: i64, bytes: &[u8], rows: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query("INSERT INTO export_parts (export_id, n, data) VALUES ($1, $2, $3)")
            .bind(id).bind(n as i32).bind(bytes).execute(&mut **c).await.map(|_| ()))?;
        on_tx!(tx, c => sqlx::query(
            "UPDATE exports SET byte_size = byte_size + $1, row_count = $2, updated_at = $3 WHERE id = $4")
            .bind(bytes.len() as i64).bind(rows).bind(crate::now()).bind(id)
            .execute(&mut **c).await.map(|_| ()))?;
        tx.commit().await?;
        Ok(())
    }

    /// Export `id` is still being made, `rows` written so far.
    pub async fn touch_export(&self, id: i64, rows: i64) -> Result<()> {
        on_pool!(self, p => sqlx::query(
            "UPDATE exports SET row_count = $1, updated_at = $2 WHERE id = $3")
            .bind(rows).bind(crate::now()).bind(id)
            .execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Export `id` is complete with `rows` rows, or failed with `error`.
    pub async fn end_export(&self, id: i64, rows: i64, error: Option<&str>) -> Result<()> {
        let status = if error.is_some() { "failed" } else { "done" };
        on_pool!(self, p => sqlx::query(
            "UPDATE exports SET status = $1, row_count = $2, error = $3, updated_at = $4 WHERE id = $5")
            .bind(status).bind(rows).bind(error).bind(crate::now()).bind(id)
            .execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// The exports of `owner` kept, newest first.
    pub async fn exports_of(&self, owner: &str) -> Result<Vec<ExportFile>> {
        let sql = format!("SELECT {COLS} FROM exports WHERE owner = $1 ORDER BY id DESC");
        let rows: Vec<ExportRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(owner).fetch_all(p).await)?;
        let stalled = crate::time_from_now(-STALL_SECONDS);
        Ok(rows.into_iter().map(|r| r.shown(&stalled)).collect())
    }

    /// Export `id`, whoever owns it.
    pub async fn export_file(&self, id: i64) -> Result<Option<ExportFile>> {
        let sql = format!("SELECT {COLS} FROM exports WHERE id = $1");
        let row: Option<ExportRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id).fetch_optional(p).await)?;
        let stalled = crate::time_from_now(-STALL_SECONDS);
        Ok(row.map(|r| r.shown(&stalled)))
    }

    /// Part `n` of export `id`, if there is one.
    pub async fn export_part(&self, id: i64, n: i64) -> Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT data FROM export_parts WHERE export_id = $1 AND n = $2")
            .bind(id).bind(n as i32).fetch_optional(p).await)?;
        Ok(row.map(|r| r.0))
    }
}
