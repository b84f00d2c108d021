//! Writing a backup: every table read in one transaction.

use super::{BackupSummary, Kind::*, TABLES};
use crate::db::Store;
use crate::tx::on_tx;
use crate::{Result, StoreError};
use flate2::Compression;
use flate2::write::GzEncoder;
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use sqlx::Row;
use std::io::Write;

macro_rules! cell {
    ($row:expr, $name:expr, $kind:expr) => {
        match $kind {
            Text => Value::from($row.try_get::<String, _>($name)?),
            OptText => $row
                .try_get::<Option<String>, _>($name)?
                .map_or(Value::Null, Value::from),
            Int => Value::from($row.try_get::<i64, _>($name)?),
            OptInt => $row
                .try_get::<Option<i64>, _>($name)?
                .map_or(Value::Null, Value::from),
            Int32 => Value::from($row.try_get::<i32, _>($name)?),
            Float => Value::from($row.try_get::<f64, _>($name)?),
            OptFloat => $row
                .try_get::<Option<f64>, _>($name)?
                .map_or(Value::Null, Value::from),
            Bool => Value::from($row.try_get::<bool, _>($name)?),
            OptBool => $row
                .try_get::<Option<bool>, _>($name)?
                .map_or(Value::Null, Value::from),
        }
    };
}

impl Store {
    pub async fn backup(&self, out: &std::path::Path) -> Result<BackupSummary> {
        let file = std::fs::File::create(out).map_err(|e| {
            StoreError::Invalid(format!("{}: 无法创建备份文件：{e}", out.display()))
        })?;
        let mut w = GzEncoder::new(std::io::BufWriter::new(file), Compression::fast());
        let io =
            |e: std::io::Error| StoreError::Invalid(format!("{}: 写入失败：{e}", out.display()));
        let header = json!({"pingan_backup": 1, "at": crate::now(), "backend": format!("{:?}", self.backend()),
                            "hash": self.hash_algo().await?.name()});
        writeln!(w, "{header}").map_err(io)?;
        let mut tables = Vec::new();
        let mut tx = self.begin().await?;
        if tx.numbered() {
            on_tx!(tx, c => sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        for &(table, cols) in TABLES.iter() {
            let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
            writeln!(w, "{}", json!({"table": table, "columns": names})).map_err(io)?;
            let sql = format!("SELECT {} FROM {table}", names.join(", "));
            let n = on_tx!(tx, c => {
                let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut **c);
                let mut n = 0usize;
                while let Some(row) = rows.try_next().await? {
                    let mut cells = Vec::with_capacity(cols.len());
                    for (name, kind) in cols.iter() {
                        cells.push(cell!(row, *name, *kind));
                    }
                    writeln!(w, "{}", Value::Array(cells)).map_err(io)?;
                    n += 1;
                }
                n
            });
            tables.push((table.to_string(), n));
        }
        tx.commit().await?;
        writeln!(w, "{}", json!({"end": true})).map_err(io)?;
        w.finish().map_err(io)?.flush().map_err(io)?;
        let (seq, head) = self.audit_head().await?;
        Ok(BackupSummary {
            file: out.display().to_string(),
            tables,
            audit_entries: seq as usize,
            head,
        })
    }
}
