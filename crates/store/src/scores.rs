//! The `score_runs` and `score_results` tables: scores computed with the
//! framework version in force for the period's year, kept per (version,
//! period), dropped when data, framework or benchmarks of that year
//! change; and the values and benchmarks a scoring run reads.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result, StoreError};
use pingan_core::Framework;
use pingan_core::data::DataSet;
use pingan_core::labels::LedgerAction;
use pingan_core::period::Period;
use pingan_core::region::{Level, RegionTree};
use pingan_core::score::RegionResult;
use std::sync::Arc;

/// A framework version: its id and the framework.
#[derive(Clone)]
pub struct FrameworkVersion {
    pub id: i64,
    pub framework: Arc<Framework>,
}

/// A scoring run to keep: one JSON result per region, in order.
pub struct NewScoreRun<'a> {
    pub version: i64,
    pub period: Period,
    /// (region, level, result JSON)
    pub rows: &'a [(String, String, String)],
}

impl Store {
    /// The version in force for `year`.
    pub async fn framework_version(&self, year: i32) -> Result<Option<FrameworkVersion>> {
        Ok(self.version_for(year).await?.map(|v| FrameworkVersion {
            id: v.id,
            framework: v.framework,
        }))
    }

    /// The benchmarks a scoring of `period` reads: enough to tell whether
    /// it can be scored before reading any value (`scoring_values`).
    pub async fn scoring_benchmarks(
        &self,
        fw: &Framework,
        tree: &RegionTree,
        period: Period,
    ) -> Result<DataSet> {
        let year = period.year();
        let first = year - fw.prev_depth() as i32;
        let mut data = DataSet::new(tree.len(), fw.elements.len());
        let bench: Vec<(String, String, f64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT code, period, value FROM benchmarks WHERE year >= $2 AND year <= $1"
        ).bind(year).bind(first).fetch_all(p).await)?;
        for (code, per, value) in bench {
            if let (Some(b), Ok(per)) = (fw.benchmark_index(&code), per.parse::<Period>()) {
                let _ = data.insert_benchmark(b, per, value);
            }
        }
        Ok(data)
    }

    /// Values for scoring `period`, into `data`: its year and as many before
    /// as the formulas' prev() reach. Where several sources report one key,
    /// the latest submission counts. Official scores read approved values
    /// only; a preview reads the pending ones too.
    pub async fn scoring_values(
        &self,
        fw: &Framework,
        tree: &RegionTree,
        period: Period,
        preview: bool,
        data: &mut DataSet,
    ) -> Result<()> {
        let year = period.year();
        let first = year - fw.prev_depth() as i32;
        type Row = (String, String, String, f64);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT region, period, element, value FROM data_values WHERE year >= $2 AND year <= $1 \
             AND ($3 OR review = 'approved') \
             ORDER BY region, period, element, submitted_at DESC, source"
        ).bind(year).bind(first).bind(preview).fetch_all(p).await)?;
        for (region, per, element, value) in rows {
            let (Some(r), Ok(per), Some(e)) = (
                tree.find(&region),
                per.parse::<Period>(),
                fw.element_index(&element),
            ) else {
                continue;
            };
            // The first row of a key is the latest; later ones are older sources.
            let _ = data.insert(r, per, e, value);
        }
        Ok(())
    }

    /// The kept run of a version and period, if any.
    pub async fn score_run(&self, version: i64, period: Period) -> Result<Option<i64>> {
        let run: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id FROM score_runs WHERE framework_id = $1 AND period = $2"
        ).bind(version).bind(period.to_string()).fetch_optional(p).await)?;
        Ok(run.map(|r| r.0))
    }

    /// Keep a run (replacing the one of the same version and period) with
    /// its ledger entry.
    pub async fn save_score_run(
        &self,
        run: &NewScoreRun<'_>,
        detail: serde_json::Value,
        actor: &Actor,
    ) -> Result<()> {
        let at = crate::now();
        let period_text = run.period.to_string();
        let mut tx = self.begin().await?;
        let numbered = tx.numbered();
        on_tx!(tx, c => sqlx::query("DELETE FROM score_runs WHERE framework_id = $1 AND period = $2")
            .bind(run.version).bind(&period_text).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO score_runs (framework_id, period, computed_at) VALUES ($1, $2, $3) RETURNING id",
        ).bind(run.version).bind(&period_text).bind(&at).fetch_one(&mut **c).await)?;
        for (k, chunk) in run.rows.chunks(500).enumerate() {
            let sql = format!(
                "INSERT INTO score_results (run_id, ord, region, level, result) VALUES {}",
                crate::tx::placeholders(chunk.len(), 5, numbered)
            );
            on_tx!(tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (i, (region, level, result)) in chunk.iter().enumerate() {
                    q = q.bind(id).bind((k * 500 + i) as i64).bind(region).bind(level).bind(result);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::ScoreRun,
                &format!("scores:{}", run.period),
                detail,
            ),
        )
        .await?;
        tx.commit().await
    }

    /// A kept run's results in their stored order, optionally of one level
    /// and of some regions only.
    pub async fn score_results(
        &self,
        run: i64,
        level: Option<Level>,
        regions: Option<&[String]>,
    ) -> Result<Vec<RegionResult>> {
        let level_text = level.map(|l| l.code().to_string());
        let mut sql = String::from(
            "SELECT result FROM score_results WHERE run_id = $1 AND ($2 IS NULL OR level = $2)",
        );
        if let Some(codes) = regions {
            // Few codes (one region and its children): $n is fine.
            let marks: Vec<String> = (0..codes.len()).map(|i| format!("${}", i + 3)).collect();
            sql.push_str(&format!(" AND region IN ({})", marks.join(", ")));
        }
        sql.push_str(" ORDER BY ord");
        let rows: Vec<(String,)> = on_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(run).bind(&level_text);
            for c in regions.unwrap_or_default() {
                q = q.bind(c);
            }
            q.fetch_all(p).await
        })?;
        rows.into_iter()
            .map(|(r,)| serde_json::from_str::<RegionResult>(&r))
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Invalid(format!("存储的得分无法读取：{e}")))
    }
}
