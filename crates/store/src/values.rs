//! The `data_values` and `imports` tables: one row per region, period,
//! element, source and review state, with provenance.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::{BATCH, on_tx, placeholders};
use crate::{Actor, Result, StoreError};
use pingan_core::labels::{LedgerAction, ValueState};
use pingan_core::review::{SetKey, State};
use rustc_hash::FxHashMap;
use serde_json::json;

/// A stored value with its provenance.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
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

/// Up to this many keys (values, or data sets) are looked up by key; a
/// larger submission reads its years whole, which is then cheaper.
pub const KEYED_MAX: usize = 1000;
/// Keys per query of a keyed lookup (three parameters each).
pub(crate) const KEYS_PER_QUERY: usize = 300;

/// At most this many values in one answer.
pub const VALUES_LIMIT: i64 = 100_000;

/// What a stored row holds, to tell a new value from a changed one.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ValueRecord {
    pub region: String,
    pub period: String,
    pub element: String,
    pub source: String,
    pub value: f64,
    pub note: String,
    pub review: String,
}

/// One value to store.
#[derive(Clone, Debug)]
pub struct NewValue {
    pub region: String,
    pub period: String,
    pub year: i32,
    pub element: String,
    pub source: String,
    pub value: f64,
    pub note: String,
}

/// A submission to store in one transaction.
pub struct ValuesWrite<'a> {
    pub file: &'a str,
    pub sha256: &'a str,
    /// Rows, new, changed, unchanged.
    pub counts: [usize; 4],
    pub values: &'a [NewValue],
    /// `Approved` counts at once; `Pending` waits for the review.
    pub review: ValueState,
    /// The data sets the values belong to.
    pub sets: &'a [SetKey],
    pub years: &'a [i32],
    /// The ledger entry's detail (the store adds the import id).
    pub detail: serde_json::Value,
}

/// The check repeated inside the writing transaction, with the states of
/// the sets as they are then.
pub type Recheck<'a> = dyn Fn(&FxHashMap<SetKey, State>) -> Result<(), String> + Sync + 'a;

/// A test hook: stop after this many batches, mid-transaction, so a test
/// can kill the process there and check nothing was kept.
fn pause_after() -> Option<usize> {
    std::env::var("PINGAN_TEST_PAUSE_AFTER_BATCHES")
        .ok()?
        .parse()
        .ok()
}

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
        Ok(on_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for (_, v) in &given {
                q = q.bind(*v);
            }
            q.bind(VALUES_LIMIT).fetch_all(p).await
        })?)
    }

    /// The stored rows of these (region, period, element) keys, every
    /// source and review state: what a small submission is compared with,
    /// instead of its whole year (a year is 1.6 million rows).
    pub async fn value_records_at(&self, keys: &[(&str, &str, &str)]) -> Result<Vec<ValueRecord>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(KEYS_PER_QUERY) {
            let sql = format!(
                "SELECT region, period, element, source, value, note, review FROM data_values \
                 WHERE (region, period, element) IN (VALUES {})",
                crate::tx::placeholders(chunk.len(), 3, self.backend() == crate::Backend::Postgres)
            );
            let rows: Vec<ValueRecord> = on_pool!(self, p => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                for k in chunk {
                    q = q.bind(k.0).bind(k.1).bind(k.2);
                }
                q.fetch_all(p).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Every stored value of these years, as its row holds it.
    pub async fn value_records(&self, years: &[i32]) -> Result<Vec<ValueRecord>> {
        let mut out = Vec::new();
        for &y in years {
            let rows: Vec<ValueRecord> = on_pool!(self, p => sqlx::query_as(
                "SELECT region, period, element, source, value, note, review FROM data_values WHERE year = $1"
            ).bind(y).fetch_all(p).await)?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Store a submission: the import's row, the values (upserted on their
    /// key), for a pending one its sets back to `submitted`, for an
    /// approved one the stale scores dropped, and one ledger entry — or
    /// nothing, when `recheck` refuses the sets as they are now. Review
    /// steps are held off meanwhile, so what it checked stays true.
    pub async fn write_values(
        &self,
        w: &ValuesWrite<'_>,
        recheck: &Recheck<'_>,
        actor: &Actor,
    ) -> Result<i64> {
        let at = crate::now();
        let pause = pause_after();
        let review = w.review.code();
        let official = w.review == ValueState::Approved;
        let mut tx = self.begin_locked().await?;
        let [rows, imported, updated, ignored] = w.counts.map(|n| n as i64);
        let (import_id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO imports (kind, file, sha256, rows, imported, updated, ignored, user_name, client, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind("values").bind(w.file).bind(w.sha256).bind(rows).bind(imported)
        .bind(updated).bind(ignored).bind(&actor.user).bind(&actor.client).bind(&at)
        .fetch_one(&mut **c).await)?;
        let states = tx.set_states_of(w.years, w.sets).await?;
        recheck(&states).map_err(StoreError::Conflict)?;
        let numbered = tx.numbered();
        for (n, chunk) in w.values.chunks(BATCH).enumerate() {
            if pause == Some(n) {
                eprintln!("PINGAN_TEST_PAUSED");
                tokio::time::sleep(std::time::Duration::from_secs(600)).await;
            }
            let sql = format!(
                "INSERT INTO data_values (region, period, year, element, source, value, note, submitted_by, submitted_at, import_id, review) \
                 VALUES {} ON CONFLICT (region, period, element, source, review) DO UPDATE SET value = excluded.value, \
                 note = excluded.note, year = excluded.year, submitted_by = excluded.submitted_by, \
                 submitted_at = excluded.submitted_at, import_id = excluded.import_id",
                placeholders(chunk.len(), 11, numbered)
            );
            for r in chunk {
                tx.touch(&r.region, &r.period, official);
            }
            on_tx!(tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(&r.region).bind(&r.period).bind(r.year).bind(&r.element).bind(&r.source)
                        .bind(r.value).bind(&r.note).bind(&actor.user).bind(&at).bind(import_id).bind(review);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        match w.review {
            ValueState::Pending => tx.submit_sets(w.sets, &states, &actor.user, &at).await?,
            ValueState::Approved => tx.invalidate_years(w.years).await?,
        }
        let mut detail = w.detail.clone();
        detail["import_id"] = json!(import_id);
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::ImportValues,
                &format!("values:{}", w.file),
                detail,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(import_id)
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

    /// Pending values of a year per region, for a count within a scope.
    pub async fn pending_by_region(&self, year: i32) -> Result<Vec<(String, i64)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT region, COUNT(*) FROM data_values WHERE year = $1 AND review = 'pending' GROUP BY region"
        ).bind(year).fetch_all(p).await)?)
    }

    /// Pending values in a year: what a preview adds to official scores.
    pub async fn pending_values(&self, year: i32) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM data_values WHERE year = $1 AND review = 'pending'"
        ).bind(year).fetch_one(p).await)?;
        Ok(n)
    }
}

/// One department's reporting for one region and period.
#[derive(Clone, Debug, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct Submission {
    pub department: String,
    pub region: String,
    pub period: String,
    /// Values stored.
    #[sqlx(rename = "n_values")]
    pub values: i64,
    /// The first submission's time.
    pub first_at: String,
}

impl Store {
    /// What each department reported for each region and period of `year`
    /// (the 报送进度 board), by the framework in force that year.
    pub async fn submissions(&self, year: i32) -> Result<Vec<Submission>> {
        let Some(v) = self.version_for(year).await? else {
            return Ok(Vec::new());
        };
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT e.department AS department, v.region AS region, v.period AS period, \
             COUNT(*) AS n_values, MIN(v.submitted_at) AS first_at \
             FROM data_values v JOIN elements e ON e.framework_id = $2 AND e.code = v.element \
             WHERE v.year = $1 AND e.department <> '' \
             GROUP BY e.department, v.region, v.period"
        ).bind(year).bind(v.id).fetch_all(p).await)?)
    }

    /// `submissions` of these (region, period) pairs only (a kept board
    /// brought up to date after writes).
    pub async fn submissions_of(
        &self,
        year: i32,
        pairs: &[(String, String)],
    ) -> Result<Vec<Submission>> {
        let Some(v) = self.version_for(year).await? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (region, period) in pairs {
            let rows: Vec<Submission> = on_pool!(self, p => sqlx::query_as(
                "SELECT e.department AS department, v.region AS region, v.period AS period, \
                 COUNT(*) AS n_values, MIN(v.submitted_at) AS first_at \
                 FROM data_values v JOIN elements e ON e.framework_id = $2 AND e.code = v.element \
                 WHERE v.region = $3 AND v.period = $4 AND v.year = $1 AND e.department <> '' \
                 GROUP BY e.department, v.region, v.period"
            ).bind(year).bind(v.id).bind(region).bind(period).fetch_all(p).await)?;
            out.extend(rows);
        }
        Ok(out)
    }
}
