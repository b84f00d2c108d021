//! `pingan backup` / `pingan restore`: a consistent logical snapshot (one
//! read transaction) as gzip'd JSON lines. The same file restores into
//! SQLite or PostgreSQL, so it also moves a deployment between them. This
//! file is the format: every table and column, in restore order.

mod dump;
mod later;
mod load;
mod tables;

use tables::{OPTIONAL, SERIAL};

/// A table and its columns.
pub(super) type Table = (&'static str, &'static [(&'static str, Kind)]);

/// Every table, in an order that satisfies foreign keys on restore: the
/// first releases' and those of the results loop and the map after them.
pub(super) static TABLES: std::sync::LazyLock<Vec<Table>> =
    std::sync::LazyLock::new(|| [tables::FIRST, later::LATER].concat());

use crate::StoreError;
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// TEXT NOT NULL
    Text,
    /// nullable TEXT
    OptText,
    /// BIGINT NOT NULL
    Int,
    /// nullable BIGINT
    OptInt,
    /// INTEGER (years)
    Int32,
    Float,
    /// nullable DOUBLE PRECISION
    OptFloat,
    Bool,
    /// nullable BOOLEAN
    OptBool,
}

pub(super) use Kind::*;

/// Columns added to a table after the backup format was first released,
/// with the value an older backup's rows take. A nullable column missing
/// from a backup is NULL; any other missing column is an error.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[("data_values", "review", "approved")];

/// Where each of `cols` comes from in a backup whose header lists `header`:
/// a position, or the value a missing column takes.
pub(super) fn column_sources(
    table: &str,
    cols: &[(&str, Kind)],
    header: &Value,
) -> std::result::Result<Vec<std::result::Result<usize, Value>>, String> {
    let given: Vec<&str> = header
        .get("columns")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    cols.iter()
        .map(|(name, kind)| {
            if let Some(i) = given.iter().position(|g| g == name) {
                return Ok(Ok(i));
            }
            if let Some((_, _, default)) = ADDED_COLUMNS
                .iter()
                .find(|(t, c, _)| *t == table && c == name)
            {
                return Ok(Err(json!(default)));
            }
            match kind {
                OptText | OptInt | OptFloat | OptBool => Ok(Err(Value::Null)),
                _ => Err(format!("表 {table} 缺少列 {name}")),
            }
        })
        .collect()
}

#[derive(Clone, Debug, Serialize)]
pub struct BackupSummary {
    pub file: String,
    pub tables: Vec<(String, usize)>,
    pub audit_entries: usize,
    pub head: String,
}

pub(super) fn bad(line: usize, what: &str) -> StoreError {
    StoreError::Invalid(format!("备份文件第 {line} 行有误：{what}"))
}
