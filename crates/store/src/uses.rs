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
    /// The share of the 考核 total given to the score (percent), when the
    /// use is an assessment.
    pub weight: Option<f64>,
    /// Whether the rule recorded was applied (1) or not (0).
    pub applied: i64,
}

/// A use of a region's results to record.
#[derive(Clone, Copy)]
pub struct NewUse<'a> {
    pub year: i32,
    pub region: &'a str,
    pub kind: &'a str,
    pub note: &'a str,
    pub weight: Option<f64>,
    pub applied: bool,
}

impl Store {
    pub async fn result_uses(&self, year: i32) -> Result<Vec<ResultUse>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, year, region, kind, note, recorded_by, recorded_at, weight, applied FROM result_uses \
             WHERE year = $1 ORDER BY region, id")
            .bind(year).fetch_all(p).await)?)
    }

    pub async fn record_use(&self, u: &NewUse<'_>, actor: &Actor) -> Result<i64> {
        let NewUse {
            year,
            region,
            kind,
            note,
            weight,
            applied,
        } = *u;
        let at = crate::now();
        let mut tx = self.begin().await?;
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO result_uses (year, region, kind, note, recorded_by, recorded_at, weight, applied) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(year).bind(region).bind(kind).bind(note).bind(&actor.user).bind(&at)
            .bind(weight).bind(applied as i64)
            .fetch_one(&mut **c).await)?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::ResultUse,
                &format!("result_use:{region}@{year}"),
                json!({"id": id, "kind": kind, "weight": weight, "applied": applied}),
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
             FROM rectify_items i WHERE i.year = $1 AND i.merged_into IS NULL ORDER BY i.id")
            .bind(year).fetch_all(p).await)?)
    }
}
