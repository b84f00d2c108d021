//! The `report_edits` table: versions of the words of a report's or a
//! notice's sections, as the office edited them before issuing.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result};
use pingan_core::labels::LedgerAction;
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct ReportEdit {
    pub year: i32,
    pub region: String,
    pub kind: String,
    pub section: String,
    pub version: i64,
    /// '' puts the generated words back.
    pub text: String,
    pub edited_by: String,
    pub edited_at: String,
}

/// Which document's section.
pub struct EditKey<'a> {
    pub year: i32,
    pub region: &'a str,
    /// `report` or `notice`.
    pub kind: &'a str,
}

impl Store {
    /// Every version of every section of a document, oldest first.
    pub async fn report_edits(&self, k: &EditKey<'_>) -> Result<Vec<ReportEdit>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT year, region, kind, section, version, text, edited_by, edited_at FROM report_edits \
             WHERE year = $1 AND region = $2 AND kind = $3 ORDER BY section, version")
            .bind(k.year).bind(k.region).bind(k.kind).fetch_all(p).await)?)
    }

    /// A new version of a section, in one transaction with its ledger entry;
    /// two saves at once get consecutive versions.
    pub async fn save_report_edit(
        &self,
        k: &EditKey<'_>,
        section: &str,
        text: &str,
        actor: &Actor,
    ) -> Result<ReportEdit> {
        for _ in 0..5 {
            let at = crate::now();
            let mut tx = self.begin().await?;
            let (next,): (i64,) = on_tx!(tx, c => sqlx::query_as(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM report_edits \
                 WHERE year = $1 AND region = $2 AND kind = $3 AND section = $4")
                .bind(k.year).bind(k.region).bind(k.kind).bind(section)
                .fetch_one(&mut **c).await)?;
            let won = on_tx!(tx, c => sqlx::query(
                "INSERT INTO report_edits (year, region, kind, section, version, text, edited_by, edited_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING")
                .bind(k.year).bind(k.region).bind(k.kind).bind(section).bind(next)
                .bind(text).bind(&actor.user).bind(&at)
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
            if won == 0 {
                tx.rollback().await?;
                continue;
            }
            tx.append(
                actor,
                &NewEntry::new(
                    LedgerAction::ReportEdit,
                    &format!("{}:{}@{}#{section}", k.kind, k.region, k.year),
                    json!({"version": next, "chars": text.chars().count()}),
                ),
            )
            .await?;
            tx.commit().await?;
            return Ok(ReportEdit {
                year: k.year,
                region: k.region.to_string(),
                kind: k.kind.to_string(),
                section: section.to_string(),
                version: next,
                text: text.to_string(),
                edited_by: actor.user.clone(),
                edited_at: at,
            });
        }
        Err(crate::StoreError::Conflict(
            "该段落正在被他人修改，请稍后重试".into(),
        ))
    }
}
