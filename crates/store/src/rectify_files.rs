//! Files kept with the results loop (issue 21) — the evidence of a
//! rectification step and the minutes of a 约谈 — each with its SHA-256,
//! checked again whenever it is read, as the field photos are; and the
//! merging of two problems of one list.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::{Tx, on_tx};
use crate::{Actor, Result, StoreError, sha256_hex};
use base64::Engine;
use pingan_core::labels::LedgerAction;
use serde::Serialize;
use serde_json::json;

/// A kept file's description (its bytes are read one at a time).
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct FileMeta {
    pub id: i64,
    pub item_id: i64,
    pub step_id: i64,
    pub file_name: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

const COLS: &str = "id, item_id, step_id, file_name, mime, size, sha256, uploaded_by, uploaded_at";

/// Keep one evidence file of a step inside the step's transaction; what
/// the ledger entry records of it.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert(
    tx: &mut Tx,
    item: i64,
    step: i64,
    name: &str,
    mime: &str,
    bytes: &[u8],
    actor: &Actor,
    at: &str,
) -> Result<serde_json::Value> {
    let sha = sha256_hex(bytes);
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
        "INSERT INTO rectify_files (item_id, step_id, file_name, mime, size, sha256, data, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
        .bind(item).bind(step).bind(name).bind(mime).bind(bytes.len() as i64).bind(&sha).bind(&data)
        .bind(&actor.user).bind(at)
        .fetch_one(&mut **c).await)?;
    Ok(json!({"file": id, "name": name, "size": bytes.len(), "sha256": sha}))
}

pub(crate) fn decode(what: &str, data: &str, sha: &str) -> Result<Vec<u8>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|e| StoreError::Invalid(format!("{what}已损坏：{e}")))?;
    if sha256_hex(&bytes) != sha {
        return Err(StoreError::Invalid(format!(
            "{what}的 SHA-256 与保存时不符"
        )));
    }
    Ok(bytes)
}

impl Store {
    /// The evidence files of an item, oldest first.
    pub async fn rectify_files(&self, item: i64) -> Result<Vec<FileMeta>> {
        let sql = format!("SELECT {COLS} FROM rectify_files WHERE item_id = $1 ORDER BY id");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(item).fetch_all(p).await)?)
    }

    /// One evidence file and its bytes; bytes that no longer match their
    /// SHA-256 are an error.
    pub async fn rectify_file(&self, id: i64) -> Result<Option<(FileMeta, Vec<u8>)>> {
        let sql = format!("SELECT {COLS} FROM rectify_files WHERE id = $1");
        let meta: Option<FileMeta> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id).fetch_optional(p).await)?;
        let Some(meta) = meta else { return Ok(None) };
        let (data,): (String,) = on_pool!(self, p => sqlx::query_as(
            "SELECT data FROM rectify_files WHERE id = $1").bind(id).fetch_one(p).await)?;
        let bytes = decode(&format!("佐证材料 {id} "), &data, &meta.sha256)?;
        Ok(Some((meta, bytes)))
    }

    /// Merge item `from` into `into` (one region's year, neither closed nor
    /// merged): `into` takes `problem` as its words, `from` is no longer
    /// listed; one ledger entry.
    pub async fn merge_rectify_items(
        &self,
        into: i64,
        from: i64,
        problem: &str,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.hold().await?;
        let n = on_tx!(tx, c => sqlx::query(
            "UPDATE rectify_items SET merged_into = $1 WHERE id = $2 AND state <> 'closed' \
             AND merged_into IS NULL AND EXISTS (SELECT 1 FROM rectify_items t WHERE t.id = $1 \
             AND t.year = rectify_items.year AND t.region = rectify_items.region \
             AND t.state <> 'closed' AND t.merged_into IS NULL)")
            .bind(into).bind(from)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let m = on_tx!(tx, c => sqlx::query(
            "UPDATE rectify_items SET problem = $1 WHERE id = $2")
            .bind(problem).bind(into)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if n == 0 || m == 0 {
            tx.rollback().await?;
            return Err(StoreError::Conflict(
                "只能合并同一地区、同一年度、尚未销号的两个问题".into(),
            ));
        }
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::RectifyEdit,
                &format!("rectify_item:{into}"),
                json!({"merged": from, "chars": problem.chars().count()}),
            ),
        )
        .await?;
        tx.commit().await
    }
}
