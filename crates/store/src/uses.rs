//! The `result_uses` table: what a region's results were used for, and
//! the rectification dates the effect evaluation counts.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result};
use pingan_core::labels::LedgerAction;
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct ResultUse {
    pub id: i64,
    pub year: i32,
    pub region: String,
    /// `policy`, `resources` or `assessment`.
    pub kind: String,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: String,
}

impl Store {
    pub async fn result_uses(&self, year: i32) -> Result<Vec<ResultUse>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, year, region, kind, note, recorded_by, recorded_at FROM result_uses \
             WHERE year = $1 ORDER BY region, id")
            .bind(year).fetch_all(p).await)?)
    }

    pub async fn record_use(
        &self,
        year: i32,
        region: &str,
        kind: &str,
        note: &str,
        actor: &Actor,
    ) -> Result<i64> {
        let at = crate::now();
        let mut tx = self.begin().await?;
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO result_uses (year, region, kind, note, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(year).bind(region).bind(kind).bind(note).bind(&actor.user).bind(&at)
            .fetch_one(&mut **c).await)?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::ResultUse,
                &format!("result_use:{region}@{year}"),
                json!({"id": id, "kind": kind}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Each item of a year: its deadline and when it was closed (the time of
    /// its last approval), if it was.
    pub async fn rectify_due(&self, year: i32) -> Result<Vec<(String, Option<String>)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT i.deadline, (SELECT MAX(s.done_at) FROM rectify_steps s \
                                 WHERE s.item_id = i.id AND s.action = 'approve') \
             FROM rectify_items i WHERE i.year = $1 ORDER BY i.id")
            .bind(year).fetch_all(p).await)?)
    }
}
