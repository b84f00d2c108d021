//! The `cases` table: the mediation register (调解案件台账) that callback
//! sampling draws from, idempotent on the case id.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::{BATCH, on_tx, placeholders};
use crate::{Actor, Result};
use pingan_core::labels::LedgerAction;
use serde::Serialize;
use serde_json::json;

/// A case from the register, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Case {
    pub case_id: String,
    pub region: String,
    pub date: String,
    pub year: i32,
    /// 纠纷类型.
    #[serde(rename = "type")]
    pub kind: String,
    /// 调解成功, 调解不成功, 调解中 or 终止调解.
    pub outcome: String,
    pub agreement: bool,
    pub fulfilled: bool,
    pub note: String,
    pub import_id: Option<i64>,
    pub imported_by: String,
    pub imported_at: String,
}

pub(crate) const CASE_COLUMNS: &str = "case_id, region, date, year, kind, outcome, agreement, fulfilled, note, \
     import_id, imported_by, imported_at";

/// What a case says (without its provenance): to store, or to tell an
/// unchanged row from a changed one.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct CaseRecord {
    pub case_id: String,
    pub region: String,
    pub date: String,
    pub year: i32,
    pub kind: String,
    pub outcome: String,
    pub agreement: bool,
    pub fulfilled: bool,
    pub note: String,
}

impl CaseRecord {
    /// Everything a re-import may change.
    pub fn content(&self) -> (&str, &str, &str, &str, bool, bool, &str) {
        (
            &self.region,
            &self.date,
            &self.kind,
            &self.outcome,
            self.agreement,
            self.fulfilled,
            &self.note,
        )
    }
}

/// A register import to store in one transaction.
pub struct CasesWrite<'a> {
    pub file: &'a str,
    pub sha256: &'a str,
    /// Rows, new, changed, unchanged.
    pub counts: [usize; 4],
    pub cases: &'a [CaseRecord],
}

impl Store {
    /// What every stored case says.
    pub async fn case_records(&self) -> Result<Vec<CaseRecord>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT case_id, region, date, year, kind, outcome, agreement, fulfilled, note FROM cases"
        ).fetch_all(p).await)?)
    }

    /// Cases drawn for a callback at least once: evidence, not rewritten.
    pub async fn drawn_case_ids(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT DISTINCT case_id FROM callbacks"
        ).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Store a register import: the import's row, the cases (upserted on
    /// their id), one ledger entry (`detail` gets the import id).
    pub async fn write_cases(
        &self,
        w: &CasesWrite<'_>,
        mut detail: serde_json::Value,
        actor: &Actor,
    ) -> Result<i64> {
        let at = crate::now();
        let [rows, imported, updated, ignored] = w.counts.map(|n| n as i64);
        let mut tx = self.begin().await?;
        let numbered = tx.numbered();
        let (import_id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO imports (kind, file, sha256, rows, imported, updated, ignored, user_name, client, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind("cases").bind(w.file).bind(w.sha256).bind(rows).bind(imported)
        .bind(updated).bind(ignored).bind(&actor.user).bind(&actor.client).bind(&at)
        .fetch_one(&mut **c).await)?;
        for chunk in w.cases.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO cases ({CASE_COLUMNS}) VALUES {} ON CONFLICT (case_id) DO UPDATE SET \
                 region = excluded.region, date = excluded.date, year = excluded.year, kind = excluded.kind, \
                 outcome = excluded.outcome, agreement = excluded.agreement, fulfilled = excluded.fulfilled, \
                 note = excluded.note, import_id = excluded.import_id, imported_by = excluded.imported_by, \
                 imported_at = excluded.imported_at",
                placeholders(chunk.len(), 12, numbered)
            );
            on_tx!(tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(&r.case_id).bind(&r.region).bind(&r.date).bind(r.year).bind(&r.kind)
                        .bind(&r.outcome).bind(r.agreement).bind(r.fulfilled).bind(&r.note)
                        .bind(import_id).bind(&actor.user).bind(&at);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        detail["import_id"] = json!(import_id);
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::ImportCases,
                &format!("cases:{}", w.file),
                detail,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(import_id)
    }

    /// Cases of `year` (every year when None), by region and date.
    pub async fn cases(&self, year: Option<i32>) -> Result<Vec<Case>> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE ($1 IS NULL OR year = $1) ORDER BY region, date, case_id"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(year).fetch_all(p).await)?,
        )
    }

    /// (case id, region) of `year`'s cases with this outcome.
    pub async fn cases_with_outcome(
        &self,
        year: i32,
        outcome: &str,
    ) -> Result<Vec<(String, String)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT case_id, region FROM cases WHERE year = $1 AND outcome = $2"
        ).bind(year).bind(outcome).fetch_all(p).await)?)
    }

    /// (region, outcome) of every case of `year`.
    pub async fn case_outcomes(&self, year: i32) -> Result<Vec<(String, String)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT region, outcome FROM cases WHERE year = $1"
        ).bind(year).fetch_all(p).await)?)
    }
}
