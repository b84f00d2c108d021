//! The `boundaries` table: each region's outline as GeoJSON geometry.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result};
use pingan_core::labels::LedgerAction;
use serde_json::json;

impl Store {
    /// Every region's geometry (region code, GeoJSON geometry).
    pub async fn boundaries(&self) -> Result<Vec<(String, String)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT region, geometry FROM boundaries ORDER BY region")
            .fetch_all(p).await)?)
    }

    /// Keep `rows` (region, geometry), replacing those regions' outlines, in
    /// one transaction with one ledger entry.
    pub async fn save_boundaries(
        &self,
        file: &str,
        sha256: &str,
        rows: &[(String, String)],
        actor: &Actor,
    ) -> Result<()> {
        let at = crate::now();
        let mut tx = self.begin().await?;
        for (region, geometry) in rows {
            on_tx!(tx, c => sqlx::query("DELETE FROM boundaries WHERE region = $1")
                .bind(region).execute(&mut **c).await.map(|r| r.rows_affected()))?;
            on_tx!(tx, c => sqlx::query(
                "INSERT INTO boundaries (region, geometry, imported_by, imported_at) VALUES ($1, $2, $3, $4)")
                .bind(region).bind(geometry).bind(&actor.user).bind(&at)
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::ImportBoundaries,
                &format!("boundaries:{file}"),
                json!({"regions": rows.len(), "sha256": sha256}),
            ),
        )
        .await?;
        tx.commit().await
    }
}
