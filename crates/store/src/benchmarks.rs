//! The `benchmarks` table: national or provincial reference values by
//! code and period.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result};
use pingan_core::labels::LedgerAction;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct BenchmarkRecord {
    pub code: String,
    pub period: String,
    pub year: i32,
    pub value: f64,
}

impl Store {
    pub async fn benchmark_records(&self) -> Result<Vec<BenchmarkRecord>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT code, period, year, value FROM benchmarks"
        ).fetch_all(p).await)?)
    }

    /// Insert or update benchmarks by (code, period); the stored scores of
    /// `years` on go. One transaction, one ledger entry.
    pub async fn upsert_benchmarks(
        &self,
        rows: &[BenchmarkRecord],
        years: &[i32],
        detail: serde_json::Value,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        for b in rows {
            on_tx!(tx, c => sqlx::query(
                "INSERT INTO benchmarks (code, period, year, value) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code, period) DO UPDATE SET value = excluded.value, year = excluded.year",
            )
            .bind(&b.code).bind(&b.period).bind(b.year).bind(b.value)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        tx.invalidate_years(years).await?;
        let file = detail["file"].as_str().unwrap_or_default().to_string();
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::ImportBenchmarks,
                &format!("benchmarks:{file}"),
                detail,
            ),
        )
        .await?;
        tx.commit().await
    }
}
