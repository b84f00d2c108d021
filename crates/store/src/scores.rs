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

/// (region, period, element, value, submitted_at, source)
type ScoringRow = (String, String, String, f64, String, String);

/// Codes to positions, remembering the last region and period: rows of
/// one region and period mostly come together.
#[derive(Default)]
struct Lookup {
    region: Option<(String, usize)>,
    period: Option<(String, Period)>,
}

impl Lookup {
    fn key(
        &mut self,
        fw: &Framework,
        tree: &RegionTree,
        region: &str,
        period: &str,
        element: &str,
    ) -> Option<(usize, Period, usize)> {
        let r = match &self.region {
            Some((code, i)) if code == region => *i,
            _ => {
                let i = tree.find(region)?;
                self.region = Some((region.to_string(), i));
                i
            }
        };
        let p = match &self.period {
            Some((text, p)) if text == period => *p,
            _ => {
                let p = period.parse::<Period>().ok()?;
                self.period = Some((period.to_string(), p));
                p
            }
        };
        Some((r, p, fw.element_index(element)?))
    }
}

/// Put each key's latest value into `data`: the latest submission, and
/// among submissions at one instant the first source by name (as
/// `ORDER BY submitted_at DESC, source` would pick, without sorting
/// millions of rows in the database).
fn put_latest(fw: &Framework, tree: &RegionTree, rows: Vec<ScoringRow>, data: &mut DataSet) {
    let mut best: std::collections::HashMap<(usize, Period, usize), (String, String, f64)> =
        std::collections::HashMap::new();
    let mut look = Lookup::default();
    for (region, per, element, value, at, source) in rows {
        let Some(key) = look.key(fw, tree, &region, &per, &element) else {
            continue;
        };
        match best.get_mut(&key) {
            Some(b) if at > b.0 || (at == b.0 && source < b.1) => *b = (at, source, value),
            Some(_) => {}
            None => {
                best.insert(key, (at, source, value));
            }
        }
    }
    for ((r, per, e), (_, _, value)) in best {
        data.remove(r, per, e);
        let _ = data.insert(r, per, e, value);
    }
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
    ///
    /// Rows stream in unsorted (sorting 1.6 million rows in the database
    /// cost 1.3 s); the few (region, period) pairs that hold a key twice
    /// are read again and decided by `put_latest`.
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
        self.values_between(fw, tree, first, year, preview, data)
            .await
    }

    /// The values of years `first..=year` into `data`, as
    /// [`Store::scoring_values`] reads them (forecasts read every year).
    pub async fn values_between(
        &self,
        fw: &Framework,
        tree: &RegionTree,
        first: i32,
        year: i32,
        preview: bool,
        data: &mut DataSet,
    ) -> Result<()> {
        use futures_util::TryStreamExt;
        let mut twice: std::collections::BTreeSet<(String, String)> = Default::default();
        let mut look = Lookup::default();
        on_pool!(self, p => {
            let mut rows = sqlx::query_as::<_, (String, String, String, f64)>(
                "SELECT region, period, element, value FROM data_values \
                 WHERE year >= $2 AND year <= $1 AND ($3 OR review = 'approved')"
            ).bind(year).bind(first).bind(preview).fetch(p);
            while let Some((region, per, element, value)) = rows.try_next().await? {
                let Some((r, per, e)) = look.key(fw, tree, &region, &per, &element) else {
                    continue;
                };
                if data.insert(r, per, e, value).is_err() {
                    twice.insert((region, per.to_string()));
                }
            }
        });
        if !twice.is_empty() {
            let pairs: Vec<(String, String)> = twice.into_iter().collect();
            self.reread_values(fw, tree, &pairs, preview, data).await?;
        }
        Ok(())
    }

    /// The (region, period) pairs of years `first..=last` whose values
    /// were written after ledger entry `after`; None when more than `limit`
    /// changed (reading everything again is then cheaper).
    pub async fn value_changes(
        &self,
        after: i64,
        first: i32,
        last: i32,
        limit: usize,
    ) -> Result<Option<Vec<(String, String)>>> {
        let rows: Vec<(String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT DISTINCT region, period FROM value_changes WHERE seq > $1 AND year >= $2 AND year <= $3 \
             LIMIT $4"
        ).bind(after).bind(first).bind(last).bind(limit as i64 + 1).fetch_all(p).await)?;
        Ok((rows.len() <= limit).then_some(rows))
    }

    /// Read the values of these (region, period) pairs again into `data`,
    /// what was there for them taken out first.
    pub async fn reread_values(
        &self,
        fw: &Framework,
        tree: &RegionTree,
        pairs: &[(String, String)],
        preview: bool,
        data: &mut DataSet,
    ) -> Result<()> {
        let mut rows: Vec<ScoringRow> = Vec::new();
        for (region, period) in pairs {
            let (Some(r), Ok(per)) = (tree.find(region), period.parse::<Period>()) else {
                continue;
            };
            for e in 0..fw.elements.len() {
                data.remove(r, per, e);
            }
            let got: Vec<ScoringRow> = on_pool!(self, p => sqlx::query_as(
                "SELECT region, period, element, value, submitted_at, source FROM data_values \
                 WHERE region = $1 AND period = $2 AND ($3 OR review = 'approved')"
            ).bind(region).bind(period).bind(preview).fetch_all(p).await)?;
            rows.extend(got);
        }
        put_latest(fw, tree, rows, data);
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
