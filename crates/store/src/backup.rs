//! `pingan backup` / `pingan restore`: a consistent logical snapshot (one
//! read transaction) as gzip'd JSON lines. The same file restores into
//! SQLite or PostgreSQL, so it also moves a deployment between them.

use crate::audit::NewEntry;
use crate::db::{Store, on_pool};
use crate::{Actor, Result, StoreError};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use futures_util::TryStreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;
use std::io::{BufRead, BufReader, Write};

#[derive(Clone, Copy)]
enum Kind {
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
}

use Kind::*;

/// Every table, in an order that satisfies foreign keys on restore.
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    ("meta", &[("key", Text), ("value", Text)]),
    (
        "regions",
        &[
            ("code", Text),
            ("name", Text),
            ("parent", OptText),
            ("level", Text),
            ("valid_from", OptText),
            ("valid_to", OptText),
            ("ord", Int),
        ],
    ),
    ("departments", &[("name", Text)]),
    (
        "frameworks",
        &[
            ("id", Int),
            ("code", Text),
            ("name", Text),
            ("year_from", Int32),
            ("source", Text),
            ("sha256", Text),
            ("imported_at", Text),
            ("imported_by", Text),
        ],
    ),
    (
        "elements",
        &[
            ("framework_id", Int),
            ("code", Text),
            ("name", Text),
            ("unit", Text),
            ("department", Text),
        ],
    ),
    (
        "imports",
        &[
            ("id", Int),
            ("kind", Text),
            ("file", Text),
            ("sha256", Text),
            ("rows", Int),
            ("imported", Int),
            ("updated", Int),
            ("ignored", Int),
            ("user_name", Text),
            ("client", Text),
            ("at", Text),
        ],
    ),
    (
        "data_values",
        &[
            ("region", Text),
            ("period", Text),
            ("year", Int32),
            ("element", Text),
            ("source", Text),
            ("value", Float),
            ("note", Text),
            ("submitted_by", Text),
            ("submitted_at", Text),
            ("import_id", OptInt),
            ("review", Text),
        ],
    ),
    (
        "benchmarks",
        &[
            ("code", Text),
            ("period", Text),
            ("year", Int32),
            ("value", Float),
            ("import_id", OptInt),
        ],
    ),
    (
        "score_runs",
        &[
            ("id", Int),
            ("framework_id", Int),
            ("period", Text),
            ("computed_at", Text),
        ],
    ),
    (
        "score_results",
        &[
            ("run_id", Int),
            ("ord", Int),
            ("region", Text),
            ("level", Text),
            ("result", Text),
        ],
    ),
    (
        "audit",
        &[
            ("id", Int),
            ("at", Text),
            ("user_name", Text),
            ("action", Text),
            ("object", Text),
            ("detail", Text),
            ("reason", Text),
            ("client", Text),
            ("prev_hash", Text),
            ("hash", Text),
        ],
    ),
    ("audit_head", &[("id", Int32), ("seq", Int), ("hash", Text)]),
    (
        "users",
        &[
            ("id", Int),
            ("username", Text),
            ("password_hash", Text),
            ("roles", Text),
            ("region", OptText),
            ("department", OptText),
            ("must_change", Bool),
            ("failed_logins", Int),
            ("locked_until", OptText),
            ("totp_secret", OptText),
            ("disabled", Bool),
            ("created_at", Text),
            ("password_changed_at", Text),
        ],
    ),
    (
        "api_tokens",
        &[
            ("id", Int),
            ("name", Text),
            ("token_hash", Text),
            ("department", Text),
            ("region", OptText),
            ("created_by", Text),
            ("created_at", Text),
            ("expires_at", Text),
            ("revoked_at", OptText),
        ],
    ),
    (
        "login_history",
        &[
            ("id", Int),
            ("username", Text),
            ("at", Text),
            ("client", Text),
            ("success", Bool),
            ("reason", Text),
        ],
    ),
    (
        "quality_flags",
        &[
            ("id", Int),
            ("region", Text),
            ("element", Text),
            ("period", Text),
            ("year", Int32),
            ("kind", Text),
            ("rule", Text),
            ("score", Float),
            ("message", Text),
            ("detail", Text),
            ("status", Text),
            ("found_at", Text),
            ("found_by", Text),
            ("resolved_at", OptText),
            ("resolved_by", OptText),
            ("resolution", Text),
            ("corrected_value", OptFloat),
        ],
    ),
    (
        "data_sets",
        &[
            ("department", Text),
            ("region", Text),
            ("period", Text),
            ("year", Int32),
            ("state", Text),
            ("reason", Text),
            ("submitted_by", Text),
            ("submitted_at", Text),
            ("level1_by", OptText),
            ("level2_by", OptText),
            ("level3_by", OptText),
            ("updated_by", Text),
            ("updated_at", Text),
        ],
    ),
    (
        "data_set_events",
        &[
            ("id", Int),
            ("department", Text),
            ("region", Text),
            ("period", Text),
            ("action", Text),
            ("from_state", Text),
            ("to_state", Text),
            ("reason", Text),
            ("user_name", Text),
            ("at", Text),
        ],
    ),
    (
        "verify_tasks",
        &[
            ("id", Int),
            ("region", Text),
            ("period", Text),
            ("year", Int32),
            ("elements", Text),
            ("checklist", Text),
            ("origin", Text),
            ("flag_id", OptInt),
            ("parent_id", OptInt),
            ("note", Text),
            ("status", Text),
            ("created_by", Text),
            ("created_at", Text),
        ],
    ),
    (
        "verify_records",
        &[
            ("id", Int),
            ("task_id", Int),
            ("team", Text),
            ("verifier_a", Text),
            ("verifier_b", Text),
            ("checklist", Text),
            ("observed", Text),
            ("notes", Text),
            ("latitude", Float),
            ("longitude", Float),
            ("recorded_by", Text),
            ("recorded_at", Text),
            ("confirmed_by", OptText),
            ("confirmed_at", OptText),
        ],
    ),
    (
        "verify_photos",
        &[
            ("id", Int),
            ("record_id", Int),
            ("file_name", Text),
            ("mime", Text),
            ("size", Int),
            ("sha256", Text),
            ("data", Text),
            ("uploaded_by", Text),
            ("uploaded_at", Text),
        ],
    ),
    (
        "cases",
        &[
            ("case_id", Text),
            ("region", Text),
            ("date", Text),
            ("year", Int32),
            ("kind", Text),
            ("outcome", Text),
            ("agreement", Bool),
            ("fulfilled", Bool),
            ("note", Text),
            ("import_id", OptInt),
            ("imported_by", Text),
            ("imported_at", Text),
        ],
    ),
    (
        "callback_draws",
        &[
            ("id", Int),
            ("region", Text),
            ("year", Int32),
            ("rate", Float),
            ("seed", Int),
            ("eligible", Int),
            ("drawn_at", Text),
            ("drawn_by", Text),
        ],
    ),
    (
        "callbacks",
        &[
            ("draw_id", Int),
            ("case_id", Text),
            ("ord", Int),
            ("result", OptText),
            ("note", Text),
            ("called_by", OptText),
            ("called_at", OptText),
        ],
    ),
];

/// Tables added after the backup format was first released.
const OPTIONAL: &[&str] = &[
    "quality_flags",
    "data_sets",
    "data_set_events",
    "verify_tasks",
    "verify_records",
    "verify_photos",
    "cases",
    "callback_draws",
    "callbacks",
];

/// Columns added to a table after the backup format was first released,
/// with the value an older backup's rows take. A nullable column missing
/// from a backup is NULL; any other missing column is an error.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[("data_values", "review", "approved")];

/// Where each of `cols` comes from in a backup whose header lists `header`:
/// a position, or the value a missing column takes.
fn column_sources(
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
                OptText | OptInt | OptFloat => Ok(Err(Value::Null)),
                _ => Err(format!("表 {table} 缺少列 {name}")),
            }
        })
        .collect()
}

/// Tables whose id column is generated (sequences to advance on PostgreSQL).
const SERIAL: &[&str] = &[
    "frameworks",
    "imports",
    "score_runs",
    "users",
    "api_tokens",
    "login_history",
    "quality_flags",
    "data_set_events",
    "verify_tasks",
    "verify_records",
    "verify_photos",
    "callback_draws",
];

#[derive(Clone, Debug, Serialize)]
pub struct BackupSummary {
    pub file: String,
    pub tables: Vec<(String, usize)>,
    pub audit_entries: usize,
    pub head: String,
}

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
        }
    };
}

fn bad(line: usize, what: &str) -> StoreError {
    StoreError::Invalid(format!("备份文件第 {line} 行有误：{what}"))
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
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            if self.backend() == crate::Backend::Postgres {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
            }
            for (table, cols) in TABLES {
                let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
                writeln!(w, "{}", json!({"table": table, "columns": names})).map_err(io)?;
                let sql = format!("SELECT {} FROM {table}", names.join(", "));
                let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *tx);
                let mut n = 0usize;
                while let Some(row) = rows.try_next().await? {
                    let mut cells = Vec::with_capacity(cols.len());
                    for (name, kind) in cols.iter() {
                        cells.push(cell!(row, *name, *kind));
                    }
                    writeln!(w, "{}", Value::Array(cells)).map_err(io)?;
                    n += 1;
                }
                drop(rows);
                tables.push((table.to_string(), n));
            }
            tx.commit().await?;
        });
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
        let numbered = self.backend() == crate::Backend::Postgres;
        let algo = match header
            .get("hash")
            .and_then(Value::as_str)
            .and_then(crate::HashAlgo::parse)
        {
            Some(a) => a,
            None => self.hash_algo().await?,
        };
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // The migration seeded the head row; the backup brings its own.
            sqlx::query("DELETE FROM audit_head").execute(&mut *tx).await?;
            sqlx::query("DELETE FROM meta").execute(&mut *tx).await?;
            let (mut line, mut v) = next("表")?;
            for (k, (table, cols)) in TABLES.iter().enumerate() {
                // A backup made before a later table existed ends early, or
                // goes on with a table that comes after it here (builds have
                // added optional tables in different orders).
                let next_is_later = v.get("table").and_then(Value::as_str).is_some_and(|t| {
                    t != *table && TABLES[k + 1..].iter().any(|(later, _)| *later == t)
                });
                if OPTIONAL.contains(table) && (v.get("end") == Some(&json!(true)) || next_is_later) {
                    tables.push((table.to_string(), 0));
                    continue;
                }
                if v.get("table").and_then(Value::as_str) != Some(table) {
                    return Err(bad(line, &format!("应为表 {table}")));
                }
                let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
                // Columns by name, so a backup from an older build (fewer
                // columns) restores with the defaults of the new ones.
                let sources = column_sources(table, cols, &v).map_err(|m| bad(line, &m))?;
                let width = v.get("columns").and_then(Value::as_array).map_or(cols.len(), Vec::len);
                let mut batch: Vec<Vec<Value>> = Vec::new();
                let mut n = 0usize;
                loop {
                    (line, v) = next("数据")?;
                    let Value::Array(given) = v.clone() else { break };
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
                        insert_rows!(tx, table, &names, cols, &batch, line, numbered);
                        batch.clear();
                    }
                }
                if !batch.is_empty() {
                    insert_rows!(tx, table, &names, cols, &batch, line, numbered);
                }
                tables.push((table.to_string(), n));
            }
            if v.get("end") != Some(&json!(true)) {
                return Err(bad(line, "文件不完整"));
            }
            // Check the restored ledger before anything is kept.
            let (entries, seq, head_hash) = crate::audit::read_ledger!(tx);
            let check = crate::audit::verify_chain(algo, &entries, seq, &head_hash, None);
            if let Some(p) = check.problem {
                return Err(StoreError::Invalid(format!("备份中的审计日志校验失败，未恢复任何数据：{}", p.message)));
            }
            if self.backend() == crate::Backend::Postgres {
                for t in SERIAL {
                    let sql = format!("SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT MAX(id) FROM {t}), 0) + 1, false)");
                    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
        });
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
                "restore",
                &format!("backup:{}", summary.file),
                json!({"tables": summary.tables, "head": summary.head}),
            ),
        )
        .await?;
        Ok(summary)
    }
}

/// Insert JSON rows into `table` inside transaction `$tx`.
macro_rules! insert_rows {
    ($tx:expr, $table:expr, $names:expr, $cols:expr, $rows:expr, $line:expr, $numbered:expr) => {{
        let mut sql = format!("INSERT INTO {} ({}) VALUES ", $table, $names.join(", "));
        let width = $cols.len();
        for (r, _) in $rows.iter().enumerate() {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..width {
                if c > 0 {
                    sql.push(',');
                }
                if $numbered {
                    sql.push_str(&format!("${}", r * width + c + 1));
                } else {
                    sql.push('?');
                }
            }
            sql.push(')');
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in $rows.iter() {
            for (cell, (_, kind)) in row.iter().zip($cols.iter()) {
                q = match kind {
                    Text => q.bind(cell.as_str().ok_or_else(|| bad($line, "应为文本"))?.to_string()),
                    OptText => q.bind(cell.as_str().map(str::to_string)),
                    Int => q.bind(cell.as_i64().ok_or_else(|| bad($line, "应为整数"))?),
                    OptInt => q.bind(cell.as_i64()),
                    Int32 => q.bind(cell.as_i64().ok_or_else(|| bad($line, "应为整数"))? as i32),
                    Float => q.bind(cell.as_f64().ok_or_else(|| bad($line, "应为数字"))?),
                    OptFloat => q.bind(cell.as_f64()),
                    Bool => q.bind(cell.as_bool().ok_or_else(|| bad($line, "应为 true/false"))?),
                };
            }
        }
        q.execute(&mut *$tx).await?;
    }};
}
use insert_rows;
