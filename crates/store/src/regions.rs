//! The `regions` table: the tree in file order, with validity dates.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::{BATCH, on_tx, placeholders};
use crate::{Actor, Result, StoreError};
use pingan_core::labels::LedgerAction;
use pingan_core::period::{Date, YearEnd};
use pingan_core::region::{Level, RegionRow, RegionTree};

/// A stored region, as its row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RegionRecord {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub level: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    /// Position in the imported file.
    pub ord: i64,
}

impl RegionRecord {
    /// The core's row (dates and level parsed back).
    pub fn to_core(&self) -> RegionRow {
        let date = |s: &Option<String>, end| s.as_deref().and_then(|s| Date::parse(s, end).ok());
        RegionRow {
            code: self.code.clone(),
            name: self.name.clone(),
            parent: self.parent.clone(),
            level: self.level.parse().unwrap_or(Level::Township),
            valid_from: date(&self.valid_from, YearEnd::Start),
            valid_to: date(&self.valid_to, YearEnd::End),
        }
    }
}

const COLUMNS: &str = "code, name, parent, level, valid_from, valid_to, ord";

impl Store {
    /// Every stored region, in file order.
    pub async fn region_records(&self) -> Result<Vec<RegionRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM regions ORDER BY ord, code");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?)
    }

    /// The regions as a tree, in file order.
    pub async fn region_tree(&self) -> Result<RegionTree> {
        let rows: Vec<RegionRow> = self
            .region_records()
            .await?
            .iter()
            .map(RegionRecord::to_core)
            .collect();
        RegionTree::new(rows)
            .map_err(|e| StoreError::Invalid(format!("数据库中的地区树有误：{}", e.message)))
    }

    pub async fn region_exists(&self, code: &str) -> Result<bool> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM regions WHERE code = $1"
        ).bind(code).fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// Insert or update regions by code in one transaction; every stored
    /// score goes (the tree changed), and one ledger entry records it.
    pub async fn upsert_regions(
        &self,
        rows: &[RegionRecord],
        detail: serde_json::Value,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let numbered = tx.numbered();
        for chunk in rows.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO regions ({COLUMNS}) VALUES {} \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent = excluded.parent, \
                 level = excluded.level, valid_from = excluded.valid_from, valid_to = excluded.valid_to, ord = excluded.ord",
                placeholders(chunk.len(), 7, numbered)
            );
            on_tx!(tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(&r.code).bind(&r.name).bind(&r.parent).bind(&r.level)
                        .bind(&r.valid_from).bind(&r.valid_to).bind(r.ord);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        on_tx!(tx, c => sqlx::query("DELETE FROM score_runs").execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let file = detail["file"].as_str().unwrap_or_default().to_string();
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::ImportRegions,
                &format!("regions:{file}"),
                detail,
            ),
        )
        .await?;
        tx.commit().await
    }
}
