//! The `publications` table: a year's published results (a JSON snapshot)
//! and the 公示 window it opened.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result};
use pingan_core::labels::LedgerAction;
use serde_json::json;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Publication {
    pub year: i32,
    pub published_at: String,
    /// RFC 3339; the 公示 window is open until then.
    pub window_ends: String,
    pub published_by: String,
    /// The ledger's head when the results were read.
    pub ledger_seq: i64,
    /// The published results as JSON.
    pub results: String,
    /// When the office made the publication final ('' before).
    pub final_at: String,
}

impl Store {
    pub async fn publication(&self, year: i32) -> Result<Option<Publication>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT year, published_at, window_ends, published_by, ledger_seq, results, final_at FROM publications \
             WHERE year = $1")
            .bind(year).fetch_optional(p).await)?)
    }

    /// Publish (or publish again) a year's results, with its ledger entry.
    pub async fn publish(
        &self,
        year: i32,
        window_ends: &str,
        ledger_seq: i64,
        results: &str,
        regions: usize,
        actor: &Actor,
    ) -> Result<Publication> {
        let at = crate::now();
        let mut tx = self.begin().await?;
        tx.hold().await?;
        let (finals,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "SELECT COUNT(*) FROM publications WHERE year = $1 AND final_at <> ''")
            .bind(year).fetch_one(&mut **c).await)?;
        if finals > 0 {
            tx.rollback().await?;
            return Err(crate::StoreError::Conflict(format!(
                "{year} 年的测评结果已正式发布，不能再更改"
            )));
        }
        on_tx!(tx, c => sqlx::query("DELETE FROM publications WHERE year = $1")
            .bind(year).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO publications (year, published_at, window_ends, published_by, ledger_seq, results) \
             VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(year).bind(&at).bind(window_ends).bind(&actor.user).bind(ledger_seq).bind(results)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::Publish,
                &format!("publication:{year}"),
                json!({"regions": regions, "window_ends": window_ends, "ledger_seq": ledger_seq}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(Publication {
            year,
            published_at: at,
            window_ends: window_ends.to_string(),
            published_by: actor.user.clone(),
            ledger_seq,
            results: results.to_string(),
            final_at: String::new(),
        })
    }

    /// Make a year's publication final (after the 公示), with its ledger
    /// entry; no snapshot may replace it afterwards.
    pub async fn publish_final(&self, year: i32, actor: &Actor) -> Result<String> {
        let at = crate::now();
        let mut tx = self.begin().await?;
        let n = on_tx!(tx, c => sqlx::query(
            "UPDATE publications SET final_at = $1 WHERE year = $2 AND final_at = ''")
            .bind(&at).bind(year).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            tx.rollback().await?;
            return Err(crate::StoreError::Conflict(format!(
                "{year} 年的测评结果尚未公开或已正式发布"
            )));
        }
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::Publish,
                &format!("publication:{year}"),
                json!({"final": true}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(at)
    }
}
