//! Restoring a backup into an empty database, the ledger checked before
//! anything is kept.

use super::{BackupSummary, Kind, Kind::*, OPTIONAL, SERIAL, TABLES, bad, column_sources};
use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::{Tx, on_tx};
use crate::{Actor, Result, StoreError};
use flate2::read::GzDecoder;
use pingan_core::labels::LedgerAction;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};

impl Store {
    /// Restore into an empty database, then check the ledger.
    pub async fn restore(&self, from: &std::path::Path, actor: &Actor) -> Result<BackupSummary> {
        let (regions,): (i64,) =
            on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM regions").fetch_one(p).await)?;
        let (values,): (i64,) = on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM data_values").fetch_one(p).await)?;
        let (fws,): (i64,) = on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM frameworks").fetch_one(p).await)?;
        let users = self.count("users").await?;
        if regions + values + fws + users + self.audit_count().await? > 0 {
            return Err(StoreError::Invalid(
                "只能恢复到空数据库：目标数据库中已有数据".into(),
            ));
        }
        let file = std::fs::File::open(from).map_err(|e| {
            StoreError::Invalid(format!("{}: 无法读取备份文件：{e}", from.display()))
        })?;
        let mut lines = BufReader::new(GzDecoder::new(file)).lines().enumerate();
        let mut next = |what: &str| -> Result<(usize, Value)> {
            match lines.next() {
                Some((i, Ok(l))) => serde_json::from_str(&l)
                    .map(|v| (i + 1, v))
                    .map_err(|_| bad(i + 1, "不是 JSON")),
                Some((i, Err(e))) => Err(bad(i + 1, &e.to_string())),
                None => Err(bad(0, &format!("文件不完整（缺少{what}）"))),
            }
        };
        let (_, header) = next("文件头")?;
        if header.get("pingan_backup") != Some(&json!(1)) {
            return Err(bad(1, "不是 pingan 备份文件"));
        }
        let mut tables = Vec::new();
        let algo = match header
            .get("hash")
            .and_then(Value::as_str)
            .and_then(crate::HashAlgo::parse)
        {
            Some(a) => a,
            None => self.hash_algo().await?,
        };
        let mut tx = self.begin().await?;
        tx.ledger_moved();
        // The migration seeded the head row; the backup brings its own.
        on_tx!(tx, c => sqlx::query("DELETE FROM audit_head").execute(&mut **c).await.map(|r| r.rows_affected()))?;
        on_tx!(tx, c => sqlx::query("DELETE FROM meta").execute(&mut **c).await.map(|r| r.rows_affected()))?;
        {
            let (mut line, mut v) = next("表")?;
            for (k, (table, cols)) in TABLES.iter().enumerate() {
                // A backup made before a later table existed ends early, or
                // goes on with a table that comes after it here (builds have
                // added optional tables in different orders).
                let next_is_later = v.get("table").and_then(Value::as_str).is_some_and(|t| {
                    t != *table && TABLES[k + 1..].iter().any(|(later, _)| *later == t)
                });
                if OPTIONAL.contains(table) && (v.get("end") == Some(&json!(true)) || next_is_later)
                {
                    tables.push((table.to_string(), 0));
                    continue;
                }
                if v.get("table").and_then(Value::as_str) != Some(table) {
                    return Err(bad(line, &format!("应为表 {table}")));
                }
                // Columns by name, so a backup from an older build (fewer
                // columns) restores with the defaults of the new ones.
                let sources = column_sources(table, cols, &v).map_err(|m| bad(line, &m))?;
                let width = v
                    .get("columns")
                    .and_then(Value::as_array)
                    .map_or(cols.len(), Vec::len);
                let mut batch: Vec<Vec<Value>> = Vec::new();
                let mut n = 0usize;
                loop {
                    (line, v) = next("数据")?;
                    let Value::Array(given) = v.clone() else {
                        break;
                    };
                    if given.len() != width {
                        return Err(bad(line, "列数不符"));
                    }
                    let cells: Vec<Value> = sources
                        .iter()
                        .map(|src| match src {
                            Ok(i) => given[*i].clone(),
                            Err(default) => default.clone(),
                        })
                        .collect();
                    batch.push(cells);
                    n += 1;
                    if batch.len() == 500 {
                        tx.insert_json_rows(table, cols, &batch, line).await?;
                        batch.clear();
                    }
                }
                if !batch.is_empty() {
                    tx.insert_json_rows(table, cols, &batch, line).await?;
                }
                tables.push((table.to_string(), n));
            }
            if v.get("end") != Some(&json!(true)) {
                return Err(bad(line, "文件不完整"));
            }
            // Derived from the events, not kept in a backup.
            crate::events::rebuild_counts(&mut tx).await?;
            // Check the restored ledger before anything is kept.
            let (entries, seq, head_hash) = tx.read_ledger().await?;
            let check = crate::ledger::verify_chain(algo, &entries, seq, &head_hash, None);
            if let Some(p) = check.problem {
                return Err(StoreError::Invalid(format!(
                    "备份中的审计日志校验失败，未恢复任何数据：{}",
                    p.message
                )));
            }
            if tx.numbered() {
                for t in SERIAL {
                    let sql = format!(
                        "SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT MAX(id) FROM {t}), 0) + 1, false)"
                    );
                    on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut **c).await.map(|r| r.rows_affected()))?;
                }
            }
        }
        tx.commit().await?;
        let check = self.audit_verify(None).await?;
        if let Some(p) = check.problem {
            return Err(StoreError::Invalid(format!(
                "恢复后审计日志校验失败：{}",
                p.message
            )));
        }
        let summary = BackupSummary {
            file: from.display().to_string(),
            tables,
            audit_entries: check.entries,
            head: check.head,
        };
        self.audit(
            actor,
            &NewEntry::new(
                LedgerAction::Restore,
                &format!("backup:{}", summary.file),
                json!({"tables": summary.tables, "head": summary.head}),
            ),
        )
        .await?;
        Ok(summary)
    }
}

impl Tx {
    /// Insert JSON rows of a backup into `table`.
    async fn insert_json_rows(
        &mut self,
        table: &str,
        cols: &[(&str, Kind)],
        rows: &[Vec<Value>],
        line: usize,
    ) -> Result<()> {
        let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            names.join(", "),
            crate::tx::placeholders(rows.len(), cols.len(), self.numbered())
        );
        on_tx!(self, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for row in rows.iter() {
                for (cell, (_, kind)) in row.iter().zip(cols.iter()) {
                    q = match kind {
                        Text => q.bind(cell.as_str().ok_or_else(|| bad(line, "应为文本"))?.to_string()),
                        OptText => q.bind(cell.as_str().map(str::to_string)),
                        Int => q.bind(cell.as_i64().ok_or_else(|| bad(line, "应为整数"))?),
                        OptInt => q.bind(cell.as_i64()),
                        Int32 => q.bind(cell.as_i64().ok_or_else(|| bad(line, "应为整数"))? as i32),
                        Float => q.bind(cell.as_f64().ok_or_else(|| bad(line, "应为数字"))?),
                        OptFloat => q.bind(cell.as_f64()),
                        Bool => q.bind(cell.as_bool().ok_or_else(|| bad(line, "应为 true/false"))?),
                        OptBool => q.bind(cell.as_bool()),
                    };
                }
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}
