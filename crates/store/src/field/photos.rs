//! `verify_photos`: a record's photos, kept with their SHA-256, which is
//! checked again whenever one is read.

use super::tasks::Task;
use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result, StoreError, sha256_hex};
use base64::Engine;
use pingan_core::labels::LedgerAction;
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Photo {
    pub id: i64,
    pub record_id: i64,
    pub file_name: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

const PHOTO_COLS: &str = "id, record_id, file_name, mime, size, sha256, uploaded_by, uploaded_at";

impl Store {
    pub(super) async fn photos(&self, record_id: i64) -> Result<Vec<Photo>> {
        let sql =
            format!("SELECT {PHOTO_COLS} FROM verify_photos WHERE record_id = $1 ORDER BY id");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(record_id).fetch_all(p).await)?)
    }

    /// Keep a photo (already checked to be an image of an allowed type and
    /// size) with its SHA-256 and one ledger entry.
    pub async fn insert_photo(
        &self,
        record_id: i64,
        name: &str,
        mime: &str,
        bytes: &[u8],
        actor: &Actor,
    ) -> Result<Photo> {
        let sha = sha256_hex(bytes);
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        let at = crate::now();
        let mut tx = self.begin().await?;
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO verify_photos (record_id, file_name, mime, size, sha256, data, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(record_id).bind(name).bind(mime).bind(bytes.len() as i64).bind(&sha).bind(&data)
        .bind(&actor.user).bind(&at)
        .fetch_one(&mut **c).await)?;
        let entry = NewEntry::new(
            LedgerAction::VerifyPhoto,
            &format!("verify_record:{record_id}"),
            json!({"photo": id, "file": name, "size": bytes.len(), "sha256": sha, "mime": mime}),
        );
        tx.append(actor, &entry).await?;
        tx.commit().await?;
        Ok(Photo {
            id,
            record_id,
            file_name: name.to_string(),
            mime: mime.to_string(),
            size: bytes.len() as i64,
            sha256: sha,
            uploaded_by: actor.user.clone(),
            uploaded_at: at,
        })
    }

    /// A photo's bytes, its metadata and the task it belongs to (for the
    /// scope check). A photo whose bytes no longer match its SHA-256 is an
    /// error, not an image.
    pub async fn photo(&self, id: i64) -> Result<Option<(Photo, Vec<u8>, Task)>> {
        let sql = format!("SELECT {PHOTO_COLS} FROM verify_photos WHERE id = $1");
        let meta: Option<Photo> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id).fetch_optional(p).await)?;
        let Some(meta) = meta else { return Ok(None) };
        let (data,): (String,) = on_pool!(self, p => sqlx::query_as(
            "SELECT data FROM verify_photos WHERE id = $1"
        ).bind(id).fetch_one(p).await)?;
        let Some((_, task)) = self.record_task(meta.record_id).await? else {
            return Ok(None);
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .map_err(|e| StoreError::Invalid(format!("照片 {id} 已损坏：{e}")))?;
        if sha256_hex(&bytes) != meta.sha256 {
            return Err(StoreError::Invalid(format!(
                "照片 {id} 的 SHA-256 与保存时不符"
            )));
        }
        Ok(Some((meta, bytes, task)))
    }
}
