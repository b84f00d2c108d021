//! Forecasts and risk runs (issue 22): what `pingan risk --refresh` keeps,
//! so the 风险预警 page and the map read them instead of forecasting on a
//! request; and the warnings sent to regions.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result};
use pingan_core::labels::LedgerAction;
use serde::Serialize;

/// One forecast series: its months (from `first`) and backtest as JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct ForecastRow {
    pub region: String,
    pub element: String,
    pub first: String,
    pub model: String,
    pub body: String,
}

/// A kept risk run.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct RiskRun {
    /// The first month assessed (`2025-01`).
    pub period: String,
    pub train_end: String,
    /// The ledger head when the values were read: a later value change
    /// makes the run stale.
    pub data_seq: i64,
    pub summary: String,
    pub body: String,
    pub made_by: String,
    pub made_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct RiskWarning {
    pub period: String,
    pub region: String,
    pub indicator: String,
    pub message: String,
    pub field_task: Option<i64>,
    pub sent_by: String,
    pub sent_at: String,
}

const RUN_COLS: &str = "period, train_end, data_seq, summary, body, made_by, made_at";
const WARN_COLS: &str = "period, region, indicator, message, field_task, sent_by, sent_at";

impl Store {
    /// Replace every forecast and the run of `run.period` in one
    /// transaction, with one ledger entry.
    pub async fn save_risk_run(
        &self,
        forecasts: &[ForecastRow],
        run: &RiskRun,
        detail: serde_json::Value,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query("DELETE FROM forecasts").execute(&mut **c).await.map(|r| r.rows_affected()))?;
        for f in forecasts {
            on_tx!(tx, c => sqlx::query(
                "INSERT INTO forecasts (region, element, first, model, body, made_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&f.region).bind(&f.element).bind(&f.first).bind(&f.model).bind(&f.body).bind(&run.made_at)
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        on_tx!(tx, c => sqlx::query("DELETE FROM risk_runs WHERE period = $1")
            .bind(&run.period).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO risk_runs (period, train_end, data_seq, summary, body, made_by, made_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&run.period).bind(&run.train_end).bind(run.data_seq).bind(&run.summary)
            .bind(&run.body).bind(&run.made_by).bind(&run.made_at)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::RefreshRisk,
                &format!("risk:{}", run.period),
                detail,
            ),
        )
        .await?;
        tx.commit().await
    }

    /// The newest run (by period), or the run of `period`.
    pub async fn risk_run(&self, period: Option<&str>) -> Result<Option<RiskRun>> {
        Ok(match period {
            Some(p) => on_pool!(self, x => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {RUN_COLS} FROM risk_runs WHERE period = $1"))).bind(p).fetch_optional(x).await)?,
            None => on_pool!(self, x => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {RUN_COLS} FROM risk_runs ORDER BY period DESC LIMIT 1"))).fetch_optional(x).await)?,
        })
    }

    /// The periods that have a run, newest first.
    pub async fn risk_periods(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, x => sqlx::query_as(
            "SELECT period FROM risk_runs ORDER BY period DESC").fetch_all(x).await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// One series' kept forecast (its JSON body and model).
    pub async fn forecast_of(&self, region: &str, element: &str) -> Result<Option<ForecastRow>> {
        let row: Option<(String, String, String, String, String)> = on_pool!(self, x => sqlx::query_as(
            "SELECT region, element, first, model, body FROM forecasts WHERE region = $1 AND element = $2")
            .bind(region).bind(element).fetch_optional(x).await)?;
        Ok(
            row.map(|(region, element, first, model, body)| ForecastRow {
                region,
                element,
                first,
                model,
                body,
            }),
        )
    }

    /// Whether any value that counts in official scores was written after
    /// ledger entry `seq` (a department's submission in review is not).
    pub async fn values_changed_since(&self, seq: i64) -> Result<bool> {
        let row: Option<(i64,)> = on_pool!(self, x => sqlx::query_as(
            "SELECT seq FROM value_changes WHERE seq > $1 AND official LIMIT 1").bind(seq).fetch_optional(x).await)?;
        Ok(row.is_some())
    }

    /// Record a warning sent to a region (replacing an earlier one of the
    /// same period, region and indicator), with a ledger entry.
    pub async fn save_risk_warning(&self, w: &RiskWarning, actor: &Actor) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query(
            "DELETE FROM risk_warnings WHERE period = $1 AND region = $2 AND indicator = $3")
            .bind(&w.period).bind(&w.region).bind(&w.indicator)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO risk_warnings ({WARN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)")))
            .bind(&w.period).bind(&w.region).bind(&w.indicator).bind(&w.message)
            .bind(w.field_task).bind(&w.sent_by).bind(&w.sent_at)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::SendRiskWarning,
                &format!("risk:{}:{}:{}", w.period, w.region, w.indicator),
                serde_json::json!({"message": w.message, "field_task": w.field_task}),
            ),
        )
        .await?;
        tx.commit().await
    }

    /// The warnings sent to `region` (every region: `None`), newest first.
    pub async fn risk_warnings(&self, region: Option<&str>) -> Result<Vec<RiskWarning>> {
        // Two statements: `$1 IS NULL OR region = $1` keeps SQLite off the index.
        Ok(match region {
            Some(r) => on_pool!(self, x => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {WARN_COLS} FROM risk_warnings WHERE region = $1 ORDER BY sent_at DESC")))
                .bind(r).fetch_all(x).await)?,
            None => on_pool!(self, x => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {WARN_COLS} FROM risk_warnings ORDER BY sent_at DESC"))).fetch_all(x).await)?,
        })
    }
}
