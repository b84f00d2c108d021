//! Stored scores: computed with the framework version in force for the
//! period's year, kept per (version, period), dropped when data, framework
//! or benchmarks of that year change, so reading them is cheap.

use crate::audit::{NewEntry, append_in};
use crate::db::{Store, on_pool};
use crate::{Actor, Result, StoreError};
use pingan_core::data::DataSet;
use pingan_core::framework::check;
use pingan_core::period::{Date, Period, YearEnd};
use pingan_core::region::{Level, RegionRow, RegionTree};
use pingan_core::score::{RegionResult, ScoreReport, evaluate_all};
use pingan_core::{Framework, default_framework};
use serde_json::json;

/// A framework version as stored.
pub(crate) struct Version {
    pub id: i64,
    pub framework: std::sync::Arc<Framework>,
}

/// A stored region as the core's row (dates and level parsed back).
pub(crate) fn region_row(
    code: String,
    name: String,
    parent: Option<String>,
    level: &str,
    from: Option<String>,
    to: Option<String>,
) -> RegionRow {
    let date = |s: Option<String>, end| s.and_then(|s| Date::parse(&s, end).ok());
    RegionRow {
        code,
        name,
        parent,
        level: level.parse().unwrap_or(Level::Township),
        valid_from: date(from, YearEnd::Start),
        valid_to: date(to, YearEnd::End),
    }
}

impl Store {
    /// The regions in file order.
    pub async fn region_tree(&self) -> Result<RegionTree> {
        type Row = (
            String,
            String,
            Option<String>,
            String,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT code, name, parent, level, valid_from, valid_to FROM regions ORDER BY ord, code"
        ).fetch_all(p).await)?;
        let rows: Vec<RegionRow> = rows
            .into_iter()
            .map(|(code, name, parent, level, from, to)| {
                region_row(code, name, parent, &level, from, to)
            })
            .collect();
        RegionTree::new(rows)
            .map_err(|e| StoreError::Invalid(format!("数据库中的地区树有误：{}", e.message)))
    }

    /// The framework version in force for `year`: the latest imported one
    /// whose first year is not after it.
    pub(crate) async fn version_for(&self, year: i32) -> Result<Option<Version>> {
        let row: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id FROM frameworks WHERE year_from <= $1 ORDER BY year_from DESC, id DESC LIMIT 1"
        ).bind(year).fetch_optional(p).await)?;
        let Some((id,)) = row else { return Ok(None) };
        Ok(self
            .parsed_framework(id)
            .await?
            .map(|framework| Version { id, framework }))
    }

    /// Framework version `id`, parsed once per store.
    async fn parsed_framework(&self, id: i64) -> Result<Option<std::sync::Arc<Framework>>> {
        if let Some(f) = self
            .parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
        {
            return Ok(Some(f.clone()));
        }
        let row: Option<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT source FROM frameworks WHERE id = $1"
        ).bind(id).fetch_optional(p).await)?;
        let Some(framework) = row.and_then(|(src,)| check(&src).framework) else {
            return Ok(None);
        };
        let framework = std::sync::Arc::new(framework);
        self.parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, framework.clone());
        Ok(Some(framework))
    }

    /// The framework in force for `year`, if any version is stored.
    pub async fn framework_for_year(&self, year: i32) -> Result<Option<Framework>> {
        Ok(self
            .version_for(year)
            .await?
            .map(|v| v.framework.as_ref().clone()))
    }

    /// Every element and benchmark any stored version knows: what an import
    /// may name (the built-in framework when none is stored yet).
    pub async fn known_codes(&self) -> Result<Framework> {
        let ids: Vec<(i64,)> = on_pool!(self, p => sqlx::query_as("SELECT id FROM frameworks ORDER BY id DESC").fetch_all(p).await)?;
        let mut versions = Vec::with_capacity(ids.len());
        for (id,) in ids {
            versions.extend(self.parsed_framework(id).await?);
        }
        let mut all: Option<Framework> = None;
        for fw in versions {
            let fw = fw.as_ref().clone();
            match &mut all {
                None => all = Some(fw),
                Some(a) => {
                    for e in fw.elements {
                        if a.element_index(&e.code).is_none() {
                            a.elements.push(e);
                        }
                    }
                    for b in fw.benchmarks {
                        if a.benchmark_index(&b.code).is_none() {
                            a.benchmarks.push(b);
                        }
                    }
                }
            }
        }
        Ok(all.unwrap_or_else(default_framework))
    }

    /// Values for scoring `period`: its year and as many before as the
    /// formulas' prev() reach. Where several sources report one key, the
    /// latest submission counts. Official scores read approved values only;
    /// a preview reads the pending ones too.
    async fn load_data(
        &self,
        fw: &Framework,
        tree: &RegionTree,
        period: Period,
        preview: bool,
    ) -> Result<DataSet> {
        let year = period.year();
        let first = year - fw.prev_depth() as i32;
        type Row = (String, String, String, f64);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT region, period, element, value FROM data_values WHERE year >= $2 AND year <= $1 \
             AND ($3 OR review = 'approved') \
             ORDER BY region, period, element, submitted_at DESC, source"
        ).bind(year).bind(first).bind(preview).fetch_all(p).await)?;
        let mut data = DataSet::new(tree.len(), fw.elements.len());
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

    /// The years that have reported values, ascending. A loose index scan
    /// (one index probe per year), so it stays fast on millions of rows.
    pub async fn value_years(&self) -> Result<Vec<i32>> {
        let rows: Vec<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "WITH RECURSIVE y(v) AS ( \
               SELECT MIN(year) FROM data_values \
               UNION ALL \
               SELECT (SELECT MIN(year) FROM data_values WHERE year > y.v) FROM y WHERE y.v IS NOT NULL) \
             SELECT CAST(v AS BIGINT) FROM y WHERE v IS NOT NULL"
        ).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|r| r.0 as i32).collect())
    }

    /// Score `period` over every value, pending ones included, without
    /// storing anything: a preview, never the official result.
    pub async fn preview_scores(
        &self,
        period: Period,
        level: Option<Level>,
    ) -> Result<ScoreReport> {
        let year = period.year();
        let version = self.version_for(year).await?.ok_or_else(|| {
            StoreError::Invalid(format!(
                "没有适用于 {year} 年的指标体系：请先导入（pingan import framework）"
            ))
        })?;
        let tree = self.region_tree().await?;
        let data = self
            .load_data(&version.framework, &tree, period, true)
            .await?;
        let mut report = evaluate_all(&version.framework, &tree, &data, period, None)
            .map_err(|e| StoreError::Invalid(e.to_string()))?
            .score();
        report
            .results
            .retain(|r| level.is_none_or(|l| r.level == l.code()));
        Ok(report)
    }

    /// Score `period` from the stored data and keep the result.
    pub async fn compute_scores(&self, period: Period, actor: &Actor) -> Result<ScoreReport> {
        let year = period.year();
        let version = self.version_for(year).await?.ok_or_else(|| {
            StoreError::Invalid(format!(
                "没有适用于 {year} 年的指标体系：请先导入（pingan import framework）"
            ))
        })?;
        let tree = self.region_tree().await?;
        if tree.is_empty() {
            return Err(StoreError::Invalid(
                "数据库中还没有地区：请先导入（pingan import regions）".into(),
            ));
        }
        let data = self
            .load_data(&version.framework, &tree, period, false)
            .await?;
        // The evaluation holds Rc's: finish it before the next await, so the
        // future stays Send (the server runs this on a multi-threaded runtime).
        let report = evaluate_all(&version.framework, &tree, &data, period, None)
            .map_err(|e| StoreError::Invalid(e.to_string()))?
            .score();
        let algo = self.hash_algo().await?;
        let at = crate::now();
        let rows: Vec<(String, String, String)> = report
            .results
            .iter()
            .map(|r| Ok((r.region.clone(), r.level.clone(), serde_json::to_string(r)?)))
            .collect::<Result<_, serde_json::Error>>()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let digest = crate::sha256_hex(
            rows.iter()
                .map(|r| r.2.as_str())
                .collect::<String>()
                .as_bytes(),
        );
        let entry = NewEntry::new(
            "score_run",
            &format!("scores:{period}"),
            json!({"period": period.to_string(), "framework_version": version.id,
                   "framework": version.framework.code, "regions": rows.len(), "sha256": digest}),
        );
        let period_text = period.to_string();
        let numbered = self.backend() == crate::Backend::Postgres;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM score_runs WHERE framework_id = $1 AND period = $2")
                .bind(version.id).bind(&period_text).execute(&mut *tx).await?;
            let (run,): (i64,) = sqlx::query_as(
                "INSERT INTO score_runs (framework_id, period, computed_at) VALUES ($1, $2, $3) RETURNING id",
            ).bind(version.id).bind(&period_text).bind(&at).fetch_one(&mut *tx).await?;
            for (c, chunk) in rows.chunks(500).enumerate() {
                let mut sql = String::from("INSERT INTO score_results (run_id, ord, region, level, result) VALUES ");
                for i in 0..chunk.len() {
                    let b = i * 5;
                    if i > 0 { sql.push(','); }
                    if numbered {
                        sql.push_str(&format!("(${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5));
                    } else {
                        sql.push_str("(?, ?, ?, ?, ?)");
                    }
                }
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (i, (region, level, result)) in chunk.iter().enumerate() {
                    q = q.bind(run).bind((c * 500 + i) as i64).bind(region).bind(level).bind(result);
                }
                q.execute(&mut *tx).await?;
            }
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        Ok(report)
    }

    /// The stored scores of `period` (computed now if missing or stale), as
    /// `pingan score` prints them; `level` filters the output only.
    pub async fn scores(
        &self,
        period: Period,
        level: Option<Level>,
        actor: &Actor,
    ) -> Result<ScoreReport> {
        self.scores_where(period, level, None, actor).await
    }

    /// One region's stored result of `period` (computed now if missing).
    pub async fn region_score(
        &self,
        period: Period,
        region: &str,
        actor: &Actor,
    ) -> Result<Option<RegionResult>> {
        Ok(self
            .region_scores(period, &[region.to_string()], actor)
            .await?
            .into_iter()
            .next())
    }

    /// The stored results of these regions, in the stored order: a page
    /// about one region and its children reads only those rows.
    pub async fn region_scores(
        &self,
        period: Period,
        regions: &[String],
        actor: &Actor,
    ) -> Result<Vec<RegionResult>> {
        if regions.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .scores_where(period, None, Some(regions), actor)
            .await?
            .results)
    }

    async fn scores_where(
        &self,
        period: Period,
        level: Option<Level>,
        regions: Option<&[String]>,
        actor: &Actor,
    ) -> Result<ScoreReport> {
        let year = period.year();
        let version = self.version_for(year).await?.ok_or_else(|| {
            StoreError::Invalid(format!(
                "没有适用于 {year} 年的指标体系：请先导入（pingan import framework）"
            ))
        })?;
        let period_text = period.to_string();
        let run: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id FROM score_runs WHERE framework_id = $1 AND period = $2"
        ).bind(version.id).bind(&period_text).fetch_optional(p).await)?;
        let results = match run {
            None => self.compute_scores(period, actor).await?.results,
            Some((run,)) => {
                let level_text = level.map(|l| l.code().to_string());
                let mut sql = String::from(
                    "SELECT result FROM score_results WHERE run_id = $1 AND ($2 IS NULL OR level = $2)",
                );
                if let Some(codes) = regions {
                    // Few codes (one region and its children): $n is fine.
                    let marks: Vec<String> =
                        (0..codes.len()).map(|i| format!("${}", i + 3)).collect();
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
                    .map_err(|e| StoreError::Invalid(format!("存储的得分无法读取：{e}")))?
            }
        };
        let results = results
            .into_iter()
            .filter(|r| level.is_none_or(|l| r.level == l.code()))
            .filter(|r| regions.is_none_or(|codes| codes.contains(&r.region)))
            .collect();
        Ok(ScoreReport {
            framework: version.framework.code.clone(),
            period,
            results,
        })
    }
}

/// Drop stored scores whose inputs changed: every period from the earliest
/// changed year on (prev(), nested, reads any number of years back).
macro_rules! invalidate_years_in {
    ($tx:expr, $years:expr) => {{
        if let Some(first) = $years.iter().min() {
            sqlx::query("DELETE FROM score_runs WHERE period >= $1")
                .bind(first.to_string())
                .execute(&mut *$tx)
                .await?;
        }
    }};
}
pub(crate) use invalidate_years_in;

/// A stored value with its provenance.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StoredValue {
    pub region: String,
    pub period: String,
    pub element: String,
    pub source: String,
    pub value: f64,
    pub note: String,
    pub submitted_by: String,
    pub submitted_at: String,
    pub import_id: Option<i64>,
    /// `approved` (counts in official scores) or `pending` (in review).
    pub review: String,
}

/// At most this many values in one answer.
pub const VALUES_LIMIT: i64 = 100_000;

impl Store {
    /// Reported values matching every filter given (at least one is needed).
    pub async fn values(
        &self,
        region: Option<&str>,
        period: Option<&str>,
        element: Option<&str>,
    ) -> Result<Vec<StoredValue>> {
        if region.is_none() && period.is_none() && element.is_none() {
            return Err(StoreError::Invalid(
                "请至少指定 region、period、element 之一".into(),
            ));
        }
        type Row = (
            String,
            String,
            String,
            String,
            f64,
            String,
            String,
            String,
            Option<i64>,
            String,
        );
        // Only the filters given go into the WHERE clause: `($1 IS NULL OR
        // region = $1)` keeps SQLite off the primary key and scans every row
        // (0.19 s on the full province instead of well under a millisecond).
        let given: Vec<(&str, &str)> =
            [("region", region), ("period", period), ("element", element)]
                .into_iter()
                .filter_map(|(col, v)| v.map(|v| (col, v)))
                .collect();
        let conditions: Vec<String> = given
            .iter()
            .enumerate()
            .map(|(i, (col, _))| format!("{col} = ${}", i + 1))
            .collect();
        let sql = format!(
            "SELECT region, period, element, source, value, note, submitted_by, submitted_at, import_id, review \
             FROM data_values WHERE {} ORDER BY region, period, element, source, review LIMIT ${}",
            conditions.join(" AND "),
            given.len() + 1
        );
        let rows: Vec<Row> = on_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for (_, v) in &given {
                q = q.bind(*v);
            }
            q.bind(VALUES_LIMIT).fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| StoredValue {
                region: r.0,
                period: r.1,
                element: r.2,
                source: r.3,
                value: r.4,
                note: r.5,
                submitted_by: r.6,
                submitted_at: r.7,
                import_id: r.8,
                review: r.9,
            })
            .collect())
    }
}
